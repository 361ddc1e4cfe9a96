"""Driver behind scripts/try-qbit-manage.sh (runs inside netns-run.sh).

Builds a small library under $TRY_WORK/data/torrents, starts torrentd,
opentracker and a fake tracker, adds torrents that each give one qbit_manage
command something to decide, then runs every command with --dry-run (state
must not change) and for real (state must change as qBittorrent's would), and
prints one line per check plus every traceback/error qbit_manage logged.
"""
import hashlib
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import time

import tdlib
from tdlib import Qbt, Torrentd, Tracker, make_torrent, wait_until

QBM = os.environ["QBM_DIR"]
WORK = os.environ["TRY_WORK"]
DATA = os.path.join(WORK, "data")
ROOT = os.path.join(DATA, "torrents")
MEDIA = os.path.join(DATA, "media")
FAKE_IP, DEAD_IP = "127.0.0.6", "127.0.0.7"
PIECE = 1 << 16

results = []            # (ok, what)
qbm_problems = []       # (command, line)


def check(ok, what):
    results.append((bool(ok), what))
    print("%s  %s" % ("PASS" if ok else "FAIL", what), flush=True)


class FakeTracker(http.server.BaseHTTPRequestHandler):
    """Answers every announce as a private tracker does for a deleted torrent."""
    def do_GET(self):
        body = b"d14:failure reason20:Unregistered torrente"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def single_file(path, size, announce, twin_of=None, private=False):
    """Random payload at path and a single-file torrent for it; with twin_of,
    a cross-seed twin: the same file, another info-hash (a "source" key)."""
    if twin_of:
        with open(path, "rb") as f:
            payload = f.read()
    else:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        payload = os.urandom(size)
        with open(path, "wb") as f:
            f.write(payload)
    info = {"name": os.path.basename(path), "length": len(payload), "piece length": PIECE,
            "pieces": b"".join(hashlib.sha1(payload[i:i + PIECE]).digest()
                               for i in range(0, len(payload), PIECE))}
    if twin_of:
        info["source"] = "TWIN"
    if private:
        info["private"] = 1
    return make_torrent(info, announce)


def write_config(cfgdir, td, force_auto_tmm=False):
    os.makedirs(cfgdir, exist_ok=True)
    # JSON is YAML: no YAML writer needed
    cfg = {
        "qbt": {"host": "127.0.0.1:%d" % td.webui_port, "user": tdlib.USER, "pass": td.password},
        "settings": {
            "force_auto_tmm": force_auto_tmm, "tracker_error_tag": "issue", "nohardlinks_tag": "noHL",
            "stalled_tag": "stalledDL", "share_limits_tag": "~share_limit",
            "cat_filter_completed": True, "share_limits_filter_completed": True,
            "tag_nohardlinks_filter_completed": True, "rem_unregistered_filter_completed": False,
            "cat_update_all": True, "disable_qbt_default_share_limits": True,
            "tag_stalled_torrents": True, "private_tag": "private", "rem_unregistered_grace_minutes": 0,
            "rem_unregistered_max_torrents": 10,
        },
        "directory": {"root_dir": ROOT + "/", "remote_dir": ROOT + "/",
                      "recycle_bin": os.path.join(ROOT, ".RecycleBin"),
                      "torrents_dir": os.path.join(WORK, "BT_backup"),
                      "orphaned_dir": os.path.join(ROOT, "orphaned_data")},
        "cat": {"movies": os.path.join(ROOT, "movies"), "tv": os.path.join(ROOT, "tv"),
                "docs": os.path.join(ROOT, "docs")},
        "cat_change": {"movies.cross-seed": "movies"},
        "tracker": {"127.0.0.1": {"tag": "Local"}, FAKE_IP: {"tag": "Fake"},
                    DEAD_IP: {"tag": "Dead"}, "other": {"tag": "other"}},
        "nohardlinks": {"movies": {"ignore_root_dir": True}, "tv": {"ignore_root_dir": True}},
        "share_limits": {
            "noHL": {"priority": 1, "include_all_tags": ["noHL"], "max_ratio": 2.0,
                     "max_seeding_time": "30d", "limit_upload_speed": 500, "cleanup": False,
                     "add_group_to_tag": True},
            # min_num_seeds reads num_complete: opentracker counts our own seed
            "linked": {"priority": 2, "include_all_tags": ["Local"], "categories": ["movies"],
                       "min_num_seeds": 1, "max_ratio": 3.0, "cleanup": False},
            "default": {"priority": 999, "max_ratio": -1, "max_seeding_time": -1, "cleanup": False},
        },
        "recyclebin": {"enabled": True, "empty_after_x_days": 60, "save_torrents": True,
                       "split_by_category": False},
        "orphaned": {"empty_after_x_days": 60, "min_file_age_minutes": 1,
                     "exclude_patterns": ["**/.DS_Store"], "max_orphaned_files_to_delete": 50},
    }
    with open(os.path.join(cfgdir, "config.yml"), "w") as f:
        json.dump(cfg, f, indent=2)


def run_qbm(cfgdir, flag, dry):
    flags = flag if isinstance(flag, list) else [flag]
    flag = "all" if isinstance(flag, list) else flag
    argv = ["/usr/bin/python3", os.path.join(QBM, "qbit_manage.py"), "--run", "--web-server=False",
            "--config-dir", cfgdir, "--log-level", "DEBUG"] + flags + (["--dry-run"] if dry else [])
    t0 = time.monotonic()
    p = subprocess.run(argv, cwd=QBM, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=240, env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    out = p.stdout.decode(errors="replace")
    tag = "%s%s" % (flag, " --dry-run" if dry else "")
    with open(os.path.join(WORK, "qbm%s.log" % tag.replace(" ", "")), "w") as f:
        f.write(out)
    for line in out.splitlines():
        if re.search(r"Traceback|\| (ERROR|CRITICAL)|Exception|\[BYPASS\]|Unexpected", line):
            qbm_problems.append((tag, line.strip()))
    # it exits 0 even after a config error or a traceback
    clean = p.returncode == 0 and not re.search(r"Traceback|Config Error|Uncaught", out)
    check(clean, "qbit_manage %s ran cleanly (%.1fs, rc %d)" % (tag, time.monotonic() - t0, p.returncode))
    return out


def state(td):
    """What a qbit_manage command may change, per torrent name, plus the files."""
    snap = {}
    for t in td.info():
        s = snap[t["hash"]] = {k: t[k] for k in ("name", "category", "tags", "ratio_limit", "auto_tmm",
                                                 "seeding_time_limit", "up_limit", "save_path")}
        s["stopped"] = t["state"].startswith(("stopped", "paused"))
        s["tagset"] = set(x for x in t["tags"].split(", ") if x)
    files = sorted(os.path.relpath(os.path.join(d, f), ROOT)
                   for d, _, fs in os.walk(ROOT) for f in fs)
    return snap, files


def main():
    tdlib.add_loopback_ips()
    for d in (ROOT, MEDIA, os.path.join(WORK, "BT_backup")):
        os.makedirs(d, exist_ok=True)
    procs = []
    try:
        fake = http.server.ThreadingHTTPServer((FAKE_IP, 0), FakeTracker)
        threading.Thread(target=fake.serve_forever, daemon=True).start()
        fake_url = "http://%s:%d/announce" % (FAKE_IP, fake.server_address[1])
        dead_url = "http://%s:9/announce" % DEAD_IP

        mv, tv = os.path.join(ROOT, "movies"), os.path.join(ROOT, "tv")
        incoming, docs = os.path.join(ROOT, "incoming"), os.path.join(ROOT, "docs")
        specs = [  # name, dir, tracker, category, tags, stopped
            ("Movie.Linked.mkv", mv, "ot", "movies", "", False),
            ("Movie.Alone.mkv", mv, "ot", "movies", "", False),
            ("Show.S01E01.mkv", tv, "ot", "tv", "keep", False),
            ("Movie.Unreg.mkv", mv, fake_url, "movies", "", False),
            ("Show.Dead.mkv", tv, dead_url, "tv", "", False),
            ("Movie.NoCat.mkv", mv, "ot", "", "", False),
            ("Movie.XSeed.mkv", mv, "ot", "movies.cross-seed", "", False),
            ("Movie.Seeded.mkv", mv, "ot", "movies", "", False),
            # stopped at 0 % beside its complete twin: what recheck looks for
            ("Movie.Seeded.mkv#twin", mv, "ot", "movies", "", True),
            ("Movie.Private.mkv", mv, "ot", "movies", "", False),
            # its file is gone and nobody seeds it: stalledDL
            ("Show.Stalled.mkv", tv, "ot", "tv", "", False),
            # saved outside its category's folder: force_auto_tmm moves it
            ("Doc.Moved.mkv", incoming, "ot", "docs", "", False),
        ]
        made = []
        for i, (name, d, tr, cat, tags, stopped) in enumerate(specs):
            tb, ih = single_file(os.path.join(d, name.split("#")[0]), 300000 + i * 7919,
                                 "http://127.0.0.1:1/announce", twin_of="#" in name,
                                 private="Private" in name)
            if "Stalled" in name:
                os.remove(os.path.join(d, name))
            made.append((name, d, tr, cat, tags, stopped, tb, ih))
            # qbit_manage insists that torrents_dir (qBittorrent's BT_backup) holds .torrent files
            with open(os.path.join(WORK, "BT_backup", ih + ".torrent"), "wb") as f:
                f.write(tb)
        os.link(os.path.join(mv, "Movie.Linked.mkv"), os.path.join(MEDIA, "Movie.Linked.mkv"))
        orphan = os.path.join(mv, "Old.Release.nfo")
        with open(orphan, "w") as f:
            f.write("left behind\n")
        old = time.time() - 3 * 86400
        os.utime(orphan, (old, old))

        ot = Tracker(os.path.join(WORK, "ot")).start([m[7] for m in made])
        procs.append(ot)
        # TRY_AGAINST=qbt runs the same scenario on qbittorrent-nox: the reference
        if os.environ.get("TRY_AGAINST") == "qbt":
            td = Qbt(os.path.join(WORK, "qbt"), "127.0.0.2")
        else:
            td = Torrentd(os.path.join(WORK, "td"), "127.0.0.2")
            td.save_path = ROOT
        procs.append(td)
        td.start()
        # every torrent active, whatever the daemon's queueing default
        td.set_prefs({"queueing_enabled": False})
        for cat, path in (("movies", mv), ("tv", tv), ("movies.cross-seed", mv), ("docs", docs)):
            td.post("/api/v2/torrents/createCategory", category=cat, savePath=path)
        for name, d, tr, cat, tags, stopped, tb, ih in made:
            url = ot.announce if tr == "ot" else tr
            extra = {"category": cat} if cat else {}
            if tags:
                extra["tags"] = tags
            td.add(tdlib.with_announce(tb, url), d, stopped=stopped, filename=name + ".torrent", **extra)
        byname = {m[0]: m[7] for m in made}

        def settled():
            ts = {t["hash"]: t for t in td.info()}
            if len(ts) != len(made) or any(t["state"].startswith("checking") for t in ts.values()):
                return False
            # added stopped, it stays unchecked at 0 % as in qBittorrent: recheck's job
            if any(float(t["progress"]) < 1 for h, t in ts.items()
                   if h not in (byname["Movie.Seeded.mkv#twin"], byname["Show.Stalled.mkv"])):
                return False
            if ts[byname["Show.Stalled.mkv"]]["state"] != "stalledDL":
                return False
            msgs = {}
            for n in ("Movie.Unreg.mkv", "Show.Dead.mkv"):
                trs = [x for x in td.get("/api/v2/torrents/trackers", hash=byname[n]).json()
                       if not x["url"].startswith("** [")]
                if not trs or trs[0]["status"] != 4:
                    return False
                msgs[n] = trs[0]["msg"]
            return msgs
        try:
            msgs = wait_until(settled, 60, "torrents checked and trackers answered", 0.3, procs=procs)
        except tdlib.TdError:
            for x in td.info():
                print("  ", x["name"], x["state"], x["progress"],
                      td.get("/api/v2/torrents/trackers", hash=x["hash"]).json()[-1:])
            raise
        print("tracker messages:", msgs, flush=True)
        check("unregistered" in msgs["Movie.Unreg.mkv"].lower(), "fake tracker's failure reason shown as tracker msg")

        cfgdir = os.path.join(WORK, "config")
        write_config(cfgdir, td)
        def unchanged(cmd, before):
            now = state(td)
            ok = now == before
            if not ok:
                for h in set(now[0]) | set(before[0]):
                    x, y = before[0].get(h) or {}, now[0].get(h) or {}
                    diff = {k: (x.get(k), y.get(k)) for k in set(x) | set(y) if x.get(k) != y.get(k)}
                    if diff:
                        print("   changed %s: %s" % ((x or y)["name"], diff))
                if now[1] != before[1]:
                    print("   files %s -> %s" % (before[1], now[1]))
            check(ok, "%s --dry-run changed nothing" % cmd)

        def t(name):
            return state(td)[0].get(byname[name])

        steps = ["--cat-update", "--tag-update", "--rem-unregistered", "--tag-tracker-error",
                 "--rem-orphaned", "--tag-nohardlinks", "--share-limits", "--recheck"]
        for flag in steps:
            before = state(td)
            run_qbm(cfgdir, flag, True)
            unchanged(flag, before)
            run_qbm(cfgdir, flag, False)
            time.sleep(0.5)
            if flag == "--cat-update":
                check(t("Movie.NoCat.mkv")["category"] == "movies", "cat_update: uncategorized torrent in movies/ -> movies")
                check(t("Movie.XSeed.mkv")["category"] == "movies", "cat_update: cat_change movies.cross-seed -> movies")
                check(t("Show.S01E01.mkv")["category"] == "tv", "cat_update: tv torrent keeps tv")
            elif flag == "--tag-update":
                check("Local" in t("Movie.Alone.mkv")["tagset"], "tag_update: opentracker torrent tagged Local")
                check("Fake" in t("Movie.Unreg.mkv")["tagset"], "tag_update: fake-tracker torrent tagged Fake")
                check({"keep", "Local"} <= t("Show.S01E01.mkv")["tagset"], "tag_update: existing tag kept")
                check("private" in t("Movie.Private.mkv")["tagset"], "tag_update: private torrent tagged private")
                check("private" not in t("Movie.Alone.mkv")["tagset"], "tag_update: public torrent not tagged private")
                check("stalledDL" in t("Show.Stalled.mkv")["tagset"], "tag_update: stalled download tagged stalledDL")
                check("stalledDL" not in t("Movie.Alone.mkv")["tagset"], "tag_update: seeding torrent not tagged stalledDL")
            elif flag == "--rem-unregistered":
                check(t("Movie.Unreg.mkv") is None, "rem_unregistered: unregistered torrent removed")
                check(t("Movie.Alone.mkv") is not None and t("Show.Dead.mkv") is not None,
                      "rem_unregistered: registered and merely unreachable torrents kept")
                check(not os.path.exists(os.path.join(mv, "Movie.Unreg.mkv")),
                      "rem_unregistered: its file moved away (recycle bin)")
            elif flag == "--tag-tracker-error":
                check("issue" in t("Show.Dead.mkv")["tagset"], "tag_tracker_error: dead tracker torrent tagged issue")
                check("issue" not in t("Movie.Alone.mkv")["tagset"], "tag_tracker_error: working tracker not tagged")
            elif flag == "--rem-orphaned":
                check(not os.path.exists(orphan), "rem_orphaned: orphaned file moved out of movies/")
                check(any(f.startswith("orphaned_data") and f.endswith("Old.Release.nfo") for f in state(td)[1]),
                      "rem_orphaned: orphaned file is in orphaned_data/")
                check(all(os.path.exists(os.path.join(mv, n)) for n in ("Movie.Alone.mkv", "Movie.Linked.mkv")),
                      "rem_orphaned: torrent files left alone")
            elif flag == "--tag-nohardlinks":
                check("noHL" in t("Movie.Alone.mkv")["tagset"], "tag_nohardlinks: lone file tagged noHL")
                check("noHL" in t("Show.S01E01.mkv")["tagset"], "tag_nohardlinks: tv lone file tagged noHL")
                check("noHL" not in t("Movie.Linked.mkv")["tagset"], "tag_nohardlinks: hardlinked file not tagged")
            elif flag == "--share-limits":
                a = t("Movie.Alone.mkv")
                print("   Movie.Alone after share_limits:", a, flush=True)
                check(a["ratio_limit"] == 2 and a["seeding_time_limit"] == 30 * 24 * 60,
                      "share_limits: noHL group limits set (ratio 2, 30 d)")
                check(a["up_limit"] == 500 * 1024, "share_limits: noHL upload limit 500 KiB/s")
                check(any(x.startswith("~share_limit") for x in a["tagset"]), "share_limits: group tag added")
                k = t("Movie.Linked.mkv")
                check(k["ratio_limit"] == 3 and "MinSeedsNotMet" not in k["tagset"],
                      "share_limits: min_num_seeds 1 met (num_complete from the tracker), ratio 3 set")
                p = td.prefs()
                check(p["max_ratio_enabled"] is False and p["max_seeding_time_enabled"] is False,
                      "share_limits: qBittorrent default share limits disabled")
            elif flag == "--recheck":
                h = byname["Movie.Seeded.mkv#twin"]
                ok = True
                try:
                    wait_until(lambda: td.is_complete(h), 30, "recheck to finish", 0.2, procs=procs)
                except tdlib.TdError:
                    ok = False
                check(ok, "recheck: stopped 0 % torrent rechecked to 100 %")
                check(t("Movie.Seeded.mkv#twin")["stopped"], "recheck: it stays stopped until the next run")
                run_qbm(cfgdir, flag, False)
                time.sleep(0.5)
                check(not t("Movie.Seeded.mkv#twin")["stopped"], "recheck (second run): completed stopped torrent resumed")

        # as from cron: every command in one run, now with force_auto_tmm, which
        # turns on Automatic Torrent Management everywhere: a torrent saved
        # outside its category's folder is moved there (qBittorrent's ATM)
        cfg_all = os.path.join(WORK, "config-all")
        write_config(cfg_all, td, force_auto_tmm=True)
        run_qbm(cfg_all, steps, True)
        check(all(x["auto_tmm"] is False for x in state(td)[0].values()), "all commands --dry-run: ATM left off")
        run_qbm(cfg_all, steps, False)
        moved = os.path.join(docs, "Doc.Moved.mkv")
        try:
            wait_until(lambda: t("Doc.Moved.mkv")["save_path"].rstrip("/") == docs and os.path.exists(moved),
                       30, "Doc.Moved.mkv moved to docs/", 0.3, procs=procs)
        except tdlib.TdError as e:
            print("  ", e, t("Doc.Moved.mkv"))
        check(t("Doc.Moved.mkv")["save_path"].rstrip("/") == docs and os.path.exists(moved)
              and not os.path.exists(os.path.join(incoming, "Doc.Moved.mkv")),
              "force_auto_tmm: ATM moved Doc.Moved.mkv from incoming/ to its category folder docs/")
        check(all(x["auto_tmm"] for x in state(td)[0].values()), "force_auto_tmm: ATM on for every torrent")
        wait_until(lambda: td.is_seeding(byname["Doc.Moved.mkv"]), 30, "Doc.Moved.mkv seeding again", 0.3,
                   procs=procs)
        check(True, "force_auto_tmm: the moved torrent seeds from docs/")
    finally:
        for p in reversed(procs):
            try:
                p.stop()
            except Exception as e:
                print("stop %s: %s" % (p.name, e))
    print("\n== qbit_manage errors/tracebacks (%d)" % len(qbm_problems))
    for cmd, line in qbm_problems:
        print("  [%s] %s" % (cmd, line))
    bad = [w for ok, w in results if not ok]
    print("\n== %d checks, %d failed; logs in %s" % (len(results), len(bad), WORK))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
