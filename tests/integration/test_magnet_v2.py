"""BitTorrent v2 magnets (BEP52 `urn:btmh`) added to torrentd, fed by
python3-libtorrent: the info dict by ut_metadata (checked by SHA-256), the
piece layers by hash requests (checked against each file's pieces root),
then an ordinary download; hybrids by btmh+btih, and libtorrent reaching a
hybrid that torrentd seeds by its v2 hash."""
import hashlib
import os
import time

import pytest

from conftest import LEECH2_IP, LEECH_IP, SEED_IP
from tdlib import (Torrentd, assert_same_data, bdecode, info_span, loip, wait_complete, wait_until,
                   write_random)
from test_creator_v2 import Lt, leech_from_torrentd

lt = pytest.importorskip("libtorrent")
KiB = 1024


def make_torrent(data, flags, piece):
    """libtorrent's own torrent of data/payload: a file of 560 16 KiB pieces
    (two hash requests of 512 nodes, the second with an uncle), small ones,
    an empty one."""
    src = os.path.join(data, "payload")
    os.makedirs(os.path.join(src, "sub"))
    write_random(os.path.join(src, "big.bin"), 560 * 16 * KiB - 300)
    write_random(os.path.join(src, "sub", "mid.bin"), 5 * 16 * KiB + 1)
    write_random(os.path.join(src, "one"), 7)
    open(os.path.join(src, "zero"), "wb").close()
    fs = lt.file_storage()
    lt.add_files(fs, src)
    ct = lt.create_torrent(fs, piece, flags=flags)
    lt.set_piece_hashes(ct, data)
    return lt.bencode(ct.generate())


@pytest.fixture
def seed(procs):
    s = Lt(LEECH2_IP)
    procs.on_close(s.close)
    return s


def lt_seed(seed, tbytes, data):
    th = seed.add(tbytes, data)
    wait_until(lambda: th.status().is_seeding, 60, "libtorrent seeding")
    return th


def add_magnet(td, uri):
    r = td.req("POST", "/api/v2/torrents/add", data={"urls": uri, "savepath": td.save_path})
    assert r.text == "Ok.", r.text


def v2_of(tbytes):
    a, z = info_span(tbytes)
    return hashlib.sha256(tbytes[a:z]).hexdigest()


def test_v2_magnet_from_libtorrent(procs, workdir, seed):
    data = os.path.join(workdir, "data")
    tbytes = make_torrent(data, lt.create_torrent.v2_only, 16 * KiB)
    v2 = v2_of(tbytes)
    assert v2 == str(lt.torrent_info(tbytes).info_hashes().v2)
    h = v2[:40]
    lt_seed(seed, tbytes, data)

    td = procs.add(Torrentd(os.path.join(workdir, "td"), SEED_IP)).start()
    add_magnet(td, "magnet:?xt=urn:btmh:1220%s&dn=v2mag&x.pe=%s:%d" % (v2, LEECH2_IP, seed.port))
    t = td.torrent(h)
    assert t["hash"] == h and t["infohash_v2"] == v2 and t["infohash_v1"] == "", t
    t0 = time.monotonic()
    wait_complete(td, h, 120, procs=[td])
    print("v2 magnet complete after %.2f s" % (time.monotonic() - t0))
    assert_same_data(tbytes, data, td.save_path)
    t = td.torrent(h)
    assert t["infohash_v2"] == v2 and t["infohash_v1"] == "", t
    log = td.get("/api/v2/log/main").json()
    assert any("piece layers received" in e["message"] for e in log), log[-10:]

    # the export carries the piece layers libtorrent made
    ex = td.req("GET", "/api/v2/torrents/export", params={"hash": h}).content
    assert v2_of(ex) == v2
    assert bdecode(ex)[b"piece layers"] == bdecode(tbytes)[b"piece layers"]
    # and so does the store: after a restart the data is still verified
    td.stop()
    td.start()
    wait_until(lambda: td.is_complete(h), 60, "restored v2 magnet torrent", procs=[td])
    td.post("/api/v2/torrents/recheck", hashes=h)
    time.sleep(0.5)
    wait_until(lambda: td.is_complete(h), 60, "recheck after restart", procs=[td])


def test_hybrid_magnet_and_v2_handshake(procs, workdir, seed):
    data = os.path.join(workdir, "data")
    tbytes = make_torrent(data, 0, 32 * KiB)   # libtorrent 2.0's default: hybrid
    ih = lt.torrent_info(tbytes).info_hashes()
    v1, v2 = str(ih.v1), str(ih.v2)
    lt_seed(seed, tbytes, data)

    td = procs.add(Torrentd(os.path.join(workdir, "td"), SEED_IP)).start()
    add_magnet(td, "magnet:?xt=urn:btih:%s&xt=urn:btmh:1220%s&x.pe=%s:%d" % (v1, v2, LEECH2_IP, seed.port))
    t = td.torrent(v1)
    assert t["infohash_v1"] == v1 and t["infohash_v2"] == v2, t
    wait_complete(td, v1, 120, procs=[td])
    assert_same_data(tbytes, data, td.save_path)
    t = td.torrent(v1)
    assert t["infohash_v1"] == v1 and t["infohash_v2"] == v2, t
    seed.close()

    # a libtorrent given only the btmh dials torrentd with the v2 hash cut to
    # 20 bytes; torrentd finds the hybrid by it and feeds it everything
    other = Lt(loip(6))
    procs.on_close(other.close)
    dst = os.path.join(workdir, "lt")
    os.makedirs(dst)
    p = lt.parse_magnet_uri("magnet:?xt=urn:btmh:1220%s" % v2)
    p.save_path = dst
    leech_from_torrentd(other, td, None, dst, "libtorrent fetching the hybrid from torrentd by its v2 hash",
                        th=other.ses.add_torrent(p))
    assert_same_data(tbytes, data, dst)

    # a second torrentd given only the btmh: it dials the first by the v2
    # hash, which stays its key for the hybrid, also after a restart
    td2 = procs.add(Torrentd(os.path.join(workdir, "td2"), LEECH_IP)).start()
    h2 = v2[:40]
    add_magnet(td2, "magnet:?xt=urn:btmh:1220%s&x.pe=%s" % (v2, td.peer_addr))
    assert td2.torrent(h2)["infohash_v1"] == "", td2.torrent(h2)
    wait_complete(td2, h2, 120, procs=[td, td2])
    assert_same_data(tbytes, data, td2.save_path)
    t = td2.torrent(h2)
    assert t["hash"] == h2 and t["infohash_v1"] == v1 and t["infohash_v2"] == v2, t
    td2.stop()
    td2.start()
    wait_until(lambda: td2.is_complete(h2), 60, "restored hybrid added by btmh", procs=[td2])
    assert [x["hash"] for x in td2.get("/api/v2/torrents/info").json()] == [h2]
