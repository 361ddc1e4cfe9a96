"""torrents/add options beyond the basics: stopCondition and addToTopOfQueue."""
import hashlib
import os

from conftest import LEECH_IP
from tdlib import Torrentd, make_torrent, wait_until


def _make(workdir, name, with_data):
    payload = os.urandom(60000)
    d = os.path.join(workdir, "data")
    os.makedirs(d, exist_ok=True)
    if with_data:
        with open(os.path.join(d, name), "wb") as f:
            f.write(payload)
    info = {"name": name, "length": len(payload), "piece length": 16384,
            "pieces": b"".join(hashlib.sha1(payload[k:k + 16384]).digest()
                               for k in range(0, len(payload), 16384))}
    return make_torrent(info), d


def test_stop_condition_files_checked(workdir, procs):
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    (tbytes, h), d = _make(workdir, "checked.bin", True)
    td.add(tbytes, d, stopCondition="FilesChecked")
    wait_until(lambda: td.torrent(h)["state"] == "stoppedUP", 20, "stopped once checked")
    assert td.torrent(h)["progress"] == 1
    td.stop()
    td.start()
    assert td.torrent(h)["state"] == "stoppedUP"
    # a plain add keeps running
    (tbytes2, h2), d = _make(workdir, "running.bin", True)
    td.add(tbytes2, d, stopCondition="None")
    wait_until(lambda: td.torrent(h2)["state"] in ("stalledUP", "uploading"), 20, "seeding")


def test_add_to_top_of_queue(workdir, procs):
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    hashes = []
    for i in range(3):
        (tbytes, h), d = _make(workdir, "q%d.bin" % i, False)
        td.add(tbytes, d, addToTopOfQueue="true" if i == 2 else "false")
        hashes.append(h)
    prio = {t["hash"]: t["priority"] for t in td.info()}
    assert [prio[h] for h in hashes] == [2, 3, 1]
    td.stop()
    td.start()
    prio = {t["hash"]: t["priority"] for t in td.info()}
    assert [prio[h] for h in hashes] == [2, 3, 1]


def _multi(workdir):
    files = {"a.bin": os.urandom(30000), "d/b.bin": os.urandom(20000)}
    blob = files["a.bin"] + files["d/b.bin"]
    info = {"name": "multi", "piece length": 16384,
            "files": [{"length": 30000, "path": ["a.bin"]}, {"length": 20000, "path": ["d", "b.bin"]}],
            "pieces": b"".join(hashlib.sha1(blob[k:k + 16384]).digest() for k in range(0, len(blob), 16384))}
    return make_torrent(info)


def test_content_layout(workdir, procs):
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    (tbytes, h), _ = _make(workdir, "movie.mkv", False)
    save = os.path.join(workdir, "out")
    td.add(tbytes, save, stopped=True, contentLayout="Subfolder")
    t = td.torrent(h)
    assert [f["name"] for f in td.get("/api/v2/torrents/files", hash=h).json()] == ["movie/movie.mkv"]
    # one file: content_path is the file, inside the new root folder (qBittorrent's contentPath())
    assert t["content_path"] == os.path.join(save, "movie", "movie.mkv")
    assert t["root_path"] == os.path.join(save, "movie")

    tbytes, h2 = _multi(workdir)
    td.add(tbytes, save, stopped=True, contentLayout="NoSubfolder")
    t = td.torrent(h2)
    assert [f["name"] for f in td.get("/api/v2/torrents/files", hash=h2).json()] == ["a.bin", "d/b.bin"]
    assert t["content_path"] == save and t["root_path"] == ""
    td.stop()
    td.start()
    assert [f["name"] for f in td.get("/api/v2/torrents/files", hash=h2).json()] == ["a.bin", "d/b.bin"]
    assert [f["name"] for f in td.get("/api/v2/torrents/files", hash=h).json()] == ["movie/movie.mkv"]


def test_request_overrides_preference_defaults(workdir, procs):
    """torrents/add starts from the preferences' defaults (the ones a
    watched folder uses) and overrides only what the request gives:
    useDownloadPath=false drops the temp path, true without a downloadPath
    takes temp_path even when temp_path_enabled is off, a downloadPath alone
    implies useDownloadPath, and an unknown contentLayout keeps the pref."""
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    save, temp, other = (os.path.join(workdir, n) for n in ("out", "temp", "other"))
    td.set_prefs({"temp_path_enabled": True, "temp_path": temp, "add_stopped_enabled": True,
                  "torrent_content_layout": "Subfolder"})

    def add(**params):
        (tbytes, h), _ = _make(workdir, "movie.mkv", False)
        files = [("torrents", ("t.torrent", tbytes, "application/x-bittorrent"))]
        r = td.req("POST", "/api/v2/torrents/add", files=files, data=dict(savepath=save, **params))
        assert r.text.strip() == "Ok."
        t = td.torrent(h)
        names = [f["name"] for f in td.get("/api/v2/torrents/files", hash=h).json()]
        return t, names

    t, names = add()   # all from the preferences
    assert t["state"].startswith("stopped") and t["download_path"] == temp and names == ["movie/movie.mkv"]
    t, names = add(useDownloadPath="false", contentLayout="Original", stopped="false")
    assert not t["state"].startswith("stopped") and t["download_path"] == "" and names == ["movie.mkv"]
    t, names = add(contentLayout="Sideways", downloadPath=other)
    assert t["download_path"] == other and names == ["movie/movie.mkv"]

    td.set_prefs({"temp_path_enabled": False, "add_stopped_enabled": False})
    t, _ = add(useDownloadPath="true", stopped="true")
    assert t["download_path"] == temp
    t, _ = add(stopped="true")
    assert t["download_path"] == ""
