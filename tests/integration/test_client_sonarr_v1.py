"""Sonarr's qBittorrent API v1 client replayed against torrentd.

Read from Sonarr/Sonarr 49df353 (2026-06-21), src/NzbDrone.Core/Download/
Clients/QBittorrent/: QBittorrentProxyV1.cs ("ProxyV1"), QBittorrent.cs
("Client"), QBittorrentProxySelector.cs; Radarr and Lidarr carry the same
proxy. ../shared/docs/clients-wave2.md §2.2.

The transport (preemptive Basic, .NET form encodings, cookies kept by hand
from the login reply, one re-login on 403) is test_client_arr.py's ArrProxy;
V1Proxy below swaps in ProxyV1's paths. Today's selector tries v2 first and
keeps it unless webapiVersion answers 404, so a current Sonarr talks v2 to
torrentd (test_client_arr.py); this replay is ProxyV1 as Sonarr runs it once
the selector has picked v1 (a qBittorrent 3.2-4.1 profile, and the Sonarr
builds that had only this proxy). Each step checks the state Sonarr derives
from the replies: the queue item's status, sizes, remaining time, category,
import path, removability; a grab is downloaded for real from a second
torrentd found through a tracker on loopback.
"""
import os
import re

import pytest

from conftest import LEECH_IP, SEED_IP
from tdlib import Torrentd, Tracker, make_torrent, piece_hashes, wait_until
from test_client_arr import (LONG, DOUBLE, PREFS, STRING, STATUS, FILE, ArrProxy, AuthError, HttpError,
                             _check_model, _removes_completed, dotnet_version)

PL = 16384
TV = "tv-sonarr"
TV_IMPORTED = "tv-imported"

# QBittorrentTorrent as ProxyV1.GetTorrents fills it from /query/torrents: API
# v1 has no content_path (Client uses it only at API >= 2.6.1) and the
# limits default to -2 when absent
V1_TORRENT = {"hash": STRING, "name": STRING, "size": LONG, "progress": DOUBLE, "eta": LONG,
              "state": STRING, "category": STRING, "save_path": STRING, "ratio": DOUBLE}
V1_PROPERTIES = {"save_path": STRING, "seeding_time": LONG}


class V1Proxy(ArrProxy):
    """QBittorrentProxyV1, one method per ProxyV1 method."""

    def authenticate(self, reauthenticate=False):
        if self.cookies is not None and not reauthenticate:
            return
        self.cookies = None
        r = self._send("POST", "/login", form=[("username", self.username), ("password", self.password)])
        self.logins += 1
        if r.status_code == 403:
            raise AuthError("HTTP 403")
        if r.status_code >= 400:
            raise HttpError(r)
        if r.text != "Ok.":                      # exactly "Ok." ("Fails." on a bad login)
            raise AuthError(r.text)
        cookies = {}
        for sc in r.raw.headers.getlist("Set-Cookie"):
            m = re.match(r"^(.*?)=(.*?)(?:;|$)", sc)
            if m:
                cookies[m.group(1)] = m.group(2)
        self.cookies = cookies

    def is_api_supported(self):
        # GET /version/api, no login, SuppressHttpError: 404 no, 403 yes, error throws
        saved, self.cookies = self.cookies, None
        try:
            r = self._send("GET", "/version/api")
        finally:
            self.cookies = saved
        if r.status_code == 404:
            return False, r
        if r.status_code != 403 and r.status_code >= 400:
            raise HttpError(r)
        return True, r

    def get_api_version(self):
        return dotnet_version("1." + self.process("GET", "/version/api").text)

    def get_version(self):
        return self.process("GET", "/version/qbittorrent").text.lstrip("v")

    def get_config(self):
        return self.json("GET", "/query/preferences")

    def get_torrents(self):
        q = [("label", self.category), ("category", self.category)] if self.category else None
        return self.json("GET", "/query/torrents", query=q)

    def is_torrent_loaded(self, h):
        try:
            self.process("GET", "/query/propertiesGeneral/%s" % h)
            return True
        except (HttpError, AuthError):
            return False

    def get_properties(self, h):
        return self.json("GET", "/query/propertiesGeneral/%s" % h)

    def get_files(self, h):
        return self.json("GET", "/query/propertiesFiles/%s" % h)

    def _v1_params(self, initial_state):
        form = [("category", self.category)] if self.category else []
        if initial_state in ("Start", "Stop"):      # ForceStart: a separate call
            form.append(("paused", initial_state == "Stop"))
        return form

    def add_from_url(self, url, initial_state="Start"):
        r = self.process("POST", "/command/download", form=[("urls", url)] + self._v1_params(initial_state))
        assert r.text != "Fails.", "Download client failed to add torrent by url"
        return r

    def add_from_file(self, filename, content, initial_state="Start"):
        r = self.process("POST", "/command/upload", form=self._v1_params(initial_state),
                         files=[("torrents", filename, content)])
        assert r.text != "Fails.", "Download client failed to add torrent"
        return r

    def remove_torrent(self, h, remove_data):
        return self.process("POST", "/command/deletePerm" if remove_data else "/command/delete",
                            form=[("hashes", h)])

    def set_torrent_label(self, h, label):
        """setCategory; on 404 only, 3.3.4's setLabel. Any other error
        propagates (MarkItemAsImported turns it into a warning)."""
        try:
            return self.process("POST", "/command/setCategory", form=[("hashes", h), ("category", label)])
        except HttpError as e:
            if e.status != 404:
                raise
            return self.process("POST", "/command/setLabel", form=[("hashes", h), ("label", label)])

    def move_to_top(self, h):
        """Tolerates 403 only (3.x/4.0's answer with queueing off)."""
        try:
            return self.process("POST", "/command/topPrio", form=[("hashes", h)]).status_code
        except HttpError as e:
            if e.status != 403:
                raise
            return 403

    def set_force_start(self, h, enabled):
        return self.process("POST", "/command/setForceStart",
                            form=[("hashes", h), ("value", "true" if enabled else "false")])


class Sonarr:
    """The Client half: what QBittorrent.cs derives from the proxy's replies."""

    def __init__(self, proxy, imported=TV_IMPORTED, recent_first=True, initial_state="Start"):
        self.p, self.imported = proxy, imported
        self.recent_first, self.initial_state = recent_first, initial_state
        self.warnings = []

    def _follow_up(self, h):
        # AddFromTorrentFile/AddFromMagnetLink at API 1.x: no share limits with
        # the add, SetTorrentSeedingConfiguration is a no-op, AddTags too
        move, force = self.recent_first, self.initial_state == "ForceStart"
        if not (move or force):
            return
        if not self.p.wait_for_torrent(h):
            self.warnings.append("Failed to load torrent within 500 ms")
            return
        if move:
            try:
                self.p.move_to_top(h.lower())
            except (HttpError, AuthError) as e:
                self.warnings.append("Failed to set the torrent priority: %s" % e)
        if force:
            try:
                self.p.set_force_start(h.lower(), True)
            except (HttpError, AuthError) as e:
                self.warnings.append("Failed to set ForceStart: %s" % e)

    def add_file(self, filename, content, h):
        self.p.add_from_file(filename, content, self.initial_state)
        self._follow_up(h)

    def add_magnet(self, magnet, h):
        if not self.p.get_config()["dht"] and "&tr=" not in magnet:
            raise NotImplementedError("Magnet Links without trackers not supported if DHT is disabled")
        self.p.add_from_url(magnet, self.initial_state)
        self._follow_up(h)

    def get_items(self):
        version = self.p.get_api_version()
        config = self.p.get_config()
        items = []
        for t in self.p.get_torrents():
            _check_model(t, V1_TORRENT, "/query/torrents element")
            status = STATUS.get(t["state"], "Downloading")     # unknown: Downloading + message
            eta = t["eta"]
            remaining = None if eta < 0 or eta > 365 * 24 * 3600 or eta == 8640000 else eta
            if status == "Completed":
                remaining = 0
            if t["state"] in ("metaDL", "forcedMetaDL") and not config["dht"]:
                status = "Warning"
            ratio_limit = t.get("ratio_limit", -2)
            reached = (ratio_limit >= 0 and ratio_limit - t["ratio"] <= 0.001) or \
                (ratio_limit == -2 and config["max_ratio_enabled"] and config["max_ratio"] - t["ratio"] <= 0.001)
            items.append({
                "DownloadId": t["hash"].upper(),
                "Category": t["category"] or t.get("label"),
                "Title": t["name"], "TotalSize": t["size"],
                "RemainingSize": int(t["size"] * (1.0 - t["progress"])),
                "RemainingTime": remaining, "SeedRatio": t["ratio"], "Status": status,
                "State": t["state"],
                "CanBeRemoved": _removes_completed(config) and t["state"] in ("pausedUP", "stoppedUP") and reached,
                # API < 2.6.1: no output path from the list; GetImportItem finds it
                "OutputPath": None if version < (2, 6, 1, 0) else t.get("content_path"),
            })
        return items

    def item(self, h):
        for it in self.get_items():
            if it["DownloadId"] == h.upper():
                return it
        return None

    def get_import_item(self, item):
        files = self.p.get_files(item["DownloadId"].lower())
        for f in files:
            _check_model(f, FILE, "/query/propertiesFiles element")
        if not files:
            return None
        props = self.p.get_properties(item["DownloadId"].lower())
        _check_model(props, V1_PROPERTIES, "/query/propertiesGeneral")
        first = files[0]["name"].split("/")[0]    # the first path component
        return os.path.join(props["save_path"], first)

    def get_status(self):
        # API < 2.0: the output root is the global save path (no category list)
        cfg = self.p.get_config()
        return {"OutputRootFolders": [cfg["save_path"]], "RemovesCompletedDownloads": _removes_completed(cfg)}

    def mark_imported(self, item):
        try:
            self.p.set_torrent_label(item["DownloadId"].lower(), self.imported)
        except (HttpError, AuthError) as e:
            self.warnings.append('Failed to set post-import torrent label "%s": %s' % (self.imported, e))

    def remove(self, item, delete_data):
        self.p.remove_torrent(item["DownloadId"].lower(), delete_data)


def _write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


@pytest.fixture(scope="module")
def td(module_procs, tmp_path_factory):
    d = str(tmp_path_factory.mktemp("sonarr-v1"))
    t = module_procs.add(Torrentd(os.path.join(d, "td"), LEECH_IP)).start()
    t.set_prefs({"queueing_enabled": True})
    return t


@pytest.fixture
def proxy(td):
    return V1Proxy(td.base, category=TV)


def test_selection_login_versions(td, proxy):
    # the selector: v2 answers its unauthenticated probe with 403, which keeps
    # v2; ProxyV1's own probe of /version/api (public) says "supported"
    v2 = ArrProxy(td.base)
    assert v2.is_api_supported()[1].status_code == 403
    ok, r = proxy.is_api_supported()
    assert ok and r.status_code == 200 and r.text == "24"
    assert r.headers["Content-Type"].startswith("text/plain")
    # GetApiVersion: Version.Parse("1." + body); 1.5 has save_path, 1.6 categories
    v = proxy.get_api_version()
    assert v == (1, 24, 0, 0) and v >= (1, 6, 0, 0) and v < (2, 0, 0, 0)
    assert proxy.get_version() == "4.1.9"
    proxy.authenticate()
    assert list(proxy.cookies) == ["SID"] and len(proxy.cookies["SID"]) >= 32
    # a bad password: 200 "Fails." -> DownloadClientAuthenticationException
    with pytest.raises(AuthError, match="Fails."):
        V1Proxy(td.base, password="wrong-password").authenticate()
    # a stale SID (qBittorrent restarted): 403, one re-login, the request again
    proxy.cookies = {"SID": "0" * 32}
    n = proxy.logins
    assert isinstance(proxy.get_config(), dict)
    assert proxy.logins == n + 1 and proxy.cookies["SID"] != "0" * 32


def test_connection_test_and_status(td, proxy):
    """Client.Test at API 1.x: TestConnection (version, category set,
    preferences), TestCategory skipped below 2.0, TestPrioritySupport,
    TestGetTorrents; GetStatus."""
    cfg = proxy.get_config()
    _check_model(cfg, PREFS, "/query/preferences")
    assert not _removes_completed(cfg)
    assert cfg["queueing_enabled"] is True
    assert isinstance(proxy.get_torrents(), list)
    st = Sonarr(proxy).get_status()
    assert os.path.normpath(st["OutputRootFolders"][0]) == os.path.normpath(td.save_path)
    assert st["RemovesCompletedDownloads"] is False


def test_grab_download_import_remove(td, proxy, module_procs, tmp_path):
    """A .torrent grabbed with InitialState Start and RecentTvPriority First,
    downloaded for real from a rate-limited seeder found through the tracker;
    GetItems at each poll, then import through GetImportItem (API < 2.6.1),
    MarkItemAsImported (the post-import category does not exist: 409, a
    warning; then it does), RemoveItem without data."""
    root = str(tmp_path)
    ep = os.urandom(1 << 20)
    sample = os.urandom(200001)
    seed_dir = os.path.join(root, "seed-data")
    _write(os.path.join(seed_dir, "Show.S01E02", "show.s01e02.mkv"), ep)
    _write(os.path.join(seed_dir, "Show.S01E02", "Sample", "sample.mkv"), sample)
    info = {"name": "Show.S01E02", "piece length": PL, "pieces": piece_hashes(ep + sample, PL),
            "files": [{"length": len(ep), "path": ["show.s01e02.mkv"]},
                      {"length": len(sample), "path": ["Sample", "sample.mkv"]}]}
    _, h = make_torrent(info)
    tracker = module_procs.add(Tracker(os.path.join(root, "tracker"))).start([h])
    tb, h = make_torrent(info, announce=tracker.announce)
    seeder = module_procs.add(Torrentd(os.path.join(root, "seeder"), SEED_IP)).start()
    seeder.post("/api/v2/transfer/setUploadLimit", limit=str(256 * 1024))
    seeder.add(tb, seed_dir, skip_checking=True)
    wait_until(lambda: tracker.seeders(h) >= 1, 20, "the seeder announced", procs=[seeder, tracker])

    sonarr = Sonarr(proxy)
    sonarr.add_file("Show.S01E02.torrent", tb, h.upper())
    assert sonarr.warnings == []                 # properties seen in time, topPrio 200
    seen = []

    def completed():
        it = sonarr.item(h)
        assert it is not None, "the grab is not in Sonarr's category"
        seen.append(it)
        return it if it["Status"] == "Completed" else None
    done = wait_until(completed, 60, "Sonarr status Completed", interval=0.2, procs=[td, seeder])
    total = len(ep) + len(sample)
    for it in seen:
        assert (it["DownloadId"], it["Title"], it["TotalSize"], it["Category"]) == \
            (h.upper(), "Show.S01E02", total, TV)
        assert it["Status"] in ("Queued", "Downloading", "Warning", "Completed"), it
        assert 0 <= it["RemainingSize"] <= total
    # mid-download: Downloading with a known remaining size (and time once rates settle)
    mid = [it for it in seen if it["Status"] == "Downloading" and 0 < it["RemainingSize"] < total]
    assert mid, "never saw the download in progress: %r" % [(i["State"], i["RemainingSize"]) for i in seen]
    assert all(it["State"] in ("downloading", "forcedDL") for it in mid)
    assert any(isinstance(it["RemainingTime"], int) and it["RemainingTime"] > 0 for it in mid), mid
    sizes = [it["RemainingSize"] for it in seen]
    assert sizes == sorted(sizes, reverse=True), "remaining size went up: %r" % sizes
    assert done["RemainingSize"] == 0 and done["RemainingTime"] == 0 and done["State"] in ("stalledUP", "uploading")
    assert done["OutputPath"] is None and done["CanBeRemoved"] is False

    # GetImportItem: save_path + first component of files[0].name
    out = sonarr.get_import_item(done)
    assert os.path.normpath(out) == os.path.join(os.path.normpath(td.save_path), "Show.S01E02")
    with open(os.path.join(out, "show.s01e02.mkv"), "rb") as f:
        assert f.read() == ep
    with open(os.path.join(out, "Sample", "sample.mkv"), "rb") as f:
        assert f.read() == sample

    # MarkItemAsImported: API v1 never creates categories (TestCategory is
    # skipped below 2.0): setCategory to a missing one is 409 -> a warning,
    # not the setLabel fallback (404 only), nothing changed
    cats = td.get("/api/v2/torrents/categories").json()
    assert TV in cats and TV_IMPORTED not in cats     # created by the add with `category`
    sonarr.mark_imported(done)
    assert len(sonarr.warnings) == 1 and "409" in sonarr.warnings[0], sonarr.warnings
    assert sonarr.item(h)["Category"] == TV
    td.post("/api/v2/torrents/createCategory", category=TV_IMPORTED)    # the user creates it
    sonarr.mark_imported(done)
    assert len(sonarr.warnings) == 1
    assert sonarr.item(h) is None and td.torrent(h)["category"] == TV_IMPORTED

    # RemoveItem without data (the item as Sonarr last saw it)
    sonarr.remove(done, False)
    wait_until(lambda: td.torrent(h) is None, 10, "torrent removed")
    assert os.path.isfile(os.path.join(out, "show.s01e02.mkv"))
    assert not proxy.is_torrent_loaded(h.lower())


def test_grab_magnet_stopped_then_forced_then_removed_with_data(td, proxy):
    """AddFromMagnetLink with InitialState Stop (paused=True): Paused; DHT is
    off, so Sonarr requires &tr=; then a ForceStart grab of the same kind:
    metaDL with DHT off is a Warning for Sonarr; RemoveItem with data."""
    h = "89abcdef0123456789abcdef0123456789abcdef"
    magnet = "magnet:?xt=urn:btih:%s&dn=Show.S03E04&tr=%s" % (h.upper(), "http%3A%2F%2F127.0.0.1%3A9%2Fannounce")
    with pytest.raises(NotImplementedError):
        Sonarr(proxy).add_magnet("magnet:?xt=urn:btih:%s" % h, h)
    stopped = Sonarr(proxy, recent_first=False, initial_state="Stop")
    stopped.add_magnet(magnet, h)
    wait_until(lambda: stopped.item(h) is not None, 10, "the magnet listed")
    it = stopped.item(h)
    assert (it["Status"], it["State"], it["Category"], it["RemainingTime"]) == ("Paused", "pausedDL", TV, None)
    assert it["TotalSize"] == 0 and it["Title"] in ("Show.S03E04", h)

    h2 = "0123456789abcdef0123456789abcdef89abcdef"
    magnet2 = magnet.replace(h.upper(), h2.upper()).replace("S03E04", "S03E05")
    forced = Sonarr(proxy, recent_first=True, initial_state="ForceStart")
    forced.add_magnet(magnet2, h2)
    assert forced.warnings == []
    t = td.torrent(h2)
    assert t["force_start"] is True
    it = forced.item(h2)
    assert it["State"] in ("metaDL", "forcedMetaDL", "forcedDL") and it["Status"] in ("Warning", "Downloading")
    for hh in (h, h2):
        forced.remove({"DownloadId": hh.upper()}, True)
    wait_until(lambda: td.torrent(h) is None and td.torrent(h2) is None, 10, "magnets removed")


def test_top_priority_with_queueing_off(td, proxy):
    """MoveTorrentToTopInQueue tolerates only 403 (3.x/4.0 with queueing
    off); torrentd, like qBittorrent 4.1.9 whose version it reports, answers
    409, so Sonarr logs "Failed to set the torrent priority" and the grab
    goes on (AddFromTorrentFile catches it)."""
    data = os.urandom(20000)
    tb, h = make_torrent({"name": "Prio.V1.mkv", "piece length": PL, "length": len(data),
                          "pieces": piece_hashes(data, PL)}, announce="http://127.0.0.1:9/announce")
    td.set_prefs({"queueing_enabled": False})
    try:
        sonarr = Sonarr(proxy)
        sonarr.add_file("prio.torrent", tb, h)
        assert len(sonarr.warnings) == 1 and "409" in sonarr.warnings[0]
        assert sonarr.item(h)["Status"] in ("Warning", "Downloading", "Queued")
    finally:
        td.set_prefs({"queueing_enabled": True})
    sonarr.remove({"DownloadId": h.upper()}, True)
    wait_until(lambda: td.torrent(h) is None, 10, "removed")


def test_duplicate_add_and_unknown_hash(td, proxy):
    """A duplicate upload must say "Fails." (the only failure ProxyV1 sees);
    an unknown hash is an error for IsTorrentLoaded (WaitForTorrent)."""
    data = os.urandom(20000)
    tb, h = make_torrent({"name": "Dup.V1.mkv", "piece length": PL, "length": len(data),
                          "pieces": piece_hashes(data, PL)}, announce="http://127.0.0.1:9/announce")
    proxy.add_from_file("dup.torrent", tb, "Stop")
    assert proxy.wait_for_torrent(h)
    r = proxy.process("POST", "/command/upload", form=proxy._v1_params("Stop"), files=[("torrents", "dup.torrent", tb)])
    assert r.text == "Fails."
    assert proxy.is_torrent_loaded("ab" * 20) is False
    with pytest.raises(HttpError) as e:
        proxy.get_properties("ab" * 20)
    assert e.value.status == 404
    proxy.remove_torrent(h, True)
    wait_until(lambda: td.torrent(h) is None, 10, "removed")
