"""Makes the fixture of tests/integration/test_old_profile.py: a profile
written by the release at commit 4e49630 (schema user_version 1).

Run once, by hand, with that release's binary (CI cannot build old
binaries cheaply, so the result is committed):

    git worktree add /tmp/oldrel 4e49630
    cmake -S /tmp/oldrel -B /tmp/oldrel/build/release -DCMAKE_BUILD_TYPE=Release
    cmake --build /tmp/oldrel/build/release --target torrentd
    TORRENTD_BIN=/tmp/oldrel/build/release/torrentd scripts/netns-run.sh \\
        /usr/bin/python3 tests/data/oldrel_4e49630/make_fixture.py

It starts the old torrentd under ROOT (a fixed path, written into the
database as the save paths; the test replaces it with its own directory),
builds a profile with the API -- a multi-file torrent with partial data
(some pieces wrong on disk, so its resume bitfield is partial after the
check), a file and the torrent renamed, per-torrent limits and share limits,
sequential download, categories (one with its own save path), tags (one
unused), a bare magnet, changed preferences -- stops every torrent, records
what the old API shows into expected.json, shuts down cleanly and writes:
    torrentd.sql    the profile's torrentd.db as SQL (Python's iterdump) plus its
                    PRAGMA user_version, which a dump leaves out
    files/...       the data files under ROOT/downloads
    expected.json   the old API's view, plus the data files' mtimes
"""
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "integration"))
from tdlib import Torrentd, make_torrent, wait_until  # noqa: E402

ROOT = "/tmp/torrentd-oldrel-fixture"
PIECE = 16384


def payload(n, seed):
    out, i = b"", 0
    while len(out) < n:
        out += hashlib.sha256(b"%d-%d" % (seed, i)).digest()
        i += 1
    return out[:n]


def pieces_of(data):
    return b"".join(hashlib.sha1(data[i:i + PIECE]).digest() for i in range(0, len(data), PIECE))


def main():
    shutil.rmtree(ROOT, ignore_errors=True)
    td = Torrentd(ROOT, "127.0.0.1", name="old")
    dl = td.save_path
    # multi-file, odd sizes, 4 pieces; pieces 1 and 3 wrong on disk
    mfiles = [("one.bin", 30001), ("sub/two.dat", 25000), ("sub/three.txt", 9)]
    blob = b"".join(payload(n, k) for k, (_, n) in enumerate(mfiles))
    info_m = {"name": "multi", "piece length": PIECE, "pieces": pieces_of(blob),
              "files": [{"length": n, "path": p.split("/")} for p, n in mfiles]}
    tm, hm = make_torrent(info_m, announce="http://127.0.0.1:1/announce")
    disk = bytearray(blob)
    for bad in (1, 3):
        disk[bad * PIECE + 7] ^= 0xff
    off = 0
    for p, n in mfiles:
        os.makedirs(os.path.dirname(os.path.join(dl, "multi", p)), exist_ok=True)
        with open(os.path.join(dl, "multi", p), "wb") as f:
            f.write(disk[off:off + n])
        off += n
    # single file, complete on disk, in the category with its own save path
    sdata = payload(20000, 99)
    info_s = {"name": "single.iso", "piece length": PIECE, "pieces": pieces_of(sdata), "length": len(sdata)}
    ts, hs = make_torrent(info_s)
    isodir = os.path.join(ROOT, "isos")
    os.makedirs(isodir, exist_ok=True)
    with open(os.path.join(isodir, "single.iso"), "wb") as f:
        f.write(sdata)
    magnet_h = hashlib.sha1(b"torrentd old profile magnet").hexdigest()
    magnet = "magnet:?xt=urn:btih:%s&dn=A%%20magnet&tr=http%%3A%%2F%%2F127.0.0.1%%3A1%%2Fannounce" % magnet_h

    td.start()
    td.set_prefs({"dl_limit": 123456, "up_limit": 65536, "max_active_downloads": 7,
                  "max_ratio_enabled": True, "max_ratio": 2.5, "add_trackers_enabled": False,
                  "preallocate_all": True, "incomplete_files_ext": True, "dht": False})
    td.post("/api/v2/torrents/createCategory", category="movies", savePath="")
    td.post("/api/v2/torrents/createCategory", category="isos", savePath=isodir)
    td.post("/api/v2/torrents/createTags", tags="alpha,beta,unused")
    td.add(tm, dl, category="movies", tags="alpha,beta")
    td.add(ts, isodir, category="isos", tags="beta")
    td.post("/api/v2/torrents/add", urls=magnet, savepath=dl, category="movies", stopped="true",
            paused="true")
    wait_until(lambda: len(td.info()) == 3, 20, "3 torrents")
    for h in (hm, hs):
        wait_until(lambda: not td.torrent(h)["state"].startswith("checking"), 20, "checked")
    td.post("/api/v2/torrents/stop", hashes="all")
    td.post("/api/v2/torrents/renameFile", hash=hm, oldPath="multi/sub/three.txt",
            newPath="multi/sub/renamed.txt")
    td.post("/api/v2/torrents/rename", hash=hm, name="Multi (renamed)")
    td.post("/api/v2/torrents/setDownloadLimit", hashes=hm, limit="40000")
    td.post("/api/v2/torrents/setUploadLimit", hashes=hm, limit="50000")
    td.post("/api/v2/torrents/setShareLimits", hashes=hs, ratioLimit="1.25",
            seedingTimeLimit="90", inactiveSeedingTimeLimit="-2")
    td.post("/api/v2/torrents/toggleSequentialDownload", hashes=hm)
    wait_until(lambda: all(t["state"].startswith("stopped") for t in td.info()), 20, "all stopped")

    want = {"root": ROOT, "hashes": {"multi": hm, "single": hs, "magnet": magnet_h},
            "info": td.info(), "categories": td.get("/api/v2/torrents/categories").json(),
            "tags": td.get("/api/v2/torrents/tags").json(), "preferences": td.prefs(),
            "files": {}, "pieceStates": {}, "properties": {}, "trackers": {}}
    for h in (hm, hs):
        want["files"][h] = td.get("/api/v2/torrents/files", hash=h).json()
        want["pieceStates"][h] = td.get("/api/v2/torrents/pieceStates", hash=h).json()
    for h in (hm, hs, magnet_h):
        want["properties"][h] = td.get("/api/v2/torrents/properties", hash=h).json()
        want["trackers"][h] = td.get("/api/v2/torrents/trackers", hash=h).json()
    os.kill(td.pid, signal.SIGTERM)
    assert td.proc.wait(20) == 0
    assert b"torrentd stopped" in td.log_text()

    db = sqlite3.connect(os.path.join(td.profile, "torrentd.db"))
    uv = db.execute("PRAGMA user_version").fetchone()[0]
    assert uv == 1
    with open(os.path.join(HERE, "torrentd.sql"), "w") as f:
        for line in db.iterdump():
            f.write(line + "\n")
        f.write("PRAGMA user_version=%d;\n" % uv)   # not part of a dump, but the schema's version
    db.close()
    shutil.rmtree(os.path.join(HERE, "files"), ignore_errors=True)
    mt = {}
    for base in (dl, isodir):
        for dp, _, fns in os.walk(base):
            for fn in fns:
                src = os.path.join(dp, fn)
                rel = os.path.relpath(src, ROOT)
                os.makedirs(os.path.dirname(os.path.join(HERE, "files", rel)), exist_ok=True)
                shutil.copy2(src, os.path.join(HERE, "files", rel))
                mt[rel] = os.stat(src).st_mtime_ns
    want["mtimes"] = mt
    want["profile_files"] = sorted(os.listdir(td.profile))
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(want, f, indent=1, sort_keys=True)
        f.write("\n")
    print("fixture written:", sorted(os.listdir(HERE)))


if __name__ == "__main__":
    main()
