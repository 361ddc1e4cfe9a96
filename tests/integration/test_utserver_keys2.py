"""utserver.conf keys of seed 004 that change how torrentd transfers, each
observed acting (issue 11): max_ul_rate_seed (a seeding torrent's upload to a
loopback leecher held near the cap, the lower of it and the torrent's own
limit winning), progressive_piece_span (how far ahead of the first missing
piece the sequential picker requests; -1 = no in-order picking),
write_coalesce_max_size (write(2)-family syscalls per MB downloaded),
preferred_interface (the address the daemon listens on and connects from) and
encrypt_buffer_size (read(2)s of an SSL torrent's TLS connection).

Each test starts a utserver daemon the way a service line does and changes
keys by rewriting utserver.conf and sending SIGHUP (the keys "always applied
from utserver.conf"), through /gui/ setsetting, or by starting anew."""
import hashlib
import os
import signal
import socket
import struct
import threading
import time

from conftest import LEECH_IP, SEED_IP
from tdlib import MiniSeeder, loip, make_torrent, wait_until
from test_utserver import ADMIN, PW, UtServer, gui_session, setsetting

KiB, MiB = 1024, 1 << 20
BLOCK = 16 * KiB


def write_conf(ut, **keys):
    conf = {
        "bind_ip": ut.bind_ip, "bind_port": str(ut.listen_port), "ut_webui_port": str(ut.webui_port),
        "admin_name": ADMIN, "admin_password": PW, "dht": "false", "lsd": "false", "pex": "false",
        "upnp": "false", "natpmp": "false", "rate_limit_local_peers": "true",
    }
    conf.update(keys)
    with open(ut.conf, "w") as f:
        f.write("".join("%s: %s\n" % kv for kv in conf.items() if kv[1] is not None))


def reload_conf(ut, **keys):
    """Rewrites utserver.conf and reloads it with SIGHUP (waits for the log)."""
    n = ut.log_text().count(b"utserver.conf reloaded")
    write_conf(ut, **keys)
    os.kill(ut.daemon_pid, signal.SIGHUP)
    wait_until(lambda: ut.log_text().count(b"utserver.conf reloaded") > n, 20, "utserver.conf reloaded",
               procs=[ut])


def start_ut(workdir, procs, **keys):
    ut = UtServer(workdir, LEECH_IP)
    write_conf(ut, **keys)
    procs.add(ut).start()
    return ut


def one_file_torrent(name, size, piece_len):
    payload = os.urandom(size)
    info = {"name": name, "length": size, "piece length": piece_len,
            "pieces": b"".join(hashlib.sha1(payload[k:k + piece_len]).digest()
                               for k in range(0, size, piece_len))}
    tbytes, h = make_torrent(info)
    return payload, tbytes, h


def read_exact(c, n):
    b = b""
    while len(b) < n:
        x = c.recv(n - len(b))
        if not x:
            raise EOFError
        b += x
    return b


class Leecher:
    """A plain-TCP leecher that keeps `depth` block requests outstanding,
    cycling over the torrent (a seeder serves any block again), and counts
    the piece bytes it received with their arrival times."""

    def __init__(self, ip, addr, ih_hex, total, piece_len, depth=64):
        self.total, self.piece_len, self.depth = total, piece_len, depth
        self.c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.c.bind((ip, 0))
        self.c.settimeout(30)
        self.c.connect(addr)
        ih = bytes.fromhex(ih_hex)
        self.c.sendall(b"\x13BitTorrent protocol" + bytes(8) + ih + b"-PY0001-" + os.urandom(6).hex().encode())
        hs = read_exact(self.c, 68)
        assert hs[28:48] == ih
        self.c.sendall(struct.pack(">IB", 1, 2))          # interested
        self.lock = threading.Lock()
        self.samples = []                                  # (monotonic time, cumulative bytes)
        self.got = 0
        self.unchoked = False
        self.stop = False
        self.next = 0
        self.error = None
        threading.Thread(target=self._run, daemon=True).start()

    def _request(self, n):
        msgs = b""
        for _ in range(n):
            off = self.next % self.total
            idx, begin = divmod(off, self.piece_len)
            length = min(BLOCK, self.total - off, self.piece_len - begin)
            msgs += struct.pack(">IBIII", 13, 6, idx, begin, length)
            self.next = off + length
        self.c.sendall(msgs)

    def _run(self):
        try:
            while not self.stop:
                (n,) = struct.unpack(">I", read_exact(self.c, 4))
                if n == 0:
                    continue
                m = read_exact(self.c, n)
                if m[0] == 1 and not self.unchoked:        # unchoke
                    self.unchoked = True
                    self._request(self.depth)
                elif m[0] == 0:                            # choke: requests dropped
                    self.unchoked = False
                elif m[0] == 7:                            # piece
                    with self.lock:
                        self.got += n - 9
                        self.samples.append((time.monotonic(), self.got))
                    if self.unchoked:
                        self._request(1)
        except (OSError, EOFError) as e:
            if not self.stop:
                self.error = repr(e)

    def bytes_between(self, t0, t1):
        with self.lock:
            s = self.samples
            a = max((b for t, b in s if t <= t0), default=0)
            z = max((b for t, b in s if t <= t1), default=0)
        return z - a

    def rate_over(self, seconds):
        """Bytes/s over the next `seconds` (measured from now)."""
        t0 = time.monotonic()
        time.sleep(seconds)            # a measurement window, not a wait for a condition
        return self.bytes_between(t0, time.monotonic()) / seconds

    def close(self):
        self.stop = True
        try:
            self.c.close()
        except OSError:
            pass


def test_max_ul_rate_seed_caps_seeding_upload(workdir, procs):
    ut = start_ut(workdir, procs, max_ul_rate_seed="48")
    size, plen = 4 * MiB, 256 * KiB
    payload, tbytes, h = one_file_torrent("seed.bin", size, plen)
    save = os.path.join(workdir, "seed")
    os.makedirs(save)
    with open(os.path.join(save, "seed.bin"), "wb") as f:
        f.write(payload)
    ut.add(tbytes, save)
    ut.wait_seeding(h, 60)
    le = Leecher(SEED_IP, (ut.bind_ip, ut.listen_port), h, size, plen)
    procs.on_close(le.close)
    wait_until(lambda: le.got > 0, 30, "the seeding torrent uploads", procs=[ut])
    # The bucket's burst is one second's worth: measure after it.
    wait_until(lambda: le.got > 64 * KiB, 30, "past the burst", procs=[ut])
    rate = le.rate_over(4)
    assert 48 * KiB * 0.5 < rate < 48 * KiB * 1.35, "max_ul_rate_seed 48 KB/s: %d B/s" % rate

    # The torrent's own limit, when lower, wins.
    ut.post("/api/v2/torrents/setUploadLimit", hashes=h, limit=str(16 * KiB))
    wait_until(lambda: ut.torrent(h)["up_limit"] == 16 * KiB, 10, "up_limit set")
    le.rate_over(1.5)
    rate = le.rate_over(4)
    assert 16 * KiB * 0.5 < rate < 16 * KiB * 1.35, "the per-torrent 16 KB/s wins: %d B/s" % rate

    # Both lifted (-1 = unlimited; a "first start" key, so through /gui/
    # setsetting as the WebUI sends it): far above the cap on loopback.
    ut.post("/api/v2/torrents/setUploadLimit", hashes=h, limit="0")
    gs = gui_session(ut, ADMIN, PW)
    setsetting(ut, gs, ("max_ul_rate_seed", "-1"))
    assert ut.stored("ut_max_ul_rate_seed") == "-1"
    rate = le.rate_over(2)
    assert rate > 4 * 48 * KiB, "max_ul_rate_seed -1: unlimited (%d B/s)" % rate
    assert le.error is None, le.error


class StallingSeeder(MiniSeeder):
    """Serves one-block pieces, but every STALL_EVERY bytes stops answering
    until no new request came for a moment: the requests pending then are
    the downloader's whole pipeline, and their spread (highest piece - lowest
    piece) is how far ahead of its first missing piece it requested (none
    below the lowest pending piece is missing any more... or it is, which
    only lowers the real first missing piece)."""

    STALL_EVERY = 1 * MiB
    QUIET = 1.0   # long enough for a loaded machine's downloader to send its whole pipeline

    def __init__(self, ip, ih_hex, payload, piece_len):
        super().__init__(ip, ih_hex, payload, piece_len)
        self.spreads = []

    def _serve(self, c):
        try:
            c.settimeout(60)
            hs = self._read(c, 68)
            if hs[28:48] != self.ih:
                return
            c.sendall(b"\x13BitTorrent protocol" + bytes(8) + self.ih + b"-PY0001-" + os.urandom(6).hex().encode())
            bf = bytearray((self.npieces + 7) // 8)
            for i in range(self.npieces):
                bf[i // 8] |= 0x80 >> (i % 8)
            c.sendall(struct.pack(">IB", 1 + len(bf), 5) + bytes(bf))
            pending, since_stall = [], 0
            while not self.stopping:
                stalling = since_stall >= self.STALL_EVERY
                c.settimeout(self.QUIET if stalling else 60)
                try:
                    (n,) = struct.unpack(">I", self._read(c, 4))
                except socket.timeout:
                    # quiet: the pipeline is all here
                    idx = [r[0] for r in pending]
                    self.spreads.append(max(idx) - min(idx) if idx else 0)
                    for r in pending:
                        self._send(c, *r)
                    pending, since_stall = [], 0
                    continue
                if n == 0:
                    continue
                m = self._read(c, n)
                if m[0] == 2:
                    c.sendall(struct.pack(">IB", 1, 1))
                elif m[0] == 6 and n == 13:
                    r = struct.unpack(">III", m[1:])
                    if stalling:
                        pending.append(r)
                    else:
                        self._send(c, *r)
                        since_stall += r[2]
        except (OSError, EOFError, ValueError):
            pass
        finally:
            c.close()

    def _send(self, c, idx, begin, length):
        off = idx * self.piece_len + begin
        blk = self.payload[off:off + length]
        c.sendall(struct.pack(">IBII", 9 + len(blk), 7, idx, begin) + blk)
        self.served += len(blk)


def test_progressive_piece_span(workdir, procs):
    # 1 MB of read-ahead = 64 one-block pieces: the pending requests never
    # spread over 64 pieces or more.  Without the bound (80 MB, more than the
    # torrent) a fast link's pipeline (up to 250 blocks) spreads further, and
    # with -1 (no progressive picker) pieces come rarest first, anywhere.
    ut = start_ut(workdir, procs, sequential_download="true", progressive_piece_span="1")
    size = 32 * MiB

    def download(name):
        payload, tbytes, h = one_file_torrent(name, size, BLOCK)
        seeder = StallingSeeder(SEED_IP, h, payload, BLOCK)
        procs.on_close(seeder.close)
        ut.add(tbytes, os.path.join(workdir, name))
        ut.add_peers(h, [seeder.addr])
        wait_until(lambda: len(seeder.spreads) >= 5, 90, "5 stalls", procs=[ut])
        seeder.close()
        return h, max(seeder.spreads)

    h, spread = download("span1")
    assert ut.torrent(h)["seq_dl"] is True
    assert 8 <= spread < 64, "progressive_piece_span 1 MB: requests spread over %d pieces" % spread

    reload_conf(ut, sequential_download="true", progressive_piece_span="80")
    h, spread = download("span80")
    assert ut.torrent(h)["seq_dl"] is True
    assert spread >= 64, "progressive_piece_span 80 MB: requests spread over %d pieces only" % spread

    # -1: no progressive picker; sequential_download no longer marks new
    # torrents, and a torrent set sequential through the API is not picked
    # in order either.
    reload_conf(ut, sequential_download="true", progressive_piece_span="-1")
    payload, tbytes, h = one_file_torrent("off", size, BLOCK)
    ut.add(tbytes, os.path.join(workdir, "off"), stopped=True)
    assert ut.torrent(h)["seq_dl"] is False
    ut.post("/api/v2/torrents/toggleSequentialDownload", hashes=h)
    assert ut.torrent(h)["seq_dl"] is True
    seeder = StallingSeeder(SEED_IP, h, payload, BLOCK)
    procs.on_close(seeder.close)
    ut.post("/api/v2/torrents/start", hashes=h)
    ut.add_peers(h, [seeder.addr])
    wait_until(lambda: len(seeder.spreads) >= 2, 90, "2 stalls", procs=[ut])
    assert max(seeder.spreads) >= 64, "-1: not in order (spread %d)" % max(seeder.spreads)


def io_syscw(pid):
    with open("/proc/%d/io" % pid) as f:
        for line in f:
            if line.startswith("syscw:"):
                return int(line.split()[1])
    raise AssertionError("no syscw in /proc/%d/io" % pid)


def test_write_coalesce_max_size(workdir, procs):
    # 16 MiB in 4 MiB pieces: coalesced (default 2 MB) that is 8 pwrites;
    # with -1 (no write caching) one per 16 KiB block, 1024.  Everything
    # else the daemon writes (requests, log, API replies) is alike in both.
    ut = start_ut(workdir, procs, write_coalesce_max_size="-1")
    size, plen = 16 * MiB, 4 * MiB

    def download(name):
        payload, tbytes, h = one_file_torrent(name, size, plen)
        seeder = MiniSeeder(SEED_IP, h, payload, plen)
        procs.on_close(seeder.close)
        ut.add(tbytes, os.path.join(workdir, name))
        wait_until(lambda: ut.torrent(h) and ut.torrent(h)["state"] not in ("checkingResumeData", "metaDL"),
                   30, "added", procs=[ut])
        w0 = io_syscw(ut.daemon_pid)
        ut.add_peers(h, [seeder.addr])
        wait_until(lambda: ut.is_complete(h), 120, "%s downloaded" % name, interval=0.5, procs=[ut])
        w = io_syscw(ut.daemon_pid) - w0
        with open(os.path.join(workdir, name, name), "rb") as f:
            assert f.read() == payload
        return w

    uncached = download("uncached")
    reload_conf(ut, write_coalesce_max_size="0")
    coalesced = download("coalesced")
    assert uncached - coalesced > 700, "write syscalls: %d uncached, %d coalesced" % (uncached, coalesced)


def test_preferred_interface(workdir, procs):
    # No bind_ip: preferred_interface lo -> lo's first address, 127.0.0.1;
    # another loopback address is not listened on.
    ut = start_ut(workdir, procs, bind_ip=None, preferred_interface="lo")
    port = ut.listen_port
    assert ut.log_has(r'listening on IP\. IP: "127\.0\.0\.1"\. Port: "TCP/%d"' % port)
    socket.create_connection(("127.0.0.1", port), timeout=5).close()
    other = loip(4)
    try:
        socket.create_connection((other, port), timeout=5).close()
        raise AssertionError("listening on %s too" % other)
    except ConnectionRefusedError:
        pass
    assert ut.prefs()["current_interface_address"] == "", "an interface, not an address, was configured"

    # A name that is no interface: warned, every address.
    reload_conf(ut, bind_ip=None, preferred_interface="nosuch0")
    wait_until(lambda: ut.log_has(r'network interface "nosuch0" not found'), 10, "the warning", procs=[ut])
    wait_until(lambda: ut.log_has(r'listening on IP\. IP: "0\.0\.0\.0"\. Port: "TCP/%d"' % port), 10,
               "listening everywhere", procs=[ut])
    socket.create_connection((other, port), timeout=5).close()


def io_syscr(pid):
    with open("/proc/%d/io" % pid) as f:
        for line in f:
            if line.startswith("syscr:"):
                return int(line.split()[1])
    raise AssertionError("no syscr in /proc/%d/io" % pid)


def test_encrypt_buffer_size(workdir, procs):
    """An SSL torrent's ciphertext is read through a buffer of
    encrypt_buffer_size bytes: at 4096, a 6 MiB download takes at least 1536
    read(2)s; at the default 102400 loopback segments come in far fewer."""
    import pytest
    pytest.importorskip("libtorrent")
    from conftest import MINI_IP
    from test_ssl_torrent import SIZE, Pki, _lt, make_ssl_torrent, set_ssl

    pki = Pki(workdir, "ca")
    seeder = _lt(procs, MINI_IP)
    scert, skey = pki.issue("seeder")
    reads = {}
    for size in ("4096", "102400"):
        d = os.path.join(workdir, "ebs" + size)
        os.makedirs(d)
        tbytes, h, seed = make_ssl_torrent(d, pki.ca_pem)
        seeder.add(tbytes, seed, scert, skey, pki.dh, seed_mode=True)
        ut = UtServer(os.path.join(d, "ut"), LEECH_IP)
        os.makedirs(ut.rundir, exist_ok=True)
        write_conf(ut, encrypt_buffer_size=size)
        procs.add(ut).start()
        save = os.path.join(d, "dl")
        ut.add(tbytes, save)
        cert, key = pki.issue("ut" + size, cn="payload.bin")
        set_ssl(ut, h, cert, key, pki.dh)
        wait_until(lambda: ut.torrent(h)["state"] not in ("checkingResumeData", "checkingDL"), 30, "checked",
                   procs=[ut])
        r0 = io_syscr(ut.daemon_pid)
        ut.add_peers(h, ["%s:%d" % (MINI_IP, seeder.ssl_port)])
        ut.wait_complete(h, 90)
        reads[size] = io_syscr(ut.daemon_pid) - r0
        ut.stop()
    assert reads["4096"] >= SIZE // 4096, reads
    assert reads["4096"] > 2 * reads["102400"], reads
