"""Message stream encryption (MSE/PE) and the `encryption` preference.

Interop with python3-libtorrent 2.0 (out/in_enc_policy = pe_forced,
allowed_enc_level = pe_rc4: it accepts nothing but RC4 connections) in both
roles, and with transmission-daemon 3.00 ("encryption": 2 = required);
Transmission never dials 127/8 peers, so torrentd is the side that dials it
whichever way the data goes.  The whole data set arrives byte-identical, and
the peer lists show qBittorrent's E flag (e for an encrypted handshake with a
plaintext stream).  Then the policy: 1 (require) refuses plaintext both
ways, 2 (disable) refuses MSE and dials plaintext, 0 (prefer) dials MSE and
falls back to plaintext for a peer that hangs up on it.
"""
import hashlib
import os
import socket
import time

import pytest

from conftest import LEECH_IP, MINI_IP, SEED_IP
from tdlib import (MiniSeeder, TdError, Torrentd, Transmission, assert_same_data, bencode, free_port,
                   wait_complete, wait_until)

lt = pytest.importorskip("libtorrent")

TIMEOUT = 240
PLAIN_HS = b"\x13BitTorrent protocol"


class LtPeer:
    """python3-libtorrent in this process, with an encryption policy."""
    name = "libtorrent"

    def __init__(self, ip, policy=lt.enc_policy.pe_forced, level=lt.enc_level.pe_rc4):
        self.ip = ip
        self.port = free_port()
        self.ses = lt.session({
            "listen_interfaces": "%s:%d" % (ip, self.port), "outgoing_interfaces": ip,
            "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
            "enable_incoming_utp": False, "enable_outgoing_utp": False,
            "out_enc_policy": int(policy), "in_enc_policy": int(policy),
            "allowed_enc_level": int(level), "prefer_rc4": True,
        })
        self.th = None

    @property
    def peer_addr(self):
        return "%s:%d" % (self.ip, self.port)

    def add(self, tbytes, save):
        p = lt.add_torrent_params()
        p.ti = lt.torrent_info(lt.bdecode(tbytes))
        p.save_path = save
        self.th = self.ses.add_torrent(p)

    def connect(self, addr):
        ip, port = addr.rsplit(":", 1)
        self.th.connect_peer((ip, int(port)))

    # the wait_complete interface
    def is_complete(self, h):
        return self.th.status().is_seeding

    def progress(self, h):
        return self.th.status().progress

    def check_alive(self):
        pass

    def flags(self):
        out = set()
        for pi in self.th.get_peer_info():
            if pi.flags & (lt.peer_info.connecting | lt.peer_info.handshake):
                continue   # not yet through its handshake: no encryption to show
            if pi.flags & lt.peer_info.rc4_encrypted:
                out.add("E")
            if pi.flags & lt.peer_info.plaintext_encrypted:
                out.add("e")
            if not pi.flags & (lt.peer_info.rc4_encrypted | lt.peer_info.plaintext_encrypted):
                out.add("plain")
        return out

    def close(self):
        ses, self.ses = self.ses, None
        if ses is not None:
            ses.pause()
            del ses


def _lt(procs, ip, **kw):
    p = LtPeer(ip, **kw)
    procs.on_close(p.close)
    return p


def td_flags(td, h):
    """Flags of torrentd's connected peers of h (sync/torrentPeers, full update)."""
    d = td.get("/api/v2/sync/torrentPeers", hash=h, rid=0).json()
    out = set()
    for p in (d.get("peers") or {}).values():
        fl = p.get("flags", "").split()
        out |= set(fl)
        if "E" not in fl and "e" not in fl:
            out.add("plain")
    return out


class Watch:
    """Samples flag sets while a transfer runs (connections go away when
    both sides are seeds)."""

    def __init__(self, *samplers):
        self.samplers = samplers
        self.seen = [set() for _ in samplers]

    def __call__(self):
        for i, s in enumerate(self.samplers):
            try:
                self.seen[i] |= s()
            except Exception:   # a poll during shutdown of a peer: the next one counts
                pass


def transfer(leecher, h, procs, watch, nudge, timeout=TIMEOUT):
    """wait_complete with the flags sampled on every poll."""
    def nd():
        watch()
        nudge()
    orig = leecher.progress

    def progress(hh):
        watch()
        return orig(hh)
    leecher.progress = progress
    try:
        return wait_complete(leecher, h, timeout, procs=procs, nudge=nd, nudge_every=3.0)
    finally:
        leecher.progress = orig


def start_td(procs, workdir, name, ip, encryption):
    td = procs.add(Torrentd(os.path.join(workdir, name), ip, name=name)).start()
    td.set_prefs({"encryption": encryption})
    assert td.prefs()["encryption"] == encryption
    return td


# ---- interop: libtorrent ----

def test_libtorrent_leeches_from_torrentd_rc4(dataset, tracker, procs, workdir):
    """libtorrent dials (MSE initiator), torrentd answers (responder) and
    finds the torrent by HASH('req2', info-hash)."""
    tr = tracker([dataset.infohash])
    h, tbytes = dataset.infohash, dataset.torrent(tr)
    td = start_td(procs, workdir, "td", SEED_IP, 1)
    td.add(tbytes, dataset.seed_root, skip_checking=True)
    td.wait_seeding(h, 60)
    peer = _lt(procs, LEECH_IP)
    save = os.path.join(workdir, "leech")
    peer.add(tbytes, save)
    watch = Watch(lambda: td_flags(td, h), peer.flags)
    transfer(peer, h, [td], watch, lambda: peer.connect(td.peer_addr))
    assert_same_data(tbytes, dataset.seed_root, save)
    assert "E" in watch.seen[0], watch.seen
    assert "plain" not in watch.seen[0] and "e" not in watch.seen[0], watch.seen
    assert watch.seen[1] == {"E"}, watch.seen


def test_torrentd_leeches_from_libtorrent_rc4(dataset, tracker, procs, workdir):
    """torrentd dials (initiator, IA = its BitTorrent handshake)."""
    tr = tracker([dataset.infohash])
    h, tbytes = dataset.infohash, dataset.torrent(tr)
    peer = _lt(procs, SEED_IP)
    peer.add(tbytes, dataset.seed_root)
    wait_until(lambda: peer.is_complete(h), 120, "libtorrent to check and seed")
    td = start_td(procs, workdir, "td", LEECH_IP, 1)
    save = os.path.join(workdir, "leech")
    td.add(tbytes, save)
    watch = Watch(lambda: td_flags(td, h), peer.flags)
    transfer(td, h, [td], watch, lambda: td.add_peers(h, [peer.peer_addr]))
    assert_same_data(tbytes, dataset.seed_root, save)
    assert "E" in watch.seen[0] and "plain" not in watch.seen[0], watch.seen
    assert watch.seen[1] == {"E"}, watch.seen


def test_encrypted_handshake_plaintext_stream(dataset, tracker, procs, workdir):
    """libtorrent offering only plaintext inside MSE (pe_plaintext): torrentd
    under `prefer` selects it, and lists the peer with `e`."""
    tr = tracker([dataset.infohash])
    h, tbytes = dataset.infohash, dataset.torrent(tr)
    td = start_td(procs, workdir, "td", SEED_IP, 0)
    td.add(tbytes, dataset.seed_root, skip_checking=True)
    td.wait_seeding(h, 60)
    peer = _lt(procs, LEECH_IP, level=lt.enc_level.pe_plaintext)
    save = os.path.join(workdir, "leech")
    peer.add(tbytes, save)
    watch = Watch(lambda: td_flags(td, h), peer.flags)
    transfer(peer, h, [td], watch, lambda: peer.connect(td.peer_addr))
    assert_same_data(tbytes, dataset.seed_root, save)
    assert "e" in watch.seen[0] and "E" not in watch.seen[0], watch.seen
    assert watch.seen[1] == {"e"}, watch.seen


# ---- interop: transmission ----

def test_torrentd_leeches_from_transmission_required(dataset, tracker, procs, workdir):
    tr = tracker([dataset.infohash])
    h, tbytes = dataset.infohash, dataset.torrent(tr)
    seeder = procs.add(Transmission(os.path.join(workdir, "tr"), SEED_IP, settings={"encryption": 2})).start()
    seeder.add(tbytes, dataset.seed_root)
    seeder.wait_seeding(h, 120)
    td = start_td(procs, workdir, "td", LEECH_IP, 1)
    save = os.path.join(workdir, "leech")
    td.add(tbytes, save)
    watch = Watch(lambda: td_flags(td, h))
    transfer(td, h, [seeder], watch, lambda: td.add_peers(h, [seeder.peer_addr]))
    assert_same_data(tbytes, dataset.seed_root, save)
    assert "E" in watch.seen[0] and "plain" not in watch.seen[0], watch.seen


def test_transmission_leeches_from_torrentd_required(dataset, tracker, procs, workdir):
    tr = tracker([dataset.infohash])
    h, tbytes = dataset.infohash, dataset.torrent(tr)
    td = start_td(procs, workdir, "td", SEED_IP, 1)
    td.add(tbytes, dataset.seed_root, skip_checking=True)
    td.wait_seeding(h, 60)
    leecher = procs.add(Transmission(os.path.join(workdir, "tr"), LEECH_IP, settings={"encryption": 2})).start()
    save = os.path.join(workdir, "leech")
    os.makedirs(save)
    leecher.add(tbytes, save)
    wait_until(lambda: leecher.is_downloading(h), 60, "transmission to start downloading", procs=[leecher])
    watch = Watch(lambda: td_flags(td, h))
    transfer(leecher, h, [td], watch, lambda: td.add_peers(h, [leecher.peer_addr]))
    assert_same_data(tbytes, dataset.seed_root, save)
    assert "E" in watch.seen[0] and "plain" not in watch.seen[0], watch.seen


# ---- the policy, with raw sockets ----

def _recv_some(sock, n, timeout=15):
    """Up to n bytes, or b'' once the peer closed (bounded by timeout)."""
    sock.settimeout(timeout)
    got = b""
    try:
        while len(got) < n:
            x = sock.recv(n - len(got))
            if not x:
                break
            got += x
    except socket.timeout:
        raise TdError("no answer and no close within %ds" % timeout)
    return got


def _dial(td, src_ip):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src_ip, 0))
    s.connect((td.bind_ip, td.listen_port))
    return s


@pytest.fixture
def seeding_td(dataset, procs, workdir):
    """A torrentd seeding the data set (no tracker needed: peers dial it)."""
    td = procs.add(Torrentd(os.path.join(workdir, "td"), SEED_IP)).start()
    td.add(dataset.tbytes, dataset.seed_root, skip_checking=True)
    td.wait_seeding(dataset.infohash, 60)
    return td


def test_incoming_policy(seeding_td, dataset):
    """A plaintext handshake is answered under 0 and 2 and refused under 1;
    an MSE key (96 bytes: Ya) is answered with Yb under 0 and 1 and refused
    under 2.  The setting acts on the next connection (live)."""
    td, ih = seeding_td, bytes.fromhex(dataset.infohash)
    plain = PLAIN_HS + bytes(8) + ih + b"-PY0001-000000000000"
    ya = b"\x7f" + os.urandom(95)
    for enc, plain_ok, mse_ok in ((0, True, True), (1, False, True), (2, True, False), (0, True, True)):
        td.set_prefs({"encryption": enc})
        s = _dial(td, LEECH_IP)
        s.sendall(plain)
        got = _recv_some(s, 68)
        s.close()
        assert (got[:20] == PLAIN_HS and got[28:48] == ih) == plain_ok, (enc, got[:20])
        if not plain_ok:
            assert got == b"", (enc, got[:20])
        s = _dial(td, LEECH_IP)
        s.sendall(ya)
        got = _recv_some(s, 96)
        s.close()
        assert (len(got) == 96) == mse_ok, (enc, len(got))


class FirstBytes:
    """A listener that records each connection's first 20 bytes and closes
    it: a peer that speaks neither MSE nor (for our purpose) BitTorrent."""

    def __init__(self, ip):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((ip, 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.addr = "%s:%d" % self.sock.getsockname()
        self.firsts = []

    def poll(self):
        try:
            c, _ = self.sock.accept()
        except socket.timeout:
            return
        self.firsts.append(_recv_some(c, 20))
        c.close()

    def close(self):
        self.sock.close()


def test_outgoing_require_never_plaintext(dataset, workdir, procs):
    """Under require every dial opens with an MSE key, even after the peer
    hung up on one; under disable it opens with the BitTorrent handshake."""
    td = procs.add(Torrentd(os.path.join(workdir, "td2"), LEECH_IP, name="td2")).start()
    td.set_prefs({"encryption": 1})
    h = dataset.infohash
    td.add(dataset.tbytes, os.path.join(workdir, "leech"))
    fb = FirstBytes(MINI_IP)
    procs.on_close(fb.close)

    def attempts(n):
        last = [0.0]

        def done():
            if time.monotonic() - last[0] > 1.0:   # connect_now: a dial at once, not after the back-off
                td.add_peers(h, [fb.addr])
                last[0] = time.monotonic()
            fb.poll()
            return len(fb.firsts) >= n
        return done
    wait_until(attempts(1), 30, "the first dial")
    wait_until(attempts(2), 30, "the second dial")
    assert all(len(f) == 20 and f != PLAIN_HS for f in fb.firsts), fb.firsts
    td.set_prefs({"encryption": 2})
    td.add_peers(h, [fb.addr])
    wait_until(attempts(3), 30, "a dial under disable")
    assert fb.firsts[-1] == PLAIN_HS, fb.firsts


def test_prefer_falls_back_to_plaintext(workdir, procs):
    """Under prefer a peer that hangs up on the MSE key (tdlib's MiniSeeder
    speaks plaintext only) is dialled again in plaintext at once, not after
    the back-off of a failed peer (35 s), and the download completes."""
    pl = 256 * 1024
    payload = os.urandom(4 * 1024 * 1024 + 12345)
    pieces = b"".join(hashlib.sha1(payload[i:i + pl]).digest() for i in range(0, len(payload), pl))
    info = {b"name": b"mse-fallback.bin", b"length": len(payload), b"piece length": pl, b"pieces": pieces}
    tbytes = bencode({b"info": info})
    h = hashlib.sha1(bencode(info)).hexdigest()
    mini = MiniSeeder(MINI_IP, h, payload, pl)
    procs.on_close(mini.close)
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    assert td.prefs()["encryption"] == 0
    save = os.path.join(workdir, "leech")
    td.add(tbytes, save)
    td.add_peers(h, [mini.addr])
    wait_until(lambda: mini.refused >= 1, 30, "an MSE dial the plaintext seeder refuses")
    wait_until(lambda: mini.served > 0, 20, "the plaintext retry", procs=[td])
    td.wait_complete(h, TIMEOUT)
    assert mini.refused == 1, "a second MSE attempt: the address was not remembered"
    assert not mini.errors, mini.errors
    with open(os.path.join(save, "mse-fallback.bin"), "rb") as f:
        assert f.read() == payload


def test_require_closes_plaintext_peers_live(seeding_td, dataset):
    """Switching to require closes the plaintext connections already up
    (SG_ENCRYPTION), not only the next ones."""
    td, ih = seeding_td, bytes.fromhex(dataset.infohash)
    td.set_prefs({"encryption": 0})
    s = _dial(td, LEECH_IP)
    s.sendall(PLAIN_HS + bytes(8) + ih + b"-PY0001-000000000000")
    got = _recv_some(s, 68)
    assert got[:20] == PLAIN_HS, got[:20]
    wait_until(lambda: "plain" in td_flags(td, dataset.infohash), 10, "the plaintext peer in the list")
    td.set_prefs({"encryption": 1})

    def closed():
        s.settimeout(0.2)
        try:
            while True:
                x = s.recv(65536)
                if not x:
                    return True
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True
    wait_until(closed, 15, "the plaintext connection to be closed")
    s.close()
    assert "plain" not in td_flags(td, dataset.infohash)
