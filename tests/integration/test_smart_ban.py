"""A peer that sends corrupt data is banned; the honest seeder is not.

The liar is tdlib's MiniSeeder (the wire protocol in Python: handshake, full
bitfield, unchoke, answers every request) serving a corrupted copy of the
payload, so every block it sends is wrong. Next to it a torrentd seeder
serves the real data. The torrentd leecher is told about both at once. With
smart-ban (core/smartban.h) the leecher must

  * complete the download byte-identical;
  * ban the liar: an entry in log/peers (blocked=false, as qBittorrent logs
    libtorrent's peer_ban_alert), its reconnect refused (and logged with
    blocked=true), torrents/addPeers no longer dialling it;
  * never ban the honest seeder;
  * count the failed pieces in total_wasted.

Before smart-ban, every contributor of a failed piece got a strike: the
honest seeder, which completed the liar's half-done pieces, was struck out
and never dialled again, and the liar was only disconnected.
"""
import os
import socket

from conftest import LEECH_IP, MINI_IP, SEED_IP
from tdlib import MiniSeeder, Torrentd, make_torrent, piece_hashes, wait_complete, wait_until

PL = 256 * 1024
SIZE = 16 * PL + 12345


def _peer_log(c, ip):
    return [e for e in c.get("/api/v2/log/peers").json() if e["ip"] == ip]


def _refused(leecher, ih):
    """Dial the leecher from the liar's address as a returning peer would;
    True if it is closed without a handshake reply."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(10)
    try:
        s.bind((MINI_IP, 0))
        s.connect((leecher.bind_ip, leecher.listen_port))
        s.sendall(b"\x13BitTorrent protocol" + bytes(8) + ih + b"-PY0001-" + b"x" * 12)
        got = b""
        while len(got) < 68:
            x = s.recv(68 - len(got))
            if not x:
                return True
            got += x
        return False
    except ConnectionResetError:
        return True
    finally:
        s.close()


def test_corrupt_peer_banned_honest_seeder_kept(workdir, procs):
    payload = os.urandom(SIZE)
    info = {"name": "smart.bin", "piece length": PL, "length": SIZE, "pieces": piece_hashes(payload, PL)}
    tbytes, h = make_torrent(info)
    data = os.path.join(workdir, "seed-data")
    os.makedirs(data)
    with open(os.path.join(data, "smart.bin"), "wb") as f:
        f.write(payload)

    seeder = procs.add(Torrentd(os.path.join(workdir, "seed"), SEED_IP, name="seed")).start()
    # slow enough that the liar gets its share of the requests
    seeder.set_prefs({"up_limit": 1 << 20})
    seeder.add(tbytes, data, skip_checking=True)
    seeder.wait_seeding(h, 30)

    corrupt = bytes(b ^ 0x5A for b in payload)
    liar = MiniSeeder(MINI_IP, h, corrupt, PL)
    procs.on_close(liar.close)

    leecher = procs.add(Torrentd(os.path.join(workdir, "leech"), LEECH_IP, name="leech")).start()
    leecher.add(tbytes, leecher.save_path)
    wait_until(lambda: leecher.torrent(h), 10, "torrent added")
    leecher.add_peers(h, [liar.addr, seeder.peer_addr])

    wait_complete(leecher, h, 120, procs=[seeder], nudge=lambda: leecher.add_peers(h, [seeder.peer_addr]))
    with open(os.path.join(leecher.save_path, "smart.bin"), "rb") as f:
        assert f.read() == payload
    assert liar.served > 0, "the liar was never asked for data: the test proves nothing"

    bans = wait_until(lambda: [e for e in _peer_log(leecher, MINI_IP) if e["blocked"] is False], 10,
                      "the liar banned in log/peers", procs=[leecher, seeder])
    assert len(bans) == 1, bans
    assert _peer_log(leecher, SEED_IP) == [], "the honest seeder was banned"
    assert any("%s sent corrupt data" % MINI_IP in e["message"] for e in leecher.get("/api/v2/log/main").json())

    props = leecher.get("/api/v2/torrents/properties", hash=h).json()
    assert props["total_wasted"] >= PL, props

    # the liar comes back: refused, and logged as a blocked connection
    assert _refused(leecher, bytes.fromhex(h)), "a banned peer's reconnect was accepted"
    wait_until(lambda: any(e["blocked"] is True for e in _peer_log(leecher, MINI_IP)), 10,
               "the refused reconnect in log/peers")

    # addPeers does not dial it again. A probe listener named after it in the
    # same call shows when the dials have gone out.
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(("127.0.0.7", 0))
    probe.listen(4)
    probe.settimeout(15)
    procs.on_close(probe.close)
    dialled = len(liar.conns)
    leecher.add_peers(h, [liar.addr, "127.0.0.7:%d" % probe.getsockname()[1]])
    c, _ = probe.accept()
    c.settimeout(10)
    hs = b""
    while len(hs) < 68:
        x = c.recv(68 - len(hs))
        if not x:
            break
        hs += x
    c.close()
    # A dial's first 68 bytes: the BitTorrent handshake, or under the
    # default encryption (0, prefer) the MSE key that comes first (96+ bytes).
    assert len(hs) == 68, hs
    assert len(liar.conns) == dialled, "addPeers dialled the banned peer again"

