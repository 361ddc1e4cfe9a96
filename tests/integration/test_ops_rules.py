"""qBitrr's torrent-side rules in torrentd (src/ops): the free-space guard on
a small tmpfs (fsfault, inside the private mount namespace of
scripts/netns-run.sh), stalled handling, per-tracker seeding rules, and the
Arr import trigger against a loopback HTTP server that checks each
request's method, path, headers and JSON body as Sonarr, Radarr and Lidarr
document their command API."""
import hashlib
import http.server
import json
import os
import threading

import fsfault
from conftest import LEECH_IP
from tdlib import MiB, Torrentd, free_port, make_torrent, wait_until

T = "/api/v2/torrents/"


def _start(procs, workdir, name="rules"):
    return procs.add(Torrentd(os.path.join(workdir, name), LEECH_IP, name=name)).start()


def _config(td, changes):
    r = td.req("POST", "/api/config", json={"changes": changes})
    assert r.json()["status"] == "ok", r.text


def _fake_torrent(name, size, piece=256 * 1024, announce=None):
    """A single-file torrent of `size` bytes whose data nobody has."""
    n = (size + piece - 1) // piece
    info = {"name": name, "length": size, "piece length": piece,
            "pieces": b"".join(hashlib.sha1(b"%s-%d" % (name.encode(), i)).digest() for i in range(n))}
    return make_torrent(info, announce)


def _real_torrent(dirpath, name, payload, piece=16384, announce=None):
    """A single-file torrent whose data is written to dirpath/name."""
    os.makedirs(dirpath, exist_ok=True)
    with open(os.path.join(dirpath, name), "wb") as f:
        f.write(payload)
    info = {"name": name, "length": len(payload), "piece length": piece,
            "pieces": b"".join(hashlib.sha1(payload[k:k + piece]).digest() for k in range(0, len(payload), piece))}
    return make_torrent(info, announce)


def _tags(td, h):
    t = td.torrent(h)
    return set(x for x in t["tags"].split(", ") if x) if t else None


# --------------------------------------------------------------------------
# free-space guard
# --------------------------------------------------------------------------

def test_free_space_guard(procs, workdir):
    """8 MiB tmpfs, 2 MiB floor: of downloads needing 3, 4 and 1 MiB (queue
    order) the 4 MiB one does not fit after the first: stopped and tagged,
    the 1 MiB one still runs; a download the user stopped is left alone;
    once the tmpfs grows the guard starts it again and removes the tag."""
    fsfault.require_private_mounts()
    small = fsfault.Tmpfs(os.path.join(workdir, "small"), 8 * MiB)
    procs.on_close(small.close)
    td = _start(procs, workdir)
    free = small.free()
    assert free > 7 * MiB
    a, ha = _fake_torrent("a.bin", 3 * MiB)
    b, hb = _fake_torrent("b.bin", 4 * MiB)
    c, hc = _fake_torrent("c.bin", 1 * MiB)
    d, hd = _fake_torrent("d.bin", 100 * MiB)
    for tb, h, name in ((a, ha, "a"), (b, hb, "b"), (c, hc, "c")):
        td.add(tb, small.path, filename=name + ".torrent")
        wait_until(lambda: td.torrent(h), 10, name + " added")
    td.add(d, small.path, stopped=True, filename="d.torrent")
    wait_until(lambda: td.torrent(hd), 10, "d added")
    _config(td, {"Ops.FreeSpaceFolder": small.path, "Ops.FreeSpace": free - 6 * MiB - 512 * 1024})

    wait_until(lambda: "free_space_paused" in _tags(td, hb), 10, "b tagged")
    assert td.torrent(hb)["state"] == "stoppedDL"
    for h in (ha, hc):
        assert "free_space_paused" not in _tags(td, h)
        assert td.torrent(h)["state"] not in ("stoppedDL", "pausedDL"), td.torrent(h)
    assert _tags(td, hd) == set() and td.torrent(hd)["state"] == "stoppedDL"
    msgs = [m["message"] for m in td.get("/api/v2/log/main").json()]
    assert any("b.bin" in m and "free_space_paused" in m for m in msgs), msgs[-5:]
    h = td.get("/api/health").json()
    assert h["status"] == "ok" or all(not p.startswith("disk") for p in h["problems"]), h

    # space returns: started again, untagged; the user's stop stays
    fsfault._run("mount", "-o", "remount,size=%d" % (16 * MiB), small.path)
    wait_until(lambda: "free_space_paused" not in _tags(td, hb), 10, "b resumed")
    assert td.torrent(hb)["state"] != "stoppedDL"
    assert td.torrent(hd)["state"] == "stoppedDL" and _tags(td, hd) == set()
    m = td.req("GET", "/metrics").text
    assert 'torrentd_ops_actions_total{action="free_space_paused"} 1' in m
    assert 'torrentd_ops_actions_total{action="free_space_resumed"} 1' in m

    # without auto resume a held torrent stays held
    fsfault._run("mount", "-o", "remount,size=%d" % (8 * MiB), small.path)
    _config(td, {"Ops.AutoPauseResume": False})
    wait_until(lambda: "free_space_paused" in _tags(td, hb), 10, "b tagged again")
    fsfault._run("mount", "-o", "remount,size=%d" % (16 * MiB), small.path)
    # the guard has seen the space (health shows what it saw) and b is still held
    wait_until(lambda: td.get("/api/health").json()["checks"]["free_space_guard"]["free_bytes"] > 12 * MiB, 10,
               "the guard seeing 16 MiB")
    g = td.get("/api/health").json()["checks"]["free_space_guard"]
    assert g["enabled"] is True and g["folder"] == small.path and g["paused"] == 1, g
    assert "free_space_paused" in _tags(td, hb) and td.torrent(hb)["state"] == "stoppedDL"


# --------------------------------------------------------------------------
# stalled
# --------------------------------------------------------------------------

def test_stalled_tag_and_remove(procs, workdir):
    """Stalled downloads (no peers) are tagged after StalledDelay minutes;
    with RemoveStalled the ones at or below MaximumDeletablePercentage are
    removed with their files, the one further along is kept."""
    td = _start(procs, workdir)
    save = os.path.join(workdir, "rules", "dl")
    x, hx = _fake_torrent("x.bin", 2 * MiB)
    payload = os.urandom(512 * 1024)
    # y: half of its data is on disk (the first half of the pieces check good)
    y_full = payload + os.urandom(512 * 1024)
    ytb, hy = _real_torrent(save, "y.bin", y_full)
    with open(os.path.join(save, "y.bin"), "r+b") as f:
        f.seek(512 * 1024)
        f.write(b"\0" * (512 * 1024))
    td.add(x, save, filename="x.torrent")
    td.add(ytb, save, filename="y.torrent")
    wait_until(lambda: td.torrent(hx) and td.torrent(hy), 10, "added")
    wait_until(lambda: td.torrent(hy)["state"] == "stalledDL", 20, "y checked and stalled")
    assert 0.4 < td.torrent(hy)["progress"] < 0.6
    _config(td, {"Ops.StalledDelay": 0.02, "Ops.IgnoreTorrentsYoungerThan": 0})
    wait_until(lambda: "stalled" in _tags(td, hx) and "stalled" in _tags(td, hy), 15, "both tagged stalled")
    assert td.torrent(hx) and td.torrent(hy)
    _config(td, {"Ops.RemoveStalled": True, "Ops.MaximumDeletablePercentage": 0.3})
    wait_until(lambda: td.torrent(hx) is None, 15, "x removed")
    assert td.torrent(hy) is not None and "stalled" in _tags(td, hy)
    assert os.path.exists(os.path.join(save, "y.bin"))
    m = td.req("GET", "/metrics").text
    assert 'torrentd_ops_actions_total{action="stalled_removed"} 1' in m
    assert 'torrentd_ops_actions_total{action="stalled_tagged"} 2' in m


def test_stalled_managed_categories(procs, workdir):
    """With ManagedCategories set, torrents outside them are left alone."""
    td = _start(procs, workdir)
    save = os.path.join(workdir, "rules", "dl")
    a, ha = _fake_torrent("m1.bin", MiB)
    b, hb = _fake_torrent("m2.bin", MiB)
    td.add(a, save, filename="a.torrent", category="tv")
    td.add(b, save, filename="b.torrent", category="other")
    wait_until(lambda: td.torrent(ha) and td.torrent(hb), 10, "added")
    _config(td, {"Ops.StalledDelay": 0.01, "Ops.IgnoreTorrentsYoungerThan": 0, "Ops.ManagedCategories": "tv"})
    wait_until(lambda: "stalled" in _tags(td, ha), 15, "the managed one tagged")
    assert "stalled" not in _tags(td, hb)
    # moving again untags: the torrent is stopped (no longer stalled)
    td.post(T + "stop", hashes=ha)
    wait_until(lambda: "stalled" not in _tags(td, ha), 10, "untagged once no longer stalled")


# --------------------------------------------------------------------------
# seeding rules
# --------------------------------------------------------------------------

def test_seeding_rules_per_tracker(procs, workdir):
    """A finished torrent on a tracker whose rule removes on ratio is
    removed (files kept) once its hit-and-run minimums are met; one on
    another tracker is not."""
    td = _start(procs, workdir)
    save = os.path.join(workdir, "rules", "seed")
    p1, p2 = os.urandom(100000), os.urandom(100000)
    t1, h1 = _real_torrent(save, "s1.bin", p1, announce="http://127.0.0.1:1/hnr-tracker/announce")
    t2, h2 = _real_torrent(save, "s2.bin", p2, announce="http://127.0.0.1:1/other/announce")
    td.add(t1, save, filename="s1.torrent")
    td.add(t2, save, filename="s2.torrent")
    wait_until(lambda: all(td.torrent(h) and td.torrent(h)["progress"] == 1 for h in (h1, h2)), 20, "seeding")
    # ratio 0 reaches MaxUploadRatio 0; the HnR minimum seed time holds it first
    rules = [{"Tracker": "hnr-tracker", "MaxUploadRatio": 0, "RemoveTorrent": 1,
              "HitAndRunMinimumSeedTime": 3600}]
    _config(td, {"Ops.SeedingRules": rules})
    wait_until(lambda: "hnr_active" in _tags(td, h1), 10, "h1 held by its HnR minimum")
    assert _tags(td, h2) == set()
    rules[0]["HitAndRunMinimumSeedTime"] = 2
    _config(td, {"Ops.SeedingRules": rules})
    wait_until(lambda: td.torrent(h1) is None, 20, "h1 removed after its minimum seed time")
    assert td.torrent(h2) is not None and _tags(td, h2) == set()
    assert os.path.exists(os.path.join(save, "s1.bin"))
    m = td.req("GET", "/metrics").text
    assert 'torrentd_ops_actions_total{action="seeding_removed"} 1' in m


# --------------------------------------------------------------------------
# Arr import trigger
# --------------------------------------------------------------------------

class FakeArr:
    """Sonarr/Radarr/Lidarr on loopback: records every request; answers the
    command API as the Arrs do (201 with the command) and system/status."""

    def __init__(self, kind, key, status=201):
        self.kind, self.key, self.status = kind, key, status
        self.requests = []
        self.port = free_port()
        arr = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _send(self, code, obj):
                body = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                arr.requests.append(("GET", self.path, dict(self.headers), None))
                api = "v1" if arr.kind == "lidarr" else "v3"
                if self.path == "/api/%s/system/status" % api and self.headers.get("X-Api-Key") == arr.key:
                    self._send(200, {"appName": arr.kind.capitalize(), "version": "4.0.1.929"})
                else:
                    self._send(401, {"error": "Unauthorized"})

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                arr.requests.append(("POST", self.path, dict(self.headers), body))
                self._send(arr.status, {"id": len(arr.requests), "name": json.loads(body).get("name"),
                                        "status": "queued"})

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), H)
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d/" % self.port

    def posts(self):
        return [r for r in self.requests if r[0] == "POST"]

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def test_arr_import_trigger(procs, workdir):
    arrs = {"sonarr": FakeArr("sonarr", "sk"), "radarr": FakeArr("radarr", "rk"),
            "lidarr": FakeArr("lidarr", "lk"), "broken": FakeArr("radarr", "bk", status=500)}
    for a in arrs.values():
        procs.on_close(a.close)
    td = _start(procs, workdir)
    cats = {"sonarr": "tv", "radarr": "movies", "lidarr": "music", "broken": "films"}
    conns = [{"Name": "%s-1" % n, "Type": a.kind, "URI": a.url, "APIKey": a.key, "Category": cats[n]}
             for n, a in arrs.items()]
    conns.append({"Name": "gone", "Type": "sonarr", "URI": "http://127.0.0.1:%d" % free_port(), "APIKey": "x",
                  "Category": "anime"})
    _config(td, {"Ops.Arr": conns})
    save = os.path.join(workdir, "rules", "arr")
    hashes = {}
    for n in list(cats) + ["none"]:
        tb, h = _real_torrent(os.path.join(save, n), "%s.mkv" % n, os.urandom(50000))
        hashes[n] = h
        td.add(tb, os.path.join(save, n), filename=n + ".torrent", category=cats.get(n, ""))
    want = {"sonarr": ("/api/v3/command", "DownloadedEpisodesScan"),
            "radarr": ("/api/v3/command", "DownloadedMoviesScan"),
            "lidarr": ("/api/v1/command", "DownloadedAlbumsScan"),
            "broken": ("/api/v3/command", "DownloadedMoviesScan")}
    for n in ("sonarr", "radarr", "lidarr"):
        wait_until(lambda: "imported" in (_tags(td, hashes[n]) or ()), 20, "%s imported" % n)
    wait_until(lambda: arrs["broken"].posts(), 20, "the broken Arr asked")
    for n, (path, cmd) in want.items():
        posts = arrs[n].posts()
        assert len(posts) == 1, (n, posts)
        method, p, headers, body = posts[0]
        assert p == path, (n, p)
        assert headers.get("X-Api-Key") == arrs[n].key
        assert headers.get("Content-Type") == "application/json"
        j = json.loads(body)
        assert j == {"name": cmd, "path": os.path.join(save, n, "%s.mkv" % n),
                     "downloadClientId": hashes[n].upper(), "importMode": "Auto"}, (n, j)
    # the failed import is not tagged; the torrent outside any Arr is not sent
    assert "imported" not in _tags(td, hashes["broken"])
    assert _tags(td, hashes["none"]) == set()
    msgs = [m["message"] for m in td.get("/api/v2/log/main").json()]
    assert any("broken-1 did not accept the import" in m for m in msgs), msgs[-10:]

    # /api/arr: each connection probed with its key
    got = {a["name"]: a for a in td.get("/api/arr").json()["arrs"]}
    assert set(got) == {"sonarr-1", "radarr-1", "lidarr-1", "broken-1", "gone"}
    for n in ("sonarr", "radarr", "lidarr"):
        g = got["%s-1" % n]
        assert g["alive"] is True and g["version"] == "4.0.1.929" and g["category"] == cats[n], g
        assert g["imports"] == 1
        gets = [r for r in arrs[n].requests if r[0] == "GET"]
        assert gets and gets[-1][1] == "/api/%s/system/status" % ("v1" if n == "lidarr" else "v3")
    assert got["gone"]["alive"] is False and "APIKey" not in got["gone"] and "key" not in json.dumps(got)
    st = td.get("/api/status").json()
    assert {(a["name"], a["alive"]) for a in st["arrs"]} >= {("sonarr-1", True), ("gone", False)}

    # a connection added later: torrents already finished in its category are sent
    late = FakeArr("sonarr", "late-key")
    procs.on_close(late.close)
    _config(td, {"Ops.Arr": conns + [{"Name": "late", "Type": "sonarr", "URI": late.url, "APIKey": "late-key",
                                      "Category": ""}]})
    wait_until(lambda: "imported" in _tags(td, hashes["none"]), 20, "the uncategorised torrent imported")
    assert [json.loads(p[3])["downloadClientId"] for p in late.posts()] == [hashes["none"].upper()]
    for n in ("sonarr", "radarr", "lidarr"):
        assert len(arrs[n].posts()) == 1, n

    # once: not again after a restart (the tag says it was sent); the failed
    # one is tried again, which shows the rules ran over every torrent
    td.stop()
    td.start()
    wait_until(lambda: len(arrs["broken"].posts()) == 2, 20, "the failed import tried again after the restart")
    for n in ("sonarr", "radarr", "lidarr"):
        assert len(arrs[n].posts()) == 1, n
