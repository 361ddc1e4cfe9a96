"""The IP filter (issue 14): ip_filter_enabled, ip_filter_path (eMule .dat,
PeerGuardian .p2p and .p2b, as qBittorrent reads them) and
ip_filter_trackers.  Peers are torrentd instances on their own 127.0.x.y
addresses (loopback holds all of 127/8): a filtered one is refused and never
completes while an allowed one does; a changed file is read again and the
peers it now blocks are disconnected; trackers are filtered only with
ip_filter_trackers."""
import http.server
import os
import socket
import struct
import threading

import pytest

import tdlib
from conftest import LEECH2_IP, LEECH_IP, MINI_IP, SEED_IP
from tdlib import Torrentd, wait_until


def _ip_int(ip):
    a, b, c, d = (int(x) for x in ip.split("."))
    return a << 24 | b << 16 | c << 8 | d


def _seeded(workdir, name, size=300000, announce=None):
    return tdlib.seeded_file(workdir, name, size, announce)[:3]


def _filter_file(path, blocked_ip, allowed_ip):
    """A filter in the format of path's extension that blocks blocked_ip
    and names allowed_ip only in a way that must not block it."""
    ext = os.path.splitext(path)[1]
    if ext == ".dat":
        text = ("# eMule list\n"
                "010.000.000.000 - 010.255.255.255 , 000 , unrelated\n"
                "%s - %s , 000 , the blocked leecher\n"
                "%s - %s , 200 , level above 127: allowed\n" % (blocked_ip, blocked_ip, allowed_ip, allowed_ip))
        data = text.encode()
    elif ext == ".p2p":
        text = ("# PeerGuardian\n"
                "Unrelated:Org:10.0.0.0-10.255.255.255\n"
                "The blocked - leecher:%s-%s\n"
                "%s-%s\n" % (blocked_ip, blocked_ip, allowed_ip, allowed_ip))   # no name: malformed, skipped
        data = text.encode()
    else:   # .p2b version 2
        data = b"\xff\xff\xff\xffP2B\x02"
        data += b"unrelated\0" + struct.pack(">II", _ip_int("10.0.0.0"), _ip_int("10.255.255.255"))
        data += b"blocked\0" + struct.pack(">II", _ip_int(blocked_ip), _ip_int(blocked_ip))
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)


def _main_log(td):
    return [m["message"] for m in td.get("/api/v2/log/main", last_known_id=-1).json()]


def _rules_lines(td):
    return [m for m in _main_log(td) if "Number of rules applied" in m]


def _peer_log(td, ip):
    return [e for e in td.get("/api/v2/log/peers", last_known_id=-1).json() if e["ip"] == ip]


def _peer_ips(td, h):
    peers = td.get("/api/v2/sync/torrentPeers", hash=h, rid=0).json().get("peers", {})
    return {p["ip"] for p in peers.values()}


@pytest.mark.parametrize("ext", [".dat", ".p2p", ".p2b"])
def test_filter_blocks_one_leecher(workdir, procs, ext):
    """The seeder's filter holds LEECH_IP: that leecher's connections are
    refused (log/peers: blocked, "IP filter") and it gets nothing; LEECH2_IP,
    named only as allowed (.dat level 200) or in a malformed line (.p2p),
    downloads the whole torrent."""
    seeder = procs.add(Torrentd(os.path.join(workdir, "seed"), SEED_IP)).start()
    path = os.path.join(workdir, "filter" + ext)
    _filter_file(path, LEECH_IP, LEECH2_IP)
    seeder.set_prefs({"ip_filter_enabled": True, "ip_filter_path": path})
    expect = {".dat": 2, ".p2p": 2, ".p2b": 2}[ext]
    wait_until(lambda: any("Number of rules applied: %d" % expect in m for m in _rules_lines(seeder)), 20,
               "the filter's rules logged", procs=[seeder])
    tb, h, root = _seeded(workdir, "f%s.bin" % ext[1:])
    seeder.add(tb, root, skip_checking=True)
    seeder.wait_seeding(h, 60)
    blocked = procs.add(Torrentd(os.path.join(workdir, "leech1"), LEECH_IP, name="leech1")).start()
    allowed = procs.add(Torrentd(os.path.join(workdir, "leech2"), LEECH2_IP, name="leech2")).start()
    for lc in (blocked, allowed):
        lc.add(tb, lc.save_path)
        lc.add_peers(h, [seeder.peer_addr])
    allowed.wait_complete(h, 60, procs=[seeder, blocked])
    wait_until(lambda: any(e["blocked"] and e["reason"] == "IP filter" for e in _peer_log(seeder, LEECH_IP)), 20,
               "the blocked leecher's refusal in log/peers", procs=[seeder])
    blocked.add_peers(h, [seeder.peer_addr])   # once more, after the other completed
    wait_until(lambda: len(_peer_log(seeder, LEECH_IP)) >= 2, 20, "a second refusal", procs=[seeder])
    assert blocked.torrent(h)["downloaded"] == 0
    assert LEECH_IP not in _peer_ips(seeder, h)
    assert not _peer_log(seeder, LEECH2_IP)
    # Off: the same leecher now gets in (the setting acts live).
    seeder.set_prefs({"ip_filter_enabled": False})
    wait_until(lambda: (blocked.add_peers(h, [seeder.peer_addr]) or True) and blocked.is_complete(h), 60,
               "the formerly blocked leecher completing", interval=1.0, procs=[seeder, blocked])


def test_filter_dials_and_reload_on_change(workdir, procs):
    """Outgoing dials are filtered too (the seeder is told the leecher's
    address and never connects), and an edited file is read again on its
    own: the peers it now blocks are disconnected."""
    seeder = procs.add(Torrentd(os.path.join(workdir, "seed"), SEED_IP)).start()
    path = os.path.join(workdir, "filter.dat")
    _filter_file(path, "10.9.9.9", "10.9.9.8")
    seeder.set_prefs({"ip_filter_enabled": True, "ip_filter_path": path})
    wait_until(lambda: _rules_lines(seeder), 20, "the first load", procs=[seeder])
    tb, h, root = _seeded(workdir, "reload.bin", size=2000000)
    seeder.add(tb, root, skip_checking=True)
    seeder.wait_seeding(h, 60)
    leech = procs.add(Torrentd(os.path.join(workdir, "leech1"), LEECH_IP, name="leech1")).start()
    leech.set_prefs({"dl_limit": 50000})   # keeps the transfer going while the file changes
    leech.add(tb, leech.save_path)
    # a torrent still checking refuses peers, and the refused dial is tried
    # again only 30 s later: tell the seeder once the leecher can take it
    # (under a full parallel run the check of the new torrent took a while)
    wait_until(lambda: not leech.torrent(h)["state"].startswith("checking"), 20, "the leecher's torrent checked",
               procs=[leech])
    seeder.add_peers(h, [leech.peer_addr])   # the seeder dials: allowed now
    wait_until(lambda: LEECH_IP in _peer_ips(seeder, h), 20, "the leecher connected", procs=[seeder, leech])
    n = len(_rules_lines(seeder))
    _filter_file(path, LEECH_IP, "10.9.9.8")
    wait_until(lambda: len(_rules_lines(seeder)) > n, 20, "the changed file read again", procs=[seeder])
    wait_until(lambda: LEECH_IP not in _peer_ips(seeder, h), 20, "the now-blocked leecher disconnected",
               procs=[seeder, leech])
    assert any(e["reason"] == "IP filter" for e in _peer_log(seeder, LEECH_IP))
    # Dials: told a filtered and an allowed address in one call, the seeder
    # connects to the allowed one only.
    _filter_file(path, LEECH2_IP, "10.9.9.8")
    n = len(_rules_lines(seeder))
    wait_until(lambda: len(_rules_lines(seeder)) > n, 20, "the file read again", procs=[seeder])
    blocked, allowed = _Listener(LEECH2_IP), _Listener(MINI_IP)
    try:
        seeder.add_peers(h, ["%s:%d" % (LEECH2_IP, blocked.port), "%s:%d" % (MINI_IP, allowed.port)])
        wait_until(lambda: allowed.count > 0, 20, "a dial to the allowed address", procs=[seeder])
        assert blocked.count == 0, "a filtered address was dialled"
    finally:
        blocked.close()
        allowed.close()


class _Listener:
    """A TCP listener that counts the connections made to it."""

    def __init__(self, ip):
        self.s = socket.socket()
        self.s.bind((ip, 0))
        self.port = self.s.getsockname()[1]
        self.s.listen(16)
        self.s.settimeout(0.2)
        self.count = 0
        self.stop = False
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while not self.stop:
            try:
                c, _ = self.s.accept()
                self.count += 1
                c.close()
            except OSError:
                pass

    def close(self):
        self.stop = True
        self.s.close()


class _CountingTracker(tdlib.QuietTracker):
    hits = []

    def record(self):
        if self.path.startswith("/announce"):
            type(self).hits.append(self.path)


def _tracker_status(td, h, url):
    for t in td.get("/api/v2/torrents/trackers", hash=h).json():
        if t["url"] == url:
            return t["status"]
    return None


@pytest.mark.xdist_group("fixed_ip_127_0_0_9")
def test_trackers_filtered_only_with_ip_filter_trackers(workdir, procs):
    """A tracker on a filtered address is announced to while
    ip_filter_trackers is off (qBittorrent's default) and refused once it is
    on: no further request reaches it and its row turns "not working"."""
    class H(_CountingTracker):
        hits = []
    srv = http.server.ThreadingHTTPServer(("127.0.0.9", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = "http://127.0.0.9:%d/announce" % srv.server_address[1]
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    try:
        path = os.path.join(workdir, "trk.p2p")
        with open(path, "w") as f:
            f.write("Tracker host:127.0.0.9-127.0.0.9\n")
        td.set_prefs({"ip_filter_enabled": True, "ip_filter_path": path})
        wait_until(lambda: _rules_lines(td), 20, "the filter loaded", procs=[td])
        tb, h, _ = _seeded(workdir, "trk.bin", announce=url)
        td.add(tb, os.path.join(workdir, "dl"))
        wait_until(lambda: H.hits, 30, "an announce with ip_filter_trackers off", procs=[td])
        td.set_prefs({"ip_filter_trackers": True})
        n = len(H.hits)
        td.reannounce(h)
        wait_until(lambda: _tracker_status(td, h, url) == 4, 30, "the tracker refused", procs=[td])
        assert len(H.hits) == n, "a filtered tracker was contacted"
        td.set_prefs({"ip_filter_trackers": False})
        td.reannounce(h)
        wait_until(lambda: len(H.hits) > n, 30, "announcing again with the setting off", procs=[td])
    finally:
        srv.shutdown()
        srv.server_close()
    td.stop()
