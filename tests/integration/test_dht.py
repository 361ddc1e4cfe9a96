"""Trackerless swarms over the DHT (BEP5), on loopback only.

Three torrentd instances (127.0.0.2/.3/.4) and a python3-libtorrent session
(127.0.0.5) form a DHT from one bootstrap node, the first torrentd; the others
learn it through setPreferences `dht_bootstrap_nodes`. A torrent without
trackers is seeded by one torrentd; another torrentd and libtorrent resolve
its magnet (no tr, no x.pe) through the DHT alone.

Then the same against the `bittorrent-dht` npm package (tests/integration/
node, run by node/dht_node.mjs on 127.0.0.6): it announces, torrentd finds it; a
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
from tdlib import (HERE, MiB, Proc, Torrentd, assert_same_data, free_port, loip, make_torrent,
                   wait_complete, wait_until)

NODE_IP = loip(6)
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


class Budget:
    """One deadline for a whole test (each test stays under 60 s): every
    wait gets at most what is left."""

    def __init__(self, seconds=55):
        self.end = time.monotonic() + seconds

    def __call__(self, cap):
        left = self.end - time.monotonic()
        if left <= 0:
            raise AssertionError("test time budget used up")
        return min(cap, left)


def _start_dht_swarm(procs, workdir, left, n=3):
    """n torrentd with the DHT on, all bootstrapped from the first one."""
    ips = [SEED_IP, LEECH_IP, LEECH2_IP][:n]
    tds = [procs.add(Torrentd(os.path.join(workdir, "td%d" % i), ip, name="td%d" % i)).start(left(15))
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
    left = Budget()
    tds, boot = _start_dht_swarm(procs, workdir, left)
    seeder, leecher, third = tds
    lts = LtSession(boot)
    procs.on_close(lts.close)

    # everyone knows somebody before any torrent is added
    for td in tds:
        wait_until(lambda: _dht_nodes(td) > 0, left(10), "%s to have DHT nodes" % td.name, procs=tds)
    # libtorrent never puts its bootstrap node in its table: > 0 means it
    # learned the other torrentd from the first one
    wait_until(lambda: lts.dht_nodes() > 0, left(10), "libtorrent to have DHT nodes", interval=0.5)

    seeder.add(tbytes, data_root, skip_checking=True)
    seeder.wait_seeding(h, left(10))
    t0 = time.monotonic()
    _add_magnet(leecher, h, leecher.save_path)
    t = leecher.torrent(h)
    assert t["state"] in ("metaDL", "forcedMetaDL") and t["num_seeds"] == 0, t
    wait_until(lambda: leecher.torrent(h)["has_metadata"], left(20), "metadata through the DHT",
               procs=tds, interval=0.05)
    ttfb = time.monotonic() - t0
    print("\nDHT magnet: metadata %.2f s after the add (no tracker, no x.pe)" % ttfb)
    wait_complete(leecher, h, left(15), procs=tds)
    assert_same_data(tbytes, data_root, leecher.save_path)

    # libtorrent (an independent DHT) finds the torrentd swarm from the magnet too
    lt_save = os.path.join(workdir, "lt")
    os.makedirs(lt_save)
    th = lts.add_magnet(h, lt_save)
    t1 = time.monotonic()
    wait_until(lambda: th.status().has_metadata, left(20), "libtorrent metadata through the DHT",
               procs=tds, interval=0.1)
    print("libtorrent magnet: metadata %.2f s after the add" % (time.monotonic() - t1))
    wait_until(lambda: th.status().is_seeding, left(15), "libtorrent to complete", procs=tds)
    assert_same_data(tbytes, data_root, lt_save)

    for td in tds:
        assert _dht_nodes(td) > 0, td.name
        md = td.get("/api/v2/sync/maindata", rid=0).json()
        assert md["server_state"]["dht_nodes"] > 0, md["server_state"]
    # the third torrentd (restarted by its bootstrap list) is part of the DHT
    assert third.prefs()["dht_bootstrap_nodes"] == boot


def test_no_loopback_nodes_unless_bound_to_loopback(workdir, procs):
    """Loopback nodes are for tests only: a torrentd bound to a public-looking
    address (TEST-NET-2, put on lo inside our namespace) ignores the loopback
    DHT it is told to bootstrap from, and the loopback nodes never count it."""
    if os.environ.get("TD_IN_NETNS") != "1":
        pytest.skip("not inside scripts/netns-run.sh's network namespace")
    public_ip = "198.51.100.7"
    r = subprocess.run(["ip", "addr", "replace", public_ip + "/32", "dev", "lo"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        pytest.skip("cannot add %s to lo: %s" % (public_ip, r.stdout.decode().strip()))
    left = Budget()
    tds, boot = _start_dht_swarm(procs, workdir, left, n=2)
    outsider = procs.add(Torrentd(os.path.join(workdir, "pub"), public_ip, name="pub")).start(left(15))
    outsider.set_prefs({"dht_bootstrap_nodes": boot, "dht": True})
    for td in tds:
        wait_until(lambda: _dht_nodes(td) > 0, left(10), "%s to have DHT nodes" % td.name, procs=tds)
    time.sleep(4)           # several ticks: bootstrap, pings, replies
    assert _dht_nodes(outsider) == 0
    assert all(_dht_nodes(td) == 1 for td in tds), [_dht_nodes(td) for td in tds]
    outsider.check_alive()


# --------------------------------------------------------------------------
# 2. interop with the bittorrent-dht npm package
# --------------------------------------------------------------------------

class NodeDht(Proc):
    """tests/integration/node/dht_node.mjs: one bittorrent-dht node, driven by
    line commands on stdin, answering JSON lines (also copied to the log)."""
    kind = "bittorrent-dht"

    def start(self, boot):
        self.events = queue.Queue()
        self.proc = subprocess.Popen(
            ["node", os.path.join(NODE_DIR, "dht_node.mjs"), "--host", NODE_IP, "--bootstrap", boot],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=NODE_DIR)
        threading.Thread(target=self._read, daemon=True).start()
        ev = self.wait_event(lambda e: e["event"] == "listening", 10)
        self.port = ev["port"]
        return self

    def _read(self):
        with open(self.logpath, "a") as log:
            for line in self.proc.stdout:
                line = line.decode(errors="replace").strip()
                log.write(line + "\n")
                log.flush()
                try:
                    self.events.put(json.loads(line))
                except ValueError:
                    pass

    def send(self, cmd):
        self.proc.stdin.write((cmd + "\n").encode())
        self.proc.stdin.flush()

    def wait_event(self, pred, timeout, seen=None):
        """The first event matching pred within timeout; every event read on
        the way is appended to `seen`."""
        t0 = time.monotonic()
        while True:
            left = timeout - (time.monotonic() - t0)
            if left <= 0:
                raise AssertionError("bittorrent-dht: no matching event in %.0fs:\n%s" % (
                    timeout, self.log_tail()))
            try:
                ev = self.events.get(timeout=min(left, 0.5))
            except queue.Empty:
                self.check_alive()
                continue
            if seen is not None:
                seen.append(ev)
            if ev.get("event") == "error":
                raise AssertionError("bittorrent-dht error: %s" % ev)
            if pred(ev):
                return ev

    def nodes(self):
        self.send("nodes")
        return self.wait_event(lambda e: e["event"] == "nodes", 10)["count"]

    def stop(self, timeout=15):
        if self.alive():
            try:
                self.proc.stdin.close()     # dht_node.mjs exits when stdin closes
                self.proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        super().stop(timeout)


class HandshakeListener:
    """A TCP listener that records the BitTorrent handshakes it receives:
    [(source ip, info-hash hex)]."""

    def __init__(self, ip):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((ip, free_port()))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.got = []
        self.stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopping:
            try:
                c, (ip, _) = self.sock.accept()
            except OSError:
                return
            try:
                c.settimeout(5)
                hs = b""
                while len(hs) < 68:
                    x = c.recv(68 - len(hs))
                    if not x:
                        break
                    hs += x
                if hs[:20] == b"\x13BitTorrent protocol" and len(hs) == 68:
                    self.got.append((ip, hs[28:48].hex()))
            except OSError:
                pass
            finally:
                c.close()

    def close(self):
        self.stopping = True
        self.sock.close()


def _need_node():
    if not shutil.which("node"):
        pytest.skip("node is not installed (scripts/deps.sh installs nodejs and npm)")
    if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "bittorrent-dht")):
        pytest.skip("bittorrent-dht is not installed: npm ci --prefix tests/integration/node "
                    "(scripts/deps.sh does it)")


def _node_swarm(procs, workdir, left):
    _need_node()
    tds, boot = _start_dht_swarm(procs, workdir, left, n=2)
    node = procs.add(NodeDht(os.path.join(workdir, "node"))).start(boot)
    node.wait_event(lambda e: e["event"] == "ready", left(10))
    # the node is in torrentd's routing table and torrentd in the node's
    wait_until(lambda: all(_dht_nodes(td) >= 2 for td in tds), left(10),
               "torrentd to know the other torrentd and the bittorrent-dht node", procs=tds)
    assert node.nodes() >= 1
    return tds, node


def test_bittorrent_dht_announce_found_by_torrentd(workdir, procs):
    """bittorrent-dht announces an info-hash with a port; torrentd's get_peers
    for a magnet of that hash finds it and dials the announced address."""
    left = Budget()
    tds, node = _node_swarm(procs, workdir, left)
    lsn = HandshakeListener(NODE_IP)
    procs.on_close(lsn.close)
    h = hashlib.sha1(os.urandom(20)).hexdigest()
    node.send("announce %s %d" % (h, lsn.port))
    node.wait_event(lambda e: e["event"] == "announced" and e["infohash"] == h, left(20))
    leecher = tds[1]
    _add_magnet(leecher, h, leecher.save_path)
    wait_until(lambda: (LEECH_IP, h) in lsn.got, left(25),
               "torrentd to dial %s:%d, announced through bittorrent-dht" % (NODE_IP, lsn.port),
               procs=tds)
    # nobody else was told: only the leecher came
    assert {ip for ip, _ in lsn.got} == {LEECH_IP}, lsn.got


def test_bittorrent_dht_finds_torrentd_seeder(workdir, procs):
    """A torrentd seeder announces itself; a bittorrent-dht lookup returns it."""
    data_root = os.path.join(workdir, "data")
    tbytes, h = _dataset(data_root)
    left = Budget()
    tds, node = _node_swarm(procs, workdir, left)
    seeder = tds[0]
    seeder.add(tbytes, data_root, skip_checking=True)
    seeder.wait_seeding(h, left(10))
    want = seeder.peer_addr
    other = "%s:%d" % (tds[1].bind_ip, tds[1].listen_port)
    # Wanted both ways: the seeder's announce_peer stored by bittorrent-dht
    # ("own store") and torrentd's get_peers answer (values) read by it.
    t0, seen, via = time.monotonic(), [], set()
    while not ("own store" in via and other in via):
        assert time.monotonic() - t0 < 30, "bittorrent-dht never found %s both ways: %s" % (want, seen)
        time.sleep(1)                   # the seeder announces on its next tick
        node.send("lookup %s" % h)
        node.wait_event(lambda e: e["event"] == "lookup_done" and e["infohash"] == h, left(15), seen)
        via = {e["from"] for e in seen if e["event"] == "peer" and e["peer"] == want}
    found = {e["peer"] for e in seen if e["event"] == "peer" and e["infohash"] == h}
    print("\nbittorrent-dht found %s for %s, from %s" % (sorted(found), h[:8], sorted(via)))
    # only real announcers: no made-up addresses
    assert found <= {want, other}, found
