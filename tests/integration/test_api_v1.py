"""The qBittorrent WebUI API v1 (web/api/qbt_v1.c) over HTTP, against a
running torrentd: the 4.1.x compatibility surface of ../shared/seeds/001 and
../shared/docs/clients-wave2.md §2 (outside the repository).

For every path: success, a missing session (403: Sonarr logs in again once
on 403), an unknown hash (404), malformed input. And one consistency check:
v1 /query/torrents and v2 torrents/info report the same facts.
"""
import os

import pytest

from conftest import LEECH_IP
from tdlib import PASSWORD, USER, Torrentd, make_torrent, piece_hashes, wait_until

PL = 16384
UNKNOWN = "0123456789abcdef0123456789abcdef01234567"
NUM = (int, float)

# qBittorrent 4.1's torrent object: what v1 clients read (Sonarr needs
# save_path and category; FlexGet hash; seed 001 the rest)
V1_FIELDS = {
    "hash": str, "name": str, "magnet_uri": str, "size": int, "total_size": int,
    "progress": NUM, "dlspeed": int, "upspeed": int, "priority": int, "num_seeds": int,
    "num_leechs": int, "num_complete": int, "num_incomplete": int, "ratio": NUM, "eta": int,
    "state": str, "seq_dl": bool, "f_l_piece_prio": bool, "super_seeding": bool,
    "force_start": bool, "auto_tmm": bool, "category": str, "tags": str, "save_path": str,
    "added_on": int, "completion_on": int, "seen_complete": int, "last_activity": int,
    "tracker": str, "dl_limit": int, "up_limit": int, "downloaded": int, "uploaded": int,
    "downloaded_session": int, "uploaded_session": int, "amount_left": int, "completed": int,
    "ratio_limit": NUM, "seeding_time_limit": int, "max_ratio": NUM, "max_seeding_time": int,
    "time_active": int,
}
V1_STATES = {"error", "missingFiles", "pausedUP", "pausedDL", "queuedUP", "queuedDL", "uploading",
             "stalledUP", "checkingUP", "checkingDL", "downloading", "stalledDL", "metaDL",
             "forcedUP", "forcedDL", "allocating", "checkingResumeData", "moving", "unknown"}

QUERY_HASH_PATHS = ["propertiesGeneral", "propertiesTrackers", "propertiesWebSeeds", "propertiesFiles",
                    "getPieceHashes", "getPieceStates"]


def tiny(name, size=50001):
    payload = os.urandom(size)
    info = {"name": name, "piece length": PL, "length": size, "pieces": piece_hashes(payload, PL)}
    tbytes, h = make_torrent(info, announce="http://127.0.0.1:9/announce")
    return tbytes, h, payload


@pytest.fixture(scope="module")
def td(module_procs, tmp_path_factory):
    d = str(tmp_path_factory.mktemp("apiv1"))
    return module_procs.add(Torrentd(os.path.join(d, "td"), LEECH_IP)).start()


@pytest.fixture(scope="module")
def two(td):
    """Two stopped torrents, one with category "tv", one seeding-complete
    on disk is not needed: both are small and stopped (pausedDL)."""
    out = []
    for name, cat in (("v1-alpha.bin", "tv"), ("v1-beta.bin", "")):
        tbytes, h, _ = tiny(name)
        td.add(tbytes, td.save_path, stopped=True, category=cat)
        out.append(h)
    wait_until(lambda: all(td.torrent(h) for h in out), 20, "torrents added")
    return out


@pytest.fixture
def anon(td):
    """The right Referer, no cookie."""
    return td.new_session()


def v1login(td):
    s = td.new_session()
    r = s.post(td.base + "/login", data={"username": USER, "password": PASSWORD}, timeout=10)
    assert (r.status_code, r.text) == (200, "Ok.")
    assert "SID" in s.cookies
    return s


# ---- (1) versions, login, logout ----

@pytest.mark.parametrize("path,body", [("/version/api", "24"), ("/version/api_min", "23"),
                                       ("/version/qbittorrent", "v4.1.9")])
def test_version_public_text(td, anon, path, body):
    r = anon.get(td.base + path, timeout=10)
    assert r.status_code == 200
    assert r.text == body
    assert r.headers["Content-Type"].startswith("text/plain")
    # Sonarr: Version.Parse("1." + api) >= 1.6 (categories)
    if path == "/version/api":
        assert tuple(int(x) for x in ("1." + r.text).split(".")) >= (1, 6)


def test_version_post_not_allowed(td, anon):
    assert anon.post(td.base + "/version/api", timeout=10).status_code == 405


def test_login_ok_fails_and_session_shared_with_v2(td, anon):
    r = anon.post(td.base + "/login", data={"username": USER, "password": "wrong"}, timeout=10)
    assert (r.status_code, r.text) == (200, "Fails.")
    assert "SID" not in anon.cookies
    s = v1login(td)
    # the same SID session: v2 accepts it
    assert s.get(td.base + "/api/v2/app/version", timeout=10).status_code == 200
    # and a v2 login opens v1
    assert td.s.get(td.base + "/query/transferInfo", timeout=10).status_code == 200


def test_login_malformed(td, anon):
    r = anon.post(td.base + "/login", data={"user": "x"}, timeout=10)
    assert (r.status_code, r.text) == (200, "Fails.")
    assert anon.get(td.base + "/login", timeout=10).status_code == 405


def test_login_needs_referer_like_v2(td):
    """The CSRF rule of v2 applies: a foreign Origin is refused."""
    s = td.new_session()
    r = s.post(td.base + "/login", data={"username": USER, "password": PASSWORD},
               headers={"Origin": "http://evil.example", "Referer": "http://evil.example/"}, timeout=10)
    assert r.status_code == 401
    assert "SID" not in s.cookies


def test_logout(td, anon):
    s = v1login(td)
    assert s.get(td.base + "/query/torrents", timeout=10).status_code == 200
    r = s.post(td.base + "/logout", timeout=10)
    assert r.status_code == 200
    # the session is gone: the old cookie gets 403
    sid = s.cookies.get("SID") or r.cookies.get("SID")
    assert anon.get(td.base + "/query/torrents", cookies={"SID": sid or "x"}, timeout=10).status_code == 403
    assert anon.post(td.base + "/logout", timeout=10).status_code == 403


# ---- (2) queries ----

def test_query_torrents_fields_and_states(td, two):
    lst = td.get("/query/torrents").json()
    mine = [t for t in lst if t["hash"] in two]
    assert len(mine) == 2
    for t in mine:
        assert set(t) == set(V1_FIELDS), set(t) ^ set(V1_FIELDS)
        for k, ty in V1_FIELDS.items():
            assert isinstance(t[k], ty), (k, t[k])
        assert t["state"] in V1_STATES
        assert t["state"] == "pausedDL"   # 4.x name, not stoppedDL


def test_query_torrents_params(td, two):
    a, b = two
    get = lambda **p: [t["hash"] for t in td.get("/query/torrents", **p).json() if t["hash"] in two]  # noqa: E731
    assert get(category="tv") == [a]
    assert get(label="tv") == [a]                    # API < 6
    assert get(label="tv", category="tv") == [a]     # Sonarr sends both
    assert b in get(category="") and a not in get(category="")
    assert set(get(filter="paused")) == {a, b}
    # qBittorrent's "downloading" counts pausedDL in (isDownloading())
    assert set(get(filter="downloading")) == {a, b}
    assert get(filter="active") == []
    assert set(get(filter="inactive")) == {a, b}
    assert get(filter="completed") == []
    assert get(hashes=a) == [a]
    assert get(hashes=a.upper() + "|" + b) in ([a, b], [b, a])
    assert get(hashes=UNKNOWN) == []
    # FlexGet's duplicate check: a non-empty list means it exists
    assert td.get("/query/torrents", hashes=a.lower()).json()[0]["hash"] == a
    names = [t["name"] for t in td.get("/query/torrents", sort="name").json()]
    assert names == sorted(names)
    rnames = [t["name"] for t in td.get("/query/torrents", sort="name", reverse="true").json()]
    assert rnames == names[::-1]
    assert len(td.get("/query/torrents", limit="1").json()) == 1
    assert [t["name"] for t in td.get("/query/torrents", sort="name", limit="1", offset="-1").json()] \
        == names[-1:]


def test_query_torrents_malformed(td, two):
    r = td.req("GET", "/query/torrents", ok=(400,), params={"sort": "no_such_key"})
    assert r.text == "'sort' parameter is invalid"
    # unparseable numbers and filters: ignored as qBittorrent does
    assert len(td.get("/query/torrents", limit="x", offset="y", filter="bogus").json()) >= 2


@pytest.mark.parametrize("path", QUERY_HASH_PATHS)
def test_query_by_hash(td, two, anon, path):
    a = two[0]
    r = td.get("/query/%s/%s" % (path, a))
    body = r.json()
    if path == "propertiesGeneral":
        assert body["save_path"].rstrip("/") == td.save_path.rstrip("/")
        assert body["piece_size"] == PL
        for k in ("creation_date", "total_wasted", "total_uploaded", "total_downloaded", "up_limit",
                  "dl_limit", "time_elapsed", "seeding_time", "nb_connections", "nb_connections_limit"):
            assert isinstance(body[k], int), k
        assert isinstance(body["share_ratio"], NUM)
    elif path == "propertiesTrackers":
        assert [t["url"] for t in body] == ["http://127.0.0.1:9/announce"]
    elif path == "propertiesWebSeeds":
        assert body == []
    elif path == "propertiesFiles":
        assert [(f["name"], f["size"], f["priority"]) for f in body] == [("v1-alpha.bin", 50001, 1)]
    elif path == "getPieceHashes":
        assert len(body) == 4 and all(len(x) == 40 for x in body)
    elif path == "getPieceStates":
        assert body == [0, 0, 0, 0]
    # upper-case hash is the same torrent
    assert td.get("/query/%s/%s" % (path, a.upper())).json() == body
    # no session
    assert anon.get(td.base + "/query/%s/%s" % (path, a), timeout=10).status_code == 403
    # unknown and malformed hashes, missing hash, extra segment
    td.req("GET", "/query/%s/%s" % (path, UNKNOWN), ok=(404,))
    td.req("GET", "/query/%s/nothex" % path, ok=(404,))
    td.req("GET", "/query/%s/%s/x" % (path, a), ok=(404,))
    td.req("GET", "/query/%s" % path, ok=(404,))


def test_transfer_info_and_preferences(td):
    ti = td.get("/query/transferInfo").json()
    for k in ("dl_info_speed", "dl_info_data", "up_info_speed", "up_info_data", "dl_rate_limit",
              "up_rate_limit", "dht_nodes"):
        assert isinstance(ti[k], int), k
    assert ti["connection_status"] in ("connected", "firewalled", "disconnected")
    p = td.get("/query/preferences").json()
    assert p == td.prefs()   # the same settings through v1 and v2
    assert "save_path" in p and isinstance(p["dl_limit"], int)


@pytest.mark.parametrize("path", ["/query/torrents", "/query/transferInfo", "/query/preferences"])
def test_query_needs_session(td, anon, path):
    r = anon.get(td.base + path, timeout=10)
    assert r.status_code == 403
    # Sonarr: on 403 log in once and retry
    r = anon.post(td.base + "/login", data={"username": USER, "password": PASSWORD}, timeout=10)
    assert r.text == "Ok."
    assert anon.get(td.base + path, timeout=10).status_code == 200


def test_v1_and_v2_report_the_same_facts(td, two):
    v1 = {t["hash"]: t for t in td.get("/query/torrents").json()}
    v2 = {t["hash"]: t for t in td.get("/api/v2/torrents/info").json()}
    assert set(v1) == set(v2)
    v4_names = {"stoppedDL": "pausedDL", "stoppedUP": "pausedUP"}
    for h, a in v1.items():
        b = v2[h]
        for k in a:
            if k in ("state",):
                assert a[k] == v4_names.get(b[k], b[k])
            elif k in ("dlspeed", "upspeed", "eta", "last_activity", "time_active", "seen_complete"):
                continue   # may tick between the two requests
            else:
                assert a[k] == b[k], (h, k, a[k], b[k])


# ---- (3) commands ----

def v1info(td, h):
    lst = td.get("/query/torrents", hashes=h).json()
    return lst[0] if lst else None


def fresh(td, tag, **extra):
    tbytes, h, payload = tiny("v1-cmd-%s.bin" % tag)
    td.add(tbytes, td.save_path, stopped=True, **extra)
    wait_until(lambda: v1info(td, h), 20, "torrent %s" % tag)
    return tbytes, h, payload


def test_download_and_upload_answer_ok(td, tmp_path):
    # FlexGet: the body must be exactly "Ok."; label + category both sent
    tbytes, h, _ = tiny("v1-upload.bin")
    td.post("/api/v2/torrents/createCategory", category="movies")
    r = td.req("POST", "/command/upload", files=[("torrents", ("x.torrent", tbytes, "application/x-bittorrent"))],
               data={"savepath": str(tmp_path), "label": "movies", "category": "movies", "paused": "true"})
    assert r.text == "Ok."
    t = v1info(td, h)
    assert t and t["category"] == "movies" and t["state"] == "pausedDL"
    assert t["save_path"].rstrip("/") == str(tmp_path)
    # label alone (3.x clients) names the category
    tb2, h2, _ = tiny("v1-upload2.bin")
    r = td.req("POST", "/command/upload", files=[("torrents0", ("y.torrent", tb2, "application/x-bittorrent"))],
               data={"label": "movies", "paused": "true"})
    assert r.text == "Ok."
    assert v1info(td, h2)["category"] == "movies"
    # a magnet through /command/download (python-qbittorrent: urls \n-joined)
    h3 = "ab" * 20
    r = td.req("POST", "/command/download", data={"urls": "\nmagnet:?xt=urn:btih:%s&dn=m\n" % h3,
                                                  "paused": "true", "category": "movies"})
    assert r.text == "Ok."
    wait_until(lambda: v1info(td, h3), 20, "magnet added")
    # malformed: not a torrent (415 as 4.1), nothing to add (Fails.), missing fields (400)
    r = td.req("POST", "/command/upload", ok=(415,),
               files=[("torrents", ("bad.torrent", b"junk", "application/x-bittorrent"))])
    assert "is not a valid torrent file" in r.text
    assert td.req("POST", "/command/download", data={"urls": "nonsense"}).text == "Fails."
    td.req("POST", "/command/download", ok=(400,), data={})
    td.req("POST", "/command/upload", ok=(400,), data={"paused": "true"})
    for x in (h, h2, h3):
        td.post("/command/deletePerm", hashes=x)


def test_pause_resume_with_hash(td):
    _, h, _ = fresh(td, "pr")
    td.post("/command/resume", hash=h)        # Sonarr, qbittorrent-api: singular hash
    # resumed, and its first check over (a torrent being checked shows
    # checkingDL, paused or not, as in qBittorrent)
    wait_until(lambda: v1info(td, h)["state"] not in ("pausedDL", "pausedUP", "checkingDL", "checkingUP",
                                                      "checkingResumeData"), 20, "resumed and checked")
    td.post("/command/pause", hash=h)
    assert v1info(td, h)["state"] == "pausedDL"
    td.post("/command/resume", hashes=h)      # and the plural
    assert v1info(td, h)["state"] != "pausedDL"
    td.post("/command/pauseAll")
    # A torrent another test left checking shows checkingDL/UP until its
    # check ends (as in qBittorrent), then paused: every one ends paused.
    wait_until(lambda: all(t["state"] in ("pausedDL", "pausedUP") for t in td.get("/query/torrents").json()), 30,
               "every torrent paused", procs=[td])
    td.post("/command/resumeAll")
    assert v1info(td, h)["state"] not in ("pausedDL", "pausedUP")
    td.post("/command/pauseAll")
    # unknown hash: nothing happens, 200 as in qBittorrent; missing: 400
    td.post("/command/pause", hash=UNKNOWN)
    td.req("POST", "/command/pause", ok=(400,), data={})
    td.req("GET", "/command/pause", ok=(405,), params={"hash": h})
    td.post("/command/deletePerm", hashes=h)


def test_delete_and_delete_perm(td):
    _, h, _ = fresh(td, "del")
    td.post("/command/delete", hashes=h)
    assert v1info(td, h) is None
    _, h2, _ = fresh(td, "delp")
    td.post("/command/deletePerm", hashes=h2)
    assert v1info(td, h2) is None
    td.post("/command/delete", hashes=UNKNOWN)
    td.req("POST", "/command/delete", ok=(400,), data={})


def test_recheck_rename_addtrackers(td):
    _, h, _ = fresh(td, "rr")
    td.post("/command/recheck", hash=h)
    td.post("/command/rename", hash=h, name="renamed by v1")
    assert v1info(td, h)["name"] == "renamed by v1"
    td.req("POST", "/command/rename", ok=(409,), data={"hash": h, "name": ""})
    td.req("POST", "/command/rename", ok=(404,), data={"hash": UNKNOWN, "name": "x"})
    td.req("POST", "/command/rename", ok=(400,), data={"hash": h})
    td.post("/command/addTrackers", hash=h, urls="http://127.0.0.1:10/a\n\nhttp://127.0.0.1:11/b")
    urls = [t["url"] for t in td.get("/query/propertiesTrackers/" + h).json()]
    assert "http://127.0.0.1:10/a" in urls and "http://127.0.0.1:11/b" in urls
    td.req("POST", "/command/addTrackers", ok=(404,), data={"hash": UNKNOWN, "urls": "http://x/"})
    td.req("POST", "/command/addTrackers", ok=(400,), data={"hash": h})
    td.post("/command/deletePerm", hashes=h)


def test_categories_and_labels(td):
    _, h, _ = fresh(td, "cat")
    td.post("/command/addCategory", category="v1cat")
    assert "v1cat" in td.get("/api/v2/torrents/categories").json()
    td.post("/command/setCategory", hashes=h, category="v1cat")
    assert v1info(td, h)["category"] == "v1cat"
    td.post("/command/setLabel", hashes=h, label="")
    assert v1info(td, h)["category"] == ""
    td.post("/command/setLabel", hashes=h, label="v1cat")
    assert v1info(td, h)["category"] == "v1cat"
    td.req("POST", "/command/setCategory", ok=(409,), data={"hashes": h, "category": "nope"})
    td.req("POST", "/command/setCategory", ok=(400,), data={"hashes": h})
    td.req("POST", "/command/addCategory", ok=(400,), data={"category": ""})
    td.req("POST", "/command/addCategory", ok=(409,), data={"category": "bad//name"})
    td.post("/command/removeCategories", categories="v1cat\nnot-there")
    assert "v1cat" not in td.get("/api/v2/torrents/categories").json()
    assert v1info(td, h)["category"] == ""
    td.req("POST", "/command/removeCategories", ok=(400,), data={})
    td.post("/command/deletePerm", hashes=h)


def test_file_prio(td):
    _, h, _ = fresh(td, "fp")
    td.post("/command/setFilePrio", hash=h, id="0", priority="0")
    assert td.get("/query/propertiesFiles/" + h).json()[0]["priority"] == 0
    td.post("/command/setFilePrio", hash=h, id="0", priority="7")
    assert td.get("/query/propertiesFiles/" + h).json()[0]["priority"] == 7
    td.req("POST", "/command/setFilePrio", ok=(409,), data={"hash": h, "id": "5", "priority": "1"})
    td.req("POST", "/command/setFilePrio", ok=(400,), data={"hash": h, "id": "x", "priority": "1"})
    td.req("POST", "/command/setFilePrio", ok=(400,), data={"hash": h, "id": "0", "priority": "3"})
    td.req("POST", "/command/setFilePrio", ok=(404,), data={"hash": UNKNOWN, "id": "0", "priority": "1"})
    td.post("/command/deletePerm", hashes=h)


def test_limits(td):
    _, h, _ = fresh(td, "lim")
    td.post("/command/setTorrentsDlLimit", hashes=h, limit="100000")
    td.post("/command/setTorrentsUpLimit", hashes=h, limit="50000")
    assert td.post("/command/getTorrentsDlLimit", hashes=h).json() == {h: 100000}
    assert td.post("/command/getTorrentsUpLimit", hashes=h).json() == {h: 50000}
    assert v1info(td, h)["dl_limit"] == 100000
    td.req("POST", "/command/setTorrentsDlLimit", ok=(400,), data={"hashes": h, "limit": "fast"})
    assert td.post("/command/getTorrentsDlLimit", hashes=UNKNOWN).json() == {}
    td.post("/command/setGlobalDlLimit", limit="300000")
    td.post("/command/setGlobalUpLimit", limit="200000")
    assert td.post("/command/getGlobalDlLimit").text == "300000"   # qbittorrent-api POSTs it
    assert td.get("/command/getGlobalUpLimit").text == "200000"
    assert td.get("/api/v2/transfer/downloadLimit").text == "300000"
    td.req("POST", "/command/setGlobalDlLimit", ok=(400,), data={"limit": ""})
    assert td.get("/command/alternativeSpeedLimitsEnabled").text == "false"
    td.post("/command/toggleAlternativeSpeedLimits")
    assert td.get("/command/alternativeSpeedLimitsEnabled").text == "true"
    td.post("/command/toggleAlternativeSpeedLimits")
    td.post("/command/setGlobalDlLimit", limit="0")
    td.post("/command/setGlobalUpLimit", limit="0")
    td.post("/command/deletePerm", hashes=h)


def test_queue_moves(td):
    _, a, _ = fresh(td, "qa")
    _, b, _ = fresh(td, "qb")
    td.set_prefs({"queueing_enabled": True})
    td.post("/command/topPrio", hashes=b)
    assert v1info(td, b)["priority"] == 1
    td.post("/command/bottomPrio", hashes=b)
    td.post("/command/increasePrio", hashes=b)
    td.post("/command/decreasePrio", hashes=b)
    pa, pb = v1info(td, a)["priority"], v1info(td, b)["priority"]
    assert pb > pa
    td.set_prefs({"queueing_enabled": False})
    td.req("POST", "/command/topPrio", ok=(409,), data={"hashes": b})   # Sonarr ignores it
    td.req("POST", "/command/topPrio", ok=(400,), data={})
    td.post("/command/deletePerm", hashes=a + "|" + b)


def test_location_tmm_and_toggles(td, tmp_path):
    _, h, _ = fresh(td, "loc")
    dest = str(tmp_path / "moved")
    os.makedirs(dest)
    td.post("/command/setLocation", hashes=h, location=dest)
    wait_until(lambda: v1info(td, h)["save_path"].rstrip("/") == dest, 20, "moved")
    td.req("POST", "/command/setLocation", ok=(400,), data={"hashes": h, "location": ""})
    td.req("POST", "/command/setLocation", ok=(400,), data={"hashes": h, "location": "relative/x"})
    td.post("/command/setAutoTMM", hashes=h, enable="true")
    assert v1info(td, h)["auto_tmm"] is True
    td.post("/command/setAutoTMM", hashes=h, enable="false")
    assert v1info(td, h)["auto_tmm"] is False
    td.req("POST", "/command/setAutoTMM", ok=(400,), data={"hashes": h})
    td.post("/command/toggleSequentialDownload", hashes=h)
    assert v1info(td, h)["seq_dl"] is True
    td.post("/command/toggleFirstLastPiecePrio", hashes=h)
    assert v1info(td, h)["f_l_piece_prio"] is True
    td.post("/command/setSuperSeeding", hashes=h, value="true")
    assert v1info(td, h)["super_seeding"] is True
    td.post("/command/setForceStart", hashes=h, value="true")
    assert v1info(td, h)["force_start"] is True
    td.post("/command/setForceStart", hashes=h, value="false")
    assert v1info(td, h)["force_start"] is False
    td.req("POST", "/command/setForceStart", ok=(400,), data={"hashes": h})
    td.post("/command/setForceStart", hashes=UNKNOWN, value="true")
    td.post("/command/deletePerm", hashes=h)


def test_preferences_and_save_path(td):
    td.post("/command/setPreferences", json='{"dl_limit": 12345}')
    assert td.get("/query/preferences").json()["dl_limit"] == 12345
    td.post("/command/setPreferences", json='{"dl_limit": 0}')
    td.req("POST", "/command/setPreferences", ok=(400,), data={})
    assert td.get("/command/getSavePath").text.rstrip("/") == td.prefs()["save_path"].rstrip("/")


@pytest.mark.parametrize("path", [
    "/command/download", "/command/upload", "/command/pause", "/command/resume", "/command/pauseAll",
    "/command/resumeAll", "/command/delete", "/command/deletePerm", "/command/recheck", "/command/rename",
    "/command/setCategory", "/command/setLabel", "/command/addCategory", "/command/removeCategories",
    "/command/setFilePrio", "/command/getTorrentsUpLimit", "/command/getTorrentsDlLimit",
    "/command/setTorrentsUpLimit", "/command/setTorrentsDlLimit", "/command/getGlobalUpLimit",
    "/command/getGlobalDlLimit", "/command/setGlobalUpLimit", "/command/setGlobalDlLimit",
    "/command/alternativeSpeedLimitsEnabled", "/command/toggleAlternativeSpeedLimits",
    "/command/increasePrio", "/command/decreasePrio", "/command/topPrio", "/command/bottomPrio",
    "/command/setLocation", "/command/setAutoTMM", "/command/setSuperSeeding", "/command/setForceStart",
    "/command/toggleSequentialDownload", "/command/toggleFirstLastPiecePrio", "/command/setPreferences",
    "/command/getSavePath", "/command/addTrackers", "/command/shutdown"])
def test_command_needs_session(td, anon, path):
    assert anon.post(td.base + path, data={"hashes": "all"}, timeout=10).status_code == 403


# ---- (4) sync and logs ----

def test_sync_maindata_v1_shape(td, two):
    s = v1login(td)
    full = s.get(td.base + "/sync/maindata", params={"rid": "0"}, timeout=10).json()
    assert full["full_update"] is True and isinstance(full["rid"], int)
    assert "trackers" not in full
    a = two[0]
    t = full["torrents"][a]
    assert t["state"] == "pausedDL"
    assert "infohash_v1" not in t and "popularity" not in t and "hash" not in t
    assert set(t) <= set(V1_FIELDS)
    assert "server_state" in full and "categories" in full
    # a change shows up in the next partial update, in the v1 flavour
    td.post("/command/setCategory", hashes=a, category="")
    part = s.get(td.base + "/sync/maindata", params={"rid": str(full["rid"])}, timeout=10).json()
    assert not part.get("full_update")
    assert part["torrents"][a]["category"] == ""
    td.post("/command/setCategory", hashes=a, category="tv")
    # v1 and v2 keep separate rids on the same cookie
    v2 = s.get(td.base + "/api/v2/sync/maindata", params={"rid": "0"}, timeout=10).json()
    assert v2["torrents"][a]["state"] == "stoppedDL"
    # malformed rid: a full update
    assert s.get(td.base + "/sync/maindata", params={"rid": "x"}, timeout=10).json()["full_update"] is True


def test_sync_torrent_peers(td, two, anon):
    r = td.get("/sync/torrent_peers", hash=two[0], rid="0").json()
    assert r["full_update"] is True and r["peers"] == {}
    td.req("GET", "/sync/torrent_peers", ok=(404,), params={"hash": UNKNOWN})
    td.req("GET", "/sync/torrent_peers", ok=(404,), params={})
    assert anon.get(td.base + "/sync/torrent_peers", params={"hash": two[0]}, timeout=10).status_code == 403
    assert anon.get(td.base + "/sync/maindata", timeout=10).status_code == 403


def test_logs(td, anon):
    log = td.get("/query/getLog", normal="true", info="true", warning="true", critical="true",
                 last_known_id="-1").json()
    assert log and all(set(e) == {"id", "message", "timestamp", "type"} for e in log)
    assert any("login success" in e["message"] for e in log)
    last = log[-1]["id"]
    assert all(e["id"] > last for e in td.get("/query/getLog", last_known_id=str(last)).json())
    assert isinstance(td.get("/query/getPeerLog", last_known_id="-1").json(), list)
    assert td.get("/query/getLog", last_known_id="junk").status_code == 200
    assert anon.get(td.base + "/query/getLog", timeout=10).status_code == 403
    assert anon.get(td.base + "/query/getPeerLog", timeout=10).status_code == 403


def test_command_shutdown(procs, tmp_path):
    t = procs.add(Torrentd(str(tmp_path / "td-shut"), LEECH_IP)).start()
    s = v1login(t)
    r = s.post(t.base + "/command/shutdown", timeout=10)
    assert r.status_code == 200
    wait_until(lambda: not t.alive(), 30, "torrentd to exit after /command/shutdown")
