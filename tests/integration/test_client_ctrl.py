"""A real client, unchanged: the @ctrl/qbittorrent npm package against torrentd.

clients/ctrl_client.mjs uses the package as an application does (login with
its SID cookie handling, v5 detection from app/version, preferences round trip,
multipart add with savepath/category, list/normalize, files, trackers,
stop/start, categories, tags, delete with files, re-login after a stale SID)
and prints what it saw; this test checks that summary and the disk.
docs/api-surface.md §2.4/2.5 (the SID cookie @ctrl requires) and §10.4.

Node.js and tests/integration/clients/node_modules are installed by
scripts/deps.sh (make deps / make check); without them this test fails, it
does not skip: a client we claim to support must be exercised.
"""
import hashlib
import json
import os
import shutil
import subprocess

import pytest

from conftest import LEECH_IP
from tdlib import HERE, PASSWORD, USER, Torrentd, make_torrent

CLIENT_DIR = os.path.join(HERE, "clients")
PL = 16384


def _write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def _pieces(payload):
    return b"".join(hashlib.sha1(payload[i:i + PL]).digest() for i in range(0, len(payload), PL))


@pytest.fixture
def td(procs, workdir):
    return procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()


def _node():
    node = shutil.which("node")
    assert node, "node not found: run scripts/deps.sh (make deps) - this test must not skip"
    assert os.path.isdir(os.path.join(CLIENT_DIR, "node_modules", "@ctrl", "qbittorrent")), \
        "tests/integration/clients/node_modules missing: run scripts/deps.sh " \
        "(npm ci --prefix tests/integration/clients)"
    return node


def _run_client(node, args, timeout=120):
    p = subprocess.run([node, os.path.join(CLIENT_DIR, "ctrl_client.mjs")] + args,
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
    if p.returncode != 0 or not summary.get("ok"):
        pytest.fail("@ctrl/qbittorrent failed at step %r: %s\n(status %s, url %s, body %r)\n"
                    "stderr:\n%s" % (summary.get("step"), summary.get("error"), summary.get("status"),
                                     summary.get("url"), summary.get("body"), err[-2000:]))
    return summary


def test_ctrl_qbittorrent(td, workdir):
    node = _node()
    save = os.path.join(workdir, "save")
    catpath = os.path.join(workdir, "cat-tv")

    # A: two files in a folder, data already on disk -> checks to 100 %
    a1, a2 = os.urandom(40000), os.urandom(30001)
    _write(os.path.join(save, "ctrl-complete", "one.bin"), a1)
    _write(os.path.join(save, "ctrl-complete", "sub", "two.bin"), a2)
    info_a = {"name": "ctrl-complete", "piece length": PL, "pieces": _pieces(a1 + a2),
              "files": [{"length": len(a1), "path": ["one.bin"]},
                        {"length": len(a2), "path": ["sub", "two.bin"]}]}
    ta, ha = make_torrent(info_a, announce="http://127.0.0.1:9/announce")
    # B: one file, nothing on disk
    b = os.urandom(50001)
    tb, hb = make_torrent({"name": "ctrl-incomplete.bin", "piece length": PL, "length": len(b),
                           "pieces": _pieces(b)}, announce="http://127.0.0.1:9/announce")
    pa, pb = os.path.join(workdir, "a.torrent"), os.path.join(workdir, "b.torrent")
    _write(pa, ta)
    _write(pb, tb)

    s = _run_client(node, [
        "--base-url", td.base, "--username", USER, "--password", PASSWORD,
        "--complete", pa, "--hash-complete", ha, "--incomplete", pb, "--hash-incomplete", hb,
        "--save-path", save, "--category-path", catpath, "--deadline", "100"])
    print("ctrl_client.mjs summary:", json.dumps(s, indent=1))   # shown when an assert fails

    # §2.4/2.5: a wrong password gives no cookie, so @ctrl refuses; the right one a SID
    assert "Cookie not found" in (s["badLoginError"] or ""), s["badLoginError"]
    assert s["cookieName"] == "SID" and s["sidLength"] >= 32
    assert s["appVersion"] == "v5.1.4" and s["isVersion5OrHigher"] is True
    assert s["apiVersion"] == "2.11.4"
    assert s["defaultSavePath"]
    assert s["prefs"]["after"] == s["prefs"]["set"] == s["prefs"]["before"] + 3
    assert s["prefs"]["restored"] == s["prefs"]["before"]

    # categories: exactly {name, savePath} (§10.4), created and auto-created on add
    assert s["categoriesAfterCreate"]["ctrl-tv"] == {"name": "ctrl-tv", "savePath": catpath}
    assert set(s["categories"]) >= {"ctrl-tv", "ctrl-new"}
    assert s["duplicateAddError"] == "Failed to add torrent"

    c = s["complete"]
    assert c["id"] == ha and c["name"] == "ctrl-complete"
    assert c["state"] == "seeding" and c["isCompleted"] is True and c["progress"] == 1
    assert c["eta"] == 0 and c["stateMessage"] == ""
    assert c["rawState"] in ("stalledUP", "uploading", "queuedUP")
    assert os.path.normpath(c["savePath"]) == os.path.normpath(save)
    assert c["label"] == "ctrl-tv" and c["tags"] == [""]
    assert c["totalSize"] == c["totalSelected"] == len(a1) + len(a2)

    i = s["incomplete"]
    assert i["id"] == hb and i["rawState"] == "stoppedDL"
    assert i["state"] == "paused" and i["isCompleted"] is False and i["progress"] == 0
    assert i["eta"] == 8640000
    # §10.4: a fresh queued download is at position 1; a finished one has none (0)
    assert i["queuePosition"] == 1 and c["queuePosition"] == 0
    assert i["label"] == "ctrl-new"
    assert os.path.normpath(i["savePath"]) == os.path.normpath(save)

    assert s["listHashes"] == sorted([ha, hb])
    assert s["pausedFilterHashes"] == [hb]
    assert s["categoryFilterHashes"] == [ha]
    ad = s["allData"]
    assert ad["rawCount"] == 2 and [t["id"] for t in ad["torrents"]] == sorted([ha, hb])
    assert {"hash", "state", "progress", "save_path", "category", "tags", "added_on"} <= set(ad["rawKeys"])
    assert sorted((l["id"], l["count"]) for l in ad["labels"]) == [("ctrl-new", 1), ("ctrl-tv", 1)]

    assert s["files"] == [
        {"index": 0, "name": "ctrl-complete/one.bin", "size": len(a1), "progress": 1, "priority": 1},
        {"index": 1, "name": "ctrl-complete/sub/two.bin", "size": len(a2), "progress": 1, "priority": 1}]
    urls = [t["url"] for t in s["trackers"]]
    assert "http://127.0.0.1:9/announce" in urls, urls
    assert s["properties"]["total_size"] == len(a1) + len(a2)
    assert s["properties"]["pieces_num"] == s["properties"]["pieces_have"] == -(-(len(a1) + len(a2)) // PL)

    # v5: pauseTorrent -> torrents/stop, resumeTorrent -> torrents/start
    assert s["afterPause"]["rawState"] == "stoppedUP" and s["afterPause"]["state"] == "seeding"
    assert s["afterResume"]["rawState"] in ("stalledUP", "uploading", "queuedUP")

    assert s["afterSetCategory"]["label"] == "ctrl-tv"
    assert sorted(s["afterTags"]["tags"]) == ["ctrl-a", "ctrl-b"]
    assert {"ctrl-a", "ctrl-b"} <= set(s["tagList"])

    assert s["staleSessionVersion"] == "2.11.4" and s["staleSessionNewSid"] is True

    assert s["afterRemoveCount"] == 0 and s["getRemovedError"] == "Torrent not found"
    assert not os.path.exists(os.path.join(save, "ctrl-complete")), "deleteFiles left the data"
    assert s["steps"][-1] == "logout"
