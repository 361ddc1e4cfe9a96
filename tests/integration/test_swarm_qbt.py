"""Interop with qbittorrent-nox 4.5.2 (libtorrent 2.0), both directions.

The peers find each other only through an opentracker on 127.0.0.1 (info-hash
whitelisted), so this also checks torrentd's HTTP announce: opentracker lists
the announce's source address, so torrentd must announce from its listen
address. Data: conftest.DATASET_FILES (> 64 MiB, several files, odd sizes).
"""
import os

from conftest import LEECH_IP, SEED_IP
from tdlib import Qbt, Torrentd, assert_same_data, wait_complete, wait_tracker_sees

TIMEOUT = 180   # 64 MiB through the ASan build; normally a few seconds


def test_torrentd_leeches_from_qbittorrent(dataset, tracker, procs, workdir):
    tr = tracker([dataset.infohash])
    h, tbytes = dataset.infohash, dataset.torrent(tr)

    seeder = procs.add(Qbt(os.path.join(workdir, "qbt"), SEED_IP)).start()
    seeder.add(tbytes, dataset.seed_root, skip_checking=True)
    seeder.wait_seeding(h, 60)
    wait_tracker_sees(tr, h, seeders=1, client=seeder)

    leecher = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    save = os.path.join(workdir, "leech")
    leecher.add(tbytes, save)
    wait_complete(leecher, h, TIMEOUT, procs=[seeder])
    assert_same_data(tbytes, dataset.seed_root, save)
    t = leecher.torrent(h)
    assert t["state"] in ("uploading", "stalledUP"), t["state"]
    assert t["total_size"] == dataset.size


def test_qbittorrent_leeches_from_torrentd(dataset, tracker, procs, workdir):
    tr = tracker([dataset.infohash])
    h, tbytes = dataset.infohash, dataset.torrent(tr)

    # a real hash check of the existing data this time (no skip_checking)
    seeder = procs.add(Torrentd(os.path.join(workdir, "td"), SEED_IP)).start()
    seeder.add(tbytes, dataset.seed_root, skip_checking=False)
    seeder.wait_seeding(h, 120)
    assert seeder.torrent(h)["progress"] == 1
    wait_tracker_sees(tr, h, seeders=1, client=seeder)

    leecher = procs.add(Qbt(os.path.join(workdir, "qbt"), LEECH_IP)).start()
    save = os.path.join(workdir, "leech")
    leecher.add(tbytes, save)
    wait_complete(leecher, h, TIMEOUT, procs=[seeder])
    assert_same_data(tbytes, dataset.seed_root, save)
    assert seeder.torrent(h)["uploaded"] >= dataset.size
