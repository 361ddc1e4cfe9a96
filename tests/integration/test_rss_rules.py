"""The RSS auto-downloader's endpoints (rss/setRule, renameRule, cloneRule,
removeRule, rules, matchingArticles) as qBittorrent 5.1 answers them
(rsscontroller.cpp), and the rules surviving a restart."""
import email.utils
import hashlib
import http.server
import json
import os
import threading
import time

import pytest

from conftest import LEECH_IP
from tdlib import Torrentd, make_torrent, wait_until

DEFAULT_PARAMS = {
    "category": "", "tags": [], "save_path": "", "download_path": "", "operating_mode": "AutoManaged",
    "skip_checking": False, "upload_limit": -1, "download_limit": -1, "ratio_limit": -2,
    "seeding_time_limit": -2, "inactive_seeding_time_limit": -2, "share_limit_action": "Default",
    "ssl_certificate": "", "ssl_private_key": "", "ssl_dh_params": "",
}


def default_rule(**over):
    r = {"enabled": True, "priority": 0, "useRegex": False, "mustContain": "", "mustNotContain": "",
         "episodeFilter": "", "affectedFeeds": [], "lastMatch": "", "ignoreDays": 0, "smartFilter": False,
         "previouslyMatchedEpisodes": [], "addPaused": None, "torrentContentLayout": None, "savePath": "",
         "assignedCategory": "", "torrentParams": dict(DEFAULT_PARAMS)}
    r.update(over)
    return r


def set_rule(td, name, rule):
    r = td.post("/api/v2/rss/setRule", ruleName=name, ruleDef=rule if isinstance(rule, str) else json.dumps(rule))
    assert r.text == ""
    return r


def rules(td):
    return td.get("/api/v2/rss/rules").json()


def status(td, method, path, **data):
    fn = td.s.get if method == "GET" else td.s.post
    kw = {"params": data} if method == "GET" else {"data": data}
    return fn(td.base + path, timeout=30, **kw).status_code


def test_rule_round_trips(workdir, procs):
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    assert rules(td) == {}

    # A minimal rule gets qBittorrent's defaults; affectedFeeds as a string.
    set_rule(td, "tv", {"mustContain": "show", "affectedFeeds": "http://127.0.0.1:1/feed"})
    assert rules(td) == {"tv": default_rule(mustContain="show", affectedFeeds=["http://127.0.0.1:1/feed"])}
    # The 4.5 keys: savePath, assignedCategory, addPaused, torrentContentLayout.
    set_rule(td, "old", {"savePath": "/tmp/x/", "assignedCategory": "c", "addPaused": True,
                         "torrentContentLayout": "NoSubfolder", "priority": 2})
    tp = dict(DEFAULT_PARAMS, category="c", save_path="/tmp/x", stopped=True, content_layout="NoSubfolder",
              use_auto_tmm=False)
    assert rules(td)["old"] == default_rule(savePath="/tmp/x", assignedCategory="c", addPaused=True,
                                            torrentContentLayout="NoSubfolder", priority=2, torrentParams=tp)
    # torrentParams win over the 4.5 keys.
    set_rule(td, "new", {"assignedCategory": "ignored", "torrentParams": {
        "category": "tv", "tags": ["b", "a"], "stopped": False, "ratio_limit": 1.5}})
    got = rules(td)["new"]
    assert got["assignedCategory"] == "tv" and got["addPaused"] is False
    assert got["torrentParams"]["tags"] == ["a", "b"] and got["torrentParams"]["ratio_limit"] == 1.5

    # ruleDef that is no JSON: qBittorrent reads it as {} (a rule with the defaults), 200.
    set_rule(td, "junk", "{not json")
    td.post("/api/v2/rss/setRule", ruleName="junk2", ruleDef="[1,2]")
    assert rules(td)["junk"] == default_rule() and rules(td)["junk2"] == default_rule()

    # renameRule, cloneRule, removeRule: 200 whatever happens.
    td.post("/api/v2/rss/renameRule", ruleName="junk", newRuleName="junk3")
    td.post("/api/v2/rss/renameRule", ruleName="nope", newRuleName="x")
    td.post("/api/v2/rss/renameRule", ruleName="junk3", newRuleName="junk2")   # taken: nothing happens
    assert "junk3" in rules(td) and "junk" not in rules(td)
    set_rule(td, "tv", {"mustContain": "show", "previouslyMatchedEpisodes": ["1x1"],
                        "lastMatch": "Thu, 01 Jan 2026 00:00:00 +0000", "enabled": True})
    td.post("/api/v2/rss/cloneRule", sourceName="tv", cloneName="tv2")
    td.post("/api/v2/rss/cloneRule", sourceName="tv", cloneName="junk2")       # taken
    td.post("/api/v2/rss/cloneRule", sourceName="nope", cloneName="z")
    all_ = rules(td)
    assert "z" not in all_
    assert all_["tv2"] == dict(all_["tv"], enabled=False, previouslyMatchedEpisodes=[], lastMatch="")
    assert all_["junk2"] == default_rule()
    td.post("/api/v2/rss/removeRule", ruleName="junk2")
    td.post("/api/v2/rss/removeRule", ruleName="junk2")
    td.post("/api/v2/rss/removeRule", ruleName="junk3")
    assert sorted(rules(td)) == ["new", "old", "tv", "tv2"]

    # matchingArticles: {} for a rule without feeds or an unknown rule.
    assert td.get("/api/v2/rss/matchingArticles", ruleName="tv").json() == {}
    assert td.get("/api/v2/rss/matchingArticles", ruleName="nope").json() == {}

    # Missing parameters: 400; the changes are POST only.
    assert status(td, "POST", "/api/v2/rss/setRule", ruleName="x") == 400
    assert status(td, "POST", "/api/v2/rss/setRule", ruleDef="{}") == 400
    assert status(td, "POST", "/api/v2/rss/renameRule", ruleName="tv") == 400
    assert status(td, "POST", "/api/v2/rss/cloneRule", sourceName="tv") == 400
    assert status(td, "POST", "/api/v2/rss/removeRule") == 400
    assert status(td, "GET", "/api/v2/rss/matchingArticles") == 400
    assert status(td, "GET", "/api/v2/rss/setRule", ruleName="x", ruleDef="{}") == 405
    assert "x" not in rules(td)

    # Everything survives a restart, history included.
    before = rules(td)
    td.stop()
    td.start()
    assert rules(td) == before
    assert before["tv"]["previouslyMatchedEpisodes"] == ["1x1"]
    assert before["tv"]["lastMatch"] == "01 Jan 2026 00:00:00 +0000"   # Qt writes no day name


def test_rule_without_login_is_refused(workdir, procs):
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    import requests
    r = requests.post(td.base + "/api/v2/rss/setRule", data={"ruleName": "x", "ruleDef": "{}"}, timeout=10)
    assert r.status_code == 403
    assert rules(td) == {}


# Keys qBittorrent 5.x added to a rule object (4.6.0: priority and
# torrentParams); 4.5.2 has every other key with the same value.
KEYS_NEW_IN_5 = {"priority", "torrentParams"}


def test_rules_like_qbittorrent_45(workdir, procs):
    """The same setRule/renameRule/removeRule calls give the same rss/rules
    as qbittorrent-nox 4.5.2, but for the keys 5.x added."""
    from tdlib import Qbt, loip
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    qb = procs.add(Qbt(os.path.join(workdir, "qbt"), loip(7))).start()
    calls = [
        ("setRule", {"ruleName": "min", "ruleDef": json.dumps({"mustContain": "show", "affectedFeeds": "http://x/f"})}),
        ("setRule", {"ruleName": "junk", "ruleDef": "{not json"}),
        ("setRule", {"ruleName": "legacy", "ruleDef": json.dumps({
            "savePath": "/tmp/x//y/", "assignedCategory": "c", "addPaused": True,
            "torrentContentLayout": "NoSubfolder", "lastMatch": "Thu, 01 Jan 2026 00:00:00 +0000",
            "previouslyMatchedEpisodes": "1x1", "ignoreDays": 3, "smartFilter": True, "useRegex": True,
            "mustContain": "a|b", "mustNotContain": "c", "episodeFilter": "1x2;", "enabled": False})}),
        ("setRule", {"ruleName": "sub", "ruleDef": json.dumps({"createSubfolder": False, "addPaused": False})}),
        ("setRule", {"ruleName": "sub2", "ruleDef": json.dumps({"createSubfolder": True, "ignoreDays": "4"})}),
        ("setRule", {"ruleName": "wrong types", "ruleDef": json.dumps({
            "enabled": "false", "mustContain": 5, "affectedFeeds": [1, "u"], "previouslyMatchedEpisodes": 7,
            "lastMatch": "not a date", "torrentContentLayout": "Bogus"})}),
        ("renameRule", {"ruleName": "junk", "newRuleName": "renamed"}),
        ("renameRule", {"ruleName": "renamed", "newRuleName": "min"}),
        ("renameRule", {"ruleName": "nope", "newRuleName": "x"}),
        ("removeRule", {"ruleName": "sub2"}),
        ("removeRule", {"ruleName": "nope"}),
    ]
    for path, data in calls:
        a = td.s.post(td.base + "/api/v2/rss/" + path, data=data, timeout=30)
        b = qb.s.post(qb.base + "/api/v2/rss/" + path, data=data, timeout=30)
        assert (a.status_code, a.text) == (b.status_code, b.text), (path, data)
    for path, params in [("rules", {}), ("matchingArticles", {"ruleName": "min"}), ("matchingArticles", {})]:
        a = td.s.get(td.base + "/api/v2/rss/" + path, params=params, timeout=30)
        b = qb.s.get(qb.base + "/api/v2/rss/" + path, params=params, timeout=30)
        assert a.status_code == b.status_code, path
    ours, theirs = rules(td), rules(qb)
    assert sorted(ours) == sorted(theirs) == ["legacy", "min", "renamed", "sub", "wrong types"]
    for name in ours:
        assert set(ours[name]) - set(theirs[name]) == KEYS_NEW_IN_5
        assert {k: v for k, v in ours[name].items() if k not in KEYS_NEW_IN_5} == theirs[name], name


# ---------------------------------------------------------------------------
# With a feed: a loopback server serving an RSS 2.0 feed whose enclosures
# are real .torrent files served by the same server.


class FeedServer:
    def __init__(self):
        self.items = []        # (guid, title, torrent name, date), newest first
        self.torrents = {}     # name -> bytes
        srv = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                path = self.path.split("?")[0]
                if path == "/feed.xml":
                    body, ctype = srv.feed().encode(), "application/rss+xml"
                elif path.lstrip("/") in srv.torrents:
                    body, ctype = srv.torrents[path.lstrip("/")], "application/x-bittorrent"
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.base = "http://127.0.0.1:%d" % self.httpd.server_port
        self.url = self.base + "/feed.xml"

    def add(self, guid, title, date):
        """A new item with its own torrent; returns the torrent's info-hash."""
        payload = ("rss payload %s" % guid).encode() * 100
        info = {"name": "%s.bin" % guid, "length": len(payload), "piece length": 16384,
                "pieces": hashlib.sha1(payload).digest()}
        tbytes, h = make_torrent(info)
        self.torrents[guid + ".torrent"] = tbytes
        self.items.insert(0, (guid, title, guid + ".torrent", date))
        return h

    def feed(self):
        out = ['<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Test feed</title>']
        for guid, title, tname, date in self.items:
            out.append('<item><title>%s</title><guid>%s</guid><pubDate>%s</pubDate>'
                       '<enclosure url="%s/%s" type="application/x-bittorrent" length="1"/></item>'
                       % (title, guid, email.utils.formatdate(date, usegmt=True), self.base, tname))
        out.append("</channel></rss>")
        return "".join(out)

    def close(self):
        self.httpd.shutdown()


def feed_articles(td, feed_name):
    return td.get("/api/v2/rss/items", withData="true").json().get(feed_name, {}).get("articles", [])


def refresh_and_wait(td, feed_name, n):
    td.post("/api/v2/rss/refreshItem", itemPath=feed_name)
    wait_until(lambda: len(feed_articles(td, feed_name)) >= n, 20, "%d articles in %s" % (n, feed_name))


def hashes(td):
    return {t["hash"] for t in td.info()}


def test_rules_download_matching_articles(workdir, procs):
    fs = FeedServer()
    t0 = int(time.time()) - 86400
    h1 = fs.add("e01", "Show S01E01 720p", t0)
    h2 = fs.add("e02", "Show S01E02 720p", t0 + 60)
    h_other = fs.add("other", "Other S01E01 720p", t0 + 120)
    h_x265 = fs.add("x265", "Show S01E03 720p x265", t0 + 180)
    h_1080 = fs.add("e03", "Show S01E03 1080p", t0 + 240)
    try:
        td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
        dl = os.path.join(workdir, "rss-dl")
        td.set_prefs({"rss_processing_enabled": True, "rss_auto_downloading_enabled": True})
        r = td.s.post(td.base + "/api/v2/rss/addFeed", data={"url": fs.url, "path": "MyFeed"}, timeout=30)
        if r.status_code == 404:
            pytest.skip("no feeds module in this build (rss/addFeed 404)")
        assert r.status_code == 200, r.text
        refresh_and_wait(td, "MyFeed", 5)
        set_rule(td, "tv", {"mustContain": "show 720p", "mustNotContain": "x265", "smartFilter": True,
                            "affectedFeeds": [fs.url], "torrentParams": {
                                "category": "tv", "tags": ["rss"], "save_path": dl, "stopped": True,
                                "upload_limit": 10240, "download_limit": 20480, "ratio_limit": 1.5,
                                "seeding_time_limit": 90, "content_layout": "Subfolder"}})
        # A disabled rule for matchingArticles: no smart filter, no history.
        set_rule(td, "all", {"enabled": False, "mustContain": "show", "affectedFeeds": [fs.url, "http://gone/"]})

        wait_until(lambda: {h1, h2} <= hashes(td), 20, "the two matching torrents added")
        got = {t["hash"]: t for t in td.info()}
        assert set(got) == {h1, h2}
        for h in (h1, h2):
            t = got[h]
            assert t["category"] == "tv" and t["tags"] == "rss" and t["save_path"].rstrip("/") == dl
            assert t["state"] in ("stoppedDL", "pausedDL", "checkingResumeData", "checkingDL"), t["state"]
            assert (t["up_limit"], t["dl_limit"], t["ratio_limit"], t["seeding_time_limit"]) == \
                (10240, 20480, 1.5, 90), t
            # Subfolder: the single file goes into a folder named after it
            assert t["content_path"] == os.path.join(dl, t["name"].rsplit(".", 1)[0], t["name"]), t
        wait_until(lambda: all(a.get("isRead") for a in feed_articles(td, "MyFeed")
                               if a["id"] in ("e01", "e02")), 20, "downloaded articles marked read")
        read = {a["id"]: a.get("isRead", False) for a in feed_articles(td, "MyFeed")}
        assert not read["other"] and not read["x265"] and not read["e03"]
        rule = rules(td)["tv"]
        assert sorted(rule["previouslyMatchedEpisodes"]) == ["1x1", "1x2"]
        assert rule["lastMatch"] != ""
        log = "\n".join(e["message"] for e in td.get("/api/v2/log/main").json())
        assert "RSS article 'Show S01E01 720p' is accepted by rule 'tv'. Trying to add torrent..." in log

        # matchingArticles: by feed name, newest first, matches() only.
        assert td.get("/api/v2/rss/matchingArticles", ruleName="all").json() == {
            "MyFeed": ["Show S01E03 1080p", "Show S01E03 720p x265", "Show S01E02 720p", "Show S01E01 720p"]}
        # tv's history now rejects what it downloaded
        assert td.get("/api/v2/rss/matchingArticles", ruleName="tv").json() == {}

        # New articles: a repack of a downloaded episode is downloaded, a
        # mirror of it is not.
        h_repack = fs.add("e02r", "Show S01E02 720p REPACK", t0 + 300)
        h_mirror = fs.add("e01m", "Show S01E01 720p mirror", t0 + 360)
        refresh_and_wait(td, "MyFeed", 7)
        wait_until(lambda: h_repack in hashes(td), 20, "the repack added")
        assert h_mirror not in hashes(td)
        assert rules(td)["tv"]["previouslyMatchedEpisodes"][-1] == "1x2-REPACK"

        # Off: nothing is downloaded; on again: the unread articles are.
        td.set_prefs({"rss_auto_downloading_enabled": False})
        h4 = fs.add("e04", "Show S01E04 720p", t0 + 420)
        refresh_and_wait(td, "MyFeed", 8)
        td.get("/api/v2/app/version")   # one more loop turn for a queued job
        assert h4 not in hashes(td)
        td.set_prefs({"rss_auto_downloading_enabled": True})
        wait_until(lambda: h4 in hashes(td), 20, "the pending article downloaded once switched on")
        assert h_other not in hashes(td) and h_x265 not in hashes(td) and h_1080 not in hashes(td)

        # setFeedURL: the rules naming the feed follow it (and still match).
        new_url = fs.url + "?moved"
        r = td.s.post(td.base + "/api/v2/rss/setFeedURL", data={"path": "MyFeed", "url": new_url}, timeout=30)
        assert r.status_code == 200, r.text
        assert rules(td)["tv"]["affectedFeeds"] == [new_url]
        assert rules(td)["all"]["affectedFeeds"] == [new_url, "http://gone/"]
        assert list(td.get("/api/v2/rss/matchingArticles", ruleName="all").json()) == ["MyFeed"]

        # History and read state survive a restart: nothing is downloaded again.
        before = rules(td)["tv"]
        n = len(hashes(td))
        td.stop()
        td.start()
        assert rules(td)["tv"] == before
        refresh_and_wait(td, "MyFeed", 8)
        td.get("/api/v2/app/version")
        assert len(hashes(td)) == n
    finally:
        fs.close()


# Titles and rules for the matching comparison with qbittorrent-nox 4.5.2
# (no '/' in titles: 4.5.2's Qt 5 wildcards are path wildcards).
DIFF_TITLES = ["Show S01E01 720p", "Show S01E02 1080p", "Show.S01E10.x265", "Show 1x15 HDTV", "Show S02E01",
               "Other Show 2017.01.02", "Show S01E30 REPACK", "Movie 2020", "show s01e05 PROPER", "Show S00E40",
               "Show S01E20", "Show s1e8"]
DIFF_RULES = {
    "alts": {"mustContain": "show 720p|1080p"},
    "not": {"mustContain": "show", "mustNotContain": "x265|proper"},
    "regex": {"useRegex": True, "mustContain": "^show[ .]s0?1"},
    "episodes": {"episodeFilter": "1x2;8-15;5;30-;"},
    "later": {"episodeFilter": "1x16-;"},
    "reversed": {"episodeFilter": "1x15-8;"},
    "smart": {"smartFilter": True},
    "wild": {"mustContain": "s??e*"},
    "class": {"mustContain": "[sx]how 1x"},
    "empty alt": {"mustNotContain": "movie|"},
}
# 4.5.2 (like 5.1) accepts a title without a recognisable episode under the
# smart filter; torrentd rejects it, as qBittorrent 5.2 and later do.
# Wildcards are Qt 6's (qBittorrent 5.x): 4.5.2's Qt 5.15 reads "[!x]" as
# the class of '!' and 'x' and does not match a literal backslash, so
# neither is compared here (test_rss_rule.c has Qt 6's meaning).
SMART_ONLY_45 = {"Movie 2020"}


def test_matching_like_qbittorrent_45(workdir, procs):
    from tdlib import Qbt, loip
    fs = FeedServer()
    t0 = int(time.time()) - 86400
    for i, title in enumerate(DIFF_TITLES):
        fs.add("d%d" % i, title, t0 + 60 * i)
    try:
        td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
        qb = procs.add(Qbt(os.path.join(workdir, "qbt"), loip(7))).start()
        for api in (td, qb):
            api.set_prefs({"rss_processing_enabled": True, "rss_auto_downloading_enabled": False})
            r = api.s.post(api.base + "/api/v2/rss/addFeed", data={"url": fs.url, "path": "MyFeed"}, timeout=30)
            if r.status_code == 404:
                pytest.skip("no feeds module in this build (rss/addFeed 404)")
            assert r.status_code == 200, (api.name, r.text)
            wait_until(lambda: len(feed_articles(api, "MyFeed")) == len(DIFF_TITLES), 30,
                       "%s fetched the feed" % api.name)
        # (4.5.2 lists rss/items articles in hash order; matchingArticles,
        # like torrentd, newest first.)
        assert sorted(a["title"] for a in feed_articles(td, "MyFeed")) == \
            sorted(a["title"] for a in feed_articles(qb, "MyFeed"))
        for name, rule in DIFF_RULES.items():
            rule = dict(rule, affectedFeeds=[fs.url])
            for api in (td, qb):
                api.post("/api/v2/rss/setRule", ruleName=name, ruleDef=json.dumps(rule))
            ours = td.get("/api/v2/rss/matchingArticles", ruleName=name).json()
            theirs = qb.get("/api/v2/rss/matchingArticles", ruleName=name).json()
            if name == "smart":
                theirs = {k: [t for t in v if t not in SMART_ONLY_45] for k, v in theirs.items()}
                assert SMART_ONLY_45 <= set(qb.get("/api/v2/rss/matchingArticles", ruleName=name).json()["MyFeed"])
            assert ours == theirs, name
        # ... and the rules themselves, but for 4.6's keys.
        ours, theirs = rules(td), rules(qb)
        for name in DIFF_RULES:
            assert {k: v for k, v in ours[name].items() if k not in KEYS_NEW_IN_5} == theirs[name], name
    finally:
        fs.close()


def test_downloads_like_qbittorrent_45(workdir, procs):
    """With auto-downloading on, torrentd and qbittorrent-nox 4.5.2 add the
    same torrents from the same feed and rules and mark the same articles
    read (rules that do not compete: 4.5.2 has no priorities).  The
    histories differ in what qBittorrent's bugs add: switching
    auto-downloading on queues every unread article twice
    (startProcessing calls resetProcessingQueue, then handleNewArticle for
    each again, in 4.5.2 as in 5.1 and master), so a second pass accepts a
    REPACK/PROPER article once more under its full key (the torrent is a
    duplicate), and 4.5.2 also records the plain key again after a repack
    (fixed in 5.x).  torrentd processes each article once."""
    from tdlib import Qbt, loip
    fs = FeedServer()
    t0 = int(time.time()) - 86400
    titles = ["Show S01E01 720p", "Show S01E01 1080p", "Show S01E02 720p", "Show S01E02 720p PROPER",
              "Show S01E03 720p", "Show S01E03 REPACK PROPER 720p", "Other 1x05 HDTV", "Other 1x09 HDTV",
              "Other 2x01 HDTV", "Third.S01E01.x265", "Third.S01E01.x264", "Movie 2020 x264"]
    hashes_by_title = {t: fs.add("g%d" % i, t, t0 + 60 * i) for i, t in enumerate(titles)}
    rules_ = {
        "smart": {"mustContain": "show", "smartFilter": True},
        "eps": {"mustContain": "other", "episodeFilter": "1x5-8;2x1;"},
        "third": {"useRegex": True, "mustContain": "^third\\.", "mustNotContain": "x265"},
    }
    try:
        td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
        qb = procs.add(Qbt(os.path.join(workdir, "qbt"), loip(7))).start()
        for api in (td, qb):
            api.set_prefs({"rss_processing_enabled": True, "rss_auto_downloading_enabled": False})
            r = api.s.post(api.base + "/api/v2/rss/addFeed", data={"url": fs.url, "path": "F"}, timeout=30)
            if r.status_code == 404:
                pytest.skip("no feeds module in this build (rss/addFeed 404)")
            wait_until(lambda: len(feed_articles(api, "F")) == len(titles), 30, "%s fetched the feed" % api.name)
            for name, rule in rules_.items():
                rule = dict(rule, affectedFeeds=[fs.url],
                            savePath=os.path.join(workdir, api.name + "-dl"), addPaused=True)
                api.post("/api/v2/rss/setRule", ruleName=name, ruleDef=json.dumps(rule))
            api.set_prefs({"rss_auto_downloading_enabled": True})
        # Newest first: the first title of an episode wins; "2x1" in a
        # season-1 filter is no episode of season 2.
        want = {hashes_by_title[t] for t in ["Show S01E03 REPACK PROPER 720p", "Show S01E02 720p PROPER",
                                             "Show S01E01 1080p", "Other 1x05 HDTV", "Third.S01E01.x264"]}

        def added(api):
            return {t["hash"] for t in api.info()}
        wait_until(lambda: len(added(qb)) >= len(want), 60, "qbittorrent-nox added its torrents")
        wait_until(lambda: len(added(td)) >= len(want), 60, "torrentd added its torrents")
        assert added(qb) == want
        assert added(td) == want
        ours, theirs = rules(td), rules(qb)
        assert ours["smart"]["previouslyMatchedEpisodes"] == ["1x3", "1x2", "1x1"]
        for name in rules_:
            mine, qbts = ours[name]["previouslyMatchedEpisodes"], theirs[name]["previouslyMatchedEpisodes"]
            assert set(mine) <= set(qbts), name
            assert all("-REPACK" in e or "-PROPER" in e for e in set(qbts) - set(mine)), name
            assert ours[name]["lastMatch"] != "" and theirs[name]["lastMatch"] != ""
        read_td = {a["title"] for a in feed_articles(td, "F") if a.get("isRead")}
        wait_until(lambda: {a["title"] for a in feed_articles(qb, "F") if a.get("isRead")} == read_td, 30,
                   "the same articles read")
    finally:
        fs.close()
