"""The incomplete folder (downloadPath / temp_path): data lives there while
downloading and moves to the save path when complete."""
import hashlib
import os

from conftest import LEECH_IP, SEED_IP
from tdlib import Torrentd, make_torrent, wait_until


def test_download_path_then_save_path(workdir, procs):
    payload = os.urandom(6 << 20)
    data = os.path.join(workdir, "seed-data")
    os.makedirs(data)
    with open(os.path.join(data, "f.bin"), "wb") as f:
        f.write(payload)
    info = {"name": "f.bin", "length": len(payload), "piece length": 65536,
            "pieces": b"".join(hashlib.sha1(payload[k:k + 65536]).digest()
                               for k in range(0, len(payload), 65536))}
    tbytes, h = make_torrent(info)
    seeder = procs.add(Torrentd(os.path.join(workdir, "seed"), SEED_IP)).start()
    seeder.add(tbytes, data, skip_checking=True)
    seeder.set_prefs({"up_limit": 2 << 20})
    leecher = procs.add(Torrentd(os.path.join(workdir, "leech"), LEECH_IP)).start()
    save, incomplete = os.path.join(workdir, "done"), os.path.join(workdir, "incomplete")
    leecher.add(tbytes, save, downloadPath=incomplete, useDownloadPath="true")
    assert leecher.torrent(h)["download_path"] == incomplete
    leecher.add_peers(h, [seeder.peer_addr])
    wait_until(lambda: leecher.progress(h) > 0.2, 30, "some data", procs=[seeder, leecher])
    assert os.path.exists(os.path.join(incomplete, "f.bin"))
    assert not os.path.exists(os.path.join(save, "f.bin"))
    wait_until(lambda: leecher.torrent(h)["state"] in ("stalledUP", "uploading"), 60,
               "complete and moved", procs=[seeder, leecher])
    with open(os.path.join(save, "f.bin"), "rb") as f:
        assert f.read() == payload
    assert not os.path.exists(os.path.join(incomplete, "f.bin"))
    assert leecher.torrent(h)["content_path"] == os.path.join(save, "f.bin")
    leecher.stop()
    leecher.start()
    wait_until(lambda: leecher.torrent(h)["state"] in ("stalledUP", "uploading"), 20,
               "seeding again (state %s)" % leecher.torrent(h)["state"])
    assert leecher.torrent(h)["progress"] == 1


def test_set_download_path_moves_unfinished_data(workdir, procs):
    payload = os.urandom(200000)
    info = {"name": "g.bin", "length": len(payload), "piece length": 16384,
            "pieces": b"".join(hashlib.sha1(payload[k:k + 16384]).digest()
                               for k in range(0, len(payload), 16384))}
    tbytes, h = make_torrent(info)
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    save = os.path.join(workdir, "save")
    os.makedirs(save)
    # a partial file where the torrent will find it
    with open(os.path.join(save, "g.bin"), "wb") as f:
        f.write(payload[:100000])
    td.add(tbytes, save)
    wait_until(lambda: 0 < td.torrent(h)["progress"] < 1, 20, "partial data found")
    td.post("/api/v2/torrents/stop", hashes=h)
    inc = os.path.join(workdir, "inc")
    td.req("POST", "/api/v2/torrents/setDownloadPath", data={"id": h, "path": inc})
    wait_until(lambda: os.path.exists(os.path.join(inc, "g.bin")), 20, "moved to the incomplete folder")
    assert not os.path.exists(os.path.join(save, "g.bin"))
    assert td.torrent(h)["download_path"] == inc
    td.req("POST", "/api/v2/torrents/setDownloadPath", data={"id": h, "path": ""})
    wait_until(lambda: os.path.exists(os.path.join(save, "g.bin")), 20, "moved back")
    assert td.torrent(h)["download_path"] == ""
