"""Disks that fail: full, dying, and gone.

Real faults (tests/integration/fsfault.py, in the private mount namespace of
scripts/netns-run.sh):
  * ENOSPC: the save path is a small tmpfs;
  * EIO: the save path is an ext4 image on a loop device that is shut down
    (EXT4_IOC_SHUTDOWN: every read, write and fsync fails with EIO until it
    is mounted again);
  * a save path that disappears: the data moved away while the daemon is
    stopped, or its volume unmounted while the torrent is stopped.
What must hold, as in qBittorrent: the torrent goes to `error` (or
`missingFiles`) and its "File error alert" names the errno's message; the
daemon, its API and its other torrents keep going; no piece that failed is
reported complete and every piece reported complete hashes correctly; once
the disk is back, starting (or rechecking) the torrent completes it
byte-identical.
"""
import hashlib
import os
import re
import shutil

import fsfault
from conftest import LEECH_IP, SEED_IP
from tdlib import (MiB, Dataset, Torrentd, assert_same_data, bdecode, info_span, torrent_files,
                   wait_complete, wait_until)

FILES_A = [("a.bin", 3 * MiB + 13), ("sub/b.dat", 4 * MiB + 1001), ("sub/c/tiny", 5), ("z.bin", 2 * MiB + 77)]
FILES_B = [("one.bin", MiB + 5), ("two/three.bin", 700001)]
PIECE_EXP = 16


def _pieces(tbytes):
    s, e = info_span(tbytes)
    info = bdecode(tbytes[s:e])
    p = info[b"pieces"]
    return info[b"piece length"], [p[i:i + 20] for i in range(0, len(p), 20)]


def _bad_complete_pieces(td, h, tbytes, root):
    """Pieces the API reports complete whose bytes under root do not hash."""
    files = torrent_files(tbytes)
    plen, hashes = _pieces(tbytes)
    states = td.get("/api/v2/torrents/pieceStates", hash=h).json()
    bad = []
    for i, st in enumerate(states):
        if st != 2:
            continue
        start, end, out, off = i * plen, (i + 1) * plen, b"", 0
        for rel, length in files:
            lo, hi = max(start, off), min(end, off + length)
            if lo < hi:
                try:
                    with open(os.path.join(root, rel), "rb") as f:
                        f.seek(lo - off)
                        out += f.read(hi - lo)
                except OSError:
                    pass
            off += length
        if hashlib.sha1(out).digest() != hashes[i]:
            bad.append(i)
    return bad


def _log_messages(td):
    return [e["message"] for e in td.get("/api/v2/log/main").json()]


def _state(td, h):
    t = td.torrent(h)
    return t["state"] if t else None


def _start_seeder(procs, workdir, datasets):
    seeder = procs.add(Torrentd(os.path.join(workdir, "seed"), SEED_IP, name="seed")).start()
    for ds in datasets:
        seeder.add(ds.tbytes, ds.seed_root, skip_checking=True, filename=ds.name + ".torrent")
        seeder.wait_seeding(ds.infohash, 60)
    return seeder


def test_full_disk_enospc(procs, workdir):
    """A torrent saved to a 4 MiB tmpfs that needs 9 MiB: `error`, logged as
    qBittorrent's "File error alert ... No space left on device"; a second
    torrent on another disk completes meanwhile; the API answers; every
    piece reported complete hashes (also after a kill -9 and restart); once
    the tmpfs is grown, torrents/start completes it byte-identical."""
    fsfault.require_private_mounts()
    a = Dataset(os.path.join(workdir, "seedroot"), "fullA", FILES_A, piece_exp=PIECE_EXP)
    b = Dataset(os.path.join(workdir, "seedroot"), "fullB", FILES_B, piece_exp=PIECE_EXP)
    seeder = _start_seeder(procs, workdir, [a, b])
    small = fsfault.Tmpfs(os.path.join(workdir, "small"), 4 * MiB)
    try:
        leecher = procs.add(Torrentd(os.path.join(workdir, "leech"), LEECH_IP, name="leech")).start()
        leecher.set_prefs({"dl_limit": 4 * MiB})
        leecher.add(a.tbytes, small.path, filename="a.torrent")
        wait_until(lambda: leecher.torrent(a.infohash), 10, "A added")
        leecher.add_peers(a.infohash, [seeder.peer_addr])
        wait_until(lambda: _state(leecher, a.infohash) == "error", 60, "A in error", procs=[leecher])
        msgs = _log_messages(leecher)
        assert any("File error alert" in m and "No space left on device" in m for m in msgs), msgs[-10:]
        t = leecher.torrent(a.infohash)
        assert 0 < float(t["progress"]) < 1.0, t
        assert not _bad_complete_pieces(leecher, a.infohash, a.tbytes, small.path)

        # the daemon and its other torrents keep going
        leecher.add(b.tbytes, leecher.save_path, filename="b.torrent")
        wait_until(lambda: leecher.torrent(b.infohash), 10, "B added")
        leecher.add_peers(b.infohash, [seeder.peer_addr])
        wait_complete(leecher, b.infohash, 60, procs=[seeder],
                      nudge=lambda: leecher.add_peers(b.infohash, [seeder.peer_addr]))
        assert_same_data(b.tbytes, b.seed_root, leecher.save_path)
        assert _state(leecher, a.infohash) == "error"

        # nothing the daemon had confirmed is lost across a crash
        leecher.kill9()
        leecher.start()
        wait_until(lambda: not _state(leecher, a.infohash).startswith("checking"), 60, "A loaded",
                   procs=[leecher])
        assert not _bad_complete_pieces(leecher, a.infohash, a.tbytes, small.path)
        assert leecher.is_complete(b.infohash)

        # space comes back: start it again and it completes
        _grow(small, 32 * MiB)
        leecher.post("/api/v2/torrents/start", hashes=a.infohash)
        leecher.add_peers(a.infohash, [seeder.peer_addr])
        wait_complete(leecher, a.infohash, 90, procs=[seeder],
                      nudge=lambda: leecher.add_peers(a.infohash, [seeder.peer_addr]))
        assert_same_data(a.tbytes, a.seed_root, small.path)
        leecher.stop()
    finally:
        procs.on_close(small.close)     # unmounted (lazily if busy) before the daemons stop


def _grow(tmpfs, size):
    fsfault._run("mount", "-o", "remount,size=%d" % size, tmpfs.path)


def test_dying_disk_eio(procs, workdir):
    """The save path's file system dies mid-download (every operation EIO):
    the torrent goes to `error` with "Input/output error" in its File error
    alert, no failed piece is reported complete, another torrent completes,
    the API answers. Mounted again (journal replayed), torrents/start
    completes it byte-identical."""
    fsfault.require_private_mounts()
    a = Dataset(os.path.join(workdir, "seedroot"), "eioA", FILES_A, piece_exp=PIECE_EXP)
    b = Dataset(os.path.join(workdir, "seedroot"), "eioB", FILES_B, piece_exp=PIECE_EXP)
    seeder = _start_seeder(procs, workdir, [a, b])
    disk = fsfault.Ext4Loop(os.path.join(workdir, "disk"), os.path.join(workdir, "disk.img"), 64 * MiB)
    try:
        leecher = procs.add(Torrentd(os.path.join(workdir, "leech"), LEECH_IP, name="leech")).start()
        leecher.set_prefs({"dl_limit": 1 * MiB})
        leecher.add(a.tbytes, disk.path, filename="a.torrent")
        wait_until(lambda: leecher.torrent(a.infohash), 10, "A added")
        leecher.add_peers(a.infohash, [seeder.peer_addr])
        wait_until(lambda: leecher.progress(a.infohash) >= 0.3, 60, "A at 30 %", procs=[leecher, seeder])
        disk.shutdown(0)    # flush, then fail everything from now on
        wait_until(lambda: _state(leecher, a.infohash) == "error", 30, "A in error", procs=[leecher])
        msgs = _log_messages(leecher)
        assert any("File error alert" in m and "Input/output error" in m for m in msgs), msgs[-10:]
        p_err = leecher.progress(a.infohash)
        assert p_err < 1.0

        leecher.add(b.tbytes, leecher.save_path, filename="b.torrent")
        wait_until(lambda: leecher.torrent(b.infohash), 10, "B added")
        leecher.add_peers(b.infohash, [seeder.peer_addr])
        wait_complete(leecher, b.infohash, 60, procs=[seeder],
                      nudge=lambda: leecher.add_peers(b.infohash, [seeder.peer_addr]))
        assert_same_data(b.tbytes, b.seed_root, leecher.save_path)
        assert _state(leecher, a.infohash) == "error"
        assert leecher.progress(a.infohash) == p_err, "a piece was counted after the disk died"

        leecher.post("/api/v2/torrents/stop", hashes=a.infohash)     # releases its files
        disk.remount()
        assert not _bad_complete_pieces(leecher, a.infohash, a.tbytes, disk.path)
        leecher.post("/api/v2/torrents/start", hashes=a.infohash)
        leecher.add_peers(a.infohash, [seeder.peer_addr])
        wait_complete(leecher, a.infohash, 90, procs=[seeder],
                      nudge=lambda: leecher.add_peers(a.infohash, [seeder.peer_addr]))
        assert_same_data(a.tbytes, a.seed_root, disk.path)
        leecher.stop()
    finally:
        procs.on_close(disk.close)


def test_disk_cut_while_downloading(procs, workdir):
    """The save path's disk is cut mid-download without flushing anything
    (a power cut under a running daemon, a USB disk pulled): the pieces
    written since the last sync are in a page cache that never reaches the
    disk. The torrent goes to `error`, and the daemon, still running, reports
    complete only pieces that are on the disk when it is mounted again (it
    demotes the ones written since its last successful sync); started, it
    completes byte-identical."""
    fsfault.require_private_mounts()
    a = Dataset(os.path.join(workdir, "seedroot"), "cutA", FILES_A, piece_exp=PIECE_EXP)
    seeder = _start_seeder(procs, workdir, [a])
    disk = fsfault.Ext4Loop(os.path.join(workdir, "disk"), os.path.join(workdir, "disk.img"), 64 * MiB)
    try:
        leecher = procs.add(Torrentd(os.path.join(workdir, "leech"), LEECH_IP, name="leech")).start()
        leecher.set_prefs({"dl_limit": 1 * MiB})
        leecher.add(a.tbytes, disk.path, filename="a.torrent")
        wait_until(lambda: leecher.torrent(a.infohash), 10, "A added")
        leecher.add_peers(a.infohash, [seeder.peer_addr])
        wait_until(lambda: leecher.progress(a.infohash) >= 0.3, 60, "A at 30 %", procs=[leecher, seeder])
        disk.shutdown(fsfault.GOING_FLAGS_NOLOGFLUSH)
        wait_until(lambda: _state(leecher, a.infohash) == "error", 30, "A in error", procs=[leecher])
        leecher.post("/api/v2/torrents/stop", hashes=a.infohash)     # releases its files
        disk.remount()
        assert not _bad_complete_pieces(leecher, a.infohash, a.tbytes, disk.path)
        leecher.post("/api/v2/torrents/start", hashes=a.infohash)
        leecher.add_peers(a.infohash, [seeder.peer_addr])
        wait_complete(leecher, a.infohash, 90, procs=[seeder],
                      nudge=lambda: leecher.add_peers(a.infohash, [seeder.peer_addr]))
        assert_same_data(a.tbytes, a.seed_root, disk.path)
        leecher.stop()
    finally:
        procs.on_close(disk.close)


def test_read_errors_while_seeding(procs, workdir):
    """The seeder's disk dies while a leecher downloads from it: the
    seeder's torrent goes to `error` (File error alert, Input/output error),
    the seeder daemon stays up and answers. Mounted again and started, the
    leecher completes byte-identical."""
    fsfault.require_private_mounts()
    disk = fsfault.Ext4Loop(os.path.join(workdir, "disk"), os.path.join(workdir, "disk.img"), 64 * MiB)
    try:
        a = Dataset(os.path.join(disk.path, "seedroot"), "rdA", FILES_A, piece_exp=PIECE_EXP)
        seeder = _start_seeder(procs, workdir, [a])
        seeder.set_prefs({"up_limit": 1 * MiB})
        leecher = procs.add(Torrentd(os.path.join(workdir, "leech"), LEECH_IP, name="leech")).start()
        leecher.add(a.tbytes, leecher.save_path)
        wait_until(lambda: leecher.torrent(a.infohash), 10, "added")
        leecher.add_peers(a.infohash, [seeder.peer_addr])
        wait_until(lambda: leecher.progress(a.infohash) >= 0.2, 60, "leecher at 20 %",
                   procs=[leecher, seeder])
        disk.shutdown(0)
        wait_until(lambda: _state(seeder, a.infohash) == "error", 30, "seeder's torrent in error",
                   procs=[seeder])
        msgs = _log_messages(seeder)
        assert any("File error alert" in m and "Input/output error" in m for m in msgs), msgs[-10:]
        seeder.check_alive()
        assert seeder.prefs()["up_limit"] == 1 * MiB
        assert leecher.progress(a.infohash) < 1.0
        seeder.post("/api/v2/torrents/stop", hashes=a.infohash)
        disk.remount()
        seeder.post("/api/v2/torrents/start", hashes=a.infohash)
        wait_until(lambda: seeder.is_seeding(a.infohash), 30, "seeding again", procs=[seeder])
        wait_complete(leecher, a.infohash, 90, procs=[seeder],
                      nudge=lambda: leecher.add_peers(a.infohash, [seeder.peer_addr]))
        assert_same_data(a.tbytes, a.seed_root, leecher.save_path)
        seeder.stop()
    finally:
        procs.on_close(disk.close)


def _last_run(td):
    text = td.log_text().decode(errors="replace")
    return text[text.rindex("\n=== "):]


def test_missing_files_at_start(procs, workdir):
    """The data of a seeding torrent is moved away while the daemon is
    stopped: at start the torrent is `missingFiles` (qBittorrent's "File
    size mismatch ... It's paused."), not rechecked into a fresh download;
    started while still gone it stays missingFiles; moved back and started
    it seeds again without a recheck. One file deleted instead: a recheck
    turns it into a partial download."""
    a = Dataset(os.path.join(workdir, "seedroot"), "mfA", FILES_A, piece_exp=PIECE_EXP)
    data = os.path.join(workdir, "data")
    shutil.copytree(a.seed_root, data)
    td = procs.add(Torrentd(os.path.join(workdir, "td"), SEED_IP, name="td")).start()
    td.add(a.tbytes, data, skip_checking=True)
    td.wait_seeding(a.infohash, 30)
    td.stop()
    os.rename(data, data + ".away")
    td.start()
    wait_until(lambda: _state(td, a.infohash) == "missingFiles", 30, "missingFiles", procs=[td])
    assert "File size mismatch for torrent 'mfA'. It's paused." in _log_messages(td)
    assert float(td.torrent(a.infohash)["progress"]) == 1.0
    assert td.get("/api/v2/torrents/info", filter="errored").json()[0]["hash"] == a.infohash
    td.post("/api/v2/torrents/start", hashes=a.infohash)
    assert _state(td, a.infohash) == "missingFiles"
    os.rename(data + ".away", data)
    td.post("/api/v2/torrents/start", hashes=a.infohash)
    wait_until(lambda: td.is_seeding(a.infohash), 30, "seeding again", procs=[td])
    assert not re.search("rechecking|checked, ", _last_run(td))

    td.stop()
    os.unlink(os.path.join(data, "mfA", "sub", "b.dat"))
    td.start()
    wait_until(lambda: _state(td, a.infohash) == "missingFiles", 30, "missingFiles", procs=[td])
    td.post("/api/v2/torrents/recheck", hashes=a.infohash)
    wait_until(lambda: _state(td, a.infohash) not in ("missingFiles", "checkingUP", "checkingDL"), 30,
               "rechecked", procs=[td])
    t = td.torrent(a.infohash)
    assert 0.5 < float(t["progress"]) < 1.0, t
    assert not _bad_complete_pieces(td, a.infohash, a.tbytes, data)


def test_volume_unmounted_while_seeding(procs, workdir):
    """The seeder's data volume is unmounted while its torrent is stopped
    (a stopped torrent keeps no file open, as in libtorrent, so the umount
    succeeds); started, the first read finds the files gone: missingFiles,
    the daemon up. Mounted again and started, it seeds and the leecher
    completes byte-identical."""
    fsfault.require_private_mounts()
    disk = fsfault.Ext4Loop(os.path.join(workdir, "disk"), os.path.join(workdir, "disk.img"), 64 * MiB)
    try:
        a = Dataset(os.path.join(disk.path, "seedroot"), "umA", FILES_A, piece_exp=PIECE_EXP)
        seeder = _start_seeder(procs, workdir, [a])
        seeder.set_prefs({"up_limit": 1 * MiB})
        leecher = procs.add(Torrentd(os.path.join(workdir, "leech"), LEECH_IP, name="leech")).start()
        leecher.add(a.tbytes, leecher.save_path)
        wait_until(lambda: leecher.torrent(a.infohash), 10, "added")
        leecher.add_peers(a.infohash, [seeder.peer_addr])
        wait_until(lambda: leecher.progress(a.infohash) >= 0.2, 60, "leecher at 20 %",
                   procs=[leecher, seeder])
        seeder.post("/api/v2/torrents/stop", hashes=a.infohash)
        wait_until(lambda: _state(seeder, a.infohash) == "stoppedUP", 10, "stopped", procs=[seeder])
        disk.umount()
        seeder.post("/api/v2/torrents/start", hashes=a.infohash)
        leecher.add_peers(a.infohash, [seeder.peer_addr])
        wait_until(lambda: _state(seeder, a.infohash) == "missingFiles", 30, "missingFiles",
                   procs=[seeder], interval=0.2)
        seeder.check_alive()
        disk.mount()
        seeder.post("/api/v2/torrents/start", hashes=a.infohash)
        wait_until(lambda: seeder.is_seeding(a.infohash), 30, "seeding again", procs=[seeder])
        wait_complete(leecher, a.infohash, 90, procs=[seeder],
                      nudge=lambda: leecher.add_peers(a.infohash, [seeder.peer_addr]))
        assert_same_data(a.tbytes, a.seed_root, leecher.save_path)
        seeder.stop()
    finally:
        procs.on_close(disk.close)


def test_full_profile_disk(procs, workdir):
    """The profile (SQLite database) sits on a small tmpfs that fills up
    while a torrent downloads elsewhere: API changes that cannot be
    committed are refused (a category, a torrent added), nothing crashes,
    the download goes on; once space is back every change works again, and
    after a restart the database is intact and holds everything the API
    confirmed, nothing it refused."""
    fsfault.require_private_mounts()
    a = Dataset(os.path.join(workdir, "seedroot"), "pfA", FILES_A, piece_exp=PIECE_EXP)
    b = Dataset(os.path.join(workdir, "seedroot"), "pfB", FILES_B, piece_exp=PIECE_EXP)
    seeder = _start_seeder(procs, workdir, [a, b])
    small = fsfault.Tmpfs(os.path.join(workdir, "prof"), 8 * MiB)
    try:
        leecher = procs.add(Torrentd(os.path.join(workdir, "leech"), LEECH_IP, name="leech"))
        leecher.profile = os.path.join(small.path, "profile")
        leecher.start()
        leecher.set_prefs({"dl_limit": 1 * MiB})
        leecher.post("/api/v2/torrents/createCategory", category="before", savePath="")
        leecher.add(a.tbytes, leecher.save_path, filename="a.torrent")
        wait_until(lambda: leecher.torrent(a.infohash), 10, "A added")
        leecher.add_peers(a.infohash, [seeder.peer_addr])
        wait_until(lambda: leecher.progress(a.infohash) > 0.05, 60, "A downloading", procs=[leecher, seeder])

        filler = os.path.join(small.path, "filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)    # the disk fills up: not a byte left
        try:
            for chunk in (65536, 1):
                try:
                    while os.write(fd, b"\0" * chunk) > 0:
                        pass
                except OSError:
                    pass
        finally:
            os.close(fd)
        r = leecher.req("POST", "/api/v2/torrents/createCategory", ok=(200, 409),
                        data={"category": "refused", "savePath": ""})
        assert (r.status_code, r.text) == (409, "Unable to create category"), (r.status_code, r.text)
        assert "refused" not in leecher.get("/api/v2/torrents/categories").json()
        files = [("torrents", ("b.torrent", b.tbytes, "application/x-bittorrent"))]
        r = leecher.req("POST", "/api/v2/torrents/add", files=files,
                        data={"savepath": leecher.save_path})
        assert (r.status_code, r.text.strip()) == (200, "Fails."), (r.status_code, r.text)   # qBittorrent's "nothing added"
        assert leecher.torrent(b.infohash) is None
        leecher.check_alive()
        p0 = leecher.progress(a.infohash)
        wait_until(lambda: leecher.progress(a.infohash) > p0, 30, "A still downloading", procs=[leecher])

        os.unlink(filler)                 # space is back
        leecher.post("/api/v2/torrents/createCategory", category="after", savePath="")
        leecher.add(b.tbytes, leecher.save_path, filename="b.torrent")
        wait_until(lambda: leecher.torrent(b.infohash), 10, "B added")
        leecher.add_peers(b.infohash, [seeder.peer_addr])
        wait_complete(leecher, a.infohash, 90, procs=[seeder],
                      nudge=lambda: leecher.add_peers(a.infohash, [seeder.peer_addr]))
        leecher.stop()
        import sqlite3
        db = sqlite3.connect(os.path.join(leecher.profile, "torrentd.db"))
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        db.close()
        leecher.start()
        cats = leecher.get("/api/v2/torrents/categories").json()
        assert "before" in cats and "after" in cats and "refused" not in cats, sorted(cats)
        assert leecher.torrent(a.infohash) and leecher.torrent(b.infohash)
        wait_complete(leecher, b.infohash, 90, procs=[seeder],
                      nudge=lambda: leecher.add_peers(b.infohash, [seeder.peer_addr]))
        assert_same_data(a.tbytes, a.seed_root, leecher.save_path)
        assert_same_data(b.tbytes, b.seed_root, leecher.save_path)
        leecher.stop()
    finally:
        procs.on_close(small.close)
