"""torrentcreator/* (qBittorrent 5.x) against the real daemon: task life cycle,
field shapes, errors, the .torrent verified against the data, and a created
torrent seeded (startSeeding) to a second torrentd that leeches it."""
import hashlib
import os
import re
import time

from conftest import LEECH_IP, SEED_IP
from tdlib import Torrentd, assert_same_data, bdecode, infohash, wait_complete, wait_until, write_random

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
QT_DATE = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} \d{1,2} \d\d:\d\d:\d\d \d{4}$")
TC = "/api/v2/torrentcreator/"


PAYLOAD = [("b.bin", 3 * 1024 * 1024 + 5), ("a.txt", 777), ("empty", 0),
           ("sub/deep/c.dat", 2 * 1024 * 1024 + 1), ("sub/d", 4096)]


def make_payload(root, files=PAYLOAD):
    for rel, size in files:
        p = os.path.join(root, rel)
        if size:
            write_random(p, size)
        else:
            os.makedirs(os.path.dirname(p), exist_ok=True)
            open(p, "wb").close()
    return files


def add_task(td, ok=(200,), **params):
    return td.req("POST", TC + "addTask", ok=ok, data=params)


def status(td, task_id=None):
    params = {"taskID": task_id} if task_id else {}
    return td.req("GET", TC + "status", params=params).json()


def wait_finished(td, task_id, timeout=60):
    def done():
        st = status(td, task_id)
        return st[0] if st[0]["status"] in ("Finished", "Failed") else None
    return wait_until(done, timeout, "task %s" % task_id, 0.1, procs=[td])


def check_pieces(tbytes, base):
    info = bdecode(tbytes)[b"info"]
    plen = info[b"piece length"]
    name = info[b"name"].decode()
    if b"files" in info:
        paths = [os.path.join(base, name, *[c.decode() for c in f[b"path"]]) for f in info[b"files"]]
    else:
        paths = [os.path.join(base, name)]
    data = b"".join(open(p, "rb").read() for p in paths)
    want = b"".join(hashlib.sha1(data[i:i + plen]).digest() for i in range(0, len(data), plen))
    assert info[b"pieces"] == want
    return info


def test_creator_endpoints(procs, workdir):
    td = procs.add(Torrentd(os.path.join(workdir, "td"), SEED_IP)).start()
    data = os.path.join(workdir, "data")
    src = os.path.join(data, "payload")
    make_payload(src)
    out = os.path.join(workdir, "out.torrent")

    # method filter and required parameters
    assert td.req("GET", TC + "addTask", ok=(405,)).status_code == 405
    assert add_task(td, ok=(400,)).status_code == 400
    assert td.req("GET", TC + "torrentFile", ok=(400,)).status_code == 400
    assert td.req("POST", TC + "deleteTask", ok=(400,)).status_code == 400
    for ep, m in (("status", "GET"), ("torrentFile", "GET"), ("deleteTask", "POST")):
        r = td.req(m, TC + ep, ok=(404,), **({"params": {"taskID": "nope"}} if m == "GET"
                                              else {"data": {"taskID": "nope"}}))
        assert r.text == "Not Found"
    # a path with a NUL is refused rather than cut short
    assert add_task(td, ok=(400,), sourcePath=src + "\0/x").status_code == 400

    r = add_task(td, sourcePath=src, torrentFilePath=out, format="v1", private="true",
                 comment="made here", source="SRC", pieceSize="32768",
                 trackers="http://127.0.0.1:1/announce||udp://127.0.0.1:2",
                 urlSeeds="http://127.0.0.1:3/ws/")
    assert r.headers["Content-Type"].startswith("application/json")
    tid = r.json()["taskID"]
    assert UUID.match(tid), tid
    st = wait_finished(td, tid)
    assert st["status"] == "Finished", st
    assert st["taskID"] == tid and st["sourcePath"] == src and st["torrentFilePath"] == out
    assert st["pieceSize"] == 32768 and st["private"] is True and st["format"] == "v1"
    assert st["comment"] == "made here" and st["source"] == "SRC"
    assert st["trackers"] == ["http://127.0.0.1:1/announce", "", "udp://127.0.0.1:2"]
    assert st["urlSeeds"] == ["http://127.0.0.1:3/ws/"]
    for k in ("timeAdded", "timeStarted", "timeFinished"):
        assert QT_DATE.match(st[k]), st[k]
    assert "progress" not in st and "errorMessage" not in st
    assert isinstance(st["optimizeAlignment"], bool) and st["paddedFileSizeLimit"] == -1

    r = td.req("GET", TC + "torrentFile", params={"taskID": tid})
    assert r.headers["Content-Type"] == "application/x-bittorrent"
    assert r.headers["Content-Disposition"] == 'attachment; filename="%s.torrent"' % tid
    tbytes = r.content
    assert open(out, "rb").read() == tbytes
    meta = bdecode(tbytes)
    info = check_pieces(tbytes, data)
    assert info[b"name"] == b"payload" and info[b"private"] == 1 and info[b"source"] == b"SRC"
    assert [f[b"path"] for f in info[b"files"]] == [
        [b"a.txt"], [b"b.bin"], [b"empty"], [b"sub", b"d"], [b"sub", b"deep", b"c.dat"]]
    assert meta[b"comment"] == b"made here"
    assert meta[b"announce-list"] == [[b"http://127.0.0.1:1/announce"], [b"udp://127.0.0.1:2"]]
    assert meta[b"url-list"] == b"http://127.0.0.1:3/ws/"
    assert meta[b"created by"].startswith(b"torrentd/")
    # startSeeding defaults to false when a torrentFilePath is given
    assert td.info() == []

    # no format: hybrid (qBittorrent 5's default); v2 needs a power-of-two piece size
    r = add_task(td, sourcePath=src, startSeeding="false")
    st = wait_finished(td, r.json()["taskID"])
    assert st["status"] == "Finished" and st["format"] == "hybrid", st
    info = bdecode(td.req("GET", TC + "torrentFile", params={"taskID": st["taskID"]}).content)[b"info"]
    assert info[b"meta version"] == 2 and b"pieces" in info and b"file tree" in info
    r = add_task(td, sourcePath=src, format="hybrid", pieceSize=str(3 * 16384))
    bad = wait_finished(td, r.json()["taskID"])
    assert bad["status"] == "Failed"
    assert "power of two" in bad["errorMessage"], bad
    r = td.req("GET", TC + "torrentFile", ok=(409,), params={"taskID": bad["taskID"]})
    assert r.text == "Torrent creation failed."
    missing = wait_finished(td, add_task(td, sourcePath=os.path.join(data, "nope")).json()["taskID"])
    assert missing["status"] == "Failed" and "No such file" in missing["errorMessage"]

    # a queue: one big task runs, the others wait; 16 unfinished tasks at most
    big = os.path.join(data, "big.img")
    with open(big, "wb") as f:
        f.truncate(2 << 30)       # sparse: reads are free, hashing is not
    ids = [add_task(td, sourcePath=big, startSeeding="false").json()["taskID"] for _ in range(16)]
    r = add_task(td, ok=(409,), sourcePath=big)
    assert r.text == "Too many active tasks"
    sts = {s["taskID"]: s for s in status(td)}
    assert sts[ids[0]]["status"] == "Running" and isinstance(sts[ids[0]]["progress"], int)
    assert all(sts[i]["status"] == "Queued" and "timeStarted" not in sts[i] for i in ids[1:])
    assert [s["taskID"] for s in status(td)][:16] == ids     # unfinished first, oldest first
    r = td.req("GET", TC + "torrentFile", ok=(409,), params={"taskID": ids[1]})
    assert r.text == "Torrent creation is still unfinished."
    for i in ids:
        td.post(TC + "deleteTask", taskID=i)
    td.req("GET", TC + "status", ok=(404,), params={"taskID": ids[0]})
    assert all(s["status"] in ("Finished", "Failed") for s in status(td))


def test_creator_start_seeding_to_second_torrentd(procs, workdir):
    seeder = procs.add(Torrentd(os.path.join(workdir, "seed"), SEED_IP)).start()
    data = os.path.join(workdir, "data")
    src = os.path.join(data, "payload")
    make_payload(src)
    r = add_task(seeder, sourcePath=src)          # no file path: startSeeding defaults to true
    st = wait_finished(seeder, r.json()["taskID"])
    assert st["status"] == "Finished", st
    tbytes = seeder.req("GET", TC + "torrentFile", params={"taskID": st["taskID"]}).content
    h = infohash(tbytes)
    seeder.wait_seeding(h, 30)
    t = seeder.torrent(h)
    assert os.path.normpath(t["save_path"]) == data, t
    assert t["progress"] == 1

    leecher = procs.add(Torrentd(os.path.join(workdir, "leech"), LEECH_IP)).start()
    leecher.add(tbytes, leecher.save_path)
    wait_complete(leecher, h, 120, procs=[seeder],
                  nudge=lambda: leecher.add_peers(h, [seeder.peer_addr]))
    assert_same_data(tbytes, data, leecher.save_path)
    # the daemon keeps it across a restart (persisted before being seeded)
    seeder.stop()
    seeder.start()
    wait_until(lambda: seeder.torrent(h), 30, "restored torrent", procs=[seeder])
    time.sleep(0.1)
