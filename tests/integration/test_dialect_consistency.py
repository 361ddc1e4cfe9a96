"""One daemon, three dialects: the same torrents seen through the qBittorrent
API v2 (torrents/info), the API v1 (/query/torrents) and the µTorrent /gui/
(list=1) report the same facts: name, size, progress, category/label, state,
ratio (issue 11, "One consistency test").

The torrents, on one torrentd:
  seed     finished (data on disk), category "tv", and uploaded once in full
           to a second torrentd: ratio 1
  partial  3 of 7 pieces on disk, running, no category
  paused   the same 3 of 7 pieces, stopped, category "movies"
  fresh    nothing on disk, running, category "tv"
Each dialect names things its own way; the mapping is the one each client
reads (clients-wave2.md §1.3/§1.4 for the /gui/ row: per-mille progress and
ratio, [11] label, status bits 1 started / 8 checked / 32 paused / 128
loaded; 4.x state names in v1, 5.x in v2).
"""
import os
import re

import pytest
import requests

from conftest import LEECH_IP, SEED_IP
from tdlib import USER, Torrentd, make_torrent, piece_hashes, wait_until

PL = 16384
TRACKER = "http://127.0.0.1:9/announce"

# v2 state -> v1 state where the names differ (4.x paused, 5.x stopped)
V1_STATE = {"stoppedUP": "pausedUP", "stoppedDL": "pausedDL"}
# /gui/ status bits
STARTED, CHECKED, ERROR, PAUSED, QUEUED, LOADED = 1, 8, 16, 32, 64, 128


def _write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


@pytest.fixture(scope="module")
def swarm(module_procs, tmp_path_factory):
    d = str(tmp_path_factory.mktemp("dialects"))
    td = module_procs.add(Torrentd(os.path.join(d, "td"), SEED_IP)).start()
    save = os.path.join(d, "data")
    T = {}

    def torrent(key, name, payload, on_disk, cat):
        info = {"name": name, "piece length": PL, "length": len(payload), "pieces": piece_hashes(payload, PL)}
        tb, h = make_torrent(info, announce=TRACKER)
        if on_disk is not None:
            _write(os.path.join(save, name), on_disk)
        td.add(tb, save, category=cat)
        T[key] = {"hash": h, "name": name, "size": len(payload), "tbytes": tb, "category": cat}

    seed = os.urandom(100000)
    torrent("seed", "dc-seed.bin", seed, seed, "tv")
    part = os.urandom(100000)
    half = part[:3 * PL] + b"\0" * (len(part) - 3 * PL)
    torrent("partial", "dc-partial.bin", part, half, "")
    paused = os.urandom(100000)
    torrent("paused", "dc-paused.bin", paused, paused[:3 * PL] + b"\0" * (len(paused) - 3 * PL), "movies")
    torrent("fresh", "dc-fresh.bin", os.urandom(70000), None, "tv")
    wait_until(lambda: all((lambda t: t and not t["state"].startswith("checking"))(td.torrent(v["hash"]))
                           for v in T.values()), 30, "all four checked")
    td.post("/api/v2/torrents/stop", hashes=T["paused"]["hash"])      # stopped after its check
    wait_until(lambda: td.torrent(T["paused"]["hash"])["state"] == "stoppedDL", 10, "paused stopped")
    # the seed uploads everything once: ratio 1
    leech = module_procs.add(Torrentd(os.path.join(d, "leech"), LEECH_IP)).start()
    leech.add(T["seed"]["tbytes"], leech.save_path)
    leech.add_peers(T["seed"]["hash"], [td.peer_addr])
    leech.wait_complete(T["seed"]["hash"], 30, procs=[td])
    wait_until(lambda: td.torrent(T["seed"]["hash"])["ratio"] >= 1, 15, "the seed's ratio reaches 1")
    leech.stop()
    # the seed's upload rate decays to 0 over the rate window after the
    # leecher left: until then its state may turn from uploading to
    # stalledUP between two reads (seen under load)
    wait_until(lambda: td.torrent(T["seed"]["hash"])["upspeed"] == 0 and
               td.torrent(T["seed"]["hash"])["state"] == "stalledUP", 30, "the seed idle")
    return td, T


def _v1(td):
    s = td.new_session()
    r = s.post(td.base + "/login", data={"username": "admin", "password": td.password}, timeout=10)
    assert r.text == "Ok."
    return {t["hash"]: t for t in s.get(td.base + "/query/torrents", timeout=10).json()}


def _gui(td):
    s = requests.Session()
    s.auth = (USER, td.password)
    tok = re.search(r">([^<]+)<", s.get(td.base + "/gui/token.html", timeout=10).text).group(1)
    rows = s.get(td.base + "/gui/?token=%s&list=1" % tok, timeout=10).json()["torrents"]
    return {r[0].lower(): r for r in rows}


def _views(td):
    """v2, v1 and /gui/ read back to back (nothing transfers any more: the
    leecher has stopped and the seed's rate is down to 0, so no figure can
    move between the reads)."""
    return {t["hash"]: t for t in td.info()}, _v1(td), _gui(td)


def _gui_state_ok(v2t, bits):
    """µTorrent's status bits for a qBittorrent state: stopped is loaded +
    checked (136); running is started + checked + loaded, queued unless
    forced; held back by the queue is queued without started."""
    st = v2t["state"]
    if st.startswith("stopped"):
        return bits == LOADED | CHECKED
    if st.startswith("queued"):
        return bits & (QUEUED | STARTED) == QUEUED
    if st in ("error", "missingFiles"):
        return bool(bits & ERROR)
    want = LOADED | CHECKED | STARTED | (0 if v2t["force_start"] else QUEUED)
    return bits & ~PAUSED == want


def test_v2_and_v1_agree(swarm):
    td, T = swarm
    v2, v1, _ = _views(td)
    for key, want in T.items():
        h = want["hash"]
        a, b = v2[h], v1[h]
        assert (a["name"], a["size"], a["category"]) == (want["name"], want["size"], want["category"]), key
        assert (b["name"], b["size"], b["category"]) == (a["name"], a["size"], a["category"]), key
        assert b["progress"] == a["progress"], key
        assert b["ratio"] == a["ratio"], key
        assert b["state"] == V1_STATE.get(a["state"], a["state"]), (key, a["state"], b["state"])
    # and what they are
    assert v2[T["seed"]["hash"]]["progress"] == 1 and v2[T["seed"]["hash"]]["state"] in ("stalledUP", "uploading")
    assert abs(v2[T["seed"]["hash"]]["ratio"] - 1) < 0.01
    assert v2[T["partial"]["hash"]]["progress"] == pytest.approx(3 * PL / 100000)
    assert v2[T["partial"]["hash"]]["state"] == "stalledDL"
    assert v2[T["paused"]["hash"]]["state"] == "stoppedDL" and v1[T["paused"]["hash"]]["state"] == "pausedDL"
    assert v2[T["paused"]["hash"]]["progress"] == pytest.approx(3 * PL / 100000)
    assert v2[T["fresh"]["hash"]]["progress"] == 0


def test_gui_agrees_with_v2(swarm):
    """The /gui/ row: [2] name, [3] size, [4] progress per mil, [7] ratio per
    mil, [11] label, [1] status bits, [18] remaining, [26] save path."""
    td, T = swarm
    v2, v1, gui = _views(td)
    for key, want in T.items():
        h = want["hash"]
        a, row = v2[h], gui[h]
        assert row[0] == h.upper(), key
        assert (row[2], row[3], row[11]) == (a["name"], a["size"], a["category"]), key
        assert row[4] == int(a["progress"] * 1000 + 1e-9), (key, row[4], a["progress"])
        assert abs(row[7] - a["ratio"] * 1000) < 1, (key, row[7], a["ratio"])
        assert row[18] == a["amount_left"], key
        assert os.path.normpath(row[26]) == os.path.normpath(a["save_path"]), key
        assert _gui_state_ok(a, row[1]), (key, a["state"], row[1])
    assert gui[T["seed"]["hash"]][4] == 1000 and gui[T["seed"]["hash"]][7] >= 1000
    assert gui[T["paused"]["hash"]][1] == LOADED | CHECKED
    assert gui[T["partial"]["hash"]][4] == 491 and gui[T["fresh"]["hash"]][4] == 0
