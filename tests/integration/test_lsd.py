"""Local Service Discovery (BEP14) on loopback: two torrentd bound to
127.0.0.2 and 127.0.0.3 find each other through the multicast group
239.192.152.143:6771 alone (no tracker, no peers, no DHT, no PEX).

lo has no multicast by default; inside the test's network namespace we turn
it on and route 239/8 to it. Both daemons listen on 0.0.0.0:6771
(SO_REUSEADDR), join the group on their own address and send from it
(IP_MULTICAST_IF), so the announce's source address is the peer address.
"""
import hashlib
import os
import subprocess

import pytest

from conftest import LEECH_IP, SEED_IP
from tdlib import MiB, Torrentd, assert_same_data, make_torrent, netns_isolated, wait_complete, wait_until

# UDP 0.0.0.0:6771 and the multicast group are one per network namespace, which
# all xdist workers share: every LSD test runs in the "lsd" group (one worker,
# one at a time), see conftest.py.
pytestmark = pytest.mark.xdist_group("lsd")


def _multicast_on_lo():
    """Only inside our private namespace (never touch the host's lo)."""
    if not netns_isolated() or os.environ.get("TD_IN_NETNS") != "1":
        pytest.skip("not inside scripts/netns-run.sh's network namespace")
    for cmd in (["ip", "link", "set", "lo", "multicast", "on"],
                ["ip", "route", "replace", "239.0.0.0/8", "dev", "lo"]):
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            pytest.skip("cannot enable multicast on lo (%s): %s" % (" ".join(cmd), r.stdout.decode().strip()))


def _torrent(root):
    payload = os.urandom(3 * MiB + 11)
    d = os.path.join(root, "lsd.bin")
    os.makedirs(root, exist_ok=True)
    with open(d, "wb") as f:
        f.write(payload)
    pl = 65536
    info = {"name": "lsd.bin", "length": len(payload), "piece length": pl,
            "pieces": b"".join(hashlib.sha1(payload[i:i + pl]).digest() for i in range(0, len(payload), pl))}
    return make_torrent(info)


def _peer_ips(client, h):
    peers = client.get("/api/v2/sync/torrentPeers", hash=h).json().get("peers", {})
    return {p["ip"] for p in peers.values()}


def test_lsd_finds_the_seeder(workdir, procs):
    _multicast_on_lo()
    data = os.path.join(workdir, "data")
    tbytes, h = _torrent(data)
    seeder = procs.add(Torrentd(os.path.join(workdir, "seed"), SEED_IP, name="seed")).start(10)
    leecher = procs.add(Torrentd(os.path.join(workdir, "leech"), LEECH_IP, name="leech")).start(10)
    for c in (seeder, leecher):
        c.set_prefs({"lsd": True})
        assert c.prefs()["lsd"] is True
    seeder.add(tbytes, data, skip_checking=True)
    seeder.wait_seeding(h, 10)
    # Unthrottled, 3 MiB over loopback take well under a second and the pair
    # then disconnects ("both seeding"): under load the peer list polled below
    # could miss the whole connection. Throttled, the leecher stays connected
    # (and incomplete) until the limit is lifted.
    leecher.post("/api/v2/transfer/setDownloadLimit", limit=str(16 * 1024))
    leecher.add(tbytes, leecher.save_path)
    wait_until(lambda: SEED_IP in _peer_ips(leecher, h), 15, "the leecher to meet the seeder through LSD",
               procs=[seeder, leecher])
    leecher.post("/api/v2/transfer/setDownloadLimit", limit="0")
    wait_complete(leecher, h, 10, procs=[seeder, leecher])
    assert_same_data(tbytes, data, leecher.save_path)


def test_no_lsd_for_private_torrents(workdir, procs):
    """Same setup, a private torrent: nobody announces it, nobody meets."""
    _multicast_on_lo()
    import time
    payload = os.urandom(MiB)
    data = os.path.join(workdir, "data")
    os.makedirs(data)
    with open(os.path.join(data, "p.bin"), "wb") as f:
        f.write(payload)
    info = {"name": "p.bin", "length": len(payload), "piece length": 65536, "private": 1,
            "pieces": b"".join(hashlib.sha1(payload[i:i + 65536]).digest() for i in range(0, len(payload), 65536))}
    tbytes, h = make_torrent(info)
    seeder = procs.add(Torrentd(os.path.join(workdir, "seed"), SEED_IP, name="seed")).start(10)
    leecher = procs.add(Torrentd(os.path.join(workdir, "leech"), LEECH_IP, name="leech")).start(10)
    for c in (seeder, leecher):
        c.set_prefs({"lsd": True})
    seeder.add(tbytes, data, skip_checking=True)
    seeder.wait_seeding(h, 10)
    leecher.add(tbytes, leecher.save_path)
    time.sleep(5)
    assert _peer_ips(leecher, h) == set() and _peer_ips(seeder, h) == set()
    assert leecher.progress(h) == 0
