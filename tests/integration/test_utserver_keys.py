"""utserver.conf keys that tune the engine, observed acting (core/tuning.c,
disk/storage, core/limits.c, util/log): randomize_bind_port, logmask,
prealloc_space / preallocate_all (allocated blocks right after the add,
unwanted files left alone, ENOSPC as an error state), all_writes_sync
(O_DSYNC in /proc/<pid>/fdinfo of the open data file), low_cpu and
disk_cache_max_size (applied and logged), qBittorrent's disk_cache (the read
cache's bytes as sync/maindata's total_buffers_size while seeding) and
limit_lan_peers / rate_limit_local_peers (a loopback seeder past a global
download limit)."""
import hashlib
import os
import signal
import socket
import time

from conftest import LEECH_IP, MINI_IP, SEED_IP
from tdlib import MiniSeeder, Torrentd, make_torrent, wait_until
from test_utserver import ADMIN, PW, UtServer

PL = 16384


def conf(ut, **keys):
    """A small utserver.conf: the daemon's addresses, the account, nothing
    that reaches out, downloads in <rundir>/dl; then the keys given."""
    lines = ["ut_webui_port: %d" % ut.webui_port, "bind_port: %d" % ut.listen_port, "bind_ip: %s" % ut.bind_ip,
             "admin_name: %s" % ADMIN, "admin_password: %s" % PW, "dht: false", "lsd: false", "upnp: false",
             "natpmp: false", "pex: false", "dir_active: %s" % os.path.join(ut.rundir, "dl")]
    lines += ["%s: %s" % kv for kv in keys.items()]
    with open(ut.conf, "w") as f:
        f.write("\n".join(lines) + "\n")


def torrent(name, size, piece_len=PL, files=None):
    """(tbytes, hash, payload): one file, or files=[(name, size), ...]."""
    if files:
        payload = os.urandom(sum(s for _, s in files))
        info = {"name": name, "piece length": piece_len,
                "files": [{"length": s, "path": [n]} for n, s in files]}
    else:
        payload = os.urandom(size)
        info = {"name": name, "length": size, "piece length": piece_len}
    info["pieces"] = b"".join(hashlib.sha1(payload[k:k + piece_len]).digest()
                              for k in range(0, len(payload), piece_len))
    tbytes, h = make_torrent(info)
    return tbytes, h, payload


def download(td, procs, name, size, ip=MINI_IP, timeout=60):
    """Adds a torrent served by a MiniSeeder on ip and waits for it; returns
    (hash, seeder address, seconds from the add to complete)."""
    tbytes, h, payload = torrent(name, size)
    seeder = MiniSeeder(ip, h, payload, PL)
    procs.on_close(seeder.close)
    t0 = time.monotonic()
    td.add(tbytes, os.path.join(td.rundir, "dl"))
    td.add_peers(h, [seeder.addr])
    td.wait_complete(h, timeout)
    return h, seeder.addr, time.monotonic() - t0


def write_fds(pid, path):
    """flags (octal fdinfo) of pid's descriptors of path open for writing."""
    out = []
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, fd)) != path:
                continue
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                flags = int(next(l for l in f if l.startswith("flags:")).split()[1], 8)
        except (OSError, StopIteration):
            continue   # closed meanwhile
        if flags & os.O_ACCMODE != os.O_RDONLY:
            out.append(flags)
    return out


def test_randomize_bind_port(workdir, procs):
    ut = UtServer(workdir, LEECH_IP)
    conf(ut, randomize_bind_port="true")
    procs.add(ut).start()
    ports = []
    for run in range(2):
        if run:
            ut.stop()
            ut.start()
        p = ut.prefs()["listen_port"]
        assert p != ut.listen_port and 1025 <= p <= 65000, "not bind_port: a random one"
        socket.create_connection((ut.bind_ip, p), timeout=5).close()
        ports.append(p)
    assert ports[0] != ports[1], "a new port at each start"


def test_logmask_peer_connections_and_webui(workdir, procs):
    ut = UtServer(workdir, LEECH_IP)
    conf(ut, logmask="0")
    procs.add(ut).start()
    h, addr, _ = download(ut, procs, "quiet.bin", 20 * PL)
    assert not ut.log_has(r"connection with peer"), "logmask 0: no connection lines"
    assert not ut.log_has(r"WebUI: /api/v2/")
    # bits 19 disconnect, 20 out connect, 27 web UI; reloaded on SIGHUP
    mask = (1 << 19) | (1 << 20) | (1 << 27)
    conf(ut, logmask=str(mask))
    os.kill(ut.daemon_pid, signal.SIGHUP)
    wait_until(lambda: ut.log_has(r"logmask 0x%08x: log sources" % mask), 10, "logmask applied")
    h, addr, _ = download(ut, procs, "loud.bin", 20 * PL, ip=SEED_IP)
    assert ut.log_has(r"'loud\.bin': outgoing connection with peer %s \(" % addr)
    assert not ut.log_has(r"'quiet\.bin': outgoing connection")
    assert ut.log_has(r"WebUI: /api/v2/torrents/info from 127\.0\.0\.1 answered 200")
    ut.delete(h)
    wait_until(lambda: ut.log_has(r"peer %s disconnected: " % addr), 10, "the disconnect logged")


def test_prealloc_sync_writes_low_cpu(workdir, procs):
    ut = UtServer(workdir, LEECH_IP)
    conf(ut, prealloc_space="true", all_writes_sync="true", low_cpu="true", disk_cache_max_size="1")
    procs.add(ut).start()
    assert ut.log_has(r"low_cpu: on \(the loop pauses 2 ms")
    assert ut.log_has(r"disk: preallocation on, synchronous writes on, read cache 1 MiB for all torrents")
    dl = os.path.join(ut.rundir, "dl")

    # prealloc_space: a started torrent's wanted files are allocated before
    # any piece arrives (it has no peer at all); priority-0 files are not.
    tbytes, h, _ = torrent("pre", 0, files=[("skipped.bin", 300000), ("wanted.bin", 3 << 20)])
    ut.add(tbytes, dl, stopped=True)
    wait_until(lambda: ut.torrent(h), 10, "added")
    ut.post("/api/v2/torrents/filePrio", hash=h, id="0", priority="0")
    ut.post("/api/v2/torrents/start", hashes=h)
    wanted = os.path.join(dl, "pre", "wanted.bin")
    wait_until(lambda: os.path.exists(wanted) and os.stat(wanted).st_blocks * 512 >= 3 << 20, 20,
               "wanted.bin allocated", procs=[ut])
    assert not os.path.exists(os.path.join(dl, "pre", "skipped.bin"))
    assert ut.progress(h) == 0

    # all_writes_sync: the data file is open for writing with O_DSYNC.
    h1, _, _ = download(ut, procs, "sync.bin", 64 * PL)
    path = os.path.join(dl, "sync.bin")
    wait_until(lambda: write_fds(ut.daemon_pid, path), 10, "sync.bin's write descriptor")
    assert all(f & os.O_DSYNC for f in write_fds(ut.daemon_pid, path))
    # ... and not once the key says false (reloaded on SIGHUP).
    conf(ut, prealloc_space="false", all_writes_sync="false", low_cpu="true", disk_cache_max_size="1")
    os.kill(ut.daemon_pid, signal.SIGHUP)
    wait_until(lambda: ut.log_has(r"preallocation off, synchronous writes off"), 10, "reloaded")
    h2, _, _ = download(ut, procs, "nosync.bin", 64 * PL, ip=SEED_IP)
    path = os.path.join(dl, "nosync.bin")
    wait_until(lambda: write_fds(ut.daemon_pid, path), 10, "nosync.bin's write descriptor")
    assert not any(f & os.O_DSYNC for f in write_fds(ut.daemon_pid, path))


class SmallDiskTorrentd(Torrentd):
    """torrentd whose save path is a 1 MiB tmpfs in its own mount namespace."""

    def argv(self):
        os.makedirs(self.save_path, exist_ok=True)
        return ["unshare", "-m", "sh", "-c", 'mount -t tmpfs -o size=1m tmpfs "$0" && exec "$@"',
                self.save_path] + super().argv()


def test_preallocate_all_enospc_is_an_error(workdir, procs):
    td = procs.add(SmallDiskTorrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    td.set_prefs({"preallocate_all": True})
    tbytes, h, _ = torrent("toobig.bin", 4 << 20)
    td.add(tbytes, td.save_path)
    wait_until(lambda: (td.torrent(h) or {}).get("state") == "error", 20, "error state", procs=[td])
    assert b"'toobig.bin': cannot allocate its files: No space left on device" in td.log_text()


def server_state(td):
    return td.get("/api/v2/sync/maindata", rid="0").json()["server_state"]


def test_disk_cache_is_the_read_cache(workdir, procs):
    seed = procs.add(Torrentd(os.path.join(workdir, "seed"), SEED_IP)).start()
    leech = procs.add(Torrentd(os.path.join(workdir, "leech"), LEECH_IP)).start()
    pl = 256 * 1024

    def serve(name, budget_mib):
        seed.set_prefs({"disk_cache": budget_mib})
        payload = os.urandom(4 << 20)
        info = {"name": name, "length": len(payload), "piece length": pl,
                "pieces": b"".join(hashlib.sha1(payload[k:k + pl]).digest() for k in range(0, len(payload), pl))}
        tbytes, h = make_torrent(info)
        os.makedirs(seed.save_path, exist_ok=True)
        with open(os.path.join(seed.save_path, name), "wb") as f:
            f.write(payload)
        seed.add(tbytes, seed.save_path, skip_checking=True)
        seed.wait_seeding(h, 20)
        leech.add(tbytes, leech.save_path)
        leech.add_peers(h, [seed.peer_addr])
        peak = 0
        deadline = time.monotonic() + 60
        while not leech.is_complete(h):
            assert time.monotonic() < deadline, "download did not finish"
            peak = max(peak, server_state(seed)["total_buffers_size"])
        return h, max(peak, server_state(seed)["total_buffers_size"])

    # 1 MiB for all torrents: never more than 4 of the 256 KiB pieces held.
    _, peak = serve("small-cache.bin", 1)
    assert 0 < peak <= 1 << 20, peak
    # 64 MiB: the whole 4 MiB torrent stays in memory for a while.
    serve("big-cache.bin", 64)
    wait_until(lambda: server_state(seed)["total_buffers_size"] > 2 << 20, 10, "pieces kept in the read cache")


def test_limit_lan_peers(workdir, procs):
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    os.makedirs(os.path.join(td.rundir, "dl"), exist_ok=True)
    # 100 KiB/s global; a loopback seeder is on the local network.
    td.set_prefs({"dl_limit": 100 * 1024, "limit_lan_peers": False})
    _, _, fast = download(td, procs, "lan-free.bin", 128 * PL)      # 2 MiB: 20 s at the limit
    td.set_prefs({"limit_lan_peers": True})
    _, _, slow = download(td, procs, "lan-limited.bin", 64 * PL, ip=SEED_IP)   # 1 MiB: ~10 s
    assert fast < 8, "limit_lan_peers false: not held to the global limit (%.1f s)" % fast
    assert slow > 4, "limit_lan_peers true: held to it (%.1f s)" % slow
