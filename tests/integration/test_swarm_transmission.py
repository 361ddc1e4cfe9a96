"""Interop with transmission-daemon 3.00, both directions.

Transmission never dials a peer in 127.0.0.0/8 (isMartianAddr in
libtransmission/net.c), so on loopback torrentd is the side that dials:
  * torrentd leeching: torrents/addPeers with Transmission's listen address;
  * torrentd seeding: Transmission adds the torrent, then the seeder is told
    to dial it with torrents/addPeers (repeated if nothing moves for 10 s).
The tracker still runs; both announce to it.
"""
import os

from conftest import LEECH_IP, SEED_IP
from tdlib import Torrentd, Transmission, assert_same_data, wait_complete, wait_tracker_sees, wait_until

TIMEOUT = 180


def test_torrentd_leeches_from_transmission(dataset, tracker, procs, workdir):
    tr = tracker([dataset.infohash])
    h, tbytes = dataset.infohash, dataset.torrent(tr)

    seeder = procs.add(Transmission(os.path.join(workdir, "tr"), SEED_IP)).start()
    seeder.add(tbytes, dataset.seed_root)        # Transmission always verifies
    seeder.wait_seeding(h, 120)
    wait_tracker_sees(tr, h, seeders=1, client=seeder)

    leecher = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    save = os.path.join(workdir, "leech")
    leecher.add(tbytes, save)
    wait_complete(leecher, h, TIMEOUT, procs=[seeder],
                  nudge=lambda: leecher.add_peers(h, [seeder.peer_addr]))
    assert_same_data(tbytes, dataset.seed_root, save)


def test_transmission_leeches_from_torrentd(dataset, tracker, procs, workdir):
    tr = tracker([dataset.infohash])
    h, tbytes = dataset.infohash, dataset.torrent(tr)

    seeder = procs.add(Torrentd(os.path.join(workdir, "td"), SEED_IP)).start()
    seeder.add(tbytes, dataset.seed_root, skip_checking=True)
    seeder.wait_seeding(h, 60)
    wait_tracker_sees(tr, h, seeders=1, client=seeder)

    leecher = procs.add(Transmission(os.path.join(workdir, "tr"), LEECH_IP)).start()
    save = os.path.join(workdir, "leech")
    os.makedirs(save)
    leecher.add(tbytes, save)
    # Transmission refuses connections for a torrent it has not started yet
    wait_until(lambda: leecher.is_downloading(h), 60, "transmission to start downloading",
               procs=[leecher])
    wait_complete(leecher, h, TIMEOUT, procs=[seeder],
                  nudge=lambda: seeder.add_peers(h, [leecher.peer_addr]))
    assert_same_data(tbytes, dataset.seed_root, save)
