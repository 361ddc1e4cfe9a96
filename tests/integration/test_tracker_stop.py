"""What a stopped torrent shows of its trackers, checked against
qbittorrent-nox 4.5.2 in the same swarm: torrents/info num_incomplete /
num_complete come from the event=stopped announce's reply (libtorrent takes
the counts from it: the tracker no longer counts the one that left), while
the torrents/trackers row stays as it was while running (status 2, "", the
last running counts)."""
import os

from conftest import LEECH_IP, SEED_IP
from tdlib import Qbt, Torrentd, make_torrent, piece_hashes, wait_until, with_announce

PL = 16384
ROW_KEYS = ("status", "msg", "num_peers", "num_seeds", "num_leeches", "num_downloaded")


def _row(c, h):
    rows = [r for r in c.get("/api/v2/torrents/trackers", hash=h).json() if r["tier"] >= 0]
    return {k: rows[0][k] for k in ROW_KEYS}


def _both_counted(qbt, td, h):
    """qbt announced after torrentd, so only torrentd has to ask again
    (libtorrent's force_reannounce waits for the min interval)."""
    td.reannounce(h)
    wait_until(lambda: all(c.torrent(h)["num_incomplete"] == 2 and _row(c, h)["num_leeches"] == 2
                           for c in (qbt, td)), 30, "both leechers counted by both")


def _stopped_view(c, h):
    """After the stop: the torrent's counts once the stopped reply is in."""
    t = wait_until(lambda: (lambda x: x if x["state"] in ("stoppedDL", "pausedDL") and
                            x["num_incomplete"] == 1 else None)(c.torrent(h)), 15,
                   "%s: num_incomplete from the stopped announce's reply" % c.kind)
    return t["num_incomplete"], t["num_complete"], _row(c, h)


def test_counts_after_stop_as_qbittorrent(workdir, procs, tracker):
    payload = os.urandom(3 * PL)
    info = {"name": "gone.bin", "piece length": PL, "length": len(payload),
            "pieces": piece_hashes(payload, PL)}
    tbytes, h = make_torrent(info)
    ot = tracker([h])
    tbytes = with_announce(tbytes, ot.announce)
    qbt = procs.add(Qbt(os.path.join(workdir, "qbt"), SEED_IP, name="qbt")).start()
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    # two leechers, no data anywhere: each is the other's "incomplete"
    td.add(tbytes, os.path.join(workdir, "tsave"))
    wait_until(lambda: ot.leechers(h) == 1, 30, "torrentd at the tracker")
    qbt.add(tbytes, os.path.join(workdir, "qsave"))
    wait_until(lambda: ot.leechers(h) == 2, 30, "two leechers at the tracker")
    _both_counted(qbt, td, h)

    qbt.post("/api/v2/torrents/pause", hashes=h)
    want = _stopped_view(qbt, h)
    assert want == (1, 0, {"status": 2, "msg": "", "num_peers": 2, "num_seeds": 0, "num_leeches": 2,
                           "num_downloaded": 0})

    qbt.post("/api/v2/torrents/resume", hashes=h)
    wait_until(lambda: ot.leechers(h) == 2, 30, "qbt back at the tracker")
    _both_counted(qbt, td, h)
    rid = td.get("/api/v2/sync/maindata", rid=0).json()["rid"]
    td.post("/api/v2/torrents/stop", hashes=h)
    assert _stopped_view(td, h) == want

    # sync/maindata tells a client about the count that came after the stop
    seen = {}

    def synced():
        nonlocal rid
        m = td.get("/api/v2/sync/maindata", rid=rid).json()
        rid = m["rid"]
        seen.update(m.get("torrents", {}).get(h, {}))
        return seen.get("num_incomplete") == 1
    wait_until(synced, 10, "num_incomplete 1 in sync/maindata")
