"""The RSS auto-downloader's endpoints (rss/setRule, renameRule, cloneRule,
removeRule, rules, matchingArticles) as qBittorrent 5.1 answers them
(rsscontroller.cpp), and the rules surviving a restart."""
import json
import os

from conftest import LEECH_IP
from tdlib import Torrentd

DEFAULT_PARAMS = {
    "category": "", "tags": [], "save_path": "", "download_path": "", "operating_mode": "AutoManaged",
    "seed_mode": False, "upload_limit": -1, "download_limit": -1, "ratio_limit": -2,
    "seeding_time_limit": -2, "inactive_seeding_time_limit": -2, "share_limit_action": "Default",
    "share_limits_mode": "Default", "ssl_certificate": "", "ssl_private_key": "", "ssl_dh_params": "",
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
