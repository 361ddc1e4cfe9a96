"""Peer and tracker preferences that act (issue 15): block_peers_on_privileged_ports
(libtorrent's no_connect_privileged_ports) and validate_https_tracker_certificate
(libtorrent's validate_https_trackers)."""
import hashlib
import http.server
import os
import socket
import ssl
import subprocess
import threading

import pytest

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


class _Announce(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = bencode({"interval": 1800, "peers": b""})
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


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
        td.set_prefs({"outgoing_ports_min": 41000, "outgoing_ports_max": 41004})
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
