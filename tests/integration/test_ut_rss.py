"""µTorrent's RSS calls over torrentd's RSS module (web/api/ut_gui_rss.c):
rss-update, rss-remove, add-unknown-url with a feed, and the rssfeeds rows
of list=1 with their cache-id deltas (seed 004 "RSS Feed Actions",
"Torrent/labels/RSS/Filters List"; clients-wave2.md §1.1, §1.3).

The feeds are served by test_rss_feeds.py's loopback feed server; every
change made through /gui/ is checked through qBittorrent's rss/items too
(one model, two dialects), and the feed ids against the uid they are
derived from.  Waits are on observable conditions, never sleeps.
"""
import os
import time

import pytest

from conftest import LEECH_IP
from tdlib import Torrentd, make_torrent, piece_hashes, wait_until
from test_rss_feeds import FeedServer
from test_ut_gui import Gui

ID, ENABLED, USE_FEED_TITLE, USER_SELECTED, PROGRAMMED, DOWNLOAD_STATE, URL, NEXT_UPDATE, ITEMS = range(9)
(I_NAME, I_NAME_FULL, I_URL, I_QUALITY, I_CODEC, I_TIMESTAMP, I_SEASON, I_EPISODE, I_EPISODE_TO, I_FEED_ID,
 I_REPACK, I_IN_HISTORY) = range(12)

# test_rss_feeds.RSS's items and a few titles with tags for QUALITY/CODEC
TAGGED = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Tagged</title>
<item><title>Some.Show.S02E05.REPACK.HR.HDTV.XviD-GRP</title><guid>t1</guid>
  <enclosure url="http://127.0.0.1/t1.torrent" type="application/x-bittorrent"/>
  <pubDate>Tue, 10 Jun 2003 04:00:00 GMT</pubDate></item>
<item><title>Film 2003 1080p WEBRip x264</title><guid>t2</guid><link>http://127.0.0.1/t2</link>
  <pubDate>Mon, 09 Jun 2003 04:00:00 GMT</pubDate></item>
</channel></rss>
"""


def uid_id(uid):
    """The feed id ut_gui_rss.c derives: FNV-1a 32 of the uid, 31 bits, never 0."""
    h = 2166136261
    for b in uid.encode():
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    h &= 0x7FFFFFFF
    return h or 1


@pytest.fixture
def feeds():
    s = FeedServer()
    s.docs["/tagged"] = TAGGED
    s.docs["/page"] = b"<html><body>not a feed</body></html>"
    yield s
    s.close()


@pytest.fixture
def td(workdir, procs):
    t = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    t.set_prefs({"rss_fetch_delay": 0, "dht": False, "lsd": False, "pex": False, "upnp": False})
    return t


def gui_of(td):
    g = Gui(td)
    g.get_token()
    return g


def v2_items(td, with_data=False):
    return td.get("/api/v2/rss/items", withData="true" if with_data else "false").json()


def feed_rows(g):
    return {f[ID]: f for f in g.call(("list", "1"))["rssfeeds"]}


def wait_items(g, fid, n):
    def ok():
        f = feed_rows(g).get(fid)
        return f if f and len(f[ITEMS]) >= n and f[DOWNLOAD_STATE] == 0 else None
    wait_until(ok, 20, "%d items of feed %d" % (n, fid))
    return feed_rows(g)[fid]


def test_rss_update_new_edit_refresh_remove(td, feeds):
    g = gui_of(td)
    url = feeds.url("/rss")
    j = g.ok(("action", "rss-update"), ("feed-id", "-1"), ("url", url), ("alias", "Loop"), ("update", "1"))
    fid = j["rss_ident"]
    # the same feed through qBittorrent's view, its id derived from its uid
    v2 = v2_items(td)
    assert list(v2) == ["Loop"] and v2["Loop"]["url"] == url
    assert fid == uid_id(v2["Loop"]["uid"])
    # update=1 fetched it (processing is off: nothing else would)
    f = wait_items(g, fid, 3)
    assert f[ENABLED] is True and f[USER_SELECTED] is True and f[PROGRAMMED] is False
    assert f[USE_FEED_TITLE] is False          # named by the alias, not the title
    assert f[URL] == "Loop|" + url and f[NEXT_UPDATE] == 0   # processing off: nothing scheduled
    first = f[ITEMS][1]    # newest first: 11 Jun, 10 Jun, 9 Jun
    assert first[I_NAME] == first[I_NAME_FULL] == "Show S01E01 720p"
    assert first[I_URL] == "http://127.0.0.1/t/1.torrent" and first[I_QUALITY] == 2048 and first[I_CODEC] == 0
    assert first[I_TIMESTAMP] == 1055217600 and first[I_FEED_ID] == fid
    assert first[I_REPACK] is False and first[I_IN_HISTORY] is False
    assert f[ITEMS][0][I_URL].startswith("magnet:?xt=urn:btih:") and f[ITEMS][0][I_TIMESTAMP] == 1055296800
    assert [i[I_NAME] for i in f[ITEMS]] == [a["title"] for a in v2_items(td, True)["Loop"]["articles"]]

    # read state through v2 = IN_HISTORY; a cid sees only that feed change
    cid = g.call(("list", "1"))["torrentc"]
    td.post("/api/v2/rss/markAsRead", itemPath="Loop", articleId="guid-1")
    d = g.call(("list", "1"), ("cid", cid))
    assert "rssfeeds" not in d and d["rssfeedm"] == [] and d["rssfilterp"] == [] and d["rssfilterm"] == []
    assert [r[ID] for r in d["rssfeedp"]] == [fid] and d["rssfeedp"][0][ITEMS][1][I_IN_HISTORY] is True
    same = g.call(("list", "1"), ("cid", d["torrentc"]))
    assert same["rssfeedp"] == [] and same["rssfeedm"] == []

    # alias: a rename (moveItem); the id stays
    g.ok(("action", "rss-update"), ("feed-id", str(fid)), ("alias", "Renamed"))
    assert list(v2_items(td)) == ["Renamed"] and feed_rows(g)[fid][URL] == "Renamed|" + url
    # an empty alias: the feed's title (µTorrent's "use feed title")
    g.ok(("action", "rss-update"), ("feed-id", str(fid)), ("alias", ""))
    f = feed_rows(g)[fid]
    assert list(v2_items(td)) == ["Loop Feed"] and f[URL] == "Loop Feed|" + url and f[USE_FEED_TITLE] is True
    # url: setFeedURL, same uid, same id; update=1 fetches the new one
    atom = feeds.url("/atom")
    g.ok(("action", "rss-update"), ("feed-id", str(fid)), ("url", atom), ("update", "1"))
    assert v2_items(td)["Loop Feed"]["url"] == atom and uid_id(v2_items(td)["Loop Feed"]["uid"]) == fid
    wait_until(lambda: feeds.count("/atom") >= 1, 20, "the new URL fetched")
    wait_until(lambda: any(i[I_NAME] == "Atom One" for i in feed_rows(g)[fid][ITEMS]), 20, "atom items")
    assert feed_rows(g)[fid][URL] == "Loop Feed|" + atom

    # rss-remove with @ctrl/utorrent's feedid: gone from both views, in rssfeedm
    cid = g.call(("list", "1"))["torrentc"]
    g.ok(("action", "rss-remove"), ("feedid", str(fid)))
    assert v2_items(td) == {} and feed_rows(g) == {}
    d = g.call(("list", "1"), ("cid", cid))
    assert d["rssfeedm"] == [fid] and d["rssfeedp"] == []
    # an unknown id changes nothing and is no error (as unknown hashes)
    g.ok(("action", "rss-remove"), ("feed-id", str(fid)))


def test_rss_update_refusals(td, feeds):
    g = gui_of(td)
    url = feeds.url("/rss")
    fid = g.ok(("action", "rss-update"), ("url", url))["rss_ident"]   # no feed-id: new
    assert list(v2_items(td)) == [url]                                  # no alias: named by its URL
    assert feed_rows(g)[fid][USE_FEED_TITLE] is True
    for params in ((("feed-id", "-1"),),                           # new without url
                   (("feed-id", "-1"), ("url", url)),               # the URL is there already
                   (("feed-id", "123"), ("url", url)),              # no such feed
                   (("feed-id", "abc"),),
                   (("feed-id", str(fid)), ("enabled", "0")),       # no per-feed switch
                   (("feed-id", "-1"), ("url", feeds.url("/atom")), ("subscribe", "1")),
                   (("feed-id", str(fid)), ("alias", "No\\Such\\Folder"))):
        j = g.call(("action", "rss-update"), *params)
        assert "error" in j, params
    assert "already exists" in g.call(("action", "rss-update"), ("feed-id", "-1"), ("url", url))["error"]
    assert list(v2_items(td)) == [url]
    # @ctrl/utorrent's enabled=true and the WebUI's enabled=1 are fine
    g.ok(("action", "rss-update"), ("feed-id", str(fid)), ("enabled", "true"))
    g.ok(("action", "rss-update"), ("feed-id", str(fid)), ("enabled", "1"), ("subscribe", "0"))
    g.ok(("action", "rss-remove"), ("feed-id", str(fid)))
    assert v2_items(td) == {}


def test_ids_survive_restart_and_folders(td, feeds):
    g = gui_of(td)
    td.req("POST", "/api/v2/rss/addFolder", data={"path": "Shows"})
    a = g.ok(("action", "rss-update"), ("url", feeds.url("/rss")), ("alias", "Shows\\Loop"))["rss_ident"]
    b = g.ok(("action", "rss-update"), ("url", feeds.url("/atom")), ("alias", "Atom"))["rss_ident"]
    rows = feed_rows(g)
    assert rows[a][URL] == "Shows\\Loop|" + feeds.url("/rss") and rows[b][URL] == "Atom|" + feeds.url("/atom")
    assert v2_items(td)["Shows"]["Loop"]["url"] == feeds.url("/rss")
    td.stop()
    td.start()
    g = gui_of(td)
    assert set(feed_rows(g)) == {a, b}
    # a feed moved out of its folder keeps its id
    g.ok(("action", "rss-update"), ("feed-id", str(a)), ("alias", "Loop"))
    assert feed_rows(g)[a][URL] == "Loop|" + feeds.url("/rss") and "Loop" in v2_items(td)


def test_item_tags(td, feeds):
    g = gui_of(td)
    # processing on: fetched without update=1, and the next refresh is shown
    td.set_prefs({"rss_processing_enabled": True})
    fid = g.ok(("action", "rss-update"), ("url", feeds.url("/tagged")), ("alias", "T"))["rss_ident"]
    f = wait_items(g, fid, 2)
    assert time.time() + 25 * 60 < f[NEXT_UPDATE] <= time.time() + 31 * 60   # rss_refresh_interval 30 min
    ep, film = f[ITEMS]
    assert ep[I_QUALITY] == 128 and ep[I_CODEC] == 6 and ep[I_REPACK] is True   # HR.HDTV, XviD
    assert ep[I_URL] == "http://127.0.0.1/t1.torrent"
    assert film[I_QUALITY] == 8192 and film[I_CODEC] == 8 and film[I_REPACK] is False   # 1080p, x264
    assert film[I_URL] == "http://127.0.0.1/t2"     # no enclosure: the link


def test_cid_deltas_and_full_forms(td, feeds):
    g = gui_of(td)
    full = g.call(("list", "1"))
    assert full["rssfeeds"] == [] and full["rssfilters"] == []
    cid = full["torrentc"]
    fid = g.ok(("action", "rss-update"), ("url", feeds.url("/rss")), ("alias", "New"))["rss_ident"]
    d = g.call(("list", "1"), ("cid", cid))
    assert "rssfeeds" not in d and [r[ID] for r in d["rssfeedp"]] == [fid] and d["rssfeedm"] == []
    # a new cid differs from one issued before the change
    assert d["torrentc"] != cid
    # an unknown cid: the full lists
    f = g.call(("list", "1"), ("cid", "12345"))
    assert [r[ID] for r in f["rssfeeds"]] == [fid] and "rssfeedp" not in f
    # an action with list=1 answers the list after the change
    j = g.call(("action", "rss-remove"), ("feed-id", str(fid)), ("list", "1"), ("cid", d["torrentc"]))
    assert j["rssfeedm"] == [fid]


class TorrentHere:
    def __init__(self, feeds):
        payload = os.urandom(40000)
        info = {"name": "unknown-url.bin", "piece length": 16384, "length": len(payload),
                "pieces": piece_hashes(payload, 16384)}
        self.tbytes, self.hash = make_torrent(info, announce="http://127.0.0.1:9/announce")
        feeds.docs["/t.torrent"] = self.tbytes


def test_add_unknown_url_feed_or_torrent(td, feeds):
    g = gui_of(td)
    t = TorrentHere(feeds)
    # a torrent URL: the torrent
    g.ok(("action", "add-unknown-url"), ("s", feeds.url("/t.torrent")))
    assert g.row(t.hash) and v2_items(td) == {}
    # a feed URL: the feed, named by its URL (renamed to its title once fetched)
    url = feeds.url("/atom")
    g.ok(("action", "add-unknown-url"), ("s", url))
    assert v2_items(td) == {url: {"uid": v2_items(td)[url]["uid"], "url": url}}
    assert [f[URL] for f in feed_rows(g).values()] == [url + "|" + url]
    # again: nothing changes
    g.ok(("action", "add-unknown-url"), ("s", url))
    # neither: an error, nothing added
    j = g.call(("action", "add-unknown-url"), ("s", feeds.url("/page")))
    assert "neither a torrent nor an RSS feed" in j["error"]
    assert list(v2_items(td)) == [url] and len(g.rows()) == 1


# ---- filters: the auto-downloader's rules ----

(F_ID, F_FLAGS, F_NAME, F_FILTER, F_NOT_FILTER, F_DIRECTORY, F_FEED, F_QUALITY, F_LABEL, F_POSTPONE_MODE,
 F_LAST_MATCH, F_SMART_EP_FILTER, F_REPACK_EP_FILTER, F_EPISODE_FILTER_STR, F_EPISODE_FILTER,
 F_RESOLVING_CANDIDATE) = range(16)
FLAG_ENABLE, FLAG_SMART_EP, FLAG_ADD_STOPPED, FLAG_HIGH_PRIO = 1, 8, 16, 4


def filter_rows(g):
    return {f[F_ID]: f for f in g.call(("list", "1"))["rssfilters"]}


def v2_rules(td):
    return td.get("/api/v2/rss/rules").json()


def hashes(td):
    return {t["hash"] for t in td.info()}


def test_filters_over_rules_download(td, workdir):
    from test_rss_rules import FeedServer as TorrentFeed
    fs = TorrentFeed()
    t0 = 1700000000
    h1 = fs.add("e01", "Show S01E01 720p", t0)
    h_other = fs.add("other", "Other S01E01 720p", t0 + 60)
    h_x265 = fs.add("x265", "Show S01E02 720p x265", t0 + 120)
    try:
        g = gui_of(td)
        td.set_prefs({"rss_auto_downloading_enabled": True})
        fid = g.ok(("action", "rss-update"), ("url", fs.url), ("alias", "Shows"), ("update", "1"))["rss_ident"]
        f = wait_items(g, fid, 3)
        # SEASON/EPISODE as the smart episode filter reads them
        assert [(i[I_NAME], i[I_SEASON], i[I_EPISODE]) for i in f[ITEMS]] == [
            ("Show S01E02 720p x265", 1, 2), ("Other S01E01 720p", 1, 1), ("Show S01E01 720p", 1, 1)]

        # the official WebUI's "add filter": filter-id=-1 and nothing else;
        # disabled, as it would match every article
        cid = g.call(("list", "1"))["torrentc"]
        new = g.ok(("action", "filter-update"), ("filter-id", "-1"))["filter_ident"]
        assert new == uid_id("New filter")
        r = v2_rules(td)["New filter"]
        assert r["enabled"] is False and r["mustContain"] == "" and r["affectedFeeds"] == [fs.url]
        row = filter_rows(g)[new]
        assert row[F_FLAGS] == 0 and row[F_NAME] == "New filter" and row[F_FEED] == fid   # the one feed there is
        assert row[F_QUALITY] == -1 and row[F_POSTPONE_MODE] == 0 and row[F_LAST_MATCH] == 0
        assert row[F_REPACK_EP_FILTER] == 1 and row[F_RESOLVING_CANDIDATE] is False
        d = g.call(("list", "1"), ("cid", cid))
        assert [x[F_ID] for x in d["rssfilterp"]] == [new] and d["rssfilterm"] == [] and d["rssfeedp"] == []
        assert g.ok(("action", "filter-update"), ("filter-id", "-1"))["filter_ident"] == uid_id("New filter 2")

        # edit: renamed (its id follows the name), every field to the rule
        dl = os.path.join(workdir, "rss-dl")
        cid = g.call(("list", "1"))["torrentc"]
        g.ok(("action", "filter-update"), ("filter-id", str(new)), ("name", "TV"), ("filter", "show 720p"),
             ("not-filter", "x265"), ("save-in", dl), ("label", "tv"), ("feed-id", str(fid)),
             ("smart-ep-filter", "1"), ("add-stopped", "1"), ("prio", "1"), ("enabled", "1"))
        tv = uid_id("TV")
        rules = v2_rules(td)
        assert "New filter" not in rules
        r = rules["TV"]
        assert r["enabled"] is True and r["mustContain"] == "show 720p" and r["mustNotContain"] == "x265"
        assert r["affectedFeeds"] == [fs.url] and r["smartFilter"] is True and r["useRegex"] is False
        tp = r["torrentParams"]
        assert tp["category"] == "tv" and tp["save_path"] == dl and tp["stopped"] is True
        assert tp["add_to_top_of_queue"] is True
        d = g.call(("list", "1"), ("cid", cid))
        assert [x[F_ID] for x in d["rssfilterp"]] == [tv] and d["rssfilterm"] == [new]

        # the rule downloads exactly the matching article, with its params
        wait_until(lambda: h1 in hashes(td), 30, "the matching torrent added")
        t = td.torrent(h1)
        assert t["category"] == "tv" and t["save_path"].rstrip("/") == dl
        assert h_other not in hashes(td) and h_x265 not in hashes(td)
        wait_until(lambda: feed_rows(g)[fid][ITEMS][2][I_IN_HISTORY], 20, "the downloaded article read")
        row = filter_rows(g)[tv]
        assert row[F_FLAGS] == FLAG_ENABLE | FLAG_HIGH_PRIO | FLAG_SMART_EP | FLAG_ADD_STOPPED
        assert (row[F_NAME], row[F_FILTER], row[F_NOT_FILTER], row[F_DIRECTORY], row[F_FEED], row[F_LABEL]) == (
            "TV", "show 720p", "x265", dl, fid, "tv")
        assert row[F_LAST_MATCH] == t0 and row[F_SMART_EP_FILTER] == 1
        assert v2_rules(td)["TV"]["previouslyMatchedEpisodes"] == ["1x1"]

        # episode filter: the string is qBittorrent's; episode-filter=0 clears it
        g.ok(("action", "filter-update"), ("filter-id", str(tv)), ("episode", "1x3-;"), ("episode-filter", "1"))
        assert v2_rules(td)["TV"]["episodeFilter"] == "1x3-;"
        row = filter_rows(g)[tv]
        assert row[F_EPISODE_FILTER_STR] == "1x3-;" and row[F_EPISODE_FILTER] is True
        g.ok(("action", "filter-update"), ("filter-id", str(tv)), ("episode-filter", "0"))
        assert v2_rules(td)["TV"]["episodeFilter"] == "" and filter_rows(g)[tv][F_EPISODE_FILTER] is False
        # feed-id -1: every feed's URL; the row then says -1 only with several feeds
        other = g.ok(("action", "rss-update"), ("url", fs.base + "/none.xml"), ("alias", "None"))["rss_ident"]
        g.ok(("action", "filter-update"), ("filter-id", str(tv)), ("feed-id", "-1"))
        assert sorted(v2_rules(td)["TV"]["affectedFeeds"]) == sorted([fs.url, fs.base + "/none.xml"])
        assert filter_rows(g)[tv][F_FEED] == -1
        g.ok(("action", "rss-remove"), ("feed-id", str(other)))

        # what the rules cannot say is refused, and changes nothing
        before = v2_rules(td)
        for params in ((("filter-id", str(tv)), ("origname", "1")),
                       (("filter-id", str(tv)), ("quality", "2048")),
                       (("filter-id", str(tv)), ("postpone-mode", "3")),
                       (("filter-id", str(tv)), ("feed-id", "12345")),
                       (("filter-id", "12345"), ("name", "x")),
                       (("filter-id", "zz"),),
                       (("filter-id", str(tv)), ("name", "New filter 2")),       # taken
                       (("filter-id", "-1"), ("name", "TV"))):
            assert "error" in g.call(("action", "filter-update"), *params), params
        assert v2_rules(td) == before

        # filter-remove: gone from both views, in rssfilterm
        cid = g.call(("list", "1"))["torrentc"]
        g.ok(("action", "filter-remove"), ("filter-id", str(tv)), ("filter-id", str(uid_id("New filter 2"))))
        assert v2_rules(td) == {} and filter_rows(g) == {}
        d = g.call(("list", "1"), ("cid", cid))
        assert sorted(d["rssfilterm"]) == sorted([tv, uid_id("New filter 2")])
        g.ok(("action", "filter-remove"), ("filter-id", str(tv)))   # unknown: nothing to do
    finally:
        fs.close()


def test_filter_ids_survive_restart(td, feeds):
    g = gui_of(td)
    fid = g.ok(("action", "rss-update"), ("url", feeds.url("/rss")), ("alias", "Loop"))["rss_ident"]
    a = g.ok(("action", "filter-update"), ("name", "A"), ("filter", "nothing-matches-this"),
             ("feed-id", str(fid)))["filter_ident"]
    td.stop()
    td.start()
    g = gui_of(td)
    rows = filter_rows(g)
    assert list(rows) == [a] and rows[a][F_FEED] == fid and rows[a][F_FLAGS] == FLAG_ENABLE
    # a rule made through qBittorrent's API is a filter too
    td.post("/api/v2/rss/setRule", ruleName="B", ruleDef='{"mustContain": "x", "affectedFeeds": []}')
    assert set(filter_rows(g)) == {a, uid_id("B")}
