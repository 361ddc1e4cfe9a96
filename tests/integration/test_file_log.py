"""The file log (file_log_* preferences, core/logfile.h over util/log's file
sink), as qBittorrent's FileLogger:

  * on by default, in <profile>/logs/qbittorrent.log (qBittorrent's
    <data dir>/logs), lines "(I) 2026-12-07T12:34:56 - message" with N/I/W/C,
    holding the messages logged before it was opened;
  * with file_log_backup_enabled it rotates when it reaches file_log_max_size
    KiB into qbittorrent.log.bak, .bak1, ...; without, it grows;
  * file_log_enabled false stops the writing, true starts it again;
  * a new file_log_path moves the writing to <path>/qbittorrent.log at once;
  * file_log_delete_old removes backups older than file_log_age when the file
    log is enabled;
  * SIGHUP reopens the file (logrotate moved it away).
"""
import os
import re
import signal
import time

from conftest import MINI_IP
from tdlib import Torrentd, wait_until

LINE = re.compile(r"^\((N|I|W|C)\) \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d - .*$")
NAME = "qbittorrent.log"


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def toggle(td, n=1):
    """Each toggle logs one INFO line ("... speed limits in effect")."""
    for _ in range(n):
        td.post("/api/v2/transfer/toggleSpeedLimitsMode")


def marker(td, text):
    """Logs a line naming `text` (a peer ban is logged with its address)."""
    td.post("/api/v2/transfer/banPeers", peers=text + ":6881")


def start(procs, workdir):
    return procs.add(Torrentd(os.path.join(workdir, "td"), MINI_IP)).start()


def test_default_file_and_format(procs, workdir):
    td = start(procs, workdir)
    logs = os.path.join(td.profile, "logs")
    path = os.path.join(logs, NAME)
    assert td.prefs()["file_log_path"] == logs
    assert td.prefs()["file_log_enabled"] is True
    toggle(td)
    wait_until(lambda: "speed limits in effect" in read(path), 10, "the toggle in the file", procs=[td])
    text = read(path)
    lines = text.splitlines()
    assert lines and all(LINE.match(ln) for ln in lines), lines[:5]
    # the start-up lines logged before the file was opened are there too
    first = td.get("/api/v2/log/main").json()[0]["message"]
    assert first in text
    assert re.search(r"^\(I\) .* - alternative speed limits in effect$", text, re.M)
    assert (os.stat(path).st_mode & 0o777) == 0o600
    # every log/main entry's text is a line's text, same order
    msgs = [e["message"] for e in td.get("/api/v2/log/main").json()]
    in_file = [ln.split(" - ", 1)[1] for ln in read(path).splitlines()]
    assert in_file[:len(msgs)] == msgs[:len(in_file)]


def test_rotation_with_backups(procs, workdir):
    td = start(procs, workdir)
    d = os.path.join(workdir, "rot")
    td.set_prefs({"file_log_path": d, "file_log_max_size": 1, "file_log_backup_enabled": True})
    path = os.path.join(d, NAME)
    wait_until(lambda: os.path.exists(path), 10, "the log in the new folder", procs=[td])

    def rotated(n):
        toggle(td, 5)
        names = sorted(os.listdir(d))
        want = [NAME + ".bak"] + [NAME + ".bak%d" % i for i in range(1, n)]
        return all(w in names for w in want)
    wait_until(lambda: rotated(3), 60, "three backups", procs=[td])
    for b in [NAME + ".bak", NAME + ".bak1", NAME + ".bak2"]:
        size = os.path.getsize(os.path.join(d, b))
        assert 1024 <= size < 1024 + 1100, (b, size)   # rotated at the first line reaching 1 KiB
    assert os.path.getsize(path) < 1024
    p = td.prefs()
    assert (p["file_log_max_size"], p["file_log_backup_enabled"]) == (1, True)

    # without backups the file grows past the size
    td.set_prefs({"file_log_backup_enabled": False})
    before = sorted(os.listdir(d))
    wait_until(lambda: toggle(td, 5) or os.path.getsize(path) > 2048, 60, "the file past 2 KiB", procs=[td])
    assert sorted(os.listdir(d)) == before


def test_disable_enable_and_move(procs, workdir):
    td = start(procs, workdir)
    path = os.path.join(td.profile, "logs", NAME)
    marker(td, "10.9.9.1")
    wait_until(lambda: "10.9.9.1" in read(path), 10, "marker 1 in the file", procs=[td])
    td.set_prefs({"file_log_enabled": False})
    marker(td, "10.9.9.2")
    wait_until(lambda: any("10.9.9.2" in e["message"] for e in td.get("/api/v2/log/main").json()), 10,
               "marker 2 in log/main", procs=[td])
    assert "10.9.9.2" not in read(path)
    assert td.prefs()["file_log_enabled"] is False
    td.set_prefs({"file_log_enabled": True})
    marker(td, "10.9.9.3")
    wait_until(lambda: "10.9.9.3" in read(path), 10, "marker 3 in the file", procs=[td])

    other = os.path.join(workdir, "elsewhere", "deeper")
    td.set_prefs({"file_log_path": other})
    marker(td, "10.9.9.4")
    moved = os.path.join(other, NAME)
    wait_until(lambda: "10.9.9.4" in read(moved), 10, "marker 4 in the moved file", procs=[td])
    assert "10.9.9.4" not in read(path)
    assert td.prefs()["file_log_path"] == other
    # the path survives a restart
    td.stop()
    td.start()
    marker(td, "10.9.9.5")
    wait_until(lambda: "10.9.9.5" in read(moved), 10, "marker 5 after the restart", procs=[td])


def test_delete_old_backups_on_enable(procs, workdir):
    td = start(procs, workdir)
    d = os.path.join(workdir, "aged")
    os.makedirs(d)
    old = time.time() - 3 * 86400
    for name, mtime in [(NAME + ".bak", old), (NAME + ".bak4", time.time()), ("unrelated.bak", old)]:
        p = os.path.join(d, name)
        with open(p, "w") as f:
            f.write("x\n")
        os.utime(p, (mtime, mtime))
    td.set_prefs({"file_log_enabled": False})
    td.set_prefs({"file_log_path": d, "file_log_delete_old": True, "file_log_age": 2, "file_log_age_type": 0})
    assert os.path.exists(os.path.join(d, NAME + ".bak"))     # only when the file log is enabled
    td.set_prefs({"file_log_enabled": True})
    wait_until(lambda: os.path.exists(os.path.join(d, NAME)), 10, "the log opened", procs=[td])
    assert sorted(os.listdir(d)) == sorted([NAME, NAME + ".bak4", "unrelated.bak"])


def test_sighup_reopens(procs, workdir):
    td = start(procs, workdir)
    path = os.path.join(td.profile, "logs", NAME)
    marker(td, "10.8.8.1")
    wait_until(lambda: "10.8.8.1" in read(path), 10, "marker in the file", procs=[td])
    os.rename(path, path + ".1")                   # what logrotate does
    os.kill(td.pid, signal.SIGHUP)
    wait_until(lambda: "SIGHUP received: log file" in read(path), 10, "a new file after SIGHUP", procs=[td])
    marker(td, "10.8.8.2")
    wait_until(lambda: "10.8.8.2" in read(path), 10, "marker in the new file", procs=[td])
    assert "10.8.8.2" not in read(path + ".1")
