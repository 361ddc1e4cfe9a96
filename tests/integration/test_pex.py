"""PEX (BEP11): a leecher that was told about one peer only learns the
others from it and connects to them."""
import os

from conftest import LEECH2_IP, LEECH_IP, SEED_IP
from tdlib import Torrentd, assert_same_data, wait_complete, wait_until


def _peer_ips(client, h):
    peers = client.get("/api/v2/sync/torrentPeers", hash=h).json()["peers"]
    return {p["ip"] for p in peers.values()}


def test_pex_introduces_peers(dataset, workdir, procs):
    h, tbytes = dataset.infohash, dataset.tbytes
    seeder = procs.add(Torrentd(os.path.join(workdir, "seed"), SEED_IP)).start()
    a = procs.add(Torrentd(os.path.join(workdir, "a"), LEECH_IP)).start()
    b = procs.add(Torrentd(os.path.join(workdir, "b"), LEECH2_IP)).start()
    for c in (seeder, a, b):
        c.set_prefs({"pex": True})
    # slow the seeder so everyone is still connected when PEX has spoken
    seeder.set_prefs({"up_limit": 4 << 20})
    seeder.add(tbytes, dataset.seed_root, skip_checking=True)
    seeder.wait_seeding(h, 60)
    a.add(tbytes, a.save_path)
    b.add(tbytes, b.save_path)
    a.add_peers(h, [seeder.peer_addr])      # a knows the seeder
    wait_until(lambda: SEED_IP in _peer_ips(a, h), 20, "a connected to the seeder")
    b.add_peers(h, [a.peer_addr])            # b knows only a
    wait_until(lambda: SEED_IP in _peer_ips(b, h), 30,
               "b learned the seeder through PEX", procs=[seeder, a, b])
    # shown as qBittorrent does: flag X on the peer, counted on the PeX row
    peers = b.get("/api/v2/sync/torrentPeers", hash=h).json()["peers"]
    via_pex = [p for p in peers.values() if p["ip"] == SEED_IP]
    assert via_pex and "X" in via_pex[0]["flags"].split(), via_pex
    rows = {r["url"]: r for r in b.get("/api/v2/torrents/trackers", hash=h).json()}
    assert rows["** [PeX] **"]["num_seeds"] + rows["** [PeX] **"]["num_leeches"] >= 1, rows
    for c in (a, b):
        wait_complete(c, h, 120, procs=[seeder, a, b])
        assert_same_data(tbytes, dataset.seed_root, c.save_path)


def test_no_pex_for_private_torrents(workdir, procs):
    """A private torrent never gossips peers: b (told only about a) never
    reaches the seeder."""
    import hashlib
    from tdlib import make_torrent
    payload = os.urandom(3 << 20)
    d = os.path.join(workdir, "data")
    os.makedirs(d)
    with open(os.path.join(d, "p.bin"), "wb") as f:
        f.write(payload)
    info = {"name": "p.bin", "length": len(payload), "piece length": 65536, "private": 1,
            "pieces": b"".join(hashlib.sha1(payload[k:k + 65536]).digest()
                               for k in range(0, len(payload), 65536))}
    tbytes, h = make_torrent(info)
    seeder = procs.add(Torrentd(os.path.join(workdir, "seed"), SEED_IP)).start()
    a = procs.add(Torrentd(os.path.join(workdir, "a"), LEECH_IP)).start()
    b = procs.add(Torrentd(os.path.join(workdir, "b"), LEECH2_IP)).start()
    for c in (seeder, a, b):
        c.set_prefs({"pex": True})
    seeder.set_prefs({"up_limit": 256 << 10})
    seeder.add(tbytes, d, skip_checking=True)
    a.add(tbytes, a.save_path)
    b.add(tbytes, b.save_path)
    a.add_peers(h, [seeder.peer_addr])
    wait_until(lambda: SEED_IP in _peer_ips(a, h), 20, "a connected to the seeder")
    b.add_peers(h, [a.peer_addr])
    wait_until(lambda: LEECH_IP in _peer_ips(b, h), 20, "b connected to a")
    import time
    time.sleep(5)
    assert SEED_IP not in _peer_ips(b, h)
