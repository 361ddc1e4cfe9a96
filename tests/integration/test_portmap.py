"""Port mapping (upnp, upnp_lease_duration, web_ui_upnp,
embedded_tracker_port_forwarding) against Debian's miniupnpd.

The rig, inside the test namespace (scripts/netns-run.sh), per test:

    test ns  --veth 10.78.N.0/24--  "lan" ns  --veth 10.77.N.0/24--  "router" ns
    (pytest: WebUI over            (torrentd, default             (miniupnpd, nftables
     the first veth)                route via the router)           tables; ext0 a veth
                                                                    with 11.22.33.44)

miniupnpd 2.3.1 is built for nftables: it adds its rules over netlink into
the chains that /etc/miniupnpd/nft_init.sh would make (table inet filter:
miniupnpd, prerouting_miniupnpd, postrouting_miniupnpd), so the rig loads
those with `nft` (Debian's nftables package) first.  Its public address must
not be a private one, hence 11.22.33.44 on a veth that leads nowhere.  The
mappings are read from its lease file (PROTO:ext port:client:int port:
expiry:description), rewritten at every change.
"""
import os
import re
import shutil
import signal
import subprocess
import time

import pytest
import requests

import tdlib
from tdlib import Torrentd, free_port, wait_until
from test_ut_gui import Gui

pytestmark = [
    pytest.mark.xdist_group("portmap"),
    pytest.mark.skipif(not (shutil.which("miniupnpd") and shutil.which("nft")),
                       reason="needs miniupnpd and nft (nftables)"),
]

EXT_IP = "11.22.33.44"
NFT_RULES = """
table inet filter {
    chain forward { type filter hook forward priority 0; policy drop; jump miniupnpd; }
    chain miniupnpd { }
    chain prerouting { type nat hook prerouting priority -100; policy accept; jump prerouting_miniupnpd; }
    chain postrouting { type nat hook postrouting priority 100; policy accept; jump postrouting_miniupnpd; }
    chain prerouting_miniupnpd { }
    chain postrouting_miniupnpd { }
}
"""


def sh(*argv, ns=None):
    if ns:
        argv = ("ip", "netns", "exec", ns) + argv
    subprocess.run(argv, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


class Rig:
    def __init__(self, workdir, upnp=True, natpmp=True, daemon=True):
        tag = "%x" % (os.getpid() & 0xfff)
        self.n = 1 + os.getpid() % 200
        self.lan, self.rt = "tdpm%s-lan" % tag, "tdpm%s-rt" % tag
        self.host_if = "tdpm%s" % tag
        self.lan_ip, self.rt_ip = "10.77.%d.2" % self.n, "10.77.%d.1" % self.n
        self.ui_ip = "10.78.%d.2" % self.n
        self.workdir = workdir
        self.leases = os.path.join(workdir, "leases")
        self.log = os.path.join(workdir, "miniupnpd.log")
        self.proc = None
        self.made = []
        try:
            self._up(upnp, natpmp, daemon)
        except Exception:
            self.close()
            raise

    def _up(self, upnp, natpmp, daemon):
        for ns in (self.lan, self.rt):
            sh("ip", "netns", "add", ns)
            self.made.append(ns)
        # test ns <-> lan: the WebUI
        sh("ip", "link", "add", self.host_if, "type", "veth", "peer", "name", "ui0", "netns", self.lan)
        sh("ip", "addr", "add", "10.78.%d.1/24" % self.n, "dev", self.host_if)
        sh("ip", "link", "set", self.host_if, "up")
        sh("ip", "link", "set", "lo", "up", ns=self.lan)
        sh("ip", "addr", "add", self.ui_ip + "/24", "dev", "ui0", ns=self.lan)
        sh("ip", "link", "set", "ui0", "up", ns=self.lan)
        # lan <-> router
        sh("ip", "link", "add", "lan0", "type", "veth", "peer", "name", "vrt", "netns", self.rt, ns=self.lan)
        sh("ip", "addr", "add", self.lan_ip + "/24", "dev", "lan0", ns=self.lan)
        sh("ip", "link", "set", "lan0", "up", ns=self.lan)
        sh("ip", "route", "add", "default", "via", self.rt_ip, ns=self.lan)
        sh("ip", "link", "set", "lo", "up", ns=self.rt)
        sh("ip", "addr", "add", self.rt_ip + "/24", "dev", "vrt", ns=self.rt)
        sh("ip", "link", "set", "vrt", "up", ns=self.rt)
        sh("ip", "link", "add", "ext0", "type", "veth", "peer", "name", "ext1", ns=self.rt)
        sh("ip", "addr", "add", EXT_IP + "/24", "dev", "ext0", ns=self.rt)
        sh("ip", "link", "set", "ext0", "up", ns=self.rt)
        sh("ip", "link", "set", "ext1", "up", ns=self.rt)
        rules = os.path.join(self.workdir, "miniupnpd.nft")
        with open(rules, "w") as f:
            f.write(NFT_RULES)
        sh("nft", "-f", rules, ns=self.rt)
        conf = os.path.join(self.workdir, "miniupnpd.conf")
        with open(conf, "w") as f:
            f.write("\n".join([
                "ext_ifname=ext0", "listening_ip=vrt", "http_port=0",
                "enable_upnp=%s" % ("yes" if upnp else "no"),
                "enable_natpmp=%s" % ("yes" if natpmp else "no"),
                "secure_mode=no", "system_uptime=yes", "lease_file=%s" % self.leases,
                "uuid=3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b",
                "allow 1024-65535 10.77.0.0/16 1024-65535", "deny 0-65535 0.0.0.0/0 0-65535", ""]))
        if not daemon:
            return   # a router that answers nothing
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.rt, "miniupnpd", "-f", conf, "-d"],
                                     stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        logf.close()
        wait_until(lambda: b"Listening for NAT-PMP" in self.log_text() or
                   (not natpmp and b"HTTP listening" in self.log_text()), 10, "miniupnpd to start")

    def log_text(self):
        with open(self.log, "rb") as f:
            return f.read()

    def mappings(self):
        """{(proto, port): (client, expiry, description)} from the lease file."""
        out = {}
        try:
            with open(self.leases) as f:
                for line in f:
                    parts = line.rstrip("\n").split(":", 5)
                    if len(parts) == 6:
                        out[(parts[0], int(parts[1]))] = (parts[2], int(parts[4]), parts[5])
        except FileNotFoundError:
            pass
        return out

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for ns in reversed(self.made):
            subprocess.run(["ip", "netns", "del", ns], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run(["ip", "link", "del", self.host_if], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class LanTorrentd(Torrentd):
    """torrentd in the rig's lan namespace, WebUI on its veth to the test."""

    def __init__(self, rundir, rig):
        super().__init__(rundir, rig.lan_ip)
        self.rig = rig

    @property
    def base(self):
        return "http://%s:%d" % (self.rig.ui_ip, self.webui_port)

    def argv(self):
        a = super().argv()
        a[a.index("--webui-address") + 1] = self.rig.ui_ip
        return ["ip", "netns", "exec", self.rig.lan] + a

    def start(self, prefs, timeout=60):
        super().start(timeout)   # sets upnp off: nothing mapped until we say
        self.set_prefs(prefs)
        return self


@pytest.fixture
def rig_factory(workdir):
    rigs = []

    def make(**kw):
        r = Rig(workdir, **kw)
        rigs.append(r)
        return r
    yield make
    for r in rigs:
        r.close()


def keys(m):
    return set(m)


def test_upnp_maps_renews_remaps_and_removes(rig_factory, procs, workdir):
    rig = rig_factory()
    td = procs.add(LanTorrentd(os.path.join(workdir, "td"), rig))
    td.start({"upnp": True, "upnp_lease_duration": 6})
    port = td.listen_port
    want = {("TCP", port), ("UDP", port)}
    # (the start maps with the default permanent lease before the test's
    # prefs arrive: wait for the 6 s lease)
    def leased():
        m = rig.mappings()
        return want <= keys(m) and all(m[k][1] - time.time() <= 7 for k in want)
    wait_until(leased, 20, "the peer port mapped (TCP and UDP) with a 6 s lease", procs=[td])
    m = rig.mappings()
    assert all(m[k][0] == rig.lan_ip and m[k][2] == "torrentd" for k in want), m
    # the external address the router reported
    wait_until(lambda: td.get("/api/v2/transfer/info").json()["last_external_address_v4"] == EXT_IP, 10,
               "last_external_address_v4", procs=[td])
    sync = td.get("/api/v2/sync/maindata").json()
    assert sync["server_state"]["last_external_address_v4"] == EXT_IP

    # renewed before the 6 s lease ends: the expiry moves on
    first = {k: m[k][1] for k in want}
    wait_until(lambda: all(rig.mappings().get(k, (0, 0))[1] > first[k] for k in want), 15,
               "the leases renewed", procs=[td])

    # a new listen port: the old mappings go, the new come
    new = free_port()
    td.set_prefs({"listen_port": new})
    want2 = {("TCP", new), ("UDP", new)}
    wait_until(lambda: keys(rig.mappings()) == want2, 20, "the new port mapped, the old one removed",
               procs=[td])

    # the WebUI port (web_ui_upnp) and the embedded tracker's (forwarding)
    tport = free_port()
    td.set_prefs({"web_ui_upnp": True, "enable_embedded_tracker": True, "embedded_tracker_port": tport,
                  "embedded_tracker_port_forwarding": True})
    want3 = want2 | {("TCP", td.webui_port), ("TCP", tport)}
    wait_until(lambda: keys(rig.mappings()) == want3, 20, "WebUI and tracker ports mapped", procs=[td])
    td.set_prefs({"web_ui_upnp": False, "embedded_tracker_port_forwarding": False})
    wait_until(lambda: keys(rig.mappings()) == want2, 20, "WebUI and tracker mappings removed", procs=[td])

    # upnp off removes everything, on maps again (live)
    td.set_prefs({"upnp": False})
    wait_until(lambda: not rig.mappings(), 20, "upnp off: mappings removed", procs=[td])
    td.set_prefs({"upnp": True})
    wait_until(lambda: keys(rig.mappings()) == want2, 20, "upnp on: mapped again", procs=[td])

    # the shutdown removes them (bounded: well within the stop below)
    t0 = time.monotonic()
    td.stop()
    assert time.monotonic() - t0 < 15
    assert not rig.mappings(), rig.mappings()
    log = td.log_text()
    assert b"UPnP/NAT-PMP port mapping succeeded" in log and b"Detected external IP. IP: \"%s\"" % EXT_IP.encode() in log


def test_natpmp_alone(rig_factory, procs, workdir):
    rig = rig_factory(upnp=False)
    td = procs.add(LanTorrentd(os.path.join(workdir, "td"), rig))
    td.start({"upnp": True})
    port = td.listen_port
    want = {("TCP", port), ("UDP", port)}
    wait_until(lambda: want <= keys(rig.mappings()), 20, "NAT-PMP mappings", procs=[td])
    m = rig.mappings()
    assert all(m[k][0] == rig.lan_ip and m[k][2].startswith("NAT-PMP") for k in want), m
    # no permanent NAT-PMP lease: two hours
    assert all(m[k][1] - time.time() > 3600 for k in want), m
    wait_until(lambda: td.get("/api/v2/transfer/info").json()["last_external_address_v4"] == EXT_IP, 10,
               "the external address over NAT-PMP", procs=[td])
    # µTorrent's natpmp (like its upnp) is the same switch, live
    g = Gui(td)
    g.get_token()
    g.ok(("action", "setsetting"), ("s", "natpmp"), ("v", "0"))
    wait_until(lambda: not rig.mappings(), 20, "natpmp=0: mappings removed", procs=[td])
    assert td.prefs()["upnp"] is False
    g.ok(("action", "setsetting"), ("s", "natpmp"), ("v", "1"))
    wait_until(lambda: want <= keys(rig.mappings()), 20, "natpmp=1: mapped again", procs=[td])
    td.stop()
    assert not rig.mappings(), rig.mappings()


def test_external_address_is_announced(rig_factory, procs, workdir):
    """Without announce_ip the trackers are told the router's external
    address (&ip=); announce_ip, when set, wins.  The tracker is torrentd's
    own embedded one, in the lan namespace; the test asks it as a peer."""
    rig = rig_factory()
    sh("ip", "route", "add", "10.77.%d.0/24" % rig.n, "via", rig.ui_ip)   # test ns -> lan (no forwarding: the lan ns owns it)
    td = procs.add(LanTorrentd(os.path.join(workdir, "td"), rig))
    tport = free_port()
    td.start({"upnp": True, "enable_embedded_tracker": True, "embedded_tracker_port": tport})
    wait_until(lambda: td.get("/api/v2/transfer/info").json()["last_external_address_v4"] == EXT_IP, 20,
               "the external address", procs=[td])
    base = "http://%s:%d" % (rig.lan_ip, tport)
    info = {"name": "ext.bin", "piece length": 16384, "length": 1000, "pieces": b"\x01" * 20}
    tbytes, h = tdlib.make_torrent(info, base + "/announce")
    td.add(tbytes, td.save_path)

    def peers():
        q = "info_hash=%s&peer_id=%s&port=7777&left=1" % ("".join("%%%02X" % b for b in bytes.fromhex(h)), "P" * 20)
        r = requests.get(base + "/announce?" + q, timeout=5)
        p = tdlib.bdecode(r.content)[b"peers"]
        return {(".".join(str(x) for x in p[i:i + 4]), int.from_bytes(p[i + 4:i + 6], "big"))
                for i in range(0, len(p), 6)}
    wait_until(lambda: (EXT_IP, td.listen_port) in peers(), 30, "torrentd announced with the external address",
               procs=[td], interval=0.5)
    td.set_prefs({"announce_ip": "1.2.3.4"})
    td.reannounce(h)
    wait_until(lambda: ("1.2.3.4", td.listen_port) in peers(), 30, "announce_ip to win", procs=[td], interval=0.5)


def test_silent_router_is_bounded(rig_factory, procs, workdir):
    """A LAN whose router answers neither SSDP nor NAT-PMP: upnp on costs a
    bounded discovery on a worker (the API keeps answering at once), nothing
    is mapped, nothing logged as mapped, and the shutdown is not held up."""
    rig = rig_factory(daemon=False)
    td = procs.add(LanTorrentd(os.path.join(workdir, "td"), rig))
    td.start({"upnp": True})
    # while discovery waits for answers (2 s SSDP, 2 s NAT-PMP) the loop
    # answers: a request that waited for a blocked loop would take ~2 s
    slowest = 0.0
    for _ in range(20):
        t0 = time.monotonic()
        assert td.get("/api/v2/transfer/info").json()["last_external_address_v4"] == ""
        slowest = max(slowest, time.monotonic() - t0)
    assert slowest < 1.8, "an API request took %.2f s during discovery" % slowest
    t0 = time.monotonic()
    td.stop()
    took = time.monotonic() - t0
    assert td.proc.returncode == 0 and took < 10, "stop took %.1f s, rc %s" % (took, td.proc.returncode)
    assert not re.search(rb"port mapping (succeeded|failed)", td.log_text())


def test_loopback_is_left_alone(procs, workdir):
    """Bound to a loopback address (or with only loopback up) there is no
    router to ask: nothing is sent at all."""
    td = procs.add(Torrentd(os.path.join(workdir, "td"), tdlib.loip(2))).start()
    td.set_prefs({"upnp": True})
    assert td.get("/api/v2/transfer/info").json()["last_external_address_v4"] == ""
    t0 = time.monotonic()
    td.stop()
    assert time.monotonic() - t0 < 10
