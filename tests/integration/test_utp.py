"""uTP (BEP29): torrentd with itself, with python3-libtorrent both ways, and
through a lossy, delaying, reordering UDP relay of the test's own.

Every peer runs with uTP only (bittorrent_protocol=2 for torrentd,
enable_outgoing_tcp/enable_incoming_tcp off for libtorrent), so a transfer
that completes went over uTP; the peer lists must say so too ("connection"
"μTP", flag "P"; libtorrent's peer_info utp_socket flag).
"""
import heapq
import os
import random
import select
import socket
import threading
import time

import pytest

from conftest import LEECH2_IP, LEECH_IP, MINI_IP, SEED_IP
from tdlib import (MiB, Dataset, Torrentd, Transmission, assert_same_data, free_port, wait_complete,
                   wait_until)

TIMEOUT = 240
UTP = "\u03bcTP"


def utp_only(td):
    td.set_prefs({"bittorrent_protocol": 2})
    assert td.prefs()["bittorrent_protocol"] == 2
    return td


def peers_of(td, h):
    return td.get("/api/v2/sync/torrentPeers", hash=h, rid=0).json().get("peers", {})


class PeerWatch(threading.Thread):
    """Records (connection, flags) of every peer td lists for h while a
    transfer runs (seeds drop each other once done, so afterwards is too late)."""

    def __init__(self, td, h):
        super().__init__(daemon=True)
        self.td, self.h = td, h
        self.seen = set()
        self.done = False

    def run(self):
        while not self.done:
            try:
                for p in peers_of(self.td, self.h).values():
                    self.seen.add((p["connection"], " ".join(sorted(p["flags"].split()))))
            except Exception:   # noqa: BLE001 - a poll that failed is retried
                pass
            time.sleep(0.1)

    def stop(self):
        self.done = True
        self.join(5)
        return self.seen


def watch(td, h, procs):
    w = PeerWatch(td, h)
    w.start()
    procs.on_close(w.stop)
    return w


def assert_all_utp(w, incoming=None):
    seen = w.stop()
    assert seen, "no peer listed while the transfer ran"
    for conn, flags in seen:
        assert conn == UTP and "P" in flags.split(), seen
        if incoming is not None:
            assert ("I" in flags.split()) == incoming, seen


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("utpdata"))
    return Dataset(os.path.join(root, "seed"), "small",
                   [("a.bin", 12 * MiB + 3), ("b/c.bin", 3 * MiB + 17), ("d.txt", 5)], piece_exp=16)


def test_torrentd_to_torrentd_utp_only(dataset, procs, workdir):
    h, tbytes = dataset.infohash, dataset.tbytes
    seeder = utp_only(procs.add(Torrentd(os.path.join(workdir, "seed"), SEED_IP)).start())
    seeder.add(tbytes, dataset.seed_root, skip_checking=True)
    seeder.wait_seeding(h, 60)
    leecher = utp_only(procs.add(Torrentd(os.path.join(workdir, "leech"), LEECH_IP)).start())
    leecher.add(tbytes, leecher.save_path)
    ws, wl = watch(seeder, h, procs), watch(leecher, h, procs)
    secs = wait_complete(leecher, h, TIMEOUT, procs=[seeder],
                         nudge=lambda: leecher.add_peers(h, ["%s:%d" % (SEED_IP, seeder.listen_port)]))
    print("\ntorrentd -> torrentd over uTP: %.1f MiB in %.1f s" % (dataset.size / MiB, secs))
    assert_same_data(tbytes, dataset.seed_root, leecher.save_path)
    assert_all_utp(ws, incoming=True)
    assert_all_utp(wl, incoming=False)
    # uTP only: the seeder's TCP port refuses BitTorrent (qBittorrent turns
    # enable_incoming_tcp off with it)
    s = socket.create_connection((SEED_IP, seeder.listen_port), timeout=5)
    s.sendall(b"\x13BitTorrent protocol" + bytes(8) + bytes.fromhex(h) + b"-XX0000-" + bytes(12))
    s.settimeout(10)
    try:
        got = s.recv(100)
    except ConnectionResetError:
        got = b""
    s.close()
    assert got == b"", got


def test_protocol_prefs_and_utp_rate_limit(small, procs, workdir):
    """bittorrent_protocol 0 dials uTP first and falls back to TCP when the
    peer has none (1 = TCP only there); two peers with 0 talk uTP;
    limit_utp_rate puts uTP peers under the global limit, live."""
    h, tbytes = small.infohash, small.tbytes
    seeder = procs.add(Torrentd(os.path.join(workdir, "seed"), SEED_IP)).start()
    seeder.set_prefs({"bittorrent_protocol": 1})
    seeder.add(tbytes, small.seed_root, skip_checking=True)
    seeder.wait_seeding(h, 60)
    seed_addr = "%s:%d" % (SEED_IP, seeder.listen_port)

    tcp_leech = procs.add(Torrentd(os.path.join(workdir, "l1"), LEECH_IP)).start()
    assert tcp_leech.prefs()["bittorrent_protocol"] == 0   # qBittorrent's default: TCP and uTP
    tcp_leech.set_prefs({"dl_limit": 4 * MiB})   # a few seconds: long enough to see the peer listed
    tcp_leech.add(tbytes, tcp_leech.save_path)
    w = watch(tcp_leech, h, procs)
    wait_complete(tcp_leech, h, 120, procs=[seeder], nudge=lambda: tcp_leech.add_peers(h, [seed_addr]))
    assert_same_data(tbytes, small.seed_root, tcp_leech.save_path)
    seen = w.stop()
    assert seen and all(conn == "BT" and "P" not in flags.split() for conn, flags in seen), seen

    # the seeder takes uTP again (live), the next leecher gets it, first under
    # the global download limit (limit_utp_rate true, the default) ...
    seeder.set_prefs({"bittorrent_protocol": 0})
    leech = procs.add(Torrentd(os.path.join(workdir, "l2"), LEECH2_IP)).start()
    limit = 256 * 1024
    leech.set_prefs({"dl_limit": limit})
    assert leech.prefs()["limit_utp_rate"] is True
    leech.add(tbytes, leech.save_path)
    w = watch(leech, h, procs)
    leech.add_peers(h, [seed_addr])
    wait_until(lambda: leech.torrent(h)["downloaded"] > 0, 30, "the first bytes", procs=[leech, seeder],
               interval=0.05)
    t0, d0 = time.monotonic(), leech.torrent(h)["downloaded"]
    got = wait_until(lambda: max(0, leech.torrent(h)["downloaded"] - d0 - 3 * limit), 30,
                     "three seconds' worth at the limit", procs=[leech, seeder], interval=0.05)
    rate = (3 * limit + got) / (time.monotonic() - t0)
    assert rate < 2 * limit, rate
    # ... then not (limit_utp_rate false: libtorrent's uTP peers leave the global class)
    leech.set_prefs({"limit_utp_rate": False})
    secs = wait_complete(leech, h, 60, procs=[seeder])
    assert small.size / max(secs, 0.1) > 2 * limit, secs
    assert_same_data(tbytes, small.seed_root, leech.save_path)
    assert_all_utp(w, incoming=False)


# --------------------------------------------------------------------------
# python3-libtorrent
# --------------------------------------------------------------------------

class Lt:
    """An in-process libtorrent session on MINI_IP speaking uTP only."""

    def __init__(self):
        import libtorrent as lt
        self.lt = lt
        self.port = free_port()
        self.ses = lt.session({
            "listen_interfaces": "%s:%d" % (MINI_IP, self.port),
            "outgoing_interfaces": MINI_IP,
            "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
            "enable_outgoing_tcp": False, "enable_incoming_tcp": False,
            "enable_outgoing_utp": True, "enable_incoming_utp": True,
            "allow_multiple_connections_per_ip": True,
            "alert_mask": 0,
        })

    def add(self, tbytes, save, seed=False):
        p = self.lt.add_torrent_params()
        p.ti = self.lt.torrent_info(self.lt.bdecode(tbytes))
        p.save_path = save
        if seed:
            p.flags |= self.lt.torrent_flags.seed_mode
        self.th = self.ses.add_torrent(p)
        return self.th

    def close(self):
        ses, self.ses = self.ses, None
        if ses is not None:
            ses.pause()
            del ses


def test_torrentd_leeches_from_libtorrent(dataset, procs, workdir):
    h, tbytes = dataset.infohash, dataset.tbytes
    lt = Lt()
    procs.on_close(lt.close)
    th = lt.add(tbytes, dataset.seed_root, seed=True)
    wait_until(lambda: th.status().is_seeding, 60, "libtorrent to seed")
    leecher = utp_only(procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start())
    leecher.add(tbytes, leecher.save_path)
    w = watch(leecher, h, procs)
    # torrentd dials: outgoing uTP from torrentd, accepted by libtorrent
    secs = wait_complete(leecher, h, TIMEOUT, nudge=lambda: leecher.add_peers(h, ["%s:%d" % (MINI_IP, lt.port)]))
    print("\nlibtorrent -> torrentd over uTP (torrentd dialled): %.1f MiB in %.1f s" % (dataset.size / MiB, secs))
    assert_same_data(tbytes, dataset.seed_root, leecher.save_path)
    assert_all_utp(w, incoming=False)


def test_libtorrent_leeches_from_torrentd(dataset, procs, workdir):
    h, tbytes = dataset.infohash, dataset.tbytes
    seeder = utp_only(procs.add(Torrentd(os.path.join(workdir, "td"), SEED_IP)).start())
    seeder.add(tbytes, dataset.seed_root, skip_checking=True)
    seeder.wait_seeding(h, 60)
    lt = Lt()
    procs.on_close(lt.close)
    save = os.path.join(workdir, "lt")
    os.makedirs(save)
    th = lt.add(tbytes, save)
    w = watch(seeder, h, procs)
    # libtorrent dials: incoming uTP for torrentd
    th.connect_peer((SEED_IP, seeder.listen_port))
    t0, last = time.monotonic(), -1.0
    while not th.status().is_seeding:
        st = th.status()
        if st.progress != last:
            last, moved = st.progress, time.monotonic()
        elif time.monotonic() - moved > 10:
            th.connect_peer((SEED_IP, seeder.listen_port))
            moved = time.monotonic()
        seeder.check_alive()
        assert time.monotonic() - t0 < TIMEOUT, "libtorrent stuck at %.3f" % st.progress
        time.sleep(0.2)
    print("\ntorrentd -> libtorrent over uTP (libtorrent dialled): %.1f MiB in %.1f s"
          % (dataset.size / MiB, time.monotonic() - t0))
    assert_same_data(tbytes, dataset.seed_root, save)
    assert_all_utp(w, incoming=True)


# --------------------------------------------------------------------------
# transmission-daemon (libutp); it never dials 127/8, so torrentd dials
# --------------------------------------------------------------------------

def _transmission_utp_peers(tr, h):
    ts = tr.rpc("torrent-get", {"ids": [h], "fields": ["peers"]})["torrents"]
    return [p for p in (ts[0]["peers"] if ts else []) if "T" in p.get("flagStr", "")]


def test_torrentd_leeches_from_transmission(dataset, procs, workdir):
    h, tbytes = dataset.infohash, dataset.tbytes
    tr = procs.add(Transmission(os.path.join(workdir, "tr"), SEED_IP, utp=True)).start()
    tr.add(tbytes, dataset.seed_root)
    tr.wait_seeding(h, 120)
    leecher = utp_only(procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start())
    leecher.add(tbytes, leecher.save_path)
    w = watch(leecher, h, procs)
    secs = wait_complete(leecher, h, TIMEOUT, procs=[tr], nudge=lambda: leecher.add_peers(h, [tr.peer_addr]))
    print("\ntransmission -> torrentd over uTP: %.1f MiB in %.1f s" % (dataset.size / MiB, secs))
    assert_same_data(tbytes, dataset.seed_root, leecher.save_path)
    assert_all_utp(w, incoming=False)


def test_transmission_leeches_from_torrentd(dataset, procs, workdir):
    h, tbytes = dataset.infohash, dataset.tbytes
    seeder = utp_only(procs.add(Torrentd(os.path.join(workdir, "td"), SEED_IP)).start())
    seeder.add(tbytes, dataset.seed_root, skip_checking=True)
    seeder.wait_seeding(h, 60)
    tr = procs.add(Transmission(os.path.join(workdir, "tr"), LEECH_IP, utp=True)).start()
    save = os.path.join(workdir, "leech")
    os.makedirs(save)
    tr.add(tbytes, save)
    wait_until(lambda: tr.is_downloading(h), 60, "transmission to start downloading", procs=[tr])
    w = watch(seeder, h, procs)

    def utp_peer_listed():
        if not _transmission_utp_peers(tr, h):
            seeder.add_peers(h, [tr.peer_addr])
            return False
        return True
    t0 = time.monotonic()
    wait_until(utp_peer_listed, 60, "transmission to list torrentd as a uTP peer (flag T)",
               interval=1.0, procs=[tr, seeder])
    wait_complete(tr, h, TIMEOUT, procs=[seeder], nudge=lambda: seeder.add_peers(h, [tr.peer_addr]))
    print("\ntorrentd -> transmission over uTP: %.1f MiB in %.1f s" % (dataset.size / MiB, time.monotonic() - t0))
    assert_same_data(tbytes, dataset.seed_root, save)
    assert_all_utp(w, incoming=False)


# --------------------------------------------------------------------------
# a lossy link: a relay that drops, delays and reorders
# --------------------------------------------------------------------------

class UdpRelay(threading.Thread):
    """Listens on (ip, port) and forwards to target; each client address gets
    its own upstream socket so replies find their way back.  Every datagram
    is dropped with probability `loss`, else sent after `delay` plus up to
    `jitter` seconds (so later ones overtake earlier ones)."""

    def __init__(self, ip, target, loss=0.01, delay=0.020, jitter=0.005, seed=1):
        super().__init__(daemon=True)
        self.rng = random.Random(seed)
        self.loss, self.delay, self.jitter = loss, delay, jitter
        self.target = target
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.front.bind((ip, 0))
        self.addr = self.front.getsockname()
        self.ip = ip
        self.ups = {}        # client addr -> upstream socket
        self.back = {}       # upstream socket -> client addr
        self.q = []          # (when, n, sock, data, to)
        self.n = 0
        self.stop = False
        self.dropped = self.passed = 0

    def _up(self, client):
        s = self.ups.get(client)
        if s is None:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            s.bind((self.ip, 0))
            self.ups[client] = s
            self.back[s] = client
        return s

    def _queue(self, sock, data, to):
        # per datagram, as on loopback (MTU 64 KiB): torrentd sends torrentd
        # 60000-byte packets there, which a real path would fragment
        if self.rng.random() < self.loss:
            self.dropped += 1
            return
        self.passed += 1
        self.n += 1
        heapq.heappush(self.q, (time.monotonic() + self.delay + self.rng.random() * self.jitter,
                                self.n, sock, data, to))

    def run(self):
        while not self.stop:
            now = time.monotonic()
            while self.q and self.q[0][0] <= now:
                _, _, sock, data, to = heapq.heappop(self.q)
                try:
                    sock.sendto(data, to)
                except OSError:
                    pass
            timeout = max(0.0, min(0.05, self.q[0][0] - now)) if self.q else 0.05
            socks = [self.front] + list(self.back)
            r, _, _ = select.select(socks, [], [], timeout)
            for s in r:
                for _ in range(64):
                    try:
                        data, src = s.recvfrom(65536, socket.MSG_DONTWAIT)
                    except BlockingIOError:
                        break
                    if s is self.front:
                        self._queue(self._up(src), data, self.target)
                    else:
                        self._queue(self.front, data, self.back[s])

    def close(self):
        self.stop = True
        self.join(5)
        for s in [self.front] + list(self.back):
            s.close()


class TcpRelay(threading.Thread):
    """The TCP counterpart: forwards each connection to target, every chunk
    `delay` seconds late (TCP itself sees no loss through it)."""

    def __init__(self, ip, target, delay=0.020):
        super().__init__(daemon=True)
        self.target, self.delay = target, delay
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind((ip, 0))
        self.ls.listen(16)
        self.addr = self.ls.getsockname()
        self.stop = False
        self.pairs = {}
        self.q = []
        self.n = 0

    def run(self):
        while not self.stop:
            now = time.monotonic()
            while self.q and self.q[0][0] <= now:
                _, _, dst, data = heapq.heappop(self.q)
                try:
                    dst.sendall(data)
                except OSError:
                    pass
            timeout = max(0.0, min(0.05, self.q[0][0] - now)) if self.q else 0.05
            r, _, _ = select.select([self.ls] + list(self.pairs), [], [], timeout)
            for s in r:
                if s is self.ls:
                    c, _ = self.ls.accept()
                    u = socket.create_connection(self.target)
                    self.pairs[c], self.pairs[u] = u, c
                    continue
                try:
                    data = s.recv(256 * 1024)
                except OSError:
                    data = b""
                dst = self.pairs.get(s)
                if not data:
                    for x in (s, dst):
                        if x in self.pairs:
                            del self.pairs[x]
                            x.close()
                    continue
                self.n += 1
                heapq.heappush(self.q, (time.monotonic() + self.delay, self.n, dst, data))

    def close(self):
        self.stop = True
        self.join(5)
        for s in [self.ls] + list(self.pairs):
            s.close()


def _relayed_transfer(ds, procs, workdir, proto, relay_cls, name):
    h, tbytes = ds.infohash, ds.tbytes
    seeder = procs.add(Torrentd(os.path.join(workdir, name + "-seed"), SEED_IP)).start()
    seeder.set_prefs({"bittorrent_protocol": proto})
    seeder.add(tbytes, ds.seed_root, skip_checking=True)
    seeder.wait_seeding(h, 60)
    relay = relay_cls(MINI_IP, (SEED_IP, seeder.listen_port))
    relay.start()
    procs.on_close(relay.close)
    leecher = procs.add(Torrentd(os.path.join(workdir, name + "-leech"), LEECH_IP)).start()
    leecher.set_prefs({"bittorrent_protocol": proto})
    leecher.add(tbytes, leecher.save_path)
    secs = wait_complete(leecher, h, TIMEOUT, procs=[seeder],
                         nudge=lambda: leecher.add_peers(h, ["%s:%d" % relay.addr]))
    assert_same_data(tbytes, ds.seed_root, leecher.save_path)
    return secs, relay


def test_lossy_reordering_link(small, procs, workdir):
    secs, relay = _relayed_transfer(small, procs, workdir, 2, UdpRelay, "utp")
    assert relay.dropped > 0 and relay.passed > 500, (relay.dropped, relay.passed)
    tsecs, _ = _relayed_transfer(small, procs, workdir, 1, TcpRelay, "tcp")
    mb = small.size / 1e6
    print("\nrelay 1%% loss, 20 ms delay, 0-5 ms jitter: uTP %.2f MB/s (%.1f s, %d datagrams dropped of %d); "
          "TCP through a 20 ms relay %.2f MB/s (%.1f s)"
          % (mb / secs, secs, relay.dropped, relay.dropped + relay.passed, mb / tsecs, tsecs))
