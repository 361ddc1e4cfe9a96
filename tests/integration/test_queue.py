"""Torrent queueing: max_active_downloads holds torrents back as queuedDL,
queue moves reorder them (409 while queueing is off), the order survives a
restart."""
import hashlib
import os

from conftest import LEECH_IP
from tdlib import Torrentd, make_torrent, wait_until


def _torrent(i):
    payload = (b"queue test %d " % i) * 5000
    info = {"name": "q%d.bin" % i, "length": len(payload), "piece length": 16384,
            "pieces": b"".join(hashlib.sha1(payload[k:k + 16384]).digest()
                               for k in range(0, len(payload), 16384))}
    return make_torrent(info)


def _states(td, hashes):
    by = {t["hash"]: t for t in td.info()}
    return [by[h]["state"] for h in hashes], [by[h]["priority"] for h in hashes]


def test_queue_limits_moves_and_persistence(workdir, procs):
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    hashes = []
    for i in range(3):
        tbytes, h = _torrent(i)
        td.add(tbytes, td.save_path)
        hashes.append(h)
    r = td.req("POST", "/api/v2/torrents/topPrio", ok=(409,), data={"hashes": hashes[2]})
    assert r.text == "Torrent queueing must be enabled"

    td.set_prefs({"queueing_enabled": True, "max_active_downloads": 1, "max_active_torrents": 5})
    wait_until(lambda: _states(td, hashes)[0] == ["stalledDL", "queuedDL", "queuedDL"], 10,
               "only the first torrent runs")
    assert _states(td, hashes)[1] == [1, 2, 3]

    td.post("/api/v2/torrents/topPrio", hashes=hashes[2])
    wait_until(lambda: _states(td, hashes)[0] == ["queuedDL", "queuedDL", "stalledDL"], 10,
               "the moved torrent runs")
    assert _states(td, hashes)[1] == [2, 3, 1]
    td.post("/api/v2/torrents/decreasePrio", hashes=hashes[2])
    assert _states(td, hashes)[1] == [1, 3, 2]
    td.post("/api/v2/torrents/bottomPrio", hashes=hashes[0])
    assert _states(td, hashes)[1] == [3, 2, 1]
    td.post("/api/v2/torrents/increasePrio", hashes=hashes[1])
    assert _states(td, hashes)[1] == [3, 1, 2]
    td.req("GET", "/api/v2/torrents/topPrio", ok=(405,), params={"hashes": hashes[0]})

    # a stopped torrent leaves its slot to the next one
    td.post("/api/v2/torrents/stop", hashes=hashes[1])
    wait_until(lambda: _states(td, hashes)[0] == ["queuedDL", "stoppedDL", "stalledDL"], 10,
               "the next torrent takes the free slot")

    td.stop()
    td.start()
    assert _states(td, hashes)[1] == [3, 1, 2]
    wait_until(lambda: _states(td, hashes)[0] == ["queuedDL", "stoppedDL", "stalledDL"], 10,
               "queue state restored")
