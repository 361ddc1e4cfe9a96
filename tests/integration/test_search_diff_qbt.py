"""Differential test of search/*: the same local plugins in torrentd and in
Debian's qbittorrent-nox 4.5.2, the same calls, compared.

Known 4.5 -> 5.1 differences (clients-wave2.md §4.3): 4.5.2's status has
only id, status and total; its results have no engineName and pubDate, and
it reads desc_link only from a line of exactly seven fields.
Deliberate differences of torrentd, not compared here: a result line over
64 KiB is dropped (4.5.2 keeps it whole), and a NUL byte in a line becomes
U+FFFD (Qt 5's QString::fromUtf8 cuts 4.5.2's line there; 5.1 keeps a raw
U+0000 in the JSON).  The plugin list is sorted by name in torrentd (a
QHash's order in qBittorrent): compared as sets.
"""
import os

import pytest

from tdlib import Qbt, Torrentd, loip
import test_search as T

TD_IP, QBT_IP = loip(6), loip(7)
# one daemon pair for the module: its tests stay on one worker
pytestmark = pytest.mark.xdist_group("search_diff_qbt")


@pytest.fixture(scope="module")
def pair(module_procs, tmp_path_factory):
    d = str(tmp_path_factory.mktemp("sdiff"))
    td = module_procs.add(Torrentd(os.path.join(d, "td"), TD_IP))
    qb = module_procs.add(Qbt(os.path.join(d, "qbt"), QBT_IP))
    td.start()
    qb.start()
    marks = os.path.join(d, "marks")
    os.makedirs(marks)
    srcs = [T.write_plugin(d, "fast", T.plugin_src("fast", T.FAST_BODY, url=T.SITE, full="Fast Site")),
            T.write_plugin(d, "garbage", T.plugin_src("garbage", T.GARBAGE_BODY, url="http://garbage.example")),
            T.write_plugin(d, "slow", T.plugin_src("slow", T.SLOW_BODY % {"dir": marks}))]
    for x in (td, qb):
        T.install(x, *srcs)
    # qBittorrent installs a local file synchronously, torrentd answers
    # once installed: both lists are complete now.
    yield {"td": td, "qbt": qb, "marks": marks}


def both(pair, fn):
    return fn(pair["td"]), fn(pair["qbt"])


def run(x, plugin, pattern="big  buck"):
    sid = T.start(x, pattern=pattern, plugins=plugin).json()["id"]
    T.wait_stopped(x, sid)
    return sid


def test_plugins(pair):
    a, b = both(pair, lambda x: sorted(x.get("/api/v2/search/plugins").json(), key=lambda p: p["name"]))
    assert [p["name"] for p in a] == ["fast", "garbage", "slow"]
    assert a == b


def test_results_and_status(pair):
    def go(x):
        sid = run(x, "fast")
        st = x.get("/api/v2/search/status", id=sid).json()
        res = T.results(x, sid)
        return st, res

    (st_a, res_a), (st_b, res_b) = both(pair, go)
    assert [{k: s[k] for k in ("status", "total")} for s in st_a] == \
           [{k: s[k] for k in ("status", "total")} for s in st_b]
    for r in res_a["results"]:
        assert r.pop("engineName") == "fast"
        assert r.pop("pubDate") >= 1700000000
    assert res_a == res_b


def test_parser_agrees_on_split_and_bad_numbers(pair):
    def go(x):
        sid = run(x, "garbage")
        return {r["fileUrl"]: r for r in T.results(x, sid)["results"]}

    a, b = both(pair, go)
    split_a = dict(a["http://g/split"])
    del split_a["engineName"], split_a["pubDate"]
    split_b = dict(b["http://g/split"])
    # 4.5.2 takes desc_link only from a line of exactly 7 fields; 5.1 from
    # any line of 7 or more (this one has 8, with pub_date).
    assert (split_a.pop("descrLink"), split_b.pop("descrLink")) == ("http://g/d", "")
    assert split_a == split_b
    assert "http://g/long" in b and "http://g/long" not in a    # the bound (deliberate)


@pytest.mark.parametrize("params", [{"offset": -3}, {"offset": 1, "limit": 2}, {"offset": 10}, {"offset": 11},
                                    {"offset": -11}, {"limit": -1, "offset": -10}, {"offset": "x"}])
def test_paging(pair, params):
    def go(x):
        sid = run(x, "fast")
        r = x.req("GET", "/api/v2/search/results", ok=(200, 409), params=dict(params, id=sid))
        if r.status_code != 200:
            return r.status_code, r.text
        j = r.json()
        return r.status_code, [e["fileUrl"] for e in j["results"]], j["total"], j["status"]

    a, b = both(pair, go)
    assert a == b


@pytest.mark.parametrize("call", [("POST", "stop", {"id": 99}), ("POST", "delete", {"id": 99}),
                                  ("GET", "results", {"id": 99}), ("GET", "status", {"id": 99}),
                                  ("POST", "start", {"pattern": "x"}), ("GET", "start", {"pattern": "x"}),
                                  ("POST", "results", {}), ("POST", "enablePlugin", {"names": "fast"})])
def test_errors(pair, call):
    method, path, data = call
    kw = {"data": data} if method == "POST" else {"params": data}
    a, b = both(pair, lambda x: (lambda r: (r.status_code, r.text))(
        x.req(method, "/api/v2/search/" + path, ok=(200, 400, 404, 405, 409), **kw)))
    assert a == b


def test_five_concurrent(pair):
    release = os.path.join(pair["marks"], "release")

    def go(x):
        ids = [T.start(x, pattern="c%d" % i, plugins="slow").json()["id"] for i in range(5)]
        r = T.start(x, plugins="slow", ok=(200, 409))
        for i in ids:
            x.post("/api/v2/search/stop", id=i)
        # qbittorrent-nox 4.5.2 says Stopped only once the plugin's process
        # has ended, which took over 30 s on a loaded machine: the slow
        # plugins are let go (torrentd's stop does not wait for them)
        open(release, "w").close()
        try:
            for i in ids:
                T.wait_stopped(x, i)
        finally:
            os.unlink(release)
        return r.status_code, r.text

    a, b = both(pair, go)
    assert a == b == (409, "Unable to create more than 5 concurrent searches.")
