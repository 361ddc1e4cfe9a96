"""A real API v1 client, unchanged: the npm package qbittorrent-api 1.0.0
against torrentd's qBittorrent API v1 (web/api/qbt_v1.c).

clients/qbtapi_client.mjs calls every method the package offers, as an
application does (qbt.connect(host, user, password), callbacks), and reads
the result back twice: through the package and through API v2 with a
separate session. The scenario runs once per module; each test below checks
one part of its summary against the daemon's state (and the disk), so one
incompatibility fails one test. ../shared/docs/clients-wave2.md §2.5 (what
the package sends: `hash` per torrent for pause/resume/recheck/addTrackers/
setFilePrio, `hashes` '|'-joined for group commands, POST even for the
getters, multipart upload with `label`, `urls` plus a `cookie` part).

Node.js and tests/integration/clients/node_modules are installed by
scripts/deps.sh; without them these tests fail, they do not skip.
"""
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import threading

import pytest

from conftest import LEECH_IP
from tdlib import HERE, PASSWORD, USER, Torrentd, make_torrent

CLIENT_DIR = os.path.join(HERE, "clients")
PL = 16384
TRACKER = "http://127.0.0.1:9/announce"
PAUSED = ("pausedUP", "pausedDL")


def _write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def _pieces(payload):
    return b"".join(hashlib.sha1(payload[i:i + PL]).digest() for i in range(0, len(payload), PL))


def _single(name, size):
    return make_torrent({"name": name, "piece length": PL, "length": size, "pieces": _pieces(os.urandom(size))},
                        announce=TRACKER)


def _node():
    node = shutil.which("node")
    assert node, "node not found: run scripts/deps.sh - this test must not skip"
    assert os.path.isdir(os.path.join(CLIENT_DIR, "node_modules", "qbittorrent-api")), \
        "qbittorrent-api missing: run scripts/deps.sh (npm ci --prefix tests/integration/clients)"
    return node


def _cookie_server(tbytes):
    """Serves tbytes only to a request carrying the cookie auth=yes."""
    seen = []

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.headers.get("Cookie", ""))
            if "auth=yes" not in self.headers.get("Cookie", ""):
                self.send_response(403)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/x-bittorrent")
            self.send_header("Content-Length", str(len(tbytes)))
            self.end_headers()
            self.wfile.write(tbytes)

        def log_message(self, *a):
            pass

    srv = http.server.HTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, seen


class Run:
    """The scenario's inputs and the client's summary."""


@pytest.fixture(scope="module")
def run(module_procs, tmp_path_factory):
    d = str(tmp_path_factory.mktemp("qbtapi"))
    td = module_procs.add(Torrentd(os.path.join(d, "td"), LEECH_IP)).start()
    td.set_prefs({"queueing_enabled": True, "max_active_downloads": 10, "max_active_torrents": 20})
    r = Run()
    r.td, r.save = td, os.path.join(d, "save")
    # A: two files in a folder, data on disk -> checks to 100 %
    r.a1, r.a2 = os.urandom(40000), os.urandom(30001)
    _write(os.path.join(r.save, "qa-complete", "one.bin"), r.a1)
    _write(os.path.join(r.save, "qa-complete", "sub", "two.bin"), r.a2)
    r.size_a = len(r.a1) + len(r.a2)
    ta, r.ha = make_torrent({"name": "qa-complete", "piece length": PL, "pieces": _pieces(r.a1 + r.a2),
                             "files": [{"length": len(r.a1), "path": ["one.bin"]},
                                       {"length": len(r.a2), "path": ["sub", "two.bin"]}]},
                            announce=TRACKER)
    tb, r.hb = _single("qa-incomplete.bin", 50001)
    tc, r.hc = _single("qa-queued.bin", 20000)
    tu, r.hu = _single("qa-url.bin", 30000)
    r.hm = "0123456789abcdef0123456789abcdef01234567"
    paths = [os.path.join(d, n) for n in ("a.torrent", "b.torrent", "c.torrent")]
    for path, data in zip(paths, (ta, tb, tc)):
        _write(path, data)
    srv, r.cookies_seen = _cookie_server(tu)
    host = "127.0.0.1:%d" % srv.server_address[1]
    try:
        p = subprocess.run(
            [_node(), os.path.join(CLIENT_DIR, "qbtapi_client.mjs"), "--base-url", td.base,
             "--username", USER, "--password", PASSWORD,
             "--complete", paths[0], "--hash-complete", r.ha, "--incomplete", paths[1], "--hash-incomplete", r.hb,
             "--queued", paths[2], "--hash-queued", r.hc, "--url-torrent", "http://%s/qa-url.torrent" % host,
             "--url-host", host, "--hash-url", r.hu, "--magnet-hash", r.hm, "--save-path", r.save,
             "--deadline", "100"],
            cwd=CLIENT_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=120)
    finally:
        srv.shutdown()
    out = p.stdout.decode(errors="replace").strip()
    err = p.stderr.decode(errors="replace")
    try:
        r.s = json.loads(out.splitlines()[-1])
    except (ValueError, IndexError):
        pytest.fail("qbtapi_client.mjs printed no JSON (rc=%d)\nstdout:\n%s\nstderr:\n%s"
                    % (p.returncode, out[-3000:], err[-3000:]))
    print("qbtapi_client.mjs summary:", json.dumps(r.s, indent=1))   # shown when a test fails
    if p.returncode != 0 or not r.s.get("ok"):
        pytest.fail("qbittorrent-api failed at step %r: %s\nstderr:\n%s"
                    % (r.s.get("step"), r.s.get("error"), err[-2000:]))
    return r



def test_login_versions_prefs(run):
    s = run.s
    # 4.x: a wrong password is 200 "Fails." (the package only looks at the
    # status, so it goes on); the next authenticated call is refused
    assert s["badPasswordTransferInfo"] == "Forbidden"
    assert s["badPasswordVersion"] == "v4.1.9"          # /version/* is public
    assert (s["version"], s["api"], s["apiMin"]) == ("v4.1.9", 24, 23)
    p = s["prefs"]
    assert p["after"] == p["v2after"] == p["before"] + 2 and p["restored"] == p["before"] == 10
    assert run.td.prefs()["max_active_downloads"] == 10
    ti = s["transferInfo"]
    assert {"dl_info_speed", "dl_info_data", "up_info_speed", "up_info_data", "dl_rate_limit",
            "up_rate_limit", "dht_nodes", "connection_status"} <= set(ti)


def test_global_and_alternative_limits(run):
    g = run.s["globalLimits"]
    assert (g["dlBefore"], g["upBefore"]) == (0, 0)
    assert (g["dl"], g["up"]) == (g["v2dl"], g["v2up"]) == (204800, 102400)
    assert (g["dlAfter"], g["upAfter"]) == (0, 0)
    a = run.s["altSpeed"]
    assert (a["before"], a["toggled"], a["v2toggled"], a["after"]) == (False, True, 1, False)
    assert run.td.get("/api/v2/transfer/speedLimitsMode").text == "0"


def test_adds(run):
    s = run.s
    c = s["complete"]
    assert c == s["completeV2"]
    assert (c["hash"], c["name"], c["size"], c["progress"], c["category"]) == \
        (run.ha, "qa-complete", run.size_a, 1, "qa-tv")         # upload's `label` is the category
    assert c["state"] in ("stalledUP", "uploading", "queuedUP")
    assert os.path.normpath(c["save_path"]) == os.path.normpath(run.save)
    i = s["incomplete"]        # a readable stream: the file name is the stream's path
    assert (i["hash"], i["size"], i["progress"], i["category"]) == (run.hb, 50001, 0, "")
    assert os.path.normpath(i["save_path"]) == os.path.normpath(run.save)
    q = s["queued"]            # no save path: the default
    assert q["hash"] == run.hc and os.path.normpath(q["save_path"]) == os.path.normpath(run.td.save_path)
    u = s["fromUrl"]           # command/download with the cookie part the package sends
    assert (u["hash"], u["name"], u["category"]) == (run.hu, "qa-url.bin", "qa-url")
    assert any("auth=yes" in ck and "from=qbittorrent-api" in ck for ck in run.cookies_seen), run.cookies_seen
    assert "qa-url" in run.td.get("/api/v2/torrents/categories").json()


def test_magnet_add_fails_inside_the_package(run):
    """qbittorrent-api 1.0.0 cannot add a magnet: it puts an undefined
    `cookie` value into its multipart form and form-data throws before the
    request is sent. Nothing reaches torrentd (the test documents the
    package; if a fix ever ships, this fails and the magnet gets checked)."""
    assert "Cannot read properties of null" in run.s["magnetError"]
    assert run.s["magnetListed"] is False


def test_lists_filters_search(run):
    L, ha, hb, hc, hu = run.s["lists"], run.ha, run.hb, run.hc, run.hu
    assert L["all"] == L["expectAll"] == sorted([ha, hb, hc, hu])
    assert L["states"][ha] in ("stalledUP", "uploading")
    assert {L["states"][h] for h in (hb, hc, hu)} <= {"stalledDL", "downloading", "queuedDL"}
    assert L["downloading"] == sorted([hb, hc, hu])
    # seeding: filter=completed, kept by the package when stalledUP/uploading
    assert L["seeding"] == L["completed"] == [ha]
    assert L["resumed"] == L["all"] and L["paused"] == []
    assert L["active"] == [] and L["inactive"] == L["all"]    # nobody transfers anything
    assert L["queued"] == [] and L["errored"] == []
    assert L["allLabelTv"] == [ha] and L["downloadingLabelTv"] == []
    assert L["sortedByNameReverse"] == ["qa-url.bin", "qa-queued.bin", "qa-incomplete.bin", "qa-complete"]
    assert L["limitOffset"] == ["qa-incomplete.bin", "qa-queued.bin"]
    assert L["searchString"] == L["all"]
    assert L["searchRegExp"] == sorted([ha, hc]) and L["searchPaused"] == []


def test_details_trackers_webseeds_files(run):
    s = run.s
    d = s["details"]
    assert d["save_path"].rstrip("/") == run.save.rstrip("/")
    assert d["total_size"] == run.size_a and d["pieces_num"] == d["pieces_have"] == -(-run.size_a // PL)
    assert d["piece_size"] == PL
    assert [t["url"] for t in s["trackers"]] == [TRACKER]     # 4.1: no DHT/PeX/LSD rows
    assert s["webseeds"] == []
    assert [(f["name"], f["size"], f["progress"], f["priority"]) for f in s["files"]] == [
        ("qa-complete/one.bin", len(run.a1), 1, 1), ("qa-complete/sub/two.bin", len(run.a2), 1, 1)]
    assert s["detailsUnknown"] == "Not Found"
    # addTrackers: `urls` newline-separated, a URL with & intact
    assert s["trackersAfter"] == [TRACKER, "http://127.0.0.1:10/announce", "http://127.0.0.1:11/announce?a=1&b=2"]


def test_pause_resume_recheck(run):
    s = run.s
    # 4.x names through v1, 5.x names through v2: the same state
    assert s["afterPause"] == {"A": "pausedUP", "B": "pausedDL", "v2A": "stoppedUP", "v2B": "stoppedDL"}
    assert s["afterResume"]["A"] in ("stalledUP", "uploading") and s["afterResume"]["B"] == "stalledDL"
    assert set(s["afterPauseAll"]) == set(s["pausedAfterPauseAll"]) == {run.ha, run.hb, run.hc, run.hu}
    assert s["afterPauseAll"][run.ha] == "pausedUP"
    assert {s["afterPauseAll"][h] for h in (run.hb, run.hc, run.hu)} == {"pausedDL"}
    assert not any(v.startswith("paused") for v in s["afterResumeAll"].values())
    assert s["afterRecheck"]["progress"] == 1 and s["afterRecheck"]["state"] in ("stalledUP", "uploading")


def test_file_priorities(run):
    s = run.s
    assert s["filePrioSkip"] == s["filePrioSkipV2"] == [1, 0]
    assert s["filePrioMax"] == [1, 7]
    assert s["filePrioNormal"] == [1, 1]


def test_queue_moves(run):
    q = run.s["queue"]
    assert q["start"] == {"B": 1, "C": 2}
    assert q["bottomB"] == {"C": 1, "B": 3}       # below the URL torrent (3 before)
    assert q["topB"] == {"B": 1, "C": 2}
    assert q["downB"] == {"C": 1, "B": 2}
    assert q["upB"] == {"B": 1, "C": 2}


def test_torrent_limits_label_toggles_force(run):
    s, ha, hb = run.s, run.ha, run.hb
    assert s["dlLimit"] == {ha: 51200} and s["upLimit"] == {ha: 25600} and s["dlLimitB"] == {hb: 51200}
    assert s["limitsV2"] == {"A": [51200, 25600], "B": 51200}
    assert s["labelB"] == s["labelCV2"] == "qa-tv"
    assert s["labelCCleared"] == ""
    # 4.1: 409 "Incorrect category name", nothing changed
    assert s["setLabelUnknown"] == "Incorrect category name" and s["labelCAfterUnknown"] == ""
    assert s["toggled"] == {"seq_dl": True, "f_l_piece_prio": True} and s["toggledBack"] is False
    f = s["forced"]
    assert f["force_start"] is True and f["state"] in ("forcedDL", "stalledDL") and s["unforced"] is False


def test_delete_and_delete_data(run):
    s = run.s
    assert s["left"] == s["leftV2"] == [run.hb]
    assert [t["hash"] for t in run.td.info()] == [run.hb]
    assert not os.path.exists(os.path.join(run.save, "qa-complete")), "deletePerm left A's data"
    t = run.td.torrent(run.hb)
    assert t["category"] == "qa-tv" and t["dl_limit"] == 51200
