"""Power-cut simulation: profile snapshots taken mid-write always load, keep
every answered API change, and never hold resume data newer than the data.

A torrentd leecher downloads a multi-file torrent of odd sizes from a torrentd
seeder (rate-limited so writes are in flight the whole time) while an editor
thread commits API changes as fast as it can (createCategory + setCategory +
addTags, each recorded once answered). SNAPSHOTS times, at random moments,
the leecher is frozen (SIGSTOP), its profile directory (torrentd.db, -wal,
-shm) and its save path are copied with their mtimes, and it is resumed.
Half the moments are random points of the download; the other half are quiet
points (the seeder's torrent stopped, the leecher's committed resume bitfield
caught up with what the API reports complete), where a bitfield ahead of
the data would be easiest to miss. (Until resume data was trusted after a
crash mid-download, these were the only snapshots that loaded it; now the
random ones load it too, and the hash check judges both.)

What a snapshot models, honestly: the files as the kernel's page cache holds
them at one instant -- exactly what kill -9 (or a frozen VM image) leaves. A
real power cut can lose more: whatever was not fsynced. For SQLite that is
covered by synchronous=FULL (the WAL is fsynced before a COMMIT returns, so
an answered change is on disk; frames of an unfinished transaction are
ignored on recovery by their checksums, and a half-done WAL checkpoint is
redone from the WAL, which is only reset after the database was fsynced) --
so for the database the snapshot is no stronger than a power cut. For the
data files it is: a cut loses whatever was not fsynced. torrentd fsyncs the
files written since the last checkpoint before it commits the resume bits
that claim their pieces (store.h); test_power_cut_loses_no_claimed_piece
below tests that with real cuts (an ext4 image shut down without flushing).

Copying the files one after the other while the daemon runs would not be a
model of anything: a WAL checkpoint or WAL restart between copying the
database and copying the WAL gives a combination that never existed on disk.
Hence the freeze.

For each snapshot, with the leecher stopped, the snapshot's data is put back
at the torrent's save path (the path is stored absolute) and a fresh torrentd
starts on the snapshot's profile:
  * PRAGMA integrity_check is "ok" (on a scratch copy, via Python's sqlite3);
  * every category created and every tag added by a request answered before
    the freeze exists, the torrent carries those tags, and its category is
    the last answered one or one requested after it;
  * once the torrent is out of checking*, every piece torrents/pieceStates
    reports complete hashes correctly in the snapshot's data files.
"""
import hashlib
import os
import random
import re
import shutil
import signal
import sqlite3
import threading
import time

import requests

import fsfault
from conftest import LEECH_IP, SEED_IP
from tdlib import (Dataset, Torrentd, assert_same_data, bdecode, info_span, torrent_files, wait_complete,
                   wait_until)

SNAPSHOTS = 10
RATE = 768 << 10        # leecher download limit: ~12 s for the data set
FILES = [("a.bin", 3 * 1024 * 1024 + 13), ("sub/b.dat", 4 * 1024 * 1024 + 1001),
         ("sub/c/tiny", 5), ("z.bin", 2 * 1024 * 1024 + 77)]
PIECE_EXP = 16            # 64 KiB pieces: many piece completions per second


def _editor(td, stop, log):
    """createCategory/setCategory/addTags in a loop; appends (kind, name) to
    log once answered. Requests in flight when the leecher is frozen simply
    wait."""
    s = td.new_session()
    s.post(td.base + "/api/v2/auth/login", data={"username": "admin", "password": td.password},
           timeout=10)
    i = 0
    while not stop.is_set():
        cat, tag = "cat%d" % i, "tag%d" % i
        try:
            log.append(("sent-cat", cat))
            r = s.post(td.base + "/api/v2/torrents/createCategory", data={"category": cat}, timeout=30)
            if r.status_code == 200:
                log.append(("made-cat", cat))
            r = s.post(td.base + "/api/v2/torrents/setCategory",
                       data={"hashes": td.h, "category": cat}, timeout=30)
            if r.status_code == 200:
                log.append(("set-cat", cat))
            r = s.post(td.base + "/api/v2/torrents/addTags", data={"hashes": td.h, "tags": tag},
                       timeout=30)
            if r.status_code == 200:
                log.append(("tag", tag))
        except requests.RequestException:
            pass
        i += 1
    s.close()


def _quiet(td, h):
    """The leecher's committed resume bitfield has as many pieces as the API
    reports complete (read through a read-only WAL reader; the daemon's own
    connections stay open, so closing this one checkpoints nothing)."""
    done = sum(1 for st in td.get("/api/v2/torrents/pieceStates", hash=h).json() if st == 2)
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(td.profile, "torrentd.db"), uri=True)
    try:
        row = db.execute("SELECT have FROM resume WHERE hash = ?", (h,)).fetchone()
    finally:
        db.close()
    have = sum(bin(b).count("1") for b in row[0]) if row and row[0] else 0
    return done > 0 and have == done


def _snapshot(td, dst):
    os.kill(td.pid, signal.SIGSTOP)
    try:
        shutil.copytree(td.profile, os.path.join(dst, "profile"))   # copy2: mtimes kept
        shutil.copytree(td.save_path, os.path.join(dst, "data"))
    finally:
        os.kill(td.pid, signal.SIGCONT)


def _piece_hashes(tbytes):
    s, e = info_span(tbytes)
    info = bdecode(tbytes[s:e])
    p = info[b"pieces"]
    return info[b"piece length"], [p[i:i + 20] for i in range(0, len(p), 20)]


def _read_piece(root, files, plen, idx):
    """Bytes of piece idx from the files under root (short/missing -> short)."""
    start, end, out, off = idx * plen, (idx + 1) * plen, b"", 0
    for rel, length in files:
        lo, hi = max(start, off), min(end, off + length)
        if lo < hi:
            try:
                with open(os.path.join(root, rel), "rb") as f:
                    f.seek(lo - off)
                    out += f.read(hi - lo)
            except OSError:
                return out
        off += length
    return out


def test_power_cut_snapshots(procs, workdir):
    t0 = time.monotonic()
    ds = Dataset(os.path.join(workdir, "seedroot"), "pc", FILES, piece_exp=PIECE_EXP)
    h, tbytes = ds.infohash, ds.tbytes
    seeder = procs.add(Torrentd(os.path.join(workdir, "seed"), SEED_IP, name="seed")).start()
    seeder.add(tbytes, ds.seed_root, skip_checking=True)
    seeder.wait_seeding(h, 60)

    leecher = procs.add(Torrentd(os.path.join(workdir, "leech"), LEECH_IP, name="leech")).start()
    leecher.set_prefs({"dl_limit": RATE})
    leecher.add(tbytes, leecher.save_path)
    wait_until(lambda: leecher.torrent(h), 10, "torrent added")
    leecher.add_peers(h, [seeder.peer_addr])
    wait_until(lambda: leecher.progress(h) > 0.02, 30, "download started", procs=[leecher])

    leecher.h = h
    stop, log = threading.Event(), []
    ed = threading.Thread(target=_editor, args=(leecher, stop, log), daemon=True)
    ed.start()
    rnd = random.Random()
    snaps = []
    try:
        for n in range(SNAPSHOTS):
            if n % 2:
                # quiet moment: no piece arrives, the last checkpoint covers
                # every write; the hash check below judges the resume data
                seeder.post("/api/v2/torrents/stop", hashes=h)
                wait_until(lambda: _quiet(leecher, h), 30, "snapshot %d: checkpoint caught up" % n,
                           procs=[leecher])
            else:
                # the stimulus: a random moment of the download, not a wait
                time.sleep(rnd.uniform(0.2, 0.7))
            leecher.check_alive()
            answered = list(log)     # everything answered before the freeze
            d = os.path.join(workdir, "snap%d" % n)
            _snapshot(leecher, d)
            snaps.append((d, answered, leecher.progress(h)))
            if n % 2:
                seeder.post("/api/v2/torrents/start", hashes=h)
                wait_until(lambda: seeder.is_seeding(h), 30, "seeder back", procs=[seeder])
                leecher.add_peers(h, [seeder.peer_addr])
    finally:
        stop.set()
        ed.join(30)
    assert snaps[0][2] < 1.0, "the download finished before the first snapshot: lower RATE"
    leecher.kill9()
    seeder.stop()

    files = torrent_files(tbytes)
    plen, hashes = _piece_hashes(tbytes)
    verified_counts, trusted = [], 0
    for n, (d, answered, _) in enumerate(snaps):
        # the database opens and is intact (scratch copy: closing the last
        # connection would checkpoint the WAL of the snapshot itself)
        scratch = os.path.join(d, "scratch")
        shutil.copytree(os.path.join(d, "profile"), scratch)
        db = sqlite3.connect(os.path.join(scratch, "torrentd.db"))
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)], "snapshot %d" % n
        db.close()

        shutil.rmtree(leecher.save_path)
        shutil.copytree(os.path.join(d, "data"), leecher.save_path)
        td = procs.add(Torrentd(d, LEECH_IP, name="snap%d" % n))
        td.start()
        t = td.torrent(h)
        assert t is not None, "snapshot %d lost the torrent" % n

        made = {x for k, x in answered if k == "made-cat"}
        cats = set(td.get("/api/v2/torrents/categories").json())
        assert made <= cats, "snapshot %d lost categories %s" % (n, sorted(made - cats))
        tagged = {x for k, x in answered if k == "tag"}
        assert tagged <= set(td.get("/api/v2/torrents/tags").json())
        assert tagged <= {x.strip() for x in t["tags"].split(",") if x.strip()}
        set_cats = [x for k, x in answered if k == "set-cat"]
        if set_cats:
            last = int(set_cats[-1][3:])
            assert t["category"].startswith("cat") and int(t["category"][3:]) >= last, \
                "snapshot %d: category %r older than the answered %s" % (n, t["category"], set_cats[-1])

        wait_until(lambda: not td.torrent(h)["state"].startswith("checking")
                   and td.torrent(h)["state"] not in ("metaDL", "allocating"), 60,
                   "snapshot %d out of checking" % n, procs=[td])
        states = td.get("/api/v2/torrents/pieceStates", hash=h).json()
        done = [i for i, st in enumerate(states) if st == 2]
        for i in done:
            got = hashlib.sha1(_read_piece(leecher.save_path, files, plen, i)).digest()
            assert got == hashes[i], "snapshot %d: piece %d reported complete, bytes differ" % (n, i)
        verified_counts.append(len(done))
        log_run = td.log_text().decode(errors="replace")
        if not re.search("rechecking|checked, ", log_run):
            trusted += 1          # resume data loaded as saved: the hash check above is what judged it
        td.stop()
    print("pieces complete per snapshot:", verified_counts, "of", len(hashes),
          "resume data trusted without recheck in %d of %d" % (trusted, len(snaps)),
          "in %.1f s" % (time.monotonic() - t0))
    assert any(verified_counts), "no snapshot had a verified piece: the test tested nothing"
    assert trusted, "no snapshot loaded its resume data: the hash check judged only rechecks"


# ---------------------------------------------------------------------------
# Real power cuts: profile and data on an ext4 image whose page cache and
# unflushed journal are thrown away (fsfault.Ext4Loop.shutdown).

CUTS = 4


def test_power_cut_loses_no_claimed_piece(procs, workdir):
    """The leecher's profile and save path live on one ext4 file system.
    CUTS times (at random moments of the download, and at quiet ones where
    the committed bitfield caught up with the API) that file system is shut
    down without flushing anything (what a power cut leaves: only what was
    fsynced, or committed in the journal, survives), the daemon is killed,
    the file system is mounted again (journal replay) and a fresh daemon
    starts on it. Each time the database opens, and every piece the API
    reports complete hashes correctly in the files: resume data never
    claims a piece whose bytes were lost. At the end the data is
    byte-identical. Before piece data was fsynced ahead of its resume bits,
    the committed bits claimed pieces whose bytes were still only in the
    page cache, and the journal commit of SQLite's fsync had already
    persisted the files' new mtimes, so the stale bits were trusted."""
    fsfault.require_private_mounts()
    rnd = random.Random()
    seed = rnd.randrange(1 << 30)
    rnd.seed(seed)
    print("power-cut seed", seed)
    ds = Dataset(os.path.join(workdir, "seedroot"), "pc", FILES, piece_exp=PIECE_EXP)
    h, tbytes = ds.infohash, ds.tbytes
    files = torrent_files(tbytes)
    plen, hashes = _piece_hashes(tbytes)
    seeder = procs.add(Torrentd(os.path.join(workdir, "seed"), SEED_IP, name="seed")).start()
    seeder.add(tbytes, ds.seed_root, skip_checking=True)
    seeder.wait_seeding(h, 60)

    disk = fsfault.Ext4Loop(os.path.join(workdir, "disk"), os.path.join(workdir, "disk.img"), 96 << 20)
    try:
        leecher = procs.add(Torrentd(os.path.join(workdir, "leech"), LEECH_IP, name="leech"))
        leecher.profile = os.path.join(disk.path, "profile")
        leecher.save_path = os.path.join(disk.path, "downloads")
        leecher.start()
        leecher.set_prefs({"dl_limit": RATE})
        leecher.add(tbytes, leecher.save_path)
        wait_until(lambda: leecher.torrent(h), 10, "torrent added")
        leecher.add_peers(h, [seeder.peer_addr])
        wait_until(lambda: leecher.progress(h) > 0.05, 30, "download started", procs=[leecher])
        counts, trusted = [], 0
        for n in range(CUTS):
            quiet = n % 2 == 1
            base = leecher.progress(h)
            wait_until(lambda: leecher.progress(h) >= base + 0.1, 60, "cut %d: progress" % n,
                       procs=[leecher, seeder])
            if quiet:
                seeder.post("/api/v2/torrents/stop", hashes=h)
                wait_until(lambda: _quiet(leecher, h), 30, "cut %d: checkpoint caught up" % n,
                           procs=[leecher])
            else:
                time.sleep(rnd.uniform(0.3, 1.5))
            progress = leecher.progress(h)
            assert progress < 1.0, "cut %d: download finished first (seed %d): lower RATE" % (n, seed)
            disk.shutdown(fsfault.GOING_FLAGS_NOLOGFLUSH)
            leecher.kill9()
            disk.remount()
            leecher.start()
            wait_until(lambda: not leecher.torrent(h)["state"].startswith("checking")
                       and leecher.torrent(h)["state"] not in ("metaDL", "allocating"), 60,
                       "cut %d: out of checking" % n, procs=[leecher])
            states = leecher.get("/api/v2/torrents/pieceStates", hash=h).json()
            done = [i for i, st in enumerate(states) if st == 2]
            bad = [i for i in done
                   if hashlib.sha1(_read_piece(leecher.save_path, files, plen, i)).digest() != hashes[i]]
            assert not bad, "cut %d (seed %d, %s): pieces reported complete whose bytes were lost: %s" % (
                n, seed, "quiet" if quiet else "random", bad)
            log = leecher.log_text().decode(errors="replace")
            if not re.search("rechecking|checked, ", log[log.rindex("\n=== "):]):
                trusted += 1
            counts.append((round(progress * len(hashes)), len(done)))
            if quiet:
                seeder.post("/api/v2/torrents/start", hashes=h)
                wait_until(lambda: seeder.is_seeding(h), 30, "seeder back", procs=[seeder])
            leecher.add_peers(h, [seeder.peer_addr])
        print("pieces (at the cut, after the restart):", counts, "of", len(hashes),
              "loaded without recheck: %d of %d" % (trusted, CUTS))
        assert any(c[1] for c in counts), "no restart had a complete piece: the test tested nothing"
        assert trusted, "every restart rechecked: the hash check judged only rechecks"
        wait_complete(leecher, h, 120, procs=[seeder], nudge=lambda: leecher.add_peers(h, [seeder.peer_addr]))
        assert_same_data(tbytes, ds.seed_root, leecher.save_path)
        leecher.stop()
    finally:
        leecher.kill9()
        disk.close()


def test_power_cut_after_confirmed_move(procs, workdir):
    """A seeding torrent's data lives on an ext4 file system, its profile on
    another. setLocation moves it to another folder of the same file system;
    as soon as the API shows the new save path and the move has ended, that
    file system is cut without flushing (only what was fsynced or committed
    in its journal survives), the daemon killed, the file system mounted
    again. The restarted daemon finds the files where it said they are and
    seeds them all: the renames were made durable (their folders
    fsynced) before the move was confirmed. Without that, the renames sat
    in ext4's uncommitted journal transaction while the profile on the other
    file system had already committed the new path: missingFiles."""
    fsfault.require_private_mounts()
    disk = fsfault.Ext4Loop(os.path.join(workdir, "disk"), os.path.join(workdir, "disk.img"), 64 << 20)
    td = procs.add(Torrentd(os.path.join(workdir, "td"), SEED_IP, name="td"))
    try:
        ds = Dataset(os.path.join(disk.path, "old"), "mv", FILES, piece_exp=PIECE_EXP)
        h = ds.infohash
        os.sync()     # the data set itself is on the disk before the test begins
        td.start()
        td.add(ds.tbytes, ds.seed_root, skip_checking=True)
        td.wait_seeding(h, 60)
        new = os.path.join(disk.path, "new")
        os.mkdir(new)
        os.sync()
        r = td.req("POST", "/api/v2/torrents/setLocation", data={"hashes": h, "location": new})
        assert r.status_code == 200, r.text
        wait_until(lambda: td.torrent(h)["save_path"].rstrip("/") == new
                   and td.torrent(h)["state"] != "moving", 30, "moved", procs=[td])
        disk.shutdown(fsfault.GOING_FLAGS_NOLOGFLUSH)
        td.kill9()
        disk.remount()
        td.start()
        wait_until(lambda: td.torrent(h)["state"] not in ("checkingResumeData", "moving"), 30, "loaded",
                   procs=[td])
        t = td.torrent(h)
        assert t["state"] != "missingFiles", "the confirmed move was lost in the cut: %s" % t["state"]
        assert t["save_path"].rstrip("/") == new
        td.wait_seeding(h, 30)
        assert float(td.torrent(h)["progress"]) == 1.0
        for rel, _ in torrent_files(ds.tbytes):
            assert os.path.exists(os.path.join(new, rel)), rel
        td.stop()
    finally:
        td.kill9()
        disk.close()
