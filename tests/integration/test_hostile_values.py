"""Hostile values (issue 10) in torrents/add's options and in
app/setPreferences: numbers that do not parse or do not fit, NaN and
infinities, NUL bytes, 1 MB strings, wrong JSON types, duplicate keys,
deep nesting, invalid UTF-8.

Each is refused with 400 and a body naming the parameter or key (where
qBittorrent has its own answer, that one), and nothing changes: no torrent
added, no category or tag created, the preferences compare equal before and
after, nothing created under the scratch directory.  test_hostile_api.py has
the transport-level cases (multipart framing, raw query strings, JSON that
does not parse); this file is about values that arrive intact.
"""
import json
import os

import pytest

from conftest import LEECH_IP
from tdlib import Torrentd, make_torrent, piece_hashes, tree_snapshot, wait_until

PL = 16384
PAYLOAD = os.urandom(3 * PL)
INFO = {"name": "hv.bin", "piece length": PL, "length": len(PAYLOAD),
        "pieces": piece_hashes(PAYLOAD, PL)}
TBYTES, HASH = make_torrent(INFO)
MB = "x" * (1 << 20)


@pytest.fixture(scope="module")
def td(module_procs, tmp_path_factory):
    d = module_procs.add(Torrentd(str(tmp_path_factory.mktemp("hostile_values")), LEECH_IP))
    d.start()
    d.scratch = os.path.join(d.rundir, "scratch")
    os.makedirs(os.path.join(d.scratch, "save"))
    return d


def state(d):
    return {"prefs": d.prefs(), "torrents": sorted(t["hash"] for t in d.info()),
            "cats": d.get("/api/v2/torrents/categories").json(),
            "tags": d.get("/api/v2/torrents/tags").json(),
            "files": tree_snapshot(d.scratch)}


def check_unchanged(d, before, what):
    assert d.alive(), "torrentd died on " + what
    after = state(d)
    for k in before:
        assert after[k] == before[k], "%s changed %s" % (what, k)


# --------------------------------------------------------------------------
# torrents/add options (multipart, as the WebUI sends them: NULs arrive raw)
# --------------------------------------------------------------------------

ADD_CASES = [
    # (id, parameter, value)
    ("upLimit not a number", "upLimit", "12abc"),
    ("dlLimit 2^64", "dlLimit", "18446744073709551616"),
    ("upLimit 1e999", "upLimit", "1e999"),
    ("ratioLimit nan", "ratioLimit", "nan"),
    ("ratioLimit inf", "ratioLimit", "inf"),
    ("ratioLimit 1e999", "ratioLimit", "1e999"),
    ("ratioLimit hex", "ratioLimit", "0x10"),
    ("seedingTimeLimit 2^63", "seedingTimeLimit", "9223372036854775808"),
    ("inactiveSeedingTimeLimit word", "inactiveSeedingTimeLimit", "forever"),
    ("savepath NUL", "savepath", "SCRATCH/save/a\x00b"),
    ("downloadPath NUL", "downloadPath", "SCRATCH/dl\x00x"),
    ("category NUL", "category", "cat\x00egory"),
    ("tags NUL", "tags", "t1,t\x002"),
    ("rename NUL", "rename", "new\x00name"),
    ("cookie NUL", "cookie", "a=b\x00c=d"),
    ("savepath 1 MB", "savepath", "SCRATCH/save/" + MB),
    ("category 1 MB", "category", MB),
    ("tags 1 MB", "tags", MB),
    ("rename 1 MB", "rename", MB),
]


@pytest.mark.parametrize("label,key,value", ADD_CASES, ids=[c[0] for c in ADD_CASES])
def test_add_hostile_option(td, label, key, value):
    before = state(td)
    data = {"savepath": os.path.join(td.scratch, "save"), "stopped": "true",
            key: value.replace("SCRATCH", td.scratch)}
    r = td.req("POST", "/api/v2/torrents/add", ok=(200, 400, 415),
               files=[("torrents", ("hv.torrent", TBYTES, "application/x-bittorrent"))], data=data)
    if r.status_code != 400 and wait_until(lambda: td.torrent(HASH), 5, "added", procs=[td]):
        td.delete(HASH, delete_files=True)   # the next case starts clean
    assert r.status_code == 400, (label, r.status_code, r.text[:200])
    assert key in r.text and len(r.text) < 300, (label, r.text[:300])
    check_unchanged(td, before, label)


def test_add_plain_values_still_work(td):
    """The checks refuse only what is broken: ordinary values add."""
    before = state(td)
    td.add(TBYTES, os.path.join(td.scratch, "save"), stopped=True, upLimit="1024", dlLimit="-1",
           ratioLimit="1.5", seedingTimeLimit="-2", inactiveSeedingTimeLimit="60", category="",
           tags="", rename="hv-renamed")
    t = td.torrent(HASH)
    assert t["name"] == "hv-renamed" and t["up_limit"] == 1024 and t["ratio_limit"] == 1.5, t
    td.delete(HASH)
    assert state(td)["torrents"] == before["torrents"]


# --------------------------------------------------------------------------
# setPreferences: values that parse but are hostile
# --------------------------------------------------------------------------

PREF_CASES = [
    # (id, json text, key the 400 must name)
    ("int as string", '{"max_connec":"100"}', "max_connec"),
    ("int as real", '{"max_connec":1e300}', "max_connec"),
    ("int as object", '{"listen_port":{"a":1}}', "listen_port"),
    ("bool as int", '{"dht":1}', "dht"),
    ("string as array", '{"save_path":["/tmp"]}', "save_path"),
    ("string null", '{"save_path":null}', "save_path"),
    ("deep array in a string key", '{"save_path":' + "[" * 1000 + "]" * 1000 + "}", "save_path"),
    ("duplicate key", '{"max_connec":10,"max_connec":20}', "max_connec"),
    ("1 MB string", json.dumps({"web_ui_username": MB}), "web_ui_username"),
    ("1 MB save path", json.dumps({"save_path": "/tmp/" + MB}), "save_path"),
    ("password not a string", '{"web_ui_password":12345678}', "web_ui_password"),
    ("1 MB password", json.dumps({"web_ui_password": MB}), "web_ui_password"),
    ("scan_dirs nested", '{"scan_dirs":{"/tmp/w":' + "{\"a\":" * 500 + "1" + "}" * 500 + "}}",
     "scan_dirs"),
    ("scan_dirs not an object", '{"scan_dirs":"/tmp"}', "scan_dirs"),
    ("good key then a bad one", '{"max_connec":77,"dht":"yes"}', "dht"),
]


@pytest.mark.parametrize("label,text,key", PREF_CASES, ids=[c[0] for c in PREF_CASES])
def test_set_preferences_hostile_value(td, label, text, key):
    before = state(td)
    r = td.req("POST", "/api/v2/app/setPreferences", ok=(200, 400), data={"json": text})
    assert r.status_code == 400, (label, r.status_code, r.text[:200])
    assert key in r.text and len(r.text) < 300, (label, r.text[:300])
    check_unchanged(td, before, label)


def test_set_preferences_huge_numbers_clamped(td):
    """Numbers that fit in 64 bits but not in the setting are clamped into
    its bounds, as qBittorrent's setters clamp (never wrapped, never a
    negative port); the rest of the batch applies."""
    before = td.prefs()
    td.set_prefs({"listen_port": 9223372036854775807, "max_ratio": 1e308,
                  "dl_limit": -9223372036854775808, "max_active_downloads": -9223372036854775808})
    p = td.prefs()
    assert p["listen_port"] == 65535 and p["dl_limit"] == 0 and p["max_active_downloads"] == -1, p
    assert p["max_ratio"] == 1e308
    td.set_prefs({k: before[k] for k in ("listen_port", "max_ratio", "dl_limit", "max_active_downloads")})
    assert td.prefs() == before


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e999", "0x10", "1.5abc"])
def test_set_share_limits_hostile_ratio(td, value):
    """setShareLimits: a ratio that is not a finite decimal number is
    refused naming it; the torrent's limits and torrents/info stay valid."""
    if not td.torrent(HASH):
        td.add(TBYTES, os.path.join(td.scratch, "save"), stopped=True)
    before = td.torrent(HASH)
    r = td.req("POST", "/api/v2/torrents/setShareLimits", ok=(200, 400),
               data={"hashes": HASH, "ratioLimit": value, "seedingTimeLimit": "-2",
                     "inactiveSeedingTimeLimit": "-2"})
    after = td.torrent(HASH)
    assert r.status_code == 400 and "ratioLimit" in r.text, (value, r.status_code, r.text, after)
    assert after["ratio_limit"] == before["ratio_limit"]
