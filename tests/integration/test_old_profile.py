"""A profile written by the previous release (commit 4e49630, schema
user_version 1, the only released schema) loads in this build as that
release showed it.

The fixture, tests/data/oldrel_4e49630 (made by its make_fixture.py with the
old binary), holds the old database as SQL, the data files, and what the old
API showed. The save paths in the database are the fixed directory the old
binary ran in; they are rewritten to this test's directory (as if the user
had moved the whole tree), and the data files get back their recorded mtimes
(git does not keep them), so the saved resume data matches the files.

Checked against the old API's view: every torrent (name after rename,
category, tags, limits, share limits, sequential, state, progress, sizes,
added/completion times, save path, magnet), its files (with the renamed one),
piece states (the partial bitfield of the multi-file torrent), trackers,
properties, the categories with their save paths, the tags (one unused) and
every preference. The resume data is used as saved: no recheck.
"""
import json
import os
import re
import shutil
import sqlite3

from conftest import MINI_IP
from tdlib import Torrentd

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "oldrel_4e49630")

# Values that are not state but the moment or this run: speeds, ETAs, the
# time since the last activity, peers (none), the ports and addresses given on
# the command line.
VOLATILE_INFO = {"dlspeed", "upspeed", "eta", "last_activity", "time_active", "num_complete",
                 "num_incomplete", "num_leechs", "num_seeds", "availability", "reannounce",
                 "seen_complete", "seeding_time", "popularity"}
VOLATILE_PROPS = {"dl_speed", "dl_speed_avg", "up_speed", "up_speed_avg", "eta", "time_elapsed",
                  "seeding_time", "reannounce", "nb_connections", "peers", "peers_total", "seeds",
                  "seeds_total", "last_seen", "popularity"}
VOLATILE_PREFS = {"web_ui_port", "web_ui_address", "listen_port", "current_interface_address",
                  "save_path", "announce_ip"}
VOLATILE_TRACKER = {"msg", "status", "num_peers", "num_seeds", "num_leeches", "num_downloaded",
                    "next_announce", "min_announce", "endpoints"}


def _rooted(x, old, new):
    """x with every string's `old` path prefix replaced by `new`."""
    if isinstance(x, str):
        return x.replace(old, new)
    if isinstance(x, list):
        return [_rooted(v, old, new) for v in x]
    if isinstance(x, dict):
        return {_rooted(k, old, new): _rooted(v, old, new) for k, v in x.items()}
    return x


def _strip(d, keys):
    return {k: v for k, v in d.items() if k not in keys}


def test_old_release_profile_loads(procs, workdir):
    with open(os.path.join(FIXTURE, "expected.json")) as f:
        want = json.load(f)
    root, old_root = os.path.join(workdir, "old"), want["root"]
    want = _rooted(want, old_root, root)

    shutil.copytree(os.path.join(FIXTURE, "files"), root)
    for rel, ns in want["mtimes"].items():
        os.utime(os.path.join(root, rel), ns=(ns, ns))
    td = Torrentd(root, MINI_IP)
    os.makedirs(td.profile)
    with open(os.path.join(FIXTURE, "torrentd.sql")) as f:
        sql = f.read().replace(old_root, root)
    db = sqlite3.connect(os.path.join(td.profile, "torrentd.db"))
    db.executescript(sql)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    db.close()

    # no set_prefs at start (tdlib's default): the preferences are compared
    # as loaded; the old profile has dht, lsd, pex and upnp off already
    procs.add(td).start(login=False)
    td.login()
    hashes = want["hashes"]

    got_info = {t["hash"]: t for t in td.info()}
    assert set(got_info) == set(hashes.values())
    for old in want["info"]:
        new = got_info[old["hash"]]
        assert not new["state"].startswith("checking"), new
        assert _strip(new, VOLATILE_INFO) == _strip(old, VOLATILE_INFO), old["name"]

    assert td.get("/api/v2/torrents/categories").json() == want["categories"]
    assert sorted(td.get("/api/v2/torrents/tags").json()) == sorted(want["tags"])
    prefs = td.prefs()
    # file_log_path unset ("" then) now reads as its default, <profile>/logs
    # (qBittorrent's <data dir>/logs), where the file log writes
    assert want["preferences"]["file_log_path"] == ""
    want["preferences"]["file_log_path"] = os.path.join(td.profile, "logs")
    for k, v in want["preferences"].items():
        if k not in VOLATILE_PREFS:
            assert prefs.get(k) == v, "preference %s: %r, the old release showed %r" % (k, prefs.get(k), v)

    for h, files in want["files"].items():
        assert td.get("/api/v2/torrents/files", hash=h).json() == files
    for h, states in want["pieceStates"].items():
        assert td.get("/api/v2/torrents/pieceStates", hash=h).json() == states
    assert 0 in want["pieceStates"][hashes["multi"]], "the fixture lost its partial resume data"
    for h, props in want["properties"].items():
        assert _strip(td.get("/api/v2/torrents/properties", hash=h).json(), VOLATILE_PROPS) == \
            _strip(props, VOLATILE_PROPS)
    for h, trs in want["trackers"].items():
        got = td.get("/api/v2/torrents/trackers", hash=h).json()
        assert [_strip(t, VOLATILE_TRACKER) for t in got] == [_strip(t, VOLATILE_TRACKER) for t in trs]

    # the resume data was used as saved: no recheck
    log = td.log_text().decode(errors="replace")
    assert not re.search("rechecking|checked, ", log), log
    assert not any(t["state"].startswith("checking") for t in td.info())

