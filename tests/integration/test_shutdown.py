"""SIGTERM during a full-speed download with API requests in flight.

A torrentd leecher downloads the shared data set from a torrentd seeder (at
RATE, see there: the leecher's download limit) while
API_THREADS threads hit torrents/info and sync/maindata as fast as they can.
It gets SIGTERM at several points of the download (the shutdown bug this
guards against was racy: the last piece write finishing while the torrent
closed left the close hanging, the loop ran dry and the process exited 0
without the final save). After every SIGTERM:

  * the process exits with code 0 within STOP_BOUND_S;
  * its log ends with `torrentd stopped` (the orderly path ran to the end);
  * restarted on the same profile, the torrent loads its resume data: no
    recheck (no "rechecking" log line, never a checking* state), and the
    progress right after the restart is at least the progress seen just
    before the SIGTERM (the final save is the newest progress).

At the end the download completes byte-identical.
"""
import os
import re
import signal
import socket
import threading
import time

import requests

from conftest import LEECH_IP, SEED_IP
from tdlib import USER, Torrentd, assert_same_data, wait_complete, wait_until

API_THREADS = 8
CYCLES = 6
STOP_BOUND_S = 10.0
STEP = 0.08          # progress between two SIGTERMs
# Loopback at full speed moves the 66 MiB data set in about a second, too
# fast for several SIGTERMs. The leecher's download limit slows it to a few
# pieces every 100 ms (each restart also starts with a second's worth of
# tokens), so piece writes are in flight at every SIGTERM.
RATE = 4 << 20


def _hammer(td, stop):
    """One client thread: logs in, then torrents/info + sync/maindata in a
    loop until `stop`; errors (the daemon going away) are expected."""
    while not stop.is_set():
        s = td.new_session()
        try:
            s.post(td.base + "/api/v2/auth/login", data={"username": USER, "password": td.password},
                   timeout=5)
            rid = 0
            while not stop.is_set():
                s.get(td.base + "/api/v2/torrents/info", timeout=5)
                md = s.get(td.base + "/api/v2/sync/maindata", params={"rid": rid}, timeout=5).json()
                rid = md.get("rid", 0)
        except (requests.RequestException, ValueError):
            if stop.wait(0.05):
                return
        finally:
            s.close()


def _last_run(td):
    """The log of the latest start of td (tdlib writes a `=== ` line per start)."""
    text = td.log_text().decode(errors="replace")
    return text[text.rindex("\n=== "):]


def test_sigterm_mid_download_keeps_resume_data(dataset, procs, workdir):
    h, tbytes = dataset.infohash, dataset.tbytes   # its tracker (port 1) refuses at once
    seeder = procs.add(Torrentd(os.path.join(workdir, "seed"), SEED_IP, name="seed")).start()
    seeder.add(tbytes, dataset.seed_root, skip_checking=True)
    seeder.wait_seeding(h, 60)

    leecher = procs.add(Torrentd(os.path.join(workdir, "leech"), LEECH_IP, name="leech")).start()
    leecher.set_prefs({"dl_limit": RATE})    # saved: it holds after the restarts too
    leecher.add(tbytes, leecher.save_path)
    wait_until(lambda: leecher.torrent(h), 10, "torrent added")
    leecher.add_peers(h, [seeder.peer_addr])

    stop_times = []
    t_start = time.monotonic()
    cycles = 0
    target = STEP
    while cycles < CYCLES:
        wait_until(lambda: leecher.progress(h) >= target, 60, "progress >= %.2f" % target,
                   0.02, procs=[seeder, leecher])
        stop = threading.Event()
        threads = [threading.Thread(target=_hammer, args=(leecher, stop), daemon=True)
                   for _ in range(API_THREADS)]
        for th in threads:
            th.start()
        # the requests are in flight and the pieces keep coming
        before = leecher.progress(h)
        wait_until(lambda: leecher.progress(h) > before or before >= 1.0, 30, "more progress",
                   0.005, procs=[seeder, leecher])
        at_kill = leecher.progress(h)
        print("cycle %d: SIGTERM at progress %.3f (%.1f s)" % (cycles, at_kill, time.monotonic() - t_start))
        if at_kill >= 1.0:
            stop.set()
            break
        t0 = time.monotonic()
        leecher.proc.send_signal(signal.SIGTERM)
        try:
            rc = leecher.proc.wait(STOP_BOUND_S)
        finally:
            stop.set()
            for th in threads:
                th.join(10)
        took = time.monotonic() - t0
        stop_times.append(took)
        log = _last_run(leecher)
        assert rc == 0, "exit code %s after SIGTERM:\n%s" % (rc, log[-3000:])
        lines = [ln for ln in log.splitlines() if ln.strip()]
        assert lines and lines[-1].endswith("torrentd stopped"), \
            "cycle %d: log does not end with 'torrentd stopped':\n%s" % (cycles, "\n".join(lines[-15:]))
        cycles += 1

        leecher.start()
        assert leecher.prefs()["dl_limit"] == RATE
        t = leecher.torrent(h)
        assert t is not None
        assert not t["state"].startswith("checking"), "cycle %d: rechecked after SIGTERM: %s" % (cycles, t)
        assert float(t["progress"]) >= at_kill, \
            "cycle %d: resume data older than the progress at SIGTERM: %s < %s" % (
                cycles, t["progress"], at_kill)
        log = _last_run(leecher)
        assert not re.search("rechecking|checked, ", log), "cycle %d: recheck after restart:\n%s" % (
            cycles, log[-3000:])
        leecher.add_peers(h, [seeder.peer_addr])
        target = min(at_kill + STEP, 0.99)

    assert cycles >= 3, "download too fast to SIGTERM it %d times (only %d)" % (CYCLES, cycles)
    wait_complete(leecher, h, 180, procs=[seeder], nudge=lambda: leecher.add_peers(h, [seeder.peer_addr]))
    assert_same_data(tbytes, dataset.seed_root, leecher.save_path)
    print("SIGTERM to exit: %s s" % ", ".join("%.2f" % x for x in stop_times))


def test_sigterm_waits_for_stopped_announce(dataset, tracker, procs, workdir):
    """The event=stopped announce is answered before the process exits (up to
    qBittorrent's stop_tracker_timeout, 5 s by default): right after the exit
    the tracker no longer counts the leecher."""
    tr = tracker([dataset.infohash])
    h, tbytes = dataset.infohash, dataset.torrent(tr)
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    assert td.prefs()["stop_tracker_timeout"] == 5
    td.add(tbytes, td.save_path)
    wait_until(lambda: tr.leechers(h) == 1, 30, "the leecher at the tracker", procs=[td])
    t0 = time.monotonic()
    td.proc.send_signal(signal.SIGTERM)
    assert td.proc.wait(STOP_BOUND_S) == 0
    took = time.monotonic() - t0
    assert tr.leechers(h) == 0, "exited before the tracker got event=stopped"
    assert _last_run(td).rstrip().endswith("torrentd stopped")
    print("SIGTERM to exit with a stopped announce: %.2f s" % took)


def test_second_sigterm_forces_exit_safely(dataset, procs, workdir):
    """A second SIGTERM ends the process at once (killed by the signal, unless
    the orderly shutdown was already done); nothing is corrupted: the restart
    opens the profile, has the torrent, and the download completes
    byte-identical."""
    h, tbytes = dataset.infohash, dataset.tbytes
    seeder = procs.add(Torrentd(os.path.join(workdir, "seed"), SEED_IP, name="seed")).start()
    seeder.add(tbytes, dataset.seed_root, skip_checking=True)
    seeder.wait_seeding(h, 60)
    leecher = procs.add(Torrentd(os.path.join(workdir, "leech"), LEECH_IP, name="leech")).start()
    leecher.set_prefs({"dl_limit": RATE})
    leecher.add(tbytes, leecher.save_path)
    wait_until(lambda: leecher.torrent(h), 10, "torrent added")
    leecher.add_peers(h, [seeder.peer_addr])
    wait_until(lambda: leecher.progress(h) >= 0.1, 60, "progress >= 10 %", 0.02, procs=[seeder, leecher])
    leecher.proc.send_signal(signal.SIGTERM)
    leecher.proc.send_signal(signal.SIGTERM)
    rc = leecher.proc.wait(STOP_BOUND_S)
    assert rc in (0, -signal.SIGTERM), rc
    if rc != 0:
        assert "second signal: exiting" in _last_run(leecher)
    leecher.start()
    assert leecher.torrent(h) is not None
    wait_complete(leecher, h, 180, procs=[seeder], nudge=lambda: leecher.add_peers(h, [seeder.peer_addr]))
    assert_same_data(tbytes, dataset.seed_root, leecher.save_path)


def test_sigterm_right_after_delete_with_files(procs, workdir):
    """SIGTERM as soon as torrents/delete (deleteFiles=true) answered: the
    shutdown waits for the removal in flight (its unlinks and the deletion
    intent row's deletion) instead of closing the loop under it (which
    tripped libuv's uv_close assertion), exits 0 with `torrentd stopped`,
    the files are gone and no deletion intent row is left. Five rounds."""
    import shutil
    import sqlite3
    from tdlib import MiB, Dataset
    ds = Dataset(os.path.join(workdir, "seedroot"), "del", [("a.bin", MiB + 13), ("sub/b.dat", 2 * MiB + 1001)],
                 piece_exp=16)
    save = os.path.join(workdir, "save")
    ours = [os.path.join(save, "del", r) for r in ("a.bin", "sub/b.dat")]
    td = procs.add(Torrentd(os.path.join(workdir, "td"), SEED_IP)).start()
    for n in range(5):
        shutil.copytree(ds.seed_root, save, dirs_exist_ok=True)
        td.add(ds.tbytes, save, skip_checking=True)
        td.wait_seeding(ds.infohash, 30)
        r = td.req("POST", "/api/v2/torrents/delete", data={"hashes": ds.infohash, "deleteFiles": "true"})
        assert r.status_code == 200
        td.proc.send_signal(signal.SIGTERM)
        assert td.proc.wait(STOP_BOUND_S) == 0, "round %d: %s" % (n, _last_run(td)[-2000:])
        assert _last_run(td).rstrip().endswith("torrentd stopped"), _last_run(td)[-2000:]
        assert not [p for p in ours if os.path.exists(p)], "round %d: files left" % n
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(td.profile, "torrentd.db"), uri=True)
        rows = db.execute("SELECT key FROM kv WHERE ns = 'deleting'").fetchall()
        db.close()
        assert rows == [], "round %d: deletion intent rows left: %s" % (n, rows)
        td.start()
        assert td.torrent(ds.infohash) is None


class _SilentTracker:
    """An HTTP tracker that reads each announce and never answers; it notes
    each request's event and when the client gave up on it (closed the
    connection)."""

    def __init__(self):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from tdlib import free_port
        self.reqs = []          # [event, t_received, t_closed or None]
        self.lock = threading.Lock()
        self.stop = threading.Event()
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                q = self.path.split("?", 1)[1] if "?" in self.path else ""
                ev = ([p[6:] for p in q.split("&") if p.startswith("event=")] or [""])[0]
                rec = [ev, time.monotonic(), None]
                with outer.lock:
                    outer.reqs.append(rec)
                self.connection.settimeout(1.0)
                while not outer.stop.is_set():
                    try:
                        if self.connection.recv(1) == b"":
                            break
                    except socket.timeout:
                        continue
                    except OSError:
                        break
                rec[2] = time.monotonic()
                self.close_connection = True

        self.srv = ThreadingHTTPServer(("127.0.0.1", free_port()), H)
        self.srv.daemon_threads = True
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d/announce" % self.srv.server_address[1]

    def events(self, ev):
        with self.lock:
            return [r for r in self.reqs if r[0] == ev]

    def close(self):
        self.stop.set()
        self.srv.shutdown()
        self.srv.server_close()


def test_stopped_announce_follows_stop_tracker_timeout(procs, workdir):
    """The event=stopped announce's timeout is qBittorrent's
    stop_tracker_timeout (libtorrent's), not a fixed 10 s: with 2 s, a
    tracker that never answers sees the pause's stopped request abandoned
    after about 2 s, and a SIGTERM's after about 2 s too, the exit coming
    with it. With 0 no stopped announce is sent at all (libtorrent
    suppresses them)."""
    from tdlib import make_torrent, piece_hashes, with_announce
    pl = 16384
    payload = os.urandom(3 * pl)
    tbytes, h = make_torrent({"name": "quiet.bin", "piece length": pl, "length": len(payload),
                              "pieces": piece_hashes(payload, pl)})
    trk = _SilentTracker()
    procs.on_close(trk.close)
    tbytes = with_announce(tbytes, trk.url)
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    td.set_prefs({"stop_tracker_timeout": 2})
    td.add(tbytes, td.save_path)
    wait_until(lambda: trk.events("started"), 20, "the started announce", procs=[td])

    td.post("/api/v2/torrents/pause", hashes=h)
    stop = wait_until(lambda: trk.events("stopped"), 10, "the pause's stopped announce", procs=[td])[0]
    wait_until(lambda: stop[2] is not None, 20, "the stopped request abandoned", procs=[td])
    took = stop[2] - stop[1]
    print("stopped announce abandoned after %.2f s (stop_tracker_timeout 2)" % took)
    assert 1.5 < took < 6, took

    # 0: no stopped announce; the resume's started one shows it would have come
    td.set_prefs({"stop_tracker_timeout": 0})
    td.post("/api/v2/torrents/resume", hashes=h)
    wait_until(lambda: len(trk.events("started")) == 2, 20, "started again", procs=[td])
    td.post("/api/v2/torrents/pause", hashes=h)
    td.post("/api/v2/torrents/resume", hashes=h)
    wait_until(lambda: len(trk.events("started")) == 3, 20, "started a third time", procs=[td])
    assert len(trk.events("stopped")) == 1, "a stopped announce went out with stop_tracker_timeout 0"

    # SIGTERM with 2 s: the shutdown's stopped request ends with the wait
    td.set_prefs({"stop_tracker_timeout": 2})
    t0 = time.monotonic()
    td.proc.send_signal(signal.SIGTERM)
    assert td.proc.wait(STOP_BOUND_S) == 0
    exit_s = time.monotonic() - t0
    last = wait_until(lambda: len(trk.events("stopped")) == 2 and trk.events("stopped")[1], 10,
                      "the shutdown's stopped announce")
    wait_until(lambda: last[2] is not None, 10, "the shutdown's stopped request ended")
    assert last[2] - last[1] < 6, "the shutdown's stopped request lasted %.2f s" % (last[2] - last[1])
    print("SIGTERM to exit with a silent tracker: %.2f s" % exit_s)
    assert exit_s < 6, exit_s
    assert _last_run(td).rstrip().endswith("torrentd stopped")
