"""Share limits: a seed that reaches the global ratio or seeding-time limit
gets max_ratio_act applied (0 stop, 1 remove)."""
import hashlib
import os

from conftest import LEECH_IP
from tdlib import Torrentd, make_torrent, wait_until


def _seed(td, workdir, name):
    payload = os.urandom(100000)
    d = os.path.join(workdir, "data")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(payload)
    info = {"name": name, "length": len(payload), "piece length": 16384,
            "pieces": b"".join(hashlib.sha1(payload[k:k + 16384]).digest()
                               for k in range(0, len(payload), 16384))}
    tbytes, h = make_torrent(info)
    td.add(tbytes, d, skip_checking=True)
    return h


def test_ratio_limit_stops_then_removes(workdir, procs):
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    h = _seed(td, workdir, "a.bin")
    wait_until(lambda: td.torrent(h)["state"] in ("stalledUP", "uploading"), 10, "seeding")
    # no limit: it keeps seeding
    assert td.torrent(h)["max_ratio"] == -1
    td.set_prefs({"max_ratio_enabled": True, "max_ratio": 0.0, "max_ratio_act": 0})
    wait_until(lambda: td.torrent(h)["state"] == "stoppedUP", 10, "stopped at ratio 0")

    h2 = _seed(td, workdir, "b.bin")
    td.set_prefs({"max_ratio_enabled": False, "max_seeding_time_enabled": True,
                  "max_seeding_time": 0, "max_ratio_act": 1})
    wait_until(lambda: td.torrent(h2) is None, 10, "removed at its seeding time limit")
    assert os.path.exists(os.path.join(workdir, "data", "b.bin")), "remove keeps the data"
    # the stopped one is not touched by limits any more
    assert td.torrent(h)["state"] == "stoppedUP"


def test_per_torrent_share_limit_action(workdir, procs):
    """shareLimitAction on the torrent wins over the global max_ratio_act."""
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    td.set_prefs({"max_ratio_act": 0})
    h = _seed(td, workdir, "c.bin")
    wait_until(lambda: td.torrent(h)["state"] in ("stalledUP", "uploading"), 10, "seeding")
    td.post("/api/v2/torrents/setShareLimits", hashes=h, ratioLimit="0", seedingTimeLimit="-2",
            inactiveSeedingTimeLimit="-2", shareLimitAction="Remove")
    wait_until(lambda: td.torrent(h) is None, 10, "removed by its own action")
    assert os.path.exists(os.path.join(workdir, "data", "c.bin"))
