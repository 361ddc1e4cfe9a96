"""Copies of .torrent files (core/export): export_dir on add (and when a
magnet's metadata arrives), export_dir_fin on finish; qBittorrent's names
("<name>.torrent", "<name> (1).torrent"), never outside the folder, written
whole; a full disk is logged and changes nothing else."""
import hashlib
import os
import subprocess

from autolib import log_lines, small_torrent
from conftest import LEECH_IP, SEED_IP
from tdlib import Torrentd, infohash, make_torrent, wait_until


def _files(d):
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def test_export_on_add_names(workdir, procs):
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    exp = os.path.join(workdir, "export", "not-yet-there")
    td.set_prefs({"export_dir": exp})
    t1, h1, _ = small_torrent("Some Name")
    t2, h2, _ = small_torrent("Some Name", seed=b"2")   # another torrent, the same name
    t3, h3, _ = small_torrent("x", seed=b"3")
    td.add(t1, td.save_path, stopped=True)
    wait_until(lambda: _files(exp) == ["Some Name.torrent"], 10, "the first export", procs=[td])
    td.add(t2, td.save_path, stopped=True)
    # A hostile (renamed) name: slashes and dots never leave the folder.
    td.add(t3, td.save_path, stopped=True, rename="../../../etc/x\n:y")
    want = ["Some Name (1).torrent", "Some Name.torrent", ".. .. .. etc x_ y.torrent"]
    wait_until(lambda: _files(exp) == sorted(want), 10, "three exports", procs=[td])
    for name, t, h in (("Some Name.torrent", t1, h1), ("Some Name (1).torrent", t2, h2),
                       (".. .. .. etc x_ y.torrent", t3, h3)):
        with open(os.path.join(exp, name), "rb") as f:
            data = f.read()
        assert infohash(data) == h
        assert data == td.req("GET", "/api/v2/torrents/export", params={"hash": h}).content
    assert not os.path.exists(os.path.join(workdir, "etc"))
    # Export off: nothing more.
    td.set_prefs({"export_dir": ""})
    t4, h4, _ = small_torrent("off")
    td.add(t4, td.save_path, stopped=True)
    wait_until(lambda: td.torrent(h4), 10, "the fourth torrent")
    assert len(_files(exp)) == 3


def test_export_magnet_and_finished(workdir, procs):
    payload = os.urandom(300000)
    piece = 32768
    info = {"name": "fin.bin", "length": len(payload), "piece length": piece,
            "pieces": b"".join(hashlib.sha1(payload[k:k + piece]).digest() for k in range(0, len(payload), piece))}
    t, h = make_torrent(info)
    sd = os.path.join(workdir, "seeddata")
    os.makedirs(sd)
    with open(os.path.join(sd, "fin.bin"), "wb") as f:
        f.write(payload)
    seeder = procs.add(Torrentd(os.path.join(workdir, "seed"), SEED_IP)).start()
    seeder.add(t, sd, skip_checking=True)
    leecher = procs.add(Torrentd(os.path.join(workdir, "leech"), LEECH_IP)).start()
    exp, fin = os.path.join(workdir, "exp"), os.path.join(workdir, "fin")
    leecher.set_prefs({"export_dir": exp, "export_dir_fin": fin})
    r = leecher.req("POST", "/api/v2/torrents/add",
                    data={"urls": "magnet:?xt=urn:btih:%s&dn=fin.bin" % h, "savepath": leecher.save_path})
    assert r.text == "Ok."
    # Without a peer there is no metadata, so nothing to export yet.
    wait_until(lambda: leecher.torrent(h) and leecher.torrent(h)["state"] == "metaDL", 10, "metaDL")
    assert _files(exp) == []
    leecher.add_peers(h, [seeder.peer_addr])
    leecher.wait_complete(h, 60, procs=[seeder])
    wait_until(lambda: _files(exp) == ["fin.bin.torrent"] and _files(fin) == ["fin.bin.torrent"], 15,
               "the exports on metadata and on finish", procs=[leecher])
    for d in (exp, fin):
        with open(os.path.join(d, "fin.bin.torrent"), "rb") as f:
            assert infohash(f.read()) == h
    # The seeder, added complete, is not "finished" by a download: no export_dir_fin there.
    assert not log_lines(seeder, "Failed to export")


def test_export_full_disk(workdir, procs):
    """A 64 KiB tmpfs as export_dir, mounted in the daemon's own mount
    namespace (unshare -m): a .torrent larger than that fails to export with
    a log line; the torrent is added all the same, nothing partial is left,
    and later exports that fit still work."""
    exp = os.path.join(workdir, "tiny")
    os.makedirs(exp)
    probe = subprocess.run(["unshare", "-m", "sh", "-c", 'mount -t tmpfs -o size=64k tmpfs "$0"', exp],
                           capture_output=True)
    if probe.returncode != 0:
        import pytest
        pytest.skip("cannot mount a tmpfs in a mount namespace: %r" % probe.stderr)

    class TinyDisk(Torrentd):
        def argv(self):
            return ["unshare", "-m", "sh", "-c", 'mount -t tmpfs -o size=64k tmpfs "$0" && exec "$@"', exp] + \
                super().argv()
    td = procs.add(TinyDisk(os.path.join(workdir, "td"), LEECH_IP)).start()
    seen = "/proc/%d/root%s" % (td.pid, exp)   # the daemon's view of the folder
    td.set_prefs({"export_dir": exp})
    # 5,000 pieces: 100 KB of hashes, more than the whole tmpfs.
    big_info = {"name": "big", "length": 5000 * 16384, "piece length": 16384, "pieces": os.urandom(20 * 5000)}
    tb, hb = make_torrent(big_info)
    td.add(tb, td.save_path, stopped=True)
    wait_until(lambda: log_lines(td, 'Failed to export torrent. Torrent: "big"'), 15, "the failure logged",
               procs=[td])
    line = log_lines(td, 'Failed to export torrent. Torrent: "big"')[0]
    assert "No space left on device" in line, line
    assert td.torrent(hb) is not None
    assert os.listdir(seen) == []   # the temporary file is gone
    t2, h2, _ = small_torrent("small")
    td.add(t2, td.save_path, stopped=True)
    wait_until(lambda: os.listdir(seen) == ["small.torrent"], 15, "a small export", procs=[td])
    assert td.get("/api/v2/app/version").status_code == 200
    assert os.listdir(exp) == []   # outside the daemon's namespace the folder was never written
