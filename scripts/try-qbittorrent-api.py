#!/usr/bin/python3
"""Drive torrentd with the qbittorrent-api Python package, unchanged.

usage: scripts/try-qbittorrent-api.py <qbittorrent-api checkout> <daemon URL>
                                      [--username U] [--password P] [--data-dir D]
                                      [--start TORRENTD_BINARY] [--suite [-- PYTEST ARGS]]

The checkout is a git clone (any tag) of github.com/rmartin16/qbittorrent-api;
it is imported from <checkout>/src, nothing is installed. Its runtime
dependencies are Debian packages (python3-requests, python3-urllib3,
python3-packaging). The daemon must run on this machine (torrents are created
under --data-dir, default a fresh directory in /tmp) and should be a scratch
instance: the script adds and deletes torrents, categories and tags, and
changes then restores a few preferences. With --start the script starts
that scratch torrentd itself (fresh profile under --data-dir, WebUI on the
URL's address and port, password --password) and stops it at the end. Run it
inside scripts/netns-run.sh (docs/clients.md has the commands).

--suite runs the package's own test suite (tests/) instead, adapted to this
machine as run_suite() says; pytest's summary is the result.

Every call is made the way an application makes it (the package's own method
names and arguments); each step prints PASS or FAIL with the reason, warnings
from the package (e.g. about an unknown qBittorrent version) count as
failures, and the exit status is the number of failed steps (0 = all passed).
"""
import argparse
import hashlib
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
import traceback
import warnings

RESULTS = []


class Warned(logging.Handler):
    """Collects WARNING+ records the package logs (unsupported version ...)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(record.getMessage())


def step(name, fn):
    t0 = time.monotonic()
    try:
        detail = fn()
        RESULTS.append((name, True, detail))
        print("PASS %-44s %s" % (name, "" if detail is None else detail), flush=True)
    except Exception as e:   # noqa: BLE001 - every failure is reported, the run goes on
        tb = traceback.extract_tb(e.__traceback__)
        where = "%s:%d" % (os.path.basename(tb[-1].filename), tb[-1].lineno) if tb else ""
        RESULTS.append((name, False, "%s: %s (%s)" % (type(e).__name__, e, where)))
        print("FAIL %-44s %s: %s (%s, %.1fs)" % (name, type(e).__name__, str(e)[:300], where,
                                                 time.monotonic() - t0), flush=True)


def expect(cond, msg="unexpected value"):
    if not cond:
        raise AssertionError(msg)


def wait(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError("timeout after %ss waiting for %s" % (timeout, what))


def raises(exc, fn, *a, **kw):
    try:
        fn(*a, **kw)
    except exc as e:
        return "%s %r" % (type(e).__name__, str(e)[:60])
    raise AssertionError("%s not raised" % exc.__name__)


# ---- torrents with data on disk (the test suite's bencoder) ---------------

# Debian's python3-requests uses simplejson when it is installed; its
# JSONDecodeError is not json.JSONDecodeError, which qbittorrent-api catches
# (torrents_add on "Ok."), so we reproduce a pip install (no simplejson):
# requests, imported first by tdlib, falls back to the json module.
sys.modules["simplejson"] = None
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
import tdlib  # noqa: E402


def make_torrent(root, name, files, piece_len=16384):
    """Write files under root/name and return (torrent bytes, info-hash)."""
    payload = b""
    flist = []
    for rel, size in files:
        data = os.urandom(size)
        path = os.path.join(root, name, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        payload += data
        flist.append({"length": size, "path": rel.split("/")})
    return tdlib.make_torrent({"name": name, "piece length": piece_len, "files": flist,
                               "pieces": tdlib.piece_hashes(payload, piece_len)},
                              announce="http://127.0.0.1:9/announce")


# ---- the run -------------------------------------------------------------

def run(qbt, url, user, password, data_dir):
    c = qbt.Client(host=url, username=user, password=password,
                   RAISE_NOTIMPLEMENTEDERROR_FOR_UNIMPLEMENTED_API_ENDPOINTS=True,
                   RAISE_ERROR_FOR_UNSUPPORTED_QBITTORRENT_VERSIONS=True,
                   VERIFY_WEBUI_CERTIFICATE=False)
    st = {}

    # -- auth, versions ---------------------------------------------------
    def login():
        c.auth_log_in()
        expect(c.is_logged_in, "is_logged_in false after login")
        return "SID cookie %s" % ("set" if c._session.cookies.get("SID") else "MISSING")
    step("auth_log_in (unsupported-version check on)", login)
    step("app_version is a known release", lambda: (
        expect(c.app_version() == "v5.1.4"),
        expect(qbt.Version.is_app_version_supported(c.app_version())), c.app_version())[-1])
    step("app_web_api_version is known", lambda: (
        expect(c.app_web_api_version() == "2.11.4"),
        expect(qbt.Version.is_api_version_supported(c.app_web_api_version())),
        c.app_web_api_version())[-1])
    step("wrong password -> LoginFailed", lambda: raises(
        qbt.LoginFailed, qbt.Client(host=url, username=user, password="wrong").auth_log_in))
    # (a 401 from auth/login itself is LoginFailed by design; any other call raises it)
    step("foreign Referer (CSRF) -> Unauthorized401Error", lambda: raises(
        qbt.Unauthorized401Error, c.app_preferences, headers={"Referer": "http://evil.example/"}))

    # -- app ---------------------------------------------------------------
    step("app_build_info", lambda: sorted(c.app_build_info()))
    step("app_default_save_path", lambda: (expect(os.path.isabs(c.app_default_save_path())),
                                           c.app_default_save_path())[-1])

    def prefs():
        p = c.app_preferences()
        expect(len(p) > 150, "only %d keys" % len(p))
        st["prefs"] = p
        old = p["max_active_downloads"]
        c.app_set_preferences({"max_active_downloads": old + 2, "queueing_enabled": True})
        expect(c.app.preferences.max_active_downloads == old + 2, "setPreferences not applied")
        c.app.preferences = {"max_active_downloads": old}
        expect(c.app_preferences()["max_active_downloads"] == old)
        return "%d keys, round trip ok" % len(p)
    step("app_preferences / app_set_preferences", prefs)
    step("app_network_interface_list", lambda: type(c.app_network_interface_list()).__name__)
    step("app_network_interface_address_list", lambda: list(c.app_network_interface_address_list()))
    step("app_get_directory_content", lambda: (
        expect(os.path.basename(data_dir) in "".join(c.app_get_directory_content(os.path.dirname(data_dir)))),
        "ok")[-1])
    step("app_cookies / app_set_cookies", lambda: (
        c.app_set_cookies([{"name": "k", "value": "v", "domain": "example.com", "path": "/",
                            "expirationDate": int(time.time()) + 3600}]),
        expect([x.name for x in c.app_cookies()] == ["k"]), c.app_set_cookies([]),
        expect(list(c.app_cookies()) == []), "ok")[-1])
    step("app_process_info -> NotImplementedError (2.15.1)", lambda: raises(NotImplementedError, c.app_process_info))
    step("app_rotate_api_key -> NotImplementedError (2.14.1)",
         lambda: raises(NotImplementedError, c.app_rotate_api_key))

    # -- log, transfer -----------------------------------------------------
    step("log_main", lambda: (expect(len(c.log_main(normal=True, info=True, warning=True, critical=True)) > 0),
                              "%d entries" % len(c.log_main()))[-1])
    step("log_main last_known_id", lambda: (
        expect(all(e.id > c.log_main()[-1].id - 1 for e in c.log_main(last_known_id=c.log_main()[-1].id - 1))),
        "ok")[-1])
    step("log_peers", lambda: "%d entries" % len(c.log_peers()))

    def transfer():
        i = c.transfer_info()
        for k in ("dl_info_speed", "up_info_speed", "connection_status", "dht_nodes"):
            expect(k in i, "transfer_info lacks " + k)
        m0 = c.transfer_speed_limits_mode()
        c.transfer_toggle_speed_limits_mode()
        expect(c.transfer_speed_limits_mode() != m0, "toggle did nothing")
        c.transfer_set_speed_limits_mode(intended_state=False)
        expect(c.transfer_speed_limits_mode() in (0, "0"), "setSpeedLimitsMode")
        c.transfer_set_download_limit(limit=2048000)
        c.transfer_set_upload_limit(limit=1024000)
        expect(c.transfer_download_limit() == 2048000 and c.transfer_upload_limit() == 1024000, "limits")
        c.transfer_set_download_limit(limit=0)
        c.transfer_set_upload_limit(limit=0)
        c.transfer_ban_peers(peers=["127.0.0.250:6881"])
        return "connection_status=%s" % i["connection_status"]
    step("transfer_* (info, modes, limits, banPeers)", transfer)

    # -- categories, tags --------------------------------------------------
    def cats():
        c.torrents_create_category(name="qba-tv", save_path=os.path.join(data_dir, "cat-tv"))
        c.torrent_categories.edit_category(name="qba-tv", save_path=os.path.join(data_dir, "cat-tv2"))
        cs = c.torrent_categories.categories
        expect(cs["qba-tv"]["savePath"] == os.path.join(data_dir, "cat-tv2"), repr(cs.get("qba-tv")))
        c.torrents_create_category(name="qba-tmp")
        c.torrents_remove_categories(categories=["qba-tmp"])
        expect("qba-tmp" not in c.torrents_categories())
        return sorted(cs)
    step("categories create/edit/list/remove", cats)
    step("create category twice -> Conflict409Error", lambda: raises(
        qbt.Conflict409Error, c.torrents_create_category, name="qba-tv"))

    def tags():
        c.torrents_create_tags(tags=["qba-a", "qba-b", "qba-c"])
        c.torrents_delete_tags(tags="qba-c")
        t = c.torrent_tags.tags
        expect({"qba-a", "qba-b"} <= set(t) and "qba-c" not in t, repr(t))
        return list(t)
    step("tags create/list/delete", tags)

    # -- torrents ----------------------------------------------------------
    tb, h = make_torrent(data_dir, "qba-multi", [("a.bin", 40000), ("sub/b.bin", 30001)])
    tb2, h2 = make_torrent(os.path.join(data_dir, "empty"), "qba-second", [("c.bin", 20000)])
    st["h"], st["h2"] = h, h2

    def add():
        r = c.torrents_add(torrent_files=tb, save_path=data_dir, category="qba-tv", tags=["qba-a"],
                           is_stopped=False, upload_limit=1024000, download_limit=2048000,
                           is_sequential_download=True, is_first_last_piece_priority=True,
                           ratio_limit=2.5, seeding_time_limit=600, content_layout="Original")
        expect(r == "Ok.", repr(r))
        r = c.torrents_add(urls=None, torrent_files={"second.torrent": tb2},
                           save_path=os.path.join(data_dir, "dl2"), is_stopped=True, category="qba-new")
        expect(r == "Ok.", repr(r))
        wait(lambda: len(c.torrents_info(torrent_hashes=[h, h2])) == 2, 10, "both torrents listed")
        t = wait(lambda: (lambda x: x if x and x[0].progress == 1 else None)(c.torrents_info(torrent_hashes=h)),
                 30, "the first torrent to check to 100 %")[0]
        expect(t.category == "qba-tv" and t.tags == "qba-a" and t.seq_dl and t.f_l_piece_prio, repr(dict(t)))
        expect(t.ratio_limit == 2.5 and t.seeding_time_limit == 600, "limits %r %r" % (t.ratio_limit,
                                                                                    t.seeding_time_limit))
        expect(t.up_limit == 1024000 and t.dl_limit == 2048000, "rate limits")
        expect(t.state_enum.is_complete and t.state_enum.is_uploading, t.state)
        t2 = c.torrents_info(torrent_hashes=h2)[0]
        expect(t2.state == "stoppedDL" and t2.state_enum.is_stopped, t2.state)
        return "%s %s; %s %s" % (h[:8], t.state, h2[:8], t2.state)
    step("torrents_add (file + dict of files, options)", add)
    step("torrents_add duplicate -> 'Fails.'", lambda: (
        expect(c.torrents_add(torrent_files=tb, save_path=data_dir) == "Fails."), "Fails.")[-1])
    step("torrents_add junk -> UnsupportedMediaType415Error", lambda: raises(
        qbt.UnsupportedMediaType415Error, c.torrents_add, torrent_files=b"not a torrent"))

    def magnet():
        mh = "fedcba9876543210fedcba9876543210fedcba98"
        st["mh"] = mh
        r = c.torrents_add(urls=["magnet:?xt=urn:btih:%s&dn=qba-magnet&tr=http%%3A%%2F%%2F127.0.0.1%%3A9%%2Fa" % mh],
                           save_path=data_dir, is_stopped=True, tags="qba-b")
        expect(r == "Ok.", repr(r))
        t = wait(lambda: c.torrents_info(torrent_hashes=mh), 10, "magnet listed")[0]
        expect(t.state == "stoppedDL" and t.tags == "qba-b", "%s %r" % (t.state, t.tags))
        return t.state
    step("torrents_add magnet urls", magnet)

    def info():
        n = len(c.torrents_info())
        st_ = c.torrents_info(status_filter="stopped")
        pa = c.torrents_info(status_filter="paused")    # translated to stopped for >= 2.11
        expect({x.hash for x in st_} == {x.hash for x in pa} and h2 in {x.hash for x in st_}, "stopped filter")
        expect([x.hash for x in c.torrents_info(category="qba-tv")] == [h], "category filter")
        expect([x.hash for x in c.torrents_info(tag="qba-a")] == [h], "tag filter")
        srt = c.torrents_info(sort="name", reverse=True, limit=2, offset=0)
        expect(len(srt) == min(2, n) and srt[0].name >= srt[-1].name, "sort/limit")
        expect(c.torrents.info.completed()[0].hash == h, "completed filter")
        expect(c.torrents_count() == n, "count")
        return "%d torrents" % n
    step("torrents_info filters/sort/count", info)

    def details():
        p = c.torrents_properties(torrent_hash=h)
        expect(p.save_path.rstrip("/") == data_dir.rstrip("/") and p.pieces_have == p.pieces_num, repr(dict(p)))
        tr = c.torrents_trackers(torrent_hash=h)
        expect([x.url for x in tr][:3] == ["** [DHT] **", "** [PeX] **", "** [LSD] **"], repr(tr))
        f = c.torrents_files(torrent_hash=h)
        expect([x.name for x in f] == ["qba-multi/a.bin", "qba-multi/sub/b.bin"], repr(f))
        expect(f[0].index == 0 and f[1].id == 1, "file index/id")   # package adds `id`
        ps, ph = c.torrents_piece_states(torrent_hash=h), c.torrents_piece_hashes(torrent_hash=h)
        expect(len(ps) == len(ph) == p.pieces_num and set(ps) == {2}, "pieces")
        expect(c.torrents_webseeds(torrent_hash=h) == [], "webseeds")
        return "properties, trackers, files, pieces, webseeds"
    step("torrents_properties/trackers/files/pieces", details)
    step("properties unknown hash -> NotFound404Error", lambda: raises(
        qbt.NotFound404Error, c.torrents_properties, torrent_hash="00" * 20))

    def trackers():
        c.torrents_add_trackers(torrent_hash=h, urls=["http://127.0.0.1:10/announce", "http://127.0.0.1:11/a"])
        c.torrents_edit_tracker(torrent_hash=h, original_url="http://127.0.0.1:11/a", new_url="http://127.0.0.1:12/a")
        c.torrents_remove_trackers(torrent_hash=h, urls="http://127.0.0.1:10/announce")
        urls = [x.url for x in c.torrents_trackers(torrent_hash=h)][3:]
        expect(urls == ["http://127.0.0.1:9/announce", "http://127.0.0.1:12/a"], repr(urls))
        return urls
    step("torrents add/edit/remove trackers", trackers)
    step("edit_tracker unknown url -> Conflict409Error", lambda: raises(
        qbt.Conflict409Error, c.torrents_edit_tracker, torrent_hash=h,
        original_url="http://nope.invalid/", new_url="http://127.0.0.1:13/a"))

    def webseeds():
        c.torrents_add_webseeds(torrent_hash=h2, urls=["http://127.0.0.1:14/ws/"])
        c.torrents_edit_webseed(torrent_hash=h2, orig_url="http://127.0.0.1:14/ws/", new_url="http://127.0.0.1:15/ws/")
        got = [w.url for w in c.torrents_webseeds(torrent_hash=h2)]
        c.torrents_remove_webseeds(torrent_hash=h2, urls=["http://127.0.0.1:15/ws/"])
        expect(got == ["http://127.0.0.1:15/ws/"] and c.torrents_webseeds(torrent_hash=h2) == [], repr(got))
        return got
    step("torrents add/edit/remove webseeds", webseeds)

    def actions():
        t = c.torrents_info(torrent_hashes=h)[0]
        t.stop()
        wait(lambda: c.torrents_info(torrent_hashes=h)[0].state == "stoppedUP", 10, "stoppedUP")
        c.torrents_pause(torrent_hashes=h)          # 4.x alias the package maps to stop
        c.torrents_resume(torrent_hashes=h)
        wait(lambda: c.torrents_info(torrent_hashes=h)[0].state in ("stalledUP", "uploading", "queuedUP"),
             10, "started again")
        c.torrents_start(torrent_hashes=[h2])
        c.torrents_stop(torrent_hashes=[h2])
        c.torrents_reannounce(torrent_hashes="all")
        c.torrents_set_force_start(enable=True, torrent_hashes=h)
        expect(c.torrents_info(torrent_hashes=h)[0].force_start is True, "force_start")
        c.torrents_set_force_start(enable=False, torrent_hashes=h)
        c.torrents_set_super_seeding(enable=True, torrent_hashes=h)
        expect(c.torrents_info(torrent_hashes=h)[0].super_seeding is True, "super_seeding")
        c.torrents_set_super_seeding(enable=False, torrent_hashes=h)
        c.torrents_toggle_sequential_download(torrent_hashes=h)
        c.torrents_toggle_first_last_piece_priority(torrent_hashes=h)
        t = c.torrents_info(torrent_hashes=h)[0]
        expect(t.seq_dl is False and t.f_l_piece_prio is False, "toggles")
        c.torrents_set_auto_management(enable=False, torrent_hashes=h)
        return "ok"
    step("torrents start/stop/pause/resume/force/toggles", actions)

    def queue():
        before = c.torrents_info(torrent_hashes=st["mh"])[0].priority
        c.torrents_top_priority(torrent_hashes=st["mh"])
        top = c.torrents_info(torrent_hashes=st["mh"])[0].priority
        c.torrents_bottom_priority(torrent_hashes=st["mh"])
        c.torrents_increase_priority(torrent_hashes=st["mh"])
        c.torrents_decrease_priority(torrent_hashes=st["mh"])
        expect(top == 1, "top priority %r (was %r)" % (top, before))
        return "top=%d bottom=%d" % (top, c.torrents_info(torrent_hashes=st["mh"])[0].priority)
    step("torrents queue priorities", queue)

    def limits():
        c.torrents_set_download_limit(limit=4096000, torrent_hashes=[h, h2])
        c.torrents_set_upload_limit(limit=-1, torrent_hashes=h)
        dl, ul = c.torrents_download_limit(torrent_hashes=[h, h2]), c.torrents_upload_limit(torrent_hashes=h)
        expect(dict(dl) == {h: 4096000, h2: 4096000} and dict(ul) == {h: 0}, "%r %r" % (dl, ul))
        c.torrents_set_share_limits(ratio_limit=1.25, seeding_time_limit=-1, inactive_seeding_time_limit=-2,
                                    share_limit_action="Stop", torrent_hashes=h)
        t = c.torrents_info(torrent_hashes=h)[0]
        expect(t.ratio_limit == 1.25 and t.seeding_time_limit == -1 and t.inactive_seeding_time_limit == -2,
               "share limits")
        return "ok"
    step("torrents limits and share limits", limits)

    def edits():
        c.torrents_set_category(category="qba-tv", torrent_hashes=h2)
        c.torrents_add_tags(tags=["qba-b", "qba-new"], torrent_hashes=[h, h2])
        c.torrents_remove_tags(tags="qba-new", torrent_hashes=h2)
        c.torrents_set_tags(tags=["qba-a"], torrent_hashes=h2)
        expect(c.torrents_info(torrent_hashes=h2)[0].tags == "qba-a", "setTags")
        expect(set(c.torrents_info(torrent_hashes=h)[0].tags.split(", ")) == {"qba-a", "qba-b", "qba-new"}, "tags")
        c.torrents_rename(torrent_hash=h2, new_torrent_name="qba-renamed")
        expect(c.torrents_info(torrent_hashes=h2)[0].name == "qba-renamed", "rename")
        c.torrents_file_priority(torrent_hash=h, file_ids=[1], priority=7)
        expect([f.priority for f in c.torrents_files(torrent_hash=h)] == [1, 7], "filePrio")
        c.torrents_file_priority(torrent_hash=h, file_ids=1, priority=1)
        c.torrents_rename_file(torrent_hash=h, old_path="qba-multi/a.bin", new_path="qba-multi/a2.bin")
        c.torrents_rename_folder(torrent_hash=h, old_path="qba-multi/sub", new_path="qba-multi/sub2")
        names = wait(lambda: (lambda n: n if n == ["qba-multi/a2.bin", "qba-multi/sub2/b.bin"] else None)(
            [f.name for f in c.torrents_files(torrent_hash=h)]), 10, "renames")
        expect(os.path.isfile(os.path.join(data_dir, "qba-multi", "sub2", "b.bin")), "renamed on disk")
        c.torrents_set_download_path(download_path=os.path.join(data_dir, "incomplete"), torrent_hashes=h2)
        c.torrents_set_save_path(save_path=os.path.join(data_dir, "saved2"), torrent_hashes=h2)
        c.torrents_set_location(location=os.path.join(data_dir, "moved2"), torrent_hashes=h2)
        wait(lambda: c.torrents_info(torrent_hashes=h2)[0].save_path.rstrip("/") ==
             os.path.join(data_dir, "moved2"), 10, "setLocation")
        return names
    step("torrents category/tags/rename/files/paths", edits)
    step("set_category unknown -> Conflict409Error", lambda: raises(
        qbt.Conflict409Error, c.torrents_set_category, category="no-such-cat", torrent_hashes=h))
    step("add_peers", lambda: dict(c.torrents_add_peers(peers=["127.0.0.200:6881"], torrent_hashes=h)))
    step("add_peers bad peer -> InvalidRequest400Error", lambda: raises(
        qbt.InvalidRequest400Error, c.torrents_add_peers, peers=["not-a-peer"], torrent_hashes=h))

    def ssl():
        p = c.torrents_ssl_parameters(torrent_hash=h)
        expect(dict(p) == {"ssl_certificate": "", "ssl_private_key": "", "ssl_dh_params": ""}, repr(dict(p)))
        raises(qbt.UnsupportedMediaType415Error, c.torrents_set_ssl_parameters, torrent_hash=h,
               ssl_certificate="x", ssl_private_key="y", ssl_dh_params="z")
        d = os.path.join(data_dir, "ssl")
        os.makedirs(d, exist_ok=True)
        run_ = lambda *a: subprocess.run(a, cwd=d, check=True, stdout=subprocess.DEVNULL,  # noqa: E731
                                         stderr=subprocess.DEVNULL)
        run_("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", "key.pem", "-out", "cert.pem", "-days", "1", "-subj", "/CN=qba")
        run_("openssl", "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048", "-out", "dh.pem")
        pem = {n: open(os.path.join(d, n + ".pem")).read() for n in ("cert", "key", "dh")}
        c.torrents_set_ssl_parameters(torrent_hash=h, ssl_certificate=pem["cert"], ssl_private_key=pem["key"],
                                      ssl_dh_params=pem["dh"])
        p = c.torrents_ssl_parameters(torrent_hash=h)
        expect("BEGIN CERTIFICATE" in p.ssl_certificate and p.ssl_dh_params == pem["dh"], "stored")
        return "invalid -> 415, valid stored"
    step("torrents SSLParameters / setSSLParameters", ssl)

    def export():
        b = c.torrents_export(torrent_hash=h)
        expect(hashlib.sha1(b[b.index(b"4:info") + 6:-1]).hexdigest() == h, "exported info-hash")
        return "%d bytes" % len(b)
    step("torrents_export", export)
    step("torrents_set_comment -> NotImplementedError (2.12.1)", lambda: raises(
        NotImplementedError, c.torrents_set_comment, comment="x", torrent_hashes=h))
    step("torrents_fetch_metadata -> NotImplementedError (2.11.9)", lambda: raises(
        NotImplementedError, c.torrents_fetch_metadata, url="magnet:?xt=urn:btih:" + "1" * 40))

    def recheck():
        c.torrents_recheck(torrent_hashes=h)
        wait(lambda: c.torrents_info(torrent_hashes=h)[0].progress == 1 and
             not c.torrents_info(torrent_hashes=h)[0].state_enum.is_checking, 30, "recheck done")
        return c.torrents_info(torrent_hashes=h)[0].state
    step("torrents_recheck", recheck)

    # -- sync ---------------------------------------------------------------
    def sync():
        md = c.sync_maindata(rid=0)
        expect(md.full_update is True and h in md.torrents and "server_state" in md, "full update")
        md2 = c.sync_maindata(rid=md.rid)
        expect(not md2.get("full_update") and md2.rid >= md.rid, repr(dict(md2))[:200])
        c.torrents_set_category(category="", torrent_hashes=h2)
        md3 = c.sync_maindata(rid=md2.rid)
        expect(md3.torrents[h2]["category"] == "", repr(dict(md3))[:300])
        c.sync.maindata.delta()      # the package's own rid bookkeeping
        expect(c.sync.maindata.delta().get("full_update") is not True, "delta()")
        tp = c.sync_torrent_peers(torrent_hash=h, rid=0)
        expect(tp.full_update is True and "peers" in tp, repr(dict(tp))[:200])
        return "rid %s -> %s -> %s" % (md.rid, md2.rid, md3.rid)
    step("sync_maindata rid / torrent_peers", sync)
    step("sync_torrent_peers unknown -> NotFound404Error", lambda: raises(
        qbt.NotFound404Error, c.sync_torrent_peers, torrent_hash="00" * 20))

    # -- torrent creator -------------------------------------------------------
    def creator():
        src = os.path.join(data_dir, "qba-multi")
        task = c.torrentcreator_add_task(source_path=src, format="v1", piece_size=16384, start_seeding=False,
                                         is_private=True, comment="made by qbittorrent-api",
                                         trackers=["http://127.0.0.1:9/announce"])
        tid = task.taskID
        s = wait(lambda: (lambda x: x if x and x[0].status in ("Finished", "Failed") else None)(
            c.torrentcreator_status(task_id=tid)), 30, "creator task")[0]
        expect(s.status == "Finished", repr(dict(s)))
        b = c.torrentcreator_torrent_file(task_id=tid)
        expect(b.startswith(b"d") and b"made by qbittorrent-api" in b, "torrent file")
        c.torrentcreator_delete_task(task_id=tid)
        raises(qbt.NotFound404Error, c.torrentcreator_status, task_id=tid)
        return "%s %d bytes" % (s.status, len(b))
    step("torrentcreator add/status/file/delete", creator)

    # -- the end: delete, logout, re-login on 403 -----------------------------
    def delete():
        c.torrents_delete(delete_files=False, torrent_hashes=h)
        c.torrents_delete(delete_files=True, torrent_hashes=[h2, st["mh"]])
        wait(lambda: not c.torrents_info(torrent_hashes=[h, h2, st["mh"]]), 10, "deleted")
        expect(os.path.isfile(os.path.join(data_dir, "qba-multi", "a2.bin")), "data kept")
        c.torrents_remove_categories(categories=["qba-tv", "qba-new"])
        c.torrents_delete_tags(tags=["qba-a", "qba-b", "qba-new"])
        return "ok"
    step("torrents_delete, cleanup", delete)

    def banned():
        c.app_set_preferences({"web_ui_max_auth_fail_count": 2, "web_ui_ban_duration": 2})
        bad = qbt.Client(host=url, username=user, password="wrong")
        try:
            for n in range(1, 4):      # the earlier wrong-password step may have counted already
                try:
                    bad.auth_log_in()
                except qbt.Forbidden403Error as e:
                    return "after %d more failures: %r" % (n - 1, str(e)[:70])
                except qbt.LoginFailed:
                    pass
            raise AssertionError("never banned")
        finally:
            c.app_set_preferences({"web_ui_max_auth_fail_count": st["prefs"]["web_ui_max_auth_fail_count"],
                                   "web_ui_ban_duration": st["prefs"]["web_ui_ban_duration"]})
            time.sleep(2.5)    # the 2 s ban runs out
    step("banned after failed logins -> Forbidden403Error", banned)

    def relogin():
        c.auth_log_out()
        expect(not c.is_logged_in, "still logged in")
        expect(c.app_version() == "v5.1.4", "no automatic re-login after 403")
        return "re-logged in after 403"
    step("auth_log_out, then automatic re-login", relogin)


def start_torrentd(binary, url, password, data_dir, user=None):
    """A scratch torrentd for the run: its own profile, peers on 127.0.0.1."""
    import socket
    import urllib.parse
    import urllib.request
    u = urllib.parse.urlsplit(url)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    listen_port = s.getsockname()[1]
    s.close()
    log = open(os.path.join(data_dir, "torrentd.log"), "ab")
    p = subprocess.Popen([binary, "--profile", os.path.join(data_dir, "profile"),
                          "--webui-address", socket.gethostbyname(u.hostname), "--webui-port", str(u.port or 80),
                          "--listen-address", "127.0.0.1", "--listen-port", str(listen_port),
                          "--save-path", os.path.join(data_dir, "downloads"), "--webui-password", password],
                         stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, user=user)
    log.close()
    end = time.monotonic() + 30
    while time.monotonic() < end and p.poll() is None:
        try:
            urllib.request.urlopen(url + "/api/v2/app/version", timeout=1)
        except urllib.error.HTTPError:
            return p                    # 403: up, needs login
        except OSError:
            time.sleep(0.1)
            continue
        return p
    p.kill()
    raise SystemExit("torrentd did not come up (see %s/torrentd.log)" % data_dir)


def stop(p):
    p.terminate()
    try:
        p.wait(15)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(5)


RESOURCES_URL = "https://github.com/rmartin16/qbittorrent-api/raw/main/tests/_resources/"
LOCAL_RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>DistroWatch - Torrents</title>
<link>http://127.0.0.1:18765/</link><description>local copy for the suite</description>
<item><title>ubuntu-22.04.1-desktop-amd64.iso</title>
<link>http://127.0.0.1:18765/ubuntu-22.04.1-desktop-amd64.iso.torrent</link>
<guid>ubuntu-22.04.1</guid><pubDate>Thu, 11 Aug 2022 12:00:00 +0000</pubDate></item>
<item><title>kubuntu-22.04.3-desktop-amd64.iso</title>
<link>http://127.0.0.1:18765/kubuntu-22.04.3-desktop-amd64.iso.torrent</link>
<guid>kubuntu-22.04.3</guid><pubDate>Thu, 10 Aug 2023 12:00:00 +0000</pubDate></item>
</channel></rss>
"""


LOCAL_PLUGIN = """#VERSION: 1.00
# An offline stand-in for the therarbg plugin the suite installs from github.com.
from novaprinter import prettyPrinter


class therarbg(object):
    url = "http://therarbg.example"
    name = "TheRARBG (offline stand-in)"
    supported_categories = {"all": "0", "movies": "1", "tv": "2"}

    def search(self, what, cat="all"):
        prettyPrinter({"link": "magnet:?xt=urn:btih:" + "cd" * 20, "name": "therarbg " + what, "size": "1 GB",
                       "seeds": 1, "leech": 1, "engine_url": self.url})
"""


def run_suite(a, pytest_args):
    """The package's own tests against a scratch torrentd, adapted to this
    machine without touching the package: a copy of the checkout whose
    conftest fetches the test torrents from a local server instead of
    github.com, /tmp/_resources (its CI mounts the resources there), torrentd
    and pytest as `nobody` (its CI is unprivileged; some tests expect /etc
    not to be writable), simplejson hidden. Several tests hard-code
    localhost:8080, so the URL should be http://localhost:8080."""
    import pwd
    import shutil
    import urllib.parse
    nobody = pwd.getpwnam("nobody")
    work = tempfile.mkdtemp(prefix="qbtapi-suite-")
    copy = os.path.join(work, "qbittorrent-api")    # its conftest checks this name
    shutil.copytree(a.checkout, copy, ignore=shutil.ignore_patterns(".git"))
    conftest = os.path.join(copy, "tests", "conftest.py")
    with open(conftest) as f:
        text = f.read()
    with open(conftest, "w") as f:
        f.write(text.replace(RESOURCES_URL, "http://127.0.0.1:18765/"))
    # tests/test_rss.py reads a feed from a gist on github.com: a local one
    # with the same channel title takes its place
    test_rss = os.path.join(copy, "tests", "test_rss.py")
    with open(test_rss) as f:
        text = f.read()
    text = re.sub(r"RSS_URL = \(.*?\)\n", 'RSS_URL = "http://127.0.0.1:18765/rss.xml"\n', text, count=1, flags=re.S)
    with open(test_rss, "w") as f:
        f.write(text)
    with open(os.path.join(copy, "tests", "_resources", "rss.xml"), "w") as f:
        f.write(LOCAL_RSS)
    # tests/test_search.py installs a plugin from github.com: a local
    # stand-in with the same name takes its place
    test_search = os.path.join(copy, "tests", "test_search.py")
    with open(test_search) as f:
        text = f.read()
    text = re.sub(r'PLUGIN_URL = ".*?"\n', 'PLUGIN_URL = "http://127.0.0.1:18765/therarbg.py"\n', text, count=1)
    with open(test_search, "w") as f:
        f.write(text)
    with open(os.path.join(copy, "tests", "_resources", "therarbg.py"), "w") as f:
        f.write(LOCAL_PLUGIN)
    with open(os.path.join(work, "nosimplejson.py"), "w") as f:
        f.write('import sys\nsys.modules["simplejson"] = None\n')
    res = os.path.join(copy, "tests", "_resources")
    if os.path.islink("/tmp/_resources"):
        os.unlink("/tmp/_resources")
    os.symlink(res, "/tmp/_resources")
    for root, dirs, files in os.walk(work):
        for n in dirs + files + [""]:
            os.lchown(os.path.join(root, n), nobody.pw_uid, nobody.pw_gid)
    http = subprocess.Popen([sys.executable, "-m", "http.server", "18765", "--bind", "127.0.0.1",
                             "--directory", res], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            user=nobody.pw_uid, group=nobody.pw_gid)
    daemon = None
    u = urllib.parse.urlsplit(a.url)
    env = dict(os.environ, QBITTORRENTAPI_HOST="%s:%d" % (u.hostname, u.port or 80),
               QBITTORRENTAPI_USERNAME=a.username, QBITTORRENTAPI_PASSWORD=a.password,
               PYTHONPATH="src:" + work, HOME=work)
    # requests prefers REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE over a session's
    # verify=False (requests issue 3829): with them set (as on this
    # machine), the package's HTTPS tests cannot reach a self-signed WebUI.
    for k in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        env.pop(k, None)
    try:
        daemon = start_torrentd(a.start, a.url, a.password, work, user=nobody.pw_uid) if a.start else None
        rc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "nosimplejson",
                             "-q", "-rfE", "--basetemp", os.path.join(work, "pytest")] + (pytest_args or ["tests"]),
                            cwd=copy, env=env, user=nobody.pw_uid, group=nobody.pw_gid, timeout=3600).returncode
    finally:
        if daemon:
            stop(daemon)
            print("torrentd exit status %s, log %s" % (daemon.returncode, os.path.join(work, "torrentd.log")))
        stop(http)
        os.unlink("/tmp/_resources")
    return rc or (100 if daemon and daemon.returncode != 0 else 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkout", help="path of a qbittorrent-api git checkout")
    ap.add_argument("url", help="torrentd WebUI URL, e.g. http://127.0.0.1:8080")
    ap.add_argument("--username", default="admin")
    ap.add_argument("--password", default="adminadmin")
    ap.add_argument("--data-dir", help="where torrents' data is created (default: a new dir in /tmp)")
    ap.add_argument("--start", metavar="TORRENTD", help="start this torrentd binary for the run")
    ap.add_argument("--suite", action="store_true",
                    help="run the package's own tests instead (as root, in scripts/netns-run.sh; "
                         "arguments after -- go to pytest)")
    argv = sys.argv[1:]
    pytest_args = argv[argv.index("--") + 1:] if "--" in argv else []
    a = ap.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    if a.suite:
        return run_suite(a, pytest_args)
    sys.path.insert(0, os.path.join(os.path.abspath(a.checkout), "src"))
    import qbittorrentapi
    warnings.simplefilter("always")
    warnings.filterwarnings("ignore", category=ResourceWarning)
    warned = Warned()
    logging.getLogger("qbittorrentapi").addHandler(warned)
    data_dir = os.path.abspath(a.data_dir or tempfile.mkdtemp(prefix="try-qbtapi-"))
    os.makedirs(data_dir, exist_ok=True)
    tag = subprocess.run(["git", "-C", a.checkout, "describe", "--tags"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL).stdout.decode().strip() or "?"
    print("qbittorrent-api %s from %s, torrentd at %s, data in %s" % (
        tag, os.path.dirname(qbittorrentapi.__file__), a.url, data_dir), flush=True)
    daemon = start_torrentd(a.start, a.url, a.password, data_dir) if a.start else None
    try:
        with warnings.catch_warnings(record=True) as ws:
            run(qbittorrentapi, a.url, a.username, a.password, data_dir)
    finally:
        if daemon:
            stop(daemon)
            print("torrentd exit status %s, log %s" % (daemon.returncode, os.path.join(data_dir, "torrentd.log")))
    for w in ws:
        RESULTS.append(("python warning", False, str(w.message)))
        print("FAIL python warning: %s" % w.message)
    for m in warned.records:
        RESULTS.append(("package warning", False, m))
        print("FAIL qbittorrentapi logged a warning: %s" % m)
    failed = [r for r in RESULTS if not r[1]]
    print("%d steps, %d passed, %d failed" % (len(RESULTS), len(RESULTS) - len(failed), len(failed)))
    return min(len(failed), 100)


if __name__ == "__main__":
    sys.exit(main())
