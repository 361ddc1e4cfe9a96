"""Peers and trackers through a proxy (issue 14): with proxy_bittorrent and
proxy_peer_connections, torrentd reaches its peers through Debian's
microsocks (SOCKS5, with and without username/password) and tinyproxy (HTTP
CONNECT), and announces through them; with the proxy down nothing goes
around it: the seeder accepts nothing, the tracker hears nothing, UDP
trackers are not contacted.

The seeder is python3-libtorrent behind a small counting TCP relay of the
test's own (the relay records where each connection comes from); the
proxies send from their own address (microsocks -b, tinyproxy's Bind), so a
connection through them is told from a direct one (torrentd's LEECH_IP).
"""
import os
import select
import socket
import subprocess
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import tdlib
from conftest import LEECH_IP, MINI_IP, SEED_IP
from tdlib import Torrentd, free_port, wait_until

lt = pytest.importorskip("libtorrent")

PIECE = 64 * 1024
SIZE = 1 * tdlib.MiB + 777
PROXY_IP = tdlib.loip(8)       # where the proxy listens
PROXY_OUT = tdlib.loip(9)      # where its outgoing connections come from


class Relay:
    """TCP relay on SEED_IP to the seeder: counts connections by source IP."""

    def __init__(self, target):
        self.target = target
        self.sources = []
        self.sock = socket.socket()
        self.sock.bind((SEED_IP, free_port()))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                c, addr = self.sock.accept()
            except OSError:
                return
            self.sources.append(addr[0])
            threading.Thread(target=self._pipe, args=(c,), daemon=True).start()

    def _pipe(self, c):
        try:
            u = socket.create_connection(self.target, 5)
        except OSError:
            c.close()
            return
        socks = [c, u]
        try:
            while not self.closed:
                r, _, _ = select.select(socks, [], [], 1)
                for s in r:
                    data = s.recv(65536)
                    if not data:
                        return
                    (u if s is c else c).sendall(data)
        except OSError:
            pass
        finally:
            c.close()
            u.close()

    def close(self):
        self.closed = True
        self.sock.close()


class PeerTracker:
    """HTTP tracker on MINI_IP: records who announced, answers with one peer."""

    def __init__(self, peer):
        self.hits = []
        hits = self.hits
        compact = socket.inet_aton(peer[0]) + peer[1].to_bytes(2, "big")

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                hits.append((self.client_address[0], self.path.split("?")[0], q.get("event", [""])[0]))
                body = tdlib.bencode({"interval": 1800, "peers": compact})
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.srv = ThreadingHTTPServer((MINI_IP, free_port()), Handler)
        self.srv.daemon_threads = True
        self.url = "http://%s:%d/announce" % (MINI_IP, self.srv.server_address[1])
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


class Microsocks(tdlib.Proc):
    kind = "microsocks"

    def start(self, user=None, password=None, listen=PROXY_IP):
        self.port = free_port()
        argv = ["microsocks", "-i", listen, "-p", str(self.port), "-b", PROXY_OUT]
        if user:
            argv += ["-u", user, "-P", password]
        self.spawn(argv)
        _wait_listening(listen, self.port, self)
        return self


class Tinyproxy(tdlib.Proc):
    """tinyproxy in the foreground; no ConnectPort line: CONNECT to any port."""
    kind = "tinyproxy"

    def start(self, user=None, password=None):
        self.port = free_port()
        self.access_log = os.path.join(self.rundir, "access.log")
        conf = os.path.join(self.rundir, "tinyproxy.conf")
        lines = ["Port %d" % self.port, "Listen %s" % PROXY_IP, "Bind %s" % PROXY_OUT, "Timeout 60",
                 "LogFile \"%s\"" % self.access_log, "LogLevel Connect", "MaxClients 50",
                 "Allow 127.0.0.0/8", "DisableViaHeader Yes"]
        if user:
            lines.append("BasicAuth %s %s" % (user, password))
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.spawn(["tinyproxy", "-d", "-c", conf])
        _wait_listening(PROXY_IP, self.port, self)
        return self

    def log(self):
        try:
            with open(self.access_log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""


def _wait_listening(ip, port, proc):
    def up():
        try:
            socket.create_connection((ip, port), 0.2).close()
            return True
        except OSError:
            return False
    wait_until(up, 10, "%s to listen" % proc.name, 0.05, procs=[proc])


def _seed_torrent(workdir, trackers):
    seed = os.path.join(workdir, "seed")
    tdlib.write_random(os.path.join(seed, "payload.bin"), SIZE)
    fs = lt.file_storage()
    lt.add_files(fs, os.path.join(seed, "payload.bin"))
    ct = lt.create_torrent(fs, PIECE, flags=lt.create_torrent.v1_only)
    for i, url in enumerate(trackers):
        ct.add_tracker(url, i)
    lt.set_piece_hashes(ct, seed)
    tbytes = lt.bencode(ct.generate())
    return tbytes, tdlib.infohash(tbytes), seed


def _lt_seeder(procs, tbytes, seed):
    port = free_port()
    ses = lt.session({"listen_interfaces": "%s:%d" % (SEED_IP, port), "outgoing_interfaces": SEED_IP,
                      "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
                      "enable_incoming_utp": False, "enable_outgoing_utp": False,
                      "allow_multiple_connections_per_ip": True})
    procs.on_close(ses.pause)
    p = lt.add_torrent_params()
    meta = lt.bdecode(tbytes)
    for k in (b"announce", b"announce-list"):   # the seeder announces nowhere (it would find itself)
        meta.pop(k, None)
    p.ti = lt.torrent_info(meta)
    p.save_path = seed
    p.trackers = []
    p.flags |= lt.torrent_flags.seed_mode
    ses.add_torrent(p)
    return (SEED_IP, port)


@pytest.fixture
def swarm(workdir, procs):
    """(torrent bytes, info-hash, seed dir, relay, tracker) with a libtorrent
    seeder behind the relay, and the tracker handing out the relay."""
    seed = os.path.join(workdir, "seed")
    os.makedirs(seed, exist_ok=True)
    # the tracker URL goes into the torrent, the relay into the tracker: make
    # the relay first on a placeholder target, then point it at the seeder
    relay = Relay(None)
    procs.on_close(relay.close)
    tracker = PeerTracker((SEED_IP, relay.port))
    procs.on_close(tracker.close)
    tbytes, h, seed = _seed_torrent(workdir, [tracker.url])
    relay.target = _lt_seeder(procs, tbytes, seed)
    return tbytes, h, seed, relay, tracker


def _proxy_prefs(kind, proxy, auth=None, host=PROXY_IP):
    p = {"proxy_type": kind, "proxy_ip": host, "proxy_port": proxy.port, "proxy_bittorrent": True,
         "proxy_peer_connections": True, "proxy_hostname_lookup": True, "proxy_auth_enabled": bool(auth),
         "dht": False, "lsd": False, "pex": False}   # (PEX would send the seeder to the relay: itself)
    if auth:
        p.update({"proxy_username": auth[0], "proxy_password": auth[1]})
    return p


def _download_through(workdir, procs, swarm, kind, proxy, auth=None, host=PROXY_IP):
    tbytes, h, seed, relay, tracker = swarm
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    td.set_prefs(_proxy_prefs(kind, proxy, auth, host))
    td.add(tbytes, td.save_path)
    td.wait_complete(h, 60, procs=[proxy])
    tdlib.compare_files(tbytes, seed, td.save_path)
    # every connection the seeder got came from the proxy, none from torrentd
    assert relay.sources and set(relay.sources) == {PROXY_OUT}, relay.sources
    # and so did every announce
    assert tracker.hits and {ip for ip, _, _ in tracker.hits} == {PROXY_OUT}, tracker.hits
    return td


@pytest.mark.parametrize("auth", [None, ("alice", "s3cr:t p@ss")], ids=["noauth", "userpass"])
def test_socks5_download(workdir, procs, swarm, auth):
    ms = procs.add(Microsocks(os.path.join(workdir, "ms"))).start(*(auth or ()))
    _download_through(workdir, procs, swarm, "SOCKS5", ms, auth)


def test_proxy_by_name(workdir, procs, swarm):
    """proxy_ip may be a host name: looked up (it is the proxy's own
    address), then peers are dialled through it."""
    ms = procs.add(Microsocks(os.path.join(workdir, "ms"))).start(listen="127.0.0.1")
    _download_through(workdir, procs, swarm, "SOCKS5", ms, host="localhost")


def test_socks5_wrong_password_connects_nothing(workdir, procs, swarm):
    tbytes, h, seed, relay, tracker = swarm
    ms = procs.add(Microsocks(os.path.join(workdir, "ms"))).start("alice", "right")
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    td.set_prefs(_proxy_prefs("SOCKS5", ms, ("alice", "wrong")))
    td.add(tbytes, td.save_path)
    h_ = h

    def tracker_row():
        rows = [r for r in td.get("/api/v2/torrents/trackers", hash=h_).json() if r["url"] == tracker.url]
        return rows[0] if rows else None
    wait_until(lambda: (tracker_row() or {}).get("status") == 4, 30, "the announce to fail", procs=[td])
    td.add_peers(h, ["%s:%d" % (SEED_IP, relay.port)])
    wait_until(lambda: b"username or password refused" in td.log_text(), 30, "the proxy's refusal in the log",
               procs=[td])
    assert relay.sources == [] and tracker.hits == []


@pytest.mark.parametrize("auth", [None, ("bob", "pw")], ids=["noauth", "basic"])
def test_http_connect_download(workdir, procs, swarm, auth):
    tp = procs.add(Tinyproxy(os.path.join(workdir, "tp"))).start(*(auth or ()))
    _download_through(workdir, procs, swarm, "HTTP", tp, auth)
    relay, tracker = swarm[3], swarm[4]
    log = tp.log()
    assert "CONNECT %s:%d" % (SEED_IP, relay.port) in log, log[-2000:]
    assert "GET " + tracker.url in log, log[-2000:]


class DeadProxy:
    """A proxy that is down: it accepts and hangs up at once (so the test sees
    the attempts), or, closed, refuses."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind((PROXY_IP, free_port()))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepts = 0
        self.closed = False
        self.th = threading.Thread(target=self._run, daemon=True)
        self.th.start()

    def _run(self):
        while not self.closed:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.accepts += 1
            c.close()

    def close(self):
        """Stops accepting: once it returns, accepts no longer changes."""
        if self.closed:
            return
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)   # wakes the blocked accept()
        except OSError:
            pass
        self.th.join(10)
        self.sock.close()


@pytest.mark.parametrize("kind", ["SOCKS5", "HTTP", "SOCKS4"])
def test_proxy_down_nothing_leaks(workdir, procs, swarm, kind):
    tbytes, h, seed, relay, tracker = swarm
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)   # a UDP tracker that must hear nothing
    udp.bind((MINI_IP, 0))
    udp.setblocking(False)
    procs.on_close(udp.close)
    udp_url = "udp://%s:%d/announce" % (MINI_IP, udp.getsockname()[1])
    dead = DeadProxy()
    procs.on_close(dead.close)
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    td.set_prefs(_proxy_prefs(kind, dead))
    td.add(tbytes, td.save_path)
    td.post("/api/v2/torrents/addTrackers", hash=h, urls=udp_url)
    td.add_peers(h, ["%s:%d" % (SEED_IP, relay.port)])

    def rows():
        return {r["url"]: r for r in td.get("/api/v2/torrents/trackers", hash=h).json()}
    # the announce and the peer went to the proxy (and died there) ...
    wait_until(lambda: rows().get(tracker.url, {}).get("status") == 4 and dead.accepts >= 2, 30,
               "the announce and the peer dial to reach the dead proxy", procs=[td])
    wait_until(lambda: rows().get(udp_url, {}).get("status") == 4, 30, "the UDP tracker row to fail", procs=[td])
    assert "proxy" in rows()[udp_url]["msg"], rows()[udp_url]
    # ... and nothing went around it
    assert relay.sources == [] and tracker.hits == [], (relay.sources, tracker.hits)
    with pytest.raises(BlockingIOError):
        udp.recv(2048)
    # the proxy stopped altogether (connections refused): still nothing
    dead.close()
    n = dead.accepts
    td.reannounce(h)
    td.add_peers(h, ["%s:%d" % (SEED_IP, relay.port)])
    wait_until(lambda: "refused" in rows().get(tracker.url, {}).get("msg", "").lower()
               or "connect" in rows().get(tracker.url, {}).get("msg", "").lower(), 30,
               "the announce to fail at the closed proxy", procs=[td])
    assert relay.sources == [] and tracker.hits == [] and dead.accepts == n
    # the proxy off: straight to the tracker and the seeder (proof the rig sees direct traffic)
    td.set_prefs({"proxy_type": "None"})
    td.reannounce(h)
    td.add_peers(h, ["%s:%d" % (SEED_IP, relay.port)])   # (the failed dials wait longer and longer)
    td.wait_complete(h, 60)
    wait_until(lambda: any(ip == LEECH_IP for ip, _, _ in tracker.hits), 30, "a direct announce", procs=[td])
    assert LEECH_IP in relay.sources


def test_proxy_live_and_dht_off(workdir, procs, swarm):
    """Setting the proxy applies at once (settings group SG_PROXY): the DHT
    stops answering, and the next announce goes through the proxy."""
    from test_listen_port import _dht_ping
    tbytes, h, seed, relay, tracker = swarm
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    td.set_prefs({"dht": True, "pex": False})
    port = td.listen_port
    wait_until(lambda: _dht_ping(LEECH_IP, port) == b"r", 10, "the DHT to answer", procs=[td])
    ms = procs.add(Microsocks(os.path.join(workdir, "ms"))).start()
    td.set_prefs({"proxy_type": "SOCKS5", "proxy_ip": PROXY_IP, "proxy_port": ms.port, "proxy_bittorrent": True,
                  "proxy_peer_connections": True})
    assert _dht_ping(LEECH_IP, port) is None
    td.add(tbytes, td.save_path)
    td.wait_complete(h, 60, procs=[ms])
    assert set(relay.sources) == {PROXY_OUT} and {ip for ip, _, _ in tracker.hits} == {PROXY_OUT}
    td.set_prefs({"proxy_type": "None"})
    wait_until(lambda: _dht_ping(LEECH_IP, port) == b"r", 10, "the DHT back on", procs=[td])


def test_trackers_only_and_torrent_url(workdir, procs, swarm):
    """proxy_bittorrent without proxy_peer_connections: announces through the
    proxy, peers direct (libtorrent's proxy_tracker_connections on,
    proxy_peer_connections off); a .torrent URL (proxy_misc) is fetched
    through it."""
    tbytes, h, seed, relay, tracker = swarm
    served = []

    class Files(BaseHTTPRequestHandler):
        def do_GET(self):
            served.append(self.client_address[0])
            self.send_response(200)
            self.send_header("Content-Type", "application/x-bittorrent")
            self.send_header("Content-Length", str(len(tbytes)))
            self.end_headers()
            self.wfile.write(tbytes)

        def log_message(self, *a):
            pass
    files = ThreadingHTTPServer((MINI_IP, free_port()), Files)
    files.daemon_threads = True
    threading.Thread(target=files.serve_forever, daemon=True).start()
    procs.on_close(files.shutdown)
    tp = procs.add(Tinyproxy(os.path.join(workdir, "tp"))).start()
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    prefs = _proxy_prefs("HTTP", tp)
    prefs.update({"proxy_peer_connections": False, "proxy_misc": True})
    td.set_prefs(prefs)
    url = "http://%s:%d/t.torrent" % (MINI_IP, files.server_address[1])
    r = td.req("POST", "/api/v2/torrents/add", data={"urls": url, "savepath": td.save_path})
    assert r.text == "Ok.", r.text
    td.wait_complete(h, 60, procs=[tp])
    assert served == [PROXY_OUT], served
    assert {ip for ip, _, _ in tracker.hits} == {PROXY_OUT}, tracker.hits
    assert set(relay.sources) == {LEECH_IP}, relay.sources
    assert "GET " + url in tp.log()


@pytest.mark.xdist_group("dns53")
def test_proxy_down_no_dns(workdir, procs, swarm):
    """No name lookup goes around the proxy either: with socks5h (proxy_hostname_lookup)
    and the proxy down, tracker host names (HTTP and UDP) and the DHT's bootstrap
    routers are never looked up; the resolver this namespace's resolv.conf names is
    played by a UDP socket of the test's own, which sees the DHT's lookups once
    the proxy is switched off. Every daemon of the suite shares that resolver,
    so only names under .proxytest count: this daemon's trackers and its DHT
    routers are all there."""
    ns = None
    with open("/etc/resolv.conf") as f:
        for line in f:
            if line.split()[:1] == ["nameserver"]:
                ns = line.split()[1]
                break
    if not ns or ":" in ns or not tdlib.netns_isolated():
        pytest.skip("needs an IPv4 nameserver in resolv.conf and the test namespace")
    subprocess.run(["ip", "addr", "add", ns + "/32", "dev", "lo"], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dns.bind((ns, 53))
    procs.on_close(dns.close)
    queries = []

    def serve():
        while True:
            try:
                data, src = dns.recvfrom(2048)
            except OSError:
                return
            if b"\x09proxytest\x00" in data:   # ours (see above)
                queries.append(data)
            if len(data) >= 12:   # NXDOMAIN at once: no resolver retries later
                try:
                    dns.sendto(data[:2] + b"\x81\x83" + data[4:6] + b"\0\0\0\0\0\0" + data[12:], src)
                except OSError:
                    pass
    threading.Thread(target=serve, daemon=True).start()

    tbytes, h, seed, relay, tracker = swarm
    port = tracker.srv.server_address[1]
    names = ["http://tracker-a.proxytest:%d/announce" % port, "udp://tracker-b.proxytest:%d/announce" % port]
    dead = DeadProxy()
    procs.on_close(dead.close)
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    prefs = _proxy_prefs("SOCKS5", dead)
    prefs["dht"] = True   # on, but the DHT is UDP: off while the proxy is set
    prefs["dht_bootstrap_nodes"] = "router-a.proxytest:6881, router-b.proxytest:6881"
    td.set_prefs(prefs)
    del queries[:]   # (the DHT's lookups before the proxy was set)
    td.add(tbytes, td.save_path)
    td.post("/api/v2/torrents/addTrackers", hash=h, urls="\n".join(names))

    def rows():
        return {r["url"]: r for r in td.get("/api/v2/torrents/trackers", hash=h).json()}
    wait_until(lambda: all(rows().get(u, {}).get("status") == 4 for u in names + [tracker.url]), 30,
               "every tracker to have been tried through the dead proxy", procs=[td])
    assert dead.accepts >= 2
    assert queries == [], "%d DNS queries around the proxy" % len(queries)
    # the proxy off: the DHT is back and looks its routers up (the rig sees lookups)
    td.set_prefs({"proxy_type": "None"})
    wait_until(lambda: any(b"\x08router-a\x09proxytest" in q for q in queries), 30, "the DHT's router lookup",
               procs=[td])
