"""recheck_completed_torrents (qBittorrent's "Recheck torrents on
completion", issue 15): a torrent that downloaded something rechecks when it
completes, and only once the check found everything does it finish (its
finished line, the move out of the incomplete folder, the run-on-finish
program). Off, it finishes at once."""
import os

from conftest import LEECH_IP, SEED_IP
from tdlib import MiB, Dataset, Torrentd, assert_same_data, wait_complete, wait_until

FILES = [("a.bin", 1 * MiB + 13), ("sub/b.dat", 2 * MiB + 1001)]


def _messages(td):
    return [m["message"] for m in td.get("/api/v2/log/main").json()]


def _leech(procs, workdir, seeder, ds, name, recheck):
    leecher = procs.add(Torrentd(os.path.join(workdir, name), LEECH_IP, name=name)).start()
    marker = os.path.join(workdir, name + "-finished")
    leecher.set_prefs({"recheck_completed_torrents": recheck, "autorun_enabled": True,
                       "autorun_program": "touch \"%s\"" % marker,
                       "temp_path_enabled": True, "temp_path": os.path.join(workdir, name + "-incomplete")})
    leecher.add(ds.tbytes, leecher.save_path)
    wait_until(lambda: leecher.torrent(ds.infohash), 10, "added")
    leecher.add_peers(ds.infohash, [seeder.peer_addr])
    wait_complete(leecher, ds.infohash, 90, procs=[seeder],
                  nudge=lambda: leecher.add_peers(ds.infohash, [seeder.peer_addr]))
    wait_until(lambda: os.path.exists(marker), 30, "the run-on-finish program", procs=[leecher])
    wait_until(lambda: leecher.torrent(ds.infohash)["save_path"].rstrip("/") == leecher.save_path.rstrip("/")
               and leecher.torrent(ds.infohash)["state"] not in ("moving", "checkingDL", "checkingUP"), 30,
               "moved to the save path", procs=[leecher])
    assert_same_data(ds.tbytes, ds.seed_root, leecher.save_path)
    return leecher


def test_recheck_completed_torrents(procs, workdir):
    ds = Dataset(os.path.join(workdir, "seedroot"), "rc", FILES, piece_exp=16)
    seeder = procs.add(Torrentd(os.path.join(workdir, "seed"), SEED_IP, name="seed")).start()
    seeder.add(ds.tbytes, ds.seed_root, skip_checking=True)
    seeder.wait_seeding(ds.infohash, 60)

    on = _leech(procs, workdir, seeder, ds, "on", True)
    msgs = _messages(on)
    i_recheck = next(i for i, m in enumerate(msgs) if "'rc': download finished, rechecking" in m)
    i_checked = next(i for i, m in enumerate(msgs) if i > i_recheck and "'rc': checked, " in m)
    i_finished = next(i for i, m in enumerate(msgs) if m == "'rc': download finished")
    n = len(on.get("/api/v2/torrents/pieceStates", hash=ds.infohash).json())
    assert "checked, %d of %d pieces present" % (n, n) in msgs[i_checked]
    assert i_recheck < i_checked < i_finished, msgs
    # finished once: a restart (already checked and complete) does not recheck again
    on.stop()
    on.start()
    wait_until(lambda: on.is_seeding(ds.infohash), 30, "seeding after restart", procs=[on])
    log = on.log_text().decode(errors="replace")
    assert "rechecking it before" not in log[log.rindex("\n=== "):]
    on.stop()

    off = _leech(procs, workdir, seeder, ds, "off", False)
    msgs = _messages(off)
    assert "'rc': download finished" in msgs
    assert not any("rechecking" in m for m in msgs), msgs
    assert [m for m in msgs if "'rc': checked, " in m] == ["'rc': checked, 0 of %d pieces present" % n], msgs
    off.stop()
