"""Peer and tracker preferences that act (issue 15): block_peers_on_privileged_ports
(libtorrent's no_connect_privileged_ports), validate_https_tracker_certificate
(libtorrent's validate_https_trackers), announce_ip/port, socket_backlog_size,
outgoing_ports_min/max, request_queue_size and the socket buffer sizes."""
import hashlib
import http.server
import os
import re
import socket
import ssl
import struct
import subprocess
import threading
import time

import pytest

import tdlib
from conftest import LEECH_IP
from tdlib import Torrentd, bencode, make_torrent, wait_until


def _torrent(name, announce=None):
    payload = os.urandom(40000)
    info = {"name": name, "length": len(payload), "piece length": 16384,
            "pieces": b"".join(hashlib.sha1(payload[k:k + 16384]).digest() for k in range(0, len(payload), 16384))}
    return make_torrent(info, announce)


class _Listener:
    """A TCP listener that counts the connections made to it."""

    def __init__(self, ip, port):
        self.s = socket.socket()
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.s.bind((ip, port))
        self.s.listen(16)
        self.s.settimeout(0.2)
        self.count = 0
        self.ports = []
        self.stop = False
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while not self.stop:
            try:
                c, a = self.s.accept()
                self.count += 1
                self.ports.append(a[1])
                c.close()
            except OSError:
                pass

    def close(self):
        self.stop = True
        self.s.close()


@pytest.mark.xdist_group("fixed_ports_127_0_0_9")   # listens on 127.0.0.9:999 and :1999
def test_block_peers_on_privileged_ports(workdir, procs):
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    # The listeners close every connection at once: under the default
    # encryption (prefer) that is a peer hanging up on the MSE key, redialled
    # in plaintext, a second connection to :999 the count below would take
    # for one of priv2's.  Plaintext only, one dial per peer.
    td.set_prefs({"encryption": 2})
    ip = "127.0.0.9"
    low, high = _Listener(ip, 999), _Listener(ip, 1999)
    try:
        tb, h = _torrent("priv1.bin")
        td.add(tb, os.path.join(workdir, "dl"))
        td.add_peers(h, ["%s:999" % ip])      # off (the default): dialled
        wait_until(lambda: low.count > 0, 15, "a connection to port 999", procs=[td])
        td.set_prefs({"block_peers_on_privileged_ports": True})
        tb2, h2 = _torrent("priv2.bin")
        td.add(tb2, os.path.join(workdir, "dl"))
        before = low.count
        td.add_peers(h2, ["%s:999" % ip, "%s:1999" % ip])   # both in one call: 1999 shows it was acted on
        wait_until(lambda: high.count > 0, 15, "a connection to port 1999", procs=[td])
        assert low.count == before, "a peer on a privileged port was dialled"
        peers = td.get("/api/v2/sync/torrentPeers", hash=h2, rid=0).json().get("peers", {})
        assert not any(k.endswith(":999") for k in peers), peers
    finally:
        low.close()
        high.close()
    td.stop()


_Announce = tdlib.QuietTracker


def _tracker_row(td, h, url):
    for t in td.get("/api/v2/torrents/trackers", hash=h).json():
        if t["url"] == url:
            return t
    return None


def test_validate_https_tracker_certificate(workdir, procs):
    cert, key = os.path.join(workdir, "cert.pem"), os.path.join(workdir, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.9",
                    "-days", "1", "-keyout", key, "-out", cert], check=True, timeout=60,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    srv = http.server.ThreadingHTTPServer(("127.0.0.9", 0), _Announce)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = "https://127.0.0.9:%d/announce" % srv.server_address[1]
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    try:
        assert td.prefs()["validate_https_tracker_certificate"] is True
        tb, h = _torrent("tls1.bin", url)
        td.add(tb, os.path.join(workdir, "dl"))
        wait_until(lambda: (_tracker_row(td, h, url) or {}).get("status") == 4, 30,
                   "the self-signed tracker refused", procs=[td])
        msg = _tracker_row(td, h, url)["msg"]
        assert msg, "no message for the refused certificate"
        td.set_prefs({"validate_https_tracker_certificate": False})
        td.reannounce(h)
        wait_until(lambda: (_tracker_row(td, h, url) or {}).get("status") == 2, 30,
                   "the tracker working without the check", procs=[td])
    finally:
        srv.shutdown()
        srv.server_close()
    td.stop()


def test_announce_ip_and_port(workdir, procs):
    """announce_ip and announce_port (libtorrent's settings of those names):
    the &ip= and &port= every announce carries."""
    seen = []

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path.startswith("/announce"):
                seen.append(self.path)
            body = bencode({"interval": 1800, "peers": b""})
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.9", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = "http://127.0.0.9:%d/announce" % srv.server_address[1]
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    try:
        tb, h = _torrent("ann1.bin", url)
        td.add(tb, os.path.join(workdir, "dl"))
        wait_until(lambda: seen, 30, "an announce", procs=[td])
        assert "&ip=" not in seen[-1] and "&port=%s&" % td.peer_addr.rsplit(":", 1)[1] in seen[-1], seen[-1]
        td.set_prefs({"announce_ip": "203.0.113.7", "announce_port": 45678})
        n = len(seen)
        td.reannounce(h)
        wait_until(lambda: len(seen) > n, 30, "a second announce", procs=[td])
        assert "&ip=203.0.113.7" in seen[-1] and "&port=45678&" in seen[-1], seen[-1]
    finally:
        srv.shutdown()
        srv.server_close()
    td.stop()


def _backlog(port):
    """The accept backlog of the listener on port (ss: Send-Q of a LISTEN socket)."""
    out = subprocess.run(["ss", "-ltnH", "sport = :%d" % port], capture_output=True, text=True, timeout=10).stdout
    return [int(line.split()[2]) for line in out.splitlines() if line.strip()]


def test_socket_backlog_size(workdir, procs):
    """socket_backlog_size (libtorrent's listen_queue_size): the peer
    listener's accept queue, 30 by default (qBittorrent's), taken when the
    listener opens (here: at the next start)."""
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    assert td.prefs()["socket_backlog_size"] == 30
    port = int(td.peer_addr.rsplit(":", 1)[1])
    assert _backlog(port) and set(_backlog(port)) == {30}, _backlog(port)
    td.set_prefs({"socket_backlog_size": 77})
    td.stop()
    td.start()
    port = int(td.peer_addr.rsplit(":", 1)[1])
    assert set(_backlog(port)) == {77}, _backlog(port)
    td.stop()


@pytest.mark.xdist_group("fixed_ports_127_0_0_9")
def test_outgoing_ports(workdir, procs):
    """outgoing_ports_min/max (libtorrent's outgoing_port and
    num_outgoing_ports): connections to peers come from a local port in the
    range; 0 (the default) lets the kernel pick."""
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    ip = "127.0.0.9"
    lst = _Listener(ip, 2999)
    try:
        # TCP only: outgoing_ports is about TCP sockets (uTP sends from the
        # listen port), and uTP-first dials fall back to TCP late
        td.set_prefs({"outgoing_ports_min": 41000, "outgoing_ports_max": 41004, "bittorrent_protocol": 1})
        for i in range(3):
            tb, h = _torrent("out%d.bin" % i)
            td.add(tb, os.path.join(workdir, "dl"))
            td.add_peers(h, ["%s:2999" % ip])
            wait_until(lambda: lst.count > i, 15, "connection %d" % i, procs=[td])
        assert all(41000 <= p <= 41004 for p in lst.ports), lst.ports
        td.set_prefs({"outgoing_ports_min": 0, "outgoing_ports_max": 0})
        tb, h = _torrent("out-any.bin")
        td.add(tb, os.path.join(workdir, "dl"))
        td.add_peers(h, ["%s:2999" % ip])
        wait_until(lambda: lst.count > 3, 15, "a connection from any port", procs=[td])
        assert not 41000 <= lst.ports[-1] <= 41004, lst.ports
    finally:
        lst.close()
    td.stop()


class _HoldingSeeder:
    """Has every piece of one torrent, unchokes on interest and never
    answers a request: counts how many a client keeps outstanding."""

    def __init__(self, ip, ih_hex, npieces):
        self.ih, self.npieces = bytes.fromhex(ih_hex), npieces
        self.s = socket.socket()
        self.s.bind((ip, 0))
        self.s.listen(4)
        self.addr = "%s:%d" % self.s.getsockname()
        self.requests = 0
        self.conns = []
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        # A plaintext-only peer: a connection that does not open with the
        # BitTorrent handshake (torrentd's MSE key, under the default
        # encryption) is closed, and the plaintext redial accepted.
        while True:
            try:
                c, _ = self.s.accept()
            except OSError:
                return
            self.conns.append(c)
            c.settimeout(30)
            f = c.makefile("rb")
            try:
                hs = f.read(68)
            except OSError:
                hs = b""
            if hs[:20] == b"\x13BitTorrent protocol" and hs[28:48] == self.ih:
                break
            f.close()
            c.close()
        try:
            c.sendall(b"\x13BitTorrent protocol" + bytes(8) + self.ih + b"-PY0001-" + b"h" * 12)
            bf = bytearray((self.npieces + 7) // 8)
            for i in range(self.npieces):
                bf[i // 8] |= 0x80 >> (i % 8)
            c.sendall(struct.pack(">IB", 1 + len(bf), 5) + bytes(bf))
            while True:
                (n,) = struct.unpack(">I", f.read(4))
                m = f.read(n) if n else b""
                if m[:1] == b"\x02":
                    c.sendall(struct.pack(">IB", 1, 1))
                elif m[:1] == b"\x06":
                    self.requests += 1
        except (OSError, struct.error, AssertionError):
            pass

    def close(self):
        self.s.close()
        for c in self.conns:
            c.close()


def _outstanding(workdir, procs, td, name, queue):
    payload_pieces = 64
    info = {"name": name, "length": payload_pieces * 16384, "piece length": 16384,
            "pieces": os.urandom(20 * payload_pieces)}
    tb, h = make_torrent(info)
    seeder = _HoldingSeeder("127.0.0.9", h, payload_pieces)
    procs.on_close(seeder.close)
    td.set_prefs({"request_queue_size": queue})
    td.add(tb, os.path.join(workdir, "dl"))
    td.add_peers(h, [seeder.addr])
    wait_until(lambda: seeder.requests >= min(queue, 32), 15, "requests", procs=[td])
    # what is outstanding now stays so: nothing is answered, nothing times out this soon
    t_end = time.monotonic() + 1.0
    while time.monotonic() < t_end:
        assert seeder.requests <= queue, seeder.requests
    return seeder.requests


def test_request_queue_size(workdir, procs):
    """request_queue_size (libtorrent's max_out_request_queue): at most that
    many requests outstanding at one peer; with the default (500) the
    pipeline's own floor (32 blocks) is what a new peer gets."""
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    assert td.prefs()["request_queue_size"] == 500
    assert _outstanding(workdir, procs, td, "q5.bin", 5) == 5
    assert _outstanding(workdir, procs, td, "q500.bin", 500) == 32
    td.stop()


def _skmem(local_ip, remote):
    """rb/tb (receive/send buffer bytes) of the TCP connections from
    local_ip to remote ("ip:port"), from ss -tmn."""
    ip, port = remote.rsplit(":", 1)
    out = subprocess.run(["ss", "-tmnH", "src", local_ip, "dst", "%s:%s" % (ip, port)],
                         capture_output=True, text=True, timeout=10).stdout
    return [(int(m.group(1)), int(m.group(2))) for m in re.finditer(r"skmem:\(r\d+,rb(\d+),t\d+,tb(\d+)", out)]


def test_socket_buffer_sizes(workdir, procs):
    """socket_send_buffer_size / socket_receive_buffer_size (bytes, 0 = the
    system's): SO_SNDBUF / SO_RCVBUF of new peer connections (the kernel
    doubles what it is given)."""
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    assert td.prefs()["socket_send_buffer_size"] == 0 and td.prefs()["socket_receive_buffer_size"] == 0
    td.set_prefs({"socket_send_buffer_size": 40000, "socket_receive_buffer_size": 50000})
    info = {"name": "buf.bin", "length": 4 * 16384, "piece length": 16384, "pieces": os.urandom(80)}
    tb, h = make_torrent(info)
    seeder = _HoldingSeeder("127.0.0.9", h, 4)
    procs.on_close(seeder.close)
    td.add(tb, os.path.join(workdir, "dl"))
    td.add_peers(h, [seeder.addr])
    wait_until(lambda: _skmem(LEECH_IP, seeder.addr), 15, "the connection", procs=[td])
    assert _skmem(LEECH_IP, seeder.addr) == [(100000, 80000)]
    td.stop()
