"""Hostile peers cost a bounded amount and never stop an honest download.

A Python peer speaking the wire protocol attacks a torrentd leecher (and, for
requests, the torrentd seeder) on a fresh torrent; then the leecher is told
about the honest seeder and must complete the torrent byte-identical. For
each behaviour the test asserts that

  * the daemon closes the hostile connection, within a bound (HOSTILE_CLOSE_S;
    the handshake timeout for a silent connection);
  * the leecher's RSS (/proc/PID/status VmRSS) grows by less than RSS_SLACK_MIB
    and its API keeps answering;
  * the download from the honest seeder still completes byte-identical.

The behaviours: a 2 GiB length prefix; out-of-range piece indices in have,
request and piece; 100,000 have messages (redundant haves are ignored, as
libtorrent does: the out-of-range have sent after them is the close that
shows all were parsed); bitfields of the wrong size; a request for a 1 MiB
block; an extension handshake with deeply nested or too many bencode tokens;
connections that stay silent before the handshake or stop half-way through
it; 120 handshaken connections from one address that never send a message
(one per address and torrent is kept, as qBittorrent's default
enable_multi_connections_from_same_ip=false says). And a thousand half-open
TCP connections (connect, never send) kept open while the leecher
downloads: before the half-open caps they filled max_connec, so the leecher
could not even dial its seeder.

Hostile trackers are tests/integration/test_hostile_trackers.py.

The daemons are module-scoped (one seeder, one leecher); each test adds its
own torrent, so the tests do not see each other's pieces.
"""
import os
import socket
import struct
import threading
import time

import pytest

from conftest import LEECH_IP, MINI_IP, SEED_IP
from tdlib import (Torrentd, TdError, loip, make_torrent, piece_hashes, status_mib, wait_complete,
                   wait_until)

PL = 64 * 1024
NPIECES = 21
SIZE = (NPIECES - 1) * PL + 12345
HOSTILE_CLOSE_S = 5.0
RSS_SLACK_MIB = 48.0
PROTO = b"\x13BitTorrent protocol"
RESERVED_EXT_FAST = bytes([0, 0, 0, 0, 0, 0x10, 0, 0x04])

FIGURES = []   # (case, seconds to close, RSS growth MiB), printed at the end (pytest -s)


@pytest.fixture(scope="module")
def swarm(module_procs, tmp_path_factory):
    root = str(tmp_path_factory.mktemp("hostile"))
    seeder = module_procs.add(Torrentd(os.path.join(root, "seed"), SEED_IP, name="seed")).start()
    leecher = module_procs.add(Torrentd(os.path.join(root, "leech"), LEECH_IP, name="leech")).start()
    yield root, seeder, leecher
    for f in FIGURES:
        print("hostile-peer figure: %-28s closed after %6.2f s, RSS %+6.1f MiB" % f)


class Case:
    """One fresh torrent: seeded by the seeder, added (no peers) to the leecher."""

    def __init__(self, swarm, name):
        self.root, self.seeder, self.leecher = swarm
        self.name = name
        self.payload = os.urandom(SIZE)
        info = {"name": name + ".bin", "piece length": PL, "length": SIZE,
                "pieces": piece_hashes(self.payload, PL)}
        self.tbytes, self.h = make_torrent(info)
        self.ih = bytes.fromhex(self.h)
        data = os.path.join(self.root, "seed-data-" + name)
        os.makedirs(data)
        with open(os.path.join(data, name + ".bin"), "wb") as f:
            f.write(self.payload)
        self.seeder.add(self.tbytes, data, skip_checking=True)
        self.seeder.wait_seeding(self.h, 30)
        self.leecher.add(self.tbytes, self.leecher.save_path)
        wait_until(lambda: self.leecher.torrent(self.h), 10, "torrent added", procs=[self.leecher])
        self.rss0 = self.rss()

    def rss(self):
        return status_mib(self.leecher.pid, "VmRSS")

    def dial(self, target=None, reserved=RESERVED_EXT_FAST, src=MINI_IP):
        """A handshaken connection to the target daemon (the leecher by default).
        Retries while the torrent is not ready to accept peers yet."""
        target = target or self.leecher

        def attempt():
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(10)
            s.bind((src, 0))
            try:
                s.connect((target.bind_ip, target.listen_port))
                s.sendall(PROTO + reserved + self.ih + b"-PY0001-" + os.urandom(6).hex().encode())
                got = b""
                while len(got) < 68:
                    x = s.recv(68 - len(got))
                    if not x:
                        break
                    got += x
            except OSError:
                got = b""
            if len(got) == 68 and got[28:48] == self.ih:
                return s
            s.close()
            return None
        return wait_until(attempt, 15, "%s to accept a handshake for %s" % (target.name, self.name),
                          interval=0.2, procs=[target])

    def expect_closed(self, s, what, send=b"", bound=HOSTILE_CLOSE_S):
        """Send `send` (the daemon may close while we write), then read until the
        daemon closes; the seconds it took."""
        t0 = time.monotonic()
        try:
            if send:
                s.sendall(send)
        except OSError:
            pass   # closed (RST) while we were still writing: that is the point
        s.settimeout(0.2)
        try:
            while True:
                try:
                    if not s.recv(65536):
                        break
                except socket.timeout:
                    if time.monotonic() - t0 > bound:
                        raise TdError("%s: connection still open after %.0f s" % (what, bound))
                    self.leecher.check_alive()
                    self.seeder.check_alive()
        except (ConnectionResetError, BrokenPipeError):
            pass
        finally:
            s.close()
        return time.monotonic() - t0

    def finish(self, closed_after):
        """The API answers, RSS is bounded, the honest download completes."""
        t0 = time.monotonic()
        self.leecher.get("/api/v2/app/version")
        assert time.monotonic() - t0 < 2.0, "API slow after the attack"
        grew = self.rss() - self.rss0
        FIGURES.append((self.name, closed_after, grew))
        assert grew < RSS_SLACK_MIB, "%s: RSS grew by %.1f MiB" % (self.name, grew)
        self.leecher.add_peers(self.h, [self.seeder.peer_addr])
        wait_complete(self.leecher, self.h, 60, procs=[self.seeder],
                      nudge=lambda: self.leecher.add_peers(self.h, [self.seeder.peer_addr]))
        with open(os.path.join(self.leecher.save_path, self.name + ".bin"), "rb") as f:
            assert f.read() == self.payload


def msg(mid, body=b""):
    return struct.pack(">IB", 1 + len(body), mid) + body


def test_huge_length_prefix(swarm):
    c = Case(swarm, "huge_prefix")
    s = c.dial()
    # 2 GiB announced, 64 KiB actually sent: nothing may be reserved for it
    took = c.expect_closed(s, "2 GiB prefix", struct.pack(">IB", 2 << 30, 7) + bytes(64 * 1024))
    c.finish(took)


def test_out_of_range_indices(swarm):
    c = Case(swarm, "out_of_range")
    took = 0.0
    for what, m in [("have", msg(4, struct.pack(">I", NPIECES))),
                    ("have 2^32-1", msg(4, struct.pack(">I", 0xFFFFFFFF))),
                    ("request", msg(6, struct.pack(">III", NPIECES, 0, 16384))),
                    ("request past piece end", msg(6, struct.pack(">III", NPIECES - 1, 16384, 16384))),
                    ("piece", msg(7, struct.pack(">II", NPIECES + 7, 0) + bytes(16384))),
                    ("cancel", msg(8, struct.pack(">III", 0xFFFFFFF0, 0, 16384)) +
                     msg(4, struct.pack(">I", NPIECES)))]:
        took = max(took, c.expect_closed(c.dial(), what, msg(2) + m))
    c.finish(took)


def test_hundred_thousand_haves(swarm):
    c = Case(swarm, "100k_haves")
    s = c.dial()
    haves = b"".join(msg(4, struct.pack(">I", i % NPIECES)) for i in range(100000))
    # the out-of-range have at the end is only reached once all 100,000 were parsed
    took = c.expect_closed(s, "100,000 haves", haves + msg(4, struct.pack(">I", NPIECES)), bound=30)
    c.finish(took)


def test_wrong_size_bitfields(swarm):
    c = Case(swarm, "bad_bitfield")
    nbytes = (NPIECES + 7) // 8
    took = 0.0
    for what, bf in [("short", b"\xff" * (nbytes - 1)), ("long", b"\xff" * (nbytes + 1)),
                     ("spare bits set", b"\xff" * nbytes), ("1 MiB", b"\xff" * (1 << 20)),
                     ("empty", b"")]:
        took = max(took, c.expect_closed(c.dial(), "bitfield " + what, msg(5, bf)))
    c.finish(took)


def test_one_mib_block_requests(swarm):
    c = Case(swarm, "1mib_requests")
    took = 0.0
    # at the leecher (has nothing) and at the seeder (has everything, unchokes)
    for target in (c.leecher, c.seeder):
        s = c.dial(target)
        s.sendall(msg(2))
        took = max(took, c.expect_closed(s, "1 MiB request to " + target.name,
                                         msg(6, struct.pack(">III", 0, 0, 1 << 20)) * 64))
    c.finish(took)


def test_hostile_extension_handshakes(swarm):
    c = Case(swarm, "deep_bencode")
    took = 0.0
    deep = b"d1:m" + b"l" * 100000 + b"e" * 100000 + b"e"
    wide = b"d1:ml" + b"i0e" * 200000 + b"ee"
    for what, payload in [("deep", deep), ("wide", wide), ("truncated", b"d1:md11:ut_metadatai")]:
        took = max(took, c.expect_closed(c.dial(), "ext handshake " + what, msg(20, b"\x00" + payload)))
    c.finish(took)


def test_silent_connections(swarm):
    """Silent before the handshake, and stopped half-way through it: closed
    by the handshake timeout (10 s). Silent after it: no cost while the download
    runs (the idle timeout closes it later)."""
    c = Case(swarm, "silent")
    _, _, leecher = swarm
    quiet = socket.create_connection((leecher.bind_ip, leecher.listen_port), 10, (MINI_IP, 0))
    half = socket.create_connection((leecher.bind_ip, leecher.listen_port), 10, (MINI_IP, 0))
    half.sendall(PROTO + RESERVED_EXT_FAST)
    mute = c.dial()
    res = {}

    def watch(name, s):
        try:
            res[name] = c.expect_closed(s, name, bound=15)
        except TdError as e:
            res[name] = e
    ts = [threading.Thread(target=watch, args=a, daemon=True) for a in (("silent", quiet), ("half", half))]
    for t in ts:
        t.start()
    c.finish(0.0)          # the download completes meanwhile, next to the mute peer
    for t in ts:
        t.join(20)
    for name in ("silent", "half"):
        assert isinstance(res.get(name), float), "%s connection: %r" % (name, res.get(name))
        FIGURES.append(("silent: " + name, res[name], 0.0))
    mute.close()


def test_mute_crowd_from_one_address(swarm):
    """120 handshaken connections from one address, each with its own peer
    id, that never send a message: qBittorrent's default
    (enable_multi_connections_from_same_ip=false, libtorrent's
    allow_multiple_connections_per_ip) admits one per torrent, so they cannot
    fill max_connec_per_torrent (100) and keep the leecher from dialling its
    seeder until the idle timeout (150 s)."""
    c = Case(swarm, "mute_crowd")
    first = c.dial()
    crowd, refused = [first], 0
    for _ in range(119):
        s = socket.create_connection((c.leecher.bind_ip, c.leecher.listen_port), 10, (MINI_IP, 0))
        s.sendall(PROTO + RESERVED_EXT_FAST + c.ih + b"-PY0001-" + os.urandom(6).hex().encode())
        crowd.append(s)
    t0 = time.monotonic()
    for s in crowd[1:]:
        try:
            c.expect_closed(s, "second connection from one address")
            refused += 1
        except TdError:
            pass
    took = time.monotonic() - t0
    try:
        assert refused == 119, "%d of 119 extra connections from one address kept" % (119 - refused)
        c.finish(took)
    finally:
        first.close()


class HalfOpen:
    """Keeps `n` connect-and-never-send connections to addr open, spread over
    source addresses, topping up what the daemon closes (at most every 0.2 s)."""

    def __init__(self, addr, n, srcs):
        self.addr, self.n, self.srcs = addr, n, srcs
        self.socks = []
        self.opened = 0
        self.stopping = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def alive(self, s):
        try:
            return s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
        except BlockingIOError:
            return True
        except OSError:
            return False

    def run(self):
        while not self.stopping.is_set():
            keep = []
            for s in self.socks:
                if self.alive(s):
                    keep.append(s)
                else:
                    s.close()
            self.socks = keep
            while len(self.socks) < self.n:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setblocking(False)
                s.bind((self.srcs[self.opened % len(self.srcs)], 0))
                s.connect_ex(self.addr)
                self.socks.append(s)
                self.opened += 1
            self.stopping.wait(0.2)

    def close(self):
        self.stopping.set()
        self.t.join(10)
        for s in self.socks:
            s.close()


def test_thousand_half_open_connections(swarm, module_procs):
    c = Case(swarm, "half_open")
    _, seeder, leecher = swarm
    ho = HalfOpen((leecher.bind_ip, leecher.listen_port), 1000, [loip(i) for i in (6, 7, 8, 9)])
    module_procs.on_close(ho.close)
    try:
        wait_until(lambda: ho.opened >= 1000, 10, "1000 half-open connections")
        t0 = time.monotonic()
        leecher.get("/api/v2/app/version")
        assert time.monotonic() - t0 < 2.0, "API slow under half-open connections"
        c.leecher.add_peers(c.h, [seeder.peer_addr])
        wait_complete(leecher, c.h, 30, procs=[seeder], stall=20,
                      nudge=lambda: leecher.add_peers(c.h, [seeder.peer_addr]))
        with open(os.path.join(leecher.save_path, "half_open.bin"), "rb") as f:
            assert f.read() == c.payload
        grew = c.rss() - c.rss0
        FIGURES.append(("1000 half-open (opened %d)" % ho.opened, time.monotonic() - t0, grew))
        assert grew < RSS_SLACK_MIB, grew
    finally:
        ho.close()
