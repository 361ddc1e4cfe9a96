"""listen_port (and random_port, current_interface_address) take effect at
once, as in qBittorrent, whose libtorrent re-binds its listen sockets when
listen_interfaces changes: the new listener opens first, the old one closes
(connected peers stay), the DHT follows (it shares the port), active torrents
re-announce with the new port, and a port that cannot be bound keeps the old
one with qBittorrent's "Failed to listen on IP" line.

The other side is python3-libtorrent (a real peer) and a small HTTP tracker
in this process that records the `port=` of every announce.
"""
import os
import re
import socket
import struct
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import tdlib
from conftest import LEECH2_IP, LEECH_IP, MINI_IP, SEED_IP
from test_lsd import _multicast_on_lo
from tdlib import Torrentd, free_port, wait_until

lt = pytest.importorskip("libtorrent")

PIECE = 256 * 1024
SIZE = 3 * tdlib.MiB + 4321


class PortTracker:
    """HTTP tracker on MINI_IP: remembers the port of each announce per info-hash, gives no peers."""

    def __init__(self):
        self.ports = []
        seen = self.ports

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                if "port" in q:
                    seen.append(int(q["port"][0]))
                body = tdlib.bencode({"interval": 1800, "peers": b""})
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.srv = ThreadingHTTPServer((MINI_IP, free_port()), Handler)
        self.url = "http://%s:%d/announce" % (MINI_IP, self.srv.server_address[1])
        self.th = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.th.start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def _connect(ip, port):
    """True when ip:port accepts a TCP connection, "refused" or False when not."""
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect((ip, port))
        return True
    except ConnectionRefusedError:
        return "refused"
    except OSError:
        return False
    finally:
        s.close()


def _refused(ip, port):
    return _connect(ip, port) == "refused"


def _accepts(ip, port):
    return _connect(ip, port) is True


def _has_peer(td, h, ip):
    peers = td.get("/api/v2/sync/torrentPeers", hash=h).json().get("peers", {})
    return any(p["ip"] == ip for p in peers.values())


def _without_option(argv, name):
    i = argv.index(name)
    return argv[:i] + argv[i + 2:]


def _dht_ping(ip, port):
    """A KRPC ping to ip:port; the answer's "y" or None."""
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((MINI_IP, 0))
    u.settimeout(2)
    try:
        u.sendto(tdlib.bencode({"t": b"lp", "y": b"q", "q": b"ping", "a": {"id": os.urandom(20)}}), (ip, port))
        data, _ = u.recvfrom(2048)
        return tdlib.bdecode(data).get(b"y")
    except (OSError, ValueError):
        return None
    finally:
        u.close()


def _seed(workdir, tracker_url):
    """A one-file torrent and its data: (torrent bytes, info-hash, seed dir)."""
    seed = os.path.join(workdir, "seed")
    tdlib.write_random(os.path.join(seed, "payload.bin"), SIZE)
    fs = lt.file_storage()
    lt.add_files(fs, os.path.join(seed, "payload.bin"))
    ct = lt.create_torrent(fs, PIECE, flags=lt.create_torrent.v1_only)
    ct.add_tracker(tracker_url)
    lt.set_piece_hashes(ct, seed)
    tbytes = lt.bencode(ct.generate())
    return tbytes, tdlib.infohash(tbytes), seed


@pytest.fixture
def tracker(procs):
    t = PortTracker()
    procs.on_close(t.close)
    return t


def test_listen_port_moves_at_once(workdir, procs, tracker):
    td = procs.add(Torrentd(os.path.join(workdir, "td"), SEED_IP)).start()
    old = td.listen_port
    tbytes, h, seed = _seed(workdir, tracker.url)
    td.add(tbytes, seed, skip_checking=True)
    td.wait_seeding(h, 30)
    wait_until(lambda: old in tracker.ports, 15, "the first announce with port %d" % old, procs=[td])
    td.set_prefs({"dht": True})
    wait_until(lambda: _dht_ping(SEED_IP, old) == b"r", 10, "the DHT on the old port", procs=[td])

    # a peer connected through the old port
    old_peer = socket.socket()
    procs.on_close(old_peer.close)
    old_peer.bind((LEECH2_IP, 0))
    old_peer.settimeout(5)
    old_peer.connect((SEED_IP, old))
    old_peer.sendall(b"\x13BitTorrent protocol" + b"\0" * 8 + bytes.fromhex(h) + b"-XX0000-" + os.urandom(12))
    assert len(old_peer.recv(68)) > 0
    wait_until(lambda: _has_peer(td, h, LEECH2_IP), 10, "the old-port peer in torrentPeers", procs=[td])

    new = free_port()
    announced = len(tracker.ports)
    td.set_prefs({"listen_port": new})
    prefs = td.prefs()
    assert prefs["listen_port"] == new and prefs["random_port"] is False
    assert _accepts(SEED_IP, new), "nobody listens on the new port"
    wait_until(lambda: _refused(SEED_IP, old), 5, "the old port to be closed", procs=[td])
    # active torrents re-announce at once (libtorrent does on a listen change)
    wait_until(lambda: new in tracker.ports[announced:], 15, "an announce with port %d" % new, procs=[td])
    assert old not in tracker.ports[announced:]
    # the DHT shares the port
    wait_until(lambda: _dht_ping(SEED_IP, new) == b"r", 10, "the DHT on the new port", procs=[td])
    assert _dht_ping(SEED_IP, old) is None
    assert b'Successfully listening on IP. IP: "%s". Port: "TCP/%d"' % (SEED_IP.encode(), new) in td.log_text()
    # connected peers stay
    assert _has_peer(td, h, LEECH2_IP)
    old_peer.settimeout(1)
    try:
        assert old_peer.recv(4096) != b"", "the peer connected through the old port was dropped"
    except socket.timeout:
        pass
    # the transfer API does not care
    assert td.get("/api/v2/transfer/info").json()["connection_status"] in ("firewalled", "connected")

    # a real peer downloads through the new port
    ses = lt.session({"listen_interfaces": "%s:%d" % (LEECH_IP, free_port()), "outgoing_interfaces": LEECH_IP,
                      "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
                      "enable_incoming_utp": False, "enable_outgoing_utp": False})
    procs.on_close(ses.pause)
    p = lt.add_torrent_params()
    p.ti = lt.torrent_info(lt.bdecode(tbytes))
    p.save_path = os.path.join(workdir, "leech")
    p.trackers = []
    th = ses.add_torrent(p)
    th.connect_peer((SEED_IP, new))
    wait_until(lambda: th.status().is_seeding, 60, "libtorrent to download from the new port", procs=[td],
               interval=0.2)
    tdlib.compare_files(tbytes, seed, os.path.join(workdir, "leech"))

    # stored: a restart without --listen-port listens there again ...
    ses.pause()
    td.stop()
    argv = td.argv
    td.argv = lambda: _without_option(argv(), "--listen-port")
    td.start()
    assert td.prefs()["listen_port"] == new and _accepts(SEED_IP, new)
    # ... and --listen-port, when given, wins for the run (not stored)
    td.stop()
    td.argv = argv
    td.start()
    assert td.prefs()["listen_port"] == old and _accepts(SEED_IP, old) and _refused(SEED_IP, new)


def test_port_taken_keeps_the_old_one(workdir, procs, tracker):
    td = procs.add(Torrentd(os.path.join(workdir, "td"), SEED_IP)).start()
    old = td.listen_port
    busy = socket.socket()
    procs.on_close(busy.close)
    busy.bind((SEED_IP, 0))
    busy.listen(1)
    taken = busy.getsockname()[1]
    td.set_prefs({"listen_port": taken})
    assert b'Failed to listen on IP. IP: "%s". Port: "TCP/%d"' % (SEED_IP.encode(), taken) in td.log_text()
    assert _accepts(SEED_IP, old), "the old listener was closed although the new port could not be bound"
    # and a port that can be bound afterwards still works
    new = free_port()
    td.set_prefs({"listen_port": new})
    assert _accepts(SEED_IP, new)
    wait_until(lambda: _refused(SEED_IP, old), 5, "the old port to be closed", procs=[td])


def test_random_port(workdir, procs, tracker):
    """random_port true (deprecated, still sent by old WebUIs) = listen_port 0 =
    a port the system picks; app/preferences then says listen_port 0, random_port true."""
    td = procs.add(Torrentd(os.path.join(workdir, "td"), SEED_IP)).start()
    old = td.listen_port
    tbytes, h, seed = _seed(workdir, tracker.url)
    td.add(tbytes, seed, skip_checking=True)
    td.wait_seeding(h, 30)
    wait_until(lambda: old in tracker.ports, 15, "the first announce", procs=[td])
    announced = len(tracker.ports)
    td.set_prefs({"random_port": True, "listen_port": 7})
    prefs = td.prefs()
    assert prefs["listen_port"] == 0 and prefs["random_port"] is True
    wait_until(lambda: tracker.ports[announced:], 15, "an announce after the change", procs=[td])
    port = tracker.ports[-1]
    assert port not in (0, old, 7)
    assert _accepts(SEED_IP, port)
    wait_until(lambda: _refused(SEED_IP, old), 5, "the old port to be closed", procs=[td])
    # random_port false alone changes nothing (qBittorrent ignores it)
    td.set_prefs({"random_port": False})
    prefs = td.prefs()
    assert prefs["listen_port"] == 0 and prefs["random_port"] is True
    assert _accepts(SEED_IP, port)
    # a port again
    new = free_port()
    td.set_prefs({"listen_port": new})
    assert td.prefs()["random_port"] is False
    assert _accepts(SEED_IP, new)


def test_interface_address_moves(workdir, procs):
    td = procs.add(Torrentd(os.path.join(workdir, "td"), SEED_IP)).start()
    port = td.listen_port
    assert td.prefs()["current_interface_address"] == SEED_IP
    td.set_prefs({"current_interface_address": MINI_IP})
    assert _accepts(MINI_IP, port)
    wait_until(lambda: _refused(SEED_IP, port), 5, "the old address to be closed", procs=[td])
    # everywhere and back, same port: the old socket holds it, so it goes first
    td.set_prefs({"current_interface_address": ""})
    assert _accepts(MINI_IP, port) and _accepts(SEED_IP, port) and _accepts(LEECH_IP, port)
    td.set_prefs({"current_interface_address": SEED_IP})
    assert _accepts(SEED_IP, port)
    wait_until(lambda: _refused(MINI_IP, port), 5, "the other addresses to be closed", procs=[td])
    td.set_prefs({"current_interface_address": "not-an-address"})
    assert b'Failed to listen on IP. IP: "not-an-address"' in td.log_text()
    assert _accepts(SEED_IP, port)
    # everywhere, but the port is taken on one address: nothing changes
    busy = socket.socket()
    procs.on_close(busy.close)
    busy.bind((MINI_IP, port))
    busy.listen(1)
    td.set_prefs({"current_interface_address": ""})
    assert td.log_text().count(b'Failed to listen on IP. IP: "0.0.0.0". Port: "TCP/%d"' % port) == 1
    assert _accepts(SEED_IP, port) and _refused(LEECH_IP, port)


@pytest.mark.xdist_group("lsd")      # 0.0.0.0:6771 and the LSD group: see test_lsd.py
def test_lsd_announces_the_new_port(workdir, procs, tracker):
    """BEP14 announces carry the port peers should connect to: the new one."""
    _multicast_on_lo()
    group = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    procs.on_close(group.close)
    group.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    group.bind(("0.0.0.0", 6771))
    group.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                     struct.pack("4s4s", socket.inet_aton("239.192.152.143"), socket.inet_aton(MINI_IP)))
    group.settimeout(1)
    td = procs.add(Torrentd(os.path.join(workdir, "td"), SEED_IP)).start()
    td.set_prefs({"lsd": True})
    new = free_port()
    td.set_prefs({"listen_port": new})
    tbytes, h, seed = _seed(workdir, tracker.url)
    td.add(tbytes, seed, skip_checking=True)
    td.wait_seeding(h, 30)

    def announced_port():
        try:
            msg, src = group.recvfrom(2048)
        except socket.timeout:
            return None
        m = re.search(rb"\r\nPort: (\d+)\r\n", msg)
        return int(m.group(1)) if src[0] == SEED_IP and m and h.encode() in msg.lower() else None
    assert wait_until(announced_port, 15, "an LSD announce of the torrent", procs=[td]) == new
