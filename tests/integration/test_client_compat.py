"""torrents/info fields where qbit_manage and VueTorrent runs showed torrentd
differing from qbittorrent-nox (scripts/try-qbit-manage.sh with
TRY_AGAINST=qbt, docs/clients.md), checked against what qBittorrent does.
"""
import os
import time

import pytest

from conftest import LEECH_IP
from tdlib import Torrentd, make_torrent, piece_hashes, wait_until, with_announce

PL = 16384


def _one_file_in_folder(root):
    """A multi-file torrent ("files" list) whose only file sits in its folder,
    as mktorrent makes from a directory holding one file; the data on disk."""
    payload = os.urandom(3 * PL + 5)
    os.makedirs(os.path.join(root, "Show.S01"))
    with open(os.path.join(root, "Show.S01", "e01.mkv"), "wb") as f:
        f.write(payload)
    info = {"name": "Show.S01", "piece length": PL, "pieces": piece_hashes(payload, PL),
            "files": [{"length": len(payload), "path": ["e01.mkv"]}]}
    return make_torrent(info)


def test_one_file_torrent_content_path_and_seed_availability(workdir, procs):
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    save = os.path.join(workdir, "save")
    tbytes, h = _one_file_in_folder(save)
    td.add(tbytes, save)
    td.wait_seeding(h, 30)
    t = td.torrent(h)
    # TorrentImpl::contentPath(): filesCount() == 1 -> the file itself, even
    # inside a folder (qbittorrent-nox answers .../Show.S01/e01.mkv);
    # rootPath() is still the folder. qbit_manage's tag_nohardlinks and the
    # *arr imports read content_path.
    assert t["content_path"] == os.path.join(save, "Show.S01", "e01.mkv")
    assert t["root_path"] == os.path.join(save, "Show.S01")
    # libtorrent drops a seed's piece picker, and distributed_copies is then
    # -1: qbittorrent-nox reports "availability": -1 for every seed
    # (VueTorrent shows it in the list)
    assert t["availability"] == -1


def test_num_complete_from_the_tracker(workdir, procs, tracker):
    """num_complete / num_incomplete (and properties seeds_total/peers_total)
    are the swarm as the tracker reports it, as libtorrent's torrent_status
    num_complete that qBittorrent shows; qbittorrent-nox seeding alone behind
    opentracker answers num_complete 1 (qbit_manage's min_num_seeds reads it)."""
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    save = os.path.join(workdir, "save")
    tbytes, h = _one_file_in_folder(save)
    ot = tracker([h])
    td.add(with_announce(tbytes, ot.announce), save)
    td.wait_seeding(h, 30)

    def counted():
        rows = [r for r in td.get("/api/v2/torrents/trackers", hash=h).json() if r["tier"] >= 0]
        return rows and rows[0]["status"] == 2 and rows[0]["num_seeds"] >= 1 and rows[0]
    row = wait_until(counted, 30, "the tracker's answer")
    t = wait_until(lambda: (lambda x: x if x["num_complete"] > 0 else None)(td.torrent(h)), 10,
                   "num_complete from the tracker")
    assert t["num_complete"] == row["num_seeds"] and t["num_incomplete"] == row["num_leeches"]
    p = td.get("/api/v2/torrents/properties", hash=h).json()
    assert p["seeds_total"] == row["num_seeds"] and p["peers_total"] == row["num_leeches"]
    # sync/maindata carries it too (a change a client must be sent)
    m = td.get("/api/v2/sync/maindata", rid=0).json()
    assert m["torrents"][h]["num_complete"] == row["num_seeds"]


def test_magnet_uri_escaped_as_libtorrent(workdir, procs):
    """magnet_uri is libtorrent's make_magnet_uri (what qBittorrent returns):
    lowercase %xx, and alphanumerics plus -_!.~*() left as they are."""
    lt = pytest.importorskip("libtorrent")
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    payload = os.urandom(PL + 3)
    info = {"name": "A b!*()'~-_.,;:@&=+$[]%x", "piece length": PL, "length": len(payload),
            "pieces": piece_hashes(payload, PL)}
    tbytes, h = make_torrent(info, "http://127.0.0.1:1/ann?x=1&y=%20")
    td.add(tbytes, os.path.join(workdir, "save"), stopped=True)
    want = lt.make_magnet_uri(lt.torrent_info(tbytes))
    assert td.torrent(h)["magnet_uri"] == want


def test_refused_tracker_message(workdir, procs):
    """A tracker that refuses the connection shows libtorrent's text, as in
    qBittorrent ("Connection refused", the system error), not curl's
    "Failed to connect to ... Couldn't connect to server": qbit_manage prints
    it (tag_tracker_error) and matches msg against word lists."""
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    payload = os.urandom(PL)
    info = {"name": "refused.bin", "piece length": PL, "length": len(payload),
            "pieces": piece_hashes(payload, PL)}
    tbytes, h = make_torrent(info, "http://127.0.0.1:9/announce")
    td.add(tbytes, os.path.join(workdir, "save"))

    def failed():
        rows = [r for r in td.get("/api/v2/torrents/trackers", hash=h).json() if r["tier"] >= 0]
        return rows and rows[0]["status"] == 4 and rows[0]
    assert wait_until(failed, 30, "the announce to fail")["msg"] == "Connection refused"


def _swarm(workdir, procs, size):
    from conftest import SEED_IP
    seeder = procs.add(Torrentd(os.path.join(workdir, "seeder"), SEED_IP, name="seeder")).start()
    leecher = procs.add(Torrentd(os.path.join(workdir, "leecher"), LEECH_IP, name="leecher")).start()
    payload = os.urandom(size)
    src = os.path.join(workdir, "src")
    os.makedirs(src)
    with open(os.path.join(src, "big.bin"), "wb") as f:
        f.write(payload)
    info = {"name": "big.bin", "piece length": 1 << 18, "length": len(payload),
            "pieces": piece_hashes(payload, 1 << 18)}
    tbytes, h = make_torrent(info)
    seeder.add(tbytes, src)
    seeder.wait_seeding(h, 30)
    return seeder, leecher, tbytes, h


def test_seen_complete_while_a_seed_is_connected(workdir, procs):
    """seen_complete / properties last_seen: the last time a complete copy
    was seen, i.e. a connected seed (libtorrent's last_seen_complete); a
    download fed by a seed shows about now in qbittorrent-nox, not -1."""
    seeder, leecher, tbytes, h = _swarm(workdir, procs, 8 << 20)
    seeder.set_prefs({"up_limit": 256 * 1024})      # still downloading while we look
    leecher.add(tbytes, os.path.join(workdir, "dl"))
    leecher.add_peers(h, [seeder.peer_addr])
    wait_until(lambda: leecher.progress(h) > 0, 30, "the download to start")
    t0 = time.time()
    t = wait_until(lambda: (lambda x: x if x["seen_complete"] > 0 else None)(leecher.torrent(h)), 5,
                   "seen_complete set")
    assert float(t["progress"]) < 1 and abs(t["seen_complete"] - t0) < 10
    p = leecher.get("/api/v2/torrents/properties", hash=h).json()
    assert abs(p["last_seen"] - t0) < 10


def test_alltime_totals_count_this_run(workdir, procs):
    """server_state alltime_dl / alltime_ul include what this run moved, as
    qBittorrent's statistics do (qbittorrent-nox: alltime_dl 1723690 after a
    1.6 MiB download; torrentd said 0), and global_ratio follows them."""
    seeder, leecher, tbytes, h = _swarm(workdir, procs, 4 << 20)
    leecher.add(tbytes, os.path.join(workdir, "dl"))
    leecher.add_peers(h, [seeder.peer_addr])
    leecher.wait_seeding(h, 60)
    st = leecher.get("/api/v2/sync/maindata", rid=0).json()["server_state"]
    assert st["alltime_dl"] >= 4 << 20 and st["alltime_dl"] >= st["dl_info_data"] > 0
    st = wait_until(lambda: (lambda x: x if x["alltime_ul"] >= 4 << 20 else None)(
        seeder.get("/api/v2/sync/maindata", rid=0).json()["server_state"]), 10, "the seeder's upload counted")
    assert st["alltime_ul"] >= st["up_info_data"] > 0


def test_stopped_torrent_keeps_its_tracker(workdir, procs, tracker):
    """torrents/info `tracker` of a stopped torrent is the tracker that last
    worked (libtorrent keeps current_tracker through a pause; qbittorrent-nox
    shows it on a paused download); "" again only after a restart."""
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    save = os.path.join(workdir, "save")
    tbytes, h = _one_file_in_folder(save)
    ot = tracker([h])
    td.add(with_announce(tbytes, ot.announce), save)
    wait_until(lambda: td.torrent(h)["tracker"] == ot.announce, 30, "the tracker working")
    td.post("/api/v2/torrents/stop", hashes=h)
    wait_until(lambda: td.torrent(h)["state"] == "stoppedUP", 10, "stopped")
    assert td.torrent(h)["tracker"] == ot.announce
    td.post("/api/v2/torrents/start", hashes=h)
    wait_until(lambda: td.torrent(h)["tracker"] == ot.announce and td.torrent(h)["state"] != "stoppedUP",
               30, "started, the tracker working")
    td.post("/api/v2/torrents/stop", hashes=h)
    td.stop()
    td.start()
    assert td.torrent(h)["tracker"] == ""
