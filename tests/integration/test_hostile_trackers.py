"""Hostile trackers (issue 10): HTTP trackers that answer slowly, with huge
bodies, with garbage, with redirect loops, with 100,000-peer lists (compact
and dictionary form), and UDP trackers that send garbage, short packets,
wrong transaction ids, errors and the biggest peer list a datagram holds.

For each: the daemon stays up and answers its API, its memory (VmRSS) grows
by a bounded amount, the tracker row says what happened within a bounded
time (status 4 "not working" with libtorrent's wording for a failure, 2 for
a big but valid reply, whose peers are capped) and the torrent keeps
working with its other trackers: with a garbage, a huge and a looping
tracker next to an honest one, the download completes.

Every tracker here is in-test (http.server / a UDP socket on 127.0.0.1 with
free_port()), so xdist workers never share one."""
import json
import os
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from conftest import LEECH_IP, SEED_IP
from tdlib import (Torrentd, bencode, free_port, make_torrent, piece_hashes, status_mib,
                   wait_until)

PL = 16384
MiB = 1 << 20
# The daemon's tracker request timeout (libtorrent's tracker_completion_timeout).
HTTP_TIMEOUT_S = 30
# tracker_completion_timeout for the in-flight cap test
CAP_COMPLETION_S = 10
# What a hostile tracker may add to the daemon's resident memory (ASan build:
# its allocator keeps freed memory in quarantine, so this is generous).
RSS_BUDGET_MIB = 96


def _peers_compact(n):
    """n distinct IPv4 peers in 10/8 (unreachable in the test namespace)."""
    return b"".join(socket.inet_aton("10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255)) +
                    struct.pack(">H", 6881) for i in range(1, n + 1))


def _peers_dict(n):
    return [{"ip": "10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255), "port": 6881}
            for i in range(1, n + 1)]


class HostileHttp:
    """One HTTP server; the path picks the behaviour."""

    def __init__(self, good_peer=None):
        self.good_peer = good_peer
        self.hits = {}
        self.stop = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.held = self.max_held = 0
        big_compact = bencode({"interval": 1800, "peers": _peers_compact(100000)})
        big_dict = bencode({"interval": 1800, "peers": _peers_dict(100000)})
        # just under a megavalue in 2 MB: empty lists cost the parser a node each
        many_values = b"d8:intervali1800e5:peersl" + b"le" * 999990 + b"ee"
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _send(self, body, status=200, ctype="text/plain"):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                path = self.path.split("?", 1)[0]
                outer.hits[path] = outer.hits.get(path, 0) + 1
                try:
                    self._route(path)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _route(self, path):
                if path == "/garbage/announce":
                    self._send(b"<html><body>502 Bad Gateway</body></html>\x00\xff" * 20)
                elif path == "/huge/announce":
                    # announces 1 GiB up front, then sends it
                    self.send_response(200)
                    self.send_header("Content-Length", str(1 << 30))
                    self.end_headers()
                    self._stream()
                elif path == "/huge_nolen/announce":
                    # no length: the body ends when the connection does
                    self.protocol_version = "HTTP/1.0"
                    self.send_response(200)
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.close_connection = True
                    self._stream()
                elif path.startswith("/loop"):
                    n = outer.hits[path]
                    self.send_response(302)
                    self.send_header("Location", "/loop%d/announce" % (n % 2))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif path == "/slow/announce":
                    # headers, then one byte every second: never completes
                    self.send_response(200)
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    while not outer.stop.wait(1.0):
                        self.wfile.write(b"d")
                        self.wfile.flush()
                elif path == "/trickle/announce":
                    # 20 bytes every 0.2 s of a body that never ends: never
                    # idle, so only the completion timeout ends it
                    self.send_response(200)
                    self.send_header("Content-Length", "1000000")
                    self.end_headers()
                    while not outer.stop.wait(0.2):
                        self.wfile.write(b"d" * 20)
                        self.wfile.flush()
                elif path == "/silent/announce":
                    # accepts the request and never sends a byte
                    outer.stop.wait(120)
                elif path.startswith("/hold"):
                    # answers once released; counts the requests held at once
                    with outer.lock:
                        outer.held += 1
                        outer.max_held = max(outer.max_held, outer.held)
                    outer.release.wait(120)
                    with outer.lock:
                        outer.held -= 1
                    self._send(bencode({"interval": 1800, "peers": b""}))
                elif path == "/compact100k/announce":
                    self._send(big_compact)
                elif path == "/dict100k/announce":
                    self._send(big_dict)
                elif path.startswith("/values"):
                    self._send(many_values)
                elif path == "/good/announce":
                    ip, port = outer.good_peer.split(":")
                    self._send(bencode({"interval": 1800, "complete": 1, "incomplete": 1,
                                        "peers": socket.inet_aton(ip) + struct.pack(">H", int(port))}))
                else:
                    self._send(b"not found", 404)

            def _stream(self):
                chunk = b"x" * 65536
                sent = 0
                while sent < (1 << 30) and not outer.stop.is_set():
                    self.wfile.write(chunk)
                    sent += len(chunk)

        self.srv = ThreadingHTTPServer(("127.0.0.1", free_port()), H)
        self.srv.daemon_threads = True
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name):
        return "http://127.0.0.1:%d/%s/announce" % (self.srv.server_address[1], name)

    def close(self):
        self.stop.set()
        self.release.set()
        self.srv.shutdown()
        self.srv.server_close()


class HostileUdp:
    """A BEP15 tracker on one UDP port; `mode` picks what it answers."""

    def __init__(self, mode):
        self.mode = mode
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", free_port()))
        self.sock.settimeout(0.2)
        self.stop = threading.Event()
        self.announces = 0
        self.received = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "udp://127.0.0.1:%d/announce" % self.sock.getsockname()[1]

    def _run(self):
        while not self.stop.is_set():
            try:
                pkt, addr = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            if len(pkt) < 16:
                continue
            action, tx = struct.unpack(">II", pkt[8:16])
            send = lambda b: self.sock.sendto(b, addr)  # noqa: E731
            self.received += 1
            if self.mode == "silent":
                continue
            if self.mode == "oversized":
                # the largest datagram, random, then one with our transaction
                # id and a wrong action, then a right-header connect reply cut short
                send(os.urandom(65507))
                send(struct.pack(">II", 7, tx) + os.urandom(65499))
                send(struct.pack(">II", action, tx) + os.urandom(3))
                continue
            if self.mode == "wrongtx":
                # well-formed replies, every one for another transaction
                for d in (1, 0x80000000, 0xffffffff):
                    send(struct.pack(">IIQ", 0, (tx + d) & 0xffffffff, 0x1122334455667788))
                    send(struct.pack(">IIIII", 1, (tx + d) & 0xffffffff, 1800, 0, 0))
                continue
            if self.mode in ("noise", "garbage"):
                # garbage, a short packet, the wrong transaction id, a wrong action
                send(os.urandom(3))
                send(b"\x00\x00\x00\x01\x00\x00")
                send(struct.pack(">IIQ", action, tx ^ 0x5a5a5a5a, 1234))
                send(struct.pack(">II", 7, tx) + os.urandom(40))
                send(struct.pack(">II", action, tx) + b"\x01")   # right header, truncated
                if self.mode == "garbage":
                    continue
            if action == 0:
                send(struct.pack(">IIQ", 0, tx, 0x1122334455667788))
            elif action == 1:
                self.announces += 1
                if self.mode == "error":
                    send(struct.pack(">II", 3, tx) + b"hostile tracker says no\x00\x07" + b"!" * 4000)
                elif self.mode == "huge":
                    # the largest IPv4 datagram: (65507 - 20) / 6 = 10914 peers
                    send(struct.pack(">IIIII", 1, tx, 1800, 5, 5) + _peers_compact(10914))
                else:
                    send(struct.pack(">IIIII", 1, tx, 1800, 0, 0))

    def close(self):
        self.stop.set()
        self.sock.close()


def _torrent(name, size=3 * PL):
    payload = os.urandom(size)
    info = {"name": name, "piece length": PL, "length": len(payload),
            "pieces": piece_hashes(payload, PL)}
    tbytes, h = make_torrent(info)
    return payload, tbytes, h


def _rows(td, h):
    return {r["url"]: r for r in td.get("/api/v2/torrents/trackers", hash=h).json() if r["tier"] >= 0}


def _add_with_trackers(td, workdir, name, urls):
    _, tbytes, h = _torrent(name)
    td.add(tbytes, os.path.join(workdir, "save"))
    wait_until(lambda: td.torrent(h), 10, "torrent added")
    td.post("/api/v2/torrents/addTrackers", hash=h, urls="\n\n".join(urls))
    return h


def _rss(td):
    return status_mib(td.pid, "VmRSS")


def _wait_row(td, h, url, pred, timeout, what):
    return wait_until(lambda: (lambda r: r if r and pred(r) else None)(_rows(td, h).get(url)),
                      timeout, what, 0.2, procs=[td])


def test_http_hostile_replies(workdir, procs):
    """Garbage, a 1 GiB body (with and without Content-Length) and a
    redirect loop: each row "not working" with its message within seconds;
    memory bounded; the daemon answers throughout."""
    srv = HostileHttp()
    procs.on_close(srv.close)
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    rss0 = _rss(td)
    cases = {
        "garbage": lambda m: m.startswith("invalid tracker response: "),
        "huge": lambda m: m == "response body too large",
        "huge_nolen": lambda m: m == "response body too large",
        "loop0": lambda m: m == "too many redirects",
    }
    t0 = time.monotonic()
    hs = {name: _add_with_trackers(td, workdir, name, [srv.url(name)]) for name in cases}
    for name, ok in cases.items():
        r = _wait_row(td, hs[name], srv.url(name), lambda r: r["status"] == 4, 20,
                      "%s tracker not working" % name)
        assert ok(r["msg"]), (name, r["msg"])
    elapsed = time.monotonic() - t0
    assert elapsed < 20, elapsed
    assert srv.hits.get("/loop0/announce", 0) + srv.hits.get("/loop1/announce", 0) <= 12
    grew = _rss(td) - rss0
    print("http hostile replies: %.1f s, RSS +%.1f MiB" % (elapsed, grew))
    assert grew < RSS_BUDGET_MIB, grew
    assert td.get("/api/v2/app/version").status_code == 200


def test_http_slow_tracker_times_out(workdir, procs):
    """A tracker that sends headers and then trickles a byte a second: the
    request ends at the tracker timeout, the row says "timed out"
    (libtorrent's errors::timed_out), the API never waits on it."""
    srv = HostileHttp()
    procs.on_close(srv.close)
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    t0 = time.monotonic()
    h = _add_with_trackers(td, workdir, "slow", [srv.url("slow")])
    wait_until(lambda: srv.hits.get("/slow/announce"), 15, "the slow tracker asked", procs=[td])
    t_api = time.monotonic()
    td.get("/api/v2/torrents/info")
    assert time.monotonic() - t_api < 2
    r = _wait_row(td, h, srv.url("slow"), lambda r: r["status"] == 4, HTTP_TIMEOUT_S + 15,
                  "slow tracker not working")
    assert r["msg"] == "timed out", r["msg"]
    assert time.monotonic() - t0 < HTTP_TIMEOUT_S + 15


def test_http_announces_in_flight_capped(workdir, procs):
    """60 torrents on one tracker that never finishes a reply: at most 50
    HTTP announces are in flight at once (qBittorrent's
    max_concurrent_http_announces), so what hostile trackers can make the
    daemon buffer is 50 x the 4 MiB body cap; the rest wait (status 1) and
    go out when slots free up.  (The default cap; the completion timeout
    is set to 10 s so the first 50 end sooner than the default 30 s.)"""
    srv = HostileHttp()
    procs.on_close(srv.close)
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    td.set_prefs({"tracker_completion_timeout": CAP_COMPLETION_S})
    url = srv.url("slow")
    hs = [_add_with_trackers(td, workdir, "cap%d" % i, [url]) for i in range(60)]

    def statuses():
        return [_rows(td, h)[url]["status"] for h in hs]
    wait_until(lambda: srv.hits.get("/slow/announce", 0) >= 50 and statuses().count(3) == 50,
               30, "50 announces in flight", procs=[td])
    st = statuses()
    assert st.count(1) == 10 and srv.hits["/slow/announce"] == 50, (st, srv.hits)
    # the first 50 time out, the other 10 go out then
    wait_until(lambda: srv.hits.get("/slow/announce", 0) == 60, CAP_COMPLETION_S + 20,
               "the waiting announces sent", procs=[td])
    wait_until(lambda: statuses().count(4) >= 50, 20, "timed-out rows not working", procs=[td])


def test_http_100k_peers(workdir, procs):
    """100,000 peers, compact: a valid reply, so the row works, but the
    daemon keeps at most 10,000 (num_peers); as a dictionary list: over the
    parser's value cap, "not working".  Memory and API stay bounded."""
    srv = HostileHttp()
    procs.on_close(srv.close)
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    rss0 = _rss(td)
    t0 = time.monotonic()
    hs = {name: _add_with_trackers(td, workdir, name, [srv.url(name)])
          for name in ("compact100k", "dict100k")}
    r = _wait_row(td, hs["compact100k"], srv.url("compact100k"), lambda r: r["status"] in (2, 4),
                  30, "compact tracker answered")
    assert r["status"] == 2 and r["num_peers"] == 10000, r
    # 100,000 dicts are 500,000 bencoded values: over the parser's cap
    r = _wait_row(td, hs["dict100k"], srv.url("dict100k"), lambda r: r["status"] in (2, 4),
                  30, "dict tracker answered")
    assert r["status"] == 4 and r["msg"].startswith("invalid tracker response: ") and \
        "more than 100000 values" in r["msg"], r
    elapsed = time.monotonic() - t0
    # the dials to 20,000 unreachable peers must not starve the API
    for _ in range(5):
        t = time.monotonic()
        td.get("/api/v2/torrents/info")
        assert time.monotonic() - t < 2
    grew = _rss(td) - rss0
    print("100k peers: %.1f s, RSS +%.1f MiB" % (elapsed, grew))
    assert grew < RSS_BUDGET_MIB, grew
    assert elapsed < 30


def test_http_many_values_bounded(workdir, procs):
    """A 2 MB reply of a million bencoded values, from the one tracker of
    eight torrents (a private tracker serves all of a user's torrents): what
    parsing costs is bounded by the value cap, not by how many torrents ask
    at once, and the rows say why they failed."""
    srv = HostileHttp()
    procs.on_close(srv.close)
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    rss0 = _rss(td)
    hs = [_add_with_trackers(td, workdir, "values%d" % i, [srv.url("values%d" % i)])
          for i in range(8)]
    for i, h in enumerate(hs):
        r = _wait_row(td, h, srv.url("values%d" % i), lambda r: r["status"] in (2, 4), 30,
                      "values tracker answered")
        assert r["status"] == 4 and r["msg"].startswith("invalid tracker response"), r
    grew = _rss(td) - rss0
    print("many values x8: RSS +%.1f MiB" % grew)
    assert grew < RSS_BUDGET_MIB, grew


def test_udp_hostile_replies(workdir, procs):
    """UDP: garbage, short packets, wrong transaction ids and wrong actions
    before every real answer are ignored (the row works); an error action is
    "not working" with the tracker's text (sanitised, bounded); the largest
    datagram of peers is capped at 10,000."""
    servers = {m: HostileUdp(m) for m in ("noise", "error", "huge")}
    for s in servers.values():
        procs.on_close(s.close)
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    rss0 = _rss(td)
    t0 = time.monotonic()
    hs = {m: _add_with_trackers(td, workdir, "udp_" + m, [s.url]) for m, s in servers.items()}
    r = _wait_row(td, hs["noise"], servers["noise"].url, lambda r: r["status"] in (2, 4), 20,
                  "noisy UDP tracker answered")
    assert r["status"] == 2 and r["msg"] == "", r
    r = _wait_row(td, hs["error"], servers["error"].url, lambda r: r["status"] in (2, 4), 20,
                  "error UDP tracker answered")
    assert r["status"] == 4 and r["msg"].startswith("hostile tracker says no"), r
    assert len(r["msg"]) < 300 and "\x07" not in r["msg"]
    r = _wait_row(td, hs["huge"], servers["huge"].url, lambda r: r["status"] in (2, 4), 20,
                  "huge UDP tracker answered")
    assert r["status"] == 2 and r["num_peers"] == 10000, r
    elapsed = time.monotonic() - t0
    grew = _rss(td) - rss0
    print("udp hostile replies: %.1f s, RSS +%.1f MiB" % (elapsed, grew))
    assert elapsed < 20 and grew < RSS_BUDGET_MIB, (elapsed, grew)


def test_download_completes_past_hostile_trackers(workdir, procs):
    """A garbage, a huge and a looping HTTP tracker and a garbage-only UDP
    tracker, each in its own tier before an honest one: the honest tracker's
    peer list still brings the seeder and the download completes."""
    seed = procs.add(Torrentd(os.path.join(workdir, "seed"), SEED_IP, name="seed")).start()
    payload, tbytes, h = _torrent("honest.bin", 40 * PL + 123)
    sdir = os.path.join(workdir, "sdata")
    os.makedirs(sdir)
    with open(os.path.join(sdir, "honest.bin"), "wb") as f:
        f.write(payload)
    seed.add(tbytes, sdir)
    seed.wait_seeding(h, 30)
    srv = HostileHttp(good_peer=seed.peer_addr)
    procs.on_close(srv.close)
    udp = HostileUdp("garbage")
    procs.on_close(udp.close)
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    td.add(tbytes, os.path.join(workdir, "dl"))
    urls = [srv.url("garbage"), srv.url("huge"), srv.url("loop0"), udp.url, srv.url("good")]
    td.post("/api/v2/torrents/addTrackers", hash=h, urls="\n\n".join(urls))
    td.wait_complete(h, 60, procs=[seed])
    with open(os.path.join(workdir, "dl", "honest.bin"), "rb") as f:
        assert f.read() == payload
    rows = _rows(td, h)
    assert rows[srv.url("good")]["status"] == 2
    for u in urls[:3]:
        _wait_row(td, h, u, lambda r: r["status"] == 4, 20, "hostile %s not working" % u)


def _cpu_s(pid):
    """User + system CPU seconds the process has used."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# Short tracker timeouts (torrentd's tracker_receive_timeout and
# tracker_completion_timeout, in seconds) so nothing here waits the
# defaults' 10 s / 30 s.
RECEIVE_S, COMPLETION_S = 1, 4


def test_udp_garbage_only_gives_up(workdir, procs):
    """UDP trackers that answer every request only with garbage (random
    bytes, short and truncated packets, wrong actions), only with
    oversized datagrams, only with well-formed replies for other
    transaction ids, or not at all: each announce is sent again on BEP15's
    doubling schedule from the receive timeout and given up at the
    completion timeout, "timed out" (libtorrent's errors::timed_out); then
    the tracker is left alone (back-off), the daemon uses little CPU
    throughout (no busy loop on the noise) and answers its API.  Before the
    timeouts were settings a UDP tracker took 15+30+60 s to give up."""
    servers = {m: HostileUdp(m) for m in ("garbage", "oversized", "wrongtx", "silent")}
    for srv in servers.values():
        procs.on_close(srv.close)
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    td.set_prefs({"tracker_receive_timeout": RECEIVE_S, "tracker_completion_timeout": COMPLETION_S})
    cpu0, rss0, t0 = _cpu_s(td.pid), _rss(td), time.monotonic()
    hs = {m: _add_with_trackers(td, workdir, "udpg_" + m, [srv.url]) for m, srv in servers.items()}
    for m, srv in servers.items():
        r = _wait_row(td, hs[m], srv.url, lambda r: r["status"] == 4, COMPLETION_S + 10,
                      "%s UDP tracker given up" % m)
        assert r["msg"] == "timed out", (m, r)
    elapsed = time.monotonic() - t0
    # sends at 0, 1 and 3 s, given up at 4 s: three connect requests
    sent = {m: srv.received for m, srv in servers.items()}
    assert all(1 <= n <= 3 for n in sent.values()), sent
    # backing off (60 s): nothing more is sent for a while
    t1 = time.monotonic()
    wait_until(lambda: time.monotonic() - t1 > 3 and td.get("/api/v2/app/version").ok, 10, "3 s pass")
    assert {m: srv.received for m, srv in servers.items()} == sent
    cpu = _cpu_s(td.pid) - cpu0
    grew = _rss(td) - rss0
    print("udp garbage only: given up after %.1f s, datagrams %s, CPU %.2f s over %.1f s, RSS +%.1f MiB"
          % (elapsed, sent, cpu, time.monotonic() - t0, grew))
    assert cpu < 0.5 * (time.monotonic() - t0), cpu
    assert grew < RSS_BUDGET_MIB, grew
    for m, srv in servers.items():
        assert _rows(td, hs[m])[srv.url]["status"] == 4


def test_http_timeouts_are_settings(workdir, procs):
    """HTTP: a tracker that accepts and never sends a byte is "timed out"
    after the receive timeout; one that trickles 100 bytes a second of a
    body that never ends (never idle) after the completion timeout.  Both
    set short here (the defaults are libtorrent's 10 s and 30 s)."""
    # 2 s / 8 s: a Python server on a loaded machine may take a second
    # to send its first byte, which a 1 s receive timeout would count
    receive_s, completion_s = 2, 8
    srv = HostileHttp()
    procs.on_close(srv.close)
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    td.set_prefs({"tracker_receive_timeout": receive_s, "tracker_completion_timeout": completion_s})
    t0 = time.monotonic()
    hs = {name: _add_with_trackers(td, workdir, "to_" + name, [srv.url(name)]) for name in ("silent", "trickle")}
    took = {}

    def timed_out(name):
        r = _rows(td, hs[name]).get(srv.url(name))
        if r and r["status"] == 4 and name not in took:
            took[name] = time.monotonic() - t0
            assert r["msg"] == "timed out", (name, r)
        return len(took) == 2
    wait_until(lambda: timed_out("silent") & timed_out("trickle"), completion_s + 10,
               "both trackers timed out", 0.1, procs=[td])
    print("http timeouts: silent %.1f s, trickling %.1f s" % (took["silent"], took["trickle"]))
    assert took["silent"] < completion_s - 1, took
    assert completion_s - 0.5 < took["trickle"] < completion_s + 5, took
    # the settings are refused out of their bounds, named
    r = td.req("POST", "/api/v2/app/setPreferences", ok=(400,),
               data={"json": json.dumps({"tracker_receive_timeout": "1"})})
    assert "tracker_receive_timeout" in r.text, r.text


def test_max_concurrent_http_announces_setting(workdir, procs):
    """max_concurrent_http_announces acts: set to 3, ten torrents on a
    tracker that holds every request until released have at most 3
    announces in flight (the tracker sees 3 at once, the other rows wait,
    "not contacted"); released, every torrent's announce goes out and
    works."""
    srv = HostileHttp()
    procs.on_close(srv.close)
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    td.set_prefs({"max_concurrent_http_announces": 3, "tracker_completion_timeout": 120})
    url = srv.url("hold")
    hs = [_add_with_trackers(td, workdir, "mc%d" % i, [url]) for i in range(10)]

    def statuses():
        return [_rows(td, h)[url]["status"] for h in hs]
    wait_until(lambda: srv.held == 3 and statuses().count(3) == 3, 20, "3 announces held", procs=[td])
    # a few ticks later still 3: the others wait for a slot
    t1 = time.monotonic()
    wait_until(lambda: time.monotonic() - t1 > 2.5, 5, "ticks pass")
    st = statuses()
    assert srv.max_held == 3 and st.count(3) == 3 and st.count(1) == 7, (srv.max_held, st)
    srv.release.set()
    wait_until(lambda: statuses().count(2) == 10, 30, "every announce answered", procs=[td])
    assert srv.max_held == 3, srv.max_held
    assert srv.hits["/hold/announce"] == 10, srv.hits
