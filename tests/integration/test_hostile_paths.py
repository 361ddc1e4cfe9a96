"""Paths that enter through torrentcreator (issue 10): the source path and
the .torrent's output path.  Whatever a client sends, the daemon writes
only the file it was asked for, never resolves a relative path against its
own working directory, never writes through a symlink, never creates
parent directories and leaves no temporary file behind when it fails.
Each refused task ends "Failed" with a message naming the problem (a NUL
byte is refused at once with 400, as qBittorrent cannot take it either).

(Save paths, renames and .torrent file names are in test_hostile_api.py
and test_hostile_names.py; export_dir, export_dir_fin and scan_dirs do not
act yet, so they have no path to test.)
"""
import os

import pytest

from conftest import SEED_IP
from tdlib import Torrentd, make_torrent, piece_hashes, tree_snapshot, wait_until, write_random

TC = "/api/v2/torrentcreator/"


@pytest.fixture(scope="module")
def td(module_procs, tmp_path_factory):
    root = str(tmp_path_factory.mktemp("hostile_paths"))
    d = module_procs.add(Torrentd(os.path.join(root, "td"), SEED_IP))
    d.start()
    d.root = root
    d.src = os.path.join(root, "data", "payload")
    write_random(os.path.join(d.src, "f.bin"), 70000)
    d.out = os.path.join(root, "out")
    os.makedirs(d.out)
    return d


def snap(d):
    """Everything under the test's root but the daemon's own files, whose
    sizes change (its log, database and file log, profile/logs/qbittorrent.log*);
    new files there still show."""
    return {p: v for p, v in tree_snapshot(d.root).items()
            if not (v[0] == "file" and os.path.dirname(p) == "td"
                    and os.path.basename(p).startswith("torrentd"))
            and not (v[0] == "file" and os.path.dirname(p) == os.path.join("td", "profile", "logs")
                     and os.path.basename(p).startswith("qbittorrent.log"))}


def add_task(d, ok=(200,), **params):
    return d.req("POST", TC + "addTask", ok=ok, data=params)


def run_task(d, **params):
    tid = add_task(d, **params).json()["taskID"]

    def done():
        st = d.req("GET", TC + "status", params={"taskID": tid}).json()[0]
        return st if st["status"] in ("Finished", "Failed") else None
    st = wait_until(done, 60, "task " + tid, 0.1, procs=[d])
    d.req("POST", TC + "deleteTask", data={"taskID": tid})
    return st


def test_relative_paths_fail_and_write_nothing(td):
    """A relative source or output path is not taken against the daemon's
    working directory (its run dir here): the task fails naming it."""
    before = snap(td)
    st = run_task(td, sourcePath="data/payload", torrentFilePath=os.path.join(td.out, "a.torrent"))
    assert st["status"] == "Failed" and "absolute" in st["errorMessage"], st
    st = run_task(td, sourcePath=td.src, torrentFilePath="../out.torrent")
    assert st["status"] == "Failed" and "absolute" in st["errorMessage"], st
    st = run_task(td, sourcePath=td.src, torrentFilePath="rel.torrent")
    assert st["status"] == "Failed" and "absolute" in st["errorMessage"], st
    assert snap(td) == before


def test_output_through_symlink_replaces_the_link(td):
    """torrentFilePath naming a symlink to a file elsewhere: the .torrent
    replaces the link (written to a temporary file, renamed over it); the
    file the link pointed to is untouched."""
    victim = os.path.join(td.root, "victim.txt")
    with open(victim, "w") as f:
        f.write("keep me")
    link = os.path.join(td.out, "link.torrent")
    os.symlink(victim, link)
    st = run_task(td, sourcePath=td.src, torrentFilePath=link)
    assert st["status"] == "Finished", st
    assert open(victim).read() == "keep me"
    assert not os.path.islink(link) and os.path.getsize(link) > 0


def test_output_in_missing_dir_or_onto_dir_fails_cleanly(td):
    """The output's directory is not created, and an output path that is a
    directory fails without leaving its temporary file."""
    before = snap(td)
    st = run_task(td, sourcePath=td.src, torrentFilePath=os.path.join(td.out, "no", "such", "x.torrent"))
    assert st["status"] == "Failed" and "x.torrent" in st["errorMessage"], st
    st = run_task(td, sourcePath=td.src, torrentFilePath=td.out)
    assert st["status"] == "Failed" and td.out in st["errorMessage"], st
    assert snap(td) == before


@pytest.mark.parametrize("key", ["sourcePath", "torrentFilePath"])
def test_nul_in_a_creator_path_refused(td, key):
    before = snap(td)
    params = {"sourcePath": td.src, "torrentFilePath": os.path.join(td.out, "n.torrent")}
    params[key] += "\0/../../x"
    assert add_task(td, ok=(400,), **params).status_code == 400
    assert td.req("GET", TC + "status").json() == []
    assert snap(td) == before


def test_source_with_dotdot_is_the_path_it_names(td):
    """An absolute source path with `..` names the directory it resolves
    to (the .torrent is named after it), as qBittorrent takes it; the
    output lands where asked, nowhere else."""
    before = set(snap(td))
    out = os.path.join(td.out, "dd.torrent")
    st = run_task(td, sourcePath=os.path.join(td.src, "..", "payload"), torrentFilePath=out)
    assert st["status"] == "Finished", st
    assert set(snap(td)) - before == {os.path.relpath(out, td.root)}



def test_relative_save_paths_never_under_the_working_dir(td):
    """A relative savepath or downloadPath in torrents/add, location in
    setLocation, path in setSavePath/setDownloadPath is taken under the
    default save path (download paths: the temp path, else the default save
    path), as qBittorrent resolves them; nothing is created in the daemon's
    working directory.  torrents/add used to keep "relsave" as written, so
    the torrent's files would have gone to the daemon's working directory."""
    payload = os.urandom(40000)
    tbytes, h = make_torrent({"name": "rel.bin", "piece length": 16384, "length": len(payload),
                              "pieces": piece_hashes(payload, 16384)})
    before = snap(td)
    dflt = td.get("/api/v2/app/defaultSavePath").text
    td.add(tbytes, "relsave", downloadPath="reldl0", useDownloadPath="true")
    wait_until(lambda: td.torrent(h), 30, "added", procs=[td])
    t = td.torrent(h)
    assert t["save_path"] == os.path.join(dflt, "relsave"), t["save_path"]
    assert t["download_path"] == os.path.join(dflt, "reldl0"), t["download_path"]
    td.post("/api/v2/torrents/setLocation", hashes=h, location="relloc")
    wait_until(lambda: td.torrent(h)["save_path"] == os.path.join(dflt, "relloc"), 30, "moved", procs=[td])
    td.req("POST", "/api/v2/torrents/setSavePath", data={"id": h, "path": "relsp"})
    td.req("POST", "/api/v2/torrents/setDownloadPath", data={"id": h, "path": "reldl"})
    want = (os.path.join(dflt, "relsp"), os.path.join(dflt, "reldl"))
    wait_until(lambda: (lambda t: (t["save_path"], t["download_path"]) == want)(td.torrent(h)), 30,
               "paths set", procs=[td])
    td.delete(h, delete_files=True)
    rundir = os.path.relpath(td.rundir, td.root)
    new = [p for p in set(snap(td)) - set(before)
           if p.startswith(rundir + os.sep) and not os.path.join(td.root, p).startswith(dflt)]
    assert not new, new
