"""Hostile WebUI clients (issue 10, defects 3-5): connection floods and
slow heads, concurrent login guesses, unauthenticated bodies.

- 1,000 idle connections plus 200 slowloris clients (a header trickled one
  byte a second), all reconnecting when closed, must not lock a normal client
  out: its login and API requests are answered (p50/p99 printed), and the
  slow heads are closed by the server.
- 100 wrong-password logins sent at once from one address: at most
  web_ui_max_auth_fail_count of them are evaluated, the rest get the ban
  reply, the ban holds, another address still logs in.
- Unauthenticated 64 MiB bodies (chunked and with Content-Length) are refused
  without being buffered: the daemon's RSS stays flat.
"""
import errno
import os
import resource
import selectors
import socket
import threading
import time

import requests

from conftest import LEECH_IP
from tdlib import PASSWORD, USER, Torrentd, make_torrent, piece_hashes, wait_until

BANNED = "Your IP address has been banned after too many failed authentication attempts."
MiB = 1 << 20


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class SourceAdapter(requests.adapters.HTTPAdapter):
    def __init__(self, ip):
        self.ip = ip
        super().__init__()

    def init_poolmanager(self, *a, **kw):
        kw["source_address"] = (self.ip, 0)
        super().init_poolmanager(*a, **kw)


def from_ip(ip):
    s = requests.Session()
    s.headers.update({"Accept-Encoding": "identity"})
    s.mount("http://", SourceAdapter(ip))
    return s


# --------------------------------------------------------------------------
# defect 3: idle and slow connections
# --------------------------------------------------------------------------

class Flood:
    """Idle and slowloris connections from many loopback source addresses, in
    one thread.  Every connection the server closes is opened again (an
    attacker keeps up the pressure).  For the first generation of slowloris
    connections the time the server closed each one is recorded."""

    SLOW_HEAD = b"GET /api/v2/app/version HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 4096

    def __init__(self, port):
        self.port = port
        self.sel = selectors.DefaultSelector()
        self.stop_ev = threading.Event()
        self.slots = []         # [kind, src_ip, sock, opened_at, sent, first_gen_index]
        self.first_gen_closed = {}   # index -> lifetime (s)
        self.first_gen_opened = 0
        self.reconnects = 0
        self.thread = threading.Thread(target=self.run, daemon=True)

    def add(self, kind, ips, per_ip):
        for ip in ips:
            for _ in range(per_ip):
                slot = [kind, ip, None, 0.0, 0, None]
                if kind == "slow":
                    slot[5] = self.first_gen_opened
                    self.first_gen_opened += 1
                self.slots.append(slot)

    def _open(self, slot):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.bind((slot[1], 0))
        err = s.connect_ex(("127.0.0.1", self.port))
        if err not in (0, errno.EINPROGRESS):
            s.close()
            return
        slot[2], slot[3], slot[4] = s, time.monotonic(), 0
        self.sel.register(s, selectors.EVENT_READ, slot)

    def _closed(self, slot):
        self.sel.unregister(slot[2])
        slot[2].close()
        slot[2] = None
        if slot[5] is not None:
            self.first_gen_closed[slot[5]] = time.monotonic() - slot[3]
            slot[5] = None

    def start(self):
        for slot in self.slots:
            self._open(slot)
        self.thread.start()
        return self

    def run(self):
        next_trickle = time.monotonic()
        while not self.stop_ev.is_set():
            for key, _ in self.sel.select(timeout=0.2):
                slot = key.data
                try:
                    data = slot[2].recv(4096)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    self._closed(slot)
            now = time.monotonic()
            if now >= next_trickle:      # one byte a second per slow client
                next_trickle = now + 1.0
                for slot in self.slots:
                    if slot[0] == "slow" and slot[2] is not None and slot[4] < len(self.SLOW_HEAD):
                        try:
                            slot[2].send(self.SLOW_HEAD[slot[4]:slot[4] + 1])
                            slot[4] += 1
                        except (BlockingIOError, OSError):
                            pass
            for slot in self.slots:
                if slot[2] is None and not self.stop_ev.is_set():
                    self.reconnects += 1
                    self._open(slot)

    def stop(self):
        self.stop_ev.set()
        self.thread.join(10)
        for slot in self.slots:
            if slot[2] is not None:
                self.sel.unregister(slot[2])
                slot[2].close()
                slot[2] = None


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def test_idle_and_slow_connections_do_not_lock_out(procs, workdir):
    assert raise_nofile() >= 4096, "the test needs ~1,300 descriptors"
    d = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    t0 = time.monotonic()
    flood = Flood(d.webui_port)
    flood.add("idle", ["127.1.0.1"], 400)                                  # one address
    flood.add("idle", ["127.2.0.%d" % i for i in range(1, 31)], 20)        # many addresses
    flood.add("slow", ["127.3.0.%d" % i for i in range(1, 11)], 20)
    procs.on_close(flood.stop)
    flood.start()
    assert len(flood.slots) == 1200

    lat = []
    try:
        # a normal client: a fresh connection per request
        t = time.monotonic()
        r = requests.post(d.base + "/api/v2/auth/login", data={"username": USER, "password": PASSWORD},
                          headers={"Referer": d.base}, timeout=5)
        login_s = time.monotonic() - t
        print("\nlogin under the flood (PBKDF2 included): %.1f ms" % (login_s * 1000))
        assert (r.status_code, r.text) == (200, "Ok.")
        sid = r.cookies["SID"]
        for i in range(50):
            path = "/api/v2/torrents/info" if i % 2 == 0 else "/api/v2/app/version"
            t = time.monotonic()
            r = requests.get(d.base + path, cookies={"SID": sid}, timeout=5)
            lat.append(time.monotonic() - t)
            assert r.status_code == 200, (path, r.status_code, r.text[:200])
    finally:
        if lat:
            print("WebUI under 1,000 idle + 200 slowloris: %d API requests, p50 %.1f ms, p99 %.1f ms, "
                  "max %.1f ms" % (len(lat), pct(lat, 50) * 1000, pct(lat, 99) * 1000, max(lat) * 1000))
    assert max(lat) < 5.0 and login_s < 5.0

    # a trickled head does not live forever: every first-generation slow
    # client is closed by the server (the head deadline is 10 s)
    wait_until(lambda: len(flood.first_gen_closed) == flood.first_gen_opened, 30,
               "the server to close every slowloris connection", interval=0.2, procs=[d])
    print("slowloris lifetimes: max %.1f s; reconnects during the test: %d" % (
        max(flood.first_gen_closed.values()), flood.reconnects))
    assert max(flood.first_gen_closed.values()) < 20
    assert d.s.get(d.base + "/api/v2/app/version", timeout=5).status_code == 200
    flood.stop()
    assert time.monotonic() - t0 < 60


def test_slow_head_and_slow_unauthenticated_body_time_out(procs, workdir):
    """Without any flood pressure: a head trickled one byte a second, and an
    unauthenticated login body trickled the same way, are closed by the
    server (10 s deadline for a whole unauthenticated request)."""
    d = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    flood = Flood(d.webui_port)
    flood.add("slow", ["127.4.0.1"], 5)
    procs.on_close(flood.stop)
    body = socket.create_connection(("127.0.0.1", d.webui_port), timeout=30)
    body.sendall(("POST /api/v2/auth/login HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                  "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
                  % d.webui_port).encode())
    t0 = time.monotonic()
    flood.start()
    closed = []

    def body_closed():
        try:
            body.sendall(b"u")
            body.settimeout(1.0)
            data = body.recv(100)
            if not data:
                closed.append(time.monotonic() - t0)
                return True
        except socket.timeout:
            return False
        except OSError:
            closed.append(time.monotonic() - t0)
            return True
        return False

    wait_until(body_closed, 30, "the slow login body to be closed", interval=0, procs=[d])
    wait_until(lambda: len(flood.first_gen_closed) == flood.first_gen_opened, 30,
               "the server to close every slowloris connection", interval=0.2, procs=[d])
    print("\nslow body closed after %.1f s; slow heads after max %.1f s" % (
        closed[0], max(flood.first_gen_closed.values())))
    assert 5 < closed[0] < 20
    assert 5 < min(flood.first_gen_closed.values()) and max(flood.first_gen_closed.values()) < 20
    body.close()
    flood.stop()


# --------------------------------------------------------------------------
# defect 4: concurrent login guesses
# --------------------------------------------------------------------------

def test_concurrent_wrong_logins_are_counted_in_flight(procs, workdir):
    d = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    d.set_prefs({"web_ui_max_auth_fail_count": 5, "web_ui_ban_duration": 600})
    n = 100
    barrier = threading.Barrier(n)
    replies = [None] * n

    def guess(i):
        s = from_ip("127.0.0.6")
        try:
            barrier.wait(30)
            r = s.post(d.base + "/api/v2/auth/login", data={"username": USER, "password": "guess-%d" % i},
                       timeout=120)
            replies[i] = (r.status_code, r.text)
        except Exception as e:   # noqa: BLE001 - recorded, asserted below
            replies[i] = ("error", repr(e))

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    fails = sum(1 for r in replies if r == (200, "Fails."))
    banned = sum(1 for r in replies if r == (403, BANNED))
    print("\n100 concurrent wrong logins: %d evaluated (Fails.), %d refused (ban reply)" % (fails, banned))
    assert fails + banned == n, [r for r in replies if r not in ((200, "Fails."), (403, BANNED))][:5]
    assert 1 <= fails <= 5
    # banned now, even with the right password
    r = from_ip("127.0.0.6").post(d.base + "/api/v2/auth/login", data={"username": USER, "password": PASSWORD},
                                  timeout=30)
    assert (r.status_code, r.text) == (403, BANNED)
    # another address is not
    r = from_ip("127.0.0.7").post(d.base + "/api/v2/auth/login", data={"username": USER, "password": PASSWORD},
                                  timeout=30)
    assert (r.status_code, r.text) == (200, "Ok.")


def test_success_clears_pending_count(procs, workdir):
    """Right-password logins sent at once all succeed (none is failed, so none
    may count towards a ban), and afterwards wrong guesses start from zero."""
    d = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    d.set_prefs({"web_ui_max_auth_fail_count": 5, "web_ui_ban_duration": 600})
    s = from_ip("127.0.0.6")
    for i in range(4):
        assert s.post(d.base + "/api/v2/auth/login", data={"username": USER, "password": "x%d" % i},
                      timeout=30).text == "Fails."
    r = from_ip("127.0.0.6").post(d.base + "/api/v2/auth/login", data={"username": USER, "password": PASSWORD},
                                  timeout=30)
    assert (r.status_code, r.text) == (200, "Ok.")
    for i in range(4):     # cleared: four more failures are not a ban
        assert s.post(d.base + "/api/v2/auth/login", data={"username": USER, "password": "y%d" % i},
                      timeout=30).text == "Fails."


# --------------------------------------------------------------------------
# defect 5: unauthenticated bodies
# --------------------------------------------------------------------------

def vm_rss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise ValueError("no VmRSS")


def big_post(port, path, total, chunked=True, cookie=None):
    """POSTs `total` bytes with Expect: 100-continue; stops sending as soon as
    a final reply arrives.  Returns (bytes sent, raw reply or b'', error)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = ["POST %s HTTP/1.1" % path, "Host: 127.0.0.1:%d" % port, "Expect: 100-continue",
            "Content-Type: application/x-bittorrent"]
    head.append("Transfer-Encoding: chunked" if chunked else "Content-Length: %d" % total)
    if cookie:
        head.append("Cookie: SID=%s" % cookie)
    sent, reply, err = 0, b"", None
    try:
        s.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        # the interim 100 or the final reply, whichever the server sends
        first = s.recv(65536)
        if not first.startswith(b"HTTP/1.1 100"):
            reply = first
        else:
            chunk = b"x" * MiB
            s.settimeout(30)
            while sent < total:
                s.sendall((b"%x\r\n" % len(chunk) + chunk + b"\r\n") if chunked else chunk)
                sent += len(chunk)
            if chunked:
                s.sendall(b"0\r\n\r\n")
        while True:
            data = s.recv(65536)
            if not data:
                break
            reply += data
            if b"\r\n\r\n" in reply and reply.startswith(b"HTTP/1.1 4"):
                break
    except OSError as e:
        err = e
    finally:
        s.close()
    return sent, reply, err


def test_unauthenticated_bodies_are_not_buffered(procs, workdir):
    d = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    pid = d.pid
    base_rss = vm_rss(pid)
    peak = [base_rss]
    done = threading.Event()

    def sample():
        while not done.is_set():
            try:
                peak[0] = max(peak[0], vm_rss(pid))
            except (OSError, ValueError):
                return
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    jobs = [("/api/v2/torrents/add", True)] * 4 + [("/api/v2/auth/login", True)] * 2 + \
           [("/api/v2/auth/login", False), ("/api/v2/torrents/add", False)]
    results = [None] * len(jobs)

    def run(i):
        results[i] = big_post(d.webui_port, jobs[i][0], 64 * MiB, chunked=jobs[i][1])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    done.set()
    sampler.join(5)
    grew = peak[0] - base_rss
    print("\nunauthenticated 64 MiB bodies x%d: RSS %.1f -> peak %.1f MiB (+%.1f MiB)" % (
        len(jobs), base_rss / MiB, peak[0] / MiB, grew / MiB))
    for (path, chunked), (sent, reply, err) in zip(jobs, results):
        status = reply.split(b"\r\n", 1)[0]
        print("  %s %s: sent %d MiB, reply %r, error %r" % (path, "chunked" if chunked else "length",
                                                            sent // MiB, status, err))
    assert grew < 32 * MiB
    for (path, chunked), (sent, reply, err) in zip(jobs, results):
        if path == "/api/v2/torrents/add":
            # qBittorrent's answer to an unauthenticated API call, before the body
            assert reply.startswith(b"HTTP/1.1 403"), (path, chunked, reply[:200], err)
            assert reply.endswith(b"\r\n\r\nForbidden"), reply
            assert sent == 0
        elif not chunked:
            assert reply.startswith(b"HTTP/1.1 413"), (path, chunked, reply[:200], err)
            assert sent == 0
        else:
            # a chunked login past 8 KiB: the connection is dropped, no reply
            assert not reply.startswith(b"HTTP/1.1 2"), reply[:200]
            assert sent < 64 * MiB
    assert d.alive()

    # a normal login and an authenticated upload still work
    d.login()
    payload = os.urandom(40000)
    info = {"name": "after-abuse", "piece length": 16384, "length": len(payload),
            "pieces": piece_hashes(payload, 16384)}
    tbytes, h = make_torrent(info, announce="http://127.0.0.1:9/announce")
    d.add(tbytes, d.save_path, stopped=True)
    wait_until(lambda: any(t["hash"] == h for t in d.get("/api/v2/torrents/info").json()), 10,
               "the uploaded torrent in torrents/info", procs=[d])
