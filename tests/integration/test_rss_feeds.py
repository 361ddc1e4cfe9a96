"""RSS feeds (issue 13): rss/* feed endpoints against a loopback feed server.

The server (Python http.server in a thread) serves RSS 2.0, Atom, a broken
document, a huge one, a redirect and a slow feed whose answer waits for the
test, so that isLoading can be seen.  Everything waits on observable
conditions (articles present, log lines, request counts), never on sleeps.
"""
import http.server
import json
import os
import threading
import time

import pytest

from conftest import LEECH_IP
from tdlib import Torrentd, TdError, wait_until

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:torrent="http://xmlns.ezrss.it/0.1/">
<channel>
<title>Loop Feed</title>
<link>http://127.0.0.1/</link>
<item>
  <title>Show S01E01 720p</title>
  <guid>guid-1</guid>
  <link>http://127.0.0.1/details/1</link>
  <enclosure url="http://127.0.0.1/t/1.torrent" type="application/x-bittorrent" length="1234"/>
  <pubDate>Tue, 10 Jun 2003 04:00:00 GMT</pubDate>
  <description>First &amp; best&nbsp;one</description>
  <torrent:infoHash>0123456789abcdef0123456789abcdef01234567</torrent:infoHash>
  <category>TV</category>
</item>
<item>
  <title>Show S01E02 720p</title>
  <link>magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234568</link>
  <pubDate>Wed, 11 Jun 2003 04:00:00 +0200</pubDate>
  <author>someone</author>
</item>
<item>
  <title>Untyped</title>
  <guid>guid-3</guid>
  <enclosure url="http://127.0.0.1/t/3.torrent"/>
  <pubDate>Mon, 09 Jun 2003 04:00:00 GMT</pubDate>
</item>
</channel>
</rss>
"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://127.0.0.1/base/">
  <title>Atom Loop</title>
  <updated>2026-12-01T10:00:00Z</updated>
  <entry>
    <title>Atom One</title>
    <id>urn:atom:1</id>
    <link href="items/1"/>
    <updated>2026-12-01T09:00:00Z</updated>
    <author><name>Jane</name><email>j@x</email></author>
    <summary>  short  </summary>
    <content>long</content>
  </entry>
  <entry>
    <title>Atom Two</title>
    <id>urn:atom:2</id>
    <link href="magnet:?xt=urn:btih:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"/>
    <updated>2026-12-01T09:30:00+01:00</updated>
  </entry>
</feed>
"""

BROKEN = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Broken</title>
<item><title>Kept before the break</title><guid>b1</guid></item>
<item><title>Cut</title><guid>b2</guid>
</channel>
"""


def rss_items(n, start=0):
    items = "".join(
        "<item><title>Item %d</title><guid>g%d</guid>"
        "<pubDate>%s</pubDate></item>" % (i, i, time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(1e9 + i * 60)))
        for i in range(start, start + n))
    return ("<?xml version='1.0'?><rss version='2.0'><channel><title>Many</title>%s</channel></rss>"
            % items).encode()


class FeedServer:
    def __init__(self):
        self.docs = {"/rss": RSS, "/atom": ATOM, "/broken": BROKEN}
        self.hits = {}
        self.slow_gate = threading.Event()
        self.lock = threading.Lock()
        srv = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_GET(self):
                path = self.path.split("?")[0]
                with srv.lock:
                    srv.hits[path] = srv.hits.get(path, 0) + 1
                if path == "/redirect":
                    self.send_response(302)
                    self.send_header("Location", "/rss")
                    self.end_headers()
                    return
                if path == "/slow":
                    srv.slow_gate.wait(30)
                    body = RSS
                elif path == "/huge":
                    # 17 MiB: over the 16 MiB cap
                    body = b"<rss><channel>" + b"<item><title>x</title></item>" * (17 * 1024 * 1024 // 29)
                else:
                    body = srv.docs.get(path)
                if body is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:
                    pass

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.httpd.server_port, path)

    def count(self, path):
        with self.lock:
            return self.hits.get(path, 0)

    def close(self):
        self.slow_gate.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def feeds():
    s = FeedServer()
    yield s
    s.close()


def start_td(workdir, procs, **prefs):
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    p = {"rss_fetch_delay": 0}
    p.update(prefs)
    td.set_prefs(p)
    return td


def items(td, with_data=True):
    return td.get("/api/v2/rss/items", withData="true" if with_data else "false").json()


def log_has(td, text):
    return any(text == e["message"] for e in td.get("/api/v2/log/main").json())


def rpost(td, endpoint, **data):
    return td.req("POST", "/api/v2/rss/" + endpoint, data=data)


def post_status(td, endpoint, **data):
    r = td.s.post(td.base + endpoint, data=data, timeout=30)
    return r.status_code, r.text


def wait_articles(td, name, n=1, timeout=20):
    def ok():
        it = items(td).get(name)
        return it is not None and len(it.get("articles", [])) >= n and not it["isLoading"]
    wait_until(ok, timeout, "articles of %s" % name)
    return items(td)[name]


def test_rss20_feed(workdir, procs, feeds):
    td = start_td(workdir, procs)
    url = feeds.url("/rss")
    rpost(td, "addFeed", url=url, path="Loop")
    # processing is off by default: nothing is fetched until asked
    assert items(td, False) == {"Loop": {"uid": items(td, False)["Loop"]["uid"], "url": url}}
    rpost(td, "refreshItem", itemPath="Loop")
    f = wait_articles(td, "Loop", 3)
    assert f["title"] == "Loop Feed" and f["hasError"] is False and f["lastBuildDate"] == ""
    assert f["uid"].startswith("{") and len(f["uid"]) == 38
    arts = f["articles"]
    # newest first
    assert [a["title"] for a in arts] == ["Show S01E02 720p", "Show S01E01 720p", "Untyped"]
    a2, a1, a3 = arts
    assert a1["id"] == "guid-1" and a1["torrentURL"] == "http://127.0.0.1/t/1.torrent"
    assert a1["link"] == "http://127.0.0.1/details/1"
    assert a1["date"] == "10 Jun 2003 04:00:00 +0000"
    assert a1["description"] == "First & best\u00a0one"
    assert a1["infoHash"] == "0123456789abcdef0123456789abcdef01234567" and a1["category"] == "TV"
    assert "isRead" not in a1
    # magnet <link>: the torrent URL, and (no guid) the id
    assert a2["torrentURL"].startswith("magnet:?xt=") and a2["id"] == a2["torrentURL"] and "link" not in a2
    assert a2["date"] == "11 Jun 2003 02:00:00 +0000" and a2["author"] == "someone"
    # an untyped enclosure is the fallback torrent URL
    assert a3["torrentURL"] == "http://127.0.0.1/t/3.torrent"
    wait_until(lambda: log_has(td, "RSS feed at '%s' updated. Added 3 new articles." % url), 10, "log line")
    # a second refresh adds nothing
    rpost(td, "refreshItem", itemPath="Loop")
    wait_until(lambda: log_has(td, "RSS feed at '%s' updated. Added 0 new articles." % url), 10, "log line 0")


def test_atom_feed_and_title_rename(workdir, procs, feeds):
    td = start_td(workdir, procs)
    url = feeds.url("/atom")
    rpost(td, "addFeed", url=url, path="")   # named by its URL ...
    assert list(items(td, False)) == [url]
    rpost(td, "refreshItem", itemPath=url)
    f = wait_articles(td, "Atom Loop", 2)           # ... until its title is known
    assert url not in items(td, False)
    assert f["lastBuildDate"] == "2026-12-01T10:00:00Z"
    one, two = f["articles"]
    assert one["title"] == "Atom One" and one["link"] == "http://127.0.0.1/base/items/1"
    assert one["author"] == "Jane" and one["description"] == "short"
    assert one["date"] == "01 Dec 2026 09:00:00 +0000" and one["torrentURL"] == one["link"]
    assert two["torrentURL"].startswith("magnet:") and two["date"] == "01 Dec 2026 09:30:00 +0100"


def test_broken_redirect_huge(workdir, procs, feeds):
    td = start_td(workdir, procs)
    for name, path in (("B", "/broken"), ("R", "/redirect"), ("H", "/huge"), ("N", "/missing")):
        rpost(td, "addFeed", url=feeds.url(path), path=name)
    rpost(td, "refreshItem", itemPath="")
    wait_until(lambda: all(not v["isLoading"] and (v["articles"] or v["hasError"]) for v in items(td).values()),
               30, "every feed fetched")
    it = items(td)
    # broken XML: an error, the article before the break kept
    assert it["B"]["hasError"] is True
    assert "Kept before the break" in [a["title"] for a in it["B"]["articles"]]
    msgs = [e["message"] for e in td.get("/api/v2/log/main").json()]
    assert any(m.startswith("Failed to parse RSS feed at '%s'. Reason: " % feeds.url("/broken")) for m in msgs)
    # the redirect is followed
    assert it["R"]["hasError"] is False and len(it["R"]["articles"]) == 3
    # over the size cap, a 404: download failures
    assert it["H"]["hasError"] is True and it["H"]["articles"] == []
    assert any(m.startswith("Failed to download RSS feed at '%s'. Reason: " % feeds.url("/huge")) for m in msgs)
    assert "Failed to download RSS feed at '%s'. Reason: Error transferring %s - server replied: Not Found" % (
        feeds.url("/missing"), feeds.url("/missing")) in msgs
    assert td.alive()


def test_slow_feed_is_loading(workdir, procs, feeds):
    td = start_td(workdir, procs)
    rpost(td, "addFeed", url=feeds.url("/slow"), path="Slow")
    assert items(td)["Slow"]["isLoading"] is False
    rpost(td, "refreshItem", itemPath="Slow")
    wait_until(lambda: feeds.count("/slow") == 1, 10, "the slow request")
    assert items(td)["Slow"]["isLoading"] is True
    feeds.slow_gate.set()
    f = wait_articles(td, "Slow", 3)   # named by the user: no rename to the title
    assert f["isLoading"] is False and f["title"] == "Loop Feed"


def test_refresh_on_schedule(workdir, procs, feeds):
    td = start_td(workdir, procs, rss_processing_enabled=True)
    rpost(td, "addFeed", url=feeds.url("/rss"), path="Sched", refreshInterval="1")
    assert items(td, False)["Sched"]["refreshInterval"] == 1
    wait_until(lambda: feeds.count("/rss") >= 3, 15, "three scheduled fetches")
    # longer interval: no more fetches for a while (observable: the count stays)
    rpost(td, "setFeedRefreshInterval", path="Sched", refreshInterval="3600")
    n = feeds.count("/rss")
    rpost(td, "addFeed", url=feeds.url("/atom"), path="Other", refreshInterval="1")
    wait_until(lambda: feeds.count("/atom") >= 3, 15, "the other feed's fetches")
    assert feeds.count("/rss") <= n + 1
    # processing off: the timer stops
    td.set_prefs({"rss_processing_enabled": False})
    time_base = feeds.count("/atom")
    rpost(td, "addFeed", url=feeds.url("/broken"), path="Marker")
    rpost(td, "refreshItem", itemPath="Marker")
    wait_until(lambda: feeds.count("/broken") == 1, 10, "the marker fetch")
    assert feeds.count("/atom") <= time_base + 1


def test_tree_and_409(workdir, procs, feeds):
    td = start_td(workdir, procs)
    rpost(td, "addFolder", path="Linux")
    rpost(td, "addFolder", path="Linux\\Debian")
    url = feeds.url("/rss")
    rpost(td, "addFeed", url=url, path="Linux\\Debian\\News")
    assert items(td, False)["Linux"]["Debian"]["News"]["url"] == url
    assert post_status(td, "/api/v2/rss/addFolder", path="Linux") == (409, "RSS item with given path already exists: Linux.")
    assert post_status(td, "/api/v2/rss/addFolder", path="No\\Such") == (409, "Parent folder doesn't exist: No.")
    assert post_status(td, "/api/v2/rss/addFolder", path="a\\\\b") == (409, "Incorrect RSS Item path: a\\\\b.")
    assert post_status(td, "/api/v2/rss/addFeed", url=url, path="Other") == (
        409, "RSS feed with given URL already exists: %s." % url)
    assert post_status(td, "/api/v2/rss/removeItem", path="") == (409, "Cannot delete root folder.")
    assert post_status(td, "/api/v2/rss/removeItem", path="Nope") == (409, "Item doesn't exist: Nope.")
    assert post_status(td, "/api/v2/rss/moveItem", itemPath="", destPath="x") == (409, "Cannot move root folder.")
    assert post_status(td, "/api/v2/rss/moveItem", itemPath="Linux", destPath="Linux\\Debian\\X") == (
        409, "Can't move a folder into itself or its subfolders.")   # 5.1 crashes; 5.2's answer
    assert post_status(td, "/api/v2/rss/moveItem", itemPath="Linux", destPath="Linux\\X") == (
        409, "Couldn't move folder into itself.")
    assert post_status(td, "/api/v2/rss/moveItem", itemPath="Linux", destPath="Linux") == (
        409, "RSS item with given path already exists: Linux.")   # 5.1 (5.2: a no-op)
    assert post_status(td, "/api/v2/rss/setFeedURL", path="Linux", url="http://x/") == (409, "Feed doesn't exist: Linux.")
    assert post_status(td, "/api/v2/rss/setFeedRefreshInterval", path="Linux\\Debian\\News", refreshInterval="-1") == (
        400, "Invalid 'refreshInterval' value")
    assert post_status(td, "/api/v2/rss/setFeedRefreshInterval", path="Linux", refreshInterval="5") == (
        409, "Feed doesn't exist: Linux.")
    # POST only
    assert td.s.get(td.base + "/api/v2/rss/addFolder", params={"path": "G"}).status_code == 405
    # move, rename, remove
    rpost(td, "moveItem", itemPath="Linux\\Debian\\News", destPath="News")
    rpost(td, "moveItem", itemPath="Linux\\Debian", destPath="Deb")
    assert items(td, False) == {"Deb": {}, "Linux": {}, "News": items(td, False)["News"]}
    rpost(td, "setFeedURL", path="News", url=feeds.url("/atom"))
    assert items(td, False)["News"]["url"] == feeds.url("/atom")
    rpost(td, "removeItem", path="Linux")
    assert sorted(items(td, False)) == ["Deb", "News"]


def test_read_state_survives_restart_and_kill9(workdir, procs, feeds):
    td = start_td(workdir, procs)
    rpost(td, "addFolder", path="F")
    rpost(td, "addFeed", url=feeds.url("/rss"), path="F\\Loop", refreshInterval="7200")
    rpost(td, "refreshItem", itemPath="F\\Loop")
    wait_until(lambda: len(items(td)["F"].get("Loop", {}).get("articles", [])) == 3, 20, "articles")
    rpost(td, "markAsRead", itemPath="F\\Loop", articleId="guid-1")
    before = items(td)
    arts = {a["id"]: a for a in before["F"]["Loop"]["articles"]}
    assert arts["guid-1"]["isRead"] is True and "isRead" not in arts["guid-3"]
    td.stop()
    td.start()
    assert items(td) == before
    # answered = committed: kill -9 right after the replies
    rpost(td, "markAsRead", itemPath="F")
    rpost(td, "addFolder", path="After")
    td.kill9()
    td.start()
    after = items(td)
    assert "After" in after
    assert all(a.get("isRead") is True for a in after["F"]["Loop"]["articles"])
    assert after["F"]["Loop"]["refreshInterval"] == 7200


def test_fetch_delay_per_host(workdir, procs, feeds):
    """rss_fetch_delay: two feeds of one host are fetched one after the
    other with the delay between (qBittorrent's sequential service)."""
    td = start_td(workdir, procs, rss_fetch_delay=2)
    times = []
    orig = feeds.count

    rpost(td, "addFeed", url=feeds.url("/rss"), path="A")
    rpost(td, "addFeed", url=feeds.url("/atom"), path="B")
    t0 = time.monotonic()
    rpost(td, "refreshItem", itemPath="")
    wait_until(lambda: orig("/rss") + orig("/atom") == 1, 10, "the first fetch")
    times.append(time.monotonic() - t0)
    wait_until(lambda: orig("/rss") + orig("/atom") == 2, 10, "the second fetch")
    times.append(time.monotonic() - t0)
    assert times[1] - times[0] >= 1.5, times
    wait_until(lambda: all(not v["isLoading"] and v["articles"] for v in items(td).values()), 10, "both loaded")


def test_shutdown_with_fetch_in_flight(workdir, procs, feeds):
    """A feed still downloading when the daemon stops: the fetch is
    cancelled, the exit is clean (no sanitizer report, rc 0)."""
    td = start_td(workdir, procs)
    rpost(td, "addFeed", url=feeds.url("/slow"), path="Slow")
    rpost(td, "refreshItem", itemPath="Slow")
    wait_until(lambda: feeds.count("/slow") == 1, 10, "the slow request")
    td.stop()
    assert td.proc.returncode == 0, td.log_tail()
    assert td.sanitizer_report() is None


def _norm_article(a):
    return {k: v for k, v in a.items()}


@pytest.mark.xdist_group("qbt_nox")
def test_items_match_qbittorrent_nox(workdir, procs, feeds):
    """rss/items withData for the same feeds in torrentd and qbittorrent-nox
    4.5.2 (RSS 2.0, Atom, broken).  4.5.2 differences, documented here: no
    refreshInterval key (new in 5.x, absent here as the feeds have none);
    the article order (4.5.2 serialises a hash: compared by id); an item
    without a date gets the time of the fetch (compared within a minute)."""
    from conftest import MINI_IP
    from tdlib import Qbt
    qb = procs.add(Qbt(os.path.join(workdir, "qbt"), MINI_IP)).start()
    td = start_td(workdir, procs)
    names = {"R": ("/rss", 3), "A": ("/atom", 2), "B": ("/broken", 2)}
    for c in (qb, td):
        for name, (path, n) in names.items():
            c.req("POST", "/api/v2/rss/addFeed", data={"url": feeds.url(path), "path": name})
            c.req("POST", "/api/v2/rss/refreshItem", data={"itemPath": name})
        for name, (path, n) in names.items():
            wait_until(lambda: len(items(c).get(name, {}).get("articles", [])) == n
                       and not items(c)[name]["isLoading"], 30, "%s articles of %s" % (c.name, name))
    qi, ti = items(qb), items(td)
    print("qbittorrent-nox 4.5.2:", json.dumps(qi, indent=1, sort_keys=True))
    print("torrentd:", json.dumps(ti, indent=1, sort_keys=True))
    assert sorted(qi) == sorted(ti) == sorted(names)
    for name in names:
        a, b = qi[name], ti[name]
        assert sorted(a) == sorted(b), name
        for k in ("url", "title", "lastBuildDate", "isLoading", "hasError"):
            assert a[k] == b[k], (name, k)
        qa = {x["id"]: dict(x) for x in a["articles"]}
        ta = {x["id"]: dict(x) for x in b["articles"]}
        if name == "B":
            # The broken feed's items have no date: both daemons stamp the
            # time they fetched it, which is not the same second.
            import email.utils
            for i in set(qa) & set(ta):
                dq = email.utils.parsedate_to_datetime(qa[i].pop("date"))
                dt = email.utils.parsedate_to_datetime(ta[i].pop("date"))
                assert abs((dq - dt).total_seconds()) < 60, (i, dq, dt)
        assert qa == ta, name


def test_processing_refreshes_at_start(workdir, procs, feeds):
    """With rss_processing_enabled, a restart refreshes the stored feeds."""
    td = start_td(workdir, procs, rss_processing_enabled=True)
    rpost(td, "addFeed", url=feeds.url("/rss"), path="S")
    wait_until(lambda: feeds.count("/rss") == 1, 10, "the fetch after addFeed")
    wait_articles(td, "S", 3)
    td.stop()
    td.start()
    wait_until(lambda: feeds.count("/rss") == 2, 10, "the fetch at start")
    wait_until(lambda: log_has(td, "RSS feed at '%s' updated. Added 0 new articles." % feeds.url("/rss")), 10,
               "the refresh's log line")


def test_extreme_intervals(workdir, procs, feeds):
    """Huge intervals and delays are kept as given and counted without
    overflow (UBSan would report it; the procs fixture fails on that)."""
    big = 9223372036854775807
    td = start_td(workdir, procs, rss_processing_enabled=True, rss_refresh_interval=big, rss_fetch_delay=big,
                  rss_max_articles_per_feed=big)
    rpost(td, "addFeed", url=feeds.url("/rss"), path="X", refreshInterval=str(big))
    rpost(td, "addFeed", url=feeds.url("/atom"), path="Y")
    wait_articles(td, "X", 3)
    assert items(td, False)["X"]["refreshInterval"] == big
    rpost(td, "setFeedRefreshInterval", path="X", refreshInterval="1")
    rpost(td, "setFeedRefreshInterval", path="X", refreshInterval=str(big))
    td.set_prefs({"rss_refresh_interval": -5, "rss_fetch_delay": -5, "rss_max_articles_per_feed": -1})
    assert len(items(td)["X"]["articles"]) == 1   # a cap below 1 counts as 1
    assert td.alive()


@pytest.mark.xdist_group("qbt_nox")
def test_errors_match_qbittorrent_nox(workdir, procs, feeds):
    """The 409 texts and the tree after the same calls, torrentd vs
    qbittorrent-nox 4.5.2 (setFeedURL and setFeedRefreshInterval are 5.x
    only: not sent).
    Not sent either: moving a folder into its own subfolder, which crashes
    4.5.2 (5.x answers 409 "Can't move a folder into itself or its
    subfolders.", as torrentd does: test_tree_and_409)."""
    from conftest import MINI_IP
    from tdlib import Qbt
    qb = procs.add(Qbt(os.path.join(workdir, "qbt"), MINI_IP)).start()
    td = start_td(workdir, procs)
    url = feeds.url("/rss")
    calls = [
        ("addFolder", {"path": "Linux"}), ("addFolder", {"path": "Linux"}),
        ("addFolder", {"path": "Linux\\Debian"}), ("addFolder", {"path": "No\\Such"}),
        ("addFolder", {"path": "a\\\\b"}), ("addFolder", {"path": "\\lead"}), ("addFolder", {"path": "trail\\"}),
        ("addFeed", {"url": url, "path": "Linux\\Debian\\News"}), ("addFeed", {"url": url, "path": "Other"}),
        ("addFeed", {"url": feeds.url("/atom"), "path": "Linux"}),
        ("removeItem", {"path": ""}), ("removeItem", {"path": "Nope"}),
        ("moveItem", {"itemPath": "", "destPath": "x"}), ("moveItem", {"itemPath": "Nope", "destPath": "x"}),
        ("moveItem", {"itemPath": "Linux\\Debian\\News", "destPath": "Linux"}),
        ("moveItem", {"itemPath": "Linux\\Debian\\News", "destPath": "News"}),
        ("moveItem", {"itemPath": "News", "destPath": "News"}),
        ("moveItem", {"itemPath": "Linux", "destPath": "Linux\\X"}),
        ("markAsRead", {"itemPath": "Nope"}), ("markAsRead", {"itemPath": "News", "articleId": "nope"}),
        ("refreshItem", {"itemPath": "Nope"}),
        ("removeItem", {"path": "Linux"}),
    ]
    for ep, data in calls:
        got = []
        for c in (qb, td):
            r = c.s.post(c.base + "/api/v2/rss/" + ep, data=data, timeout=30)
            got.append((r.status_code, r.text))
        assert got[0] == got[1], (ep, data, got)
    assert items(qb, False).keys() == items(td, False).keys() == {"News"}
    assert items(qb, False)["News"]["url"] == items(td, False)["News"]["url"] == url
