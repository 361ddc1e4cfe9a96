"""IPv6 (issue 14's dual stack, on ::1 inside the test namespace): torrentd
listening everywhere takes IPv4 and IPv6 peers on one port (a libtorrent
leecher on [::1] downloads from it); listening on ::1 it announces BEP7's
&ipv6=, takes a tracker's `peers6` and downloads from a libtorrent seeder on
[::1]; PEX (added6) and the DHT (BEP32) carry [::1] peers between torrentd
instances."""
import os
import socket
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import tdlib
from conftest import LEECH_IP
from tdlib import Torrentd, free_port, wait_until

lt = pytest.importorskip("libtorrent")

PIECE = 64 * 1024
SIZE = 1 * tdlib.MiB + 4321
LT_OFF = {"enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
          "enable_incoming_utp": False, "enable_outgoing_utp": False}


class V6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


class Tracker6:
    """HTTP tracker on [::1]: records each announce's query, answers with
    peers6 only."""

    def __init__(self):
        self.queries = []
        self.peers6 = b""
        me = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                me.queries.append(urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query))
                body = tdlib.bencode({"interval": 1800, "peers": b"", "peers6": me.peers6})
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.srv = V6Server(("::1", free_port()), Handler)
        self.srv.daemon_threads = True
        self.url = "http://[::1]:%d/announce" % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def _torrent(workdir, trackers=()):
    seed = os.path.join(workdir, "seed")
    tdlib.write_random(os.path.join(seed, "payload.bin"), SIZE)
    fs = lt.file_storage()
    lt.add_files(fs, os.path.join(seed, "payload.bin"))
    ct = lt.create_torrent(fs, PIECE, flags=lt.create_torrent.v1_only)
    for url in trackers:
        ct.add_tracker(url)
    lt.set_piece_hashes(ct, seed)
    tbytes = lt.bencode(ct.generate())
    return tbytes, tdlib.infohash(tbytes), seed


def _lt_add(ses, tbytes, path, seed_mode=False):
    p = lt.add_torrent_params()
    meta = lt.bdecode(tbytes)
    for k in (b"announce", b"announce-list"):
        meta.pop(k, None)
    p.ti = lt.torrent_info(meta)
    p.save_path = path
    if seed_mode:
        p.flags |= lt.torrent_flags.seed_mode
    return ses.add_torrent(p)


def test_peers6_and_bep7_ipv6(workdir, procs):
    tracker = Tracker6()
    procs.on_close(tracker.close)
    tbytes, h, seed = _torrent(workdir, [tracker.url])
    lport = free_port()
    ses = lt.session(dict(LT_OFF, listen_interfaces="[::1]:%d" % lport))
    procs.on_close(ses.pause)
    _lt_add(ses, tbytes, seed, seed_mode=True)
    tracker.peers6 = socket.inet_pton(socket.AF_INET6, "::1") + lport.to_bytes(2, "big")
    td = procs.add(Torrentd(os.path.join(workdir, "td"), "::1")).start()
    td.add(tbytes, td.save_path)
    td.wait_complete(h, 60)
    tdlib.compare_files(tbytes, seed, td.save_path)
    assert tracker.queries and tracker.queries[0].get("ipv6") == ["::1"], tracker.queries[:1]


def test_dual_stack_listener(workdir, procs):
    """No listen address: one port on 0.0.0.0 and [::]; a libtorrent leecher
    on [::1] and one on IPv4 both download from torrentd."""
    tbytes, h, seed = _torrent(workdir)
    td = Torrentd(os.path.join(workdir, "td"), LEECH_IP)
    argv = td.argv

    def everywhere():
        a = argv()
        i = a.index("--listen-address")
        return a[:i] + a[i + 2:]
    td.argv = everywhere
    procs.add(td).start()
    td.add(tbytes, seed, skip_checking=True)
    wait_until(lambda: td.is_seeding(h), 30, "torrentd to seed", procs=[td])
    for i, (fam, ip) in enumerate([(socket.AF_INET6, "::1"), (socket.AF_INET, tdlib.loip(2))]):
        s = socket.socket(fam)
        s.settimeout(5)
        s.connect((ip, td.listen_port))   # both families accept on the one port
        s.close()
        ses = lt.session(dict(LT_OFF, listen_interfaces=("[%s]:%d" if fam == socket.AF_INET6 else "%s:%d")
                              % (ip, free_port()), outgoing_interfaces=ip))
        procs.on_close(ses.pause)
        dest = os.path.join(workdir, "leech%d" % i)
        th = _lt_add(ses, tbytes, dest)
        th.connect_peer((ip, td.listen_port))
        wait_until(lambda: th.status().is_seeding, 60, "libtorrent on %s to download" % ip, procs=[td],
                   interval=0.2)
        tdlib.compare_files(tbytes, seed, dest)
        ses.pause()


def _peer_ports(client, h):
    peers = client.get("/api/v2/sync/torrentPeers", hash=h).json().get("peers", {})
    return {(p["ip"], p["port"]): p for p in peers.values()}


def _v6_daemons(workdir, procs, names):
    """torrentd on ::1 each (one address: several connections from it allowed)."""
    tds = [procs.add(Torrentd(os.path.join(workdir, n), "::1", name=n)).start() for n in names]
    for td in tds:
        td.set_prefs({"enable_multi_connections_from_same_ip": True})
    return tds


def test_pex_ipv6(workdir, procs):
    """BEP11's added6: b, told only about a, learns the seeder's [::1] address
    from a and connects to it."""
    tbytes, h, seed = _torrent(workdir)
    s, a, b = _v6_daemons(workdir, procs, ["seed", "a", "b"])
    for c in (s, a, b):
        c.set_prefs({"pex": True})
    s.set_prefs({"up_limit": 1 << 18})   # slow: everyone still connected when PEX speaks
    s.add(tbytes, seed, skip_checking=True)
    s.wait_seeding(h, 30)
    a.add(tbytes, a.save_path)
    b.add(tbytes, b.save_path)
    a.add_peers(h, ["[::1]:%d" % s.listen_port])
    wait_until(lambda: ("::1", s.listen_port) in _peer_ports(a, h), 20, "a connected to the seeder", procs=[s, a])
    b.add_peers(h, ["[::1]:%d" % a.listen_port])
    wait_until(lambda: ("::1", s.listen_port) in _peer_ports(b, h), 30, "b learned the seeder through PEX",
               procs=[s, a, b])
    assert "X" in _peer_ports(b, h)[("::1", s.listen_port)]["flags"].split()


def test_dht_ipv6(workdir, procs):
    """BEP32 on ::1: a trackerless magnet resolves through an IPv6-only DHT."""
    tbytes, h, seed = _torrent(workdir)
    tds = _v6_daemons(workdir, procs, ["td0", "td1", "td2"])
    boot = "[::1]:%d" % tds[0].listen_port
    tds[0].set_prefs({"dht_bootstrap_nodes": "", "dht": True})
    for td in tds[1:]:
        td.set_prefs({"dht_bootstrap_nodes": boot, "dht": True})
    for td in tds:
        wait_until(lambda: td.get("/api/v2/transfer/info").json()["dht_nodes"] > 0, 20,
                   "%s to have IPv6 DHT nodes" % td.name, procs=tds)
    seeder, leecher = tds[1], tds[2]
    seeder.add(tbytes, seed, skip_checking=True)
    seeder.wait_seeding(h, 20)
    r = leecher.req("POST", "/api/v2/torrents/add", data={"urls": "magnet:?xt=urn:btih:%s" % h,
                                                         "savepath": leecher.save_path})
    assert r.text == "Ok.", r.text
    leecher.wait_complete(h, 60, procs=tds)
    tdlib.compare_files(tbytes, seed, leecher.save_path)   # no tracker, LSD and PEX off: the DHT found it
