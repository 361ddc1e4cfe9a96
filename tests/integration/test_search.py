"""Search with qBittorrent's plugins (src/search, web/api/qbt_v2_search.c):
local plugins written here (a fast one, a slow one whose "Running" is
observable, one that crashes, one that prints garbage and very long and
split lines, one that never exits), installed from a path and from a
loopback URL, updated from a loopback update server, enabled and disabled
(persisted), results paged as qBittorrent pages them, at most 5 searches
at once, runs killed with their process group at stop, at the timeout and
at shutdown, downloadTorrent of a magnet and of a plugin's .torrent, and
the "no python" 409."""
import http.server
import os
import signal
import socketserver
import threading
import time

import pytest

from autolib import restart_with, small_torrent
from conftest import LEECH_IP
from tdlib import Torrentd, wait_until

SITE = "http://fast.example"

PLUGIN = '''#VERSION: %(version)s
# AUTHORS: torrentd tests
import os
import sys
import time

import helpers
from novaprinter import prettyPrinter


class %(name)s(object):
    url = "%(url)s"
    name = "%(full)s"
    supported_categories = {"all": "0", "tv": "2", "movies": "1"}

    def search(self, what, cat="all"):
%(body)s
'''

FAST_BODY = '''        for i in range(10):
            prettyPrinter({"link": "http://fast.example/%d.torrent" % i,
                           "name": "Result|%d %s" % (i, what), "size": "1.5 KB", "seeds": i,
                           "leech": 100 - i, "engine_url": self.url,
                           "desc_link": "http://fast.example/d/%d" % i, "pub_date": 1700000000 + i})
'''

# Prints one result, then waits (bounded) for a file the test creates.
SLOW_BODY = '''        with open(os.path.join(%(dir)r, "slow.%%d" %% os.getpid()), "w") as f:
            f.write("%%d %%d %%d" %% (os.getpid(), os.getpgid(0), os.getsid(0)))
        import resource
        cpu = resource.getrlimit(resource.RLIMIT_CPU)[0]
        mem = resource.getrlimit(resource.RLIMIT_AS)[0]
        prettyPrinter({"link": "magnet:?xt=urn:btih:" + "ab" * 20, "name": "limits %%d %%d" %% (cpu, mem),
                       "size": 5, "seeds": "x", "leech": -3, "engine_url": self.url})
        deadline = time.time() + 60
        while not os.path.exists(os.path.join(%(dir)r, "release")) and time.time() < deadline:
            time.sleep(0.05)
'''

CRASH_BODY = '''        prettyPrinter({"link": "http://c/1", "name": "before the crash", "size": 1, "seeds": 1,
                       "leech": 1, "engine_url": self.url})
        sys.stderr.write("crash plugin says goodbye\\n")
        sys.stderr.flush()
        os.abort()
'''

# Garbage, binary bytes, a line far over the daemon's bound, a result
# split over several writes, invalid UTF-8, and a last line without '\\n'
# (dropped, as qBittorrent drops it).
GARBAGE_BODY = '''        out = sys.stdout.buffer
        out.write(b"no separators here\\n\\x00\\x01|||\\n\\xff\\xfe|\\x00|x|y|z|w\\n")
        out.write(b"http://g/long|" + b"L" * (200 * 1024) + b"|1|1|1|x\\n")
        out.flush()
        for part in (b"http://g/split|spl", b"it name|12", b"34|5|6|http://garbage.example|http://g/d|99\\n"):
            out.write(part)
            out.flush()
            time.sleep(0.1)
        out.write(b"http://g/bad|bad \\xff\\xfe utf8 \\x00 nul|7|-5|abc|http://garbage.example\\n")
        out.write(b"http://g/last|no newline|1|1|1|http://garbage.example")
        out.flush()
'''

# Never exits, and leaves a child of its own behind (same process group).
HANG_BODY = '''        import subprocess
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1000)"])
        with open(os.path.join(%(dir)r, "hang.%%d" %% os.getpid()), "w") as f:
            f.write("%%d %%d" %% (os.getpid(), child.pid))
        prettyPrinter({"link": "http://h/1", "name": "hanging", "size": 1, "seeds": 1, "leech": 1,
                       "engine_url": self.url})
        while True:
            time.sleep(1)
'''

DL_PLUGIN_EXTRA = '''
    def download_torrent(self, url):
        print(helpers.download_file(url))
'''


def plugin_src(name, body, version="1.00", url=None, full=None, extra=""):
    return PLUGIN % {"name": name, "version": version, "url": url or "http://%s.example" % name,
                     "full": full or name.capitalize() + " Engine", "body": body} + extra


def write_plugin(workdir, name, src, fname=None):
    d = os.path.join(workdir, "plugins")
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, fname or name + ".py")
    with open(p, "w") as f:
        f.write(src)
    return p


class Served:
    """A loopback HTTP server for a dict path -> bytes (404 otherwise)."""

    def __init__(self):
        self.files = {}
        self.hits = []
        files, hits = self.files, self.hits

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                body = files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        socketserver.TCPServer.allow_reuse_address = True
        self.srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), H)
        self.port = self.srv.server_address[1]
        self.t = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.t.start()

    def url(self, path=""):
        return "http://127.0.0.1:%d/%s" % (self.port, path)

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


@pytest.fixture
def served(procs):
    s = Served()
    procs.on_close(s.close)
    return s


def start_td(workdir, procs, env=None):
    td = Torrentd(os.path.join(workdir, "td"), LEECH_IP)
    old = {}
    for k, v in (env or {}).items():
        old[k] = os.environ.get(k)
        os.environ[k] = v
    try:
        procs.add(td).start()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return td


def plugins(td):
    return {p["name"]: p for p in td.get("/api/v2/search/plugins").json()}


def install(td, *sources):
    td.post("/api/v2/search/installPlugin", sources="|".join(sources))


def log_messages(td):
    return [e["message"] for e in td.get("/api/v2/log/main").json()]


def wait_log(td, pred, what, timeout=20):
    wait_until(lambda: any(pred(m) for m in log_messages(td)), timeout, what, procs=[td])


def start(td, pattern="ubuntu", plugins="all", category="all", ok=(200,)):
    return td.req("POST", "/api/v2/search/start", ok=ok,
                  data={"pattern": pattern, "category": category, "plugins": plugins})


def status(td, sid):
    return td.get("/api/v2/search/status", id=sid).json()[0]


def wait_stopped(td, sid, timeout=30):
    wait_until(lambda: status(td, sid)["status"] == "Stopped", timeout, "search %d to stop" % sid, procs=[td])


def results(td, sid, **kw):
    return td.get("/api/v2/search/results", id=sid, **kw).json()


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
    except OSError:
        return False
    return st[st.rfind(")") + 2] != "Z"


def pids_of(d, prefix):
    out = []
    for n in sorted(os.listdir(d)):
        if n.startswith(prefix + "."):
            with open(os.path.join(d, n)) as f:
                out.append([int(x) for x in f.read().split()])
    return out


def test_fast_plugin_results_and_paging(workdir, procs):
    td = start_td(workdir, procs)
    assert td.get("/api/v2/search/plugins").json() == []
    install(td, write_plugin(workdir, "fast", plugin_src("fast", FAST_BODY, url=SITE, full="Fast Site")))
    p = plugins(td)["fast"]
    assert p == {"name": "fast", "version": "1.0", "fullName": "Fast Site", "url": SITE, "enabled": True,
                 "supportedCategories": [{"id": "all", "name": "All categories"},
                                         {"id": "movies", "name": "Movies"}, {"id": "tv", "name": "TV shows"}]}
    sid = start(td, pattern="big  buck", plugins="enabled").json()["id"]
    assert isinstance(sid, int) and sid > 0
    wait_stopped(td, sid)
    st = status(td, sid)
    assert st == {"id": sid, "status": "Stopped", "pattern": "big  buck", "category": "all",
                  "plugins": ["fast"], "total": 10}
    res = results(td, sid)
    assert res["status"] == "Stopped" and res["total"] == 10 and len(res["results"]) == 10
    r0 = res["results"][0]
    assert r0 == {"fileName": "Result 0 big%20%20buck", "fileUrl": "http://fast.example/0.torrent",
                  "fileSize": 1536, "nbSeeders": 0, "nbLeechers": 100, "engineName": "fast", "siteUrl": SITE,
                  "descrLink": "http://fast.example/d/0", "pubDate": 1700000000}
    names = [r["fileName"].split()[1] for r in res["results"]]
    assert names == [str(i) for i in range(10)]
    page = lambda **kw: [r["fileName"].split()[1] for r in results(td, sid, **kw)["results"]]  # noqa: E731
    assert page(limit=2, offset=1) == ["1", "2"]
    assert page(offset=-3) == ["7", "8", "9"]
    assert page(offset=-3, limit=1) == ["7"]
    assert page(offset=10) == []
    assert page(limit=0, offset=8) == ["8", "9"]
    assert page(limit=-5) == names
    assert page(offset="junk") == names        # QString::toInt: not a number is 0
    for off in (11, -11):
        r = td.req("GET", "/api/v2/search/results", ok=(409,), params={"id": sid, "offset": off})
        assert r.text == "Offset is out of range"
    assert results(td, sid, offset=-10)["total"] == 10
    # a category the plugin does not support: no results, still a clean stop
    sid2 = start(td, plugins="fast", category="books").json()["id"]
    wait_stopped(td, sid2)
    assert status(td, sid2)["total"] == 0
    # all jobs, in start order
    assert [j["id"] for j in td.get("/api/v2/search/status").json()] == [sid, sid2]
    assert [j["id"] for j in td.get("/api/v2/search/status", id=0).json()] == [sid, sid2]


def test_unknown_ids_and_delete(workdir, procs):
    td = start_td(workdir, procs)
    install(td, write_plugin(workdir, "fast", plugin_src("fast", FAST_BODY, url=SITE)))
    for path, method in (("stop", "POST"), ("delete", "POST"), ("results", "GET"), ("status", "GET")):
        kw = {"data": {"id": 12345}} if method == "POST" else {"params": {"id": 12345}}
        r = td.req(method, "/api/v2/search/" + path, ok=(404,), **kw)
        assert r.text == "Not Found"
    for path in ("stop", "delete", "results"):
        td.req("POST", "/api/v2/search/" + path, ok=(400,), data={})
    td.req("POST", "/api/v2/search/start", ok=(400,), data={"pattern": "x", "category": "all"})
    td.req("GET", "/api/v2/search/start", ok=(405,), params={"pattern": "x", "category": "all", "plugins": "all"})
    sid = start(td).json()["id"]
    wait_stopped(td, sid)
    td.post("/api/v2/search/delete", id=sid)
    td.req("GET", "/api/v2/search/status", ok=(404,), params={"id": sid})
    assert td.get("/api/v2/search/status").json() == []


def test_slow_running_limits_and_group(workdir, procs):
    td = start_td(workdir, procs)
    d = os.path.join(workdir, "marks")
    os.makedirs(d)
    install(td, write_plugin(workdir, "slow", plugin_src("slow", SLOW_BODY % {"dir": d})))
    sid = start(td, plugins="slow").json()["id"]
    wait_until(lambda: status(td, sid)["total"] == 1, 30, "the first result", procs=[td])
    st = status(td, sid)
    assert st["status"] == "Running"
    res = results(td, sid)
    assert res["status"] == "Running" and res["total"] == 1
    r = res["results"][0]
    # The runner capped its own CPU time and address space before importing the plugin.
    assert r["fileName"] == "limits 120 %d" % (1 << 30)
    assert r["nbSeeders"] == -1 and r["nbLeechers"] == -1 and r["fileSize"] == 5 and r["pubDate"] == -1
    assert r["engineName"] == "slow" and r["descrLink"] == ""
    # Its own session and process group, not the daemon's.
    (pid, pgid, sid_), = pids_of(d, "slow")
    assert pgid == pid and sid_ == pid and pgid != os.getpgid(td.pid)
    open(os.path.join(d, "release"), "w").close()
    wait_stopped(td, sid)
    assert status(td, sid)["total"] == 1


def test_five_concurrent(workdir, procs):
    td = start_td(workdir, procs)
    d = os.path.join(workdir, "marks")
    os.makedirs(d)
    install(td, write_plugin(workdir, "slow", plugin_src("slow", SLOW_BODY % {"dir": d})))
    ids = [start(td, pattern="q%d" % i, plugins="slow").json()["id"] for i in range(5)]
    assert len(set(ids)) == 5
    r = start(td, plugins="slow", ok=(409,))
    assert r.text == "Unable to create more than 5 concurrent searches."
    wait_until(lambda: len(pids_of(d, "slow")) == 5, 30, "five runs", procs=[td])
    pids = [p[0] for p in pids_of(d, "slow")]
    td.post("/api/v2/search/stop", id=ids[0])
    assert status(td, ids[0])["status"] == "Stopped"
    sid = start(td, plugins="slow").json()["id"]         # a slot is free again
    wait_until(lambda: len(pids_of(d, "slow")) == 6, 30, "the sixth run", procs=[td])
    assert start(td, plugins="slow", ok=(409,)).text == "Unable to create more than 5 concurrent searches."
    # delete of a running search kills it too
    td.post("/api/v2/search/delete", id=sid)
    open(os.path.join(d, "release"), "w").close()
    for i in ids[1:]:
        wait_stopped(td, i)
    wait_until(lambda: not any(alive(p) for p in pids), 10, "no run left", procs=[td])


def test_crash_and_garbage(workdir, procs):
    td = start_td(workdir, procs)
    install(td, write_plugin(workdir, "crash", plugin_src("crash", CRASH_BODY)),
            write_plugin(workdir, "garbage", plugin_src("garbage", GARBAGE_BODY, url="http://garbage.example")))
    assert sorted(plugins(td)) == ["crash", "garbage"]
    sid = start(td, plugins="crash").json()["id"]
    wait_stopped(td, sid)
    assert [r["fileName"] for r in results(td, sid)["results"]] == ["before the crash"]
    wait_log(td, lambda m: m.startswith("Error occurred in search engine. Search query: \"ubuntu\". Category: "
                                        "\"all\". Engines: \"crash\". Error: \"crash plugin says goodbye")
             or False, "the plugin's stderr logged")
    wait_log(td, lambda m: "Process crashed" in m, "the crash logged")

    sid = start(td, plugins="garbage").json()["id"]
    wait_stopped(td, sid)
    res = results(td, sid)["results"]
    by_url = {r["fileUrl"]: r for r in res}
    assert sorted(by_url) == ["http://g/bad", "http://g/split", "\ufffd\ufffd"], sorted(by_url)
    sp = by_url["http://g/split"]
    assert sp["fileName"] == "split name" and sp["fileSize"] == 1234 and sp["nbSeeders"] == 5
    assert sp["engineName"] == "garbage" and sp["pubDate"] == 99
    bad = by_url["http://g/bad"]
    assert bad["fileName"] == "bad \ufffd\ufffd utf8 \ufffd nul"
    assert bad["nbSeeders"] == -1 and bad["nbLeechers"] == -1 and bad["fileSize"] == 7
    # the binary line had six fields: it counts, with no plugin for its site
    junk = by_url["\ufffd\ufffd"]
    assert junk["fileName"] == "\ufffd" and junk["engineName"] == "" and junk["siteUrl"] == "w"
    assert junk["fileSize"] == 0 and junk["nbSeeders"] == -1 and junk["nbLeechers"] == -1
    wait_log(td, lambda m: "longer than" in m, "the long line reported")
    # the daemon is well
    td.get("/api/v2/app/version")


def test_stop_timeout_and_shutdown_kill_the_group(workdir, procs):
    td = start_td(workdir, procs, env={"TORRENTD_TEST_SEARCH_TIMEOUT_MS": "4000"})
    d = os.path.join(workdir, "marks")
    os.makedirs(d)
    install(td, write_plugin(workdir, "hang", plugin_src("hang", HANG_BODY % {"dir": d})))
    # stop
    sid = start(td, plugins="hang").json()["id"]
    wait_until(lambda: len(pids_of(d, "hang")) == 1, 30, "the run", procs=[td])
    (pid, child), = pids_of(d, "hang")
    assert alive(pid) and alive(child)
    td.post("/api/v2/search/stop", id=sid)
    assert status(td, sid)["status"] == "Stopped"
    wait_until(lambda: not alive(pid) and not alive(child), 10, "the group killed at stop", procs=[td])
    # timeout (the test hook: 4 s)
    t0 = time.monotonic()
    sid = start(td, plugins="hang").json()["id"]
    wait_until(lambda: len(pids_of(d, "hang")) == 2, 30, "the second run", procs=[td])
    pid, child = [p for p in pids_of(d, "hang") if p[0] != pid][0]
    wait_stopped(td, sid, timeout=30)
    assert time.monotonic() - t0 >= 3.5
    assert status(td, sid)["total"] == 1
    wait_until(lambda: not alive(pid) and not alive(child), 10, "the group killed at the timeout", procs=[td])
    # shutdown
    start(td, plugins="hang")
    wait_until(lambda: len(pids_of(d, "hang")) == 3, 30, "the third run", procs=[td])
    pid, child = [p for p in pids_of(d, "hang") if alive(p[0])][0]
    td.proc.send_signal(signal.SIGTERM)
    assert td.proc.wait(15) == 0
    assert "torrentd stopped" in td.log_text().decode(errors="replace")
    wait_until(lambda: not alive(pid) and not alive(child), 10, "the group killed at shutdown")


def test_install_uninstall_enable_roundtrip(workdir, procs, served):
    td = start_td(workdir, procs)
    fast = write_plugin(workdir, "fast", plugin_src("fast", FAST_BODY, url=SITE))
    install(td, fast)
    assert plugins(td)["fast"]["version"] == "1.0"
    # the same version again: refused, logged
    install(td, fast)
    wait_log(td, lambda m: m.startswith("Same or newer version of search plugin is already installed. Plugin name: "
                                        "\"fast\". Current version: 1.0. Incoming version: 1.0"), "refusal")
    # not a .py file
    install(td, write_plugin(workdir, "x", "print(1)\n", fname="x.txt"))
    wait_log(td, lambda m: "Unknown search engine plugin file format." in m, "the format refusal")
    # a plugin that does not load is rolled back (and the file removed)
    install(td, write_plugin(workdir, "broken", "#VERSION: 1.00\nraise SystemExit('no')\n"))
    assert "broken" not in plugins(td)
    assert not os.path.exists(os.path.join(td.profile, "nova3", "engines", "broken.py"))
    wait_log(td, lambda m: m == 'Search plugin installation failed. Plugin name: "broken"', "rollback logged")
    # a newer but broken version of an installed plugin: the old one comes back
    install(td, write_plugin(workdir, "fast", "#VERSION: 9.00\nimport nonexistent_module\n"))
    assert plugins(td)["fast"]["version"] == "1.0"
    # newer from an http URL (file: URLs work as paths)
    served.files["/p/fast.py"] = plugin_src("fast", FAST_BODY, version="1.50", url=SITE).encode()
    install(td, served.url("p/fast.py"))
    assert plugins(td)["fast"]["version"] == "1.50"
    wait_log(td, lambda m: m == 'Search plugin has been updated. Plugin name: "fast". Version: 1.50.', "update log")
    served.files["/p/other.py"] = plugin_src("other", FAST_BODY).encode()
    install(td, "file://" + write_plugin(workdir, "third", plugin_src("third", FAST_BODY)), served.url("p/other.py"),
            served.url("p/missing.py"))
    assert sorted(plugins(td)) == ["fast", "other", "third"]
    wait_log(td, lambda m: m.endswith("The remote content was not found at the server (404)"), "404 logged")
    # disable two, persisted
    td.post("/api/v2/search/enablePlugin", names="fast|third", enable="false")
    assert {n: p["enabled"] for n, p in plugins(td).items()} == {"fast": False, "other": True, "third": False}
    sid = start(td, plugins="enabled").json()["id"]
    assert status(td, sid)["plugins"] == ["other"]
    sid = start(td, plugins="all").json()["id"]
    assert status(td, sid)["plugins"] == ["fast", "other", "third"]
    wait_stopped(td, sid)
    td.stop()
    td.start()
    assert {n: p["enabled"] for n, p in plugins(td).items()} == {"fast": False, "other": True, "third": False}
    td.post("/api/v2/search/enablePlugin", names=" third |nothere", enable="true")
    assert {n: p["enabled"] for n, p in plugins(td).items()} == {"fast": False, "other": True, "third": True}
    # uninstall removes the files
    td.post("/api/v2/search/uninstallPlugin", names="other|third")
    assert sorted(plugins(td)) == ["fast"]
    left = sorted(os.listdir(os.path.join(td.profile, "nova3", "engines")))
    assert "other.py" not in left and "third.py" not in left and "fast.py" in left


def test_update_plugins(workdir, procs, served):
    td = start_td(workdir, procs)
    td.stop()
    restart_with(td, {"search_update_url": served.url("engines/")})
    install(td, write_plugin(workdir, "fast", plugin_src("fast", FAST_BODY, url=SITE)))
    # no versions.txt: the update check fails with Qt's 404 text
    td.post("/api/v2/search/updatePlugins")
    wait_log(td, lambda m: m == "Failed to check for plugin updates: Update server is temporarily unavailable. "
                                "The remote content was not found at the server (404)", "404")
    served.files["/engines/versions.txt"] = b"# comment\nfast: 1.00\n\n"
    td.post("/api/v2/search/updatePlugins")
    wait_log(td, lambda m: m == "All plugins are already up to date.", "up to date")
    served.files["/engines/versions.txt"] = b"fast: 2.00\nnewone: 1.00\n"
    served.files["/engines/fast.py"] = plugin_src("fast", FAST_BODY, version="2.00", url=SITE).encode()
    served.files["/engines/newone.py"] = plugin_src("newone", FAST_BODY).encode()
    td.post("/api/v2/search/updatePlugins")
    wait_log(td, lambda m: m == "Updating plugin fast", "updating fast")
    wait_until(lambda: plugins(td).get("fast", {}).get("version") == "2.0" and "newone" in plugins(td), 30,
               "the update installed", procs=[td])
    msgs = log_messages(td)
    assert 'Plugin "fast" is outdated, updating to version 2.0' in msgs
    assert "Updating 2 plugins" in msgs and "Updating plugin newone" in msgs
    served.files["/engines/versions.txt"] = b"fast 2.00\nother: x\n"
    td.post("/api/v2/search/updatePlugins")
    wait_log(td, lambda m: m == "Failed to check for plugin updates: Incorrect update info received for 2 out of 2 "
                                "plugins.", "invalid update info")


def test_download_torrent(workdir, procs, served):
    td = start_td(workdir, procs)
    t, h, _ = small_torrent("from-plugin.bin", size=5000)
    served.files["/t/x.torrent"] = t
    install(td, write_plugin(workdir, "dl", plugin_src("dl", FAST_BODY, extra=DL_PLUGIN_EXTRA)))
    td.post("/api/v2/search/downloadTorrent", torrentUrl=served.url("t/x.torrent"), pluginName="dl")
    wait_until(lambda: td.torrent(h) is not None, 30, "the plugin's torrent added", procs=[td])
    assert "/t/x.torrent" in served.hits
    # the runtime's temporary file is gone
    assert os.listdir(os.path.join(td.profile, "nova3", "tmp")) == []
    mh = "cd" * 20
    td.post("/api/v2/search/downloadTorrent", torrentUrl="magnet:?xt=urn:btih:%s&dn=m" % mh, pluginName="none")
    wait_until(lambda: td.torrent(mh) is not None, 30, "the magnet added", procs=[td])
    td.req("POST", "/api/v2/search/downloadTorrent", ok=(400,), data={"torrentUrl": "x"})


def test_no_python(workdir, procs):
    td = start_td(workdir, procs)
    install(td, write_plugin(workdir, "fast", plugin_src("fast", FAST_BODY, url=SITE)))
    td.set_prefs({"python_executable_path": os.path.join(workdir, "no-such-python")})
    r = start(td, ok=(409,))
    assert r.text == "Python must be installed to use the Search Engine."
    wait_log(td, lambda m: m.startswith("Failed to find Python executable. Path: "), "logged")
    td.post("/api/v2/search/downloadTorrent", torrentUrl="http://127.0.0.1:1/x.torrent", pluginName="fast")
    td.set_prefs({"python_executable_path": ""})
    sid = start(td).json()["id"]
    wait_stopped(td, sid)
    assert status(td, sid)["total"] == 10
    # no python at start: no plugins; once there is one, the list is made
    td.stop()
    restart_with(td, {"python_executable_path": "no-such-python-anywhere"})
    assert plugins(td) == {}
    start(td, ok=(409,))
    td.set_prefs({"python_executable_path": "python3"})      # a name is looked up in PATH
    assert list(plugins(td)) == ["fast"]
    sid = start(td, plugins="fast").json()["id"]
    wait_stopped(td, sid)
    assert status(td, sid)["total"] == 10


ENV_BODY = '''        prettyPrinter({"link": "http://e/%d" % time.time_ns(), "size": 1, "seeds": 1, "leech": 1,
                       "engine_url": self.url,
                       "name": "%s %s %s" % tuple(os.environ.get(k, "-") for k in
                                                  ("http_proxy", "https_proxy", "qbt_socks_proxy"))})
'''


def test_proxy_environment(workdir, procs):
    """qBittorrent's proxy variables: set from the proxy settings when
    proxy_misc is on, removed otherwise (even when the daemon inherited
    them)."""
    # (no_proxy: the test's own requests to the daemon must not use it)
    td = start_td(workdir, procs, env={"http_proxy": "http://inherited:1", "qbt_socks_proxy": "socks5://inh:2",
                                       "no_proxy": "127.0.0.1,localhost"})
    install(td, write_plugin(workdir, "envy", plugin_src("envy", ENV_BODY)))

    def seen():
        sid = start(td, plugins="envy").json()["id"]
        wait_stopped(td, sid)
        return results(td, sid)["results"][0]["fileName"]

    assert seen() == "- - -"
    td.set_prefs({"proxy_type": "HTTP", "proxy_ip": "127.0.0.9", "proxy_port": 3128, "proxy_misc": True,
                  "proxy_auth_enabled": True, "proxy_username": "u", "proxy_password": "p"})
    assert seen() == "http://u:p@127.0.0.9:3128 http://u:p@127.0.0.9:3128 -"
    td.set_prefs({"proxy_type": "SOCKS5", "proxy_hostname_lookup": False})
    assert seen() == "- - socks5://u:p@127.0.0.9:3128"
    td.set_prefs({"proxy_type": "SOCKS4", "proxy_hostname_lookup": True})
    assert seen() == "- - socks4a://127.0.0.9:3128"
    td.set_prefs({"proxy_misc": False})
    assert seen() == "- - -"


# Leaves a process of its own session behind, holding stdout, and returns.
ESCAPE_BODY = '''        import subprocess
        child = subprocess.Popen([sys.executable, "-c", "import os, time; os.setsid(); time.sleep(60)"])
        deadline = time.time() + 20
        while os.getsid(child.pid) == os.getsid(0) and time.time() < deadline:
            time.sleep(0.01)
        with open(os.path.join(%(dir)r, "escape.%%d" %% os.getpid()), "w") as f:
            f.write("%%d %%d" %% (os.getpid(), child.pid))
        prettyPrinter({"link": "http://x/1", "name": "escaped", "size": 1, "seeds": 1, "leech": 1,
                       "engine_url": self.url})
'''


def test_escaped_child_does_not_hold_the_search(workdir, procs):
    """A process that left the run's group keeps its stdout open: the search
    still ends, a few seconds after the run (search/proc's grace)."""
    td = start_td(workdir, procs)
    d = os.path.join(workdir, "marks")
    os.makedirs(d)
    install(td, write_plugin(workdir, "escape", plugin_src("escape", ESCAPE_BODY % {"dir": d})))
    sid = start(td, plugins="escape").json()["id"]
    wait_until(lambda: pids_of(d, "escape"), 30, "the run", procs=[td])
    (pid, child), = pids_of(d, "escape")
    procs.on_close(lambda: alive(child) and os.kill(child, signal.SIGKILL))
    wait_stopped(td, sid, timeout=20)
    assert alive(child)     # not ours to kill: it left the group
    assert status(td, sid)["total"] == 1


FLOOD_BODY = '''        out = sys.stdout.buffer
        for i in range(20005):
            out.write(b"http://f/%d|flood %d|1|1|1|http://flood.example\\n" % (i, i))
        out.flush()
'''


def test_results_are_bounded(workdir, procs):
    """At most 20000 results per search (search.h SEARCH_MAX_RESULTS); the
    rest is counted in the log."""
    td = start_td(workdir, procs)
    install(td, write_plugin(workdir, "flood", plugin_src("flood", FLOOD_BODY, url="http://flood.example")))
    sid = start(td, plugins="flood").json()["id"]
    wait_stopped(td, sid)
    assert status(td, sid)["total"] == 20000
    last = results(td, sid, offset=-1)["results"]
    assert [r["fileUrl"] for r in last] == ["http://f/19999"]
    wait_log(td, lambda m: m == "Search job %d: 5 results past the limit (20000 results, 32 MiB) were ignored" % sid,
             "the drop counted")
