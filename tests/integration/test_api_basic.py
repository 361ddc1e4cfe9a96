"""The qBittorrent WebUI API v2 basics, over HTTP, against a running torrentd.

docs/api-surface.md: §2 (login, SID cookie, 403 without a session), §4.6-4.7
(queries and actions), §5.1 (torrent object fields and JSON types), §8
(torrents/add, 415 text), §9 (`hashes=all`; 404 for unknown single hashes).
"""
import os
import re
import sqlite3
import time

import pytest
import requests

from conftest import LEECH_IP
from tdlib import PASSWORD, Torrentd, make_torrent, piece_hashes, wait_until

PL = 16384
NUM = (int, float)

# §5.1: every documented key of a torrents/info element and its JSON type(s)
# (floats may legitimately come out as integers when integral, e.g. 0)
INFO_FIELDS = {
    "hash": str, "infohash_v1": str, "infohash_v2": str, "name": str, "magnet_uri": str,
    "size": int, "total_size": int, "progress": NUM, "dlspeed": int, "upspeed": int,
    "priority": int, "num_seeds": int, "num_leechs": int, "num_complete": int,
    "num_incomplete": int, "ratio": NUM, "popularity": NUM, "eta": int, "state": str,
    "seq_dl": bool, "f_l_piece_prio": bool, "super_seeding": bool, "force_start": bool,
    "auto_tmm": bool, "category": str, "tags": str, "save_path": str, "download_path": str,
    "content_path": str, "root_path": str, "added_on": int, "completion_on": int,
    "seen_complete": int, "last_activity": int, "tracker": str, "trackers_count": int,
    "dl_limit": int, "up_limit": int, "downloaded": int, "uploaded": int,
    "downloaded_session": int, "uploaded_session": int, "amount_left": int, "completed": int,
    "ratio_limit": NUM, "seeding_time_limit": int, "inactive_seeding_time_limit": int,
    "max_ratio": NUM, "max_seeding_time": int, "max_inactive_seeding_time": int,
    "time_active": int, "seeding_time": int, "availability": NUM, "reannounce": int,
    "comment": str, "private": (bool, type(None)), "has_metadata": bool,
}


def tiny(name, size=50001):
    payload = os.urandom(size)
    info = {"name": name, "piece length": PL, "length": size, "pieces": piece_hashes(payload, PL)}
    tbytes, h = make_torrent(info, announce="http://127.0.0.1:9/announce")
    return tbytes, h, payload


@pytest.fixture(scope="module")
def td(module_procs, tmp_path_factory):
    d = str(tmp_path_factory.mktemp("api"))
    return module_procs.add(Torrentd(os.path.join(d, "td"), LEECH_IP)).start()


@pytest.fixture
def anon(td):
    """A session with the right Referer and no cookie."""
    return td.new_session()


def test_prints_webui_url(td):
    line = "WebUI: http://127.0.0.1:%d/" % td.webui_port
    wait_until(lambda: line.encode() in td.log_text(), 10, "%r on stdout" % line)


def test_login_good_and_bad(td, anon):
    r = anon.post(td.base + "/api/v2/auth/login", data={"username": "admin", "password": "nope"},
                  timeout=10)
    assert (r.status_code, r.text) == (200, "Fails.")
    assert "SID" not in r.cookies
    r = anon.post(td.base + "/api/v2/auth/login", data={"username": "admin", "password": PASSWORD},
                  timeout=10)
    assert (r.status_code, r.text) == (200, "Ok.")
    assert re.search(r"(^|[;,]\s*)SID=[^;]+", r.headers.get("Set-Cookie", "")), r.headers
    assert anon.get(td.base + "/api/v2/torrents/info", timeout=10).status_code == 200


def test_api_needs_a_session(td, anon):
    for path in ("/api/v2/torrents/info", "/api/v2/app/webapiVersion", "/api/v2/app/preferences"):
        r = anon.get(td.base + path, timeout=10)
        assert r.status_code == 403, (path, r.status_code, r.text)
    r = anon.post(td.base + "/api/v2/torrents/delete", data={"hashes": "all", "deleteFiles": "true"},
                  timeout=10)
    assert r.status_code == 403
    # a made-up cookie is no session either
    anon.cookies.set("SID", "A" * 32)
    assert anon.get(td.base + "/api/v2/torrents/info", timeout=10).status_code == 403


def test_versions(td):
    assert td.get("/api/v2/app/version").text == "v5.1.4"
    assert td.get("/api/v2/app/webapiVersion").text == "2.11.4"


def test_add_info_fields_delete(td, tmp_path):
    save = str(tmp_path / "save")
    tbytes, h, payload = tiny("fields-test.bin")
    td.add(tbytes, save, stopped=True)
    t = wait_until(lambda: td.torrent(h), 10, "the torrent in torrents/info")

    missing = sorted(k for k in INFO_FIELDS if k not in t)
    assert not missing, "fields missing from torrents/info: %s" % missing
    wrong = {k: (type(t[k]).__name__, t[k]) for k, ty in INFO_FIELDS.items()
             if not isinstance(t[k], ty) or (ty in (int, NUM) and isinstance(t[k], bool))}
    assert not wrong, "fields with the wrong JSON type: %s" % wrong

    assert t["hash"] == h and t["infohash_v1"] == h and t["infohash_v2"] == ""
    assert t["name"] == "fields-test.bin"
    assert t["size"] == t["total_size"] == len(payload)
    assert t["amount_left"] == len(payload) and t["completed"] == 0 and t["progress"] == 0
    assert t["state"] == "stoppedDL"
    assert t["eta"] == 8640000
    assert t["dlspeed"] == 0 and t["upspeed"] == 0
    assert os.path.normpath(t["save_path"]) == os.path.normpath(save)
    assert os.path.normpath(t["content_path"]) == os.path.join(os.path.normpath(save), "fields-test.bin")
    assert t["magnet_uri"].startswith("magnet:?xt=urn:btih:") and h in t["magnet_uri"].lower()
    assert t["has_metadata"] is True and t["private"] is False
    assert t["trackers_count"] == 1
    assert abs(t["added_on"] - time.time()) < 120

    # the same torrent again: nothing accepted -> "Fails."
    r = td.req("POST", "/api/v2/torrents/add", files=[("torrents", ("t.torrent", tbytes))],
               data={"savepath": save, "stopped": "true"})
    assert r.text == "Fails."
    assert len([x for x in td.info() if x["hash"] == h]) == 1

    td.delete(h, delete_files=True)
    wait_until(lambda: td.torrent(h) is None, 10, "the torrent to be gone")
    r = td.s.get(td.base + "/api/v2/torrents/properties", params={"hash": h}, timeout=10)
    assert r.status_code == 404


def test_delete_files_flag(td, tmp_path):
    for delete_files in (False, True):
        save = str(tmp_path / ("keep" if not delete_files else "drop"))
        tbytes, h, payload = tiny("data-%s.bin" % delete_files)
        os.makedirs(save)
        path = os.path.join(save, "data-%s.bin" % delete_files)
        with open(path, "wb") as f:
            f.write(payload)
        td.add(tbytes, save, skip_checking=True)
        td.wait_seeding(h, 30)
        td.delete(h, delete_files=delete_files)
        wait_until(lambda: td.torrent(h) is None, 10, "the torrent to be gone")
        if delete_files:
            wait_until(lambda: not os.path.exists(path), 10, "deleteFiles=true to remove the data")
        else:
            time.sleep(0.5)
            assert os.path.exists(path), "deleteFiles=false removed the data"


@pytest.mark.parametrize("body", [b"this is not bencode", b"d4:infod4:name1:xee", b"", b"l" * 5000,
                                  b"d8:announce3:abc4:infoi1ee"],
                         ids=["text", "info-without-pieces", "empty", "deep-lists", "info-not-a-dict"])
def test_malformed_upload_is_415(td, tmp_path, body):
    before = len(td.info())
    r = td.s.post(td.base + "/api/v2/torrents/add",
                  files=[("torrents", ("bad.torrent", body, "application/x-bittorrent"))],
                  data={"savepath": str(tmp_path)}, timeout=10)
    assert r.status_code == 415, (r.status_code, r.text)
    assert r.text == "Error: 'bad.torrent' is not a valid torrent file."
    assert len(td.info()) == before


def test_truncated_torrent_is_415(td, tmp_path):
    tbytes, _, _ = tiny("trunc.bin")
    r = td.s.post(td.base + "/api/v2/torrents/add",
                  files=[("torrents", ("trunc.torrent", tbytes[:len(tbytes) // 2]))],
                  data={"savepath": str(tmp_path)}, timeout=10)
    assert r.status_code == 415
    assert r.text == "Error: 'trunc.torrent' is not a valid torrent file."


@pytest.mark.parametrize("endpoint", ["properties", "files", "trackers"])
def test_unknown_hash_is_404(td, endpoint):
    for h in ("0" * 40, "f" * 40, "not-a-hash"):
        r = td.s.get(td.base + "/api/v2/torrents/" + endpoint, params={"hash": h}, timeout=10)
        assert r.status_code == 404, (endpoint, h, r.status_code, r.text)


def test_hashes_all_stop_start(td, tmp_path):
    save = str(tmp_path)
    up_t, up_h, up_payload = tiny("seeding.bin")
    with open(os.path.join(save, "seeding.bin"), "wb") as f:
        f.write(up_payload)
    dl_t, dl_h, _ = tiny("leeching.bin")
    td.add(up_t, save, skip_checking=True)
    td.add(dl_t, save)
    td.wait_seeding(up_h, 30)

    def states():
        return {t["hash"]: t["state"] for t in td.info() if t["hash"] in (up_h, dl_h)}

    for stop, start in (("stop", "start"), ("pause", "resume")):   # 5.x and 4.x names
        td.post("/api/v2/torrents/" + stop, hashes="all")
        wait_until(lambda: states() == {up_h: "stoppedUP", dl_h: "stoppedDL"}, 10,
                   "stoppedUP/stoppedDL after %s, have %s" % (stop, states()))
        for t in td.info():
            if t["hash"] in (up_h, dl_h):
                assert t["dlspeed"] == 0 and t["upspeed"] == 0 and t["eta"] == 8640000
        td.post("/api/v2/torrents/" + start, hashes="all")
        wait_until(lambda: not any(s.startswith(("stopped", "paused")) for s in states().values()),
                   10, "running states after %s, have %s" % (start, states()))
        assert states()[up_h] in ("stalledUP", "uploading", "queuedUP", "checkingUP")
        assert states()[dl_h] in ("stalledDL", "downloading", "queuedDL", "checkingDL", "metaDL")
    # unknown hashes are skipped silently
    td.post("/api/v2/torrents/stop", hashes="0" * 40 + "|" + dl_h)
    wait_until(lambda: states()[dl_h] == "stoppedDL", 10, "stoppedDL")
    assert states()[up_h] != "stoppedUP"
    td.post("/api/v2/torrents/delete", hashes="all", deleteFiles="false")
    wait_until(lambda: not td.info(), 10, "no torrents after delete hashes=all")


def test_env_password(tmp_path, procs):
    """TORRENTD_WEBUI_PASSWORD sets the WebUI password when no flag is given."""
    t = Torrentd(str(tmp_path / "td-env"), LEECH_IP, password="from-the-env-1")
    argv = [a for a in t.argv()]
    i = argv.index("--webui-password")
    del argv[i:i + 2]
    env = dict(os.environ, TORRENTD_WEBUI_PASSWORD="from-the-env-1")
    procs.add(t)
    t.spawn(argv, env=env)
    t.wait_api(60)
    t.login()
    s = t.new_session()
    r = s.post(t.base + "/api/v2/auth/login", data={"username": "admin", "password": PASSWORD},
               timeout=10)
    assert r.text == "Fails."
    # --webui-address 127.0.0.1 binds that address only
    with pytest.raises(requests.RequestException):
        requests.get("http://%s:%d/" % ("127.0.0.9", t.webui_port), timeout=2)


def test_generated_password_shown_once(tmp_path, procs):
    """Without a configured password one is generated at first start, printed
    once, and only its PBKDF2 hash is kept: it still works after a restart,
    where nothing is printed any more."""
    t = Torrentd(str(tmp_path / "td-gen"), LEECH_IP)
    argv = [a for a in t.argv()]
    i = argv.index("--webui-password")
    del argv[i:i + 2]
    env = {k: v for k, v in os.environ.items() if k != "TORRENTD_WEBUI_PASSWORD"}
    procs.add(t)
    t.spawn(argv, env=env)
    t.wait_api(60)
    wait_until(lambda: b"generated at first start" in t.log_text(), 10, "password banner")
    m = re.search(r"generated at first start: (\S+)", t.log_text().decode(errors="replace"))
    assert m, t.log_tail()
    t.password = m.group(1)
    t.login()
    dbpath = os.path.join(t.profile, "torrentd.db")
    raw = b"".join(open(p, "rb").read() for p in (dbpath, dbpath + "-wal") if os.path.exists(p))
    assert t.password.encode() not in raw, "the clear-text password was stored"
    con = sqlite3.connect(dbpath)
    try:
        (stored,) = con.execute("SELECT value FROM prefs WHERE key = 'web_ui_password_hash'").fetchone()
    finally:
        con.close()
    assert re.fullmatch(r'"@ByteArray\([A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+\)"', stored), stored
    t.stop()
    t.spawn(argv, env=env)
    t.wait_api(60)
    t.login()
    assert t.log_text().count(b"generated at first start") == 1


def test_password_set_through_api_survives_restart(tmp_path, procs):
    """A password set with app/setPreferences is stored readable: after a
    restart it logs in, and no new password is generated."""
    t = Torrentd(str(tmp_path / "td-setpw"), LEECH_IP)
    argv = [a for a in t.argv()]
    i = argv.index("--webui-password")
    del argv[i:i + 2]
    env = {k: v for k, v in os.environ.items() if k != "TORRENTD_WEBUI_PASSWORD"}
    procs.add(t)
    t.spawn(argv, env=env)
    t.wait_api(60)
    wait_until(lambda: b"generated at first start" in t.log_text(), 10, "password banner")
    m = re.search(r"generated at first start: (\S+)", t.log_text().decode(errors="replace"))
    assert m, t.log_tail()
    t.password = m.group(1)
    t.login()
    t.set_prefs({"web_ui_password": "Another-Secret-42"})
    t.password = "Another-Secret-42"
    t.login()
    t.stop()
    t.spawn(argv, env=env)
    t.wait_api(60)
    t.login()
    assert t.log_text().count(b"generated at first start") == 1
