"""renameFile / renameFolder move the data on disk and survive a restart;
a recheck afterwards still finds every piece."""
import hashlib
import os

from conftest import LEECH_IP
from tdlib import Torrentd, make_torrent, wait_until


def test_rename_file_and_folder(workdir, procs):
    data = os.path.join(workdir, "data")
    files = {"a.txt": os.urandom(70000), "sub/b.bin": os.urandom(50000)}
    blob = b"".join(files[k] for k in ("a.txt", "sub/b.bin"))
    for rel, content in files.items():
        os.makedirs(os.path.dirname(os.path.join(data, "t", rel)), exist_ok=True)
        with open(os.path.join(data, "t", rel), "wb") as f:
            f.write(content)
    info = {"name": "t", "piece length": 16384,
            "files": [{"length": len(files["a.txt"]), "path": ["a.txt"]},
                      {"length": len(files["sub/b.bin"]), "path": ["sub", "b.bin"]}],
            "pieces": b"".join(hashlib.sha1(blob[k:k + 16384]).digest() for k in range(0, len(blob), 16384))}
    tbytes, h = make_torrent(info)
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    td.add(tbytes, data)
    wait_until(lambda: td.torrent(h)["progress"] == 1, 20, "checked")

    td.post("/api/v2/torrents/renameFile", hash=h, oldPath="t/a.txt", newPath="t/renamed.txt")
    td.post("/api/v2/torrents/renameFolder", hash=h, oldPath="t/sub", newPath="t/other/deeper")
    names = [f["name"] for f in td.get("/api/v2/torrents/files", hash=h).json()]
    assert names == ["t/renamed.txt", "t/other/deeper/b.bin"]
    assert open(os.path.join(data, "t/renamed.txt"), "rb").read() == files["a.txt"]
    assert open(os.path.join(data, "t/other/deeper/b.bin"), "rb").read() == files["sub/b.bin"]
    assert not os.path.exists(os.path.join(data, "t/a.txt"))
    assert not os.path.exists(os.path.join(data, "t/sub")), "the emptied folder is removed"

    # errors as qBittorrent words them
    r = td.req("POST", "/api/v2/torrents/renameFile", ok=(409,),
               data={"hash": h, "oldPath": "t/nope", "newPath": "t/x"})
    assert r.text == "No such file: 't/nope'."
    r = td.req("POST", "/api/v2/torrents/renameFile", ok=(409,),
               data={"hash": h, "oldPath": "t/renamed.txt", "newPath": "t/other/deeper/b.bin"})
    assert r.text == "The file already exists: 't/other/deeper/b.bin'."
    td.req("POST", "/api/v2/torrents/renameFile", ok=(409,),
           data={"hash": h, "oldPath": "t/renamed.txt", "newPath": "../escape.txt"})
    td.req("POST", "/api/v2/torrents/renameFile", ok=(404,),
           data={"hash": "0" * 40, "oldPath": "a", "newPath": "b"})
    td.req("POST", "/api/v2/torrents/renameFile", ok=(400,), data={"hash": h})

    td.stop()
    td.start()
    names = [f["name"] for f in td.get("/api/v2/torrents/files", hash=h).json()]
    assert names == ["t/renamed.txt", "t/other/deeper/b.bin"]
    td.post("/api/v2/torrents/recheck", hashes=h)
    wait_until(lambda: td.torrent(h)["state"] in ("stalledUP", "uploading"), 20, "rechecked")
    assert td.torrent(h)["progress"] == 1
