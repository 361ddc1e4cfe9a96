"""torrentd with itself: one seeder, two leechers, found through the tracker.

The leechers start together, so they also trade pieces with each other
(each may finish from the other's uploads as well as the seeder's).
"""
import os

from conftest import LEECH2_IP, LEECH_IP, SEED_IP
from tdlib import Torrentd, assert_same_data, wait_complete, wait_tracker_sees

TIMEOUT = 180


def test_one_seeder_two_leechers(dataset, tracker, procs, workdir):
    tr = tracker([dataset.infohash])
    h, tbytes = dataset.infohash, dataset.torrent(tr)

    seeder = procs.add(Torrentd(os.path.join(workdir, "seed"), SEED_IP)).start()
    seeder.add(tbytes, dataset.seed_root, skip_checking=True)
    seeder.wait_seeding(h, 60)
    wait_tracker_sees(tr, h, seeders=1, client=seeder)

    leechers = [procs.add(Torrentd(os.path.join(workdir, n), ip)).start()
                for n, ip in (("leech1", LEECH_IP), ("leech2", LEECH2_IP))]
    for lc in leechers:
        lc.add(tbytes, lc.save_path)
    for lc in leechers:
        wait_complete(lc, h, TIMEOUT, procs=[seeder] + leechers)
    for lc in leechers:
        assert_same_data(tbytes, dataset.seed_root, lc.save_path)
        t = lc.torrent(h)
        assert t["downloaded"] >= dataset.size, t
    # every byte the leechers got came from someone in this swarm
    total_up = sum(c.torrent(h)["uploaded"] for c in [seeder] + leechers)
    assert total_up >= 2 * dataset.size
