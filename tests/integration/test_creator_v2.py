"""BitTorrent v2 (BEP52) torrents made by torrentcreator, checked by an
independent implementation: python3-libtorrent loads them, its info-hashes
equal what torrentd reports, a full recheck of the source data in a
libtorrent session reaches 100% (every pieces root and piece-layer node is
right), and a libtorrent leecher downloads a hybrid that torrentd seeds."""
import hashlib
import os
import time

import pytest

from conftest import LEECH2_IP, LEECH_IP, SEED_IP
from tdlib import (Torrentd, assert_same_data, bdecode, free_port, info_span, infohash,
                   wait_complete, wait_until, write_random)
from test_creator import add_task, make_payload, wait_finished

lt = pytest.importorskip("libtorrent")
TC = "/api/v2/torrentcreator/"
KiB = 1024
# odd sizes around the 16 KiB block and the 32 KiB piece, several pieces, an
# empty file, a nested folder
FILES = [("zero", 0), ("one", 1), ("block-1", 16 * KiB - 1), ("block+1", 16 * KiB + 1),
         ("sub/many.bin", 7 * 32 * KiB + 5), ("sub/deeper/piece", 32 * KiB),
         ("Upper.txt", 3 * 16 * KiB + 2)]


def create(td, src, fmt, **extra):
    params = dict(sourcePath=src, format=fmt, pieceSize=str(32 * KiB), startSeeding="false")
    params.update(extra)
    st = wait_finished(td, add_task(td, **params).json()["taskID"])
    assert st["status"] == "Finished", st
    return td.req("GET", TC + "torrentFile", params={"taskID": st["taskID"]}).content


def v2_hash(tbytes):
    a, z = info_span(tbytes)
    return hashlib.sha256(tbytes[a:z]).hexdigest()


class Lt:
    """An in-process libtorrent session on `ip`, nothing that reaches out."""

    def __init__(self, ip):
        self.port = free_port()
        self.ses = lt.session({
            "listen_interfaces": "%s:%d" % (ip, self.port), "outgoing_interfaces": ip,
            "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
            "enable_incoming_utp": False, "enable_outgoing_utp": False,
            "allow_multiple_connections_per_ip": True,
            "alert_mask": lt.alert.category_t.error_notification,
        })

    def add(self, tbytes, save):
        p = lt.add_torrent_params()
        p.ti = lt.torrent_info(tbytes)
        p.save_path = save
        return self.ses.add_torrent(p)

    def close(self):
        ses, self.ses = self.ses, None
        if ses is not None:
            ses.pause()
            del ses


@pytest.fixture
def lts(procs):
    s = Lt(LEECH_IP)
    procs.on_close(s.close)
    return s


def recheck(lts, tbytes, save, timeout=60):
    """libtorrent's progress after a full recheck of the data at save."""
    th = lts.add(tbytes, save)
    th.force_recheck()
    checking = (lt.torrent_status.checking_files, lt.torrent_status.checking_resume_data)
    time.sleep(0.2)
    wait_until(lambda: th.status().state not in checking, timeout, "libtorrent recheck")
    time.sleep(0.2)
    progress = th.status().progress
    lts.ses.remove_torrent(th)
    time.sleep(0.2)
    return progress


def test_v2_and_hybrid_checked_by_libtorrent(procs, workdir, lts):
    td = procs.add(Torrentd(os.path.join(workdir, "td"), SEED_IP)).start()
    data = os.path.join(workdir, "data")
    src = os.path.join(data, "payload")
    make_payload(src, FILES)

    for fmt in ("v2", "hybrid"):
        tbytes = create(td, src, fmt)
        meta = bdecode(tbytes)
        info = meta[b"info"]
        assert info[b"meta version"] == 2
        assert (b"pieces" in info) == (fmt == "hybrid")
        assert b"piece layers" in meta
        ti = lt.torrent_info(tbytes)
        ih = ti.info_hashes()
        assert str(ih.v2) == v2_hash(tbytes)
        if fmt == "hybrid":
            assert str(ih.v1) == infohash(tbytes)
        else:
            assert not ih.has_v1()
        # libtorrent sees the same files, pads aside
        lfiles = [(ti.files().file_path(i), ti.files().file_size(i)) for i in range(ti.num_files())
                  if not ti.files().file_flags(i) & lt.file_storage.flag_pad_file]
        assert sorted(lfiles) == sorted((os.path.join("payload", r), n) for r, n in FILES)
        assert recheck(lts, tbytes, data) == 1.0
        if fmt == "v2":
            # and the check can fail: one flipped byte loses its piece
            p = os.path.join(src, "sub/many.bin")
            orig = open(p, "rb").read()
            with open(p, "r+b") as f:
                f.seek(3 * 32 * KiB + 100)
                f.write(bytes([orig[3 * 32 * KiB + 100] ^ 1]))
            assert recheck(lts, tbytes, data) < 1.0
            with open(p, "wb") as f:
                f.write(orig)

        if fmt == "hybrid":
            # torrentd reports both hashes of the hybrid, as libtorrent computes them
            td.add(tbytes, data)
            h = str(ih.v1)
            wait_until(lambda: td.torrent(h), 30, "hybrid added", procs=[td])
            t = td.info(h)[0]
            assert t["infohash_v1"] == h and t["infohash_v2"] == str(ih.v2), t
            assert t["magnet_uri"] == lt.make_magnet_uri(ti), t["magnet_uri"]
            props = td.get("/api/v2/torrents/properties", hash=h).json()
            assert props["infohash_v1"] == h and props["infohash_v2"] == str(ih.v2), props
            sync = td.get("/api/v2/sync/maindata", rid=0).json()
            assert sync["torrents"][h]["infohash_v2"] == str(ih.v2)
            # export gives the .torrent back with its piece layers
            exp = td.req("GET", "/api/v2/torrents/export", params={"hash": h}).content
            assert exp == tbytes
            wait_until(lambda: td.torrent(h)["progress"] == 1, 60, "hybrid checked", procs=[td])


def leech_from_torrentd(lts, td, tbytes, dst, what, th=None):
    """libtorrent downloads from td (tbytes, or the torrent handle th)."""
    th = th or lts.add(tbytes, dst)
    ip, port = td.peer_addr.split(":")

    def done():
        if time.monotonic() - done.last > 5:
            th.connect_peer((ip, int(port)))
            done.last = time.monotonic()
        return th.status().is_seeding
    done.last = 0.0
    t0 = time.monotonic()
    wait_until(done, 120, what, interval=0.2, procs=[td])
    print("%s: %.2f s" % (what, time.monotonic() - t0))
    return th


def test_hybrid_seeded_to_libtorrent(procs, workdir, lts):
    td = procs.add(Torrentd(os.path.join(workdir, "td"), SEED_IP)).start()
    data = os.path.join(workdir, "data")
    src = os.path.join(data, "payload")
    make_payload(src, FILES)
    write_random(os.path.join(src, "big.bin"), 3 * 1024 * KiB + 77)
    # no format: hybrid; no file path: startSeeding
    st = wait_finished(td, add_task(td, sourcePath=src, pieceSize=str(32 * KiB)).json()["taskID"])
    assert st["status"] == "Finished" and st["format"] == "hybrid", st
    tbytes = td.req("GET", TC + "torrentFile", params={"taskID": st["taskID"]}).content
    h = infohash(tbytes)
    td.wait_seeding(h, 30)

    dst = os.path.join(workdir, "leech")
    os.makedirs(dst)
    leech_from_torrentd(lts, td, tbytes, dst, "libtorrent leeching the hybrid from torrentd")
    assert_same_data(tbytes, data, dst)


def seed_v2(procs, workdir, piece):
    """torrentd creates a v2-only torrent with startSeeding and seeds it."""
    seeder = procs.add(Torrentd(os.path.join(workdir, "seed"), SEED_IP)).start()
    data = os.path.join(workdir, "data")
    src = os.path.join(data, "payload")
    make_payload(src, FILES + [("big.bin", 2 * 1024 * KiB + 77)])
    st = wait_finished(seeder, add_task(seeder, sourcePath=src, format="v2",
                                        pieceSize=str(piece)).json()["taskID"])
    assert st["status"] == "Finished" and "errorMessage" not in st, st
    tbytes = seeder.req("GET", TC + "torrentFile", params={"taskID": st["taskID"]}).content
    v2 = str(lt.torrent_info(tbytes).info_hashes().v2)
    seeder.wait_seeding(v2[:40], 30)           # BEP52: the v2 hash cut to 20 bytes
    return seeder, data, tbytes, v2


def test_v2_only_both_directions(procs, workdir, lts):
    """A v2-only torrent: created and seeded by torrentd (startSeeding), leeched
    by libtorrent; then libtorrent seeds it to a second torrentd, which
    verifies every piece by SHA-256 merkle and passes a recheck."""
    seeder, data, tbytes, v2 = seed_v2(procs, workdir, 32 * KiB)
    h = v2[:40]
    t = seeder.torrent(h)
    assert t["hash"] == h and t["infohash_v1"] == "" and t["infohash_v2"] == v2, t
    assert t["magnet_uri"] == lt.make_magnet_uri(lt.torrent_info(tbytes)), t["magnet_uri"]

    dst = os.path.join(workdir, "lt")
    os.makedirs(dst)
    leech_from_torrentd(lts, seeder, tbytes, dst, "libtorrent leeching v2-only from torrentd")
    assert_same_data(tbytes, data, dst)

    # libtorrent seeds it to a second torrentd, which dials it
    seeder.stop()
    leecher = procs.add(Torrentd(os.path.join(workdir, "leech"), LEECH2_IP)).start()
    leecher.add(tbytes, leecher.save_path)
    lt_addr = "%s:%d" % (LEECH_IP, lts.port)
    wait_complete(leecher, h, 120, nudge=lambda: leecher.add_peers(h, [lt_addr]))
    assert_same_data(tbytes, data, leecher.save_path)
    leecher.post("/api/v2/torrents/recheck", hashes=h)
    time.sleep(0.5)
    wait_until(lambda: leecher.is_complete(h), 60, "recheck of the v2-only torrent", procs=[leecher])
    # kept across a restart, still v2
    leecher.stop()
    leecher.start()
    wait_until(lambda: leecher.is_complete(h), 60, "restored v2-only torrent", procs=[leecher])
    assert leecher.torrent(h)["infohash_v2"] == v2
    # a damaged piece fails the recheck
    p = os.path.join(leecher.save_path, "payload", "big.bin")
    with open(p, "r+b") as f:
        f.seek(1024 * KiB + 5)
        b = f.read(1)
        f.seek(1024 * KiB + 5)
        f.write(bytes([b[0] ^ 0xff]))
    leecher.post("/api/v2/torrents/recheck", hashes=h)
    time.sleep(0.5)
    wait_until(lambda: not str(leecher.torrent(h)["state"]).startswith("checking")
               and leecher.torrent(h)["progress"] < 1, 60, "recheck to find the damage",
               procs=[leecher])


def test_v2_magnet_to_libtorrent(procs, workdir, lts):
    """libtorrent given only `urn:btmh`: the info dict comes from torrentd over
    ut_metadata, the piece layers through BEP52 hash requests it answers."""
    seeder, data, tbytes, v2 = seed_v2(procs, workdir, 16 * KiB)

    dst = os.path.join(workdir, "lt")
    os.makedirs(dst)
    lts.ses.apply_settings({"alert_mask": lt.alert.category_t.peer_log_notification
                            | lt.alert.category_t.error_notification})
    p = lt.parse_magnet_uri("magnet:?xt=urn:btmh:1220%s" % v2)
    p.save_path = dst
    leech_from_torrentd(lts, seeder, None, dst, "libtorrent: a v2 magnet from torrentd",
                        th=lts.ses.add_torrent(p))
    assert_same_data(tbytes, data, dst)
    # libtorrent asked torrentd for piece-layer hashes, got them all and found
    # them right (a wrong one would have cost the connection: invalid hashes)
    msgs = [a.message() for a in lts.ses.pop_alerts()]
    asked = [m for m in msgs if "==> HASH_REQUEST" in m]
    got = [m for m in msgs if "<== HASHES" in m]
    assert asked and len(got) == len(asked), [m for m in msgs if "HASH" in m]
    assert not [m for m in msgs if "invalid hashes" in m.lower() or "HASH_REJECT" in m]
