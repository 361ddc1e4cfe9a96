"""Helpers of the automation tests (test_autorun, test_watchdir, test_export):
a recorder program that writes its argv as JSON, µTorrent keys written into
a stopped daemon's profile, small torrents."""
import glob
import hashlib
import json
import os
import sqlite3
import stat

from tdlib import make_torrent

RECORDER = r'''#!/usr/bin/python3
# Written by the test: records argv (JSON) and how many copies ran at once.
import json, os, sys, time
out = %(out)r
run = os.path.join(out, "running")
os.makedirs(run, exist_ok=True)
me = os.path.join(run, str(os.getpid()))
open(me, "w").close()
conc = len(os.listdir(run))
print("recorder stdout %%d" %% os.getpid(), flush=True)
print("recorder stderr %%d" %% os.getpid(), file=sys.stderr, flush=True)
time.sleep(%(sleep)r)
fds = sorted(int(x) for x in os.listdir("/proc/self/fd"))
links = {x: os.readlink("/proc/self/fd/" + x) for x in os.listdir("/proc/self/fd") if os.path.exists("/proc/self/fd/" + x)}
rec = {"argv": sys.argv[1:], "conc": conc, "fds": fds, "links": links, "pid": os.getpid(), "pgid": os.getpgid(0),
       "sid": os.getsid(0), "ppid": os.getppid(), "t": time.time()}
tmp = os.path.join(out, ".%%d.tmp" %% os.getpid())
with open(tmp, "w") as f:
    json.dump(rec, f)
os.rename(tmp, os.path.join(out, "%%.6f-%%d.json" %% (time.time(), os.getpid())))
os.unlink(me)
sys.exit(%(rc)d)
'''


def recorder(workdir, name="rec", sleep=0.0, rc=0):
    """Path of a program that records each run in workdir/<name>.out/*.json."""
    out = os.path.join(workdir, name + ".out")
    os.makedirs(out, exist_ok=True)
    path = os.path.join(workdir, name + ".py")
    with open(path, "w") as f:
        f.write(RECORDER % {"out": out, "sleep": sleep, "rc": rc})
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path, out


def records(out):
    """The runs recorded so far, oldest first."""
    res = []
    for p in sorted(glob.glob(os.path.join(out, "*.json"))):
        with open(p) as f:
            res.append(json.load(f))
    res.sort(key=lambda r: r["t"])
    return res


def write_prefs(td, prefs):
    """Sets stored settings by their persistence name in a stopped daemon's
    profile (µTorrent's keys have no qBittorrent API name)."""
    db = sqlite3.connect(os.path.join(td.profile, "torrentd.db"))
    with db:
        for k, v in prefs.items():
            db.execute("INSERT OR REPLACE INTO prefs(key, value) VALUES (?, ?)", (k, json.dumps(v)))
    db.close()


def restart_with(td, prefs):
    td.stop()
    write_prefs(td, prefs)
    td.start()
    return td


def small_torrent(name, size=1000, piece=16384, seed=b""):
    """A single-file torrent (no data on disk needed) and its hash."""
    payload = hashlib.sha256(name.encode() + seed).digest() * (size // 32 + 1)
    payload = payload[:size]
    info = {"name": name, "length": len(payload), "piece length": piece,
            "pieces": b"".join(hashlib.sha1(payload[k:k + piece]).digest()
                               for k in range(0, len(payload), piece))}
    t, h = make_torrent(info)
    return t, h, payload


def log_lines(td, needle):
    return [ln for ln in td.log_text().decode(errors="replace").splitlines() if needle in ln]
