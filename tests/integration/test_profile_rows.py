"""The store rows are what the jansson build wrote, so an old and a new
binary share a profile.  The same edits (categories, a torrent with tags,
content layout renames, limits, file priorities, trackers and web seeds, a
magnet with so=/ws=, cookies, the speed-limits mode, preferences) give rows
byte for byte equal to golden/profile_rows.json, which was captured from the
build before store/record (main at 08ad805, jansson in core) with
TD_GOLDEN_WRITE=1 TORRENTD_BIN=<that build>; and what a restart reads back
from them is what was shown before it.  Rows are compared after replacing the
scratch directory by @TMP@ (the password row has a random salt: left out)."""
import json
import os
import sqlite3

from conftest import LEECH_IP
from tdlib import Torrentd, bencode, infohash, piece_hashes

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")
MAGNET_HASH = "5f2a6e1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f"


def _torrent():
    a = bytes(range(256)) * 100
    b = bytes(reversed(range(256))) * 70
    info = {"name": "pack", "piece length": 16384,
            "files": [{"length": len(a), "path": [b"a.bin"]},
                      {"length": len(b), "path": [b"sub", b"b.bin"]}],
            "pieces": piece_hashes(a + b, 16384)}
    t = bencode({"info": info, "announce": "http://127.0.0.1:9/announce", "creation date": 1700000000})
    return t, infohash(t)


def _rows(profile, tmp):
    db = sqlite3.connect(os.path.join(profile, "torrentd.db"))
    try:
        out = {
            "torrents": {h: s for h, s in db.execute("SELECT hash, settings FROM torrents ORDER BY hash")},
            "kv": {"%s/%s" % (ns, k): v for ns, k, v in db.execute(
                "SELECT ns, key, value FROM kv WHERE ns IN ('category', 'tag', 'state', 'cookies') "
                "ORDER BY ns, key")},
            "prefs": {k: v for k, v in db.execute(
                "SELECT key, value FROM prefs WHERE key NOT IN ('listen_port', 'web_ui_port', 'save_path', "
                "'temp_path', 'web_ui_password_hash') ORDER BY key")},
        }
    finally:
        db.close()
    return json.loads(json.dumps(out).replace(tmp, "@TMP@"))


def _state(td, hashes):
    out = {"categories": td.get("/api/v2/torrents/categories").json(),
           "tags": td.get("/api/v2/torrents/tags").json(),
           "cookies": td.get("/api/v2/app/cookies").json(),
           "mode": td.get("/api/v2/transfer/speedLimitsMode").text}
    for h in hashes:
        t = td.torrent(h)
        out[h] = {
            "info": {k: t[k] for k in ("name", "category", "tags", "dl_limit", "ratio_limit", "seeding_time_limit",
                                       "inactive_seeding_time_limit", "seq_dl", "f_l_piece_prio", "save_path",
                                       "download_path", "auto_tmm", "state")},
            "trackers": [(x["url"], x["tier"]) for x in td.get("/api/v2/torrents/trackers", hash=h).json()
                         if not x["url"].startswith("** [")],
            "webseeds": td.get("/api/v2/torrents/webseeds", hash=h).json(),
            "files": [(f["name"], f["priority"]) for f in td.get("/api/v2/torrents/files", hash=h).json()],
        }
    return out


def test_rows_as_the_jansson_build_wrote_them(procs, workdir):
    tmp = os.path.realpath(workdir)
    tbytes, h = _torrent()
    td = procs.add(Torrentd(os.path.join(tmp, "td"), LEECH_IP)).start()
    td.post("/api/v2/torrents/createCategory", category="films", savePath=os.path.join(tmp, "films"),
            downloadPathEnabled="true", downloadPath=os.path.join(tmp, "inc"))
    td.post("/api/v2/torrents/createCategory", category="tv", savePath="tv \"quoted\"",
            downloadPathEnabled="false")
    td.post("/api/v2/torrents/createTags", tags="b,a,é")
    td.add(tbytes, os.path.join(tmp, "dl"), stopped=True, category="films", tags="b,a",
           contentLayout="NoSubfolder", rename="Renamed \"x\"")
    td.post("/api/v2/torrents/setShareLimits", hashes=h, ratioLimit="1.5", seedingTimeLimit="60",
            inactiveSeedingTimeLimit="-2")
    td.post("/api/v2/torrents/setDownloadLimit", hashes=h, limit="1024")
    td.post("/api/v2/torrents/toggleSequentialDownload", hashes=h)
    td.post("/api/v2/torrents/filePrio", hash=h, id="1", priority="0")
    td.post("/api/v2/torrents/addTrackers", hash=h, urls="udp://127.0.0.1:11\n\nhttp://127.0.0.1:12/a")
    td.post("/api/v2/torrents/addWebSeeds", hash=h, urls="http://127.0.0.1:13/seed")
    magnet = ("magnet:?xt=urn:btih:%s&dn=m&tr=http%%3A%%2F%%2F127.0.0.1%%3A9%%2Fa&so=0,2-3"
              "&ws=http%%3A%%2F%%2F127.0.0.1%%3A13%%2Fw" % MAGNET_HASH)
    td.post("/api/v2/torrents/add", urls=magnet, stopped="true", paused="true", tags="é",
            savepath=os.path.join(tmp, "dl"))
    td.post("/api/v2/app/setCookies", cookies=json.dumps([
        {"name": "sid", "value": "a\"b", "domain": ".example.org", "path": "/", "expirationDate": 4102444800}]))
    td.post("/api/v2/transfer/toggleSpeedLimitsMode")
    td.set_prefs({"max_ratio": 2.5, "dht": False, "web_ui_domain_list": "a.example;\"b\"",
                  "scan_dirs": {"/z": 1, "/a": "/out"}, "max_active_downloads": 7})
    before = _state(td, [h, MAGNET_HASH])
    td.stop()
    rows = _rows(td.profile, tmp)
    path = os.path.join(HERE, "profile_rows.json")
    if os.environ.get("TD_GOLDEN_WRITE"):
        with open(path, "w") as f:
            json.dump(rows, f, indent=1, sort_keys=True, ensure_ascii=False)
            f.write("\n")
    with open(path) as f:
        golden = json.load(f)
    for part in ("torrents", "kv", "prefs"):
        assert rows[part] == golden[part], part
    td.start()
    assert _state(td, [h, MAGNET_HASH]) == before
