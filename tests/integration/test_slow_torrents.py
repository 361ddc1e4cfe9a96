"""dont_count_slow_torrents (issue 15, libtorrent's setting of that name):
with max_active_downloads 1, a running download that moves no data for
slow_torrent_inactive_timer seconds stops counting, so the next queued one
starts; switched off again, the queue holds it again."""
import hashlib
import os

from conftest import LEECH_IP
from tdlib import Torrentd, make_torrent, wait_until


def _torrent(name):
    payload = os.urandom(40000)
    info = {"name": name, "length": len(payload), "piece length": 16384,
            "pieces": b"".join(hashlib.sha1(payload[k:k + 16384]).digest() for k in range(0, len(payload), 16384))}
    return make_torrent(info)


def _state(td, h):
    return td.torrent(h)["state"]


def test_dont_count_slow_torrents(workdir, procs):
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    td.set_prefs({"queueing_enabled": True, "max_active_downloads": 1, "max_active_torrents": 5,
                  "dont_count_slow_torrents": False, "slow_torrent_inactive_timer": 1})
    (tb1, h1), (tb2, h2) = _torrent("slow1.bin"), _torrent("slow2.bin")
    td.add(tb1, os.path.join(workdir, "dl"))
    wait_until(lambda: _state(td, h1) in ("stalledDL", "downloading"), 30, "the first runs", procs=[td])
    td.add(tb2, os.path.join(workdir, "dl"))
    wait_until(lambda: _state(td, h2) == "queuedDL", 30, "the second waits", procs=[td])
    # on: the idle first no longer counts; the second starts
    td.set_prefs({"dont_count_slow_torrents": True})
    wait_until(lambda: _state(td, h2) in ("stalledDL", "downloading"), 15, "the second starts", procs=[td])
    assert _state(td, h1) in ("stalledDL", "downloading")
    # off again: the limit holds again (the last in the queue waits)
    td.set_prefs({"dont_count_slow_torrents": False})
    wait_until(lambda: _state(td, h2) == "queuedDL", 15, "the second waits again", procs=[td])
    td.stop()
