"""Sonarr and Radarr against torrentd: their qBittorrent download client replayed.

Sonarr and Radarr are .NET applications (no .NET here), so this file replays,
over HTTP against the real daemon, the requests their qBittorrent client makes,
byte for byte where it matters: paths, methods, parameter names, the .NET
encodings (form values through Convert.ToString with the invariant culture, so
booleans are "True"/"False"; multipart as HttpRequestBuilder.ApplyFormData
writes it), the preemptive Basic header, no Referer/Origin, cookies kept by
hand from the login reply and nothing else. Every reply is checked against
what their Newtonsoft model classes deserialize (field present, JSON type the
property accepts) and against the values their logic branches on.

Read from Sonarr/Sonarr 49df353 (2026-06-21) and Radarr/Radarr 1b9662d
(2025-11-14), src/NzbDrone.Core/Download/Clients/QBittorrent/ ("Proxy" below
is QBittorrentProxyV2.cs, "Client" is QBittorrent.cs; both projects have the
same requests apart from the category setting's name and Sonarr's addTags)
and src/NzbDrone.Common/Http/ (HttpRequestBuilder.cs, HttpResponse.cs,
Dispatchers/ManagedHttpDispatcher.cs). docs/api-surface.md §10.1.
"""
import base64
import os
import re
import time
import urllib.parse

import pytest
import requests

from conftest import LEECH_IP
from tdlib import PASSWORD, USER, Torrentd, make_torrent, piece_hashes, wait_until

PL = 16384
TRACKER = "http://127.0.0.1:9/announce"
TV = "tv-sonarr"
TV_IMPORTED = "tv-imported"

# Client.GetItems: the states it maps (anything else is "Unknown download state")
STATUS = {
    "error": "Warning", "stoppedDL": "Paused", "pausedDL": "Paused",
    "queuedDL": "Queued", "checkingDL": "Queued", "checkingUP": "Queued",
    "checkingResumeData": "Queued",
    "pausedUP": "Completed", "stoppedUP": "Completed", "uploading": "Completed",
    "stalledUP": "Completed", "queuedUP": "Completed", "forcedUP": "Completed",
    "stalledDL": "Warning", "missingFiles": "Warning",
    "metaDL": "Queued", "forcedMetaDL": "Queued",
    "forcedDL": "Downloading", "moving": "Downloading", "downloading": "Downloading",
}

# JSON types the Newtonsoft properties accept (strict: what qBittorrent sends)
LONG, DOUBLE, STRING, BOOL = "long", "double", "string", "bool"


def _type_ok(v, t):
    if t == LONG:
        return isinstance(v, int) and not isinstance(v, bool)
    if t == DOUBLE:
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if t == STRING:
        return isinstance(v, str)
    return isinstance(v, bool)


def _check_model(obj, model, what):
    assert isinstance(obj, dict), "%s: not an object: %r" % (what, obj)
    bad = {k: obj.get(k, "<missing>") for k, t in model.items() if k not in obj or not _type_ok(obj[k], t)}
    assert not bad, "%s: fields missing or of a type %s cannot read: %r" % (what, "Newtonsoft", bad)


# QBittorrentTorrent.cs: QBittorrentTorrent (torrents/info element). `label` is
# only a pre-3.3.5 fallback (Category wins when non-empty) and `seeding_time`
# a long? that the list "does not provide"; both may be absent. Eta is a
# BigInteger: an integer of any size.
TORRENT = {"hash": STRING, "name": STRING, "size": LONG, "progress": DOUBLE, "eta": LONG,
           "state": STRING, "category": STRING, "save_path": STRING, "content_path": STRING,
           "ratio": DOUBLE, "ratio_limit": DOUBLE, "seeding_time_limit": LONG,
           "inactive_seeding_time_limit": LONG, "last_activity": LONG}
# QBittorrentTorrent.cs: QBittorrentTorrentProperties, QBittorrentTorrentFile
PROPERTIES = {"save_path": STRING, "seeding_time": LONG}
FILE = {"name": STRING}
# QBittorrentPreferences.cs (max_ratio_act is an enum read from its number)
PREFS = {"save_path": STRING, "max_ratio_enabled": BOOL, "max_ratio": DOUBLE,
         "max_seeding_time_enabled": BOOL, "max_seeding_time": LONG,
         "max_inactive_seeding_time_enabled": BOOL, "max_inactive_seeding_time": LONG,
         "max_ratio_act": LONG, "queueing_enabled": BOOL, "dht": BOOL}
# QBittorrentLabel.cs (Newtonsoft matches the property names case-insensitively)
LABEL = {"name": STRING, "savePath": STRING}


def dotnet_version(s):
    """System.Version.Parse as Proxy.GetApiVersion uses it: 2 to 4 numeric
    components, anything else throws (and the download client fails)."""
    parts = s.split(".")
    assert 2 <= len(parts) <= 4 and all(re.fullmatch(r"[0-9]+", p) for p in parts), \
        "System.Version.Parse would throw on %r" % s
    return tuple(int(p) for p in parts) + (0,) * (4 - len(parts))


class HttpError(Exception):
    def __init__(self, r):
        super().__init__("%s %s -> %d %r" % (r.request.method, r.url, r.status_code, r.text[:200]))
        self.status = r.status_code


class AuthError(Exception):
    pass


class ArrProxy:
    """QBittorrentProxyV2 as Sonarr runs it, one method per Proxy method."""

    def __init__(self, base, username=USER, password=PASSWORD, category=TV, app="Sonarr/4.0.15.2941"):
        self.base, self.username, self.password, self.category = base, username, password, category
        self.cookies = None          # _authCookieCache entry for (url, user, password)
        self.logins = 0
        self.s = requests.Session()
        self.s.trust_env = False
        # ManagedHttpDispatcher: its user agent, gzip/brotli decompression, no
        # Accept/Referer/Origin; BasicNetworkCredential -> preemptive Basic
        cred = base64.b64encode(("%s:%s" % (username, password)).encode()).decode()
        self.s.headers.clear()
        self.s.headers.update({"User-Agent": "%s (debian 12)" % app, "Accept-Encoding": "gzip, br",
                               "Authorization": "Basic " + cred})

    # ---- transport (HttpRequestBuilder + ManagedHttpDispatcher) ---------

    def _send(self, method, path, query=None, form=None, files=None):
        url = self.base + path
        if query:
            url += "?" + "&".join("%s=%s" % (k, urllib.parse.quote(str(v), safe="")) for k, v in query)
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        body = None
        if form is not None or files is not None:
            body, ctype = self._form_body(form or [], files or [])
            headers["Content-Type"] = ctype
        r = self.s.request(method, url, data=body, headers=headers, timeout=30, allow_redirects=False)
        self.s.cookies.clear()       # UseCookies = false: nothing is kept but what login stored
        return r

    @staticmethod
    def _net(v):
        # Convert.ToString(value, InvariantCulture): bool -> "True"/"False"
        if isinstance(v, bool):
            return "True" if v else "False"
        return str(v)

    def _form_body(self, form, files):
        items = [(k, None, self._net(v).encode(), None) for k, v in form]
        items = [(n, fn, data, "application/octet-stream") for n, fn, data in files] + items
        # ApplyFormData: multipart when a part has a file name/type or > 1024 bytes
        if any(fn is not None or len(data) > 1024 for _, fn, data, _ in items):
            boundary = "-----------------------------" + "%014x" % int(time.time() * 1e7)
            out = b""
            for name, fn, data, ctype in items:
                out += b"--" + boundary.encode() + b"\r\nContent-Disposition: form-data"
                out += ('; name="%s"' % name).encode()
                if fn is not None:
                    out += ('; filename="%s"' % fn).encode()
                out += b"\r\n"
                if ctype:
                    out += ("Content-Type: %s\r\n" % ctype).encode()
                out += b"\r\n" + data + b"\r\n"
            out += b"--" + boundary.encode() + b"--\r\n"
            return out, "multipart/form-data; boundary=" + boundary
        body = "&".join("%s=%s" % (n, urllib.parse.quote(d.decode(), safe="-_.~")) for n, _, d, _ in items)
        return body.encode(), "application/x-www-form-urlencoded"

    # ---- Proxy.AuthenticateClient / ProcessRequest ---------------------

    def authenticate(self, reauthenticate=False):
        if self.cookies is not None and not reauthenticate:
            return
        self.cookies = None
        r = self._send("POST", "/api/v2/auth/login", form=[("username", self.username),
                                                           ("password", self.password)])
        self.logins += 1
        if r.status_code in (401, 403):
            raise AuthError("HTTP %d" % r.status_code)
        if r.status_code >= 400:
            raise HttpError(r)
        if r.text.strip() and r.text != "Ok.":
            raise AuthError(r.text)                    # "Fails." on a bad login
        # HttpResponse.GetCookies: ^(.*?)=(.*?)(?:;|$) over every Set-Cookie
        cookies = {}
        for sc in r.raw.headers.getlist("Set-Cookie"):
            m = re.match(r"^(.*?)=(.*?)(?:;|$)", sc)
            if m:
                cookies[m.group(1)] = m.group(2)
        self.cookies = cookies

    def process(self, method, path, query=None, form=None, files=None):
        self.authenticate()
        r = self._send(method, path, query, form, files)
        if r.status_code == 403:                       # SuppressHttpErrorStatusCodes = [Forbidden]
            self.authenticate(reauthenticate=True)
            r = self._send(method, path, query, form, files)
        if r.status_code >= 400:
            raise HttpError(r)
        return r

    def json(self, method, path, query=None, form=None):
        return self.process(method, path, query, form).json()

    # ---- QBittorrentProxyV2 --------------------------------------------

    def is_api_supported(self):
        # Proxy.IsApiSupported: GET without cookie; 404 -> not v2, 403 -> v2,
        # 401 -> "check qBittorrent configuration", other error -> failure
        saved, self.cookies = self.cookies, None
        try:
            r = self._send("GET", "/api/v2/app/webapiVersion")
        finally:
            self.cookies = saved
        if r.status_code == 404:
            return False, r
        if r.status_code == 401 or r.status_code >= 400 and r.status_code != 403:
            raise HttpError(r)
        return True, r

    def get_api_version(self):
        return dotnet_version(self.process("GET", "/api/v2/app/webapiVersion").text)

    def get_version(self):
        return self.process("GET", "/api/v2/app/version").text.lstrip("v")

    def get_config(self):
        return self.json("GET", "/api/v2/app/preferences")

    def get_torrents(self):
        q = [("category", self.category)] if self.category else None
        return self.json("GET", "/api/v2/torrents/info", query=q)

    def is_torrent_loaded(self, h):
        try:
            self.process("GET", "/api/v2/torrents/properties", query=[("hash", h)])
            return True
        except (HttpError, AuthError):
            return False

    def get_properties(self, h):
        return self.json("GET", "/api/v2/torrents/properties", query=[("hash", h)])

    def get_files(self, h):
        return self.json("GET", "/api/v2/torrents/files", query=[("hash", h)])

    def _download_params(self, initial_state="Start", sequential=False, first_last=False, layout=None):
        form = []
        if self.category:
            form.append(("category", self.category))
        if initial_state in ("Start", "Stop"):
            name = "stopped" if self.get_api_version() >= (2, 11, 0, 0) else "paused"
            form.append((name, initial_state == "Stop"))
        if sequential:
            form.append(("sequentialDownload", True))
        if first_last:
            form.append(("firstLastPiecePrio", True))
        if layout in ("Original", "Subfolder"):
            form.append(("contentLayout", layout))
        return form

    @staticmethod
    def _seed_params(ratio=None, seed_minutes=None, always=False):
        form = []
        r = ratio if ratio is not None else -2
        t = seed_minutes if seed_minutes is not None else -2
        if r != -2 or always:
            form.append(("ratioLimit", r))
        if t != -2 or always:
            form.append(("seedingTimeLimit", t))
        return form

    def add_from_url(self, url, seed=None, **kw):
        form = [("urls", url)] + self._download_params(**kw) + (self._seed_params(**seed) if seed else [])
        r = self.process("POST", "/api/v2/torrents/add", form=form)
        assert r.text != "Fails.", "Download client failed to add torrent by url"
        return r

    def add_from_file(self, filename, content, seed=None, **kw):
        form = self._download_params(**kw) + (self._seed_params(**seed) if seed else [])
        r = self.process("POST", "/api/v2/torrents/add", form=form, files=[("torrents", filename, content)])
        assert r.text != "Fails.", "Download client failed to add torrent"
        return r

    def remove_torrent(self, h, remove_data):
        form = [("hashes", h)] + ([("deleteFiles", "true")] if remove_data else [])
        return self.process("POST", "/api/v2/torrents/delete", form=form)

    def set_torrent_label(self, h, label):
        return self.process("POST", "/api/v2/torrents/setCategory", form=[("hashes", h), ("category", label)])

    def add_label(self, label):
        return self.process("POST", "/api/v2/torrents/createCategory", form=[("category", label)])

    def get_labels(self):
        return self.json("GET", "/api/v2/torrents/categories")

    def set_seeding_configuration(self, h, ratio=None, seed_minutes=None):
        form = [("hashes", h)] + self._seed_params(ratio, seed_minutes, always=True)
        try:
            return self.process("POST", "/api/v2/torrents/setShareLimits", form=form)
        except HttpError as e:
            if e.status != 404:        # only 404 (API 2.0) is tolerated
                raise
            return None

    def move_to_top(self, h):
        try:
            return self.process("POST", "/api/v2/torrents/topPrio", form=[("hashes", h)]).status_code
        except HttpError as e:
            if e.status != 409:        # 409: queueing disabled, tolerated
                raise
            return 409

    def set_force_start(self, h, enabled):
        return self.process("POST", "/api/v2/torrents/setForceStart",
                            form=[("hashes", h), ("value", "true" if enabled else "false")])

    def add_tags(self, h, tags):      # Sonarr only
        return self.process("POST", "/api/v2/torrents/addTags", form=[("hashes", h), ("tags", ",".join(tags))])

    # ---- QBittorrent.cs ------------------------------------------------

    def wait_for_torrent(self, h):
        """Client.WaitForTorrent: 10 tries, 100 ms apart; False skips the
        follow-up calls (share limits, top priority, force start, tags)."""
        for _ in range(10):
            if self.is_torrent_loaded(h.lower()):
                return True
            time.sleep(0.1)
        return False


def _removes_completed(cfg):
    # Client.RemovesCompletedDownloads (14 days minimum retention)
    return ((cfg["max_ratio_enabled"] or (cfg["max_seeding_time_enabled"] and cfg["max_seeding_time"] < 20160))
            and cfg["max_ratio_act"] in (1, 3))


def _has_reached_ratio(t, cfg):
    # Client.HasReachedSeedLimit, the ratio half
    if t["ratio_limit"] >= 0:
        return t["ratio_limit"] - t["ratio"] <= 0.001
    if t["ratio_limit"] == -2 and cfg["max_ratio_enabled"]:
        return cfg["max_ratio"] - t["ratio"] <= 0.001
    return False


def _write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def _single(name, data):
    return make_torrent({"name": name, "piece length": PL, "length": len(data),
                         "pieces": piece_hashes(data, PL)}, announce=TRACKER)


@pytest.fixture(scope="module")
def td(module_procs, tmp_path_factory):
    d = str(tmp_path_factory.mktemp("arr"))
    t = module_procs.add(Torrentd(os.path.join(d, "td"), LEECH_IP)).start()
    t.set_prefs({"queueing_enabled": True})
    return t


@pytest.fixture
def arr(td):
    return ArrProxy(td.base)


def _info(arr, h):
    for t in arr.get_torrents():
        if t["hash"] == h:
            return t
    return None


def test_probe_login_and_versions(td, arr):
    # Proxy.IsApiSupported: the unauthenticated probe must answer 403 (-> v2,
    # log in), never 401 ("check configuration") or 404 (-> API v1)
    ok, r = arr.is_api_supported()
    assert ok and r.status_code == 403, (r.status_code, r.text)
    # Proxy.AuthenticateClient: body "Ok." (or empty), the cookie from Set-Cookie
    arr.authenticate()
    assert list(arr.cookies) == ["SID"] and len(arr.cookies["SID"]) >= 32
    # Proxy.GetApiVersion: System.Version.Parse; the gates Sonarr applies
    v = arr.get_api_version()
    assert v == (2, 11, 4, 0)
    assert v >= (2, 11, 0, 0)     # AddTorrentDownloadFormParameters: "stopped", not "paused"
    assert v >= (2, 8, 1, 0)      # AddFromTorrentFile: share limits go with torrents/add
    assert v >= (2, 6, 1, 0)      # GetItems: output path from content_path
    # Proxy.GetVersion: "v" trimmed
    assert arr.get_version() == "5.1.4"
    # a bad password: 200 "Fails." (AuthenticateClient -> authentication failure), no cookie
    bad = ArrProxy(td.base, password="wrong-password")
    with pytest.raises(AuthError, match="Fails."):
        bad.authenticate()
    # a stale cookie (qBittorrent restarted): 403, log in again, same request retried
    arr.cookies = {"SID": "0" * 32}
    n = arr.logins
    assert dotnet_version(arr.process("GET", "/api/v2/app/webapiVersion").text) == v
    assert arr.logins == n + 1 and arr.cookies["SID"] != "0" * 32


def test_connection_test(td, arr):
    """Client.Test: TestConnection, TestCategory, TestPrioritySupport, TestGetTorrents."""
    arr2 = ArrProxy(td.base, category=TV)
    # TestConnection: proxy forced (probe again), version >= 1.6 and a category set
    assert arr2.is_api_supported()[0]
    assert arr2.get_api_version() >= (1, 6, 0, 0)
    cfg = arr2.get_config()
    _check_model(cfg, PREFS, "app/preferences")
    assert cfg["max_ratio_act"] in (0, 1, 2, 3)         # QBittorrentMaxRatioAction
    assert not _removes_completed(cfg), "defaults must not make Sonarr complain about removal"
    # TestCategory: GetLabels, createCategory with `category` only, GetLabels again
    labels = arr2.get_labels()
    assert isinstance(labels, dict)
    for cat in (TV, TV_IMPORTED):
        if cat not in labels:
            r = arr2.add_label(cat)
            assert r.status_code == 200
            labels = arr2.get_labels()
        assert cat in labels
        _check_model(labels[cat], LABEL, "torrents/categories[%s]" % cat)
        assert labels[cat]["name"] == cat and labels[cat]["savePath"] == ""
    # TestPrioritySupport: queueing_enabled decides whether "First" priority is allowed
    assert arr2.get_config()["queueing_enabled"] is True
    # TestGetTorrents
    assert isinstance(arr2.get_torrents(), list)
    # GetStatus: the output folder is save_path (category without a save path)
    assert os.path.isabs(cfg["save_path"])
    assert os.path.normpath(cfg["save_path"]) == os.path.normpath(td.save_path)


def test_removes_completed_semantics(td, arr):
    """RemovesCompletedDownloads reads max_ratio_enabled, max_seeding_time(_enabled)
    and max_ratio_act with qBittorrent's meaning (1 Remove, 3 DeleteFiles)."""
    cfg0 = arr.get_config()
    try:
        td.set_prefs({"max_ratio_enabled": True, "max_ratio": 2.5, "max_ratio_act": 1})
        cfg = arr.get_config()
        _check_model(cfg, PREFS, "app/preferences")
        assert cfg["max_ratio"] == 2.5 and cfg["max_ratio_act"] == 1 and _removes_completed(cfg)
        td.set_prefs({"max_ratio_enabled": False, "max_seeding_time_enabled": True,
                      "max_seeding_time": 60, "max_ratio_act": 3})
        cfg = arr.get_config()
        assert cfg["max_seeding_time"] == 60 and _removes_completed(cfg)
        td.set_prefs({"max_ratio_act": 0})
        assert not _removes_completed(arr.get_config())
    finally:
        td.set_prefs({k: cfg0[k] for k in ("max_ratio_enabled", "max_ratio", "max_ratio_act",
                                           "max_seeding_time_enabled", "max_seeding_time")})


def test_grab_file_complete_import_remove(td, arr):
    """A grab of a .torrent whose data is already there: multipart add with
    Sonarr's options, the properties poll, topPrio, GetItems until Completed,
    the output path from content_path, post-import category, removal."""
    a1, a2 = os.urandom(40000), os.urandom(30001)
    _write(os.path.join(td.save_path, "Show.S01E01", "show.s01e01.mkv"), a1)
    _write(os.path.join(td.save_path, "Show.S01E01", "Sample", "sample.mkv"), a2)
    tb, h = make_torrent({"name": "Show.S01E01", "piece length": PL, "pieces": piece_hashes(a1 + a2, PL),
                          "files": [{"length": len(a1), "path": ["show.s01e01.mkv"]},
                                    {"length": len(a2), "path": ["Sample", "sample.mkv"]}]},
                         announce=TRACKER)
    # Client.AddFromTorrentFile: seed criteria go with the add (API >= 2.8.1)
    r = arr.add_from_file("Show.S01E01.torrent", tb, seed={"ratio": 1.5, "seed_minutes": 1440},
                          initial_state="Start", sequential=True, first_last=True, layout="Original")
    assert r.status_code == 200 and r.text == "Ok."
    # Client.WaitForTorrent: must be visible within 10 x 100 ms
    assert arr.wait_for_torrent(h.upper())
    _check_model(arr.get_properties(h), PROPERTIES, "torrents/properties")
    # RecentTvPriority = First: topPrio (200, or 409 when queueing is off)
    assert arr.move_to_top(h) == 200
    # Sonarr "add series tags"
    assert arr.add_tags(h, ["sonarr", "hd"]).status_code == 200

    t = _info(arr, h)
    _check_model(t, TORRENT, "torrents/info element")
    assert t["hash"] == h and re.fullmatch(r"[0-9a-f]{40}", t["hash"])
    assert t["category"] == TV and t["name"] == "Show.S01E01" and t["size"] == len(a1) + len(a2)
    assert t["ratio_limit"] == 1.5 and t["seeding_time_limit"] == 1440
    assert t["inactive_seeding_time_limit"] == -2
    assert t["state"] in STATUS, "Sonarr: Unknown download state %r" % t["state"]
    # the "True" values .NET sends are honoured (qBittorrent parses case-insensitively)
    assert t["seq_dl"] is True and t["f_l_piece_prio"] is True
    assert set(t["tags"].split(", ")) == {"sonarr", "hd"}

    # GetItems until the data check is done: Completed with an output path
    t = wait_until(lambda: (lambda x: x if STATUS.get(x["state"]) == "Completed" else None)(_info(arr, h)),
                   30, "Sonarr status Completed")
    # Completed sets RemainingTime to zero itself: eta only has to be an integer
    assert t["progress"] == 1 and t["eta"] >= 0
    assert os.path.normpath(t["save_path"]) == os.path.normpath(td.save_path)
    assert t["content_path"] != t["save_path"], "Sonarr would warn DownloadClientQbittorrentTorrentStatePathError"
    assert os.path.normpath(t["content_path"]) == os.path.join(os.path.normpath(td.save_path), "Show.S01E01")
    assert os.path.isdir(t["content_path"])
    # not removable yet: ratio 0 < 1.5, and not stopped
    cfg = arr.get_config()
    assert not (t["state"] in ("pausedUP", "stoppedUP") and _has_reached_ratio(t, cfg))
    # HasReachedSeedingTimeLimit: seeding_time from properties (list lacks it)
    props = arr.get_properties(h)
    _check_model(props, PROPERTIES, "torrents/properties")
    assert 0 <= props["seeding_time"] < 1440 * 60
    # GetImportItem (API < 2.6.1 only): files[0].name and properties.save_path
    files = arr.get_files(h)
    assert [f["name"] for f in files] == ["Show.S01E01/show.s01e01.mkv", "Show.S01E01/Sample/sample.mkv"]
    for f in files:
        _check_model(f, FILE, "torrents/files element")

    # MarkItemAsImported: post-import category (created by the connection test)
    if TV_IMPORTED not in arr.get_labels():
        arr.add_label(TV_IMPORTED)
    assert arr.set_torrent_label(h, TV_IMPORTED).status_code == 200
    assert _info(arr, h) is None      # no longer in Sonarr's category filter
    with pytest.raises(HttpError) as e:     # "Does the label exist?"
        arr.set_torrent_label(h, "no-such-category")
    assert e.value.status == 409
    arr.set_torrent_label(h, TV)

    # RemoveItem without data: deleteFiles omitted (qBittorrent 4.x/5.x treat it as false)
    assert arr.remove_torrent(h, False).status_code == 200
    wait_until(lambda: _info(arr, h) is None, 10, "torrent removed")
    assert os.path.isfile(os.path.join(td.save_path, "Show.S01E01", "show.s01e01.mkv"))
    assert not arr.is_torrent_loaded(h)


def test_share_limits_reached_then_remove_with_data(td, arr):
    """Seed criteria: at API >= 2.8.1 they go with torrents/add (ratio 0 is
    reached at once, so qBittorrent stops the torrent, max_ratio_act 0 = Stop,
    and Radarr may remove it). SetTorrentSeedingConfiguration (two limits,
    for API < 2.8.1 only) gets qBittorrent 5.1's 400: it requires
    inactiveSeedingTimeLimit; Radarr would only log a warning."""
    data = os.urandom(33333)
    _write(os.path.join(td.save_path, "Movie.2024.mkv"), data)
    tb, h = _single("Movie.2024.mkv", data)
    radarr = ArrProxy(td.base, category="radarr", app="Radarr/5.28.0.10274")
    radarr.add_from_file("Movie.2024.torrent", tb, seed={"ratio": 0}, initial_state="Start")
    assert radarr.wait_for_torrent(h)
    with pytest.raises(HttpError) as e:
        radarr.set_seeding_configuration(h, ratio=0)
    assert e.value.status == 400
    t = _info(radarr, h)
    _check_model(t, TORRENT, "torrents/info element")
    assert t["ratio_limit"] == 0 and t["seeding_time_limit"] == -2 and t["category"] == "radarr"
    cfg = radarr.get_config()
    assert cfg["max_ratio_act"] == 0
    t = wait_until(lambda: (lambda x: x if x["state"] == "stoppedUP" else None)(_info(radarr, h)),
                   30, "stoppedUP at ratio 0")
    # item.CanBeRemoved: stopped/paused UP and the limit reached
    assert t["state"] in ("pausedUP", "stoppedUP") and _has_reached_ratio(t, cfg)
    # single file: content_path is the file itself
    assert os.path.normpath(t["content_path"]) == os.path.join(os.path.normpath(td.save_path), "Movie.2024.mkv")
    # RemoveItem with data
    assert radarr.remove_torrent(h, True).status_code == 200
    wait_until(lambda: not os.path.exists(os.path.join(td.save_path, "Movie.2024.mkv")), 10, "data deleted")
    assert _info(radarr, h) is None


def test_grab_magnet_stopped(td, arr):
    """Client.AddFromMagnetLink: a magnet with &tr= (DHT is off here), InitialState
    Stop -> stopped=True; the torrent without metadata answers properties
    (WaitForTorrent) and is reported stoppedDL (Paused)."""
    cfg = arr.get_config()
    assert cfg["dht"] is False       # so Sonarr insists on &tr= in the magnet
    h = "0123456789abcdef0123456789abcdef01234567"
    magnet = "magnet:?xt=urn:btih:%s&dn=Show.S02E03&tr=%s" % (h.upper(), urllib.parse.quote(TRACKER, safe=""))
    r = arr.add_from_url(magnet, seed={"seed_minutes": 30}, initial_state="Stop")
    assert r.text == "Ok."
    assert arr.wait_for_torrent(h)
    _check_model(arr.get_properties(h), PROPERTIES, "torrents/properties (no metadata)")
    t = _info(arr, h)
    _check_model(t, TORRENT, "torrents/info element (no metadata)")
    assert t["state"] == "stoppedDL" and STATUS[t["state"]] == "Paused"
    assert t["eta"] == 8640000 and t["seeding_time_limit"] == 30 and t["ratio_limit"] == -2
    assert t["category"] == TV
    # InitialState ForceStart: add without stopped/paused, then setForceStart
    assert arr.set_force_start(h, True).status_code == 200
    t = _info(arr, h)
    assert t["force_start"] is True and t["state"] in ("forcedMetaDL", "metaDL", "forcedDL"), t["state"]
    assert STATUS[t["state"]] in ("Queued", "Downloading")
    assert arr.remove_torrent(h, True).status_code == 200
    wait_until(lambda: _info(arr, h) is None, 10, "magnet removed")


def test_grab_older_api_names(td, arr):
    """Sonarr/Radarr builds from before the 5.x rename (API < 2.11.0) send
    paused=True; torrentd keeps the 4.x name working too."""
    data = os.urandom(20000)
    tb, h = _single("Old.Client.Grab.mkv", data)
    form = [("category", TV), ("paused", True), ("sequentialDownload", True)]
    r = arr.process("POST", "/api/v2/torrents/add", form=form, files=[("torrents", "old.torrent", tb)])
    assert r.text == "Ok."
    assert arr.wait_for_torrent(h)
    t = _info(arr, h)
    assert t["state"] == "stoppedDL" and t["seq_dl"] is True
    arr.remove_torrent(h, True)


def test_duplicate_and_bad_add(td, arr):
    """Only the body "Fails." is a failure for Sonarr: a duplicate or a file
    that is not a torrent must say so in the body."""
    data = os.urandom(20000)
    tb, h = _single("Dup.mkv", data)
    arr.add_from_file("dup.torrent", tb, initial_state="Stop")
    assert arr.wait_for_torrent(h)
    r = arr.process("POST", "/api/v2/torrents/add", form=[("category", TV)], files=[("torrents", "dup.torrent", tb)])
    assert r.text == "Fails."
    with pytest.raises(HttpError) as e:
        arr.process("POST", "/api/v2/torrents/add", form=[("category", TV)],
                    files=[("torrents", "junk.torrent", b"this is not bencode")])
    assert e.value.status == 415      # qBittorrent 5.1: "Torrent file is not valid."
    arr.remove_torrent(h, True)


def test_topprio_queueing_off_is_409(td, arr):
    """MoveTorrentToTopInQueue tolerates exactly 409 when queueing is off."""
    data = os.urandom(20000)
    tb, h = _single("Prio.mkv", data)
    arr.add_from_file("prio.torrent", tb, initial_state="Stop")
    assert arr.wait_for_torrent(h)
    td.set_prefs({"queueing_enabled": False})
    try:
        assert arr.get_config()["queueing_enabled"] is False
        assert arr.move_to_top(h) == 409
    finally:
        td.set_prefs({"queueing_enabled": True})
    arr.remove_torrent(h, True)


def test_properties_unknown_hash_404(td, arr):
    """WaitForTorrent / IsTorrentLoaded: an unknown hash is an error (404)."""
    with pytest.raises(HttpError) as e:
        arr.process("GET", "/api/v2/torrents/properties", query=[("hash", "ab" * 20)])
    assert e.value.status == 404
    assert arr.is_torrent_loaded("ab" * 20) is False


def test_category_with_space_and_unicode(td):
    """Categories are free text in Sonarr's settings: createCategory (form,
    Uri.EscapeDataString), add with it, torrents/info?category= (query) and
    categories (JSON keys) must agree on the exact name."""
    cat = "TV Shows ü+&="
    arr = ArrProxy(td.base, category=cat)
    arr.add_label(cat)
    labels = arr.get_labels()
    assert cat in labels and labels[cat]["name"] == cat
    data = os.urandom(20000)
    tb, h = _single("Unicode.Category.mkv", data)
    arr.add_from_file("u.torrent", tb, initial_state="Stop")
    assert arr.wait_for_torrent(h)
    t = _info(arr, h)
    assert t is not None and t["category"] == cat
    arr.remove_torrent(h, True)
