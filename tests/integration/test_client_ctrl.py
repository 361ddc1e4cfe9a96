"""A real client, unchanged: the @ctrl/qbittorrent npm package against torrentd.

clients/ctrl_client.mjs uses the package as an application does (login with
its SID cookie handling, v5 detection from app/version, preferences round trip,
multipart add with savepath/category, list/normalize, files, trackers,
stop/start, categories, tags, queue, limits, delete with files, re-login after
a stale SID) and prints what it saw. The main scenario runs once per module;
each test below checks one part of its summary (and the disk), so one
incompatibility fails one test. A second scenario drives a magnet whose
metadata never arrives. docs/api-surface.md §2.4/2.5 (the SID cookie @ctrl
requires) and §10.4 (what @ctrl calls).

Node.js and tests/integration/clients/node_modules are installed by
scripts/deps.sh (make deps / make check); without them these tests fail, they
do not skip: a client we claim to support must be exercised.
"""
import hashlib
import json
import os
import shutil
import subprocess

import pytest

from conftest import LEECH_IP, MINI_IP
from tdlib import HERE, PASSWORD, USER, Torrentd, make_torrent

CLIENT_DIR = os.path.join(HERE, "clients")
PL = 16384
TRACKER = "http://127.0.0.1:9/announce"


def _write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def _pieces(payload):
    return b"".join(hashlib.sha1(payload[i:i + PL]).digest() for i in range(0, len(payload), PL))


def _single(name, size):
    data = os.urandom(size)
    return make_torrent({"name": name, "piece length": PL, "length": size, "pieces": _pieces(data)},
                        announce=TRACKER)


def _node():
    node = shutil.which("node")
    assert node, "node not found: run scripts/deps.sh (make deps) - this test must not skip"
    assert os.path.isdir(os.path.join(CLIENT_DIR, "node_modules", "@ctrl", "qbittorrent")), \
        "tests/integration/clients/node_modules missing: run scripts/deps.sh " \
        "(npm ci --prefix tests/integration/clients)"
    return node


def _run_client(args, timeout=120):
    p = subprocess.run([_node(), os.path.join(CLIENT_DIR, "ctrl_client.mjs")] + args,
                       cwd=CLIENT_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, timeout=timeout)
    out = p.stdout.decode(errors="replace").strip()
    err = p.stderr.decode(errors="replace")
    last = out.splitlines()[-1] if out else ""
    try:
        summary = json.loads(last)
    except ValueError:
        pytest.fail("ctrl_client.mjs printed no JSON (rc=%d)\nstdout:\n%s\nstderr:\n%s"
                    % (p.returncode, out[-3000:], err[-3000:]))
    print("ctrl_client.mjs summary:", json.dumps(summary, indent=1))   # shown when a test fails
    if p.returncode != 0 or not summary.get("ok"):
        pytest.fail("@ctrl/qbittorrent failed at step %r: %s\n(status %s, url %s, body %r)\n"
                    "stderr:\n%s" % (summary.get("step"), summary.get("error"), summary.get("status"),
                                     summary.get("url"), summary.get("body"), err[-2000:]))
    return summary


class Run:
    """The main scenario's inputs and the client's summary."""


@pytest.fixture(scope="module")
def run(module_procs, tmp_path_factory):
    d = str(tmp_path_factory.mktemp("ctrl"))
    td = module_procs.add(Torrentd(os.path.join(d, "td"), LEECH_IP)).start()
    r = Run()
    r.save, r.catpath, r.movepath = (os.path.join(d, n) for n in ("save", "cat-tv", "moved"))
    # A: two files in a folder, data already on disk -> checks to 100 %
    r.a1, r.a2 = os.urandom(40000), os.urandom(30001)
    _write(os.path.join(r.save, "ctrl-complete", "one.bin"), r.a1)
    _write(os.path.join(r.save, "ctrl-complete", "sub", "two.bin"), r.a2)
    r.size_a = len(r.a1) + len(r.a2)
    ta, r.ha = make_torrent({"name": "ctrl-complete", "piece length": PL, "pieces": _pieces(r.a1 + r.a2),
                             "files": [{"length": len(r.a1), "path": ["one.bin"]},
                                       {"length": len(r.a2), "path": ["sub", "two.bin"]}]},
                            announce=TRACKER)
    # B and C: one file each, nothing on disk
    tb, r.hb = _single("ctrl-incomplete.bin", 50001)
    tc, r.hc = _single("ctrl-queued.bin", 20000)
    paths = [os.path.join(d, n) for n in ("a.torrent", "b.torrent", "c.torrent")]
    for path, data in zip(paths, (ta, tb, tc)):
        _write(path, data)
    r.td = td
    r.s = _run_client([
        "--base-url", td.base, "--username", USER, "--password", PASSWORD,
        "--complete", paths[0], "--hash-complete", r.ha, "--incomplete", paths[1], "--hash-incomplete", r.hb,
        "--queued", paths[2], "--hash-queued", r.hc,
        "--save-path", r.save, "--category-path", r.catpath, "--move-path", r.movepath,
        "--deadline", "100"])
    return r


def test_login_versions_prefs(run):
    s = run.s
    # §2.4/2.5: a wrong password gives no cookie, so @ctrl refuses; the right one a SID
    assert "Cookie not found" in (s["badLoginError"] or ""), s["badLoginError"]
    assert s["cookieName"] == "SID" and s["sidLength"] >= 32
    assert s["appVersion"] == "v5.1.4" and s["isVersion5OrHigher"] is True
    assert s["apiVersion"] == "2.11.4"
    assert os.path.normpath(s["defaultSavePath"]) == os.path.normpath(run.td.save_path)
    assert s["prefs"]["after"] == s["prefs"]["set"] == s["prefs"]["before"] + 3
    assert s["prefs"]["restored"] == s["prefs"]["before"] == 5   # §10.4: default 5
    assert {"qt", "libtorrent", "boost", "openssl", "zlib", "bitness"} <= set(s["buildInfo"])
    # a stale SID: 403, then @ctrl logs in again by itself
    assert s["staleSessionVersion"] == "2.11.4" and s["staleSessionNewSid"] is True


def test_add_and_normalize(run):
    s, ha, hb = run.s, run.ha, run.hb
    assert s["categoriesAfterCreate"]["ctrl-tv"] == {"name": "ctrl-tv", "savePath": run.catpath}
    assert s["duplicateAddError"] == "Failed to add torrent"

    c = s["complete"]
    assert c["id"] == ha and c["name"] == "ctrl-complete"
    assert c["state"] == "seeding" and c["isCompleted"] is True and c["progress"] == 1
    assert c["eta"] == 0 and c["stateMessage"] == ""
    assert c["rawState"] in ("stalledUP", "uploading", "queuedUP")
    assert os.path.normpath(c["savePath"]) == os.path.normpath(run.save)
    assert c["label"] == "ctrl-tv" and c["tags"] == [""]
    assert c["totalSize"] == c["totalSelected"] == run.size_a

    i = s["incomplete"]
    assert i["id"] == hb and i["rawState"] == "stoppedDL"
    assert i["state"] == "paused" and i["isCompleted"] is False and i["progress"] == 0
    assert i["eta"] == 8640000
    # §10.4: a fresh queued download is at position 1; a finished one has none (0)
    assert i["queuePosition"] == 1 and c["queuePosition"] == 0
    assert i["label"] == "ctrl-new"   # unknown category on add: created
    assert os.path.normpath(i["savePath"]) == os.path.normpath(run.save)

    # normalizedAddTorrent: no savepath, manual mode -> the default save path, not the category's
    q = s["queued"]
    assert q["id"] == run.hc and q["rawState"] == "stoppedDL" and q["label"] == "ctrl-tv"
    assert os.path.normpath(q["savePath"]) == os.path.normpath(run.td.save_path)


def test_lists(run):
    s, ha, hb = run.s, run.ha, run.hb
    assert s["listHashes"] == sorted([ha, hb])
    assert s["pausedFilterHashes"] == [hb]     # v5: filter=stopped
    assert s["categoryFilterHashes"] == [ha]
    ad = s["allData"]
    assert ad["rawCount"] == 2 and [t["id"] for t in ad["torrents"]] == sorted([ha, hb])
    assert {"hash", "state", "progress", "save_path", "category", "tags", "added_on"} <= set(ad["rawKeys"])
    assert sorted((lb["id"], lb["count"]) for lb in ad["labels"]) == [("ctrl-new", 1), ("ctrl-tv", 1)]
    md = s["maindata"]
    assert md["full_update"] is True and md["hasServerState"] and md["hashes"] == sorted([ha, hb])
    assert s["peers"]["full_update"] is True and s["peers"]["peers"] == {}   # §10.4


def test_files_trackers_pieces(run):
    s = run.s
    assert s["files"] == [
        {"index": 0, "name": "ctrl-complete/one.bin", "size": len(run.a1), "progress": 1, "priority": 1},
        {"index": 1, "name": "ctrl-complete/sub/two.bin", "size": len(run.a2), "progress": 1, "priority": 1}]
    assert s["filePriosAfter"] == [1, 7]
    urls = [t["url"] for t in s["trackers"]]
    assert urls[:3] == ["** [DHT] **", "** [PeX] **", "** [LSD] **"] and TRACKER in urls, urls
    assert s["trackersAdded"][3:] == [TRACKER, "http://127.0.0.1:10/announce"]
    assert s["trackersRemoved"][3:] == [TRACKER]
    assert s["editTrackersStatus"] == 404   # @ctrl calls torrents/editTrackers, which does not exist
    npieces = -(-run.size_a // PL)
    assert s["properties"]["total_size"] == run.size_a
    assert s["properties"]["pieces_num"] == s["properties"]["pieces_have"] == npieces
    want = [hashlib.sha1((run.a1 + run.a2)[i:i + PL]).hexdigest() for i in range(0, run.size_a, PL)]
    assert s["pieceHashes"] == want
    assert s["pieceStates"] == [2] * npieces
    assert s["webSeeds"] == []


def test_actions(run):
    s, ha, hb = run.s, run.ha, run.hb
    # v5: pauseTorrent -> torrents/stop, resumeTorrent -> torrents/start
    assert s["afterPause"]["rawState"] == "stoppedUP" and s["afterPause"]["state"] == "seeding"
    assert s["afterResume"]["rawState"] in ("stalledUP", "uploading", "queuedUP")
    assert s["afterSetCategory"]["label"] == "ctrl-tv"
    assert sorted(s["afterTags"]["tags"]) == ["ctrl-a", "ctrl-b"]
    assert {"ctrl-a", "ctrl-b"} <= set(s["tagList"])
    assert s["dlLimit"] == {ha: 102400}
    assert s["upLimit"] == {ha: 51200, hb: 51200}
    assert s["renamed"] == "ctrl renamed"
    assert os.path.normpath(s["moved"]["savePath"]) == os.path.normpath(run.movepath)
    assert s["afterRecheck"]["isCompleted"] is True and s["afterRecheck"]["progress"] == 1
    assert s["tagsCreated"] == ["ctrl-a", "ctrl-b", "ctrl-x", "ctrl-y"]
    assert s["tagsAfterDelete"] == ["ctrl-a", "ctrl-b", "ctrl-y"]
    assert s["torrentTagsAfterRemove"] == ["ctrl-b"]
    assert s["categoriesEdited"] == {"ctrl-tv": {"name": "ctrl-tv", "savePath": run.movepath}}


def test_queue_top_bottom(run):
    q = run.s["queue"]
    assert q["start"] == {"B": 1, "C": 2}
    assert q["bottomB"] == {"B": 2, "C": 1}
    assert q["topB"] == {"B": 1, "C": 2}


def test_queue_up_down_skip_finished(run):
    """increasePrio/decreasePrio move a download past the next *download*:
    finished torrents are not in qBittorrent's queue (libtorrent position -1),
    so a seed added between B and C must not absorb the move."""
    q = run.s["queue"]
    assert q["downB"] == {"B": 2, "C": 1}, q
    assert q["upB"] == {"B": 1, "C": 2}, q


def test_remove_with_files(run):
    s = run.s
    assert s["afterRemoveCount"] == 0 and s["getRemovedError"] == "Torrent not found"
    assert not os.path.exists(os.path.join(run.save, "ctrl-complete")), "deleteFiles left the data"
    assert s["steps"][-1] == "logout"


def test_magnet_without_metadata(procs, workdir):
    """normalizedAddTorrent with a magnet nobody serves, then what an
    application does with it: category, tags, limits, queue, start/stop, delete."""
    td = procs.add(Torrentd(os.path.join(workdir, "td"), MINI_IP)).start()
    s = _run_client(["--scenario", "magnet", "--base-url", td.base, "--username", USER,
                     "--password", PASSWORD, "--deadline", "60"])
    h = s["magnetHash"]
    a = s["added"]
    assert a["id"] == h and a["rawState"] == "stoppedDL" and a["state"] == "paused"
    assert a["label"] == "ctrl-mag" and a["progress"] == 0 and a["totalSize"] == 0
    assert s["afterCategory"]["label"] == ""
    assert s["afterTags"]["tags"] == ["ctrl-m"]
    assert s["upLimit"] == {h: 4096}
    assert s["afterTop"]["queuePosition"] == 1
    assert s["afterResume"]["rawState"] in ("metaDL", "queuedDL", "stalledDL")
    assert s["afterPause"]["rawState"] == "stoppedDL"
    assert s["left"] == 0
