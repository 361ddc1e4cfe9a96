"""Peer policy preferences that act (issue 14; core/peerpolicy.c): one test
each, every one able to fail when the preference is ignored.  Peers are
small Python wire peers on their own loopback addresses (all of 127/8 is on
lo) or torrentd instances; trackers are tiny HTTP servers."""
import hashlib
import http.server
import os
import socket
import struct
import subprocess
import threading
import time


import tdlib
from conftest import LEECH_IP, SEED_IP
from tdlib import Torrentd, bdecode, bencode, wait_until


def _src(k):
    """A source address of this test process's own (k in 1..250)."""
    return "127.201.%d.%d" % (tdlib._NET, k)


def _seeded(workdir, name, size=300000, announce=None):
    return tdlib.seeded_file(workdir, name, size, announce)


def _tiered(name, tiers):
    """A .torrent (no data needed: nobody seeds it) whose announce-list is
    tiers, a list of lists of URLs."""
    payload = b"x" * 16384
    info = {"name": name, "length": len(payload), "piece length": 16384,
            "pieces": hashlib.sha1(payload).digest()}
    t = bencode({"info": info, "announce": tiers[0][0], "announce-list": tiers})
    return t, tdlib.infohash(t)


def _hostport(addr):
    ip, port = addr.rsplit(":", 1)
    return ip, int(port)


class Wire:
    """A BitTorrent peer that handshakes (with the extension bit), then only
    collects what it is sent.  dial=True connects to target; otherwise wrap
    an accepted socket."""

    def __init__(self, ih, sock, send_first=True):
        self.ih = ih
        self.s = sock
        self.s.settimeout(15)
        self.msgs = []
        self.closed = False
        self.peer_id = b"-PY0001-" + os.urandom(6).hex().encode()
        reserved = bytearray(8)
        reserved[5] |= 0x10
        self.hs = b"\x13BitTorrent protocol" + bytes(reserved) + ih + self.peer_id
        if send_first:
            self.s.sendall(self.hs)
        self.their_hs = self._exact(68)
        if not send_first:
            self.s.sendall(self.hs)
        threading.Thread(target=self._run, daemon=True).start()

    @classmethod
    def dial(cls, ih, target, src):
        s = socket.create_connection(_hostport(target), timeout=15, source_address=(src, 0))
        return cls(ih, s)

    def _exact(self, n):
        b = b""
        while len(b) < n:
            c = self.s.recv(n - len(b))
            if not c:
                raise EOFError("closed after %d of %d bytes" % (len(b), n))
            b += c
        return b

    def _run(self):
        try:
            self.s.settimeout(None)
            while True:
                n = struct.unpack(">I", self._exact(4))[0]
                if n:
                    body = self._exact(n)
                    self.msgs.append((body[0], body[1:]))
        except (OSError, EOFError):
            self.closed = True

    def send(self, mid, payload=b""):
        self.s.sendall(struct.pack(">IB", 1 + len(payload), mid) + payload)

    def ext_handshake(self):
        for mid, body in self.msgs:
            if mid == 20 and body[:1] == b"\x00":
                return bdecode(body[1:])
        return None

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def _flags_by_ip(td, h):
    peers = td.get("/api/v2/sync/torrentPeers", hash=h, rid=0).json().get("peers", {})
    return {p["ip"]: p.get("flags", "").split() for p in peers.values()}


def _unchoked(td, h, ips):
    f = _flags_by_ip(td, h)
    return {ip for ip in ips if "U" in f.get(ip, [])}


def _choked(td, h, ips):
    f = _flags_by_ip(td, h)
    return {ip for ip in ips if "u" in f.get(ip, [])}


def _interested_crowd(td, h, n, first=1):
    ih = bytes.fromhex(h)
    crowd = [Wire.dial(ih, td.peer_addr, _src(first + k)) for k in range(n)]
    for w in crowd:
        w.send(2)   # interested
    return crowd, [_src(first + k) for k in range(n)]


def test_max_uploads(workdir, procs):
    """max_uploads (libtorrent's unchoke_slots_limit): four interested peers
    of one torrent, four slots for the torrent, but one over all torrents:
    only one is unchoked; raised to 3 (live), three are."""
    td = procs.add(Torrentd(os.path.join(workdir, "seed"), SEED_IP)).start()
    td.set_prefs({"max_uploads": 1, "max_uploads_per_torrent": 4})
    tb, h, root, _ = _seeded(workdir, "mu.bin")
    td.add(tb, root, skip_checking=True)
    td.wait_seeding(h, 60)
    crowd, ips = _interested_crowd(td, h, 4)
    try:
        wait_until(lambda: len(_choked(td, h, ips)) + len(_unchoked(td, h, ips)) == 4, 20,
                   "four interested peers", procs=[td])
        wait_until(lambda: len(_unchoked(td, h, ips)) == 1, 20, "one unchoked peer", procs=[td])
        assert len(_choked(td, h, ips)) == 3
        td.set_prefs({"max_uploads": 3})
        wait_until(lambda: len(_unchoked(td, h, ips)) == 3, 20, "three unchoked peers", procs=[td])
    finally:
        for w in crowd:
            w.close()
    td.stop()


def test_upload_slots_behavior(workdir, procs):
    """upload_slots_behavior 1 (libtorrent's rate_based_choker): peers that
    take nothing earn no extra slot, so one of four interested peers is
    unchoked; back to 0 (fixed), max_uploads_per_torrent's four are."""
    td = procs.add(Torrentd(os.path.join(workdir, "seed"), SEED_IP)).start()
    td.set_prefs({"upload_slots_behavior": 1, "max_uploads_per_torrent": 4, "max_uploads": -1})
    tb, h, root, _ = _seeded(workdir, "slots.bin")
    td.add(tb, root, skip_checking=True)
    td.wait_seeding(h, 60)
    crowd, ips = _interested_crowd(td, h, 4, first=11)
    try:
        wait_until(lambda: len(_choked(td, h, ips)) + len(_unchoked(td, h, ips)) == 4, 20,
                   "four interested peers", procs=[td])
        wait_until(lambda: len(_unchoked(td, h, ips)) == 1, 20, "one rate-based slot", procs=[td])
        td.set_prefs({"upload_slots_behavior": 0})
        wait_until(lambda: len(_unchoked(td, h, ips)) == 4, 20, "four fixed slots", procs=[td])
    finally:
        for w in crowd:
            w.close()
    td.stop()


def test_upload_choking_algorithm_anti_leech(workdir, procs):
    """upload_choking_algorithm 2 (anti-leech): with one slot, a peer that
    has half of the torrent waits while peers with nothing or nearly all
    are served: the half-way peer stays choked whichever order they came
    in."""
    td = procs.add(Torrentd(os.path.join(workdir, "seed"), SEED_IP)).start()
    td.set_prefs({"upload_choking_algorithm": 2, "max_uploads_per_torrent": 1, "max_uploads": -1})
    tb, h, root, _ = _seeded(workdir, "anti.bin", size=16384 * 20)
    td.add(tb, root, skip_checking=True)
    td.wait_seeding(h, 60)
    ih = bytes.fromhex(h)
    half = Wire.dial(ih, td.peer_addr, _src(21))
    half.send(5, b"\xff\xc0\x00")   # bitfield: 10 of 20 pieces
    half.send(2)
    wait_until(lambda: _unchoked(td, h, [_src(21)]), 20, "the half-way peer alone unchoked", procs=[td])
    empty = Wire.dial(ih, td.peer_addr, _src(22))
    empty.send(2)
    try:
        wait_until(lambda: _unchoked(td, h, [_src(22)]) and _choked(td, h, [_src(21)]), 20,
                   "the peer with nothing served before the half-way one", procs=[td])
    finally:
        half.close()
        empty.close()
    td.stop()


class _Listeners:
    """n TCP listeners on their own addresses; each accept is time-stamped
    and, with wire=True, answered as a BitTorrent peer of ih."""

    def __init__(self, n, first, ih=None):
        self.socks, self.addrs, self.times, self.wires = [], [], [], []
        self.ih = ih
        self.stop = False
        for k in range(n):
            s = socket.socket()
            s.bind((_src(first + k), 0))
            s.listen(8)
            s.settimeout(0.2)
            self.socks.append(s)
            self.addrs.append("%s:%d" % s.getsockname())
            threading.Thread(target=self._run, args=(s,), daemon=True).start()

    def _run(self, s):
        while not self.stop:
            try:
                c, _ = s.accept()
            except OSError:
                continue
            self.times.append(time.monotonic())
            if self.ih:
                try:
                    self.wires.append(Wire(self.ih, c, send_first=False))
                except (OSError, EOFError):
                    c.close()
            else:
                c.close()

    def close(self):
        self.stop = True
        for s in self.socks:
            s.close()
        for w in self.wires:
            w.close()


def test_connection_speed(workdir, procs):
    """connection_speed: outgoing connection attempts per second.  At 3 a
    second, twelve addresses told at once take over two seconds to be
    dialled; at the default 30 they are dialled at once."""
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    # TCP only: the listeners are TCP, and with uTP first each dial would
    # also wait for its uTP attempt to fail (see design-notes: the uTP
    # fallback to TCP-only peers is slower than it should be)
    td.set_prefs({"connection_speed": 3, "bittorrent_protocol": 1})
    slow = _Listeners(12, 31)
    fast = _Listeners(12, 51)
    try:
        tb, h, _, _ = _seeded(workdir, "cs1.bin")
        td.add(tb, os.path.join(workdir, "dl"))
        td.add_peers(h, slow.addrs)
        wait_until(lambda: len(slow.times) >= 12, 30, "twelve paced dials", procs=[td])
        span = max(slow.times) - min(slow.times)
        assert span >= 2.0, "12 dials at 3/s took %.2f s" % span
        td.set_prefs({"connection_speed": 30})
        tb2, h2, _, _ = _seeded(workdir, "cs2.bin")
        td.add(tb2, os.path.join(workdir, "dl"))
        td.add_peers(h2, fast.addrs)
        wait_until(lambda: len(fast.times) >= 12, 30, "twelve quick dials", procs=[td])
        span = max(fast.times) - min(fast.times)
        assert span < 1.5, "12 dials at 30/s took %.2f s" % span
    finally:
        slow.close()
        fast.close()
    td.stop()


def _tos_of(dst):
    out = subprocess.run(["ss", "-tnH", "--tos", "dst", dst], capture_output=True, text=True, timeout=10).stdout
    return [tok.split(":", 1)[1] for tok in out.split() if tok.startswith("tos:")]


def test_peer_tos(workdir, procs):
    """peer_tos: the IP TOS byte of peer connections (ss --tos on torrentd's
    side of a connection it made): qBittorrent's default 4, then 0x20."""
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    assert td.prefs()["peer_tos"] == 4
    tb, h, _, _ = _seeded(workdir, "tos.bin")
    td.add(tb, os.path.join(workdir, "dl"))
    lst = _Listeners(2, 71, ih=bytes.fromhex(h))
    try:
        td.add_peers(h, [lst.addrs[0]])
        wait_until(lambda: lst.wires and _tos_of(lst.addrs[0]), 20, "a connection with a TOS", procs=[td])
        assert _tos_of(lst.addrs[0]) == ["0x4"], _tos_of(lst.addrs[0])
        td.set_prefs({"peer_tos": 32})
        td.add_peers(h, [lst.addrs[1]])
        wait_until(lambda: len(lst.wires) >= 2 and _tos_of(lst.addrs[1]), 20, "a second connection",
                   procs=[td])
        assert _tos_of(lst.addrs[1]) == ["0x20"], _tos_of(lst.addrs[1])
    finally:
        lst.close()
    td.stop()


def test_peer_turnover(workdir, procs):
    """peer_turnover*: a downloading torrent at its connection limit (4 of
    max_connec_per_torrent 4, with an address still to try) drops
    peer_turnover % of its peers every peer_turnover_interval s (here from
    0, switched on once the four are in)."""
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    td.set_prefs({"max_connec_per_torrent": 4, "peer_turnover": 0, "peer_turnover_interval": 1,
                  "peer_turnover_cutoff": 90})
    tb, h, _, _ = _seeded(workdir, "turn.bin")
    td.add(tb, os.path.join(workdir, "dl"))
    lst = _Listeners(4, 81, ih=bytes.fromhex(h))
    dead = socket.socket()
    dead.bind((_src(90), 0))   # bound, never listening: a refused candidate
    try:
        td.add_peers(h, lst.addrs + ["%s:%d" % dead.getsockname()])
        wait_until(lambda: len(lst.wires) == 4, 20, "four wire peers connected", procs=[td])
        td.set_prefs({"peer_turnover": 50})
        wait_until(lambda: sum(w.closed for w in lst.wires) >= 2, 20, "two peers turned over", procs=[td])
    finally:
        lst.close()
        dead.close()
    td.stop()


class _Trk(tdlib.QuietTracker):
    hits = None

    def record(self):
        if "/scrape" not in self.path:   # announces only: a scrape follows a reply without counts
            type(self).hits.append((self.path, self.headers.get("User-Agent")))


def _tracker(ip="127.0.0.1"):
    class H(_Trk):
        hits = []
    srv = http.server.ThreadingHTTPServer((ip, 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, H.hits


def _status(td, h, url):
    for t in td.get("/api/v2/torrents/trackers", hash=h).json():
        if t["url"] == url:
            return t["status"]
    return None


def test_announce_to_all_tiers_and_trackers(workdir, procs):
    """announce_to_all_tiers (on by default): a tracker of every tier; off,
    the second tier waits while the first works.  announce_to_all_trackers
    (off by default): one tracker of a tier; on, every one."""
    servers = [_tracker() for _ in range(4)]
    urls = ["http://127.0.0.1:%d/announce" % s.server_address[1] for s, _ in servers]
    hits = [hh for _, hh in servers]
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    try:
        assert td.prefs()["announce_to_all_tiers"] is True
        tb, h = _tiered("tiers1.bin", [[urls[0]], [urls[1]]])
        td.add(tb, os.path.join(workdir, "dl"))
        wait_until(lambda: hits[0] and hits[1], 30, "both tiers announced to", procs=[td])
        td.set_prefs({"announce_to_all_tiers": False})
        tb, h2 = _tiered("tiers2.bin", [[urls[2]], [urls[3]]])
        td.add(tb, os.path.join(workdir, "dl"))
        wait_until(lambda: _status(td, h2, urls[2]) == 2, 30, "the first tier working", procs=[td])
        n = len(hits[3])
        td.reannounce(h2)
        wait_until(lambda: len(hits[2]) >= 2, 30, "the first tier announced to again", procs=[td])
        assert len(hits[3]) == n == 0 and _status(td, h2, urls[3]) == 1, "the second tier was announced to"
        # Two trackers of one tier: one is enough by default; all with the setting.
        before = [len(x) for x in hits[:2]]
        tb, h3 = _tiered("tiers3.bin", [[urls[0], urls[1]]])
        td.add(tb, os.path.join(workdir, "dl"))
        wait_until(lambda: any(len(hits[k]) > before[k] for k in range(2)), 30, "one tracker of the tier",
                   procs=[td])
        td.reannounce(h3)
        wait_until(lambda: sum(len(hits[k]) - before[k] for k in range(2)) >= 2, 30, "a second announce",
                   procs=[td])
        assert min(len(hits[k]) - before[k] for k in range(2)) == 0, "both trackers of one tier were used"
        td.set_prefs({"announce_to_all_trackers": True})
        td.reannounce(h3)
        wait_until(lambda: min(len(hits[k]) - before[k] for k in range(2)) >= 1, 30,
                   "every tracker of the tier", procs=[td])
    finally:
        for s, _ in servers:
            s.shutdown()
            s.server_close()
    td.stop()


def test_ssrf_mitigation(workdir, procs):
    """ssrf_mitigation (on by default, libtorrent's rule): an HTTP tracker
    on a loopback address is contacted only at a path ending in /announce;
    off, any path is."""
    srv, hits = _tracker()
    port = srv.server_address[1]
    bad, good = "http://127.0.0.1:%d/admin/delete?x=1" % port, "http://127.0.0.1:%d/t/announce" % port
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    try:
        assert td.prefs()["ssrf_mitigation"] is True
        tb, h = _tiered("ssrf.bin", [[bad], [good]])
        td.add(tb, os.path.join(workdir, "dl"))
        wait_until(lambda: any(p.startswith("/t/announce") for p, _ in hits), 30, "the /announce tracker",
                   procs=[td])
        wait_until(lambda: _status(td, h, bad) == 4, 30, "the other path refused", procs=[td])
        assert not any(p.startswith("/admin") for p, _ in hits)
        td.set_prefs({"ssrf_mitigation": False})
        td.reannounce(h)
        wait_until(lambda: any(p.startswith("/admin") for p, _ in hits), 30, "any path with it off", procs=[td])
    finally:
        srv.shutdown()
        srv.server_close()
    td.stop()


def test_anonymous_mode(workdir, procs):
    """anonymous_mode (libtorrent's): the peer id loses the -TDxxxx- client
    prefix, announces carry no User-Agent, and the extension handshake a
    peer receives has no "v" and no "yourip"."""
    srv, hits = _tracker()
    url = "http://127.0.0.1:%d/announce" % srv.server_address[1]
    td = procs.add(Torrentd(os.path.join(workdir, "td"), SEED_IP)).start()
    try:
        tb, h, root, _ = _seeded(workdir, "anon.bin", announce=url)
        td.add(tb, root, skip_checking=True)
        td.wait_seeding(h, 60)
        wait_until(lambda: hits, 30, "an announce", procs=[td])
        path, ua = hits[-1]
        assert "peer_id=-TD" in path and ua and ua.startswith("torrentd/"), (path, ua)
        ih = bytes.fromhex(h)
        w = Wire.dial(ih, td.peer_addr, _src(101))
        wait_until(lambda: w.ext_handshake(), 20, "an extension handshake", procs=[td])
        eh = w.ext_handshake()
        assert b"v" in eh and b"yourip" in eh, eh
        assert w.their_hs[48:51] == b"-TD"
        w.close()

        td.set_prefs({"anonymous_mode": True})
        n = len(hits)
        td.reannounce(h)
        wait_until(lambda: len(hits) > n, 30, "an anonymous announce", procs=[td])
        path, ua = hits[-1]
        assert "peer_id=-TD" not in path and ua is None, (path, ua)
        w = Wire.dial(ih, td.peer_addr, _src(102))
        wait_until(lambda: w.ext_handshake(), 20, "an anonymous extension handshake", procs=[td])
        eh = w.ext_handshake()
        assert b"v" not in eh and b"yourip" not in eh, eh
        assert w.their_hs[48:51] != b"-TD"
        w.close()
    finally:
        srv.shutdown()
        srv.server_close()
    td.stop()


def test_reannounce_when_address_changed(workdir, procs):
    """reannounce_when_address_changed: a tracker reporting a different
    external address (BEP24 "external ip") than the one before makes every
    torrent announce again: the first torrent's tracker hears from us a
    second time long before its 30-minute interval."""
    class A(_Trk):
        hits = []
        ext = b"\xcb\x00\x71\x01"   # 203.0.113.1

    class B(A):
        hits = []
        ext = b"\xcb\x00\x71\x02"   # 203.0.113.2

    def handler(cls):
        class H(cls):
            def do_GET(self):
                if "/scrape" not in self.path:
                    type(self).hits.append(self.path)
                body = bencode({"interval": 1800, "peers": b"", "external ip": type(self).ext})
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
        return H
    ha, hb = handler(A), handler(B)
    servers = [http.server.ThreadingHTTPServer(("127.0.0.1", 0), h) for h in (ha, hb)]
    for srv in servers:
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    ua, ub = ["http://127.0.0.1:%d/announce" % srv.server_address[1] for srv in servers]
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    try:
        assert td.prefs()["reannounce_when_address_changed"] is False
        td.set_prefs({"reannounce_when_address_changed": True})
        tb, h1 = _tiered("addr1.bin", [[ua]])
        td.add(tb, os.path.join(workdir, "dl"))
        wait_until(lambda: ha.hits, 30, "the first tracker's announce", procs=[td])
        assert len(ha.hits) == 1
        tb, h2 = _tiered("addr2.bin", [[ub]])
        td.add(tb, os.path.join(workdir, "dl"))
        wait_until(lambda: hb.hits, 30, "the second tracker's announce", procs=[td])
        wait_until(lambda: len(ha.hits) >= 2, 30, "the first torrent announcing again", procs=[td])
        assert any('Detected external IP. IP: "203.0.113.2"' in m["message"]
                   for m in td.get("/api/v2/log/main", last_known_id=-1).json())
    finally:
        for srv in servers:
            srv.shutdown()
            srv.server_close()
    td.stop()


def test_enable_multi_connections_from_same_ip(workdir, procs):
    """enable_multi_connections_from_same_ip (libtorrent's
    allow_multiple_connections_per_ip; already acting, covered here with
    the others): off, a second connection from one address to one torrent
    is closed; on, both stay."""
    td = procs.add(Torrentd(os.path.join(workdir, "seed"), SEED_IP)).start()
    assert td.prefs()["enable_multi_connections_from_same_ip"] is False
    tb, h, root, _ = _seeded(workdir, "multi.bin")
    td.add(tb, root, skip_checking=True)
    td.wait_seeding(h, 60)
    ih = bytes.fromhex(h)

    def count(ip):
        peers = td.get("/api/v2/sync/torrentPeers", hash=h, rid=0).json().get("peers", {})
        return sum(p["ip"] == ip for p in peers.values())
    first = Wire.dial(ih, td.peer_addr, _src(120))
    wait_until(lambda: count(_src(120)) == 1, 20, "the first connection", procs=[td])
    try:
        second = Wire.dial(ih, td.peer_addr, _src(120))
    except (OSError, EOFError):
        second = None   # closed before its handshake came back
    if second is not None:
        wait_until(lambda: second.closed, 20, "the second connection closed", procs=[td])
    assert count(_src(120)) == 1 and not first.closed
    td.set_prefs({"enable_multi_connections_from_same_ip": True})
    third = Wire.dial(ih, td.peer_addr, _src(120))
    wait_until(lambda: count(_src(120)) == 2, 20, "two connections from one address", procs=[td])
    assert not third.closed and not first.closed
    for w in (first, third):
        w.close()
    td.stop()
