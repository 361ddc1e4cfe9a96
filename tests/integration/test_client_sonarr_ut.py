"""Sonarr's µTorrent download client replayed against torrentd's /gui/.

Read from Sonarr/Sonarr 49df353 (2026-06-21), src/NzbDrone.Core/Download/
Clients/uTorrent/: UTorrentProxy.cs ("Proxy"), UTorrent.cs ("Client"),
UTorrentTorrent.cs (the positional row converter), UTorrentResponse.cs,
UTorrentTorrentStatus.cs; Radarr, Lidarr and their forks carry the same.
../shared/docs/clients-wave2.md §1.4.

What is replayed, as Sonarr runs it (no .NET here):
- the transport: GET {base}/gui/ with Cache-Control: no-cache, Accept:
  application/json, preemptive Basic (BasicNetworkCredential); the token
  from /gui/token.html read with XmlDocument.LoadXml and
  FirstChild.FirstChild.InnerText; the cookies of that reply kept by hand;
  `token` added as the FIRST query parameter; on HTTP 400 or 401 one new
  token and the request again (a stale token is 400, as in µTorrent);
- the JSON: UTorrentResponse through Newtonsoft, and each torrent row
  through UTorrentTorrentJsonConverter, replayed token by token (ReadAsInt32
  wants int32, sizes are read as Int64 integers, [19] is cast to string,
  the reader walks [19]..[28] and then to the row's end), so a row that
  would throw or desynchronise the reader in Sonarr fails here;
- the client: GetTorrents with the cache id (full list, or the cached rows
  minus torrentm and torrentp plus torrentp), GetItems' filter on the label
  and its status derivation (Error > Completed = Loaded+Checked, remaining 0,
  progress 1000 > Paused > Started > Queued), the output path from [26],
  CanBeRemoved (neither Queued nor Started), the adds with their follow-up
  calls (setprops seed_override/seed_ratio/seed_time, setprops label,
  queuetop, start|forcestart|pause|stop), MarkItemAsImported (the new label,
  then s=label&v=<old>&s=label&v= to remove the old one), RemoveItem
  (remove|removedata with the hash as listed), GetStatus from getsettings.
A grab is downloaded for real from a rate-limited seeder found through a
tracker on loopback, and the state Sonarr derives is checked at every poll.
"""
import base64
import os
import re
import time
import urllib.parse
import xml.dom.minidom

import pytest
import requests

from conftest import LEECH_IP, SEED_IP
from tdlib import PASSWORD, USER, Torrentd, Tracker, make_torrent, piece_hashes, wait_until

PL = 16384
TV = "tv-sonarr"
TV_IMPORTED = "tv-imported"
INT32 = (-2 ** 31, 2 ** 31 - 1)
INT64 = (-2 ** 63, 2 ** 63 - 1)

# UTorrentTorrentStatus
STARTED, CHECKING, START_AFTER_CHECK, CHECKED, ERROR, PAUSED, QUEUED, LOADED = 1, 2, 4, 8, 16, 32, 64, 128


class HttpError(Exception):
    def __init__(self, r):
        super().__init__("%s %s -> %d %r" % (r.request.method, r.url, r.status_code, r.text[:200]))
        self.status = r.status_code


class AuthError(Exception):
    pass


class ConverterError(Exception):
    """What Newtonsoft or UTorrentTorrentJsonConverter would throw."""


# ---- Newtonsoft, as far as UTorrentResponse needs it -------------------------

def _tokens(v):
    """A parsed JSON array as the token stream JsonReader walks."""
    if isinstance(v, list):
        out = [("start", None)]
        for x in v:
            out += _tokens(x)
        return out + [("end", None)]
    if isinstance(v, dict):
        return [("object", v)]
    return [("val", v)]


class Reader:
    def __init__(self, tokens):
        self.t, self.i = tokens, -1

    def read(self):
        self.i += 1
        if self.i >= len(self.t):
            raise ConverterError("unexpected end of JSON")
        return self.t[self.i]

    def read_as_int32(self, what):
        kind, v = self.read()
        if kind != "val" or isinstance(v, (bool, float)) or v is None:
            raise ConverterError("%s: ReadAsInt32 on %s %r" % (what, kind, v))
        if isinstance(v, str):
            if not re.fullmatch(r"[+-]?[0-9]+", v.strip()):
                raise ConverterError("%s: %r is not a valid integer" % (what, v))
            v = int(v)
        if not INT32[0] <= v <= INT32[1]:
            raise ConverterError("%s: %d is too large or small for an Int32" % (what, v))
        return v

    def read_as_string(self, what):
        kind, v = self.read()
        if kind != "val":
            raise ConverterError("%s: ReadAsString on %s" % (what, kind))
        if v is None or isinstance(v, str):
            return v
        if isinstance(v, bool):
            raise ConverterError("%s: ReadAsString on a boolean" % what)
        return str(v)

    def read_int64(self, what):
        # reader.Read(); (long)reader.Value -- only an Int64 integer casts
        kind, v = self.read()
        if kind != "val" or not isinstance(v, int) or isinstance(v, bool) or not INT64[0] <= v <= INT64[1]:
            raise ConverterError("%s: (long)Value of %s %r" % (what, kind, v))
        return v

    def value(self):
        kind, v = self.read()
        return v if kind == "val" else None


def convert_row(rd):
    """UTorrentTorrentJsonConverter.ReadJson, the reader on the row's StartArray."""
    t = {}
    t["Hash"] = rd.read_as_string("[0] hash")
    t["Status"] = rd.read_as_int32("[1] status")
    t["Name"] = rd.read_as_string("[2] name")
    t["Size"] = rd.read_int64("[3] size")
    t["Progress"] = rd.read_as_int32("[4] progress") / 1000.0
    t["Downloaded"] = rd.read_int64("[5] downloaded")
    t["Uploaded"] = rd.read_int64("[6] uploaded")
    t["Ratio"] = rd.read_as_int32("[7] ratio") / 1000.0
    t["UploadSpeed"] = rd.read_as_int32("[8] upload speed")
    t["DownloadSpeed"] = rd.read_as_int32("[9] download speed")
    t["Eta"] = rd.read_as_int32("[10] eta")
    t["Label"] = rd.read_as_string("[11] label")
    for i, k in enumerate(("PeersConnected", "PeersInSwarm", "SeedsConnected", "SeedsInSwarm"), 12):
        t[k] = rd.read_as_int32("[%d] %s" % (i, k))
    t["Availability"] = rd.read_as_int32("[16] availability") / 65536.0
    t["TorrentQueueOrder"] = rd.read_as_int32("[17] queue order")
    t["Remaining"] = rd.read_int64("[18] remaining")
    kind, v = rd.read()
    t["RootDownloadPath"] = None
    if kind != "end":                                   # builds >= 25406 send the rest
        if not (v is None or isinstance(v, str)) or kind != "val":
            raise ConverterError("[19] download url: (string)Value of %s %r" % (kind, v))
        t["DownloadUrl"] = v
        for k in ("RssFeedUrl", "StatusMessage", "StreamId", "DateAdded", "DateCompleted", "AppUpdateUrl"):
            t[k] = rd.value()
        t["RootDownloadPath"] = rd.read_as_string("[26] root download path")
        rd.value()                                      # [27]
        rd.value()                                      # [28]
        while rd.t[rd.i][0] != "end":
            rd.read()
    return t


def convert_rows(rows, what):
    """List<UTorrentTorrent> deserialized: the list reads a token, hands the
    reader to the converter, reads the next token, until its own EndArray."""
    if rows is None:
        return None
    if not isinstance(rows, list):
        raise ConverterError("%s is not an array" % what)
    rd = Reader(_tokens(rows))
    rd.read()                                           # the list's StartArray
    out = []
    while True:
        kind, _ = rd.read()
        if kind == "end":
            break
        out.append(convert_row(rd))
    if rd.i != len(rd.t) - 1:
        raise ConverterError("%s: the reader stopped inside the list" % what)
    if len(out) != len(rows):
        raise ConverterError("%s: %d rows read from %d" % (what, len(out), len(rows)))
    return out


def deserialize(text):
    """Json.Deserialize<UTorrentResponse>(response.Content)."""
    import json
    j = json.loads(text)
    b = j.get("build", 0)
    if not isinstance(b, int) or isinstance(b, bool) or not INT32[0] <= b <= INT32[1]:
        raise ConverterError("build: %r is not an Int32" % b)
    labels = j.get("label")
    if labels is not None:
        labels = [[None if x is None else str(x) for x in lb] for lb in labels]     # List<string[]>
    removed = j.get("torrentm")
    if removed is not None and not all(isinstance(x, str) for x in removed):
        raise ConverterError("torrentm: List<string> %r" % removed)
    cid = j.get("torrentc")
    settings = j.get("settings")
    return {"Build": b, "Torrents": convert_rows(j.get("torrents"), "torrents"), "Label": labels,
            "TorrentsChanged": convert_rows(j.get("torrentp"), "torrentp"), "TorrentsRemoved": removed,
            "CacheNumber": None if cid is None else str(cid), "Settings": settings}


def dotnet_token(content):
    """XmlDocument.LoadXml(content).FirstChild.FirstChild.InnerText: the
    first node must be the element (no declaration, DOCTYPE or comment
    first), its first child the token holder; insignificant whitespace is
    dropped (PreserveWhitespace is false)."""
    s = content.lstrip(" \t\r\n")
    assert not s.startswith("<?") and not s.startswith("<!"), \
        "FirstChild would be a declaration/DOCTYPE/comment, FirstChild.FirstChild null: %r" % content[:80]
    doc = xml.dom.minidom.parseString(content)           # throws on XML that is not well-formed
    kids = [n for n in doc.documentElement.childNodes
            if not (n.nodeType == n.TEXT_NODE and not n.data.strip())]
    assert kids, "FirstChild.FirstChild is null"

    def text(n):
        return n.data if n.nodeType in (n.TEXT_NODE, n.CDATA_SECTION_NODE) else "".join(text(c) for c in n.childNodes)
    return text(kids[0])


# ---- UTorrentProxy ----------------------------------------------------------

class UtProxy:
    def __init__(self, base, username=USER, password=PASSWORD):
        self.base, self.username, self.password = base, username, password
        self.cookies, self.token = None, None              # _authCookieCache, _authTokenCache
        self.token_fetches = 0
        self.s = requests.Session()
        self.s.trust_env = False
        cred = base64.b64encode(("%s:%s" % (username, password)).encode()).decode()
        self.s.headers.clear()
        self.s.headers.update({"User-Agent": "Sonarr/4.0.15.2941 (debian 12)", "Accept-Encoding": "gzip, br",
                               "Connection": "keep-alive", "Cache-Control": "no-cache",
                               "Accept": "application/json", "Authorization": "Basic " + cred})

    def _send(self, method, path, query, files=None):
        url = self.base + path
        if query:
            url += "?" + "&".join("%s=%s" % (k, urllib.parse.quote(str(v), safe="")) for k, v in query)
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        body = None
        if files:
            boundary = "-----------------------------" + "%014x" % int(time.time() * 1e7)
            body = b""
            for name, fn, data in files:
                body += ('--%s\r\nContent-Disposition: form-data; name="%s"; filename="%s"\r\n'
                         "Content-Type: application/octet-stream\r\n\r\n" % (boundary, name, fn)).encode()
                body += data + b"\r\n"
            body += ("--%s--\r\n" % boundary).encode()
            headers["Content-Type"] = "multipart/form-data; boundary=" + boundary
        r = self.s.request(method, url, data=body, headers=headers, timeout=30, allow_redirects=False)
        self.s.cookies.clear()
        return r

    def authenticate(self, reauthenticate=False):
        if self.cookies is not None and self.token is not None and not reauthenticate:
            return
        self.cookies = self.token = None
        r = self._send("GET", "/gui/token.html", None)
        self.token_fetches += 1
        if r.status_code == 401:
            raise AuthError("Failed to authenticate with uTorrent.")
        if r.status_code >= 400:
            raise HttpError(r)
        token = dotnet_token(r.text)
        cookies = {}
        for sc in r.raw.headers.getlist("Set-Cookie"):
            m = re.match(r"^(.*?)=(.*?)(?:;|$)", sc)
            if m:
                cookies[m.group(1)] = m.group(2)
        self.cookies, self.token = cookies, token

    def process(self, query, method="GET", files=None):
        """ProcessRequest: token first; 400/401 -> new token, once."""
        self.authenticate()
        r = self._send(method, "/gui/", [("token", self.token)] + query, files)
        if r.status_code in (400, 401):
            self.authenticate(reauthenticate=True)
            r = self._send(method, "/gui/", [("token", self.token)] + query, files)
        if r.status_code >= 400:
            raise HttpError(r)
        return deserialize(r.text)

    def get_version(self):
        return self.process([("action", "getsettings")])["Build"]

    def get_config(self):
        res = self.process([("action", "getsettings")])
        cfg = {}
        for item in res["Settings"]:
            # configItem[0].ToString() -> configItem[2].ToString(): a JSON
            # bool would become "True", never the "true" GetStatus compares with
            v = item[2]
            cfg[str(item[0])] = ("True" if v else "False") if isinstance(v, bool) else str(v)
        return cfg

    def get_torrents(self, cache_id):
        q = [("list", 1)] + ([("cid", cache_id)] if cache_id else [])
        return self.process(q)

    def add_from_url(self, url):
        self.process([("action", "add-url"), ("s", url)])

    def add_from_file(self, filename, content):
        self.process([("action", "add-file"), ("path", "")], "POST", [("torrent_file", filename, content)])

    def set_seeding(self, h, ratio=None, seed_seconds=None, configured=True):
        if not configured:                              # seedConfiguration == null
            return
        q = [("action", "setprops"), ("hash", h), ("s", "seed_override"), ("v", 1)]
        if ratio is not None:
            q += [("s", "seed_ratio"), ("v", int(round(ratio * 1000)))]
        if seed_seconds is not None:
            q += [("s", "seed_time"), ("v", int(seed_seconds))]
        self.process(q)

    def remove(self, h, remove_data):
        self.process([("action", "removedata" if remove_data else "remove"), ("hash", h)])

    def set_label(self, h, label):
        self.process([("action", "setprops"), ("hash", h), ("s", "label"), ("v", label)])

    def remove_label(self, h, label):
        self.process([("action", "setprops"), ("hash", h), ("s", "label"), ("v", label), ("s", "label"), ("v", "")])

    def move_to_top(self, h):
        self.process([("action", "queuetop"), ("hash", h)])

    def set_state(self, h, state):
        self.process([("action", state.lower()), ("hash", h)])


# ---- UTorrent (the client) ----------------------------------------------------

class Sonarr:
    def __init__(self, proxy, category=TV, imported=TV_IMPORTED, recent_first=True, initial_state="Start",
                 remove_completed=True):
        self.p, self.category, self.imported = proxy, category, imported
        self.recent_first, self.initial_state, self.remove_completed = recent_first, initial_state, remove_completed
        self.cache = None            # UTorrentTorrentCache: {"CacheID", "Torrents"}
        self.last = None             # the last response (for the tests)

    def _follow_up(self, h, seed):
        self.p.set_seeding(h, **seed) if seed else self.p.set_seeding(h, configured=False)
        if self.category:
            self.p.set_label(h, self.category)
        if self.recent_first:
            self.p.move_to_top(h)
        self.p.set_state(h, self.initial_state)

    def add_file(self, filename, content, h, seed=None):
        self.p.add_from_file(filename, content)
        self._follow_up(h, seed)

    def add_magnet(self, magnet, h, seed=None):
        self.p.add_from_url(magnet)
        self._follow_up(h, seed)

    def get_torrents(self):
        res = self.p.get_torrents(self.cache["CacheID"] if self.cache else None)
        self.last = res
        if self.cache is not None and res["Torrents"] is None:
            gone = {t["Hash"] for t in res["TorrentsChanged"]} | set(res["TorrentsRemoved"])
            torrents = [t for t in self.cache["Torrents"] if t["Hash"] not in gone] + res["TorrentsChanged"]
        else:
            torrents = res["Torrents"]
        self.cache = {"CacheID": res["CacheNumber"], "Torrents": torrents}
        return torrents

    def get_items(self):
        items = []
        for t in self.get_torrents():
            if t["Label"] != self.category:
                continue
            st = t["Status"]
            root = t["RootDownloadPath"] or ""
            out = root if os.path.basename(root.rstrip("/")) == t["Name"] else os.path.join(root, t["Name"])
            if st & ERROR:
                status = "Warning"
            elif st & LOADED and st & CHECKED and t["Remaining"] == 0 and t["Progress"] == 1.0:
                status = "Completed"
            elif st & PAUSED:
                status = "Paused"
            elif st & STARTED:
                status = "Downloading"
            else:
                status = "Queued"
            items.append({"DownloadId": t["Hash"], "Title": t["Name"], "TotalSize": t["Size"],
                          "Category": t["Label"], "RemainingSize": t["Remaining"], "SeedRatio": t["Ratio"],
                          "RemainingTime": None if t["Eta"] == -1 else t["Eta"], "OutputPath": out,
                          "Status": status, "StatusBits": st,
                          "CanBeRemoved": self.remove_completed and not st & QUEUED and not st & STARTED})
        return items

    def item(self, h):
        for it in self.get_items():
            if it["DownloadId"].lower() == h.lower():
                return it
        return None

    def get_status(self):
        cfg = self.p.get_config()
        dest = None
        if cfg.get("dir_active_download_flag") == "true":
            dest = cfg.get("dir_active_download")
        if cfg.get("dir_completed_download_flag") == "true":
            dest = cfg.get("dir_completed_download")
            if cfg.get("dir_add_label") == "true":
                dest = os.path.join(dest, self.category)
        return {"OutputRootFolders": [dest] if dest else None}

    def test(self):
        """Client.Test: TestConnection (build >= 25406), TestGetTorrents."""
        if self.p.get_version() < 25406:
            return "Old uTorrent client with unsupported API, need 3.0 or higher"
        self.p.get_torrents(None)
        return None

    def mark_imported(self, item):
        if self.imported and self.imported != self.category:
            self.p.set_label(item["DownloadId"].lower(), self.imported)
            if self.category:
                self.p.remove_label(item["DownloadId"].lower(), self.category)

    def remove(self, item, delete_data):
        self.p.remove(item["DownloadId"], delete_data)


def full_rows(proxy):
    """A fresh full list (no cid), by hash."""
    return {t["Hash"]: t for t in proxy.get_torrents(None)["Torrents"]}


def _write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


@pytest.fixture(scope="module")
def td(module_procs, tmp_path_factory):
    d = str(tmp_path_factory.mktemp("sonarr-ut"))
    t = module_procs.add(Torrentd(os.path.join(d, "td"), LEECH_IP)).start()
    t.set_prefs({"queueing_enabled": True})
    return t


@pytest.fixture
def proxy(td):
    return UtProxy(td.base)


@pytest.fixture(scope="module")
def swarm(module_procs, tmp_path_factory):
    """A tracker and a seeder (upload limited, so a download takes seconds)
    with two torrents: a season pack and a single file."""
    d = str(tmp_path_factory.mktemp("sonarr-ut-swarm"))
    ep, sample, single = os.urandom(1 << 20), os.urandom(200001), os.urandom(3 * PL + 5)
    seed_dir = os.path.join(d, "seed-data")
    _write(os.path.join(seed_dir, "Show.S02E01", "show.s02e01.mkv"), ep)
    _write(os.path.join(seed_dir, "Show.S02E01", "Sample", "sample.mkv"), sample)
    _write(os.path.join(seed_dir, "Blocked.S02E02.mkv"), single)
    infos = {"pack": {"name": "Show.S02E01", "piece length": PL, "pieces": piece_hashes(ep + sample, PL),
                      "files": [{"length": len(ep), "path": ["show.s02e01.mkv"]},
                                {"length": len(sample), "path": ["Sample", "sample.mkv"]}]},
             "single": {"name": "Blocked.S02E02.mkv", "piece length": PL, "length": len(single),
                        "pieces": piece_hashes(single, PL)}}
    hashes = {k: make_torrent(v)[1] for k, v in infos.items()}
    tracker = module_procs.add(Tracker(os.path.join(d, "tracker"))).start(list(hashes.values()))
    seeder = module_procs.add(Torrentd(os.path.join(d, "seeder"), SEED_IP)).start()
    seeder.post("/api/v2/transfer/setUploadLimit", limit=str(256 * 1024))
    out = {"seeder": seeder, "tracker": tracker, "data": {"ep": ep, "sample": sample, "single": single}}
    for k, info in infos.items():
        tb, h = make_torrent(info, announce=tracker.announce)
        seeder.add(tb, seed_dir, skip_checking=True)
        out[k] = (tb, h)
    wait_until(lambda: all(tracker.seeders(h) >= 1 for h in hashes.values()), 20, "the seeder announced",
               procs=[seeder, tracker])
    return out


def test_challenge_token_and_reauth(td, proxy):
    # no credentials: the challenge older builds' NetworkCredential answers
    r = requests.get(td.base + "/gui/token.html", timeout=10)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == 'Basic realm="uTorrent"'
    # TestConnection + TestGetTorrents
    sonarr = Sonarr(proxy)
    assert sonarr.test() is None
    assert proxy.token_fetches == 1 and re.fullmatch(r"[A-Za-z0-9_-]{16,}", proxy.token)
    assert "GUID" in proxy.cookies
    # a wrong password: 401 on token.html -> DownloadClientAuthenticationException
    with pytest.raises(AuthError):
        UtProxy(td.base, password="wrong").get_version()
    # a stale token (the server restarted, the cache lived on): 400, one
    # new token.html, the same request again
    proxy.token = "0" * len(proxy.token)
    assert proxy.get_version() >= 25406
    assert proxy.token_fetches == 2
    # a stale GUID with a valid token still works (token is the credential)
    proxy.cookies = {"GUID": "stale"}
    assert proxy.get_version() >= 25406 and proxy.token_fetches == 2


def test_get_status_from_settings(td, proxy):
    """GetStatus: the dir_* keys compared with the string "true" (a JSON bool
    would read "True" through object.ToString()), the output root from them."""
    raw = proxy.process([("action", "getsettings")])["Settings"]
    assert raw and all(isinstance(item[0], str) and isinstance(item[2], str) for item in raw)
    cfg = proxy.get_config()
    for k in ("dir_active_download_flag", "dir_active_download", "dir_completed_download_flag",
              "dir_completed_download", "dir_add_label"):
        assert k in cfg, k
    assert cfg["dir_active_download_flag"] in ("true", "false")
    st = Sonarr(proxy).get_status()
    assert st["OutputRootFolders"] and os.path.normpath(st["OutputRootFolders"][0]) == os.path.normpath(td.save_path)


def test_grab_download_import_remove(td, proxy, swarm):
    """AddFromTorrentFile with seed criteria, label, RecentTvPriority First and
    InitialState Start; downloaded for real; GetItems at every poll through
    the cid cache (the merged cache matches a fresh full list); Completed with
    the output path; pause -> removable; MarkItemAsImported; RemoveItem."""
    tb, h = swarm["pack"]
    H = h.upper()                          # MonoTorrent's ToHex: upper case
    sonarr = Sonarr(proxy)
    sonarr.add_file("Show.S02E01.torrent", tb, H, seed={"ratio": 1.5, "seed_seconds": 86400})
    t = td.torrent(h)
    assert t["category"] == TV and t["ratio_limit"] == 1.5 and t["seeding_time_limit"] == 1440
    assert t["priority"] == 1 and not t["state"].startswith("stopped")
    total = len(swarm["data"]["ep"]) + len(swarm["data"]["sample"])
    seen, cid_polls = [], 0

    def completed():
        nonlocal cid_polls
        it = sonarr.item(h)
        assert it is not None, "the grab left Sonarr's category"
        seen.append(it)
        if sonarr.last["Torrents"] is None:
            cid_polls += 1
        return it if it["Status"] == "Completed" else None
    done = wait_until(completed, 60, "Sonarr status Completed", interval=0.2, procs=[td, swarm["seeder"]])
    assert cid_polls >= len(seen) - 1, "the cid was not honoured: full lists instead of deltas"
    for it in seen:
        assert (it["DownloadId"], it["Title"], it["TotalSize"], it["Category"]) == (H, "Show.S02E01", total, TV)
        assert it["Status"] in ("Queued", "Downloading", "Completed"), it
    mid = [it for it in seen if it["Status"] == "Downloading" and 0 < it["RemainingSize"] < total]
    assert mid, "never saw the download in progress: %r" % [(i["StatusBits"], i["RemainingSize"]) for i in seen]
    assert all(it["StatusBits"] & (STARTED | LOADED | CHECKED) == STARTED | LOADED | CHECKED for it in mid)
    assert any(isinstance(it["RemainingTime"], int) and it["RemainingTime"] >= 0 for it in mid)
    sizes = [it["RemainingSize"] for it in seen]
    assert sizes == sorted(sizes, reverse=True), "remaining went up: %r" % sizes
    # the merged cache is what a full list says
    full = full_rows(proxy)
    merged = {t["Hash"]: t for t in sonarr.cache["Torrents"]}
    assert set(merged) == set(full)
    for k in ("Name", "Size", "Label", "Status", "Progress", "Remaining", "RootDownloadPath"):
        assert merged[H][k] == full[H][k], k

    # Completed: output path [26] + name, the data there; seeding under the queue: not removable
    assert done["RemainingSize"] == 0 and done["CanBeRemoved"] is False
    out = done["OutputPath"]
    assert os.path.normpath(out) == os.path.join(os.path.normpath(td.save_path), "Show.S02E01")
    with open(os.path.join(out, "show.s02e01.mkv"), "rb") as f:
        assert f.read() == swarm["data"]["ep"]
    with open(os.path.join(out, "Sample", "sample.mkv"), "rb") as f:
        assert f.read() == swarm["data"]["sample"]
    # stopped (torrentd's pause is a stop: 136): still Completed, now removable
    proxy.set_state(H, "Pause")
    it = sonarr.item(h)
    assert it["StatusBits"] == LOADED | CHECKED and it["Status"] == "Completed" and it["CanBeRemoved"] is True
    proxy.set_state(H, "Start")
    assert sonarr.item(h)["StatusBits"] & STARTED

    # MarkItemAsImported: label tv-imported, then s=label&v=tv-sonarr&s=label&v=
    # (pairs in order, the last wins): the grab leaves Sonarr's queue
    sonarr.mark_imported(done)
    assert sonarr.item(h) is None
    assert td.torrent(h)["category"] == ""
    # RemoveItem with the hash as listed (upper case), data kept
    sonarr.remove(done, False)
    wait_until(lambda: td.torrent(h) is None, 10, "torrent removed")
    assert os.path.isfile(os.path.join(out, "show.s02e01.mkv"))
    assert H not in full_rows(proxy)
    sonarr.get_torrents()
    assert H in sonarr.last["TorrentsRemoved"], "torrentm must name the removal as the rows do (upper case)"
    assert all(t["Hash"] != H for t in sonarr.cache["Torrents"])


def test_error_is_a_warning(td, proxy, swarm):
    """A write error (a directory where the file goes): the Error bit, which
    Sonarr shows as a Warning before anything else."""
    tb, h = swarm["single"]
    os.makedirs(os.path.join(td.save_path, "Blocked.S02E02.mkv", "in-the-way"))
    sonarr = Sonarr(proxy, recent_first=False)
    sonarr.add_file("Blocked.torrent", tb, h.upper())
    it = wait_until(lambda: (lambda x: x if x and x["Status"] == "Warning" else None)(sonarr.item(h)), 30,
                    "Sonarr status Warning", procs=[td, swarm["seeder"]])
    assert it["StatusBits"] & ERROR
    sonarr.remove(it, True)
    wait_until(lambda: td.torrent(h) is None, 10, "removed")


def test_magnets_initial_states(td, proxy):
    """AddFromMagnetLink with each InitialState (no metadata ever arrives):
    Stop and Pause leave it neither started nor paused in µTorrent's bits
    (torrentd has one stop), so Sonarr says Queued; ForceStart is Started
    without Queued: Downloading; Start under the queue: Downloading.
    No seed criteria: no setprops seed call."""
    states = {"Stop": "Queued", "Pause": "Queued", "ForceStart": "Downloading", "Start": "Downloading"}
    hashes = {}
    for i, (state, want) in enumerate(states.items()):
        h = ("%02x" % (0xa0 + i)) * 20
        magnet = "magnet:?xt=urn:btih:%s&dn=Show.S04E0%d&tr=%s" % (h.upper(), i, "http%3A%2F%2F127.0.0.1%3A9%2Fa")
        sonarr = Sonarr(proxy, initial_state=state, recent_first=(state == "Start"))
        sonarr.add_magnet(magnet, h.upper())
        it = sonarr.item(h)
        assert it is not None and it["Title"] == "Show.S04E0%d" % i, it
        assert it["Status"] == want, (state, it["StatusBits"], it)
        assert it["TotalSize"] == 0 and it["RemainingSize"] == 0
        assert td.torrent(h)["ratio_limit"] == -2
        hashes[h] = it
    assert td.torrent(("%02x" % 0xa2) * 20)["force_start"] is True
    sonarr = Sonarr(proxy)
    for h, it in hashes.items():
        sonarr.remove(it, True)
    wait_until(lambda: all(td.torrent(h) is None for h in hashes), 10, "magnets removed")


def test_cid_deltas_from_other_clients(td, proxy):
    """Changes made elsewhere (another API) reach Sonarr's cached list
    through the cid: an add, a label change, a removal; an unknown cid gets
    the full list, which Sonarr takes as is."""
    def tiny(name):
        data = os.urandom(20000)
        return make_torrent({"name": name, "piece length": PL, "length": len(data),
                             "pieces": piece_hashes(data, PL)}, announce="http://127.0.0.1:9/announce")
    ta, ha = tiny("Delta.A.mkv")
    tb, hb = tiny("Delta.B.mkv")
    if TV not in td.get("/api/v2/torrents/categories").json():
        td.post("/api/v2/torrents/createCategory", category=TV)
    td.add(ta, td.save_path, stopped=True, category=TV)
    td.add(tb, td.save_path, stopped=True, category=TV)
    sonarr = Sonarr(proxy)
    assert {it["DownloadId"] for it in sonarr.get_items()} >= {ha.upper(), hb.upper()}
    tc, hc = tiny("Delta.C.mkv")
    td.add(tc, td.save_path, stopped=True, category=TV)       # added
    td.post("/api/v2/torrents/setCategory", hashes=ha, category="")   # relabelled
    td.delete(hb)                                             # removed
    wait_until(lambda: td.torrent(hb) is None, 10, "B removed")
    ids = {it["DownloadId"] for it in sonarr.get_items()}
    assert sonarr.last["Torrents"] is None, "a delta was expected"
    assert hb.upper() in sonarr.last["TorrentsRemoved"]
    assert hc.upper() in ids and ha.upper() not in ids and hb.upper() not in ids
    assert {t["Hash"]: t["Label"] for t in sonarr.cache["Torrents"]} == \
        {k: v["Label"] for k, v in full_rows(proxy).items()}
    # an unknown cid (another run's): the full list
    sonarr.cache["CacheID"] = "12345"
    sonarr.get_items()
    assert sonarr.last["Torrents"] is not None
    for h in (ha, hc):
        td.delete(h, delete_files=True)
