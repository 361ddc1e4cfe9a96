"""The µTorrent Server /gui/ API (web/api/ut_gui*.c) over HTTP against a
running torrentd: seed 004 "µTorrent API", ../shared/docs/api-surface.md
§12 and clients-wave2.md §1 (outside the repository).

Auth (Basic, 401 realm, ban, guest), token.html as XML + GUID, the token
in any position, list=1 full and with cache ids, the row's types, every
action with one, several and unknown hashes, setprops pair order, the add
calls (http URL from a loopback server, magnet, multipart file, path
rules), list-dirs, getversion, sessions, and getfiles/getprops/getpeers
with a real peer.
"""
import http.server
import json
import os
import re
import sqlite3
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET

import pytest
import requests

from conftest import LEECH_IP, SEED_IP
from tdlib import PASSWORD, USER, Torrentd, free_port, make_torrent, piece_hashes, wait_until

PL = 16384
UNKNOWN = "0123456789abcdef0123456789abcdef01234567"
MAGNET_HEX = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a"
PATH_HEX = "aa2fe1c06bba254a9dc9f519b335aa7c1367a8bb"


def tiny(name, size=50001):
    payload = os.urandom(size)
    info = {"name": name, "piece length": PL, "length": size, "pieces": piece_hashes(payload, PL)}
    tbytes, h = make_torrent(info, announce="http://127.0.0.1:9/announce")
    return tbytes, h, payload


def set_rows(td, rows):
    """Stops td, writes typed settings into its store, starts it again."""
    td.stop()
    db = sqlite3.connect(os.path.join(td.profile, "torrentd.db"))
    with db:
        db.executemany("INSERT OR REPLACE INTO prefs(key, value) VALUES(?, ?)", rows.items())
    db.close()
    td.start()


class Gui:
    """What a µTorrent client does: Basic on every request, token.html
    first, the GUID cookie replayed, the token in the query."""

    def __init__(self, td, user=USER, password=None):
        self.td = td
        self.base = td.base + "/gui/"
        self.s = requests.Session()
        self.s.auth = (user, td.password if password is None else password)
        self.token = None

    def get_token(self):
        r = self.s.get(self.base + "token.html", params={"t": int(time.time() * 1000)}, timeout=30)
        assert r.status_code == 200, (r.status_code, r.text)
        # Sonarr: XmlDocument.LoadXml, FirstChild.FirstChild.InnerText
        root = ET.fromstring(r.text)
        self.token = root[0].text
        return r

    def raw(self, params, token="first", method="GET", files=None, path=None):
        params = list(params)
        if token == "first":
            params = [("token", self.token)] + params
        elif token == "last":
            params = params + [("token", self.token)]
        url = (path or self.base) + "?" + urllib.parse.urlencode(params)
        return self.s.request(method, url, files=files, timeout=60)

    def call(self, *params, **kw):
        r = self.raw(params, **kw)
        assert r.status_code == 200, (params, r.status_code, r.text[:300])
        j = r.json()
        assert isinstance(j["build"], int) and j["build"] >= 25406
        return j

    def ok(self, *params, **kw):
        j = self.call(*params, **kw)
        assert "error" not in j, (params, j)
        return j

    def rows(self):
        return {t[0]: t for t in self.call(("list", "1"))["torrents"]}

    def row(self, h):
        return self.rows().get(h.upper())

    def add_file(self, tbytes, *params):
        files = {"torrent_file": ("file.torrent", tbytes, "application/x-bittorrent")}
        return self.call(("action", "add-file"), *params, method="POST", files=files)


@pytest.fixture(scope="module")
def td(module_procs, tmp_path_factory):
    d = str(tmp_path_factory.mktemp("utgui"))
    t = module_procs.add(Torrentd(os.path.join(d, "td"), LEECH_IP)).start()
    extra = os.path.join(d, "extra-dir")
    os.makedirs(extra)
    os.makedirs(t.save_path, exist_ok=True)
    t.extra_dir = extra
    set_rows(t, {"ut_webui_guest_enabled": "true", "ut_dir_download": json.dumps([extra])})
    # queue moves need queueing; a large limit keeps everything running
    t.set_prefs({"dht": False, "lsd": False, "pex": False, "upnp": False, "queueing_enabled": True,
                 "max_active_downloads": 100, "max_active_torrents": 200, "max_active_uploads": 100})
    return t


@pytest.fixture(scope="module")
def gui(td):
    g = Gui(td)
    g.get_token()
    return g


def add_stopped(gui, name, *params):
    tbytes, h, payload = tiny(name)
    gui.add_file(tbytes, *params)
    wait_until(lambda: gui.row(h), 10, "%s listed" % name)
    gui.ok(("action", "stop"), ("hash", h))
    wait_until(lambda: gui.row(h)[1] == 136, 10, "%s stopped" % name)
    return h, tbytes, payload


# ---- auth and token ----

def test_token_html_is_xml_with_guid_cookie(td):
    g = Gui(td)
    r = g.get_token()
    assert r.text == "<html><div id='token' style='display:none;'>%s</div></html>" % g.token
    assert re.fullmatch(r"[A-Za-z0-9_-]{40,}", g.token)
    assert r.headers["Content-Type"].startswith("text/html")
    assert re.match(r"GUID=[A-Za-z0-9_-]+", r.headers["Set-Cookie"])
    assert "GUID" in g.s.cookies
    # the regex the other clients use finds it too
    assert re.search(r"<div[^>]*id='token'[^>]*>([^<]+)</div>", r.text).group(1) == g.token
    # a new session has a new token
    g2 = Gui(td)
    g2.get_token()
    assert g2.token != g.token


def test_basic_challenge(td):
    for path in ("/gui/token.html", "/gui/?list=1"):
        r = requests.get(td.base + path, timeout=10)
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"] == 'Basic realm="uTorrent"'
    r = requests.get(td.base + "/gui/token.html", auth=(USER, "wrong"), timeout=30)
    assert r.status_code == 401 and 'realm="uTorrent"' in r.headers["WWW-Authenticate"]


def test_token_any_position_and_refusals(gui, td):
    assert gui.call(("list", "1"), token="first")["torrentc"]
    assert gui.call(("list", "1"), ("cid", "0"), token="last")["torrentc"]   # @ctrl/utorrent's order
    assert gui.call(("action", "getsettings"), ("t", "1"), token="last")["settings"] is not None
    for params, token in ((("list", "1"),), None), ((("token", "x" * 64), ("list", "1")), None), \
                         ((("token", gui.token[:-1]), ("list", "1")), None), \
                         ((("token", gui.token + "A"), ("list", "1")), None):
        r = gui.raw(params, token=token)
        assert r.status_code == 400 and r.text == "invalid request", (params, r.status_code, r.text)
    # /gui, /gui/ and Electorrent's /gui/. reach the API
    for path in ("/gui", "/gui/", "/gui/."):
        r = gui.raw([("list", "1")], path=td.base + path)
        assert r.status_code == 200 and "torrents" in r.json(), path
    # no call: the build; unknown action: invalid request
    assert gui.call() == {"build": gui.call()["build"]}
    r = gui.raw([("action", "no-such-action")])
    assert r.status_code == 400 and r.text == "invalid request"


def test_token_refused_after_logout(td):
    g = Gui(td)
    g.get_token()
    g.ok(("list", "1"))
    sessions = g.call(("action", "get-sessions"))["sessions"]
    mine = [s for s in sessions if s["guid"] == g.s.cookies["GUID"]]
    assert len(mine) == 1 and mine[0]["peer_ip"] == "127.0.0.1"
    assert isinstance(mine[0]["created"], int) and isinstance(mine[0]["updated"], int)
    g.ok(("action", "logout"))
    r = g.raw([("list", "1")])
    assert r.status_code == 400 and r.text == "invalid request"
    # a new token.html works again
    g.get_token()
    g.ok(("list", "1"))


def test_wrong_password_counts_to_ban(procs, tmp_path):
    td = procs.add(Torrentd(str(tmp_path / "ban"), LEECH_IP)).start()
    td.set_prefs({"web_ui_max_auth_fail_count": 3, "web_ui_ban_duration": 600})
    bad = Gui(td, password="wrong")
    for _ in range(3):
        r = bad.s.get(bad.base + "token.html", timeout=30)
        assert r.status_code == 401
    good = Gui(td)
    r = good.s.get(good.base + "token.html", timeout=30)
    assert r.status_code == 403 and "banned" in r.text


def test_token_auth_settings(procs, tmp_path):
    td = procs.add(Torrentd(str(tmp_path / "tok"), LEECH_IP)).start()
    g = Gui(td)
    assert g.raw([("list", "1")], token=None).status_code == 400
    set_rows(td, {"ut_token_auth_filter": '"remote"'})   # loopback clients need none
    assert g.raw([("list", "1")], token=None).status_code == 200
    set_rows(td, {"ut_token_auth_filter": '"all"', "ut_token_auth_enable": "false"})
    assert g.raw([("list", "1")], token=None).status_code == 200
    set_rows(td, {"ut_token_auth_enable": "true"})
    assert g.raw([("list", "1")], token=None).status_code == 400


def test_guest_reads_but_cannot_act(gui, td):
    h, _, _ = add_stopped(gui, "guest-target.bin")
    g = Gui(td, user="guest", password="anything")
    g.get_token()
    assert h.upper() in g.rows()
    assert g.call(("action", "getfiles"), ("hash", h))["files"][0] == h.upper()
    assert g.call(("action", "getprops"), ("hash", h))["props"][0]["hash"] == h.upper()
    assert isinstance(g.call(("action", "getsettings"))["settings"], list)
    before = gui.row(h)
    for params in ((("action", "start"), ("hash", h)), (("action", "setprops"), ("hash", h), ("s", "label"), ("v", "g")),
                   (("action", "removedata"), ("hash", h)), (("action", "add-url"), ("s", "magnet:?xt=urn:btih:" + UNKNOWN)),
                   (("action", "setsetting"), ("s", "max_dl_rate"), ("v", "1"))):
        r = g.raw(params)
        assert r.status_code == 400 and r.text == "invalid request", params
    assert gui.row(h) == before
    assert UNKNOWN.upper() not in gui.rows()
    # the admin's own name with a wrong password is never the guest
    r = Gui(td, user=USER, password="guest").s.get(td.base + "/gui/token.html", timeout=30)
    assert r.status_code == 401


# ---- list and cache ids ----

def test_list_full_and_cid(gui):
    ha, _, _ = add_stopped(gui, "cid-a.bin")
    hb, _, _ = add_stopped(gui, "cid-b.bin")
    full = gui.call(("list", "1"))
    assert set(full) >= {"build", "label", "torrents", "rssfeeds", "rssfilters", "torrentc"}
    assert full["rssfeeds"] == [] and full["rssfilters"] == []
    assert re.fullmatch(r"[0-9]+", full["torrentc"])
    assert {ha.upper(), hb.upper()} <= {t[0] for t in full["torrents"]}
    cid = full["torrentc"]
    # the label changes: only that torrent comes back
    gui.ok(("action", "setprops"), ("hash", ha), ("s", "label"), ("v", "cidlabel"))
    d = gui.call(("list", "1"), ("cid", cid))
    assert "torrents" not in d
    for k in ("torrentp", "torrentm", "rssfeedp", "rssfeedm", "rssfilterp", "rssfilterm", "label", "torrentc"):
        assert k in d, k
    assert [t[0] for t in d["torrentp"]] == [ha.upper()] and d["torrentp"][0][11] == "cidlabel"
    assert d["torrentm"] == []
    assert ["cidlabel", 1] in d["label"]
    # removed: its hash in torrentm
    cid2 = d["torrentc"]
    gui.ok(("action", "remove"), ("hash", hb))
    d2 = gui.call(("list", "1"), ("cid", cid2))
    assert hb.upper() in d2["torrentm"] and hb.upper() not in [t[0] for t in d2["torrentp"]]
    # the first cid still knows both changes
    d1 = gui.call(("list", "1"), ("cid", cid))
    assert ha.upper() in [t[0] for t in d1["torrentp"]] and hb.upper() in d1["torrentm"]
    # nothing changed since: nothing sent
    cid3 = d2["torrentc"]
    d3 = gui.call(("list", "1"), ("cid", cid3))
    assert d3["torrentp"] == [] and d3["torrentm"] == []
    # unknown, garbage, foreign epoch: the full form
    foreign = str(int(cid3) ^ (1 << 40))
    for bad in ("1", "abc", "-5", "", foreign, "99999999999999999999999"):
        f = gui.call(("list", "1"), ("cid", bad))
        assert "torrents" in f and "torrentp" not in f, bad


def test_row_fields_and_states(gui, td):
    tbytes, h, payload = tiny("row-seed.bin", 70000)
    # its data is there already: the check finds it complete
    with open(os.path.join(td.save_path, "row-seed.bin"), "wb") as f:
        f.write(payload)
    gui.add_file(tbytes)
    wait_until(lambda: (gui.row(h) or [0, 0, 0, 0, 0])[4] == 1000 and gui.row(h)[21] == "Seeding", 30,
               "seeding row")
    r = gui.row(h)
    assert len(r) == 29
    ints = [1, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16, 17, 18, 23, 24, 28]
    for i in ints:
        assert type(r[i]) is int, (i, r[i])
    for i in (0, 2, 11, 19, 20, 21, 22, 25, 26, 27):
        assert isinstance(r[i], str), (i, r[i])
    assert r[0] == h.upper() and r[2] == "row-seed.bin" and r[3] == 70000 and r[18] == 0
    assert r[1] & (1 | 8 | 128) == (1 | 8 | 128) and r[1] & 64   # started, checked, loaded, queued (not forced)
    assert r[17] == -1                 # finished: out of the download queue
    assert r[24] > 0 and r[23] > 0 and r[26] == td.save_path
    # forced: started without queued
    gui.ok(("action", "forcestart"), ("hash", h))
    wait_until(lambda: gui.row(h)[1] & (1 | 64) == 1, 10, "forced row")
    assert gui.row(h)[21].startswith("[F] ")
    # start puts it back under the queue
    gui.ok(("action", "start"), ("hash", h))
    wait_until(lambda: gui.row(h)[1] & (1 | 64) == 65, 10, "queued again")
    # stopped (finished): 136, "Finished"; pause = stop
    gui.ok(("action", "pause"), ("hash", h))
    wait_until(lambda: gui.row(h)[1] == 136, 10, "stopped row")
    assert gui.row(h)[21] == "Finished"
    gui.ok(("action", "unpause"), ("hash", h))
    wait_until(lambda: gui.row(h)[1] & 1, 10, "started again")
    # a download: queue order 1-based, progress 0, remaining = size
    hd, _, _ = add_stopped(gui, "row-dl.bin")
    r = gui.row(hd)
    assert r[1] == 136 and r[21] == "Stopped" and r[4] == 0 and r[18] == r[3] == 50001 and r[17] >= 1
    gui.ok(("action", "start"), ("hash", hd))
    wait_until(lambda: gui.row(hd)[1] & 1 and gui.row(hd)[21] == "Downloading", 10, "downloading row")
    # held back by the queue: 200, "Queued"
    td.set_prefs({"max_active_downloads": 0, "max_active_torrents": 0})
    try:
        wait_until(lambda: gui.row(hd)[1] == 200 and gui.row(hd)[21] == "Queued", 15, "queued row")
    finally:
        td.set_prefs({"max_active_downloads": 100, "max_active_torrents": 200})
    # recheck: the checking bit (or the check already done), then back
    gui.ok(("action", "recheck"), ("hash", h))
    wait_until(lambda: gui.row(h)[4] == 1000 and gui.row(h)[1] & 8, 30, "rechecked")


# ---- actions ----

def test_actions_one_many_unknown(gui, td):
    hs = [add_stopped(gui, "act-%d.bin" % i)[0] for i in range(3)]
    for act in ("start", "stop", "pause", "unpause", "forcestart", "recheck", "queuetop", "queueup", "queuedown",
                "queuebottom"):
        before = gui.rows()
        gui.ok(("action", act), ("hash", UNKNOWN))                 # unknown: ignored
        gui.ok(("action", act), ("hash", "not-a-hash"))
        assert set(gui.rows()) == set(before)
        gui.ok(("action", act), ("hash", hs[0]))                   # lower case
        gui.ok(("action", act), ("hash", hs[1].upper()), ("hash", hs[2]), ("hash", UNKNOWN))
    # an action with list=1: the list after the action, in the same reply
    j = gui.ok(("action", "stop"), ("hash", hs[0]), ("hash", hs[1]), ("hash", hs[2]), ("list", "1"))
    assert {hs[0].upper(), hs[1].upper(), hs[2].upper()} <= {t[0] for t in j["torrents"]}
    wait_until(lambda: all(gui.row(h)[1] == 136 for h in hs), 10, "all stopped")
    gui.ok(("action", "start"), ("hash", hs[0]), ("hash", hs[1]))
    wait_until(lambda: gui.row(hs[0])[1] & 1 and gui.row(hs[1])[1] & 1, 10, "two started")
    assert gui.row(hs[2])[1] == 136
    # queue order: bottom puts it last, top first
    gui.ok(("action", "queuebottom"), ("hash", hs[0]))
    rows = gui.rows()
    orders = [t[17] for t in rows.values() if t[17] > 0]
    assert rows[hs[0].upper()][17] == max(orders)
    gui.ok(("action", "queuetop"), ("hash", hs[0]))
    assert gui.row(hs[0])[17] == 1
    gui.ok(("action", "queuedown"), ("hash", hs[0]))
    assert gui.row(hs[0])[17] == 2
    gui.ok(("action", "queueup"), ("hash", hs[0]))
    assert gui.row(hs[0])[17] == 1


@pytest.mark.parametrize("act,deletes", [("remove", False), ("removedata", True), ("removetorrent", False),
                                         ("removedatatorrent", True)])
def test_remove_variants(gui, td, act, deletes):
    tbytes, h, payload = tiny("rm-%s.bin" % act)
    os.makedirs(td.save_path, exist_ok=True)
    path = os.path.join(td.save_path, "rm-%s.bin" % act)
    with open(path, "wb") as f:
        f.write(payload)
    gui.add_file(tbytes)
    wait_until(lambda: (gui.row(h) or [0] * 5)[4] == 1000, 30, "complete")
    gui.ok(("action", act), ("hash", UNKNOWN))
    assert gui.row(h)
    gui.ok(("action", act), ("hash", h.upper()), ("hash", UNKNOWN))
    wait_until(lambda: not gui.row(h), 10, "removed")
    if deletes:
        wait_until(lambda: not os.path.exists(path), 10, "data deleted")
    else:
        assert os.path.exists(path)


def test_setprops_pairs_in_order(gui, td):
    ha, _, _ = add_stopped(gui, "sp-a.bin")
    hb, _, _ = add_stopped(gui, "sp-b.bin")
    # Sonarr clears a label: s=label&v=<old>&s=label&v=  (the last pair wins)
    gui.ok(("action", "setprops"), ("hash", ha), ("s", "label"), ("v", "tv-sonarr"))
    assert gui.row(ha)[11] == "tv-sonarr"
    assert td.get("/api/v2/torrents/info", hashes=ha).json()[0]["category"] == "tv-sonarr"   # one model
    gui.ok(("action", "setprops"), ("hash", ha), ("s", "label"), ("v", "tv-sonarr"), ("s", "label"), ("v", ""))
    assert gui.row(ha)[11] == ""
    # pairs apply to the most recent hash
    gui.ok(("action", "setprops"), ("hash", ha), ("s", "ulrate"), ("v", "10240"), ("s", "dlrate"), ("v", "20480"),
           ("hash", hb), ("s", "ulrate"), ("v", "4096"), ("hash", UNKNOWN), ("s", "ulrate"), ("v", "1"))
    pa = gui.call(("action", "getprops"), ("hash", ha))["props"][0]
    pb = gui.call(("action", "getprops"), ("hash", hb))["props"][0]
    assert (pa["ulrate"], pa["dlrate"], pb["ulrate"], pb["dlrate"]) == (10240, 20480, 4096, 0)
    # Sonarr's seeding goal
    gui.ok(("action", "setprops"), ("hash", hb), ("s", "seed_override"), ("v", "1"), ("s", "seed_ratio"),
           ("v", "1500"), ("s", "seed_time"), ("v", "3600"))
    pb = gui.call(("action", "getprops"), ("hash", hb))["props"][0]
    assert (pb["seed_override"], pb["seed_ratio"], pb["seed_time"]) == (1, 1500, 3600)
    v2 = td.get("/api/v2/torrents/info", hashes=hb).json()[0]
    assert v2["ratio_limit"] == 1.5 and v2["seeding_time_limit"] == 60
    gui.ok(("action", "setprops"), ("hash", hb), ("s", "seed_override"), ("v", "0"))
    assert gui.call(("action", "getprops"), ("hash", hb))["props"][0]["seed_override"] == 0
    # a bad value: an error naming it, nothing of that pair, the others applied
    j = gui.call(("action", "setprops"), ("hash", ha), ("s", "seed_ratio"), ("v", "abc"), ("s", "ulrate"),
                 ("v", "5000"))
    assert "seed_ratio" in j["error"]
    pa = gui.call(("action", "getprops"), ("hash", ha))["props"][0]
    assert pa["seed_override"] == 0 and pa["ulrate"] == 5000
    for k, v in (("nosuchprop", "1"), ("superseed", "7"), ("dht", "1"), ("ulrate", "-1"), ("label", "a\\b/../")):
        j = gui.call(("action", "setprops"), ("hash", ha), ("s", k), ("v", v))
        assert "error" in j and k in j["error"], (k, j)
    # trackers: "\r\n" joined, an empty line between tiers
    gui.ok(("action", "setprops"), ("hash", ha), ("s", "trackers"),
           ("v", "http://127.0.0.1:9/a\r\nhttp://127.0.0.1:9/b\r\n\r\nhttp://127.0.0.1:9/c"))
    tr = gui.call(("action", "getprops"), ("hash", ha))["props"][0]["trackers"]
    assert tr == "http://127.0.0.1:9/a\r\nhttp://127.0.0.1:9/b\r\n\r\nhttp://127.0.0.1:9/c"


def test_setprio_and_getfiles(gui):
    h, _, _ = add_stopped(gui, "prio.bin")
    f = gui.call(("action", "getfiles"), ("hash", h))["files"]
    assert f[0] == h.upper() and len(f[1]) == 1
    row = f[1][0]
    assert len(row) == 13 and row[0] == "prio.bin" and row[1] == 50001 and row[2] == 0 and row[3] == 2
    assert row[4] == 0 and row[5] == 4 and row[6] is False
    for p, want in (("0", 0), ("3", 3), ("2", 2)):
        gui.ok(("action", "setprio"), ("hash", h), ("p", p), ("f", "0"))
        assert gui.call(("action", "getfiles"), ("hash", h))["files"][1][0][3] == want
    for bad in ((("p", "9"), ("f", "0")), (("p", "1"), ("f", "5")), (("p", "1"), ("f", "x"))):
        j = gui.call(("action", "setprio"), ("hash", h), *bad)
        assert "error" in j
    assert gui.call(("action", "getfiles"), ("hash", h))["files"][1][0][3] == 2
    # two hashes: two pairs in order
    h2, _, _ = add_stopped(gui, "prio2.bin")
    f = gui.call(("action", "getfiles"), ("hash", h), ("hash", UNKNOWN), ("hash", h2))["files"]
    assert [f[0], f[2]] == [h.upper(), h2.upper()] and len(f) == 4


# ---- adding ----

class TorrentServer:
    def __init__(self, files):
        seen = self.cookies = []

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                seen.append(self.headers.get("Cookie", ""))
                body = files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/x-bittorrent")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.port = free_port()
        self.srv = http.server.HTTPServer(("127.0.0.1", self.port), H)
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def test_add_url_http_and_cookie(gui):
    tbytes, h, _ = tiny("from-url.bin")
    t2, h2, _ = tiny("from-url-cookie.bin")
    srv = TorrentServer({"/t.torrent": tbytes, "/c.torrent": t2, "/page": b"<html>no torrent, no feed</html>"})
    try:
        gui.ok(("action", "add-url"), ("s", srv.url("/t.torrent")))
        wait_until(lambda: gui.row(h), 20, "URL torrent listed")
        gui.ok(("action", "add-url"), ("s", srv.url("/c.torrent") + ":COOKIE:uid=42;pass=abc"))
        wait_until(lambda: gui.row(h2), 20, "cookie URL torrent listed")
        assert any("uid=42" in c and "pass=abc" in c for c in srv.cookies), srv.cookies
        # add-unknown-url: a torrent is added; something neither a torrent
        # nor a feed is refused (feeds: test_ut_rss.py)
        gui.ok(("action", "add-unknown-url"), ("s", srv.url("/t.torrent")))   # already there: nothing changes
        j = gui.call(("action", "add-unknown-url"), ("s", srv.url("/page")))
        assert "neither a torrent nor an RSS feed" in j["error"]
    finally:
        srv.close()


def test_add_magnet_listed_at_once(gui):
    mag = "magnet:?xt=urn:btih:%s&dn=Ubuntu+11+10+Alternate+Amd64+Iso" % MAGNET_HEX
    gui.ok(("action", "add-url"), ("s", mag))
    r = gui.row(MAGNET_HEX)
    assert r and r[2] == "Ubuntu 11 10 Alternate Amd64 Iso" and r[4] == 0
    gui.ok(("action", "removetorrent"), ("hash", MAGNET_HEX))


def test_add_path_rules(gui, td):
    tbytes, h, _ = tiny("path-rules.bin")
    before = set(gui.rows())
    for params in ((("path", "../escape"),), (("path", "a/../../b"),), (("path", "/abs/dir"),),
                   (("download_dir", "9"),), (("download_dir", "x"),)):
        j = gui.add_file(tbytes, *params)
        assert "error" in j, params
        j = gui.call(("action", "add-url"), ("s", "magnet:?xt=urn:btih:" + UNKNOWN), *params)
        assert "error" in j, params
    assert set(gui.rows()) == before
    gui.ok(("action", "add-url"), ("s", "magnet:?xt=urn:btih:" + PATH_HEX), ("download_dir", "1"), ("path", "sub/dir"))
    assert gui.row(PATH_HEX)[26] == os.path.join(td.extra_dir, "sub/dir")
    gui.ok(("action", "remove"), ("hash", PATH_HEX))
    j = gui.add_file(tbytes, ("download_dir", "0"), ("path", "sonarr"))
    assert "error" not in j
    assert gui.row(h)[26] == os.path.join(td.save_path, "sonarr")


def test_add_file_multipart(gui):
    tbytes, h, _ = tiny("multipart.bin")
    j = gui.add_file(tbytes, ("path", ""))               # Sonarr sends path= empty
    assert "error" not in j
    assert re.fullmatch(r'\{"build":\d+\}', json.dumps(j, separators=(",", ":")))
    assert gui.row(h)[2] == "multipart.bin"
    assert "error" not in gui.add_file(tbytes)             # already there: nothing changes
    j = gui.add_file(b"not a torrent")
    assert "error" in j
    r = gui.raw([("action", "add-file")], method="POST", files={"other": ("x", b"d4:infoe")})
    assert r.status_code == 200 and "error" in r.json()


def test_list_dirs_getversion(gui, td):
    dirs = gui.call(("action", "list-dirs"))["download-dirs"]
    assert dirs[0]["path"] == td.save_path and dirs[1]["path"] == td.extra_dir
    assert all(type(d["available"]) is int and d["available"] >= 0 for d in dirs)
    v = gui.call(("action", "getversion"))["version"]
    for k in ("product_code", "ui_version", "engine_version", "major_version", "minor_version", "user_agent",
              "version_date", "device_id", "peer_id", "tiny_version", "features", "name"):
        assert k in v, k
    assert v["product_code"] == "server" and isinstance(v["engine_version"], int)


def test_malformed_changes_nothing(gui):
    h, _, _ = add_stopped(gui, "malformed.bin")
    before = gui.rows()
    r = gui.raw([("action", "start"), ("hash", "%zz"), ("hash", "\x00" + h)])
    assert r.status_code == 200
    assert gui.rows()[h.upper()][1] == 136
    j = gui.call(("action", "add-url"))
    assert "error" in j
    j = gui.call(("action", "add-url"), ("s", "ftp://127.0.0.1/x"))
    assert "error" in j
    # more parameters than a request may carry: refused (MHD drops such a
    # request line before any handler runs; ut_gui's own bound is fuzzed)
    try:
        r = gui.raw([("action", "start"), ("hash", h)] + [("f", "1")] * 3000)
        assert r.status_code in (400, 414, 431)
    except requests.ConnectionError:
        pass
    assert gui.rows()[h.upper()][1] == 136
    assert set(gui.rows()) == set(before)


# ---- a real peer ----

def test_files_props_peers_with_a_peer(procs, tmp_path):
    size = 4 * 1024 * 1024
    payload = os.urandom(size)
    info = {"name": "peered.bin", "piece length": PL * 4, "length": size, "pieces": piece_hashes(payload, PL * 4)}
    tbytes, h = make_torrent(info, announce="http://127.0.0.1:9/announce")
    seeder = procs.add(Torrentd(str(tmp_path / "seed"), SEED_IP)).start()
    leecher = procs.add(Torrentd(str(tmp_path / "leech"), LEECH_IP)).start()
    os.makedirs(seeder.save_path, exist_ok=True)
    with open(os.path.join(seeder.save_path, "peered.bin"), "wb") as f:
        f.write(payload)
    gs, gl = Gui(seeder), Gui(leecher)
    gs.get_token()
    gl.get_token()
    gs.add_file(tbytes)
    wait_until(lambda: (gs.row(h) or [0] * 5)[4] == 1000, 30, "seeder complete")
    gl.add_file(tbytes)
    wait_until(lambda: gl.row(h), 10, "leecher listed")
    # slow enough to watch the connection
    gl.ok(("action", "setprops"), ("hash", h), ("s", "dlrate"), ("v", "65536"))
    leecher.add_peers(h, [seeder.peer_addr])

    def peers():
        p = gl.call(("action", "getpeers"), ("hash", h))["peers"]
        return p[1] if p[0] == h.upper() and p[1] else None
    ps = wait_until(peers, 30, "the seeder in getpeers")
    row = ps[0]
    assert len(row) == 22
    assert row[1] == SEED_IP and row[4] == seeder.listen_port and row[7] == 1000
    for i in (3, 4, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21):
        assert type(row[i]) is int, (i, row)
    wait_until(lambda: gl.row(h)[14] >= 1 and gl.row(h)[9] > 0, 30, "a connected seed downloading")
    files = gl.call(("action", "getfiles"), ("hash", h))["files"]
    wait_until(lambda: gl.call(("action", "getfiles"), ("hash", h))["files"][1][0][2] > 0, 30, "bytes arrive")
    assert files[1][0][:2] == ["peered.bin", size]
    props = gl.call(("action", "getprops"), ("hash", h))["props"]
    assert len(props) == 1 and props[0]["hash"] == h.upper() and props[0]["dlrate"] == 65536
    assert props[0]["trackers"] == "http://127.0.0.1:9/announce"
    for k in ("ulrate", "superseed", "dht", "pex", "seed_override", "seed_ratio", "seed_time", "ulslots"):
        assert type(props[0][k]) is int, k
    # let it finish: the seeder's ratio is per mil of its upload
    gl.ok(("action", "setprops"), ("hash", h), ("s", "dlrate"), ("v", "0"))
    wait_until(lambda: gl.row(h)[4] == 1000, 60, "leecher complete")
    r = wait_until(lambda: (lambda x: x if x[6] >= size else None)(gs.row(h)), 30, "seeder uploaded")
    assert r[7] == r[6] * 1000 // size or abs(r[7] - r[6] * 1000 // size) <= 1


def test_multifile_names_relative_to_the_torrent_folder(gui):
    a, b = os.urandom(20000), os.urandom(30000)
    info = {"name": "multi-ut", "piece length": PL,
            "files": [{"length": len(a), "path": ["a.bin"]}, {"length": len(b), "path": ["sub", "b.bin"]}],
            "pieces": piece_hashes(a + b, PL)}
    tbytes, h = make_torrent(info, announce="http://127.0.0.1:9/announce")
    gui.add_file(tbytes)
    f = gui.call(("action", "getfiles"), ("hash", h))["files"]
    assert [r[0] for r in f[1]] == ["a.bin", "sub/b.bin"]
    assert [r[1] for r in f[1]] == [20000, 30000]
    assert f[1][1][4] == 20000 // PL          # first piece of the second file
    gui.ok(("action", "setprio"), ("hash", h), ("p", "0"), ("f", "1"), ("f", "0"))
    assert [r[3] for r in gui.call(("action", "getfiles"), ("hash", h))["files"][1]] == [0, 0]
    assert gui.row(h)[3] == 0               # size: the selected files
    gui.ok(("action", "removetorrent"), ("hash", h))


def test_same_facts_as_v2(gui, td):
    """The torrents seen through /gui/ and through API v2: name, size,
    progress, label/category, ratio, stopped or not."""
    rows = gui.rows()
    infos = td.get("/api/v2/torrents/info").json()
    assert len(infos) == len(rows) and infos
    for t in infos:
        r = rows[t["hash"].upper()]
        assert r[2] == t["name"] and r[3] == t["size"] and r[11] == t["category"]
        assert r[4] == int(t["progress"] * 1000 + 1e-9) or t["state"].startswith("checking")
        assert r[18] == t["amount_left"] and r[5] == t["downloaded"] and r[6] == t["uploaded"]
        assert r[7] == -1 if t["ratio"] == -1 else abs(r[7] - t["ratio"] * 1000) <= 1   # per mil, floored
        assert (r[1] == 136) == t["state"].startswith("stopped"), (r[1], t["state"])
        assert r[26] == t["save_path"] or r[26] == t.get("download_path")
        assert r[23] == t["added_on"]
