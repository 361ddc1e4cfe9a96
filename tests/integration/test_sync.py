"""sync/maindata incremental diffs and sync/torrentPeers, over HTTP, against a
running torrentd (docs/api-surface.md §7.2, §7.3).

A client mirror applies every reply the way VueTorrent does (merge torrents'
changed fields, drop *_removed, replace a tracker's hash list); after each
step the mirror must equal what a fresh login's full update says.
"""
import os
import time

import pytest

from conftest import LEECH_IP
from tdlib import Torrentd, make_torrent, piece_hashes, wait_until

PL = 16384

# Fields that move with the clock for active torrents (or "now" for finished
# ones): compared by type only when torrents may be running.
VOLATILE = {"seen_complete", "time_active", "seeding_time", "last_activity", "reannounce",
            "eta", "dlspeed", "upspeed", "popularity", "availability", "num_seeds", "num_leechs"}
VOLATILE_SERVER = {"free_space_on_disk", "dl_info_speed", "up_info_speed", "dl_info_data",
                   "up_info_data", "total_peer_connections"}


def tiny(name, size=40001):
    payload = os.urandom(size)
    info = {"name": name, "piece length": PL, "length": size, "pieces": piece_hashes(payload, PL)}
    tbytes, h = make_torrent(info, announce="http://127.0.0.1:9/announce")
    return tbytes, h, payload


@pytest.fixture(scope="module")
def td(module_procs, tmp_path_factory):
    d = str(tmp_path_factory.mktemp("sync"))
    return module_procs.add(Torrentd(os.path.join(d, "td"), LEECH_IP)).start()


class Mirror:
    def __init__(self, td, session=None):
        self.td = td
        self.s = session or td.s
        self.rid = 0
        self.state = {}
        self.replies = []

    def request(self, rid):
        r = self.s.get(self.td.base + "/api/v2/sync/maindata", params={"rid": rid}, timeout=30)
        assert r.status_code == 200, (r.status_code, r.text[:200])
        assert r.headers["Content-Type"].startswith("application/json")
        return r

    def poll(self):
        r = self.request(self.rid)
        j = r.json()
        self.apply(j)
        self.rid = j["rid"]
        self.replies.append((len(r.content), j))
        return j

    def apply(self, j):
        assert isinstance(j.get("rid"), int)
        st = self.state
        if j.get("full_update") is True:
            for key in ("torrents", "categories", "tags", "trackers", "server_state"):
                assert key in j, "full update without %s" % key
            st.clear()
        else:
            assert "full_update" not in j
            for key in ("torrents", "categories", "trackers", "server_state"):
                if key in j:
                    assert j[key], "empty %s in a partial update" % key
            for key in ("torrents_removed", "categories_removed", "tags", "tags_removed",
                        "trackers_removed"):
                if key in j:
                    assert isinstance(j[key], list) and j[key], "empty %s in a partial update" % key
        for h, fields in j.get("torrents", {}).items():
            st.setdefault("torrents", {}).setdefault(h, {}).update(fields)
        for h in j.get("torrents_removed", []):
            st.get("torrents", {}).pop(h, None)
        for n, fields in j.get("categories", {}).items():
            st.setdefault("categories", {}).setdefault(n, {}).update(fields)
        for n in j.get("categories_removed", []):
            st.get("categories", {}).pop(n, None)
        st.setdefault("tags", set()).update(j.get("tags", []))
        st["tags"].difference_update(j.get("tags_removed", []))
        for url, hashes in j.get("trackers", {}).items():
            st.setdefault("trackers", {})[url] = set(hashes)
        for url in j.get("trackers_removed", []):
            st.get("trackers", {}).pop(url, None)
        st.setdefault("server_state", {}).update(j.get("server_state", {}))
        for key in ("torrents", "categories", "trackers"):
            st.setdefault(key, {})


def fresh(td):
    """What a brand-new login gets, in mirror form."""
    s = td.new_session()
    r = s.post(td.base + "/api/v2/auth/login", data={"username": "admin", "password": td.password},
               timeout=10)
    assert r.text == "Ok."
    m = Mirror(td, s)
    j = m.poll()
    assert j["full_update"] is True and j["rid"] == 1
    return m.state


def strip(state, exact):
    out = {}
    for key, val in state.items():
        if key == "torrents":
            out[key] = {h: {k: (v if exact or k not in VOLATILE else type(v).__name__)
                            for k, v in t.items() if k != "seen_complete"}
                        for h, t in val.items()}
        elif key == "server_state":
            out[key] = {k: (v if k not in VOLATILE_SERVER else type(v).__name__)
                        for k, v in val.items()}
        else:
            out[key] = val
    return out


def assert_replay(td, m, exact=False, tries=10):
    """The mirror equals a fresh full update (retrying while active torrents'
    clocks tick between the two requests)."""
    for _ in range(tries):
        m.poll()
        f = fresh(td)
        if strip(m.state, exact) == strip(f, exact):
            return
        time.sleep(0.3)
    assert strip(m.state, exact) == strip(f, exact)


def poll_until(m, pred, what, timeout=15):
    def ok():
        m.poll()
        return pred(m.state)
    wait_until(ok, timeout, what, 0.2)


def test_maindata_diffs_and_replay(td, tmp_path):
    save = str(tmp_path / "dl")
    m = Mirror(td)
    j = m.poll()
    assert j["full_update"] is True
    base_rid = j["rid"]

    # added torrent: comes whole, nothing else is sent for it
    a_t, a, _ = tiny("sync-a.bin")
    td.add(a_t, save, stopped=True)
    poll_until(m, lambda st: a in st["torrents"], "torrent A in a partial update")
    first = next(r for _, r in m.replies if a in r.get("torrents", {}))
    assert "full_update" not in first and first["rid"] > base_rid
    ta = first["torrents"][a]
    assert len(ta) >= 50 and "hash" not in ta
    assert ta["state"] == "stoppedDL"
    assert first["trackers"]["http://127.0.0.1:9/announce"] == [a]
    assert_replay(td, m)

    # a seed with its data in place
    b_t, b, payload = tiny("sync-b.bin")
    os.makedirs(save, exist_ok=True)
    with open(os.path.join(save, "sync-b.bin"), "wb") as f:
        f.write(payload)
    td.add(b_t, save, skip_checking=True)
    poll_until(m, lambda st: st["torrents"].get(b, {}).get("progress") == 1, "seed B")
    tracker = m.state["trackers"]["http://127.0.0.1:9/announce"]
    assert tracker == {a, b}

    # stop B: only changed fields come, including the state
    td.post("/api/v2/torrents/stop", hashes=b)
    n = len(m.replies)
    poll_until(m, lambda st: st["torrents"][b]["state"] == "stoppedUP", "B stoppedUP")
    diffs = [r["torrents"][b] for _, r in m.replies[n:] if b in r.get("torrents", {})]
    assert diffs and all(len(d) < 20 for d in diffs), diffs
    assert any(d.get("state") == "stoppedUP" for d in diffs)
    assert_replay(td, m, exact=True)

    # start B again
    td.post("/api/v2/torrents/start", hashes=b)
    poll_until(m, lambda st: st["torrents"][b]["state"] not in ("stoppedUP", "checkingUP"),
               "B running")
    assert_replay(td, m)

    # delete A: torrents_removed, the tracker list shrinks to B
    td.delete(a)
    n = len(m.replies)
    poll_until(m, lambda st: a not in st["torrents"], "A removed")
    assert any(a in r.get("torrents_removed", []) for _, r in m.replies[n:])
    assert m.state["trackers"]["http://127.0.0.1:9/announce"] == {b}
    assert_replay(td, m)

    # categories and tags, when the endpoints exist
    r = td.s.post(td.base + "/api/v2/torrents/createCategory",
                  data={"category": "sync-cat", "savePath": ""}, timeout=10)
    if r.status_code == 200:
        poll_until(m, lambda st: "sync-cat" in st["categories"], "category in a partial update")
        td.post("/api/v2/torrents/removeCategories", categories="sync-cat")
        n = len(m.replies)
        poll_until(m, lambda st: "sync-cat" not in st["categories"], "category removed")
        assert any("sync-cat" in r.get("categories_removed", []) for _, r in m.replies[n:])
    r = td.s.post(td.base + "/api/v2/torrents/createTags", data={"tags": "sync-tag"}, timeout=10)
    if r.status_code == 200:
        poll_until(m, lambda st: "sync-tag" in st["tags"], "tag in a partial update")
    assert_replay(td, m)

    # everything stopped: exact replay, and an idle reply is tiny
    td.post("/api/v2/torrents/stop", hashes="all")
    poll_until(m, lambda st: all(t["state"].startswith("stopped") for t in st["torrents"].values()),
               "all stopped")
    time.sleep(1.5)
    m.poll()
    assert_replay(td, m, exact=True)
    sizes = []
    for _ in range(3):
        m.poll()
        sizes.append(m.replies[-1][0])
        time.sleep(1.1)
    assert max(sizes) <= 200, (sizes, m.replies[-3:])
    td.delete(b, delete_files=True)
    poll_until(m, lambda st: not st["torrents"], "B removed")


def test_resend_accepted_and_stale(td, tmp_path):
    save = str(tmp_path / "dl")
    m = Mirror(td)
    m.poll()
    accepted = m.rid
    t, h, _ = tiny("sync-resend.bin")
    td.add(t, save, stopped=True)
    # the client loses the replies carrying h, then retries its accepted rid
    lost = None
    deadline = time.time() + 10
    while time.time() < deadline:
        lost = m.request(accepted).json()
        if h in lost.get("torrents", {}):
            break
        time.sleep(0.2)
    assert h in lost["torrents"]
    again = m.request(accepted).json()
    assert "full_update" not in again
    assert again["rid"] == lost["rid"] + 1
    assert len(again["torrents"][h]) >= 50        # still every field: the client never had it
    m.apply(again)
    m.rid = again["rid"]
    assert_replay(td, m)

    # a stale rid (never sent, or an older accepted one) gets a full update
    for rid in (999999, accepted, -5, "abc"):
        j = m.request(rid).json()
        assert j.get("full_update") is True, (rid, j)
    td.delete(h)
    wait_until(lambda: td.torrent(h) is None, 10, "delete")


def test_two_logins_have_separate_state(td):
    m1 = Mirror(td)
    j1 = m1.poll()
    other = td.new_session()
    other.post(td.base + "/api/v2/auth/login", data={"username": "admin", "password": td.password},
               timeout=10)
    m2 = Mirror(td, other)
    assert m2.poll()["rid"] == 1
    assert m2.poll().get("full_update") is None
    # m1's rid is still valid for m1
    j = m1.request(j1["rid"]).json()
    assert "full_update" not in j


def test_torrent_peers(td, tmp_path):
    t, h, _ = tiny("sync-peers.bin")
    td.add(t, str(tmp_path / "dl"), stopped=True)
    wait_until(lambda: td.torrent(h) is not None, 10, "torrent added")
    url = td.base + "/api/v2/sync/torrentPeers"
    j = td.s.get(url, params={"hash": h, "rid": 0}, timeout=10).json()
    assert j["full_update"] is True and j["peers"] == {} and j["show_flags"] is False
    assert j["rid"] == 1
    j2 = td.s.get(url, params={"hash": h, "rid": j["rid"]}, timeout=10).json()
    assert j2 == {"rid": 2}
    j3 = td.s.get(url, params={"hash": h, "rid": 77}, timeout=10).json()
    assert j3["full_update"] is True
    assert td.s.get(url, params={"hash": "0" * 40}, timeout=10).status_code == 404
    assert td.s.get(url, timeout=10).status_code == 404
    assert td.s.get(url, params={"hash": "zz"}, timeout=10).status_code == 404
    td.delete(h)


def test_alltime_totals_survive_restarts(workdir, procs):
    """server_state alltime_dl / alltime_ul are all-time, as in qBittorrent
    (which saves its statistics periodically and at exit): a clean restart
    keeps them while dl_info_data / up_info_data start again at 0; after
    kill -9 at most the last save interval (15 s) is lost."""
    from test_client_compat import _swarm
    size = 2 << 20
    seeder, leecher, tbytes, h = _swarm(workdir, procs, size)
    leecher.add(tbytes, os.path.join(workdir, "dl"))
    leecher.add_peers(h, [seeder.peer_addr])
    leecher.wait_seeding(h, 60)

    def state(td):
        return td.get("/api/v2/sync/maindata", rid=0).json()["server_state"]
    before = state(leecher)
    assert before["alltime_dl"] >= before["dl_info_data"] >= size
    leecher.stop()
    leecher.start()
    after = state(leecher)
    assert after["dl_info_data"] == 0
    assert after["alltime_dl"] >= before["alltime_dl"]
    assert after["alltime_ul"] >= before["alltime_ul"]

    # the seeder: its upload is saved within one interval, so a kill -9
    # after that keeps it
    up = wait_until(lambda: (lambda x: x if x["up_info_data"] >= size else None)(state(seeder)), 10,
                    "the seeder's upload counted")
    time.sleep(16)
    seeder.kill9()
    seeder.start()
    st = state(seeder)
    assert st["up_info_data"] == 0 and st["alltime_ul"] >= up["up_info_data"]
