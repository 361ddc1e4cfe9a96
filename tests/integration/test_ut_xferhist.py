"""µTorrent Server's daily transfer history (/gui/?action=getxferhist,
resetxferhist): a real transfer between two torrentd on loopback is counted
(payload, and as local: loopback peers), survives a restart, and a reset
clears it (also across a restart)."""
import os
import re
import time

import requests

from conftest import LEECH_IP, SEED_IP
from tdlib import MiB, PASSWORD, USER, Torrentd, make_torrent, piece_hashes, wait_until, write_random

SIZE = 3 * MiB + 123
PIECE = 256 * 1024
KEYS = ("daily_download", "daily_upload", "daily_local_download", "daily_local_upload")


class Gui:
    """A /gui/ client as the official WebUI is: Basic auth, token.html, GUID cookie."""

    def __init__(self, td):
        self.td = td
        self.s = requests.Session()
        self.s.auth = (USER, PASSWORD)
        r = self.s.get(td.base + "/gui/token.html", timeout=30)
        assert r.status_code == 200, r.text
        self.token = re.search(r"<div[^>]*id='token'[^>]*>([^<]+)</div>", r.text).group(1)

    def action(self, name):
        r = self.s.get(self.td.base + "/gui/", params={"token": self.token, "action": name}, timeout=30)
        assert r.status_code == 200, (name, r.status_code, r.text)
        return r.json()

    def hist(self):
        j = self.action("getxferhist")
        assert isinstance(j["build"], int)
        h = j["transfer_history"]
        for k in KEYS:
            assert len(h[k]) == 31 and all(isinstance(v, int) for v in h[k]), (k, h[k])
        return h


def test_xferhist_counts_persists_and_resets(workdir, procs):
    data = os.path.join(workdir, "seed-data")
    path = os.path.join(data, "hist.bin")
    write_random(path, SIZE)
    with open(path, "rb") as f:
        payload = f.read()
    tbytes, ih = make_torrent({"name": "hist.bin", "length": SIZE, "piece length": PIECE,
                               "pieces": piece_hashes(payload, PIECE)})
    seeder = procs.add(Torrentd(os.path.join(workdir, "seed"), SEED_IP)).start()
    leecher = procs.add(Torrentd(os.path.join(workdir, "leech"), LEECH_IP)).start()
    t0 = int(time.time())
    before = Gui(leecher).hist()
    assert all(v == 0 for k in KEYS for v in before[k])
    assert abs(before["start_time"] - t0) < 60

    seeder.add(tbytes, data)
    seeder.wait_complete(ih, 30)
    leecher.add(tbytes, leecher.save_path)
    leecher.add_peers(ih, [seeder.peer_addr])
    leecher.wait_complete(ih, 60, procs=[seeder])

    lg, sg = Gui(leecher), Gui(seeder)
    h = wait_until(lambda: (lambda x: x if x["daily_download"][0] >= SIZE else None)(lg.hist()), 10,
                   "the download in the history")
    # payload only, each byte once (a duplicate end-game block would be wasted, not counted twice)
    assert SIZE <= h["daily_download"][0] < SIZE + 4 * PIECE
    assert h["daily_local_download"][0] == h["daily_download"][0]      # a loopback peer is local
    assert all(v == 0 for v in h["daily_download"][1:])
    sh = wait_until(lambda: (lambda x: x if x["daily_upload"][0] >= SIZE else None)(sg.hist()), 10,
                    "the upload in the seeder's history")
    assert sh["daily_local_upload"][0] == sh["daily_upload"][0]
    assert sh["daily_download"][0] == 0

    # a restart (orderly: the shutdown saves it) keeps it
    leecher.stop()
    leecher.start()
    after = Gui(leecher).hist()
    assert after["daily_download"] == h["daily_download"]
    assert after["daily_local_download"] == h["daily_local_download"]
    assert after["start_time"] == h["start_time"]

    # reset: empty at once, and after a kill -9 (committed before the answer)
    lg = Gui(leecher)
    assert set(lg.action("resetxferhist")) == {"build"}
    cleared = lg.hist()
    assert all(v == 0 for k in KEYS for v in cleared[k])
    assert cleared["start_time"] >= h["start_time"]
    leecher.kill9()   # the reset was committed before it was answered
    leecher.start()
    again = Gui(leecher).hist()
    assert all(v == 0 for k in KEYS for v in again[k])
    assert again["start_time"] == cleared["start_time"]

    # without credentials: 401; without a token: 400
    r = requests.get(leecher.base + "/gui/", params={"action": "getxferhist"}, timeout=30)
    assert r.status_code == 401
    r = requests.get(leecher.base + "/gui/", params={"action": "getxferhist"}, auth=(USER, PASSWORD), timeout=30)
    assert r.status_code == 400
