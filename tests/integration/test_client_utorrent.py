"""A real µTorrent WebUI client, unchanged: the npm package @ctrl/utorrent
6.6.2 against torrentd's /gui/ (web/api/ut_gui*.c).

clients/utorrent_client.mjs first repeats the package's own test cases (its
test/index.spec.ts, which the npm tarball does not ship and which is not
copied here; ../shared/docs/clients-wave2.md §1.1 lists them) against
torrentd, then calls every other method the package offers. Each result is
read back through the package and, apart, through API v2. The scenario runs
once per module; each test below checks one part of its summary against the
daemon's state (and the disk).

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
FIXTURE_NAME = "td-fixture-18.04.1-desktop-amd64.iso"


def _write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def _pieces(payload):
    return b"".join(hashlib.sha1(payload[i:i + PL]).digest() for i in range(0, len(payload), PL))


def _single(name, data):
    return make_torrent({"name": name, "piece length": PL, "length": len(data), "pieces": _pieces(data)},
                        announce=TRACKER)


def _node():
    node = shutil.which("node")
    assert node, "node not found: run scripts/deps.sh - this test must not skip"
    assert os.path.isdir(os.path.join(CLIENT_DIR, "node_modules", "@ctrl", "utorrent")), \
        "@ctrl/utorrent missing: run scripts/deps.sh (npm ci --prefix tests/integration/clients)"
    return node


def _server(tbytes):
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/x-bittorrent")
            self.send_header("Content-Length", str(len(tbytes)))
            self.end_headers()
            self.wfile.write(tbytes)

        def log_message(self, *a):
            pass

    srv = http.server.HTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


class Run:
    """The scenario's inputs and the client's summary."""


@pytest.fixture(scope="module")
def run(module_procs, tmp_path_factory):
    d = str(tmp_path_factory.mktemp("utorrent"))
    td = module_procs.add(Torrentd(os.path.join(d, "td"), LEECH_IP)).start()
    td.set_prefs({"queueing_enabled": True})
    r = Run()
    r.td = td
    r.fixture_size = 3 * PL + 123
    tf, r.hf = _single(FIXTURE_NAME, os.urandom(r.fixture_size))
    # complete: its data already in the default save path (add-file's download_dir=0)
    r.c1 = os.urandom(50000)
    _write(os.path.join(td.save_path, "ut-complete.bin"), r.c1)
    tc, r.hc = _single("ut-complete.bin", r.c1)
    tu, r.hu = _single("ut-url.bin", os.urandom(30000))
    paths = [os.path.join(d, n) for n in ("fixture.torrent", "complete.torrent")]
    for path, data in zip(paths, (tf, tc)):
        _write(path, data)
    srv = _server(tu)
    try:
        p = subprocess.run(
            [_node(), os.path.join(CLIENT_DIR, "utorrent_client.mjs"), "--base-url", td.base,
             "--username", USER, "--password", PASSWORD, "--fixture", paths[0], "--fixture-name", FIXTURE_NAME,
             "--complete", paths[1], "--hash-complete", r.hc,
             "--url-torrent", "http://127.0.0.1:%d/ut-url.torrent" % srv.server_address[1], "--hash-url", r.hu,
             "--deadline", "100"],
            cwd=CLIENT_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=120)
    finally:
        srv.shutdown()
    out = p.stdout.decode(errors="replace").strip()
    err = p.stderr.decode(errors="replace")
    try:
        r.s = json.loads(out.splitlines()[-1])
    except (ValueError, IndexError):
        pytest.fail("utorrent_client.mjs printed no JSON (rc=%d)\nstdout:\n%s\nstderr:\n%s"
                    % (p.returncode, out[-3000:], err[-3000:]))
    print("utorrent_client.mjs summary:", json.dumps(r.s, indent=1))   # shown when a test fails
    if p.returncode != 0 or not r.s.get("ok"):
        pytest.fail("@ctrl/utorrent failed at step %r: %s\nstderr:\n%s"
                    % (r.s.get("step"), r.s.get("error"), err[-2000:]))
    return r



# ---- part 1: the package's own test cases, against torrentd ----

def test_spec_connect_add_list_settings(run):
    sp = run.s["spec"]
    assert sp["tokenLength"] > 0                            # "should be instantiated"
    assert sp["setCookie"].startswith("GUID=")
    assert sp["afterAddBuffer"] == 1 and sp["afterAddBase64"] == 1
    assert sp["settingsIsArray"] is True and sp["settingsBuild"] >= 25406
    assert sp["listLength"] == 1 and sp["listName"] == FIXTURE_NAME
    assert sp["listBuild"] >= 25406 and isinstance(sp["listTorrentc"], str)
    row = sp["listRow"]
    assert row[0] == run.hf.upper() and row[3] == run.fixture_size and len(row) >= 27


def test_spec_queue_and_remove(run):
    sp = run.s["spec"]
    assert [m for m, _ in sp["queue"]] == ["queueUp", "queueDown", "queueTop", "queueBottom"]
    assert all(b >= 25406 for _, b in sp["queue"])          # each answered {"build": N}
    assert sp["afterRemove"] == 0


def test_spec_normalized_torrent(run):
    n = run.s["spec"]["normalized"]
    for k in ("connectedPeers", "connectedSeeds", "downloadSpeed", "uploadSpeed", "totalDownloaded",
              "totalUploaded", "totalPeers", "totalSeeds", "ratio", "progress"):
        assert n[k] == 0, (k, n[k])
    assert n["label"] == "" and n["isCompleted"] is False
    assert n["queuePosition"] == 1                          # the upstream case's one assertion on order
    assert n["id"] == run.hf and n["name"] == FIXTURE_NAME
    assert n["totalSize"] == n["totalSelected"] == run.fixture_size
    assert os.path.normpath(n["savePath"]) == os.path.normpath(run.td.save_path)
    assert n["state"] in ("checking", "downloading")


def test_spec_label_and_magnet(run):
    sp = run.s["spec"]
    # setProps sends s=label&v=test BEFORE hash=: the pairs belong to that hash
    assert sp["normalizedLabel"] == sp["normalizedLabelV2"] == "test"
    assert sp["magnetName"] == "Ubuntu 11 10 Alternate Amd64 Iso"   # the dn, before any metadata
    assert sp["magnetId"] == "b84e74c1a73c4f6e30b8c7dc2a9f1d2f1e5d0a11"


# ---- part 2: every other call ----

def test_version_and_bad_password(run):
    v = run.s["version"]
    assert v["build"] >= 25406 and isinstance(v["version"], dict)
    assert {"engine_version", "major_version", "minor_version", "product_code", "ui_version"} <= set(v["version"])
    assert run.s["badPassword"]["status"] == 401


def test_start_pause_stop_force(run):
    s = run.s
    a = s["addedPaused"]        # normalizedAddTorrent(startPaused, label): pause right after the add
    assert a["id"] == run.hc and a["label"] == "ut-tv" and a["state"] in ("paused", "checking")
    assert s["addedPausedV2"]["category"] == "ut-tv"
    u = s["afterUnpause"]
    assert u["state"] == "seeding" and u["isCompleted"] is True and u["progress"] == 100
    assert u["raw"][1] & 1 and u["raw"][4] == 1000 and u["raw"][18] == 0 and u["raw"][21] == "Seeding"
    # torrentd has one stop: pause is a stop (status 136 = loaded + checked)
    p = s["afterPause"]
    assert p["v2"] == "stoppedUP" and p["gui"]["state"] == "paused" and p["gui"]["raw"][1] == 136
    assert s["afterResume"]["gui"] == "seeding" and s["afterResume"]["v2"] in ("stalledUP", "uploading")
    assert s["afterStop"] == {"status": 136, "v2": "stoppedUP"}
    # forcestart: started without queued (137, the official WebUI's [F])
    assert s["afterForce"]["status"] == 137
    assert s["afterForce"]["v2"]["force_start"] is True and s["afterForce"]["v2"]["state"] == "forcedUP"


def test_setprops_add_url_all_data(run):
    s = run.s
    assert s["setPropsLabel"] == {"gui": "ut-movies", "v2": "ut-movies"}
    assert s["addUrl"]["build"] >= 25406
    u = s["fromUrl"]
    assert u["row"][0] == run.hu.upper() and u["row"][2] == "ut-url.bin" and u["row"][3] == 30000
    a = s["allData"]
    assert a["ids"] == sorted([run.hc, run.hu])
    # every label torrentd knows, with its torrent count
    assert dict(a["labels"]) == {"test": 0, "ut-tv": 0, "ut-movies": 1}
    assert set(run.td.get("/api/v2/torrents/categories").json()) == {"test", "ut-tv", "ut-movies"}
    assert {"build", "label", "torrents", "torrentc", "rssfeeds", "rssfilters"} <= set(a["rawKeys"])
    assert s["getUnknown"]["message"] == "Torrent not found"


def test_rss_calls_answer(run):
    """rssUpdate(url, -1, alias) adds the feed (its rss_ident is the listed
    id, "alias|url" its [6]) and rssRemove(id), which sends feedid=, removes
    it (web/api/ut_gui_rss.c)."""
    s = run.s
    up, rm = s["rssUpdate"]["value"], s["rssRemove"]["value"]
    assert up["build"] >= 25406 and rm["build"] >= 25406
    assert "error" not in up and "error" not in rm, (up, rm)
    feed = [f for f in s["rssfeeds"] if "feed.xml" in str(f[6])]
    assert len(feed) == 1 and feed[0][0] == up["rss_ident"]
    assert feed[0][6] == "ut-feed|http://127.0.0.1:9/feed.xml"
    assert s["rssfeedsAfter"] == []


def test_set_setting(run):
    """setSetting([[name, value], ...]): repeated s/v pairs; getsettings
    reads them back as strings, API v2 sees the same limits."""
    s = run.s
    assert "value" in s["setSetting"] and s["setSetting"]["value"]["build"] >= 25406
    # µTorrent's rates are KB/s; values are strings in getsettings
    assert s["settingAfter"][0][2] == "77" and s["settingAfter"][1][2] == "99"
    assert s["settingV2"] == [77 * 1024, 99 * 1024]


def test_state_token_session(run):
    s = run.s
    assert s["fromStateSameToken"] is True and s["fromStateList"] == 2   # exportState/createFromState
    # a stale token: 400 "invalid request" (the package does not reconnect by
    # itself; ofetch fails parsing the body), then resetSession() reconnects
    assert "invalid request" in s["staleToken"]["message"]
    assert s["afterResetSession"] == 2
    assert s["afterLogoutList"] == 2 and s["newToken"] > 0


def test_remove_with_data(run):
    s = run.s
    assert s["removeData"]["build"] >= 25406
    assert s["left"] == s["leftV2"] == 0
    assert not os.path.exists(os.path.join(run.td.save_path, "ut-complete.bin")), "removedatatorrent left data"
