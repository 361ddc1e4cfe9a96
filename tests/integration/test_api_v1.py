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
