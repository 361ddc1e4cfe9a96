"""torrentd as a µTorrent Server drop-in (seed 004): started exactly as a
service line starts utserver (`utserver -settingspath S -configfile C -daemon
-pidfile P -logfile L`, through the build's utserver symlink) with a
utserver.conf using every documented key; each key is observed taking effect
where torrentd has the behaviour (and stored where it has none), the
dir_request maintenance files and SIGHUP act, and a bad file is refused.

The daemon is not our child once it detached: it is stopped by the PID from
its pid file, and waited for through /proc."""
import hashlib
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import time

from conftest import LEECH_IP, SEED_IP
from tdlib import (MiniSeeder, QbtApi, TdError, free_port, http_session, make_torrent, torrentd_bin,
                   wait_until)

ADMIN, PW = "boss", "Secret-pw-1"


def utserver_bin():
    b = os.path.join(os.path.dirname(torrentd_bin()), "utserver")
    assert os.path.islink(b) and os.readlink(b) == "torrentd", "the build ships utserver -> torrentd"
    return b


def gone(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


class UtServer(QbtApi):
    """A utserver started with -daemon: found through its pid file."""
    kind = "utserver"

    def __init__(self, rundir, bind_ip):
        super().__init__(rundir, bind_ip, "utserver", PW)
        self.settings = os.path.join(rundir, "S")
        self.conf = os.path.join(rundir, "utserver.conf")
        self.pidfile = os.path.join(rundir, "utserver.pid")
        self.logpath = os.path.join(rundir, "utserver.log")
        self.daemon_pid = None
        self.user = ADMIN
        self.san_log = os.path.join(rundir, "asan")   # + .PID, written by the sanitizers

    def run(self, *extra, cwd=None, timeout=60):
        """Runs the utserver command line; returns the CompletedProcess."""
        return subprocess.run([utserver_bin()] + list(extra), cwd=cwd or self.rundir, capture_output=True,
                              timeout=timeout, stdin=subprocess.DEVNULL,
                              env=dict(os.environ,
                                       ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:log_path=" + self.san_log,
                                       UBSAN_OPTIONS="print_stacktrace=1:log_path=" + self.san_log))

    def start(self, timeout=60, login=True):
        r = self.run("-settingspath", self.settings, "-configfile", self.conf, "-daemon",
                     "-pidfile", self.pidfile, "-logfile", self.logpath)
        assert r.returncode == 0, "parent exit %d: %s" % (r.returncode, r.stderr.decode(errors="replace"))
        # The parent exits only once the child serves: the pid file is there.
        with open(self.pidfile) as f:
            self.daemon_pid = int(f.read())
        assert self.daemon_pid != os.getpid() and not gone(self.daemon_pid)
        self.wait_api(timeout)
        if login:
            self.login()
        return self

    def alive(self):
        return self.daemon_pid is not None and not gone(self.daemon_pid)

    def check_alive(self):
        if not self.alive():
            raise TdError("utserver exited:\n%s" % self.log_tail())

    def login(self, user=None, password=None):
        r = self.s.post(self.base + "/api/v2/auth/login",
                        data={"username": user or self.user, "password": password or self.password}, timeout=30)
        if r.status_code != 200 or r.text.strip() != "Ok.":
            raise TdError("login failed: %s %r" % (r.status_code, r.text[:200]))

    def try_login(self, user, password):
        s = self.new_session()
        r = s.post(self.base + "/api/v2/auth/login", data={"username": user, "password": password}, timeout=30)
        return r.status_code, r.text.strip()

    def stop(self, timeout=20):
        if not self.alive():
            return
        os.kill(self.daemon_pid, signal.SIGTERM)
        try:
            wait_until(lambda: gone(self.daemon_pid), timeout, "utserver to stop")
        except TdError:
            os.kill(self.daemon_pid, signal.SIGKILL)
            wait_until(lambda: gone(self.daemon_pid), 10, "utserver to die")

    def sanitizer_report(self):
        """In the log file or, since a detached daemon's stderr may be
        /dev/null, in the sanitizer's own log_path files."""
        from tdlib import SANITIZER_MARKS
        t = self.log_text()
        for name in sorted(os.listdir(self.rundir)):
            if name.startswith("asan."):
                with open(os.path.join(self.rundir, name), "rb") as f:
                    t += f.read()
        for m in SANITIZER_MARKS:
            i = t.find(m)
            if i >= 0:
                return t[max(0, i - 200):i + 3000].decode(errors="replace")
        return None

    def stored(self, key):
        """A prefs row of the profile as stored (JSON text), or None."""
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.settings, "torrentd.db"), uri=True, timeout=10)
        try:
            row = db.execute("SELECT value FROM prefs WHERE key = ?", (key,)).fetchone()
        finally:
            db.close()
        return row[0] if row else None

    def log_has(self, pattern):
        return re.search(pattern, self.log_text().decode(errors="replace"))


def write_conf(ut, workdir, **over):
    root = os.path.join(workdir, "root")
    keys = [
        ("bind_ip", ut.bind_ip),
        ("ut_webui_port", str(ut.webui_port)),
        ("token_auth_enable", "true"),
        ("dir_root", root),
        ("dir_active", "active"),
        ("dir_completed", "done"),
        ("dir_download", "dl1"),
        ("dir_download", os.path.join(workdir, "dl2")),
        ("dir_torrent_files", "torrents"),
        ("dir_temp_files", os.path.join(workdir, "tmp")),
        ("dir_autoload", os.path.join(workdir, "autoload")),
        ("dir_autoload_delete", "false"),
        ("dir_request", os.path.join(workdir, "req")),
        ("upnp", "false"),
        ("natpmp", "false"),
        ("lsd", "false"),
        ("dht", "false"),
        ("pex", "false"),
        ("rate_limit_local_peers", "true"),
        ("disk_cache_max_size", "64"),
        ("write_coalesce_max_size", "2"),
        ("progressive_piece_span", "80"),
        ("preferred_interface", "lo"),
        ("admin_name", ADMIN),
        ("admin_password", PW),
        ("localhost_authentication", "true"),
        ("logmask", "0"),
        ("ut_webui_dir", workdir),
        ("finish_cmd", ""),
        ("state_cmd", ""),
        ("uconnect_enable", "false"),
        ("uconnect_username", "someone"),
        ("uconnect_password", "x"),
        ("low_cpu", "false"),
        ("sequential_download", "true"),
        ("compact_allocation", "false"),
        ("prealloc_space", "true"),
        ("minimize_kernel_caching", "false"),
        ("all_writes_sync", "false"),
        ("randomize_bind_port", "false"),
        ("token_auth_filter", "all"),
        ("encrypt_buffer_size", "65536"),
        ("bind_port", str(ut.listen_port)),
        ("max_ul_rate", "200"),
        ("max_ul_rate_seed", "-1"),
        ("conns_per_torrent", "33"),
        ("max_total_connections", "222"),
        ("auto_bandwidth_management", "true"),
        ("max_dl_rate", "128"),
        ("seed_ratio", "150"),
        ("seed_time", "7200"),
    ]
    lines = ["# utserver.conf with every key of seed 004", ""]
    for k, v in keys:
        lines.append("%s: %s" % (k, over.get(k, v)))
    lines.append("unknown_key_xyz: 1")
    with open(ut.conf, "w") as f:
        f.write("\n".join(lines) + "\n")
    return len(lines)   # the unknown key's line number


def anonymous_status(ut):
    return http_session().get(ut.base + "/api/v2/app/preferences", timeout=10).status_code


def test_utserver_daemon_every_key(workdir, procs):
    ut = UtServer(workdir, LEECH_IP)
    unknown_line = write_conf(ut, workdir)
    for d in ("req", "tmp"):
        os.makedirs(os.path.join(workdir, d))
    with open(os.path.join(workdir, "tmp", "stale.utt"), "w") as f:
        f.write("x")
    with open(os.path.join(workdir, "tmp", "keep.txt"), "w") as f:
        f.write("x")
    procs.add(ut).start()
    pid = ut.daemon_pid

    # -daemon: its own session and process group; -logfile: the log is there.
    with open("/proc/%d/stat" % pid) as f:
        st = f.read().rsplit(")", 1)[1].split()
    assert int(st[2]) == pid and int(st[3]) == pid, "pgrp and sid are the daemon's own"
    assert ut.log_has(r"WebUI: listening on \* port %d" % ut.webui_port)
    # unknown key and uconnect_*: warned with their line
    assert ut.log_has(r"utserver\.conf:%d: unknown key 'unknown_key_xyz' ignored" % unknown_line)
    assert ut.log_has(r"utserver\.conf:\d+: uconnect_enable ignored")
    # dir_temp_files: *.utt deleted at start, nothing else
    assert not os.path.exists(os.path.join(workdir, "tmp", "stale.utt"))
    assert os.path.exists(os.path.join(workdir, "tmp", "keep.txt"))
    # bind_ip + bind_port: peers are accepted there
    socket.create_connection((ut.bind_ip, ut.listen_port), timeout=5).close()

    # ut_webui_port answered, admin_name/admin_password logged in (start()).
    assert ut.try_login("admin", "adminadmin")[1] == "Fails."
    p = ut.prefs()
    root = os.path.join(workdir, "root")
    expect = {
        "web_ui_port": ut.webui_port, "web_ui_username": ADMIN, "listen_port": ut.listen_port,
        "current_interface_address": ut.bind_ip,
        "up_limit": 200 * 1024, "dl_limit": 128 * 1024,              # KB/s -> B/s
        "max_ratio_enabled": True, "max_ratio": 1.5,                  # 150 %
        "max_seeding_time_enabled": True, "max_seeding_time": 120,    # 7200 s
        "dht": False, "pex": False, "lsd": False, "upnp": False,
        "max_connec": 222, "max_connec_per_torrent": 33,
        "limit_lan_peers": True, "preallocate_all": True, "bypass_local_auth": False,
        "save_path": os.path.join(root, "done"), "temp_path": os.path.join(root, "active"),
        "temp_path_enabled": True, "export_dir": os.path.join(root, "torrents"),
    }
    assert {k: p[k] for k in expect} == expect
    # µTorrent-only keys: stored as ut_* settings
    stored = {
        "ut_dir_download": '["%s","%s"]' % (os.path.join(root, "dl1"), os.path.join(workdir, "dl2")),
        "ut_dir_request": '"%s"' % os.path.join(workdir, "req"),
        "ut_dir_root": '"%s"' % root,
        "ut_dir_temp_files": '"%s"' % os.path.join(workdir, "tmp"),
        "ut_dir_autoload": '"%s"' % os.path.join(workdir, "autoload"),
        "ut_disk_cache_max_size": "64", "ut_write_coalesce_max_size": "2",
        "ut_progressive_piece_span": "80", "ut_preferred_interface": '"lo"',
        "ut_webui_dir": '"%s"' % workdir, "ut_webui_port": str(ut.webui_port),
        "ut_sequential_download": "true", "ut_encrypt_buffer_size": "65536",
    }
    assert {k: ut.stored(k) for k in stored} == stored
    assert ut.stored("uconnect_username") is None

    # dir_active / dir_completed: a download is written into dir_active and
    # moves to dir_completed when complete, at max_dl_rate (128 KB/s).
    payload = os.urandom(1 << 20)
    info = {"name": "ut.bin", "length": len(payload), "piece length": 16384,
            "pieces": b"".join(hashlib.sha1(payload[k:k + 16384]).digest()
                               for k in range(0, len(payload), 16384))}
    tbytes, h = make_torrent(info)
    seeder = MiniSeeder(SEED_IP, h, payload, 16384)
    procs.on_close(seeder.close)
    r = ut.req("POST", "/api/v2/torrents/add", files=[("torrents", ("t.torrent", tbytes))])
    assert r.text == "Ok."
    t0 = time.monotonic()
    ut.add_peers(h, [seeder.addr])
    active, done = os.path.join(root, "active", "ut.bin"), os.path.join(root, "done", "ut.bin")
    wait_until(lambda: os.path.exists(active) and 0 < ut.progress(h) < 1, 30, "data in dir_active", procs=[ut])
    assert not os.path.exists(done)
    wait_until(lambda: os.path.exists(done) and ut.torrent(h)["state"] in ("stalledUP", "uploading"), 60,
               "moved to dir_completed", procs=[ut])
    # 1 MiB at 128 KB/s: 8 s less the limiter's burst; unlimited on loopback
    # it takes well under a second.
    assert time.monotonic() - t0 > 4, "max_dl_rate applied to a loopback peer"
    with open(done, "rb") as f:
        assert f.read() == payload
    assert not os.path.exists(active)
    t = ut.torrent(h)
    assert t["seq_dl"] is True, "sequential_download: new torrents in order"
    assert t["ratio_limit"] == -2 and t["max_ratio"] == 1.5 and t["max_seeding_time"] == 120

    # wipl.utmr: the WebUI login bans are lifted.
    for _ in range(5):
        ut.try_login(ADMIN, "wrong")
    assert ut.try_login(ADMIN, PW)[0] == 403, "banned after 5 failures"
    open(os.path.join(workdir, "req", "wipl.utmr"), "w").close()
    wait_until(lambda: not os.path.exists(os.path.join(workdir, "req", "wipl.utmr")), 10, "wipl.utmr taken")
    wait_until(lambda: ut.try_login(ADMIN, PW) == (200, "Ok."), 10, "ban lifted")

    # rcf.utmr: reload; localhost_authentication (always reloaded) takes effect,
    # bind_port (first start only) does not.
    write_conf(ut, workdir, localhost_authentication="false", bind_port=str(free_port()))
    assert anonymous_status(ut) == 403
    open(os.path.join(workdir, "req", "rcf.utmr"), "w").close()
    wait_until(lambda: anonymous_status(ut) == 200, 10, "localhost_authentication false after rcf.utmr")
    assert not os.path.exists(os.path.join(workdir, "req", "rcf.utmr"))
    assert ut.prefs()["listen_port"] == ut.listen_port

    # SIGHUP: reload again, and reopen the log file (logrotate moved it).
    write_conf(ut, workdir, localhost_authentication="true")
    os.rename(ut.logpath, ut.logpath + ".1")
    os.kill(pid, signal.SIGHUP)
    wait_until(lambda: anonymous_status(ut) == 403, 10, "localhost_authentication true after SIGHUP")
    wait_until(lambda: ut.log_has("SIGHUP: .*utserver.conf reloaded"), 10, "the reload logged in a new log file")
    with open(ut.logpath + ".1", "rb") as f:
        assert b"SIGHUP" not in f.read()

    # c.utmr: admin with a new password printed once on stdout (the log file).
    open(os.path.join(workdir, "req", "c.utmr"), "w").close()
    m = wait_until(lambda: ut.log_has(r"user admin, password (\w+)"), 20, "credentials reset")
    wait_until(lambda: ut.try_login("admin", m.group(1)) == (200, "Ok."), 10, "admin logs in")
    assert ut.try_login(ADMIN, PW)[1] == "Fails."
    assert PW not in ut.log_text().decode(errors="replace")

    # sp.utmr: orderly shutdown, pid file removed.
    open(os.path.join(workdir, "req", "sp.utmr"), "w").close()
    wait_until(lambda: gone(pid), 30, "shutdown after sp.utmr")
    assert ut.log_has("torrentd stopped")
    assert not os.path.exists(ut.pidfile)

    # Restart: not a first start any more, admin_password is not applied again.
    ut.user = "admin"
    ut.start(login=False)
    assert ut.try_login(ADMIN, PW)[1] == "Fails."
    assert ut.try_login("admin", m.group(1)) == (200, "Ok.")


def test_utserver_bad_value_refuses_to_start(workdir):
    ut = UtServer(workdir, LEECH_IP)
    with open(ut.conf, "w") as f:
        f.write("# bad\ndht: false\n\nbind_port: 99999\n")
    r = ut.run("-settingspath", ut.settings, "-configfile", ut.conf)
    assert r.returncode == 2
    assert "%s:4: bind_port: 99999 is out of range" % ut.conf in r.stderr.decode()
    assert not os.path.exists(os.path.join(ut.settings, "torrentd.db")), "nothing started"
    # The same with -daemon: refused before detaching, in the caller's stderr.
    with open(ut.conf, "w") as f:
        f.write("pex: maybe\n")
    r = ut.run("-SettingsPath", ut.settings, "-CONFIGFILE", ut.conf, "-daemon", "-pidfile", ut.pidfile)
    assert r.returncode == 2
    assert "%s:1: pex: 'maybe' is not a boolean" % ut.conf in r.stderr.decode()
    assert not os.path.exists(ut.pidfile)
    # Not name: value
    with open(ut.conf, "w") as f:
        f.write("dht false\n")
    r = ut.run("-configfile", ut.conf)
    assert r.returncode == 2 and "%s:1: expected 'name: value'" % ut.conf in r.stderr.decode()
    # An explicit -configfile that does not exist
    r = ut.run("-configfile", os.path.join(workdir, "missing.conf"))
    assert r.returncode == 2 and "cannot open" in r.stderr.decode()


def test_utserver_usage_and_defaults(workdir, procs):
    ut = UtServer(workdir, LEECH_IP)
    r = ut.run("-usage")
    assert r.returncode == 0
    for kw in ("-configfile", "-settingspath", "-logfile", "-pidfile", "-daemon", "-usage"):
        assert kw in r.stdout.decode()
    # argv[0] utserver, no -configfile: ./utserver.conf; no -settingspath:
    # the working directory; -logfile alone: ./utserver.log.
    with open(os.path.join(workdir, "utserver.conf"), "w") as f:
        f.write("ut_webui_port: %d\nbind_port: %d\nbind_ip: %s\nadmin_password: %s\ndht: false\nlsd: false\n"
                "upnp: false\nnatpmp: false\n" % (ut.webui_port, ut.listen_port, ut.bind_ip, PW))
    ut.user = "admin"
    r = ut.run("-daemon", "-pidfile", ut.pidfile, "-logfile")
    assert r.returncode == 0, r.stderr.decode()
    with open(ut.pidfile) as f:
        ut.daemon_pid = int(f.read())
    procs.add(ut)
    ut.wait_api(60)
    ut.login()
    assert os.path.exists(os.path.join(workdir, "torrentd.db"))
    assert ut.log_has("configuration: utserver.conf")
    # the log goes to -logfile only: no qBittorrent file log (<settings>/logs/qbittorrent.log)
    assert not os.path.exists(os.path.join(workdir, "logs"))


def gui(ut, sess, **params):
    """GET /gui/?token=T&... with the token first (as Sonarr sends it)."""
    q = [("token", sess.token)] + [(k, v) for k, vs in params.items() for v in (vs if isinstance(vs, list) else [vs])]
    r = sess.get(ut.base + "/gui/", params=q, timeout=30)
    assert r.status_code == 200, (r.status_code, r.text[:200])
    return r.json()


def gui_session(ut, user, password):
    s = http_session()
    s.auth = (user, password)
    r = s.get(ut.base + "/gui/token.html", timeout=30)
    assert r.status_code == 200, r.status_code
    s.token = re.search(r"<div[^>]*id='token'[^>]*>([^<]+)</div>", r.text).group(1)
    return s


def setsetting(ut, sess, *pairs):
    q = [("token", sess.token), ("action", "setsetting")]
    for k, v in pairs:
        q += [("s", k), ("v", v)]
    r = sess.get(ut.base + "/gui/", params=q, timeout=30)
    assert r.status_code == 200
    return r.json()


def test_gui_getsettings_setsetting(workdir, procs):
    ut = UtServer(workdir, LEECH_IP)
    root = os.path.join(workdir, "root")
    with open(ut.conf, "w") as f:
        f.write("ut_webui_port: %d\nbind_port: %d\nbind_ip: %s\nadmin_name: %s\nadmin_password: %s\n"
                "dht: false\nlsd: false\nupnp: false\nnatpmp: false\npex: false\n"
                "dir_root: %s\ndir_active: active\ndir_completed: done\nmax_ul_rate: 100\nseed_ratio: 150\n"
                % (ut.webui_port, ut.listen_port, ut.bind_ip, ADMIN, PW, root))
    procs.add(ut).start()
    s = gui_session(ut, ADMIN, PW)
    j = gui(ut, s, action="getsettings")
    assert j["build"] >= 25406
    rows = {r[0]: r for r in j["settings"]}
    for r in j["settings"]:
        assert isinstance(r[2], str) and r[1] in (0, 1, 2) and r[3]["access"] in ("Y", "R", "W")
    # What Sonarr reads, as strings
    assert rows["dir_active_download_flag"][1:] == [1, "true", {"access": "R"}]
    assert rows["dir_active_download"][2] == os.path.join(root, "active")
    assert rows["dir_completed_download_flag"][2] == "true"
    assert rows["dir_completed_download"][2] == os.path.join(root, "done")
    assert rows["dir_add_label"][1:3] == [1, "false"]
    assert rows["max_ul_rate"][1:] == [0, "100", {"access": "Y"}]
    assert rows["max_dl_rate"][2] == "-1"
    assert rows["seed_ratio"][2] == "150" and rows["seed_time"][2] == "0"
    assert rows["bind_port"][2] == str(ut.listen_port)
    assert rows["dht"][2] == "false" and rows["admin_name"][2] == ADMIN
    assert rows["token_auth_enable"][1:3] == [1, "true"]
    assert "admin_password" not in rows and "uconnect_password" not in rows

    # add-file through /gui/ (Sonarr's way in): the torrent downloads into
    # dir_active and is to move to dir_completed, as one added through API v2.
    info = {"name": "gui.bin", "length": 3 * 16384, "piece length": 16384, "pieces": b"\0" * 60}
    tbytes, h = make_torrent(info)
    r = s.post(ut.base + "/gui/", params=[("token", s.token), ("action", "add-file"), ("path", "")],
               files=[("torrent_file", ("file.torrent", tbytes, "application/x-bittorrent"))], timeout=30)
    assert r.status_code == 200 and "error" not in r.json(), r.text
    t = wait_until(lambda: ut.torrent(h), 10, "added through /gui/")
    assert (t["download_path"], t["save_path"]) == (os.path.join(root, "active"), os.path.join(root, "done"))
    ut.delete(h)

    # setsetting: pairs in order, the last of a name wins; bools as 1/0.
    r = setsetting(ut, s, ("max_ul_rate", "1"), ("max_ul_rate", "50"), ("seed_ratio", "200"),
                   ("seed_time", "600"), ("dir_completed_download_flag", "0"), ("dir_add_label", "true"),
                   ("pex", "1"))
    assert r == {"build": j["build"]}
    p = ut.prefs()
    assert (p["up_limit"], p["max_ratio"], p["max_ratio_enabled"]) == (50 * 1024, 2.0, True)
    assert (p["max_seeding_time"], p["max_seeding_time_enabled"]) == (10, True)
    assert (p["temp_path_enabled"], p["save_path"]) == (False, os.path.join(root, "active"))
    assert p["auto_tmm_enabled"] is True and p["pex"] is True
    rows = {r[0]: r for r in gui(ut, s, action="getsettings")["settings"]}
    assert rows["dir_completed_download_flag"][2] == "false" and rows["dir_add_label"][2] == "true"
    assert rows["max_ul_rate"][2] == "50" and rows["seed_time"][2] == "600"

    # All or nothing: a bad pair anywhere refuses the call, naming the key.
    before = ut.prefs()
    for pairs, want in [
        ([("max_dl_rate", "10"), ("bind_ip", "1.2.3.4")], "bind_ip: read-only"),
        ([("max_dl_rate", "10"), ("dht", "maybe")], "dht: 'maybe' is not a boolean"),
        ([("max_dl_rate", "10"), ("no_such", "1")], "no_such: unknown setting"),
        ([("max_dl_rate", "10"), ("bind_port", "70000")], "bind_port: 70000 is out of range"),
        ([("dir_active_download_flag", "false")], "dir_active_download_flag"),
    ]:
        r = setsetting(ut, s, *pairs)
        assert want in r.get("error", ""), r
    r = s.get(ut.base + "/gui/", params=[("token", s.token), ("action", "setsetting"), ("s", "max_dl_rate")],
              timeout=30).json()
    assert "max_dl_rate: no value" in r["error"]
    assert ut.prefs() == before

    # webui.username: the account is renamed live.
    assert setsetting(ut, s, ("webui.username", "boss2")) == {"build": j["build"]}
    wait_until(lambda: ut.try_login("boss2", PW) == (200, "Ok."), 10, "renamed account logs in")
    assert ut.try_login(ADMIN, PW)[1] == "Fails."


def test_utserver_c_utmr_without_logfile(workdir, procs):
    """A detached daemon without -logfile has no stdout anyone reads: c.utmr's
    new password goes into dir_request/c.utmr.password, mode 0600."""
    ut = UtServer(workdir, LEECH_IP)
    req = os.path.join(workdir, "req")
    os.makedirs(req)
    with open(ut.conf, "w") as f:
        f.write("ut_webui_port: %d\nbind_port: %d\nbind_ip: %s\nadmin_name: %s\nadmin_password: %s\n"
                "dht: false\nlsd: false\nupnp: false\nnatpmp: false\ndir_request: %s\n"
                % (ut.webui_port, ut.listen_port, ut.bind_ip, ADMIN, PW, req))
    r = ut.run("-settingspath", ut.settings, "-configfile", ut.conf, "-daemon", "-pidfile", ut.pidfile)
    assert r.returncode == 0, r.stderr.decode()
    with open(ut.pidfile) as f:
        ut.daemon_pid = int(f.read())
    procs.add(ut)
    ut.wait_api(60)
    ut.login()
    open(os.path.join(req, "c.utmr"), "w").close()
    pwfile = os.path.join(req, "c.utmr.password")
    wait_until(lambda: os.path.exists(pwfile) and os.path.getsize(pwfile) > 0, 20, "c.utmr.password")
    assert os.stat(pwfile).st_mode & 0o777 == 0o600
    with open(pwfile) as f:
        user, pw = f.read().split()
    assert user == "admin"
    wait_until(lambda: ut.try_login("admin", pw) == (200, "Ok."), 10, "admin logs in with the new password")
    assert ut.try_login(ADMIN, PW)[1] == "Fails."


ARGV_SCRIPT = """#!/usr/bin/python3
import json, os, sys
with open(os.path.join(os.path.dirname(sys.argv[0]), "calls.jsonl"), "a") as f:
    f.write(json.dumps(sys.argv[1:]) + "\\n")
"""


def test_utserver_automation_keys(workdir, procs):
    """finish_cmd, state_cmd, dir_autoload (+ dir_autoload_delete false:
    renamed .loaded) and dir_torrent_files set in utserver.conf act: a
    .torrent dropped in dir_autoload is added, its copy appears in
    dir_torrent_files, and once it completes finish_cmd ran once with the
    torrent's name and hash, state_cmd with µTorrent's state numbers."""
    ut = UtServer(workdir, LEECH_IP)
    prog = os.path.join(workdir, "argv.py")
    with open(prog, "w") as f:
        f.write(ARGV_SCRIPT)
    os.chmod(prog, 0o755)
    autoload = os.path.join(workdir, "autoload")
    os.makedirs(autoload)
    write_conf(ut, workdir, finish_cmd='%s finish "%%N" %%I %%D' % prog, state_cmd="%s state %%S %%P %%I" % prog,
               sequential_download="false", max_dl_rate="-1")
    procs.add(ut).start()

    payload = os.urandom(256 * 1024)
    info = {"name": "auto ut.bin", "length": len(payload), "piece length": 16384,
            "pieces": b"".join(hashlib.sha1(payload[k:k + 16384]).digest()
                               for k in range(0, len(payload), 16384))}
    tbytes, h = make_torrent(info)
    seeder = MiniSeeder(SEED_IP, h, payload, 16384)
    procs.on_close(seeder.close)
    with open(os.path.join(autoload, "drop.torrent.part"), "wb") as f:
        f.write(tbytes)
    os.rename(os.path.join(autoload, "drop.torrent.part"), os.path.join(autoload, "drop.torrent"))

    wait_until(lambda: ut.torrent(h) is not None, 30, "dir_autoload added the torrent", procs=[ut])
    wait_until(lambda: os.path.exists(os.path.join(autoload, "drop.torrent.loaded")), 30,
               "renamed .loaded (dir_autoload_delete false)", procs=[ut])
    assert not os.path.exists(os.path.join(autoload, "drop.torrent"))
    exported = os.path.join(workdir, "root", "torrents", "auto ut.bin.torrent")
    wait_until(lambda: os.path.exists(exported), 30, "dir_torrent_files copy", procs=[ut])
    with open(exported, "rb") as f:
        assert f.read() == tbytes

    ut.add_peers(h, [seeder.addr])
    calls = os.path.join(workdir, "calls.jsonl")

    def read_calls():
        if not os.path.exists(calls):
            return []
        with open(calls) as f:
            return [json.loads(x) for x in f if x.strip()]

    wait_until(lambda: any(c[0] == "finish" for c in read_calls()), 60, "finish_cmd ran", procs=[ut])
    done = os.path.join(workdir, "root", "done")
    fin = [c for c in read_calls() if c[0] == "finish"]
    assert fin == [["finish", "auto ut.bin", h.upper(), done]], fin   # %I upper case, as µTorrent's hashes
    with open(os.path.join(done, "auto ut.bin"), "rb") as f:
        assert f.read() == payload
    # state_cmd: %S/%P chain, ending in seeding (5) or finished (11), each
    # %P the previous %S.
    wait_until(lambda: any(c[0] == "state" and c[1] in ("5", "11") for c in read_calls()), 30,
               "state_cmd reported seeding", procs=[ut])
    st = [c for c in read_calls() if c[0] == "state"]
    assert all(c[3] == h.upper() for c in st)
    for prev, cur in zip(st, st[1:]):
        assert cur[2] == prev[1], st
