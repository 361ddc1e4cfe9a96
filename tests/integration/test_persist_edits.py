"""Tracker and web seed edits made through the API survive a restart."""
import hashlib
import os

from conftest import LEECH_IP
from tdlib import Torrentd, make_torrent


def test_tracker_and_webseed_edits_persist(workdir, procs):
    payload = os.urandom(40000)
    info = {"name": "e.bin", "length": len(payload), "piece length": 16384,
            "pieces": b"".join(hashlib.sha1(payload[k:k + 16384]).digest()
                               for k in range(0, len(payload), 16384))}
    tbytes, h = make_torrent(info, announce="http://127.0.0.1:9/announce")
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    td.add(tbytes, td.save_path, stopped=True)
    td.post("/api/v2/torrents/addTrackers", hash=h, urls="http://127.0.0.1:10/announce\n\nudp://127.0.0.1:11")
    td.post("/api/v2/torrents/editTracker", hash=h, origUrl="http://127.0.0.1:9/announce",
            newUrl="http://127.0.0.1:12/announce")
    td.post("/api/v2/torrents/addWebSeeds", hash=h, urls="http://127.0.0.1:13/seed")

    def real_trackers():
        return [(t["url"], t["tier"]) for t in td.get("/api/v2/torrents/trackers", hash=h).json()
                if not t["url"].startswith("** [")]

    before = real_trackers()
    assert ("http://127.0.0.1:12/announce", 0) in before
    assert "http://127.0.0.1:9/announce" not in [u for u, _ in before]
    seeds = td.get("/api/v2/torrents/webseeds", hash=h).json()
    assert {"url": "http://127.0.0.1:13/seed"} in seeds
    td.stop()
    td.start()
    assert real_trackers() == before
    assert td.get("/api/v2/torrents/webseeds", hash=h).json() == seeds
