"""Magnet links: metadata fetched from peers (BEP9 ut_metadata), then an
ordinary download; metaDL state and its persistence."""
import os
import time

from conftest import LEECH_IP, SEED_IP
from tdlib import (Qbt, Torrentd, assert_same_data, wait_complete, wait_until)


def _magnet(h, name=None, peer=None, tracker=None):
    m = "magnet:?xt=urn:btih:%s" % h
    if name:
        m += "&dn=%s" % name
    if tracker:
        m += "&tr=%s" % tracker
    if peer:
        m += "&x.pe=%s" % peer
    return m


def _add_magnet(client, uri, save):
    r = client.req("POST", "/api/v2/torrents/add", data={"urls": uri, "savepath": save})
    assert r.text == "Ok.", r.text


def test_magnet_from_torrentd_and_metadl_state(dataset, workdir, procs):
    h, tbytes = dataset.infohash, dataset.tbytes
    seeder = procs.add(Torrentd(os.path.join(workdir, "seed"), SEED_IP)).start()
    leecher = procs.add(Torrentd(os.path.join(workdir, "leech"), LEECH_IP)).start()

    # no peer yet: the torrent waits in metaDL under its dn, and survives a restart
    _add_magnet(leecher, _magnet(h, name="waiting"), leecher.save_path)
    t = leecher.torrent(h)
    assert t["state"] == "metaDL" and t["name"] == "waiting", t
    assert t["has_metadata"] is False and t["private"] is None
    assert leecher.get("/api/v2/torrents/files", hash=h).json() == []
    leecher.stop()
    leecher.start()
    t = leecher.torrent(h)
    assert t["state"] == "metaDL" and t["name"] == "waiting", t
    # adding the same magnet again fails
    r = leecher.req("POST", "/api/v2/torrents/add", data={"urls": _magnet(h)})
    assert r.text == "Fails."

    seeder.add(tbytes, dataset.seed_root, skip_checking=True)
    seeder.wait_seeding(h, 60)
    t0 = time.monotonic()
    leecher.add_peers(h, [seeder.peer_addr])
    wait_until(lambda: leecher.torrent(h)["has_metadata"], 30, "metadata",
               procs=[seeder, leecher])
    ttfb = time.monotonic() - t0
    wait_complete(leecher, h, 120, procs=[seeder, leecher])
    assert_same_data(tbytes, dataset.seed_root, leecher.save_path)
    print("metadata after %.2f s" % ttfb)
    # the metadata is kept: export gives back a torrent with the same info
    ex = leecher.req("GET", "/api/v2/torrents/export", params={"hash": h})
    assert ex.headers["Content-Type"].startswith("application/x-bittorrent")
    leecher.stop()
    leecher.start()
    assert leecher.torrent(h)["has_metadata"] is True
    assert leecher.torrent(h)["progress"] == 1


def test_magnet_from_qbittorrent_via_peer_hint(dataset, workdir, procs):
    h, tbytes = dataset.infohash, dataset.tbytes
    seeder = procs.add(Qbt(os.path.join(workdir, "qbt"), SEED_IP)).start()
    seeder.add(tbytes, dataset.seed_root, skip_checking=True)
    seeder.wait_seeding(h, 60)
    leecher = procs.add(Torrentd(os.path.join(workdir, "leech"), LEECH_IP)).start()
    _add_magnet(leecher, _magnet(h, peer=seeder.peer_addr), leecher.save_path)
    wait_complete(leecher, h, 120, procs=[seeder, leecher])
    assert_same_data(tbytes, dataset.seed_root, leecher.save_path)


def test_magnet_select_only_and_web_seed(dataset, workdir, procs):
    """BEP53 so= selects the files to download; ws= becomes a web seed."""
    h, tbytes = dataset.infohash, dataset.tbytes
    seeder = procs.add(Torrentd(os.path.join(workdir, "seed"), SEED_IP)).start()
    seeder.add(tbytes, dataset.seed_root, skip_checking=True)
    seeder.wait_seeding(h, 60)
    leecher = procs.add(Torrentd(os.path.join(workdir, "leech"), LEECH_IP)).start()
    uri = _magnet(h, peer=seeder.peer_addr) + "&so=1&ws=http%3A%2F%2F127.0.0.1%3A9%2Fseed"
    _add_magnet(leecher, uri, leecher.save_path)
    wait_until(lambda: leecher.torrent(h)["has_metadata"], 30, "metadata", procs=[seeder, leecher])
    wait_complete(leecher, h, 120, procs=[seeder, leecher])
    files = leecher.get("/api/v2/torrents/files", hash=h).json()
    assert [f["priority"] for f in files] == [0 if i != 1 else 1 for i in range(len(files))]
    t = leecher.torrent(h)
    # like libtorrent's total_wanted, size counts the pieces the file touches
    assert files[1]["size"] <= t["size"] < t["total_size"] and t["progress"] == 1
    src = os.path.join(dataset.seed_root, files[1]["name"])
    with open(src, "rb") as a, open(os.path.join(leecher.save_path, files[1]["name"]), "rb") as b:
        assert a.read() == b.read()
    assert {"url": "http://127.0.0.1:9/seed"} in leecher.get("/api/v2/torrents/webseeds", hash=h).json()
