"""torrents/info fields where qbit_manage and VueTorrent runs showed torrentd
differing from qbittorrent-nox (scripts/try-qbit-manage.sh with
TRY_AGAINST=qbt, docs/clients.md), checked against what qBittorrent does.
"""
import os

from conftest import LEECH_IP
from tdlib import Torrentd, make_torrent, piece_hashes, wait_until

PL = 16384


def _one_file_in_folder(root):
    """A multi-file torrent ("files" list) whose only file sits in its folder,
    as mktorrent makes from a directory holding one file; the data on disk."""
    payload = os.urandom(3 * PL + 5)
    os.makedirs(os.path.join(root, "Show.S01"))
    with open(os.path.join(root, "Show.S01", "e01.mkv"), "wb") as f:
        f.write(payload)
    info = {"name": "Show.S01", "piece length": PL, "pieces": piece_hashes(payload, PL),
            "files": [{"length": len(payload), "path": ["e01.mkv"]}]}
    return make_torrent(info)


def test_one_file_torrent_content_path_and_seed_availability(workdir, procs):
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    save = os.path.join(workdir, "save")
    tbytes, h = _one_file_in_folder(save)
    td.add(tbytes, save)
    td.wait_seeding(h, 30)
    t = td.torrent(h)
    # TorrentImpl::contentPath(): filesCount() == 1 -> the file itself, even
    # inside a folder (qbittorrent-nox answers .../Show.S01/e01.mkv);
    # rootPath() is still the folder. qbit_manage's tag_nohardlinks and the
    # *arr imports read content_path.
    assert t["content_path"] == os.path.join(save, "Show.S01", "e01.mkv")
    assert t["root_path"] == os.path.join(save, "Show.S01")
    # libtorrent drops a seed's piece picker, and distributed_copies is then
    # -1: qbittorrent-nox reports "availability": -1 for every seed
    # (VueTorrent shows it in the list)
    assert t["availability"] == -1
