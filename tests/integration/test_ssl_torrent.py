"""SSL torrents (libtorrent's; qBittorrent 5.x torrents/setSSLParameters).

A torrent whose info dict carries `ssl-cert` (a root CA) is only ever spoken
over TLS on the SSL listen port: SNI = the info-hash in hex, both sides show a
certificate issued by that root for the torrent's name or "*". The other side
is python3-libtorrent (2.0), the reference implementation. Certificates are
made with the openssl command line in the test's directory.
"""
import os
import socket
import subprocess
import time

import pytest

import tdlib
from conftest import LEECH_IP, MINI_IP, SEED_IP
from tdlib import Torrentd, free_port, loip, wait_until

lt = pytest.importorskip("libtorrent")

PIECE = 256 * 1024
SIZE = 6 * tdlib.MiB + 12345


# --------------------------------------------------------------------------
# certificates (openssl CLI)
# --------------------------------------------------------------------------

def _openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, timeout=120,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Pki:
    """One root CA; peer identities issued by it; shared DH parameters."""

    def __init__(self, root, name):
        self.dir = os.path.join(root, name)
        os.makedirs(self.dir)
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=%s root" % name,
                 "-keyout", "ca.key", "-out", "ca.pem", cwd=self.dir)
        _openssl("genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048", "-out", "dh.pem",
                 cwd=self.dir)
        self.ca_pem = self.read("ca.pem")
        self.dh = os.path.join(self.dir, "dh.pem")

    def read(self, name):
        with open(os.path.join(self.dir, name)) as f:
            return f.read()

    def issue(self, who, cn="*"):
        """(cert path, key path) of a peer certificate for `cn`."""
        _openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=%s" % cn,
                 "-keyout", who + ".key", "-out", who + ".csr", cwd=self.dir)
        _openssl("x509", "-req", "-in", who + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                 "-days", "2", "-out", who + ".pem", cwd=self.dir)
        return os.path.join(self.dir, who + ".pem"), os.path.join(self.dir, who + ".key")


def _read(path):
    with open(path) as f:
        return f.read()


def set_ssl(td, h, cert, key, dh):
    td.post("/api/v2/torrents/setSSLParameters", hash=h, ssl_certificate=_read(cert),
            ssl_private_key=_read(key), ssl_dh_params=_read(dh))


def make_ssl_torrent(root, ca_pem, name="payload.bin"):
    """A v1 SSL torrent of one random file: (torrent bytes, info-hash, seed dir)."""
    seed = os.path.join(root, "seed")
    tdlib.write_random(os.path.join(seed, name), SIZE)
    fs = lt.file_storage()
    lt.add_files(fs, os.path.join(seed, name))
    ct = lt.create_torrent(fs, PIECE, flags=lt.create_torrent.v1_only)
    ct.set_root_cert(ca_pem)
    lt.set_piece_hashes(ct, seed)
    tbytes = lt.bencode(ct.generate())
    assert b"ssl-cert" in tdlib.bdecode(tbytes)[b"info"]
    return tbytes, tdlib.infohash(tbytes), seed


# --------------------------------------------------------------------------
# python3-libtorrent with an SSL listener
# --------------------------------------------------------------------------

class LtPeer:
    def __init__(self, ip):
        self.ip = ip
        self.port, self.ssl_port = free_port(), free_port()
        self.ses = lt.session({
            "listen_interfaces": "%s:%d,%s:%ds" % (ip, self.port, ip, self.ssl_port),
            "outgoing_interfaces": ip,
            "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
            "enable_incoming_utp": False, "enable_outgoing_utp": False,
            "allow_multiple_connections_per_ip": True,
        })
        self.th = None

    def add(self, tbytes, save, cert, key, dh, seed_mode=False):
        p = lt.add_torrent_params()
        p.ti = lt.torrent_info(lt.bdecode(tbytes))
        p.save_path = save
        if seed_mode:
            p.flags |= lt.torrent_flags.seed_mode
        self.th = self.ses.add_torrent(p)
        if cert:
            self.th.set_ssl_certificate(cert, key, dh)
        return self.th

    def connect(self, ip, port):
        self.th.connect_peer((ip, port))

    def status(self):
        return self.th.status()

    def close(self):
        ses, self.ses = self.ses, None
        if ses is not None:
            ses.pause()
            del ses


@pytest.fixture
def pki(workdir):
    return Pki(workdir, "ca1")


def _start_td(procs, workdir, name, ip, ssl_port):
    td = procs.add(Torrentd(os.path.join(workdir, name), ip, name=name)).start()
    td.set_prefs({"ssl_enabled": True, "ssl_listen_port": ssl_port})
    return td


def _log(td):
    return "\n".join(e["message"] for e in td.get("/api/v2/log/main").json())


def _lt(procs, ip):
    p = LtPeer(ip)
    procs.on_close(p.close)
    return p


def _wait_lt_complete(peer, procs, timeout=60):
    wait_until(lambda: peer.status().is_seeding, timeout, "libtorrent to complete", procs=procs)


# --------------------------------------------------------------------------
# tests
# --------------------------------------------------------------------------

def test_torrentd_seeds_libtorrent_leeches_and_restart(pki, workdir, procs):
    """torrentd seeds over TLS; the parameters survive a restart and still work."""
    tbytes, h, seed = make_ssl_torrent(workdir, pki.ca_pem)
    ssl_port = free_port()
    td = _start_td(procs, workdir, "td", SEED_IP, ssl_port)
    assert td.prefs()["ssl_enabled"] is True and td.prefs()["ssl_listen_port"] == ssl_port
    td.add(tbytes, seed)
    td.wait_seeding(h, 30)
    cert, key = pki.issue("td")
    set_ssl(td, h, cert, key, pki.dh)
    assert "listening for SSL peers on %s port %d" % (SEED_IP, ssl_port) in _log(td)

    for round_ in ("first", "after restart"):
        lcert, lkey = pki.issue("lt-" + round_.replace(" ", "-"))
        peer = _lt(procs, LEECH_IP)
        save = os.path.join(workdir, "lt-" + round_.replace(" ", "-"))
        peer.add(tbytes, save, lcert, lkey, pki.dh)
        peer.connect(SEED_IP, ssl_port)
        _wait_lt_complete(peer, [td])
        tdlib.assert_same_data(tbytes, seed, save)
        peer.close()
        if round_ == "first":
            td.stop()
            td.start()
            td.wait_seeding(h, 30)
            got = td.get("/api/v2/torrents/SSLParameters", hash=h).json()
            assert got["ssl_certificate"].strip() and got["ssl_private_key"].strip()
            # the listener came back by itself (ssl_enabled is persisted)
            assert td.prefs()["ssl_enabled"] is True


def test_libtorrent_seeds_torrentd_leeches(pki, workdir, procs):
    tbytes, h, seed = make_ssl_torrent(workdir, pki.ca_pem)
    seeder = _lt(procs, MINI_IP)
    scert, skey = pki.issue("seeder")
    seeder.add(tbytes, seed, scert, skey, pki.dh, seed_mode=True)
    # outgoing TLS needs no listener of our own: SSL stays off here
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    assert td.prefs()["ssl_enabled"] is False
    td.add(tbytes, td.save_path)
    cert, key = pki.issue("td", cn="payload.bin")   # issued for the torrent's name
    set_ssl(td, h, cert, key, pki.dh)
    td.add_peers(h, ["%s:%d" % (MINI_IP, seeder.ssl_port)])
    td.wait_complete(h, 60)
    tdlib.assert_same_data(tbytes, seed, td.save_path)
    # all of it came from libtorrent, which speaks TLS only for this torrent
    assert seeder.status().total_payload_upload >= SIZE


def test_certificate_from_another_ca_is_refused(pki, workdir, procs):
    tbytes, h, seed = make_ssl_torrent(workdir, pki.ca_pem)
    other = Pki(workdir, "ca2")
    ssl_port = free_port()
    td = _start_td(procs, workdir, "td", SEED_IP, ssl_port)
    td.add(tbytes, seed)
    td.wait_seeding(h, 30)
    cert, key = pki.issue("td")
    set_ssl(td, h, cert, key, pki.dh)

    # a leecher whose certificate another CA issued: torrentd refuses it
    bad = _lt(procs, LEECH_IP)
    bcert, bkey = other.issue("intruder")
    bad.add(tbytes, os.path.join(workdir, "bad"), bcert, bkey, other.dh)
    bad.connect(SEED_IP, ssl_port)
    wait_until(lambda: "SSL peer %s" % LEECH_IP in _log(td) and "refused" in _log(td), 20,
               "torrentd to log the refused certificate", procs=[td])
    time.sleep(3)
    st = bad.status()
    assert st.total_payload_download == 0 and st.num_peers == 0 and st.progress == 0
    assert "certificate" in _log(td)

    # a certificate from the right CA but for another torrent name: refused too
    wrong = _lt(procs, loip(6))
    wcert, wkey = pki.issue("wrong-name", cn="some other torrent")
    wrong.add(tbytes, os.path.join(workdir, "wrong"), wcert, wkey, pki.dh)
    wrong.connect(SEED_IP, ssl_port)
    wait_until(lambda: "not issued for" in _log(td), 20, "torrentd to refuse the wrong name", procs=[td])
    assert wrong.status().total_payload_download == 0

    # and torrentd connecting out with a foreign certificate gets nothing from libtorrent
    seeder = _lt(procs, MINI_IP)
    scert, skey = pki.issue("seeder")
    seeder.add(tbytes, seed, scert, skey, pki.dh, seed_mode=True)
    td2 = procs.add(Torrentd(os.path.join(workdir, "td2"), LEECH_IP, name="td2")).start()
    td2.add(tbytes, td2.save_path)
    set_ssl(td2, h, bcert, bkey, other.dh)
    td2.add_peers(h, ["%s:%d" % (MINI_IP, seeder.ssl_port)])
    wait_until(lambda: "SSL peer %s:%d refused" % (MINI_IP, seeder.ssl_port) in _log(td2), 20,
               "td2 to log the failed handshake", procs=[td2])
    assert td2.torrent(h)["downloaded"] == 0 and td2.progress(h) == 0


def _plain_handshake(ip, port, h):
    """Speaks plain BitTorrent to ip:port for info-hash h; True if answered."""
    s = socket.create_connection((ip, port), timeout=5)
    try:
        s.sendall(b"\x13BitTorrent protocol" + b"\0" * 8 + bytes.fromhex(h) + b"-XX0000-" + os.urandom(12))
        s.settimeout(5)
        try:
            return len(s.recv(68)) > 0
        except (socket.timeout, ConnectionResetError):
            return False
    finally:
        s.close()


def test_ssl_torrent_without_parameters_connects_to_nobody(pki, workdir, procs):
    tbytes, h, seed = make_ssl_torrent(workdir, pki.ca_pem)
    seeder = _lt(procs, MINI_IP)
    scert, skey = pki.issue("seeder")
    seeder.add(tbytes, seed, scert, skey, pki.dh, seed_mode=True)
    ssl_port = free_port()
    td = _start_td(procs, workdir, "td", LEECH_IP, ssl_port)
    td.add(tbytes, td.save_path)
    wait_until(lambda: td.torrent(h) is not None, 10, "the torrent", procs=[td])
    assert td.get("/api/v2/torrents/SSLParameters", hash=h).json()["ssl_certificate"] == ""
    assert "no certificate set" in _log(td)
    td.add_peers(h, ["%s:%d" % (MINI_IP, seeder.ssl_port), "%s:%d" % (MINI_IP, seeder.port)])
    # libtorrent dialling in over TLS is turned away at the SNI stage
    seeder.connect(LEECH_IP, ssl_port)
    wait_until(lambda: "no SSL torrent %s with a certificate" % h in _log(td), 20,
               "torrentd to refuse the TLS peer", procs=[td])
    # a plain BitTorrent handshake for the SSL torrent gets no answer
    assert not _plain_handshake(LEECH_IP, td.listen_port, h)
    time.sleep(3)
    t = td.torrent(h)
    assert t["num_seeds"] == 0 and t["num_leechs"] == 0 and t["downloaded"] == 0
    assert td.get("/api/v2/sync/torrentPeers", hash=h).json()["peers"] == {}
    assert seeder.status().num_peers == 0


def test_ssl_listener_follows_preferences(workdir, procs):
    td = procs.add(Torrentd(os.path.join(workdir, "td"), SEED_IP)).start()

    def accepts(port):
        try:
            socket.create_connection((SEED_IP, port), timeout=2).close()
            return True
        except OSError:
            return False
    port = free_port()
    assert not accepts(port)
    td.set_prefs({"ssl_enabled": True, "ssl_listen_port": port})
    assert accepts(port)
    port2 = free_port()
    td.set_prefs({"ssl_listen_port": port2})
    wait_until(lambda: accepts(port2) and not accepts(port), 10, "the listener to move", procs=[td])
    td.set_prefs({"ssl_enabled": False})
    wait_until(lambda: not accepts(port2), 10, "the listener to close", procs=[td])
    # 0: the system picks a port; the preference keeps saying 0, as qBittorrent's does
    td.set_prefs({"ssl_enabled": True, "ssl_listen_port": 0})
    assert td.prefs()["ssl_listen_port"] == 0
    line = [m for m in _log(td).splitlines() if "listening for SSL peers" in m][-1]
    picked = int(line.rsplit(" ", 1)[1])
    assert picked > 0 and accepts(picked)


def test_add_with_ssl_parameters(pki, workdir, procs):
    """torrents/add's ssl_* (5.x) give the torrent its identity at once;
    invalid ones are ignored as qBittorrent ignores them."""
    tbytes, h, seed = make_ssl_torrent(workdir, pki.ca_pem)
    ssl_port = free_port()
    td = _start_td(procs, workdir, "td", SEED_IP, ssl_port)
    cert, key = pki.issue("td")
    td.add(tbytes, seed, ssl_certificate=_read(cert), ssl_private_key=_read(key), ssl_dh_params=_read(pki.dh))
    td.wait_seeding(h, 30)
    got = td.get("/api/v2/torrents/SSLParameters", hash=h).json()
    assert "BEGIN CERTIFICATE" in got["ssl_certificate"] and got["ssl_dh_params"] == _read(pki.dh)
    peer = _lt(procs, LEECH_IP)
    lcert, lkey = pki.issue("lt")
    save = os.path.join(workdir, "lt")
    peer.add(tbytes, save, lcert, lkey, pki.dh)
    peer.connect(SEED_IP, ssl_port)
    _wait_lt_complete(peer, [td])
    tdlib.assert_same_data(tbytes, seed, save)

    # not valid: the torrent is added all the same, without parameters
    other, h2, _ = make_ssl_torrent(os.path.join(workdir, "second"), pki.ca_pem)
    td.add(other, td.save_path, ssl_certificate="nonsense", ssl_private_key=_read(key), ssl_dh_params="x")
    wait_until(lambda: td.torrent(h2) is not None, 10, "the second torrent", procs=[td])
    assert td.get("/api/v2/torrents/SSLParameters", hash=h2).json()["ssl_certificate"] == ""
