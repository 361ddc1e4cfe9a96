"""Chaos: KILLS random SIGKILLs of a torrentd leecher in the middle of a
workload, restarting it each time on the same profile.

The workload: three multi-file torrents of odd sizes downloading from a
torrentd seeder on loopback (rate-limited so they stay in progress), and an
API client thread that keeps editing them -- createCategory + setCategory,
rename, setLocation between three directories, recheck, delete with files
and add again, setPreferences (one of the three directories is a tmpfs
when the suite runs in netns-run's mount namespace, so moves to and from it
copy). The main thread kills the leecher 0.5-3 s
into each round (so requests and moves are in flight), restarts it, and
checks before the next round:
  * the API is up within RESTART_BOUND_S;
  * every torrent, category, name and preference the API acknowledged is
    there (a request in flight at the kill may have happened or not);
  * every torrent is at its save path: once out of checking and moving, a
    save path is one the API acknowledged (the last setLocation, or the one
    before it when the move was in flight), every piece reported complete
    hashes correctly in its files there, and no file lies outside the
    current save paths' torrent files (no orphan of a deleted torrent, no
    half-moved copy).
At the end, without kills, every torrent completes byte-identical where
the API last asked it to be.

TD_CHAOS_SEED=<n> replays the same operations and kill delays (thread
timing can still differ); the seed is printed and in every failure
message. TD_CHAOS_KILLS overrides the number of kills.
"""
import hashlib
import os
import random
import threading
import time

import pytest
import requests

import fsfault
from conftest import LEECH_IP, SEED_IP
from tdlib import (MiB, Dataset, Torrentd, assert_same_data, bdecode, info_span, torrent_files,
                   wait_until)

KILLS = int(os.environ.get("TD_CHAOS_KILLS", "20"))
SEED = int(os.environ.get("TD_CHAOS_SEED") or random.SystemRandom().randrange(1 << 31))
RATE = 3 * MiB
RESTART_BOUND_S = 20.0
SETS = [
    ("chA", [("a.bin", MiB + 13), ("sub/b.dat", 2 * MiB + 1001), ("sub/c/tiny", 5)]),
    ("chB", [("one.bin", 1500001), ("two/three.bin", 700003)]),
    ("chC", [("x/y/z.bin", 2 * MiB + 77), ("w.bin", 333333)]),
]
PIECE_EXP = 16
BUSY = ("checkingUP", "checkingDL", "checkingResumeData", "moving", "metaDL", "allocating")


class Model:
    """What the API acknowledged. For each fixed field, `ok` holds the values
    that are allowed after a restart: the acknowledged one, plus the
    requested one while a request for it was in flight."""

    def __init__(self, datasets, dirs):
        self.lock = threading.Lock()
        self.t = {}
        for ds in datasets:
            self.t[ds.infohash] = {"present": {True}, "category": {""}, "name": {ds.name},
                                   "save": {dirs[0]}, "ds": ds}
        self.cats = set()
        self.pref = {100}

    def begin(self, h, field, value):
        with self.lock:
            (self.t[h] if h else self.__dict__)[field] = set((self.t[h] if h else self.__dict__)[field]) | {value}

    def ack(self, h, field, value):
        with self.lock:
            (self.t[h] if h else self.__dict__)[field] = {value}

    def settle(self, h, field, value):
        """After a restart: the observed value, if allowed, is the state."""
        with self.lock:
            allowed = (self.t[h] if h else self.__dict__)[field]
            if value in allowed:
                (self.t[h] if h else self.__dict__)[field] = {value}
                return True
            return False


def _worker(td, model, dirs, rnd, stop, counts):
    s = requests.Session()
    logged = False
    k = 0
    hashes = sorted(model.t)
    while not stop.is_set():
        try:
            if not logged:
                s.post(td.base + "/api/v2/auth/login", data={"username": "admin", "password": td.password},
                       timeout=5)
                logged = True
            h = rnd.choice(hashes)
            present = model.t[h]["present"] == {True}
            op = rnd.choice(["category", "rename", "move", "recheck", "remove", "pref"]) if present else "add"
            k += 1
            if op == "category":
                cat = "cat%d" % rnd.randrange(4)
                r = s.post(td.base + "/api/v2/torrents/createCategory", data={"category": cat}, timeout=10)
                if r.status_code in (200, 409):
                    with model.lock:
                        model.cats.add(cat)
                model.begin(h, "category", cat)
                r = s.post(td.base + "/api/v2/torrents/setCategory", data={"hashes": h, "category": cat},
                           timeout=10)
                if r.status_code == 200:
                    model.ack(h, "category", cat)
            elif op == "rename":
                name = "n%d" % k
                model.begin(h, "name", name)
                r = s.post(td.base + "/api/v2/torrents/rename", data={"hash": h, "name": name}, timeout=10)
                if r.status_code == 200:
                    model.ack(h, "name", name)
            elif op == "move":
                to = rnd.choice(dirs)
                model.begin(h, "save", to)   # the move runs after the answer: either is fine until settled
                s.post(td.base + "/api/v2/torrents/setLocation", data={"hashes": h, "location": to}, timeout=10)
            elif op == "recheck":
                s.post(td.base + "/api/v2/torrents/recheck", data={"hashes": h}, timeout=10)
            elif op == "remove":
                model.begin(h, "present", False)
                r = s.post(td.base + "/api/v2/torrents/delete", data={"hashes": h, "deleteFiles": "true"},
                           timeout=10)
                if r.status_code == 200:
                    model.ack(h, "present", False)
            elif op == "pref":
                v = rnd.randrange(50, 400)
                model.begin(None, "pref", v)
                r = s.post(td.base + "/api/v2/app/setPreferences",
                           data={"json": '{"max_connec_per_torrent": %d}' % v}, timeout=10)
                if r.status_code == 200:
                    model.ack(None, "pref", v)
            elif op == "add":
                ds = model.t[h]["ds"]
                to = rnd.choice(dirs)
                model.begin(h, "present", True)
                with model.lock:
                    m = model.t[h]
                    m["category"], m["name"], m["save"] = m["category"] | {""}, m["name"] | {ds.name}, \
                        m["save"] | {to}
                r = s.post(td.base + "/api/v2/torrents/add",
                           files=[("torrents", (ds.name + ".torrent", ds.tbytes, "application/x-bittorrent"))],
                           data={"savepath": to}, timeout=10)
                if r.status_code == 200 and r.text.strip() == "Ok.":
                    with model.lock:
                        m["present"], m["category"], m["name"], m["save"] = {True}, {""}, {ds.name}, {to}
                    s.post(td.base + "/api/v2/torrents/addPeers", data={"hashes": h, "peers": td.seed_addr},
                           timeout=10)
            counts[op] = counts.get(op, 0) + 1
            time.sleep(rnd.uniform(0, 0.15))
        except requests.RequestException:
            logged = False
            time.sleep(0.05)


def _piece_bad(root, tbytes):
    """Indices of pieces reported complete elsewhere -- here: returns a
    function checking one piece under root."""
    s, e = info_span(tbytes)
    info = bdecode(tbytes[s:e])
    plen, hashes = info[b"piece length"], info[b"pieces"]
    files = torrent_files(tbytes)

    def bad(i):
        start, end, out, off = i * plen, (i + 1) * plen, b"", 0
        for rel, length in files:
            lo, hi = max(start, off), min(end, off + length)
            if lo < hi:
                try:
                    with open(os.path.join(root, rel), "rb") as f:
                        f.seek(lo - off)
                        out += f.read(hi - lo)
                except OSError:
                    return True
            off += length
        return hashlib.sha1(out).digest() != hashes[i * 20:i * 20 + 20]
    return bad


def _check(td, model, data_root, why):
    """The invariants after a restart (see the module docstring)."""
    info = {t["hash"]: t for t in td.info()}
    for h, m in model.t.items():
        assert model.settle(h, "present", h in info), "%s: torrent %s present=%s, acknowledged %s" % (
            why, h[:8], h in info, m["present"])
    cats = set(td.get("/api/v2/torrents/categories").json())
    assert model.cats <= cats, "%s: categories lost: %s" % (why, sorted(model.cats - cats))
    pref = td.prefs()["max_connec_per_torrent"]
    assert model.settle(None, "pref", pref), "%s: max_connec_per_torrent %s, acknowledged %s" % (
        why, pref, model.pref)
    for h, t in info.items():
        m = model.t[h]
        assert model.settle(h, "category", t["category"]), "%s: %s category %r, acknowledged %s" % (
            why, h[:8], t["category"], m["category"])
        assert model.settle(h, "name", t["name"]), "%s: %s name %r, acknowledged %s" % (
            why, h[:8], t["name"], m["name"])
    wait_until(lambda: all(t["state"] not in BUSY for t in td.info()), 30,
               "%s: torrents out of checking/moving" % why, procs=[td])
    info = {t["hash"]: t for t in td.info()}
    expected = set()
    for h, t in info.items():
        m = model.t[h]
        save = t["save_path"].rstrip("/")
        assert save in m["save"], "%s: %s is at %s, acknowledged %s" % (why, h[:8], save, m["save"])
        model.settle(h, "save", save)
        ds = m["ds"]
        for rel, _ in torrent_files(ds.tbytes):
            expected.add(os.path.join(save, rel))
        states = td.get("/api/v2/torrents/pieceStates", hash=h).json()
        bad = _piece_bad(save, ds.tbytes)
        wrong = [i for i, st in enumerate(states) if st == 2 and bad(i)]
        assert not wrong, "%s: %s (%s) pieces reported complete whose bytes differ: %s" % (
            why, h[:8], t["state"], wrong)
    found = set()
    for d, _, fs in os.walk(data_root):
        for f in fs:
            found.add(os.path.join(d, f))
    stray = sorted(found - expected)
    assert not stray, "%s: files outside every torrent's save path: %s" % (why, stray[:10])


@pytest.mark.xdist_group("chaos")
def test_chaos_kills(procs, workdir):
    print("chaos seed %d (replay: TD_CHAOS_SEED=%d)" % (SEED, SEED))
    rnd = random.Random(SEED)
    t0 = time.monotonic()
    datasets = [Dataset(os.path.join(workdir, "seedroot"), n, f, piece_exp=PIECE_EXP) for n, f in SETS]
    seeder = procs.add(Torrentd(os.path.join(workdir, "seed"), SEED_IP, name="seed")).start()
    for ds in datasets:
        seeder.add(ds.tbytes, ds.seed_root, skip_checking=True, filename=ds.name + ".torrent")
    for ds in datasets:
        seeder.wait_seeding(ds.infohash, 60)

    data_root = os.path.join(workdir, "data")
    dirs = [os.path.join(data_root, "p%d" % i) for i in range(3)]
    if fsfault.private_mounts():
        # a move to or from p2 crosses file systems: copy + fsync + unlink,
        # long enough for kills to land in the middle of it
        procs.on_close(fsfault.Tmpfs(dirs[2], 64 * MiB).close)
    leecher = procs.add(Torrentd(os.path.join(workdir, "leech"), LEECH_IP, name="leech")).start()
    leecher.seed_addr = seeder.peer_addr
    leecher.set_prefs({"dl_limit": RATE, "max_connec_per_torrent": 100})
    model = Model(datasets, dirs)
    for ds in datasets:
        leecher.add(ds.tbytes, dirs[0], filename=ds.name + ".torrent")
    for ds in datasets:
        wait_until(lambda: leecher.torrent(ds.infohash), 10, "added")
        leecher.add_peers(ds.infohash, [seeder.peer_addr])

    restarts, counts = [], {}
    wrnd = random.Random(SEED + 1)
    for n in range(KILLS):
        why = "kill %d (seed %d)" % (n, SEED)
        stop = threading.Event()
        th = threading.Thread(target=_worker, args=(leecher, model, dirs, wrnd, stop, counts), daemon=True)
        th.start()
        time.sleep(rnd.uniform(0.5, 3.0))
        leecher.check_alive()
        leecher.kill9()
        stop.set()
        th.join(15)
        assert not th.is_alive(), "%s: API client stuck" % why
        t_start = time.monotonic()
        leecher.start(timeout=RESTART_BOUND_S)
        restarts.append(time.monotonic() - t_start)
        _check(leecher, model, data_root, why)
        for h, t in ((t["hash"], t) for t in leecher.info()):
            leecher.add_peers(h, [seeder.peer_addr])

    # no more kills: everything completes where it was last asked to be
    why = "end (seed %d)" % SEED
    for h, m in model.t.items():
        if m["present"] == {True}:
            wait_until(lambda: leecher.is_complete(h), 120, "%s: %s complete" % (why, h[:8]), procs=[leecher],
                       interval=0.2)
            (save,) = m["save"]
            assert_same_data(m["ds"].tbytes, m["ds"].seed_root, save)
    _check(leecher, model, data_root, why)
    took = time.monotonic() - t0
    print("chaos: %d kills in %.1f s; operations %s; restart to API: median %.2f s, max %.2f s" % (
        KILLS, took, counts, sorted(restarts)[len(restarts) // 2], max(restarts)))
    assert max(restarts) < RESTART_BOUND_S


def test_kill_mid_move(procs, workdir):
    """kill -9 while setLocation copies a torrent's files to another file
    system (some files there, some still at the old place): after the
    restart the torrent's files are all at one of the two save paths, every
    piece reported complete hashes there, no copy is left at the other one,
    and it ends up seeding where the API was last asked to put it."""
    fsfault.require_private_mounts()
    files = [("m/f%d.bin" % i, 6 * MiB + i * 1001) for i in range(6)]
    ds = Dataset(os.path.join(workdir, "seedroot"), "mv", [(r[2:], n) for r, n in files], piece_exp=18)
    old = os.path.join(workdir, "old")
    new = os.path.join(workdir, "new")
    procs.on_close(fsfault.Tmpfs(new, 128 * MiB).close)
    import shutil
    shutil.copytree(ds.seed_root, old)
    td = procs.add(Torrentd(os.path.join(workdir, "td"), SEED_IP, name="td")).start()
    td.add(ds.tbytes, old, skip_checking=True)
    td.wait_seeding(ds.infohash, 30)
    td.post("/api/v2/torrents/setLocation", hashes=ds.infohash, location=new)

    def halfway():
        there = [os.path.exists(os.path.join(new, "mv", r[2:])) for r, _ in files]
        return any(there) and not all(there)
    wait_until(halfway, 20, "the move half done", interval=0.002, procs=[td])
    td.kill9()
    td.start()
    wait_until(lambda: td.torrent(ds.infohash)["state"] not in BUSY, 30, "out of moving", procs=[td])
    t = td.torrent(ds.infohash)
    save = t["save_path"].rstrip("/")
    other = new if save == old else old
    assert save in (old, new), t
    left = [os.path.join(d, f) for d, _, fs in os.walk(os.path.join(other, "mv")) for f in fs] \
        if os.path.isdir(os.path.join(other, "mv")) else []
    assert not left, "files left at %s after the restart (save path %s, state %s): %s" % (
        other, save, t["state"], left)
    bad = _piece_bad(save, ds.tbytes)
    states = td.get("/api/v2/torrents/pieceStates", hash=ds.infohash).json()
    assert not [i for i, st in enumerate(states) if st == 2 and bad(i)]
    wait_until(lambda: td.is_seeding(ds.infohash) and td.torrent(ds.infohash)["save_path"].rstrip("/") == new,
               60, "seeding at the new place", procs=[td])
    assert_same_data(ds.tbytes, ds.seed_root, new)


def test_kill_right_after_delete_with_files(procs, workdir):
    """kill -9 as soon as torrents/delete with deleteFiles answered, while
    the torrent was downloading (peers and writes in flight delay the
    unlinks): after the restart the torrent is gone and so are its files --
    the deletion the API confirmed is finished, nothing is orphaned."""
    ds = Dataset(os.path.join(workdir, "seedroot"), "del", SETS[0][1], piece_exp=PIECE_EXP)
    seeder = procs.add(Torrentd(os.path.join(workdir, "seed"), SEED_IP, name="seed")).start()
    seeder.add(ds.tbytes, ds.seed_root, skip_checking=True)
    seeder.wait_seeding(ds.infohash, 30)
    for n in range(3):
        td = procs.add(Torrentd(os.path.join(workdir, "td%d" % n), LEECH_IP, name="td%d" % n)).start()
        td.set_prefs({"dl_limit": 1 * MiB})
        td.add(ds.tbytes, td.save_path)
        wait_until(lambda: td.torrent(ds.infohash), 10, "added")
        td.add_peers(ds.infohash, [seeder.peer_addr])
        wait_until(lambda: td.progress(ds.infohash) > 0.2, 30, "downloading", procs=[td])
        r = td.req("POST", "/api/v2/torrents/delete", data={"hashes": ds.infohash, "deleteFiles": "true"})
        assert r.status_code == 200
        td.kill9()
        td.start()
        assert td.torrent(ds.infohash) is None, "the deleted torrent is back"
        left = [os.path.join(d, f) for d, _, fs in os.walk(td.save_path) for f in fs]
        wait_until(lambda: not [os.path.join(d, f) for d, _, fs in os.walk(td.save_path) for f in fs], 10,
                   "round %d: files of the deleted torrent gone (were: %s)" % (n, left), procs=[td])
        td.stop()


def test_kill_between_delete_commit_and_unlinks(procs, workdir, monkeypatch):
    """Deterministic form of the guard above: TORRENTD_TEST_STALL_DELETE
    makes the daemon leave the files of a removal undeleted, so the kill -9
    lands exactly between the committed torrents/delete (deleteFiles=true)
    and its unlinks.  After a restart without the hook the torrent is gone,
    so are its files and the folders they emptied; a file of nobody's in the
    same save path and a file next to the torrent's in its folder stay."""
    ds = Dataset(os.path.join(workdir, "seedroot"), "del", SETS[0][1], piece_exp=PIECE_EXP)
    import shutil
    save = os.path.join(workdir, "save")
    shutil.copytree(ds.seed_root, save)
    other = os.path.join(save, "not-the-torrents.txt")
    beside = os.path.join(save, "del", "sub", "mine.txt")
    for p in (other, beside):
        with open(p, "w") as f:
            f.write("keep me")
    ours = [os.path.join(save, "del", r) for r, _ in SETS[0][1]]
    monkeypatch.setenv("TORRENTD_TEST_STALL_DELETE", "1")
    td = procs.add(Torrentd(os.path.join(workdir, "td"), SEED_IP, name="td")).start()
    td.add(ds.tbytes, save, skip_checking=True)
    td.wait_seeding(ds.infohash, 30)
    r = td.req("POST", "/api/v2/torrents/delete", data={"hashes": ds.infohash, "deleteFiles": "true"})
    assert r.status_code == 200
    wait_until(lambda: b"TORRENTD_TEST_STALL_DELETE" in td.log_text(), 10, "the unlinks held back", procs=[td])
    assert all(os.path.exists(p) for p in ours), "the hook did not hold the unlinks back"
    assert len(_intent_rows(td)) == 1, "no deletion intent committed with the removal"
    td.kill9()
    monkeypatch.delenv("TORRENTD_TEST_STALL_DELETE")
    td.start()
    assert td.torrent(ds.infohash) is None, "the deleted torrent is back"
    left = [p for p in ours if os.path.exists(p)]
    assert not left, "files of the deleted torrent left after the restart: %s" % left
    assert not os.path.exists(os.path.join(save, "del", "sub", "c")), "an emptied folder is left"
    assert all(os.path.exists(p) for p in (other, beside)), "a file that was not the torrent's was deleted"
    # a removal that did not crash leaves no intent row behind either
    shutil.copytree(ds.seed_root, save, dirs_exist_ok=True)
    td.add(ds.tbytes, save, skip_checking=True)
    td.wait_seeding(ds.infohash, 30)
    r = td.req("POST", "/api/v2/torrents/delete", data={"hashes": ds.infohash, "deleteFiles": "true"})
    assert r.status_code == 200
    wait_until(lambda: not any(os.path.exists(p) for p in ours), 10, "files deleted", procs=[td])
    td.stop()
    assert _intent_rows(td) == [], "deletion intent rows left after the unlinks"
    assert all(os.path.exists(p) for p in (other, beside))


def test_readd_before_interrupted_delete(procs, workdir, monkeypatch):
    """A torrent removed with its files and added again at the same place
    before the unlinks ran (held back by TORRENTD_TEST_STALL_DELETE), then
    kill -9: the last state the API confirmed is the re-added torrent, so
    after the restart it is there and so are its files (the deletion a
    crash left is not replayed over the torrent added since)."""
    ds = Dataset(os.path.join(workdir, "seedroot"), "readd", SETS[0][1], piece_exp=PIECE_EXP)
    import shutil
    save = os.path.join(workdir, "save")
    shutil.copytree(ds.seed_root, save)
    ours = [os.path.join(save, "readd", r) for r, _ in SETS[0][1]]
    monkeypatch.setenv("TORRENTD_TEST_STALL_DELETE", "1")
    td = procs.add(Torrentd(os.path.join(workdir, "td"), SEED_IP, name="td")).start()
    td.add(ds.tbytes, save, skip_checking=True)
    td.wait_seeding(ds.infohash, 30)
    r = td.req("POST", "/api/v2/torrents/delete", data={"hashes": ds.infohash, "deleteFiles": "true"})
    assert r.status_code == 200
    wait_until(lambda: b"TORRENTD_TEST_STALL_DELETE" in td.log_text(), 10, "the unlinks held back", procs=[td])
    assert len(_intent_rows(td)) == 1
    td.add(ds.tbytes, save, skip_checking=True)       # the same torrent, the same place
    td.wait_seeding(ds.infohash, 30)
    td.kill9()
    monkeypatch.delenv("TORRENTD_TEST_STALL_DELETE")
    td.start()
    assert td.torrent(ds.infohash) is not None, "the re-added torrent is gone"
    left = [p for p in ours if not os.path.exists(p)]
    assert not left, "files of the re-added torrent deleted at the restart: %s" % left
    wait_until(lambda: td.is_seeding(ds.infohash), 30, "seeding", procs=[td])
    assert _intent_rows(td) == []
    td.stop()


def _remove_while_moving(procs, workdir):
    """A seeding torrent at workdir/old, setLocation to workdir/new (a tmpfs:
    the move copies), and torrents/delete with its files once the first file
    is at the new place. Returns (td, ds, old, new)."""
    fsfault.require_private_mounts()
    files = [("m/f%d.bin" % i, 6 * MiB + i * 1001) for i in range(6)]
    ds = Dataset(os.path.join(workdir, "seedroot"), "rm", [(r[2:], n) for r, n in files], piece_exp=18)
    old, new = os.path.join(workdir, "old"), os.path.join(workdir, "new")
    procs.on_close(fsfault.Tmpfs(new, 128 * MiB).close)
    import shutil
    shutil.copytree(ds.seed_root, old)
    td = procs.add(Torrentd(os.path.join(workdir, "td"), SEED_IP, name="td")).start()
    td.add(ds.tbytes, old, skip_checking=True)
    td.wait_seeding(ds.infohash, 30)
    td.post("/api/v2/torrents/setLocation", hashes=ds.infohash, location=new)
    wait_until(lambda: any(os.path.exists(os.path.join(new, "rm", r[2:])) for r, _ in files), 20,
               "the move started", interval=0.002, procs=[td])
    r = td.req("POST", "/api/v2/torrents/delete", data={"hashes": ds.infohash, "deleteFiles": "true"})
    assert r.status_code == 200
    return td, ds, old, new


def _files_under(*roots):
    return [os.path.join(d, f) for root in roots for d, _, fs in os.walk(root) for f in fs]


def test_readd_after_remove_while_moving(procs, workdir):
    """A torrent removed with its files while setLocation copies them to
    another file system, added again at a third place, then kill -9: after
    the restart it is where the API last put it -- the removed torrent's
    unfinished move is not replayed over the one added since -- and nothing
    of the removed one is left at the move's target."""
    td, ds, old, new = _remove_while_moving(procs, workdir)
    other = os.path.join(workdir, "other")
    import shutil
    shutil.copytree(ds.seed_root, other)
    td.add(ds.tbytes, other, skip_checking=True)
    wait_until(lambda: (td.torrent(ds.infohash) or {}).get("save_path", "").rstrip("/") == other, 10,
               "added again", procs=[td])
    td.kill9()
    td.start()
    wait_until(lambda: td.torrent(ds.infohash)["state"] not in BUSY, 30, "out of moving", procs=[td])
    save = td.torrent(ds.infohash)["save_path"].rstrip("/")
    assert save == other, "the re-added torrent is at %s, the API put it at %s" % (save, other)
    wait_until(lambda: td.is_seeding(ds.infohash), 30, "seeding", procs=[td])
    assert_same_data(ds.tbytes, ds.seed_root, other)
    wait_until(lambda: not _files_under(new), 30, "the removed torrent's files gone from the move target",
               procs=[td])
    td.stop()


def test_kill_after_remove_while_moving(procs, workdir, monkeypatch):
    """A torrent removed with its files while setLocation copies them to
    another file system, the unlinks held back (TORRENTD_TEST_STALL_DELETE)
    until kill -9: the deletion intent carries the move's target, so after
    the restart nothing of the torrent is left at either place."""
    monkeypatch.setenv("TORRENTD_TEST_STALL_DELETE", "1")
    td, ds, old, new = _remove_while_moving(procs, workdir)
    wait_until(lambda: b"TORRENTD_TEST_STALL_DELETE" in td.log_text(), 30, "the unlinks held back", procs=[td])
    td.kill9()
    monkeypatch.delenv("TORRENTD_TEST_STALL_DELETE")
    td.start()
    assert td.torrent(ds.infohash) is None
    left = _files_under(old, new)
    assert not left, "files of the removed torrent left after the restart: %s" % left
    assert _intent_rows(td) == []
    td.stop()


def _intent_rows(td):
    import sqlite3
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(td.profile, "torrentd.db"), uri=True)
    try:
        return db.execute("SELECT key FROM kv WHERE ns = 'deleting'").fetchall()
    finally:
        db.close()
