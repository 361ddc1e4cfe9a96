"""The embedded tracker (enable_embedded_tracker, embedded_tracker_port):
torrentd serves /announce and /scrape itself (core/etracker.c over
bt/tracker/trackd.c).

1. The protocol, spoken by hand: compact and dictionary peer lists, BEP7
   peers6 (a peer's claimed IPv6 address), numwant, events (stopped removes,
   completed counts in the scrape), scrape counts, bencoded failure reasons
   for malformed queries, 405/404 for the rest; on/off and the port act live.
2. transmission-daemon seeds, python3-libtorrent leeches: both announce to
   torrentd's tracker only, libtorrent finds Transmission through it and the
   data arrives byte-identical; the scrape then shows two seeds, one download.
"""
import os
import socket

import pytest
import requests

import tdlib
from conftest import LEECH_IP, MINI_IP, SEED_IP
from tdlib import Torrentd, Transmission, bdecode, free_port, wait_until

IH = bytes(range(1, 21))
IH2 = bytes(range(101, 121))
ME = "127.0.0.1"   # where requests connects from: the address the tracker registers


def q(v):
    return "".join("%%%02X" % b for b in v) if isinstance(v, bytes) else requests.utils.quote(str(v), safe="")


def get(base, path, **params):
    qs = "&".join("%s=%s" % (k, q(v)) for k, v in params.items())
    r = requests.get("%s%s?%s" % (base, path, qs), timeout=10)
    return r


def announce(base, ih=IH, port=6881, peer_id=b"-XX0001-aaaaaaaaaaaa", **kw):
    params = {"info_hash": ih, "peer_id": peer_id, "port": port, "uploaded": 0, "downloaded": 0, "left": 100}
    params.update(kw)
    params = {k: v for k, v in params.items() if v is not None}
    r = get(base, "/announce", **params)
    assert r.status_code == 200, r.text
    return bdecode(r.content)


def scrape(base, *hashes):
    qs = "&".join("info_hash=%s" % q(h) for h in hashes)
    r = requests.get("%s/scrape?%s" % (base, qs), timeout=10)
    assert r.status_code == 200
    return bdecode(r.content)


def compact4(b):
    return sorted((socket.inet_ntoa(b[i:i + 4]), int.from_bytes(b[i + 4:i + 6], "big")) for i in range(0, len(b), 6))


def compact6(b):
    return sorted((socket.inet_ntop(socket.AF_INET6, b[i:i + 16]), int.from_bytes(b[i + 16:i + 18], "big"))
                  for i in range(0, len(b), 18))


def start_with_tracker(procs, workdir, port):
    td = procs.add(Torrentd(os.path.join(workdir, "td"), SEED_IP)).start()
    td.set_prefs({"enable_embedded_tracker": True, "embedded_tracker_port": port})
    base = "http://%s:%d" % (SEED_IP, port)

    def up():
        try:
            return requests.get(base + "/scrape?info_hash=" + q(IH), timeout=2).status_code == 200
        except requests.RequestException:
            return False
    wait_until(up, 20, "the embedded tracker on %s" % base, procs=[td])
    return td, base


def test_protocol_by_hand(procs, workdir):
    port = free_port()
    td, base = start_with_tracker(procs, workdir, port)
    assert td.prefs()["enable_embedded_tracker"] is True

    # the first peer sees nobody (not itself), but counts
    r = announce(base, port=7001, peer_id=b"A" * 20, event="started")
    assert r[b"interval"] == 1800 and r[b"complete"] == 0 and r[b"incomplete"] == 1
    assert r[b"peers"] == b"" and b"peers6" not in r
    assert r[b"external ip"] == socket.inet_aton(ME)
    # a seed, a peer claiming an IPv6 address (BEP7: peers6), a plain one
    announce(base, port=7002, peer_id=b"B" * 20, left=0, event="started")
    announce(base, port=7003, peer_id=b"C" * 20, ip="::1")
    r = announce(base, port=7004, peer_id=b"D" * 20)
    assert r[b"complete"] == 1 and r[b"incomplete"] == 3
    assert compact4(r[b"peers"]) == [(ME, 7001), (ME, 7002)]
    assert compact6(r[b"peers6"]) == [("::1", 7003)]
    # BEP7 ipv6=: a second endpoint of the same peer
    r = announce(base, port=7005, peer_id=b"E" * 20, ipv6="::2")
    assert ("::2", 7005) not in compact6(r[b"peers6"])   # not sent to itself
    r = announce(base, port=7004, peer_id=b"D" * 20)
    assert ("::2", 7005) in compact6(r[b"peers6"]) and (ME, 7005) in compact4(r[b"peers"])

    # dictionary model (compact=0), with and without peer ids
    r = announce(base, port=7004, peer_id=b"D" * 20, compact=0)
    got = sorted((p[b"ip"], p[b"port"], p[b"peer id"]) for p in r[b"peers"])
    assert (ME.encode(), 7001, b"A" * 20) in got and (b"::1", 7003, b"C" * 20) in got
    r = announce(base, port=7004, peer_id=b"D" * 20, compact=0, no_peer_id=1)
    assert all(b"peer id" not in p for p in r[b"peers"])
    # numwant
    r = announce(base, port=7004, peer_id=b"D" * 20, numwant=1)
    # one peer (both endpoints of a dual-stack one)
    assert len({p for _, p in compact4(r[b"peers"]) + compact6(r.get(b"peers6", b""))}) == 1
    r = announce(base, port=7004, peer_id=b"D" * 20, numwant=0)
    assert r[b"peers"] == b""

    # completed: a seed more and a download in the scrape; stopped: gone
    announce(base, port=7001, peer_id=b"A" * 20, left=0, event="completed")
    r = announce(base, port=7004, peer_id=b"D" * 20, event="stopped")
    assert r[b"peers"] == b""
    s = scrape(base, IH, IH2)
    assert s[b"files"][IH] == {b"complete": 2, b"downloaded": 1, b"incomplete": 2}
    assert s[b"files"][IH2] == {b"complete": 0, b"downloaded": 0, b"incomplete": 0}

    # malformed queries: a bencoded failure reason, HTTP 200 (as qBittorrent)
    def failure(path, **params):
        r = get(base, path, **params)
        assert r.status_code == 200
        return bdecode(r.content)[b"failure reason"].decode()
    assert failure("/announce", peer_id=b"x" * 20, port=1) == 'Missing "info_hash" parameter'
    assert failure("/announce", info_hash=b"short", peer_id=b"x" * 20, port=1) == 'Invalid "info_hash" parameter'
    assert failure("/announce", info_hash=IH, port=1) == 'Missing "peer_id" parameter'
    assert failure("/announce", info_hash=IH, peer_id=b"x" * 21, port=1) == 'Invalid "peer_id" parameter'
    assert failure("/announce", info_hash=IH, peer_id=b"x" * 20) == 'Missing "port" parameter'
    for bad in (0, 65536, "-1", "12a", ""):
        assert failure("/announce", info_hash=IH, peer_id=b"x" * 20, port=bad) == 'Invalid "port" parameter'
    assert failure("/announce", info_hash=IH, peer_id=b"x" * 20, port=1, numwant=-3) == \
        'Invalid "numwant" parameter'
    assert failure("/announce", info_hash=IH, peer_id=b"x" * 20, port=1, event="bogus") == \
        'Invalid "event" parameter'
    assert failure("/scrape") == 'Missing "info_hash" parameter'
    assert failure("/scrape", info_hash=b"abc") == 'Invalid "info_hash" parameter'
    assert requests.post(base + "/announce", data=b"x", timeout=10).status_code == 405
    assert requests.get(base + "/other", timeout=10).status_code == 404
    # the failures registered nobody
    assert scrape(base, IH)[b"files"][IH][b"incomplete"] == 2

    # live: another port (the swarms are kept), then off
    port2 = free_port()
    td.set_prefs({"embedded_tracker_port": port2})
    base2 = "http://%s:%d" % (SEED_IP, port2)
    wait_until(lambda: _answers(base2), 10, "the tracker on its new port", procs=[td])
    assert not _answers(base)
    assert scrape(base2, IH)[b"files"][IH][b"complete"] == 2
    td.set_prefs({"enable_embedded_tracker": False})
    wait_until(lambda: not _answers(base2), 10, "the tracker to stop", procs=[td])
    assert b"Embedded Tracker: Now listening on IP: %s, port: %d" % (SEED_IP.encode(), port) in td.log_text()


def _answers(base):
    try:
        return requests.get(base + "/scrape?info_hash=" + q(IH), timeout=2).status_code == 200
    except requests.RequestException:
        return False


def test_transmission_and_libtorrent_meet_through_it(dataset, procs, workdir):
    import libtorrent as lt
    port = free_port()
    td, base = start_with_tracker(procs, workdir, port)
    h = dataset.infohash
    ihb = bytes.fromhex(h)
    tbytes = tdlib.with_announce(dataset.tbytes, base + "/announce")

    seeder = procs.add(Transmission(os.path.join(workdir, "tr"), LEECH_IP)).start()
    seeder.add(tbytes, dataset.seed_root)
    seeder.wait_seeding(h, 120)

    def seeds():
        return scrape(base, ihb)[b"files"][ihb][b"complete"]
    nudged = []

    def seen():
        if seeds() >= 1:
            return True
        if not nudged:
            seeder.reannounce(h)
            nudged.append(1)
        return False
    wait_until(seen, 60, "transmission's announce to the embedded tracker", procs=[td, seeder], interval=0.5)

    # libtorrent gets Transmission's address from torrentd's tracker alone
    ses = lt.session({"listen_interfaces": "%s:%d" % (MINI_IP, free_port()), "outgoing_interfaces": MINI_IP,
                      "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
                      "enable_incoming_utp": False, "enable_outgoing_utp": False,
                      "allow_multiple_connections_per_ip": True})
    procs.on_close(ses.pause)
    p = lt.add_torrent_params()
    p.ti = lt.torrent_info(lt.bdecode(tbytes))
    save = os.path.join(workdir, "leech")
    p.save_path = save
    th = ses.add_torrent(p)
    wait_until(lambda: th.status().is_seeding, 180, "libtorrent to download from transmission",
               procs=[td, seeder], interval=0.5)
    assert tdlib.compare_files(tbytes, dataset.seed_root, save) == []
    # libtorrent's completed announce: two seeds, one download
    wait_until(lambda: scrape(base, ihb)[b"files"][ihb][b"downloaded"] == 1 and seeds() == 2, 30,
               "the scrape to count libtorrent's completion", procs=[td], interval=0.5)


def test_ipv6_socket_and_listen_address(procs, workdir):
    """On an IPv6 listen address the tracker is there too; peers announcing
    over IPv6 go to peers6 (compact) and an IPv4 claim (ip=) to peers; a new
    listen address moves the tracker."""
    port = free_port()
    td = procs.add(Torrentd(os.path.join(workdir, "td"), "::1")).start()
    td.set_prefs({"enable_embedded_tracker": True, "embedded_tracker_port": port})
    base = "http://[::1]:%d" % port
    wait_until(lambda: _answers(base), 20, "the embedded tracker on [::1]", procs=[td])
    announce(base, port=7101, peer_id=b"F" * 20)
    announce(base, port=7102, peer_id=b"G" * 20, ip="10.9.8.7")
    r = announce(base, port=7103, peer_id=b"H" * 20)
    assert compact6(r[b"peers6"]) == [("::1", 7101)]
    assert compact4(r[b"peers"]) == [("10.9.8.7", 7102)]
    assert r[b"external ip"] == socket.inet_pton(socket.AF_INET6, "::1")
    # the session moves to an IPv4 address: so does the tracker (same port)
    td.set_prefs({"current_interface_address": SEED_IP})
    base4 = "http://%s:%d" % (SEED_IP, port)
    wait_until(lambda: _answers(base4), 20, "the tracker at the new listen address", procs=[td])
    assert not _answers(base)
    assert scrape(base4, IH)[b"files"][IH][b"incomplete"] == 3
