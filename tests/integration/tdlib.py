"""tdlib - helpers for torrentd's integration tests and bench/swarm.

Everything here drives real processes through their HTTP APIs on loopback:

  Torrentd      the daemon under test (qBittorrent WebUI API v2)
  Qbt           qbittorrent-nox 4.5.2 (same API; profile written by us)
  Transmission  transmission-daemon 3.00 (JSON-RPC, session-id dance)
  Tracker       opentracker on 127.0.0.1 (Debian builds it with a whitelist)
  MiniSeeder    a tiny BitTorrent seeder in Python (TCP, no extensions)

Loopback rules learned the hard way:
  * every client binds its own 127.0.0.x: libtorrent and Transmission keep one
    peer entry per IP, so two clients on 127.0.0.1 behind one tracker never meet;
  * opentracker records the *source* address of the announce, so a client must
    announce from its listen address (libtorrent and torrentd bind it);
  * Transmission 3.00 never dials 127.0.0.0/8 (isMartianAddr): the other side
    has to dial it, via torrents/addPeers;
  * qBittorrent is TCP-only here (uTP on loopback is ~30x slower).

Every process is stopped by PID (SIGTERM, then SIGKILL after a timeout); every
wait is bounded. Nothing in here touches the network outside 127.0.0.0/8.
"""
import base64
import errno
import filecmp
import hashlib
import http.server
import json
import os
import random
import signal
import socket
import struct
import subprocess
import threading
import time

import requests

MiB = 1 << 20
GiB = 1 << 30
CLK_TCK = os.sysconf("SC_CLK_TCK")
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

USER = "admin"
PASSWORD = "adminadmin"

# states of the qBittorrent API (5.x names plus the 4.x paused* aliases)
SEED_STATES = {"uploading", "stalledUP", "forcedUP", "queuedUP", "stoppedUP", "pausedUP"}


class TdError(Exception):
    pass


# --------------------------------------------------------------------------
# network namespace, ports
# --------------------------------------------------------------------------

def netns_isolated():
    """True iff there is no route out: a connect to TEST-NET-1 fails at once
    with ENETUNREACH (no default route) instead of timing out somewhere."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(1.0)
    try:
        s.connect(("192.0.2.1", 9))
        return False
    except OSError as e:
        return e.errno == errno.ENETUNREACH
    finally:
        s.close()


# pytest-xdist runs the suite in several worker processes that share one
# network namespace (scripts/netns-run.sh wraps the whole pytest). Each worker
# gets its own addresses and its own port range, so no two tests running at
# the same time can bind each other's sockets or meet in a swarm; a serial run
# (no xdist) keeps 127.0.0.x and the whole range.

def _worker():
    """(index, count) of this xdist worker (gwN), or (None, 1) outside xdist."""
    w = os.environ.get("PYTEST_XDIST_WORKER", "")
    if w.startswith("gw") and w[2:].isdigit():
        return int(w[2:]), max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    return None, 1


WORKER, WORKER_COUNT = _worker()
_NET = 0 if WORKER is None else WORKER + 1
if _NET > 255:
    raise RuntimeError("too many xdist workers for 127.0.N.x addresses: %s" % WORKER)


def loip(n):
    """This process's n-th peer address (n in 2..9): 127.0.0.n in a serial
    run, 127.0.<worker+1>.n in xdist worker gwN. 127.0.0.1 stays shared
    (WebUIs, trackers, helper servers): what is bound there takes a port
    from free_port() or port 0, and those never collide between workers."""
    assert 2 <= n <= 9, n
    return "127.0.%d.%d" % (_NET, n)


def add_loopback_ips(n=9):
    """Give lo the addresses 127.0.0.2..n and this worker's loip(2..n)
    explicitly (as the anchors rig does; libtorrent is happier when its
    listen address is on an interface, and IP_ADD_MEMBERSHIP needs it). Only
    call this inside a private network namespace."""
    ips = ["127.0.0.%d" % i for i in range(2, n + 1)]
    ips += [loip(i) for i in range(2, n + 1) if loip(i) not in ips]
    for ip in ips:
        subprocess.run(["ip", "addr", "add", ip + "/8", "dev", "lo"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# free_port() hands out ports below Linux's ephemeral range (32768-60999 by
# default): a port 0 bind or an outgoing connect in another worker (or in a
# daemon) can then never take a port handed out here but not yet bound. Each
# xdist worker gets its own slice of the range.
PORT_MIN, PORT_MAX = 10000, 32768
_port_span = (PORT_MAX - PORT_MIN) // WORKER_COUNT
# (modulo: a worker xdist starts to replace a crashed one may be numbered
# past the count; the crashed one's processes died with it)
_port_base = PORT_MIN + ((WORKER or 0) % WORKER_COUNT) * _port_span
_port_lock = threading.Lock()
_port_next = [random.randrange(_port_span)]


def _bindable(port):
    for typ in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(socket.AF_INET, typ)
        try:
            s.bind(("0.0.0.0", port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def free_port():
    """A port free for TCP and UDP on every address, from this worker's
    slice; never handed out twice in one run (so a dead peer's address cannot
    be reused by a new one) unless the slice wraps around."""
    with _port_lock:
        for _ in range(min(2000, _port_span)):
            p = _port_base + _port_next[0]
            _port_next[0] = (_port_next[0] + 1) % _port_span
            if _bindable(p):
                return p
    raise TdError("no free port")


# --------------------------------------------------------------------------
# waiting, processes, /proc
# --------------------------------------------------------------------------

def wait_until(pred, timeout, what, interval=0.1, procs=()):
    """Poll pred() until truthy (returns its value); TdError after `timeout`
    seconds or as soon as one of `procs` has died."""
    t0 = time.monotonic()
    last_exc = None
    while True:
        try:
            v = pred()
            if v:
                return v
        except (requests.RequestException, ValueError, KeyError, IndexError) as e:
            last_exc = e
        for p in procs:
            p.check_alive()
        if time.monotonic() - t0 > timeout:
            raise TdError("timeout after %.0fs waiting for %s%s" % (
                timeout, what, " (last error: %s)" % last_exc if last_exc else ""))
        time.sleep(interval)


def stop_pid(proc, timeout=15):
    """SIGTERM, then SIGKILL after `timeout`; only for a Popen we started."""
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
    except ProcessLookupError:
        pass


def cpu_seconds(pid):
    """user+sys CPU seconds of a process (all threads), /proc/PID/stat 14+15."""
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    rest = s[s.rindex(")") + 2:].split()
    return (int(rest[11]) + int(rest[12])) / CLK_TCK


def status_mib(pid, key):
    """A /proc/PID/status value (VmHWM, VmRSS, RssAnon ...) in MiB."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def _die_with_parent():
    """In the child before exec: SIGKILL when the test runner dies."""
    try:
        import ctypes
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


SANITIZER_MARKS = (b"ERROR: AddressSanitizer", b"ERROR: LeakSanitizer",
                   b"runtime error:", b"ERROR: UndefinedBehaviorSanitizer")


class Proc:
    """A long-running process we started; output goes to rundir/<name>.log."""
    kind = "proc"

    def __init__(self, rundir, name=None):
        self.rundir = rundir
        self.name = name or self.kind
        self.proc = None
        os.makedirs(rundir, exist_ok=True)
        self.logpath = os.path.join(rundir, self.name + ".log")

    def spawn(self, argv, env=None):
        with open(self.logpath, "ab") as logf:
            logf.write(("\n=== %s: %s\n" % (time.strftime("%H:%M:%S"), " ".join(argv))).encode())
            logf.flush()
            self.proc = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.rundir, env=env,
                                         preexec_fn=_die_with_parent)

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def check_alive(self):
        if not self.alive():
            raise TdError("%s exited (rc=%s):\n%s" % (
                self.name, self.proc.returncode if self.proc else None, self.log_tail()))

    def log_text(self):
        try:
            with open(self.logpath, "rb") as f:
                return f.read()
        except OSError:
            return b""

    def log_tail(self, n=30):
        return b"\n".join(self.log_text().splitlines()[-n:]).decode(errors="replace")

    def sanitizer_report(self):
        """The first sanitizer report in the log, or None."""
        t = self.log_text()
        for m in SANITIZER_MARKS:
            i = t.find(m)
            if i >= 0:
                return t[max(0, i - 200):i + 3000].decode(errors="replace")
        return None

    def stop(self, timeout=15):
        stop_pid(self.proc, timeout)

    def kill9(self):
        """kill -9 by PID and reap it (crash tests)."""
        if self.alive():
            self.proc.kill()
            self.proc.wait(10)

    def cpu(self):
        return cpu_seconds(self.pid)

    def hwm(self):
        return status_mib(self.pid, "VmHWM")


# --------------------------------------------------------------------------
# bencode, torrents, data
# --------------------------------------------------------------------------

class Raw(bytes):
    """Already-bencoded bytes, emitted verbatim by bencode()."""


def bencode(x):
    if isinstance(x, Raw):
        return bytes(x)
    if isinstance(x, bool):
        raise TypeError("bool")
    if isinstance(x, int):
        return b"i%de" % x
    if isinstance(x, str):
        x = x.encode()
    if isinstance(x, (bytes, bytearray)):
        return b"%d:%s" % (len(x), bytes(x))
    if isinstance(x, list):
        return b"l" + b"".join(bencode(i) for i in x) + b"e"
    if isinstance(x, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in x.items())
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in items) + b"e"
    raise TypeError(type(x))


def _bdec(b, i, spans, depth):
    if depth > 64:
        raise ValueError("bencode too deep")
    c = b[i:i + 1]
    if c == b"i":
        j = b.index(b"e", i)
        return int(b[i + 1:j]), j + 1
    if c == b"l":
        i += 1
        out = []
        while b[i:i + 1] != b"e":
            v, i = _bdec(b, i, spans, depth + 1)
            out.append(v)
        return out, i + 1
    if c == b"d":
        i += 1
        out = {}
        while b[i:i + 1] != b"e":
            k, i = _bdec(b, i, spans, depth + 1)
            start = i
            v, i = _bdec(b, i, spans, depth + 1)
            out[k] = v
            if k == b"info" and depth == 0:
                spans["info"] = (start, i)
        return out, i + 1
    if not c.isdigit():
        raise ValueError("bad bencode at %d" % i)
    j = b.index(b":", i)
    n = int(b[i:j])
    if j + 1 + n > len(b):
        raise ValueError("string past end")
    return b[j + 1:j + 1 + n], j + 1 + n


def bdecode(b):
    return _bdec(b, 0, {}, 0)[0]


def info_span(tbytes):
    spans = {}
    _bdec(tbytes, 0, spans, 0)
    return spans["info"]


def infohash(tbytes):
    a, z = info_span(tbytes)
    return hashlib.sha1(tbytes[a:z]).hexdigest()


def with_announce(tbytes, url):
    """The same torrent (same info bytes, same info-hash) announcing to `url`."""
    a, z = info_span(tbytes)
    meta = {k: v for k, v in bdecode(tbytes).items() if k not in (b"info", b"announce", b"announce-list")}
    meta[b"info"] = Raw(tbytes[a:z])
    meta[b"announce"] = url
    out = bencode(meta)
    assert infohash(out) == infohash(tbytes)
    return out


def torrent_files(tbytes):
    """[(relative path under the save path, length)] in torrent order."""
    info = bdecode(tbytes)[b"info"]
    name = info[b"name"].decode()
    if b"files" not in info and b"length" not in info:     # BEP52 v2-only: the file tree
        out = []

        def walk(d, parts):
            for k, v in d.items():
                if b"" in v:
                    out.append((os.path.join(*parts, k.decode()), v[b""][b"length"]))
                else:
                    walk(v, parts + [k.decode()])
        walk(info[b"file tree"], [])
        if len(out) == 1 and list(info[b"file tree"].values())[0].get(b""):
            return out
        return [(os.path.join(name, p), n) for p, n in out]
    if b"files" not in info:
        return [(name, info[b"length"])]
    return [(os.path.join(name, *[c.decode() for c in f[b"path"]]), f[b"length"])
            for f in info[b"files"] if b"p" not in f.get(b"attr", b"")]   # BEP47 pads: not on disk


def make_torrent(info, announce=None):
    """A .torrent from an info dict built in Python (hostile names welcome)."""
    meta = {"info": info, "created by": "torrentd-tests", "creation date": int(time.time())}
    if announce:
        meta["announce"] = announce
    t = bencode(meta)
    return t, infohash(t)



def seeded_file(workdir, name, size=300000, announce=None):
    """size random bytes in workdir/seed-data/name and their single-file
    v1 torrent (16 KiB pieces): (tbytes, infohash, root, payload)."""
    payload = os.urandom(size)
    root = os.path.join(workdir, "seed-data")
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, name), "wb") as f:
        f.write(payload)
    info = {"name": name, "length": size, "piece length": 16384,
            "pieces": b"".join(hashlib.sha1(payload[k:k + 16384]).digest() for k in range(0, size, 16384))}
    tb, h = make_torrent(info, announce)
    return tb, h, root, payload


class QuietTracker(http.server.BaseHTTPRequestHandler):
    """An HTTP tracker (for http.server) that answers every GET with no
    peers; subclasses note what they want to see in record()."""

    def record(self):
        pass

    def do_GET(self):
        self.record()
        body = bencode({"interval": 1800, "peers": b""})
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass

def piece_hashes(payload, piece_len):
    return b"".join(hashlib.sha1(payload[i:i + piece_len]).digest()
                    for i in range(0, len(payload), piece_len))


def write_random(path, size, chunk=8 * MiB):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        left = size
        while left > 0:
            n = min(chunk, left)
            f.write(os.urandom(n))
            left -= n


def mktorrent(target, out, announce, piece_exp=18):
    subprocess.run(["mktorrent", "-l", str(piece_exp), "-a", announce, "-o", out, target],
                   check=True, stdout=subprocess.DEVNULL, timeout=600)
    with open(out, "rb") as f:
        return f.read()


class Dataset:
    """Random files under seed_root/<name>/..., a .torrent made by mktorrent."""

    def __init__(self, seed_root, name, files, piece_exp=18):
        self.seed_root = seed_root
        self.name = name
        self.files = files                  # [(relpath inside name, size)]
        for rel, size in files:
            write_random(os.path.join(seed_root, name, rel), size)
        target = os.path.join(seed_root, name)
        self.tbytes = mktorrent(target, os.path.join(os.path.dirname(seed_root), name + ".torrent"),
                                "http://127.0.0.1:1/announce", piece_exp)
        self.infohash = infohash(self.tbytes)
        self.size = sum(s for _, s in files)
        self.piece_len = 1 << piece_exp

    def torrent(self, tracker):
        return with_announce(self.tbytes, tracker.announce)


def compare_files(tbytes, src_root, dst_root):
    """List of mismatches (relpath, reason) between two save paths."""
    bad = []
    for rel, length in torrent_files(tbytes):
        a, b = os.path.join(src_root, rel), os.path.join(dst_root, rel)
        if not os.path.isfile(b):
            bad.append((rel, "missing"))
        elif os.path.getsize(b) != length:
            bad.append((rel, "size %d != %d" % (os.path.getsize(b), length)))
        elif not filecmp.cmp(a, b, shallow=False):
            bad.append((rel, "content differs"))
    return bad


def assert_same_data(tbytes, src_root, dst_root, settle=10.0):
    """Every file byte-identical. A completed client may still be flushing its
    last writes, so mismatches get `settle` seconds to disappear."""
    t0 = time.monotonic()
    while True:
        bad = compare_files(tbytes, src_root, dst_root)
        if not bad:
            return
        if time.monotonic() - t0 > settle:
            raise AssertionError("data differs from the original: %s" % bad)
        time.sleep(1.0)


def tree_snapshot(root, exclude=None):
    """{relpath: (type, size)} of everything under root (symlinks not followed),
    skipping the subtree `exclude`."""
    snap = {}
    for dirpath, dirnames, filenames in os.walk(root):
        if exclude and os.path.abspath(dirpath) == os.path.abspath(exclude):
            dirnames[:] = []
            continue
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            if exclude and os.path.abspath(p) == os.path.abspath(exclude):
                continue
            st = os.lstat(p)
            kind = "dir" if os.path.isdir(p) and not os.path.islink(p) else \
                ("link" if os.path.islink(p) else "file")
            snap[os.path.relpath(p, root)] = (kind, st.st_size if kind == "file" else 0)
    return snap


# --------------------------------------------------------------------------
# opentracker
# --------------------------------------------------------------------------

class Tracker(Proc):
    """opentracker on 127.0.0.1 with an info-hash whitelist."""
    kind = "opentracker"

    def start(self, hashes):
        self.port = free_port()
        wl = os.path.join(self.rundir, "whitelist.txt")
        with open(wl, "w") as f:
            f.write("".join(h + "\n" for h in hashes))
        # opentracker chroots into -d before reading -w: the path must be relative
        self.spawn(["opentracker", "-i", "127.0.0.1", "-p", str(self.port), "-P", str(self.port),
                    "-d", self.rundir, "-w", "whitelist.txt"])

        def up():
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return True
            except OSError:
                return False
        wait_until(up, 10, "opentracker to listen", 0.05, procs=[self])
        return self

    @property
    def announce(self):
        return "http://127.0.0.1:%d/announce" % self.port

    def scrape(self, ih, key):
        try:
            q = "".join("%%%02X" % c for c in bytes.fromhex(ih))
            r = requests.get("http://127.0.0.1:%d/scrape?info_hash=%s" % (self.port, q), timeout=2)
            for v in bdecode(r.content).get(b"files", {}).values():
                return v.get(key, 0)
            return 0
        except Exception:
            return None

    def seeders(self, ih):
        return self.scrape(ih, b"complete") or 0

    def leechers(self, ih):
        return self.scrape(ih, b"incomplete") or 0


# --------------------------------------------------------------------------
# qBittorrent WebUI API v2 clients: torrentd and qbittorrent-nox
# --------------------------------------------------------------------------

# torrentd and qBittorrent close a keep-alive connection after 7 s without a
# request. A request sent on a pooled connection just as the server closes it
# dies with RemoteDisconnected (the keep-alive race; requests never resends a
# POST), which a busy machine hits when a test leaves a daemon alone for ~7 s.
# So a connection idle for longer than this is never reused: the request goes
# out on a new one, well inside the server's window.
KEEPALIVE_REUSE_S = 3.0


class FreshConnAdapter(requests.adapters.HTTPAdapter):
    """An HTTPAdapter that drops its pooled connections when they have been
    idle for more than KEEPALIVE_REUSE_S (see above)."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self._last = None

    def send(self, request, **kw):
        if self._last is not None and time.monotonic() - self._last > KEEPALIVE_REUSE_S:
            self.poolmanager.clear()
        try:
            return super().send(request, **kw)
        finally:
            self._last = time.monotonic()


def http_session():
    """A requests.Session that never reuses a connection the server may be
    closing (FreshConnAdapter)."""
    s = requests.Session()
    s.mount("http://", FreshConnAdapter())
    s.mount("https://", FreshConnAdapter())
    return s


class QbtApi(Proc):
    """Shared API code for anything that speaks the qBittorrent WebUI API v2."""

    def __init__(self, rundir, bind_ip, name=None, password=PASSWORD):
        super().__init__(rundir, name)
        self.bind_ip = bind_ip
        self.profile = os.path.join(rundir, "profile")
        self.password = password
        self.webui_port = free_port()
        self.listen_port = free_port()
        self.s = None

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.webui_port

    @property
    def peer_addr(self):
        return "%s:%d" % (self.bind_ip, self.listen_port)

    def new_session(self):
        s = http_session()
        # qBittorrent's CSRF check wants Referer == Host (host and port)
        s.headers.update({"Referer": self.base, "Accept-Encoding": "identity"})
        return s

    def wait_api(self, timeout):
        self.s = self.new_session()

        def up():
            try:
                return self.s.get(self.base + "/api/v2/app/version", timeout=2).status_code in (200, 403)
            except requests.RequestException:
                return False
        wait_until(up, timeout, "%s API on %s" % (self.name, self.base), 0.05, procs=[self])

    def login(self):
        r = self.s.post(self.base + "/api/v2/auth/login",
                        data={"username": USER, "password": self.password}, timeout=10)
        if r.status_code != 200 or r.text.strip() != "Ok.":
            raise TdError("%s login failed: %s %r" % (self.name, r.status_code, r.text[:200]))

    def req(self, method, path, ok=(200,), **kw):
        kw.setdefault("timeout", 60)
        r = self.s.request(method, self.base + path, **kw)
        if r.status_code not in ok:
            raise TdError("%s %s %s -> %d %r" % (self.name, method, path, r.status_code, r.text[:300]))
        return r

    def get(self, path, **params):
        return self.req("GET", path, params=params)

    def post(self, path, **data):
        return self.req("POST", path, data=data)

    def set_prefs(self, prefs):
        self.post("/api/v2/app/setPreferences", json=json.dumps(prefs))

    def prefs(self):
        return self.get("/api/v2/app/preferences").json()

    def add(self, tbytes, savepath, skip_checking=False, stopped=False, filename="t.torrent", **extra):
        files = [("torrents", (filename, tbytes, "application/x-bittorrent"))]
        data = {"savepath": savepath, "skip_checking": "true" if skip_checking else "false",
                "stopped": "true" if stopped else "false", "paused": "true" if stopped else "false"}
        data.update(extra)
        r = self.req("POST", "/api/v2/torrents/add", files=files, data=data)
        if r.text.strip() != "Ok.":
            raise TdError("%s add failed: %r" % (self.name, r.text[:200]))
        return r

    def info(self, h=None, **params):
        if h:
            params["hashes"] = h
        return self.get("/api/v2/torrents/info", **params).json()

    def torrent(self, h):
        """The torrents/info element for h, or None."""
        for t in self.info(h):
            if t.get("hash") == h:
                return t
        return None

    def add_peers(self, h, peers):
        return self.post("/api/v2/torrents/addPeers", hashes=h, peers="|".join(peers))

    def reannounce(self, h):
        self.post("/api/v2/torrents/reannounce", hashes=h)

    def delete(self, h, delete_files=False):
        self.post("/api/v2/torrents/delete", hashes=h, deleteFiles="true" if delete_files else "false")

    def progress(self, h):
        t = self.torrent(h)
        return float(t["progress"]) if t else 0.0

    def is_complete(self, h):
        t = self.torrent(h)
        return bool(t and float(t["progress"]) >= 1.0 and t.get("amount_left", 0) == 0
                    and not str(t.get("state", "")).startswith("checking"))

    def is_seeding(self, h):
        t = self.torrent(h)
        return bool(t and float(t["progress"]) >= 1.0 and t.get("state") in SEED_STATES)

    def wait_seeding(self, h, timeout):
        wait_until(lambda: self.is_seeding(h), timeout, "%s to seed %s" % (self.name, h[:8]),
                   0.1, procs=[self])

    def wait_complete(self, h, timeout, procs=()):
        wait_until(lambda: self.is_complete(h), timeout, "%s to complete %s" % (self.name, h[:8]),
                   0.1, procs=[self] + list(procs))


def torrentd_bin():
    b = os.environ.get("TORRENTD_BIN") or os.path.join(REPO, "build", "asan", "torrentd")
    if not os.path.isfile(b):
        raise TdError("torrentd binary %s not found (make asan, or set TORRENTD_BIN)" % b)
    return b


class Torrentd(QbtApi):
    kind = "torrentd"

    def __init__(self, rundir, bind_ip, name="torrentd", password=PASSWORD, binary=None):
        super().__init__(rundir, bind_ip, name, password)
        self.binary = binary
        self.save_path = os.path.join(rundir, "downloads")

    def argv(self):
        return [self.binary or torrentd_bin(), "--profile", self.profile,
                "--webui-port", str(self.webui_port), "--webui-address", "127.0.0.1",
                "--listen-port", str(self.listen_port), "--listen-address", self.bind_ip,
                "--save-path", self.save_path, "--webui-password", self.password]

    def start(self, timeout=60, login=True):
        """Start (or restart, same profile and ports) and log in."""
        os.makedirs(self.profile, exist_ok=True)
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        self.spawn(self.argv(), env=env)
        self.wait_api(timeout)
        if login:
            self.login()
            # nothing may reach out, whatever the defaults are
            self.set_prefs({"dht": False, "lsd": False, "pex": False, "upnp": False})
        return self


class Qbt(QbtApi):
    """qbittorrent-nox 4.5.2 with a profile written by us (legal notice
    accepted, PBKDF2 password, WebUI on 127.0.0.1, nothing that reaches out)."""
    kind = "qbt"

    def write_conf(self, refresh_ms=100):
        d = os.path.join(self.profile, "qBittorrent", "config")
        os.makedirs(d, exist_ok=True)
        salt = os.urandom(16)
        key = hashlib.pbkdf2_hmac("sha512", self.password.encode(), salt, 100000, 64)
        pw = "@ByteArray(%s:%s)" % (base64.b64encode(salt).decode(), base64.b64encode(key).decode())
        conf = "\n".join([
            "[LegalNotice]", "Accepted=true", "",
            "[Network]", "PortForwardingEnabled=false", "",
            "[BitTorrent]",
            "Session\\DHTEnabled=false", "Session\\LSDEnabled=false", "Session\\PeXEnabled=false",
            "Session\\Port=%d" % self.listen_port,
            "Session\\InterfaceAddress=%s" % self.bind_ip,
            "Session\\DefaultSavePath=%s" % os.path.join(self.profile, "downloads"),
            "Session\\TempPathEnabled=false",
            "Session\\BTProtocol=%s" % getattr(self, "bt_protocol", "TCP"),
            "Session\\RefreshInterval=%d" % refresh_ms,
            "Session\\AnonymousModeEnabled=false",
            "",
            "[Preferences]",
            "General\\Locale=en",
            "Connection\\ResolvePeerCountries=false",
            "Connection\\UPnP=false",
            "WebUI\\Address=127.0.0.1",
            "WebUI\\Port=%d" % self.webui_port,
            "WebUI\\Username=%s" % USER,
            'WebUI\\Password_PBKDF2="%s"' % pw,
            "WebUI\\LocalHostAuth=true",
            "WebUI\\UseUPnP=false",
            ""])
        with open(os.path.join(d, "qBittorrent.conf"), "w") as f:
            f.write(conf)

    def start(self, timeout=60):
        self.write_conf()
        self.spawn(["qbittorrent-nox", "--profile=" + self.profile,
                    "--webui-port=%d" % self.webui_port, "--torrenting-port=%d" % self.listen_port])
        self.wait_api(timeout)
        self.login()
        self.set_prefs({"dht": False, "lsd": False, "pex": False, "upnp": False,
                        "resolve_peer_countries": False, "bittorrent_protocol": 1,
                        "listen_port": self.listen_port, "random_port": False,
                        "current_interface_address": self.bind_ip})
        p = self.prefs()
        if p.get("dht") or p.get("lsd") or p.get("pex") or p.get("upnp"):
            raise TdError("qbt still has dht/lsd/pex/upnp on")
        return self


# --------------------------------------------------------------------------
# transmission-daemon
# --------------------------------------------------------------------------

class Transmission(Proc):
    """transmission-daemon 3.00 over JSON-RPC; it never dials 127/8 peers."""
    kind = "transmission"

    def __init__(self, rundir, bind_ip, name="transmission", settings=None, utp=False):
        super().__init__(rundir, name)
        self.bind_ip = bind_ip
        self.settings = settings or {}   # settings.json keys over the defaults below
        self.utp = utp
        self.profile = os.path.join(rundir, "profile")
        self.rpc_port = free_port()
        self.listen_port = free_port()
        self.sid = ""
        self.s = http_session()

    @property
    def peer_addr(self):
        return "%s:%d" % (self.bind_ip, self.listen_port)

    def start(self, timeout=60):
        os.makedirs(self.profile, exist_ok=True)
        st = {"dht-enabled": False, "lpd-enabled": False, "pex-enabled": False, "utp-enabled": self.utp,
              "port-forwarding-enabled": False, "peer-port": self.listen_port,
              "peer-port-random-on-start": False, "bind-address-ipv4": self.bind_ip,
              "bind-address-ipv6": "::1", "rpc-enabled": True, "rpc-port": self.rpc_port,
              "rpc-bind-address": "127.0.0.1", "rpc-authentication-required": False,
              "rpc-whitelist-enabled": True, "rpc-whitelist": "127.0.0.1",
              "rpc-host-whitelist-enabled": False,
              "download-dir": os.path.join(self.profile, "downloads"),
              "incomplete-dir-enabled": False, "watch-dir-enabled": False,
              "blocklist-enabled": False, "message-level": 1}
        st.update(self.settings)
        with open(os.path.join(self.profile, "settings.json"), "w") as f:
            json.dump(st, f, indent=1)
        self.spawn(["transmission-daemon", "-f", "-g", self.profile, "-p", str(self.rpc_port),
                    "-P", str(self.listen_port), "-r", "127.0.0.1", "-i", self.bind_ip, "-T",
                    "-O", "-Y", "-M", "-C", "--utp" if self.utp else "--no-utp"])

        def up():
            try:
                self.rpc("session-get", {"fields": ["version"]}, timeout=2)
                return True
            except (requests.RequestException, TdError):
                return False
        wait_until(up, timeout, "transmission RPC", 0.05, procs=[self])
        return self

    def rpc(self, method, args=None, timeout=60):
        body = json.dumps({"method": method, "arguments": args or {}})
        for _ in range(3):
            r = self.s.post("http://127.0.0.1:%d/transmission/rpc" % self.rpc_port, data=body,
                            headers={"X-Transmission-Session-Id": self.sid}, timeout=timeout)
            if r.status_code == 409:
                self.sid = r.headers.get("X-Transmission-Session-Id", "")
                continue
            r.raise_for_status()
            d = r.json()
            if d.get("result") != "success":
                raise TdError("transmission %s: %s" % (method, d.get("result")))
            return d.get("arguments", {})
        raise TdError("transmission: session-id dance failed")

    def add(self, tbytes, savepath):
        a = self.rpc("torrent-add", {"metainfo": base64.b64encode(tbytes).decode(),
                                     "download-dir": savepath, "paused": False})
        if "torrent-added" not in a and "torrent-duplicate" not in a:
            raise TdError("transmission add failed: %s" % a)

    def torrent(self, h):
        ts = self.rpc("torrent-get", {"ids": [h], "fields": [
            "hashString", "status", "percentDone", "leftUntilDone", "error", "errorString",
            "uploadedEver", "downloadedEver"]})["torrents"]
        return ts[0] if ts else None

    def is_complete(self, h):
        t = self.torrent(h)
        return bool(t and t["leftUntilDone"] == 0 and t["percentDone"] >= 1.0
                    and t["status"] not in (1, 2))

    def is_seeding(self, h):
        t = self.torrent(h)
        return bool(t and t["status"] == 6)

    def progress(self, h):
        t = self.torrent(h)
        return float(t["percentDone"]) if t else 0.0

    def is_downloading(self, h):
        t = self.torrent(h)
        return bool(t and t["status"] == 4)

    def wait_seeding(self, h, timeout):
        wait_until(lambda: self.is_seeding(h), timeout, "transmission to seed", 0.1, procs=[self])

    def reannounce(self, h):
        self.rpc("torrent-reannounce", {"ids": [h]})


# --------------------------------------------------------------------------
# a minimal seeder (for torrents whose on-disk names are unknowable)
# --------------------------------------------------------------------------

class MiniSeeder:
    """Serves one v1 torrent from memory over plain TCP (no extensions, no
    encryption): handshake, full bitfield, unchoke on interest, pieces on
    request. Enough for a client that is told about it with addPeers."""

    MAX_MSG = 1 << 20

    def __init__(self, ip, ih_hex, payload, piece_len):
        self.ih = bytes.fromhex(ih_hex)
        self.payload = payload
        self.piece_len = piece_len
        self.npieces = (len(payload) + piece_len - 1) // piece_len
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((ip, 0))
        self.sock.listen(8)
        self.addr = "%s:%d" % self.sock.getsockname()
        self.stopping = False
        self.conns = []
        self.served = 0
        self.refused = 0
        self.errors = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    @staticmethod
    def _read(c, n):
        b = b""
        while len(b) < n:
            x = c.recv(n - len(b))
            if not x:
                raise EOFError
            b += x
        return b

    def _serve(self, c):
        try:
            c.settimeout(60)
            hs = self._read(c, 68)
            if hs[:20] != b"\x13BitTorrent protocol" or hs[28:48] != self.ih:
                self.refused += 1       # e.g. an MSE-encrypted attempt first
                return
            c.sendall(b"\x13BitTorrent protocol" + bytes(8) + self.ih + b"-PY0001-" + os.urandom(6).hex()[:12].encode())
            bf = bytearray((self.npieces + 7) // 8)
            for i in range(self.npieces):
                bf[i // 8] |= 0x80 >> (i % 8)
            c.sendall(struct.pack(">IB", 1 + len(bf), 5) + bytes(bf))
            while not self.stopping:
                (n,) = struct.unpack(">I", self._read(c, 4))
                if n == 0:
                    continue
                if n > self.MAX_MSG:
                    raise ValueError("message too long: %d" % n)
                m = self._read(c, n)
                if m[0] == 2:                       # interested
                    c.sendall(struct.pack(">IB", 1, 1))
                elif m[0] == 6 and n == 13:         # request
                    idx, begin, length = struct.unpack(">III", m[1:])
                    off = idx * self.piece_len + begin
                    if idx >= self.npieces or length > 128 * 1024 or begin + length > self.piece_len \
                            or off + length > len(self.payload):
                        raise ValueError("bad request %d %d %d" % (idx, begin, length))
                    blk = self.payload[off:off + length]
                    c.sendall(struct.pack(">IBII", 9 + len(blk), 7, idx, begin) + blk)
                    self.served += len(blk)
        except (OSError, EOFError):
            pass
        except ValueError as e:
            self.errors.append(str(e))
        finally:
            c.close()

    def close(self):
        self.stopping = True
        try:
            self.sock.close()
        except OSError:
            pass
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass


# --------------------------------------------------------------------------
# swarm choreography
# --------------------------------------------------------------------------

def wait_tracker_sees(tracker, h, seeders=0, leechers=0, client=None, timeout=30):
    """Until the tracker's scrape shows the peers; one reannounce after 3 s."""
    t0, nudged = time.monotonic(), False
    while True:
        if tracker.seeders(h) >= seeders and tracker.leechers(h) >= leechers:
            return
        el = time.monotonic() - t0
        if client is not None and not nudged and el > 3:
            client.reannounce(h)
            nudged = True
        if el > timeout:
            raise TdError("tracker saw %d seeders / %d leechers of %s, wanted %d / %d" % (
                tracker.seeders(h), tracker.leechers(h), h[:8], seeders, leechers))
        tracker.check_alive()
        time.sleep(0.2)


def wait_complete(leecher, h, timeout, procs=(), nudge=None, nudge_every=10.0, stall=45.0):
    """Until leecher has all of h; gives up after `timeout` s, or after `stall`
    s without any progress (keeps a hung daemon from eating the time budget).
    nudge() (e.g. an addPeers on the other side) runs first and again whenever
    progress has not moved for nudge_every s."""
    t0 = time.monotonic()
    last_p, last_move, last_nudge = -1.0, t0, None
    while True:
        now = time.monotonic()
        try:
            if leecher.is_complete(h):
                return now - t0
            p = leecher.progress(h)
        except requests.RequestException:
            p = last_p
        if p != last_p:
            last_p, last_move = p, now
        if nudge is not None and (last_nudge is None or
                                  (now - last_move > nudge_every and now - last_nudge > nudge_every)):
            try:
                nudge()
            except (requests.RequestException, TdError):
                pass
            last_nudge = now
        for pr in [leecher] + list(procs):
            pr.check_alive()
        if now - t0 > timeout or now - last_move > stall:
            raise TdError("%s: %s not complete after %.0fs, no progress for %.0fs (progress %.3f)" % (
                leecher.name, h[:8], now - t0, now - last_move, last_p))
        time.sleep(0.1)
