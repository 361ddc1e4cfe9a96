"""Per-torrent edit endpoints of the qBittorrent WebUI API v2, against a running torrentd.

docs/api-surface.md §4.6 (downloadLimit/uploadLimit, export, count), §4.7
(setAutoManagement, setLocation, setSavePath, setDownloadPath, rename,
filePrio, set*Limit, setShareLimits, toggles, setSuperSeeding, trackers and
web seeds: every status code and message), §9 (unknown ids skipped, 404 for
an unknown single hash).
"""
import os

import pytest

from conftest import LEECH_IP
from tdlib import Torrentd, bdecode, make_torrent, piece_hashes, wait_until

PL = 16384


def multi(name):
    files = [("a.bin", 30001), ("b.bin", 7), ("sub/c.bin", 20000)]
    payloads = [os.urandom(n) for _, n in files]
    info = {"name": name, "piece length": PL,
            "files": [{"length": n, "path": p.split("/")} for p, n in files],
            "pieces": piece_hashes(b"".join(payloads), PL)}
    return make_torrent(info, announce="http://127.0.0.1:9/announce")


@pytest.fixture(scope="module")
def td(module_procs, tmp_path_factory):
    d = str(tmp_path_factory.mktemp("edit"))
    return module_procs.add(Torrentd(os.path.join(d, "td"), LEECH_IP)).start()


def post(td, endpoint, **data):
    return td.s.post(td.base + "/api/v2/torrents/" + endpoint, data=data, timeout=30)


def get(td, path, **params):
    return td.s.get(td.base + "/api/v2/torrents/" + path, params=params, timeout=30)


def status(r):
    return r.status_code, r.text


@pytest.fixture
def one(td, tmp_path):
    """A stopped 3-file torrent: (hash, .torrent bytes, save path)."""
    tbytes, h = multi("edit-%s" % os.urandom(4).hex())
    save = str(tmp_path / "save")
    td.add(tbytes, save, stopped=True)
    wait_until(lambda: td.torrent(h), 10, "the torrent listed")
    wait_until(lambda: td.torrent(h)["state"] == "stoppedDL", 20, "the torrent checked")
    yield h, tbytes, save
    td.delete(h, delete_files=True)


def test_rename(td, one):
    h, _, _ = one
    # the empty-name check comes before the hash lookup, as in qBittorrent
    assert status(post(td, "rename", hash="0" * 40, name="  ")) == (409, "Incorrect torrent name")
    assert status(post(td, "rename", hash="0" * 40, name="x")) == (404, "Not Found")
    assert status(post(td, "rename", hash=h)) == (400, "Bad Request")
    assert status(post(td, "rename", hash=h, name=" two\r\nline\rname\nend ")) == (200, "")
    assert td.torrent(h)["name"] == "two line name end"


def test_file_prio(td, one):
    h, _, _ = one
    cases = [
        (dict(hash=h, id="0", priority="x"), (400, "Priority must be an integer")),
        (dict(hash=h, id="0", priority="3"), (400, "Priority is not valid")),
        (dict(hash=h, id="0", priority="-1"), (400, "Priority is not valid")),
        (dict(hash="0" * 40, id="0", priority="1"), (404, "Not Found")),
        (dict(hash=h, id="0|a", priority="1"), (400, "File IDs must be integers")),
        (dict(hash=h, id="", priority="1"), (400, "File IDs must be integers")),
        (dict(hash=h, id="3", priority="1"), (409, "File ID is not valid")),
        (dict(hash=h, id="-1", priority="1"), (409, "File ID is not valid")),
        (dict(hash=h, id="99999999999999999999", priority="1"), (400, "File IDs must be integers")),
        (dict(hash=h, priority="1"), (400, "Bad Request")),
    ]
    for params, want in cases:
        assert status(post(td, "filePrio", **params)) == want, params
    assert status(post(td, "filePrio", hash=h, id="0|2", priority="7")) == (200, "")
    assert status(post(td, "filePrio", hash=h, id="1", priority="0")) == (200, "")
    prios = [f["priority"] for f in get(td, "files", hash=h).json()]
    assert prios == [7, 0, 7]


def test_limits(td, one):
    h, _, _ = one
    assert status(get(td, "downloadLimit")) == (400, "Bad Request")
    assert get(td, "downloadLimit", hashes=h + "|nope").json() == {h: 0, "nope": -1}
    assert post(td, "setDownloadLimit", hashes=h, limit="123456").status_code == 200
    assert post(td, "setUploadLimit", hashes="all", limit="65536").status_code == 200
    assert get(td, "downloadLimit", hashes=h).json() == {h: 123456}
    assert get(td, "uploadLimit", hashes=h.upper()).json() == {h.upper(): 65536}
    t = td.torrent(h)
    assert t["dl_limit"] == 123456 and t["up_limit"] == 65536
    assert post(td, "setDownloadLimit", hashes=h, limit="0").status_code == 200
    assert post(td, "setUploadLimit", hashes=h, limit="-1").status_code == 200
    assert get(td, "downloadLimit", hashes=h).json() == {h: 0}
    assert get(td, "uploadLimit", hashes=h).json() == {h: 0}
    assert status(post(td, "setDownloadLimit", hashes=h)) == (400, "Bad Request")


def test_share_limits(td, one):
    h, _, _ = one
    assert status(post(td, "setShareLimits", hashes=h, ratioLimit="2")) == (400, "Bad Request")
    assert status(post(td, "setShareLimits", hashes=h, ratioLimit="1.5", seedingTimeLimit="60",
                       inactiveSeedingTimeLimit="-1")) == (200, "")
    t = td.torrent(h)
    assert t["ratio_limit"] == 1.5 and t["seeding_time_limit"] == 60
    assert t["inactive_seeding_time_limit"] == -1


def test_flags(td, one):
    h, _, _ = one
    t = td.torrent(h)
    assert (t["seq_dl"], t["f_l_piece_prio"], t["super_seeding"]) == (False, False, False)
    assert post(td, "toggleSequentialDownload", hashes=h).status_code == 200
    assert post(td, "toggleFirstLastPiecePrio", hashes=h + "|" + "f" * 40).status_code == 200
    assert status(post(td, "setSuperSeeding", hashes=h)) == (400, "Bad Request")
    assert post(td, "setSuperSeeding", hashes=h, value="true").status_code == 200
    t = td.torrent(h)
    assert (t["seq_dl"], t["f_l_piece_prio"], t["super_seeding"]) == (True, True, True)
    assert post(td, "toggleSequentialDownload", hashes=h).status_code == 200
    assert post(td, "setSuperSeeding", hashes=h, value="yes").status_code == 200   # not a bool: false
    t = td.torrent(h)
    assert (t["seq_dl"], t["super_seeding"]) == (False, False)


def test_set_location(td, one, tmp_path):
    h, _, save = one
    assert status(post(td, "setLocation", hashes=h, location="  ")) == (400, "Save path cannot be empty")
    blocker = tmp_path / "file"
    blocker.write_bytes(b"x")
    assert status(post(td, "setLocation", hashes=h, location=str(blocker / "sub"))) == \
        (409, "Cannot make save path")
    new = str(tmp_path / "moved" / "deeper")
    assert status(post(td, "setLocation", hashes=h, location=new + "/")) == (200, "")
    assert os.path.isdir(new)
    wait_until(lambda: os.path.normpath(td.torrent(h)["save_path"]) == new, 20, "save_path updated")
    assert td.torrent(h)["auto_tmm"] is False


def test_set_save_path(td, one, tmp_path):
    h, _, _ = one
    assert status(post(td, "setSavePath", id=h, path="")) == (400, "Save path cannot be empty")
    assert status(post(td, "setSavePath", hashes=h, path="/x")) == (400, "Bad Request")   # `id`, not hashes
    blocker = tmp_path / "f"
    blocker.write_bytes(b"x")
    assert status(post(td, "setSavePath", id=h, path=str(blocker / "d"))) == \
        (409, "Cannot create target directory")
    new = str(tmp_path / "by-id")
    assert status(post(td, "setSavePath", id=h, path=new)) == (200, "")
    wait_until(lambda: os.path.normpath(td.torrent(h)["save_path"]) == new, 20, "save_path updated")
    assert status(post(td, "setDownloadPath", id=h, path="")) == (200, "")
    assert status(post(td, "setDownloadPath", id=h, path=str(blocker / "d"))) == \
        (409, "Cannot create target directory")


def test_auto_management_follows_category(td, one, tmp_path):
    h, _, _ = one
    target = str(tmp_path / "catpath")
    assert post(td, "createCategory", category="edit-auto", savePath=target).status_code == 200
    assert post(td, "setCategory", hashes=h, category="edit-auto").status_code == 200
    assert status(post(td, "setAutoManagement", hashes=h)) == (400, "Bad Request")
    assert status(post(td, "setAutoManagement", hashes=h, enable="true")) == (200, "")
    assert td.torrent(h)["auto_tmm"] is True
    wait_until(lambda: os.path.normpath(td.torrent(h)["save_path"]) == target, 20, "moved to the category")
    # automatic torrents ignore setSavePath
    assert post(td, "setSavePath", id=h, path=str(tmp_path / "ignored")).status_code == 200
    assert os.path.normpath(td.torrent(h)["save_path"]) == target
    assert post(td, "setAutoManagement", hashes=h, enable="false").status_code == 200
    assert td.torrent(h)["auto_tmm"] is False


def test_trackers(td, one):
    h, _, _ = one
    urls = lambda: [t["url"] for t in get(td, "trackers", hash=h).json()[3:]]  # noqa: E731
    assert urls() == ["http://127.0.0.1:9/announce"]
    assert status(post(td, "addTrackers", hash="0" * 40, urls="http://x/a")) == (404, "Not Found")
    assert status(post(td, "addTrackers", hash=h)) == (400, "Bad Request")
    assert status(post(td, "addTrackers", hash=h,
                       urls="http://127.0.0.1:9/t1\n\n udp://127.0.0.1:9/t2 \nhttp://127.0.0.1:9/announce")) \
        == (200, "")
    assert set(urls()) == {"http://127.0.0.1:9/announce", "http://127.0.0.1:9/t1", "udp://127.0.0.1:9/t2"}
    tiers = {t["url"]: t["tier"] for t in get(td, "trackers", hash=h).json()[3:]}
    assert tiers["udp://127.0.0.1:9/t2"] > tiers["http://127.0.0.1:9/t1"]

    e = dict(hash=h, origUrl="http://127.0.0.1:9/t1")
    assert status(post(td, "editTracker", newUrl="", **e)) == (400, "New tracker URL is invalid")
    assert status(post(td, "editTracker", newUrl="udp://127.0.0.1:9/t2", **e)) == \
        (409, "New tracker URL already exists")
    assert status(post(td, "editTracker", hash=h, origUrl="http://nope/", newUrl="http://127.0.0.1:9/t3")) \
        == (409, "Tracker not found")
    assert status(post(td, "editTracker", newUrl="http://127.0.0.1:9/t3", **e)) == (200, "")
    assert "http://127.0.0.1:9/t3" in urls() and "http://127.0.0.1:9/t1" not in urls()
    # QUrl takes a reference without a scheme (qbittorrent-api's test_edit_tracker)
    t3 = dict(hash=h, origUrl="http://127.0.0.1:9/t3")
    assert status(post(td, "editTracker", newUrl="127.1.0.2", **t3)) == (200, "")
    assert "127.1.0.2" in urls()
    assert status(post(td, "editTracker", hash=h, origUrl="127.1.0.2", newUrl="http://[::1/x")) == \
        (400, "New tracker URL is invalid")
    assert status(post(td, "editTracker", hash=h, origUrl="127.1.0.2", newUrl="http://127.0.0.1:9/t3")) == (200, "")

    # urls are percent-decoded once more, like QUrl::fromPercentEncoding
    assert status(post(td, "removeTrackers", hash=h, urls="http%3A%2F%2F127.0.0.1%3A9%2Ft3|udp://127.0.0.1:9/t2"))\
        == (200, "")
    assert urls() == ["http://127.0.0.1:9/announce"]
    assert status(post(td, "removeTrackers", hash="0" * 40, urls="x")) == (404, "Not Found")
    assert status(post(td, "removeTrackers", hash="*", urls="http://127.0.0.1:9/none")) == (200, "")


def test_web_seeds(td, one):
    h, _, _ = one
    seeds = lambda: [w["url"] for w in get(td, "webseeds", hash=h).json()]  # noqa: E731
    assert seeds() == []
    assert status(post(td, "addWebSeeds", hash=h, urls="http://a b/")) == (400, '"http://a b/" is not a valid URL')
    assert status(post(td, "addWebSeeds", hash=h, urls="udp://x/")) == \
        (400, "URL scheme must be one of [http, https, ftp]")
    assert status(post(td, "addWebSeeds", hash="0" * 40, urls="http://x/")) == (404, "Not Found")
    assert status(post(td, "addWebSeeds", hash=h, urls="http://127.0.0.1:9/w1||ftp://127.0.0.1:9/w2")) \
        == (200, "")
    assert seeds() == ["http://127.0.0.1:9/w1", "ftp://127.0.0.1:9/w2"]
    assert status(post(td, "editWebSeed", hash=h, origUrl="http://nope/", newUrl="http://x/")) == \
        (409, '"http://nope/" is not an existing URL')
    assert status(post(td, "editWebSeed", hash=h, origUrl="http://127.0.0.1:9/w1", newUrl="gopher://x/")) \
        == (400, "URL scheme must be one of [http, https, ftp]")
    assert status(post(td, "editWebSeed", hash=h, origUrl="http://127.0.0.1:9/w1",
                       newUrl="https://127.0.0.1:9/w3")) == (200, "")
    assert sorted(seeds()) == ["ftp://127.0.0.1:9/w2", "https://127.0.0.1:9/w3"]
    assert status(post(td, "removeWebSeeds", hash=h, urls="<bad>")) == (400, '"<bad>" is not a valid URL')
    assert status(post(td, "removeWebSeeds", hash=h, urls="ftp://127.0.0.1:9/w2|https://127.0.0.1:9/w3")) \
        == (200, "")
    assert seeds() == []


def test_export_and_count(td, one):
    h, tbytes, _ = one
    r = get(td, "export", hash=h)
    assert r.status_code == 200
    assert r.content == tbytes
    assert r.headers["Content-Type"].startswith("application/x-bittorrent")
    assert r.headers["Content-Disposition"] == 'attachment; filename="%s.torrent"' % h
    assert bdecode(r.content)[b"info"][b"name"].decode().startswith("edit-")
    assert status(get(td, "export", hash="0" * 40)) == (404, "Not Found")
    assert status(get(td, "export")) == (400, "Bad Request")
    n = int(get(td, "count").text)
    assert n == len(td.info())


def test_set_location_while_checking(td, tmp_path):
    """setLocation while the torrent is still checking its data is carried
    out once the check ends, as libtorrent queues move_storage behind a
    check (before, it was dropped with a log line while the API said 200)."""
    src = tmp_path / "src"
    src.mkdir()
    payload = os.urandom(48 * 1024 * 1024)
    (src / "big.bin").write_bytes(payload)
    PLB = 1 << 18
    tbytes, h = make_torrent({"name": "big.bin", "piece length": PLB, "length": len(payload),
                              "pieces": piece_hashes(payload, PLB)})
    r = td.s.post(td.base + "/api/v2/torrents/add", files=[("torrents", ("t.torrent", tbytes))],
                  data={"savepath": str(src)}, timeout=30)
    assert r.text == "Ok."
    wait_until(lambda: td.torrent(h) is not None, 10, "added")
    t = td.torrent(h)
    assert t["state"] in ("checkingUP", "checkingDL", "checkingResumeData"), t["state"]
    dest = tmp_path / "dest"
    assert post(td, "setLocation", hashes=h, location=str(dest)).status_code == 200
    wait_until(lambda: td.torrent(h)["save_path"] == str(dest), 60, "moved after the check", procs=[td])
    wait_until(lambda: (dest / "big.bin").exists() and not (src / "big.bin").exists(), 30, "data moved")
    assert (dest / "big.bin").read_bytes() == payload
    wait_until(lambda: td.torrent(h)["progress"] == 1, 30, "checked complete")
    post(td, "delete", hashes=h, deleteFiles="true")
