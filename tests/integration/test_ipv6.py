"""IPv6 (issue 14's dual stack, on ::1 inside the test namespace): torrentd
listening everywhere takes IPv4 and IPv6 peers on one port (a libtorrent
leecher on [::1] downloads from it); listening on ::1 it announces BEP7's
&ipv6=, takes a tracker's `peers6` and downloads from a libtorrent seeder on
[::1]."""
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
