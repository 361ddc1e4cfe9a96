"""µTorrent Server's /proxy: a torrent's file over HTTP with Range, from a
seeded torrent and from one still downloading (its pieces get priority).
Seed 004 (/proxy?id=&file=) and the official WebUI's form (sid= from the
row's [22], disposition, service, qos)."""
import os
import time

import requests

from conftest import LEECH_IP, SEED_IP
from tdlib import MiB, PASSWORD, USER, Torrentd, make_torrent, piece_hashes, wait_until, write_random

PIECE = 256 * 1024
AUTH = (USER, PASSWORD)


def _multi_torrent(root, name, files):
    """files: [(relpath, size)] -> (tbytes, {relpath: bytes})."""
    datas, payload, flist = {}, b"", []
    for rel, size in files:
        path = os.path.join(root, name, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write_random(path, size)
        with open(path, "rb") as f:
            datas[rel] = f.read()
        payload += datas[rel]
        flist.append({"length": size, "path": rel.split("/")})
    tbytes, ih = make_torrent({"name": name, "piece length": PIECE, "files": flist,
                               "pieces": piece_hashes(payload, PIECE)})
    return tbytes, ih, datas


def _single_torrent(root, name, size):
    path = os.path.join(root, name)
    os.makedirs(root, exist_ok=True)
    write_random(path, size)
    with open(path, "rb") as f:
        data = f.read()
    tbytes, ih = make_torrent({"name": name, "length": size, "piece length": PIECE,
                               "pieces": piece_hashes(data, PIECE)})
    return tbytes, ih, data


def _proxy(td, params, headers=None, method="GET", auth=AUTH, **kw):
    kw.setdefault("timeout", 60)
    return requests.request(method, td.base + "/proxy", params=params, headers=headers or {}, auth=auth, **kw)


def test_proxy_ranges_of_a_seeded_file(workdir, procs):
    data_root = os.path.join(workdir, "data")
    tbytes, ih, datas = _multi_torrent(data_root, "show", [("a/movie.mp4", 3 * MiB + 17), ("notes.txt", 1000)])
    stbytes, sih, sdata = _single_torrent(data_root, "single.mkv", PIECE + 5)
    td = procs.add(Torrentd(os.path.join(workdir, "td"), SEED_IP)).start()
    td.add(tbytes, data_root)
    td.add(stbytes, data_root)
    td.wait_complete(ih, 30)
    td.wait_complete(sih, 30)
    movie = datas["a/movie.mp4"]
    size = len(movie)

    r = _proxy(td, {"id": ih, "file": "0"})
    assert r.status_code == 200, r.text
    assert r.content == movie
    assert r.headers["Content-Length"] == str(size)
    assert r.headers["Accept-Ranges"] == "bytes"
    assert r.headers["Content-Type"] == "video/mp4"
    assert r.headers["Content-Disposition"].startswith('inline; filename="movie.mp4"')

    # the official WebUI's form: sid is the upper-case hash, file the getfiles index
    r = _proxy(td, {"sid": ih.upper(), "file": "1", "disposition": "ATTACHMENT", "service": "DOWNLOAD",
                    "qos": "0"})
    assert r.status_code == 200
    assert r.content == datas["notes.txt"]
    assert r.headers["Content-Type"].startswith("text/plain")
    assert r.headers["Content-Disposition"].startswith('attachment; filename="notes.txt"')

    # one range: 206 with Content-Range (within a piece, across pieces, open, suffix)
    for spec, a, b in (("bytes=100-199", 100, 199), ("bytes=%d-%d" % (PIECE - 10, 2 * PIECE + 9),
                                                     PIECE - 10, 2 * PIECE + 9),
                       ("bytes=%d-" % (size - 5), size - 5, size - 1), ("bytes=-50", size - 50, size - 1),
                       ("bytes=3-%d" % (size + 1000), 3, size - 1)):
        r = _proxy(td, {"id": ih, "file": "0"}, {"Range": spec})
        assert r.status_code == 206, (spec, r.status_code)
        assert r.headers["Content-Range"] == "bytes %d-%d/%d" % (a, b, size), spec
        assert r.content == movie[a:b + 1], spec
    # unsatisfiable: 416 with the size
    for spec in ("bytes=%d-" % size, "bytes=-0"):
        r = _proxy(td, {"id": ih, "file": "0"}, {"Range": spec})
        assert r.status_code == 416, spec
        assert r.headers["Content-Range"] == "bytes */%d" % size
    # several ranges, or one we cannot parse: the whole file
    for spec in ("bytes=0-1,5-6", "bytes=9-3", "items=0-1"):
        r = _proxy(td, {"id": ih, "file": "0"}, {"Range": spec})
        assert r.status_code == 200, spec
        assert r.content == movie
    # HEAD: the headers only
    r = _proxy(td, {"id": ih, "file": "0"}, method="HEAD")
    assert r.status_code == 200 and r.content == b""
    assert r.headers["Content-Length"] == str(size)

    # a single-file torrent needs no file=
    r = _proxy(td, {"id": sih})
    assert r.status_code == 200 and r.content == sdata
    assert r.headers["Content-Type"] == "video/x-matroska"

    # errors
    assert _proxy(td, {"id": ih}).status_code == 400                    # several files: file= needed
    assert _proxy(td, {"id": ih, "file": "x"}).status_code == 400
    assert _proxy(td, {"id": ih, "file": "-1"}).status_code == 400
    assert _proxy(td, {"id": ih, "file": "2"}).status_code == 404       # no such file
    assert _proxy(td, {"id": "00" * 20, "file": "0"}).status_code == 404
    assert _proxy(td, {"sid": "nonsense", "file": "0"}).status_code == 404
    assert _proxy(td, {"file": "0"}).status_code == 404
    r = _proxy(td, {"id": ih, "file": "0"}, auth=None)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == 'Basic realm="uTorrent"'
    assert _proxy(td, {"id": ih, "file": "0"}, auth=(USER, "wrong")).status_code == 401
    # no token needed, and a token does no harm
    assert _proxy(td, {"id": ih, "file": "1", "token": "whatever"}).content == datas["notes.txt"]


def test_proxy_streams_a_file_while_it_downloads(workdir, procs):
    """Sequential download from a throttled seeder: a range at the end of the
    file arrives long before the download gets there (its pieces jumped the
    queue), then the whole file streams with the right bytes."""
    seed_root = os.path.join(workdir, "seed-data")
    size = 24 * MiB + 333
    tbytes, ih, data = _single_torrent(seed_root, "film.webm", size)
    seeder = procs.add(Torrentd(os.path.join(workdir, "seed"), SEED_IP)).start()
    seeder.set_prefs({"up_limit": 2 * MiB})
    seeder.add(tbytes, seed_root)
    seeder.wait_complete(ih, 30)
    leecher = procs.add(Torrentd(os.path.join(workdir, "leech"), LEECH_IP)).start()
    leecher.add(tbytes, leecher.save_path, sequentialDownload="true")
    leecher.add_peers(ih, [seeder.peer_addr])

    start = size - 1024 * 1024
    r = _proxy(leecher, {"id": ih, "file": "0"}, {"Range": "bytes=%d-" % start})
    assert r.status_code == 206
    assert r.content == data[start:]
    # The range's pieces jumped the queue: pieces before them are still
    # missing (a purely sequential download reaches the end last, with
    # nothing missing before it).  Pieces, not a progress figure, so a
    # loaded machine's timing cannot make it pass or fail.
    states = leecher.get("/api/v2/torrents/pieceStates", hash=ih).json()
    first = start // PIECE
    assert all(st == 2 for st in states[first:]), "the range's pieces are here"
    assert 0 in states[:first], "the end of a sequential download came after everything before it: no priority"

    t0 = time.monotonic()
    with _proxy(leecher, {"sid": ih.upper(), "file": "0"}, stream=True, timeout=90) as r:
        assert r.status_code == 200
        assert r.headers["Content-Length"] == str(size)
        got = b"".join(r.iter_content(1 << 16))
    assert got == data
    assert time.monotonic() - t0 < 90
    wait_until(lambda: leecher.is_complete(ih), 30, "download complete", procs=[seeder, leecher])


def test_proxy_stopped_torrent_without_the_data(workdir, procs):
    data_root = os.path.join(workdir, "data")
    tbytes, ih, _ = _single_torrent(data_root, "missing.bin", 2 * PIECE)
    td = procs.add(Torrentd(os.path.join(workdir, "td"), SEED_IP)).start()
    td.add(tbytes, td.save_path, stopped=True)
    wait_until(lambda: td.torrent(ih), 10, "torrent added")
    t0 = time.monotonic()
    r = _proxy(td, {"id": ih})
    assert r.status_code == 503
    assert time.monotonic() - t0 < 10, "a piece that cannot come is not waited for"
    # HEAD reads nothing: the headers at once
    r = _proxy(td, {"id": ih}, {"Range": "bytes=100-"}, method="HEAD")
    assert r.status_code == 206 and r.headers["Content-Length"] == str(2 * PIECE - 100)
    assert r.headers["Content-Range"] == "bytes 100-%d/%d" % (2 * PIECE - 1, 2 * PIECE)


def test_proxy_client_leaves_and_torrent_removed_mid_stream(workdir, procs):
    """A client that hangs up while its bytes are awaited, and a torrent
    removed under a running stream: the body is cut short, the daemon goes
    on (ASan checks the lifetimes), and the torrent is gone for /proxy."""
    seed_root = os.path.join(workdir, "seed-data")
    size = 8 * MiB
    tbytes, ih, data = _single_torrent(seed_root, "slow.mp4", size)
    seeder = procs.add(Torrentd(os.path.join(workdir, "seed"), SEED_IP)).start()
    seeder.set_prefs({"up_limit": 512 * 1024})
    seeder.add(tbytes, seed_root)
    seeder.wait_complete(ih, 30)
    leecher = procs.add(Torrentd(os.path.join(workdir, "leech"), LEECH_IP)).start()
    leecher.add(tbytes, leecher.save_path, sequentialDownload="true")
    leecher.add_peers(ih, [seeder.peer_addr])

    # hang up while the end of the file is still awaited
    try:
        _proxy(leecher, {"id": ih}, {"Range": "bytes=%d-" % (size - 100)}, timeout=0.5)
    except requests.exceptions.Timeout:
        pass
    # a stream in progress, then the torrent goes
    got = b""
    with _proxy(leecher, {"id": ih}, stream=True, timeout=60) as r:
        assert r.status_code == 200
        it = r.iter_content(1 << 16)
        got += next(it)
        leecher.delete(ih, delete_files=True)
        try:
            for chunk in it:
                got += chunk
        except requests.exceptions.RequestException:
            pass
    assert len(got) < size and got == data[:len(got)]
    assert _proxy(leecher, {"id": ih}).status_code == 404
    leecher.check_alive()
    assert leecher.torrent(ih) is None


def test_proxy_shutdown_while_a_stream_waits(workdir, procs):
    """SIGTERM while a /proxy reply waits for a piece: the daemon exits 0 at
    once (the paused reply is resumed so that libmicrohttpd can stop, and
    dropped with its connection), ASan clean."""
    import threading
    seed_root = os.path.join(workdir, "seed-data")
    size = 4 * MiB
    tbytes, ih, _ = _single_torrent(seed_root, "late.mkv", size)
    seeder = procs.add(Torrentd(os.path.join(workdir, "seed"), SEED_IP)).start()
    seeder.set_prefs({"up_limit": 128 * 1024})
    seeder.add(tbytes, seed_root)
    seeder.wait_complete(ih, 30)
    leecher = procs.add(Torrentd(os.path.join(workdir, "leech"), LEECH_IP)).start()
    leecher.add(tbytes, leecher.save_path, sequentialDownload="true")
    leecher.add_peers(ih, [seeder.peer_addr])
    out = {}

    def ask():
        try:
            out["r"] = _proxy(leecher, {"id": ih}, timeout=60)
        except requests.exceptions.RequestException as e:
            out["e"] = e
    t = threading.Thread(target=ask)
    t.start()
    # two pieces in: the reply is out with piece 0, its connection asleep for the next ones
    wait_until(lambda: leecher.progress(ih) >= 2 / 16 or not t.is_alive(), 30, "the stream to be waiting")
    assert t.is_alive()
    t0 = time.monotonic()
    leecher.stop()
    assert leecher.proc.returncode == 0
    assert time.monotonic() - t0 < 15
    t.join(60)
    assert not t.is_alive()
    assert "e" in out or out["r"].status_code in (200, 503), out
