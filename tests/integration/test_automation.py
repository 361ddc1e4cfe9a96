"""qbit_manage's eight commands built in (issue 12): POST /api/run-command
on real torrents, with qbit_manage 4.8.1's stats and end state; dry runs
change nothing; the request's 400/422 answers, queueing, the schedule, the
on_add hook and a config that does not parse."""
import hashlib
import http.server
import json
import os
import threading
import time
import urllib.parse

import pytest
import requests

from conftest import LEECH_IP
from tdlib import Torrentd, bencode, make_torrent, wait_until, free_port

STATS = ["added", "deleted", "deleted_contents", "resumed", "rechecked", "orphaned", "recycle_emptied",
         "orphaned_emptied", "tagged", "categorized", "rem_unreg", "tagged_tracker_error", "untagged_tracker_error",
         "tagged_noHL", "untagged_noHL", "updated_share_limits", "cleaned_share_limits"]


class FakeTracker:
    """An HTTP tracker on loopback: every announce works (one seed in the
    swarm), except for the info-hashes in `unregistered`, which get
    qbit_manage's favourite failure reason."""

    def __init__(self):
        self.unregistered = set()
        tr = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                q = urllib.parse.urlsplit(self.path).query
                ih = b""
                for part in q.split("&"):
                    if part.startswith("info_hash="):
                        ih = urllib.parse.unquote_to_bytes(part[len("info_hash="):])
                if ih.hex() in tr.unregistered:
                    body = bencode({b"failure reason": b"Unregistered torrent"})
                else:
                    body = bencode({b"interval": 1800, b"complete": 1, b"incomplete": 0, b"peers": b""})
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.srv.server_address[1]
        self.url = "http://127.0.0.1:%d/announce" % self.port
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


@pytest.fixture
def tracker():
    t = FakeTracker()
    yield t
    t.close()


def seed(td, folder, name, announce, size=50000, **add):
    """A one-file torrent whose data is there (added with skip_checking)."""
    os.makedirs(folder, exist_ok=True)
    payload = os.urandom(size)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(payload)
    info = {"name": name, "length": len(payload), "piece length": 16384,
            "pieces": b"".join(hashlib.sha1(payload[k:k + 16384]).digest() for k in range(0, len(payload), 16384))}
    tbytes, h = make_torrent(info, announce=announce)
    td.add(tbytes, folder, skip_checking=True, **add)
    wait_until(lambda: td.torrent(h) is not None, 10, "torrent %s added" % name)
    return h


def tracker_status(td, h):
    rows = td.get("/api/v2/torrents/trackers", hash=h).json()
    return [r["status"] for r in rows if r["url"].startswith("http")]


def wait_tracker(td, h, status):
    wait_until(lambda: status in tracker_status(td, h), 20, "tracker status %d for %s" % (status, h[:8]))


def run(td, commands, ok=(200,), **kw):
    body = {"commands": commands}
    body.update(kw)
    return td.req("POST", "/api/run-command", ok=ok, json=body)


def stats_of(r):
    j = r.json()
    assert j["status"] == "success", j
    assert j["message"] == "Commands executed successfully for all configs"
    assert len(j["results"]) == 1
    st = j["results"][0]["stats"]
    for k in STATS:
        assert isinstance(st[k], int), (k, st)
    return st


def nonzero(st):
    return {k: v for k, v in st.items() if k != "executed_commands" and v}


def write_config(td, text):
    os.makedirs(td.profile, exist_ok=True)
    with open(os.path.join(td.profile, "config.yml"), "w") as f:
        f.write(text)


def state(td):
    return {t["hash"]: (t["category"], t["tags"], t["ratio_limit"], t["seeding_time_limit"], t["up_limit"],
                        t["state"]) for t in td.info()}


def tree(root):
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            out[os.path.relpath(p, root)] = os.stat(p).st_mtime
    return out


@pytest.fixture
def td(workdir, procs):
    return procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()


def test_cat_update_and_cat_change(workdir, td, tracker):
    root = os.path.join(workdir, "data")
    movies, other = os.path.join(root, "movies"), os.path.join(root, "movies.cross-seed")
    write_config(td, """
commands: {cat_update: true}
directory: {root_dir: "%s"}
cat:
  movies: "%s"
  tv: "%s/tv"
cat_change:
  movies.cross-seed: movies
tracker:
  other: {tag: other}
""" % (root, movies, root))
    h1 = seed(td, movies, "A.Movie.mkv", tracker.url)
    h2 = seed(td, other, "B.Movie.mkv", tracker.url, category="movies.cross-seed")
    h3 = seed(td, os.path.join(root, "tv"), "C.Show.mkv", tracker.url, category="tv")
    for h in (h1, h2, h3):
        td.wait_seeding(h, 20)
    before = state(td)
    st = stats_of(run(td, ["cat_update"], dry_run=True))
    assert st["executed_commands"] == ["cat_update"]
    assert nonzero(st) == {"categorized": 2}
    assert state(td) == before, "a dry run changes nothing"
    st = stats_of(run(td, ["cat_update"]))
    assert nonzero(st) == {"categorized": 2}
    assert td.torrent(h1)["category"] == "movies"
    assert td.torrent(h2)["category"] == "movies"
    assert td.torrent(h3)["category"] == "tv"
    # nothing left to do
    assert nonzero(stats_of(run(td, ["cat_update"]))) == {}


def test_log_level_warning_keeps_info_lines_out(workdir, td, tracker):
    """run-command's log_level: WARNING (or ERROR, CRITICAL) keeps the run's
    INFO lines out of the log, as qbit_manage's logger at that level; the
    stats are the same. INFO (or nothing) logs them."""
    root = os.path.join(workdir, "data")
    write_config(td, """
directory: {root_dir: "%s"}
cat:
  movies: "%s/movies"
tracker:
  other: {tag: other}
""" % (root, root))
    h = seed(td, os.path.join(root, "movies"), "L.Movie.mkv", tracker.url)
    td.wait_seeding(h, 20)

    def qbm_lines():
        return td.log_text().count(b"qbit_manage: ")
    n0 = qbm_lines()
    st = stats_of(run(td, ["cat_update"], dry_run=True, log_level="WARNING"))
    assert nonzero(st) == {"categorized": 1}
    assert qbm_lines() == n0, "INFO lines of a WARNING run were logged"
    st = stats_of(run(td, ["cat_update"], dry_run=True, log_level="INFO"))
    assert nonzero(st) == {"categorized": 1}
    assert qbm_lines() > n0, "an INFO run logs its lines"
    n1 = qbm_lines()
    stats_of(run(td, ["cat_update"], dry_run=True, log_level="critical"))
    assert qbm_lines() == n1


def test_tag_update_private_stalled_and_hashes(workdir, td, tracker):
    root = os.path.join(workdir, "data")
    write_config(td, """
directory: {root_dir: "%s"}
tracker:
  127.0.0.1:%d:
    tag: [Local, second]
  other: {tag: other}
""" % (root, tracker.port))
    h1 = seed(td, root, "one.bin", tracker.url)
    h2 = seed(td, root, "two.bin", tracker.url, tags="keep")
    h3 = seed(td, root, "three.bin", "http://127.0.0.1:9/announce")
    for h in (h1, h2, h3):
        td.wait_seeding(h, 20)
    before = state(td)
    st = stats_of(run(td, ["tag_update"], dry_run=True, hashes=[h1]))
    assert nonzero(st) == {"tagged": 2}
    assert state(td) == before
    st = stats_of(run(td, ["tag_update"], hashes=[h1.upper()]))
    assert nonzero(st) == {"tagged": 2}
    assert td.torrent(h1)["tags"] == "Local, second"
    assert td.torrent(h2)["tags"] == "keep", "the hashes filter leaves the others alone"
    st = stats_of(run(td, ["tag_update"]))
    assert nonzero(st) == {"tagged": 3}
    assert sorted(td.torrent(h2)["tags"].split(", ")) == ["Local", "keep", "second"]
    assert td.torrent(h3)["tags"] == "other"
    assert nonzero(stats_of(run(td, ["tag_update"]))) == {}


def test_rem_unregistered_and_tag_tracker_error(workdir, td, tracker):
    root = os.path.join(workdir, "data")
    write_config(td, """
directory: {root_dir: "%s"}
settings:
  rem_unregistered_grace_minutes: 0
  tracker_error_tag: issue
recyclebin: {enabled: true, save_torrents: true}
tracker:
  other: {tag: other}
""" % root)
    gone = seed(td, os.path.join(root, "movies"), "Gone.mkv", tracker.url, size=70000)
    dead = seed(td, root, "Dead.mkv", "http://127.0.0.1:9/announce")
    fine = seed(td, root, "Fine.mkv", tracker.url, tags="issue")
    tracker.unregistered.add(gone)
    td.reannounce(gone)
    wait_tracker(td, gone, 4)
    wait_tracker(td, dead, 4)
    wait_tracker(td, fine, 2)
    before, files = state(td), tree(root)
    st = stats_of(run(td, ["rem_unregistered", "tag_tracker_error"], dry_run=True))
    assert st["executed_commands"] == ["rem_unregistered", "tag_tracker_error"]
    want = {"rem_unreg": 1, "deleted_contents": 1, "tagged_tracker_error": 2, "untagged_tracker_error": 1,
            "tagged": 2}
    assert nonzero(st) == want
    assert state(td) == before and tree(root) == files, "a dry run changes nothing"
    st = stats_of(run(td, ["rem_unregistered", "tag_tracker_error"]))
    assert nonzero(st) == want
    wait_until(lambda: td.torrent(gone) is None, 10, "the unregistered torrent removed")
    assert td.torrent(dead)["tags"] == "issue"
    assert td.torrent(fine)["tags"] == "", "a working tracker loses the tag"
    # its data went to the recycle bin with the .torrent export
    assert not os.path.exists(os.path.join(root, "movies", "Gone.mkv"))
    assert os.path.getsize(os.path.join(root, ".RecycleBin", "movies", "Gone.mkv")) == 70000
    exported = os.listdir(os.path.join(root, ".RecycleBin", "torrents_export"))
    assert exported == ["Gone.mkv [%s].torrent" % gone[-8:]]
    # only tag_tracker_error: nothing removed, nothing new to tag
    st = stats_of(run(td, ["tag_tracker_error"]))
    assert nonzero(st) == {}


def test_grace_and_ignore_list_keep_unregistered(workdir, td, tracker):
    root = os.path.join(workdir, "data")
    write_config(td, "directory: {root_dir: \"%s\"}\n" % root)
    h = seed(td, root, "New.mkv", tracker.url)
    tracker.unregistered.add(h)
    td.reannounce(h)
    wait_tracker(td, h, 4)
    # the default grace of 10 minutes protects a torrent just added
    assert nonzero(stats_of(run(td, ["rem_unregistered"]))) == {}
    write_config(td, """
directory: {root_dir: "%s"}
settings:
  rem_unregistered_grace_minutes: 0
  rem_unregistered_ignore_list: [unregistered TORRENT]
""" % root)
    assert nonzero(stats_of(run(td, ["rem_unregistered"]))) == {}
    assert td.torrent(h) is not None


def test_recheck_resumes_stopped_complete(workdir, td, tracker):
    root = os.path.join(workdir, "data")
    write_config(td, "directory: {root_dir: \"%s\"}\n" % root)
    h = seed(td, root, "Stopped.mkv", tracker.url)
    td.wait_seeding(h, 20)
    td.post("/api/v2/torrents/stop", hashes=h)
    wait_until(lambda: td.torrent(h)["state"] == "stoppedUP", 10, "stopped")
    st = stats_of(run(td, ["recheck"], dry_run=True))
    assert nonzero(st) == {"resumed": 1}
    assert td.torrent(h)["state"] == "stoppedUP"
    st = stats_of(run(td, ["recheck"]))
    assert nonzero(st) == {"resumed": 1}
    wait_until(lambda: td.torrent(h)["state"] in ("stalledUP", "uploading"), 10, "resumed")


def test_rem_orphaned_min_age_and_cap(workdir, td, tracker):
    root = os.path.join(workdir, "data")
    write_config(td, """
directory: {root_dir: "%s", orphaned_dir: "%s/orphaned_data"}
orphaned:
  min_file_age_minutes: 60
  exclude_patterns: ["**/*.keep"]
  max_orphaned_files_to_delete: 5
""" % (root, root))
    h = seed(td, os.path.join(root, "movies"), "Kept.mkv", tracker.url)
    old = os.path.join(root, "movies", "Old.Release.nfo")
    new = os.path.join(root, "New.Release.nfo")
    excl = os.path.join(root, "x.keep")
    for p in (old, new, excl):
        with open(p, "w") as f:
            f.write("x")
    three_days = time.time() - 3 * 86400
    os.utime(old, (three_days, three_days))
    os.utime(excl, (three_days, three_days))
    files = tree(root)
    st = stats_of(run(td, ["rem_orphaned"], dry_run=True))
    assert nonzero(st) == {"orphaned": 1}
    assert tree(root) == files
    st = stats_of(run(td, ["rem_orphaned"]))
    assert nonzero(st) == {"orphaned": 1}
    assert not os.path.exists(old)
    assert os.path.exists(os.path.join(root, "orphaned_data", "movies", "Old.Release.nfo"))
    assert os.path.exists(new) and os.path.exists(excl)
    assert os.path.exists(os.path.join(root, "movies", "Kept.mkv")) and td.torrent(h)
    # the safety cap: more orphans than allowed, nothing moves
    for i in range(7):
        p = os.path.join(root, "many%d.nfo" % i)
        with open(p, "w") as f:
            f.write("x")
        os.utime(p, (three_days, three_days))
    files = tree(root)
    assert nonzero(stats_of(run(td, ["rem_orphaned"]))) == {}
    assert tree(root) == files


def test_tag_nohardlinks(workdir, td, tracker):
    root = os.path.join(workdir, "data")
    media = os.path.join(workdir, "media")
    os.makedirs(media)
    write_config(td, """
directory: {root_dir: "%s"}
nohardlinks:
  movies:
    exclude_tags: [skipme]
settings: {nohardlinks_tag: noHL}
""" % root)
    movies = os.path.join(root, "movies")
    linked = seed(td, movies, "Linked.mkv", tracker.url, category="movies")
    plain = seed(td, movies, "Plain.mkv", tracker.url, category="movies")
    skipped = seed(td, movies, "Skip.mkv", tracker.url, category="movies", tags="skipme")
    os.link(os.path.join(movies, "Linked.mkv"), os.path.join(media, "Linked.mkv"))
    for h in (linked, plain, skipped):
        td.wait_seeding(h, 20)
    before = state(td)
    st = stats_of(run(td, ["tag_nohardlinks"], dry_run=True))
    assert nonzero(st) == {"tagged_noHL": 1, "tagged": 1}
    assert state(td) == before
    st = stats_of(run(td, ["tag_nohardlinks"]))
    assert nonzero(st) == {"tagged_noHL": 1, "tagged": 1}
    assert td.torrent(plain)["tags"] == "noHL"
    assert td.torrent(linked)["tags"] == ""
    assert td.torrent(skipped)["tags"] == "skipme"
    # the link goes away: the next run tags it; a new link untags the other
    os.unlink(os.path.join(media, "Linked.mkv"))
    os.link(os.path.join(movies, "Plain.mkv"), os.path.join(media, "Plain.mkv"))
    st = stats_of(run(td, ["tag_nohardlinks"]))
    assert nonzero(st) == {"tagged_noHL": 1, "tagged": 1, "untagged_noHL": 1}
    assert td.torrent(linked)["tags"] == "noHL" and td.torrent(plain)["tags"] == ""


def test_share_limits_groups(workdir, td, tracker):
    root = os.path.join(workdir, "data")
    write_config(td, """
directory: {root_dir: "%s"}
share_limits:
  default:
    priority: 999
    max_ratio: -1
    max_seeding_time: -1
  noHL:
    priority: 1
    include_all_tags: [noHL]
    categories: [movies]
    max_ratio: 2
    max_seeding_time: 30d
    limit_upload_speed: 500
  seeds:
    priority: 2
    include_any_tags: [seeds]
    max_ratio: 3
    min_num_seeds: 1
""" % root)
    a = seed(td, root, "a.mkv", tracker.url, category="movies", tags="noHL")
    b = seed(td, root, "b.mkv", tracker.url, tags="seeds")
    c = seed(td, root, "c.mkv", tracker.url)
    for h in (a, b, c):
        td.wait_seeding(h, 20)
    wait_tracker(td, b, 2)
    wait_until(lambda: td.torrent(b)["num_complete"] >= 1, 10, "the tracker's seed count")
    td.set_prefs({"max_ratio_enabled": True, "max_ratio": 100, "max_ratio_act": 0})
    before = state(td)
    st = stats_of(run(td, ["share_limits"], dry_run=True))
    assert nonzero(st) == {"updated_share_limits": 3, "tagged": 3}
    assert state(td) == before
    assert td.prefs()["max_ratio_enabled"] is True, "a dry run leaves the default limits"
    st = stats_of(run(td, ["share_limits"]))
    assert nonzero(st) == {"updated_share_limits": 3, "tagged": 3}
    ta, tb, tc = td.torrent(a), td.torrent(b), td.torrent(c)
    assert (ta["ratio_limit"], ta["seeding_time_limit"], ta["up_limit"]) == (2, 43200, 512000)
    assert sorted(ta["tags"].split(", ")) == ["noHL", "~share_limit_1.noHL"]
    assert (tb["ratio_limit"], tb["seeding_time_limit"]) == (3, -1)
    assert sorted(tb["tags"].split(", ")) == ["seeds", "~share_limit_2.seeds"]
    assert tc["tags"] == "~share_limit_999.default"
    assert (tc["ratio_limit"], tc["seeding_time_limit"]) == (-1, -1)
    p = td.prefs()
    assert (p["max_ratio_enabled"], p["max_seeding_time_enabled"]) == (False, False)
    # settled: nothing to update
    assert nonzero(stats_of(run(td, ["share_limits"]))) == {}
    # the torrent moves to another group: its old group tag goes
    td.post("/api/v2/torrents/removeTags", hashes=a, tags="noHL")
    st = stats_of(run(td, ["share_limits"]))
    assert nonzero(st) == {"updated_share_limits": 1, "tagged": 1}
    assert td.torrent(a)["tags"] == "~share_limit_999.default"


def test_all_commands_in_order(workdir, td, tracker):
    root = os.path.join(workdir, "data")
    write_config(td, "directory: {root_dir: \"%s\"}\ncat: {data: \"%s\"}\n" % (root, root))
    seed(td, root, "x.bin", tracker.url)
    names = ["share_limits", "recheck", "tag_nohardlinks", "rem_orphaned", "tag_tracker_error",
             "rem_unregistered", "tag_update", "cat_update"]
    st = stats_of(run(td, names, dry_run=True))
    assert st["executed_commands"] == ["cat_update", "tag_update", "rem_unregistered", "tag_tracker_error",
                                       "recheck", "rem_orphaned", "tag_nohardlinks", "share_limits"]


def test_bad_requests(td):
    write_config(td, "")
    r = run(td, ["cat_update", "CAT_UPDATE"], ok=(400,))
    assert r.json() == {"detail": "Invalid command: CAT_UPDATE"}
    r = run(td, ["bogus"], ok=(400,))
    assert r.json() == {"detail": "Invalid command: bogus"}
    assert run(td, [], ok=(400,)).json()["detail"]
    r = td.req("POST", "/api/run-command", ok=(422,), json={"dry_run": True})
    assert r.json()["detail"][0]["loc"] == ["body", "commands"]
    r = td.req("POST", "/api/run-command", ok=(422,), data="{not json",
               headers={"Content-Type": "application/json"})
    assert r.json()["detail"][0]["type"] == "json_invalid"
    td.req("POST", "/api/run-command", ok=(422,), json={"commands": "cat_update"})
    td.req("POST", "/api/run-command", ok=(422,), json={"commands": ["cat_update"], "dry_run": "maybe"})
    td.req("POST", "/api/run-command", ok=(422,), json={"commands": ["cat_update"], "hashes": "abc"})
    td.req("POST", "/api/run-command", ok=(422,), json=["cat_update"])
    td.req("GET", "/api/run-command", ok=(405,))
    # flags given as command names are accepted
    st = stats_of(run(td, ["skip_cleanup", "tag_update"]))
    assert st["executed_commands"] == ["tag_update"]


def test_api_key_and_session(td):
    write_config(td, "")
    url = td.base + "/api/run-command"
    body = {"commands": ["tag_update"], "dry_run": True}
    # no key configured: a session is needed
    assert requests.post(url, json=body, timeout=10).status_code == 403
    td.set_prefs({"automation_api_key": "s3cret-key"})
    r = requests.post(url, json=body, headers={"X-API-Key": "s3cret-key"}, timeout=10)
    assert r.status_code == 200 and r.json()["status"] == "success"
    r = requests.post(url, json=body, headers={"X-API-Key": "wrong"}, timeout=10)
    assert r.status_code == 401 and r.json() == {"detail": "Invalid API key"}
    assert requests.post(url, json=body, timeout=10).status_code == 403
    # the WebUI session still works, and the key is not shown in the preferences
    assert stats_of(run(td, ["tag_update"], dry_run=True))
    assert "automation_api_key" not in td.prefs()


def test_bad_config_changes_nothing(workdir, td, tracker):
    root = os.path.join(workdir, "data")
    h = seed(td, root, "x.bin", tracker.url)
    write_config(td, """
directory: {root_dir: "%s"}
settings:
  tracker_error_tag: issue
  bogus_key: 1
""" % root)
    r = run(td, ["tag_update"], ok=(500,))
    assert r.json()["detail"].endswith("config.yml:5: settings.bogus_key: unknown key"), r.json()
    write_config(td, "settings:\n  cat_update_all: sometimes\n")
    r = run(td, ["tag_update"], ok=(500,))
    assert r.json()["detail"].endswith("config.yml:2: settings.cat_update_all: not a boolean")
    write_config(td, "tracker:\n  a: [unclosed\n")
    r = run(td, ["tag_update"], ok=(500,))
    assert "config.yml:" in r.json()["detail"] and "invalid YAML" in r.json()["detail"]
    assert td.torrent(h)["tags"] == ""
    # two files through a glob: the second is bad, so the first does not run either
    write_config(td, "tracker: {other: {tag: T}}\n")
    with open(os.path.join(td.profile, "config2.yml"), "w") as f:
        f.write("share_limits:\n  g:\n    max_ratio: lots\n")
    r = run(td, ["tag_update"], ok=(500,), config_file="config*.yml")
    assert r.json()["detail"].endswith("config2.yml:3: share_limits.g.max_ratio: not a number")
    assert td.torrent(h)["tags"] == ""
    os.unlink(os.path.join(td.profile, "config2.yml"))
    with open(os.path.join(td.profile, "config3.yml"), "w") as f:
        f.write("tracker: {other: {tag: U}}\n")
    j = run(td, ["tag_update"], config_file="config*.yml").json()
    assert [x["config_file"] for x in j["results"]] == ["config.yml", "config3.yml"]
    assert [x["stats"]["tagged"] for x in j["results"]] == [1, 1]
    assert sorted(td.torrent(h)["tags"].split(", ")) == ["T", "U"]


def test_queueing_under_concurrent_requests(workdir, td, tracker):
    """A request during a run is answered "queued" at once and runs after."""
    root = os.path.join(workdir, "data")
    bulk = os.path.join(root, "bulk")
    os.makedirs(bulk)
    for i in range(30000):   # a scan long enough to overlap the other requests
        open(os.path.join(bulk, "f%05d" % i), "w").close()
    write_config(td, """
directory: {root_dir: "%s"}
orphaned: {exclude_patterns: ["*/bulk/*"], max_orphaned_files_to_delete: -1}
tracker: {other: {tag: later}}
""" % root)
    h = seed(td, root, "x.bin", tracker.url)
    results = {}

    def post(name, body):
        results[name] = requests.post(td.base + "/api/run-command", json=body, timeout=120,
                                      cookies=td.s.cookies, headers={"Referer": td.base})

    slow = threading.Thread(target=post, args=("slow", {"commands": ["rem_orphaned", "tag_nohardlinks"]}))
    slow.start()
    # wait until the slow run is in progress (its log line), then send two more
    wait_until(lambda: any("Run start" in e["message"] for e in td.get("/api/v2/log/main").json()), 20,
               "the first run to start")
    fast = [threading.Thread(target=post, args=("q%d" % i, {"commands": ["tag_update"], "hashes": [h]}))
            for i in range(2)]
    for t in fast:
        t.start()
    for t in fast + [slow]:
        t.join(120)
    assert results["slow"].json()["status"] == "success"
    queued = [results["q%d" % i].json() for i in range(2)]
    assert all(q["status"] == "queued" for q in queued), queued
    assert queued[0]["commands"] == ["tag_update"] and queued[0]["config_file"] == "config.yml"
    # the queued runs ran after, in order: the first tagged, the second had nothing to do
    wait_until(lambda: td.torrent(h)["tags"] == "later", 30, "the queued run")
    wait_until(lambda: sum("running the queued api request" in e["message"]
                           for e in td.get("/api/v2/log/main").json()) == 2, 30, "both queued runs")
    r = td.req("POST", "/api/system/force-reset").json()
    assert r["status"] == "success" and r["was_running"] is False


def test_queue_survives_a_failed_run(workdir, td, tracker):
    root = os.path.join(workdir, "data")
    h = seed(td, root, "x.bin", tracker.url)
    write_config(td, "tracker: {other: {tag: ok}}\n")
    r = run(td, ["tag_update"], ok=(500,), config_file="missing*.yml")
    assert "No config files found" in r.json()["detail"]
    assert stats_of(run(td, ["tag_update"]))["tagged"] == 1
    assert td.torrent(h)["tags"] == "ok"


def test_schedule_runs_config_commands(workdir, td, tracker):
    root = os.path.join(workdir, "data")
    h = seed(td, root, "x.bin", tracker.url)
    write_config(td, """
commands: {tag_update: true, cat_update: false}
tracker: {other: {tag: scheduled}}
automation: {schedule: 1s}
""")
    # the schedule is read at start and when the automation settings change
    td.set_prefs({"automation_config_file": "./config.yml"})
    wait_until(lambda: td.torrent(h)["tags"] == "scheduled", 20, "the scheduled run")


def test_on_add_runs_in_process(workdir, td, tracker):
    root = os.path.join(workdir, "data")
    write_config(td, """
tracker:
  127.0.0.1:%d: {tag: Local}
automation:
  on_add: [tag_update]
""" % tracker.port)
    td.set_prefs({"automation_config_file": "./config.yml"})
    h1 = seed(td, root, "first.bin", tracker.url)
    wait_until(lambda: td.torrent(h1)["tags"] == "Local", 20, "on_add tagging")
    h0 = seed(td, root, "other.bin", "http://127.0.0.1:9/announce")
    wait_until(lambda: td.torrent(h0)["tags"] == "127.0.0.1", 20, "on_add with the host as tag")


def test_cleanup_empties_old_recycle_and_orphans(workdir, td):
    root = os.path.join(workdir, "data")
    write_config(td, """
directory: {root_dir: "%s"}
recyclebin: {enabled: true, empty_after_x_days: 2}
orphaned: {empty_after_x_days: 1}
""" % root)
    rb, od = os.path.join(root, ".RecycleBin"), os.path.join(root, "orphaned_data")
    old = time.time() - 3 * 86400
    paths = {}
    for d, name in ((rb, "old.mkv"), (rb, "new.mkv"), (od, "old.nfo"), (od, "sub/new.nfo")):
        p = os.path.join(d, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write("x")
        if name.startswith("old"):
            os.utime(p, (old, old))
        paths[name] = p
    files = tree(root)
    st = stats_of(run(td, ["rem_orphaned"], skip_cleanup=True))
    assert nonzero(st) == {}
    st = stats_of(run(td, ["rem_orphaned"], dry_run=True))
    assert nonzero(st) == {"recycle_emptied": 1, "orphaned_emptied": 1}
    assert tree(root) == files
    st = stats_of(run(td, ["rem_orphaned"]))
    assert nonzero(st) == {"recycle_emptied": 1, "orphaned_emptied": 1}
    assert not os.path.exists(paths["old.mkv"]) and not os.path.exists(paths["old.nfo"])
    assert os.path.exists(paths["new.mkv"]) and os.path.exists(paths["sub/new.nfo"])
    # without rem_orphaned only the recycle bin is emptied
    os.utime(paths["new.mkv"], (old, old))
    os.utime(paths["sub/new.nfo"], (old, old))
    st = stats_of(run(td, ["tag_update"]))
    assert nonzero(st) == {"recycle_emptied": 1}
    assert os.path.exists(paths["sub/new.nfo"])


def test_webhooks_run_start_and_end(workdir, td, tracker):
    got = []

    class H(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.append((self.path, self.headers["Content-Type"], json.loads(body)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        url = "http://127.0.0.1:%d" % srv.server_address[1]
        root = os.path.join(workdir, "data")
        h = seed(td, root, "x.bin", tracker.url)
        write_config(td, """
tracker: {other: {tag: hooked}}
webhooks:
  run_start: %s/start
  run_end: %s/end
  error: notifiarr
""" % (url, url))
        stats_of(run(td, ["tag_update"]))
        wait_until(lambda: len(got) == 2, 10, "both webhooks")
        byp = {p: (ct, j) for p, ct, j in got}
        ct, start = byp["/start"]
        assert ct == "application/json"
        assert start["function"] == "run_start" and start["commands"] == ["tag_update"]
        assert start["web_api_used"] is True and start["dry_run"] is False
        assert start["execution_options"] == [] and start["title"] is None
        _, end = byp["/end"]
        assert end["function"] == "run_end" and end["torrents_tagged"] == 1 and end["remove_unregistered"] == 0
        assert td.torrent(h)["tags"] == "hooked"
    finally:
        srv.shutdown()
        srv.server_close()


def test_recheck_stopped_cross_seed_twin(workdir, td, tracker):
    """A stopped 0 % torrent whose name a complete torrent has is rechecked
    (its data is there under another piece size), then resumed next run."""
    root = os.path.join(workdir, "data")
    write_config(td, "directory: {root_dir: \"%s\"}\n" % root)
    h1 = seed(td, root, "Twin.mkv", tracker.url, size=100000)
    with open(os.path.join(root, "Twin.mkv"), "rb") as f:
        payload = f.read()
    info = {"name": "Twin.mkv", "length": len(payload), "piece length": 32768,
            "pieces": b"".join(hashlib.sha1(payload[k:k + 32768]).digest() for k in range(0, len(payload), 32768))}
    tbytes, h2 = make_torrent(info, announce=tracker.url)
    td.add(tbytes, root, stopped=True)
    wait_until(lambda: td.torrent(h2) is not None and td.torrent(h2)["state"] == "stoppedDL", 10, "stopped twin")
    td.wait_seeding(h1, 20)
    assert td.torrent(h2)["progress"] == 0
    st = stats_of(run(td, ["recheck"], dry_run=True))
    assert nonzero(st) == {"rechecked": 1}
    assert td.torrent(h2)["progress"] == 0
    st = stats_of(run(td, ["recheck"]))
    assert nonzero(st) == {"rechecked": 1}
    wait_until(lambda: td.torrent(h2)["progress"] == 1, 20, "the twin checked to 100 %")
    assert td.torrent(h2)["state"] == "stoppedUP", "a recheck does not start it"
    st = stats_of(run(td, ["recheck"]))
    assert nonzero(st) == {"resumed": 1}
    wait_until(lambda: td.torrent(h2)["state"] in ("stalledUP", "uploading"), 10, "the twin resumed")


def test_seed_002_examples(workdir, td, tracker):
    """The request bodies of seed 002 as they are: its curl example (no
    credentials: localhost bypass on) and the autorun script's body."""
    root = os.path.join(workdir, "data")
    write_config(td, "cat: {data: \"%s\"}\ntracker: {other: {tag: seeded}}\n" % root)
    h = seed(td, root, "x.bin", tracker.url)
    td.set_prefs({"bypass_local_auth": True})
    body = {"config_file": "config.yml", "commands": ["cat_update", "tag_update"],
            "hashes": ["a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0"], "dry_run": False, "skip_cleanup": False,
            "skip_qb_version_check": False, "log_level": "info"}
    r = requests.post(td.base + "/api/run-command", json=body, timeout=30)
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["results"][0]["config_file"] == "config.yml"
    assert j["results"][0]["stats"]["executed_commands"] == ["cat_update", "tag_update"]
    assert nonzero(j["results"][0]["stats"]) == {}, "the hashes match no torrent"
    body = {"commands": ["tag_update", "share_limits"], "hashes": [h]}
    r = requests.post(td.base + "/api/run-command", data=json.dumps(body),
                      headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code == 200 and r.json()["results"][0]["stats"]["tagged"] == 1
    assert td.torrent(h)["tags"] == "seeded"


def test_force_reset_during_a_run(workdir, td, tracker):
    """force-reset forgets the run in progress: the next request runs at
    once instead of queueing, and the first one still gets its answer."""
    root = os.path.join(workdir, "data")
    bulk = os.path.join(root, "bulk")
    os.makedirs(bulk)
    for i in range(30000):
        open(os.path.join(bulk, "f%05d" % i), "w").close()
    write_config(td, """
directory: {root_dir: "%s"}
orphaned: {exclude_patterns: ["*/bulk/*"], max_orphaned_files_to_delete: -1}
tracker: {other: {tag: now}}
""" % root)
    h = seed(td, root, "x.bin", tracker.url)
    res = {}

    def slow():
        res["slow"] = requests.post(td.base + "/api/run-command", json={"commands": ["rem_orphaned"]}, timeout=120,
                                    cookies=td.s.cookies, headers={"Referer": td.base})

    t = threading.Thread(target=slow)
    t.start()
    wait_until(lambda: any("Run start" in e["message"] for e in td.get("/api/v2/log/main").json()), 20,
               "the first run to start")
    r = td.req("POST", "/api/system/force-reset").json()
    if r["was_running"]:
        st = stats_of(run(td, ["tag_update"]))
        assert st["tagged"] == 1 and td.torrent(h)["tags"] == "now"
    t.join(120)
    assert res["slow"].status_code == 200 and res["slow"].json()["status"] == "success"
    assert r["status"] == "success" and r["was_running"] is True, "the scan was over before the reset"


# ---- what scripts/diff-qbit-manage.sh found against the real qbit_manage 4.8.1 ----

def qbm_lines(td, since=-1):
    """torrentd's qbit_manage log lines after log id `since`, without the prefix."""
    return [e["message"][len("qbit_manage: "):] for e in td.get("/api/v2/log/main", last_known_id=since).json()
            if e["message"].startswith("qbit_manage: ")]


def last_log_id(td):
    return max([e["id"] for e in td.get("/api/v2/log/main").json()] or [-1])


def test_recycle_bin_copies_torrents_dir_backups(workdir, td, tracker):
    """qbit_manage copies every torrents_dir (BT_backup) file named after the
    info-hash into <recycle>/torrents/ and names them in its "Backing up"
    line; it logs the JSON manifest it saves, and "Moved N files" only at
    DEBUG."""
    root, bt = os.path.join(workdir, "data"), os.path.join(workdir, "BT_backup")
    write_config(td, """
directory: {root_dir: "%s", torrents_dir: "%s"}
settings: {rem_unregistered_grace_minutes: 0}
recyclebin: {enabled: true, save_torrents: true}
""" % (root, bt))
    gone = seed(td, root, "Gone.mkv", tracker.url)
    os.makedirs(bt)
    for name, body in ((gone + ".torrent", b"T"), (gone + ".fastresume", b"F"), ("0" * 40 + ".torrent", b"O")):
        with open(os.path.join(bt, name), "wb") as f:
            f.write(body)
    tracker.unregistered.add(gone)
    td.reannounce(gone)
    wait_tracker(td, gone, 4)
    since = last_log_id(td)
    assert nonzero(stats_of(run(td, ["rem_unregistered"]))) == {"rem_unreg": 1, "deleted_contents": 1}
    rb = os.path.join(root, ".RecycleBin")
    assert sorted(os.listdir(os.path.join(rb, "torrents"))) == [gone + ".fastresume", gone + ".torrent"]
    with open(os.path.join(rb, "torrents", gone + ".fastresume"), "rb") as f:
        assert f.read() == b"F"
    lines = qbm_lines(td, since)
    assert "Saving Torrent JSON file to %s/torrents_json/Gone.mkv.json" % rb in lines, lines
    assert ("Backing up Gone.mkv [%s].torrent and .fastresume and .torrent to %s/torrents_export"
            % (gone[-8:], rb)) in lines, lines
    assert not any(x.startswith("Moved ") for x in lines), lines


def test_cleanup_runs_after_the_commands_with_qbit_manage_lines(workdir, td):
    """cleanup_dirs runs after every command, as qbit_manage's run: what
    rem_orphaned just moved is listed under "Searching:" and kept; each old
    file gets its line, then the total with its size."""
    root = os.path.join(workdir, "data")
    write_config(td, """
directory: {root_dir: "%s"}
recyclebin: {enabled: true, empty_after_x_days: 2}
orphaned: {empty_after_x_days: 1}
""" % root)
    rb, od = os.path.join(root, ".RecycleBin"), os.path.join(root, "orphaned_data")
    old = time.time() - 3 * 86400
    for p in (os.path.join(rb, "old.mkv"), os.path.join(root, "Orphan.nfo")):
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write("1234")
        os.utime(p, (old, old))
    since = last_log_id(td)
    st = stats_of(run(td, ["rem_orphaned"]))
    assert nonzero(st) == {"orphaned": 1, "recycle_emptied": 1}
    assert os.path.exists(os.path.join(od, "Orphan.nfo")), "moved this run: dated now, kept"
    lines = qbm_lines(td, since)
    want = ["| Emptying Recycle Bin (Files > 2 days) |", "| Searching: %s |" % rb,
            "Deleted old.mkv from %s (Last modified 3 days ago)." % rb,
            "Deleted 1 files (4.000B) from the Recycle Bin.",
            "| Emptying Orphaned Data (Files > 1 days) |", "| Searching: %s |" % od]
    assert [x for x in lines if x in want] == want, lines


def test_share_limits_log_as_qbit_manage(workdir, td, tracker):
    """max_ratio is a float in qbit_manage ("Max Ratio = 2.0"); min_num_seeds
    reads the API's num_complete: 0, not -1, before a tracker answered."""
    root = os.path.join(workdir, "data")
    write_config(td, """
directory: {root_dir: "%s"}
share_limits:
  ratio:
    priority: 1
    include_any_tags: [r]
    max_ratio: 2
    max_seeding_time: 30d
  seeds:
    priority: 2
    include_any_tags: [s]
    max_ratio: 3
    min_num_seeds: 1
""" % root)
    a = seed(td, root, "a.mkv", tracker.url, tags="r")
    b = seed(td, root, "b.mkv", "http://127.0.0.1:9/announce", tags="s")
    td.wait_seeding(a, 20)
    wait_tracker(td, b, 4)
    assert td.torrent(b)["num_complete"] == 0
    since = last_log_id(td)
    stats_of(run(td, ["share_limits"]))
    lines = qbm_lines(td, since)
    assert "Share Limit: Max Ratio = 2.0, Max Seed Time = 30 days, 0:00:00" in lines, lines
    assert ("Min number of seeds not met: Total Seeds (0) < min_num_seeds(1). Removing Share Limits so "
            "qBittorrent can continue seeding.") in lines, lines


class Recorder:
    """A loopback HTTP server that records every request: (method, path,
    headers, JSON body), answering 200 {} (Notifiarr's and Apprise's
    stand-in as well as a plain webhook)."""

    def __init__(self):
        self.got = []
        rec = self

        class H(http.server.BaseHTTPRequestHandler):
            def handle_any(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                rec.got.append((self.command, self.path, dict(self.headers), json.loads(raw) if raw else None))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST = handle_any

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d" % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def at(self, path):
        return [r for r in self.got if r[1] == path]

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


@pytest.fixture
def hooks():
    r = Recorder()
    yield r
    r.close()


def test_function_error_apprise_and_notifiarr_hooks(workdir, td, tracker, hooks):
    """webhooks.py: cat_update's and tag_update's bodies (tag_update's via
    Apprise with its urls), the error hook of the category fallback (once,
    to a URL and to Notifiarr's GET with the API key)."""
    root = os.path.join(workdir, "data")
    u = hooks.url
    write_config(td, """
qbt: {host: "qbt.example:8080"}
directory: {root_dir: "%s"}
cat:
  movies: "%s/movies"
tracker:
  other: {tag: other}
apprise:
  api_url: %s/apprise
  notify_url: ["json://a.example", "mailto://b.example"]
notifiarr:
  apikey: SECRETKEY
  instance: inst 1
  base_url: %s/nf
webhooks:
  error: [%s/err, notifiarr]
  function:
    cat_update: %s/cat
    tag_update: apprise
""" % (root, root, u, u, u, u))
    a = seed(td, os.path.join(root, "movies"), "A.mkv", tracker.url)
    b = seed(td, os.path.join(root, "misc"), "B.mkv", tracker.url)
    for h in (a, b):
        td.wait_seeding(h, 20)
    st = stats_of(run(td, ["cat_update", "tag_update"]))
    assert nonzero(st) == {"categorized": 2, "tagged": 2}
    wait_until(lambda: len(hooks.got) >= 6, 15, "six notifications")
    trk = "http://127.0.0.1:%d" % tracker.port

    cats = {r[3]["torrents"][0]: r for r in hooks.at("/cat")}
    assert set(cats) == {"A.mkv", "B.mkv"}
    m, _, hd, body = cats["A.mkv"]
    assert m == "POST" and hd["Content-Type"] == "application/json"
    assert body == {"function": "cat_update", "title": "Updating Categories",
                    "body": "   Torrent Name: A.mkv\n   New Category: movies\n        Tracker: %s" % trk,
                    "torrents": ["A.mkv"], "torrent_category": "movies", "torrent_tag": "other",
                    "torrent_tracker": trk, "notifiarr_indexer": None}
    assert cats["B.mkv"][3]["torrent_category"] == "misc"

    tags = {r[3]["torrents"][0]: r for r in hooks.at("/apprise/notify")}
    assert set(tags) == {"A.mkv", "B.mkv"}
    m, _, _, body = tags["B.mkv"]
    assert m == "POST"
    assert body == {"function": "tag_update", "title": "Updating Tags",
                    "body": "   Torrent Name: B.mkv\n        New Tag: other\n        Tracker: %s" % trk,
                    "torrents": ["B.mkv"], "torrent_category": "misc", "torrent_tag": "other",
                    "torrent_tracker": trk, "notifiarr_indexer": None,
                    "urls": "json://a.example,mailto://b.example"}

    text = ("No categories matched for the save path %s/misc/. Check your config.yml file. - Setting category to misc"
            % root)
    want = {"function": "run_error", "title": "Category Error", "body": text, "critical": False,
            "type": "warning", "function_error": "Category"}
    errs = hooks.at("/err")
    assert [r[3] for r in errs] == [want], "the fallback is reported once per run"
    nf = [r for r in hooks.got if r[1].startswith("/nf/")]
    assert len(nf) == 1
    m, path, hd, body = nf[0]
    assert m == "GET", "notifiarr.py sends its JSON with a GET"
    assert path == "/nf/v1/notification/qbitManage/?qbit_client=qbt.example%3A8080&instance=inst%201"
    assert hd["X-API-Key"] == "SECRETKEY"
    assert body == want
    assert len(hooks.got) == 6


def test_function_hooks_rem_unregistered_tracker_errors_share_limits(workdir, td, tracker, hooks):
    root = os.path.join(workdir, "data")
    u = hooks.url
    write_config(td, """
directory: {root_dir: "%s"}
settings:
  rem_unregistered_grace_minutes: 0
  tracker_error_tag: issue
tracker:
  127.0.0.1:%d: {tag: [local], notifiarr: localidx}
  other: {tag: other}
share_limits:
  default:
    priority: 999
    max_ratio: 2
webhooks:
  function:
    rem_unregistered: %s/unreg
    tag_tracker_error: %s/tte
    share_limits: %s/share
""" % (root, tracker.port, u, u, u))
    gone = seed(td, os.path.join(root, "movies"), "Gone.mkv", tracker.url, category="movies")
    fine = seed(td, root, "Fine.mkv", tracker.url, tags="issue")
    tracker.unregistered.add(gone)
    td.reannounce(gone)
    wait_tracker(td, gone, 4)
    wait_tracker(td, fine, 2)
    trk = "http://127.0.0.1:%d" % tracker.port
    st = stats_of(run(td, ["rem_unregistered", "tag_tracker_error"]))
    assert nonzero(st) == {"rem_unreg": 1, "deleted_contents": 1, "tagged_tracker_error": 1,
                           "untagged_tracker_error": 1, "tagged": 1}
    wait_until(lambda: len(hooks.got) >= 3, 15, "three notifications")
    [(m, _, _, unreg)] = hooks.at("/unreg")
    assert m == "POST"
    assert unreg == {"function": "rem_unregistered", "title": "Removing Unregistered Torrents",
                     "body": "   Torrent Name: Gone.mkv\n         Status: Unregistered torrent\n        Tracker: %s\n"
                             "        Deleted .torrent AND content files." % trk,
                     "torrents": ["Gone.mkv"], "torrent_category": "movies", "torrent_status": "Unregistered torrent",
                     "torrent_tag": "local", "torrent_tracker": trk, "notifiarr_indexer": "localidx",
                     "torrents_deleted_and_contents": True}
    tte = {r[3]["function"]: r[3] for r in hooks.at("/tte")}
    assert tte["tag_tracker_error"] == {
        "function": "tag_tracker_error", "title": "Tag Tracker Error Torrents",
        "body": "   Torrent Name: Gone.mkv\n         Status: Unregistered torrent\n        Tracker: %s\n"
                "      Added Tag: issue\n" % trk,
        "torrents": ["Gone.mkv"], "torrent_category": "movies", "torrent_tag": "issue",
        "torrent_status": "Unregistered torrent", "torrent_tracker": trk, "notifiarr_indexer": "localidx"}
    assert tte["untag_tracker_error"] == {
        "function": "untag_tracker_error", "title": "Untagging Tracker Error Torrent",
        "body": "Previous Tagged issue torrent currently has a working tracker.\n   Torrent Name: Fine.mkv\n"
                "    Removed Tag: issue\n        Tracker: %s" % trk,
        "torrents": ["Fine.mkv"], "torrent_category": "", "torrent_tag": "issue", "torrent_tracker": trk,
        "notifiarr_indexer": "localidx"}
    assert len(hooks.got) == 3

    stats_of(run(td, ["share_limits"]))
    wait_until(lambda: hooks.at("/share"), 15, "the share_limits notification")
    [(m, _, _, share)] = hooks.at("/share")
    assert share == {"function": "share_limits", "title": "Updating Share Limits for default. Priority 999",
                     "body": "Updated 1 torrents.", "grouping": "default", "torrents": ["Fine.mkv"],
                     "torrent_tag": "~share_limit_999.default", "torrent_max_ratio": 2.0,
                     "torrent_max_seeding_time": -1, "torrent_max_last_active": -1, "torrent_min_seeding_time": 0,
                     "torrent_min_num_seeds": 0, "torrent_limit_upload_speed": -1, "torrent_min_last_active": 0}


def test_function_hooks_group_over_ten_torrents(workdir, td, tracker, hooks):
    """webhooks.py notify: more than 10 torrents updated, one notification
    per tag, with the torrents listed and the per-torrent fields dropped."""
    root = os.path.join(workdir, "data")
    write_config(td, """
directory: {root_dir: "%s"}
cat: {data: "%s"}
tracker:
  other: {tag: other}
webhooks:
  function: {tag_update: %s/tags}
""" % (root, root, hooks.url))
    names = ["t%02d.bin" % i for i in range(11)]
    for n in names:
        seed(td, root, n, tracker.url, size=1000)
    st = stats_of(run(td, ["tag_update"]))
    assert nonzero(st) == {"tagged": 11}
    wait_until(lambda: hooks.at("/tags"), 15, "the grouped notification")
    [(_, _, _, body)] = hooks.at("/tags")
    trk = "http://127.0.0.1:%d" % tracker.port
    assert sorted(body.pop("torrents")) == names
    assert body == {"function": "tag_update", "title": "Updating Tags for other",
                    "body": "Updated 11 torrents with tag 'other'", "torrent_tag": "other",
                    "torrent_category": None, "torrent_tracker": trk, "notifiarr_indexer": None}


def test_function_hooks_recheck_nohardlinks_orphaned(workdir, td, tracker, hooks):
    root = os.path.join(workdir, "data")
    u = hooks.url
    write_config(td, """
directory: {root_dir: "%s", orphaned_dir: "%s/orphaned_data"}
orphaned: {min_file_age_minutes: 0}
nohardlinks: {movies: {}}
tracker:
  other: {tag: other}
webhooks:
  function:
    recheck: %s/recheck
    tag_nohardlinks: %s/nohl
    rem_orphaned: %s/orphans
""" % (root, root, u, u, u))
    movies = os.path.join(root, "movies")
    h = seed(td, movies, "Plain.mkv", tracker.url, category="movies")
    td.wait_seeding(h, 20)
    td.post("/api/v2/torrents/stop", hashes=h)
    wait_until(lambda: td.torrent(h)["state"] == "stoppedUP", 10, "stopped")
    stray = os.path.join(root, "stray.nfo")
    with open(stray, "w") as f:
        f.write("x")
    trk = "http://127.0.0.1:%d" % tracker.port
    st = stats_of(run(td, ["recheck", "tag_nohardlinks", "rem_orphaned"], dry_run=True))
    assert nonzero(st) == {"resumed": 1, "tagged_noHL": 1, "tagged": 1, "orphaned": 1}
    wait_until(lambda: len(hooks.got) >= 3, 15, "three notifications")
    [(_, _, _, rc)] = hooks.at("/recheck")
    assert rc == {"function": "recheck", "title": "Resuming Torrent", "body": ["Not Resuming [['other']] - Plain.mkv"],
                  "torrents": ["Plain.mkv"], "torrent_tag": "other", "torrent_category": "movies",
                  "torrent_tracker": trk, "notifiarr_indexer": None}
    [(_, _, _, nohl)] = hooks.at("/nohl")
    assert nohl == {"function": "tag_nohardlinks", "title": "Tagging Torrents with No Hardlinks",
                    "body": "   Torrent Name: Plain.mkv\n      Added Tag: noHL\n        Tracker: %s" % trk,
                    "torrents": ["Plain.mkv"], "torrent_category": "movies", "torrent_tag": "noHL",
                    "torrent_tracker": trk, "notifiarr_indexer": None}
    [(_, _, _, orph)] = hooks.at("/orphans")
    od = os.path.join(root, "orphaned_data")
    assert orph == {"function": "rem_orphaned", "title": "Removing 1 Orphaned Files",
                    "body": "%s\nNot moving 1 Orphaned files to %s" % (stray, od), "orphaned_files": [stray],
                    "orphaned_directory": od, "total_orphaned_files": 1}


def test_function_hooks_cleanup_share_limits(workdir, td, tracker, hooks):
    """share_limits.py: a group's update, then cleanup_share_limits per
    removed torrent (to the share_limits hook: its name is in the function)."""
    root = os.path.join(workdir, "data")
    write_config(td, """
directory: {root_dir: "%s"}
tracker:
  other: {tag: other}
share_limits:
  done:
    priority: 1
    max_ratio: 0
    cleanup: true
webhooks:
  function: {share_limits: %s/share}
""" % (root, hooks.url))
    h = seed(td, root, "Done.mkv", tracker.url)
    td.wait_seeding(h, 20)
    st = stats_of(run(td, ["share_limits"], dry_run=True))
    assert st["cleaned_share_limits"] == 1
    wait_until(lambda: len(hooks.at("/share")) >= 2, 15, "two notifications")
    got = {r[3]["function"]: r[3] for r in hooks.at("/share")}
    assert got["share_limits"]["torrents"] == ["Done.mkv"]
    assert got["share_limits"]["title"] == "Updating Share Limits for done. Priority 1"
    trk = "http://127.0.0.1:%d" % tracker.port
    body = got["cleanup_share_limits"].pop("body")
    assert got["cleanup_share_limits"] == {
        "function": "cleanup_share_limits", "title": "Share limit removal", "grouping": "done",
        "torrents": ["Done.mkv"], "torrent_category": "", "cleanup": True, "torrent_tracker": trk,
        "notifiarr_indexer": None, "torrents_deleted_and_contents": True}
    assert body.startswith("   Torrent Name: Done.mkv\n        Tracker: %s\n" % trk)
    assert body.endswith("\n        Cleanup: True [Meets Share Limits]\n        Deleted .torrent AND content files.")
    assert td.torrent(h), "a dry run removes nothing"
