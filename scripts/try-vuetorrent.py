"""Setup behind scripts/try-vuetorrent.sh (runs inside netns-run.sh).

Starts torrentd with VueTorrent as its alternative WebUI and a few torrents
(seeding ones behind opentracker, one downloading slowly from a second
torrentd so the peers tab has a peer), runs try-vuetorrent.mjs in headless
chromium, then checks over the API that what the browser did happened.
"""
import json
import os
import subprocess
import sys
import time

import tdlib
from tdlib import Dataset, Torrentd, Tracker, wait_until

WORK = os.environ["TRY_WORK"]
HERE = os.path.dirname(os.path.abspath(__file__))
MAGNET_HASH = "0123456789abcdef0123456789abcdef01234567"
results = []


def check(ok, what):
    results.append((bool(ok), what))
    print("%s  %s" % ("PASS" if ok else "FAIL", what), flush=True)


def main():
    tdlib.add_loopback_ips()
    procs = []
    try:
        seed_root = os.path.join(WORK, "seed")
        sets = [Dataset(seed_root, "Ubuntu.Like.ISO", [("disc.iso", 3 * tdlib.MiB + 11)]),
                Dataset(seed_root, "Some.Show.S02", [("e01.mkv", 2 * tdlib.MiB), ("e02.mkv", 2 * tdlib.MiB + 5),
                                                     ("subs/e01.srt", 1234)]),
                Dataset(seed_root, "Slow.Download", [("big.bin", 48 * tdlib.MiB)]),
                Dataset(seed_root, "Added.From.File", [("f.bin", tdlib.MiB + 3)])]
        ot = Tracker(os.path.join(WORK, "ot")).start([d.infohash for d in sets])
        upload = os.path.join(WORK, "Added.From.File.upload.torrent")
        with open(upload, "wb") as f:
            f.write(sets[3].torrent(ot))
        procs.append(ot)
        td = Torrentd(os.path.join(WORK, "td"), "127.0.0.2")
        procs.append(td)
        td.start()
        src = Torrentd(os.path.join(WORK, "src"), "127.0.0.3", name="source")
        procs.append(src)
        src.start()
        slow = sets[2]
        src.add(slow.torrent(ot), seed_root)
        src.wait_seeding(slow.infohash, 60)
        src.set_prefs({"up_limit": 100 * 1024})     # keeps td downloading during the session
        for d in sets[:2]:
            td.add(d.torrent(ot), seed_root, category="linux" if "ISO" in d.name else "tv", tags="vt,demo")
        td.add(slow.torrent(ot), os.path.join(WORK, "dl"))
        for d in sets[:2]:
            td.wait_seeding(d.infohash, 60)
        td.add_peers(slow.infohash, [src.peer_addr])
        wait_until(lambda: td.progress(slow.infohash) > 0, 30, "slow download to start", 0.2, procs=procs)
        td.set_prefs({"alternative_webui_enabled": True,
                      "alternative_webui_path": os.environ["VT_DIST"]})

        env = dict(os.environ, VT_URL=td.base + "/", VT_USER=tdlib.USER, VT_PASS=td.password,
                   VT_OUT=WORK, VT_MAGNET="magnet:?xt=urn:btih:%s&dn=vt-magnet-test" % MAGNET_HASH,
                   VT_NAMES=json.dumps([d.name for d in sets[:3]]), VT_FILE=upload,
                   VT_FILE_NAME=sets[3].name)
        t0 = time.monotonic()
        p = subprocess.run(["node", os.path.join(HERE, "try-vuetorrent.mjs")], env=env, timeout=300)
        print("browser session: %.1fs, exit %d" % (time.monotonic() - t0, p.returncode), flush=True)
        check(p.returncode == 0, "browser session checks passed (see above)")

        # what the browser did, seen over the API
        check(td.torrent(MAGNET_HASH) is None, "magnet deleted from the UI is gone from torrents/info")
        f = td.torrent(sets[3].infohash)
        check(f is not None and f["save_path"].rstrip("/") == td.save_path.rstrip("/"),
              "torrent file added from the UI is in torrents/info, in the default save path")
        t = td.torrent(sets[0].infohash)
        check(t and t["name"] == sets[0].name + ".Renamed" and t["category"] == "tv" and t["tags"] == "vt"
              and t["up_limit"] == 50 * 1000, "rename, category, tags and upload limit set from the UI are kept")
        check(td.prefs().get("max_connec") == 345, "preference changed in settings saved (max_connec 345)")
        check(not td.sanitizer_report(), "no sanitizer report from torrentd")
    finally:
        for p in reversed(procs):
            try:
                p.stop()
            except Exception as e:
                print("stop %s: %s" % (p.name, e))
    bad = [w for ok, w in results if not ok]
    print("\n== %d checks, %d failed; screenshots and logs in %s" % (len(results), len(bad), WORK))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
