"""Trackerless swarms over the DHT (BEP5), on loopback only.

Three torrentd instances (127.0.0.2/.3/.4) and a python3-libtorrent session
(127.0.0.5) form a DHT from one bootstrap node, the first torrentd; the others
learn it through setPreferences `dht_bootstrap_nodes`. A torrent without
trackers is seeded by one torrentd; another torrentd and libtorrent resolve
its magnet (no tr, no x.pe) through the DHT alone.

Then the same against the `bittorrent-dht` npm package (tests/integration/
node, run by dht_node.js on 127.0.0.6): it announces, torrentd finds it; a
torrentd seeder announces, it finds torrentd.
"""
import hashlib
import json
import os
import queue
import shutil
import socket
import subprocess
import threading
import time

import pytest

from conftest import LEECH2_IP, LEECH_IP, MINI_IP, SEED_IP
from tdlib import (HERE, MiB, Proc, Torrentd, assert_same_data, free_port, make_torrent,
                   wait_complete, wait_until)

NODE_IP = "127.0.0.6"
NODE_DIR = os.path.join(HERE, "node")
PIECE = 256 * 1024


def _dataset(root, name="dhtdata"):
    """A two-file torrent without any tracker: (tbytes, infohash, save root)."""
    files = [("a.bin", 5 * MiB + 123), ("sub/b.bin", 2 * MiB + 7)]
    blobs = [os.urandom(n) for _, n in files]
    for (rel, _), blob in zip(files, blobs):
        p = os.path.join(root, name, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(blob)
    payload = b"".join(blobs)
    info = {"name": name, "piece length": PIECE,
            "files": [{"length": n, "path": rel.split("/")} for rel, n in files],
            "pieces": b"".join(hashlib.sha1(payload[i:i + PIECE]).digest()
                               for i in range(0, len(payload), PIECE))}
    tbytes, h = make_torrent(info)
    return tbytes, h


def _add_magnet(client, h, save):
    r = client.req("POST", "/api/v2/torrents/add",
                   data={"urls": "magnet:?xt=urn:btih:%s&dn=dht-test" % h, "savepath": save})
    assert r.text == "Ok.", r.text


def _dht_nodes(client):
    return client.get("/api/v2/transfer/info").json()["dht_nodes"]


def _peer_ips(client, h):
    peers = client.get("/api/v2/sync/torrentPeers", hash=h).json().get("peers", {})
    return {p["ip"] for p in peers.values()}


def _start_dht_swarm(procs, workdir, n=3):
    """n torrentd with the DHT on, all bootstrapped from the first one."""
    ips = [SEED_IP, LEECH_IP, LEECH2_IP][:n]
    tds = [procs.add(Torrentd(os.path.join(workdir, "td%d" % i), ip, name="td%d" % i)).start()
           for i, ip in enumerate(ips)]
    first = tds[0]
    boot = "%s:%d" % (first.bind_ip, first.listen_port)
    first.set_prefs({"dht_bootstrap_nodes": "", "dht": True})
    for i, td in enumerate(tds[1:]):
        if i == 0:
            td.set_prefs({"dht_bootstrap_nodes": boot, "dht": True})
        else:
            # the other way round: the DHT runs first, a new bootstrap list restarts it
            td.set_prefs({"dht_bootstrap_nodes": "", "dht": True})
            td.set_prefs({"dht_bootstrap_nodes": boot})
    assert first.prefs()["dht"] is True and tds[-1].prefs()["dht_bootstrap_nodes"] == boot
    return tds, boot


# --------------------------------------------------------------------------
# python3-libtorrent
# --------------------------------------------------------------------------

class LtSession:
    """An in-process libtorrent session on MINI_IP with its DHT bootstrapped
    from `boot`, loopback nodes allowed, everything else that could reach out off."""

    def __init__(self, boot):
        import libtorrent as lt
        self.lt = lt
        self.port = free_port()
        self.ses = lt.session({
            "listen_interfaces": "%s:%d" % (MINI_IP, self.port),
            "outgoing_interfaces": MINI_IP,
            "enable_dht": True,
            "dht_bootstrap_nodes": boot,
            "dht_restrict_routing_ips": False,
            "dht_restrict_search_ips": False,
            "dht_extended_routing_table": False,
            "dht_ignore_dark_internet": False,
            "dht_prefer_verified_node_ids": False,
            "allow_multiple_connections_per_ip": True,
            "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
            "enable_incoming_utp": False, "enable_outgoing_utp": False,
            "alert_mask": lt.alert.category_t.status_notification | lt.alert.category_t.dht_notification,
        })

    def dht_nodes(self):
        self.ses.post_dht_stats()
        t0 = time.monotonic()
        while time.monotonic() - t0 < 5:
            self.ses.wait_for_alert(500)
            for a in self.ses.pop_alerts():
                if isinstance(a, self.lt.dht_stats_alert):
                    return sum(b["num_nodes"] for b in a.routing_table)
        return 0

    def add_magnet(self, h, save):
        p = self.lt.parse_magnet_uri("magnet:?xt=urn:btih:%s" % h)
        p.save_path = save
        self.th = self.ses.add_torrent(p)
        return self.th

    def close(self):
        ses, self.ses = self.ses, None
        if ses is not None:
            ses.pause()
            del ses


# --------------------------------------------------------------------------
# 1. torrentd x3 + libtorrent, magnet through the DHT alone
# --------------------------------------------------------------------------

def test_trackerless_magnet_over_dht(workdir, procs):
    data_root = os.path.join(workdir, "data")
    tbytes, h = _dataset(data_root)
    tds, boot = _start_dht_swarm(procs, workdir)
    seeder, leecher, third = tds
    lts = LtSession(boot)
    procs.on_close(lts.close)

    # everyone knows somebody before any torrent is added
    for td in tds:
        wait_until(lambda: _dht_nodes(td) > 0, 20, "%s to have DHT nodes" % td.name, procs=tds)
    wait_until(lambda: lts.dht_nodes() > 0, 20, "libtorrent to have DHT nodes", interval=0.5)

    seeder.add(tbytes, data_root, skip_checking=True)
    seeder.wait_seeding(h, 30)
    t0 = time.monotonic()
    _add_magnet(leecher, h, leecher.save_path)
    t = leecher.torrent(h)
    assert t["state"] in ("metaDL", "forcedMetaDL") and t["num_seeds"] == 0, t
    wait_until(lambda: leecher.torrent(h)["has_metadata"], 45, "metadata through the DHT",
               procs=tds, interval=0.05)
    ttfb = time.monotonic() - t0
    print("\nDHT magnet: metadata %.2f s after the add (no tracker, no x.pe)" % ttfb)
    wait_complete(leecher, h, 40, procs=tds)
    assert_same_data(tbytes, data_root, leecher.save_path)

    # libtorrent (an independent DHT) finds the torrentd swarm from the magnet too
    lt_save = os.path.join(workdir, "lt")
    os.makedirs(lt_save)
    th = lts.add_magnet(h, lt_save)
    t1 = time.monotonic()
    wait_until(lambda: th.status().has_metadata, 45, "libtorrent metadata through the DHT",
               procs=tds, interval=0.1)
    print("libtorrent magnet: metadata %.2f s after the add" % (time.monotonic() - t1))
    wait_until(lambda: th.status().is_seeding, 40, "libtorrent to complete", procs=tds)
    assert_same_data(tbytes, data_root, lt_save)

    for td in tds:
        assert _dht_nodes(td) > 0, td.name
    # the third torrentd (restarted by its bootstrap list) is part of the DHT
    assert third.prefs()["dht_bootstrap_nodes"] == boot
