"""Preferences every new torrent gets (issue 15): excluded_file_names,
add_trackers and merge_trackers, as qBittorrent 5.1's SessionImpl applies
them (applyFilenameFilter, parseTrackerEntries, the duplicate-add branch)."""
import hashlib
import os

from conftest import LEECH_IP
from tdlib import Torrentd, bencode, infohash, make_torrent

PL = 16384


def _multi(names, private=False, announce_list=None, url_list=None):
    """A multi-file torrent named "pack" whose files are names (with /)."""
    files, payload = [], b""
    for i, n in enumerate(names):
        data = bytes([i + 1]) * (1000 + i)
        files.append({"length": len(data), "path": n.split("/")})
        payload += data
    info = {"name": "pack", "files": files, "piece length": PL,
            "pieces": b"".join(hashlib.sha1(payload[k:k + PL]).digest() for k in range(0, len(payload), PL))}
    if private:
        info["private"] = 1
    meta = {"info": info, "creation date": 1700000000}
    if announce_list:
        meta["announce"] = announce_list[0][0]
        meta["announce-list"] = announce_list
    if url_list:
        meta["url-list"] = url_list
    t = bencode(meta)
    return t, infohash(t)


def _trackers(td, h):
    """(url, tier) of the real trackers (not DHT/PEX/LSD rows)."""
    return [(t["url"], t["tier"]) for t in td.get("/api/v2/torrents/trackers", hash=h).json()
            if not t["url"].startswith("** [")]


def _log(td):
    return [m["message"] for m in td.get("/api/v2/log/main").json()]


def test_excluded_file_names(workdir, procs):
    """A file whose name or any parent folder matches a pattern (wildcards,
    case-insensitive, one a line) is added with priority 0; the others keep
    1; off, nothing is excluded."""
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    names = ["movie.mkv", "info.NFO", "Sample/clip.mkv", "extras/readme.txt", "extras/deep/sample/x.bin"]
    tb, h = _multi(names)
    td.set_prefs({"excluded_file_names_enabled": True, "excluded_file_names": "*.nfo\nsample\n  readme.*  "})
    assert td.prefs()["excluded_file_names"] == "*.nfo\nsample\n  readme.*  "
    td.add(tb, os.path.join(workdir, "dl"), stopped=True)
    prios = {f["name"]: f["priority"] for f in td.get("/api/v2/torrents/files", hash=h).json()}
    assert prios == {"pack/movie.mkv": 1, "pack/info.NFO": 0, "pack/Sample/clip.mkv": 0,
                     "pack/extras/readme.txt": 0, "pack/extras/deep/sample/x.bin": 0}, prios
    # the choice is the torrent's own from then on (persisted, survives a restart)
    td.stop()
    td.start()
    prios2 = {f["name"]: f["priority"] for f in td.get("/api/v2/torrents/files", hash=h).json()}
    assert prios2 == prios
    # switched off: a new torrent keeps every file
    td.set_prefs({"excluded_file_names_enabled": False})
    tb2, h2 = _multi(["a.nfo", "b.bin"])
    td.add(tb2, os.path.join(workdir, "dl2"), stopped=True)
    assert [f["priority"] for f in td.get("/api/v2/torrents/files", hash=h2).json()] == [1, 1]
    td.stop()


def test_add_trackers(workdir, procs):
    """add_trackers: appended to every new torrent, one a line, an empty
    line starting the next tier, the first after the torrent's own last
    tier; never to a private torrent; off, nothing is added."""
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    td.set_prefs({"add_trackers_enabled": True,
                  "add_trackers": "http://127.0.0.1:1/a/announce\n http://127.0.0.1:1/b/announce \n\n"
                                  "http://127.0.0.1:1/c/announce\n"})
    own = [["http://127.0.0.1:1/own/announce"], ["http://127.0.0.1:1/own2/announce"]]
    tb, h = _multi(["x.bin", "y.bin"], announce_list=own)
    td.add(tb, os.path.join(workdir, "dl"), stopped=True)
    assert _trackers(td, h) == [("http://127.0.0.1:1/own/announce", 0), ("http://127.0.0.1:1/own2/announce", 1),
                                ("http://127.0.0.1:1/a/announce", 2), ("http://127.0.0.1:1/b/announce", 2),
                                ("http://127.0.0.1:1/c/announce", 3)], _trackers(td, h)
    # a magnet gets them too (no metadata yet: qBittorrent cannot know it is private)
    mh = "1" * 40
    td.post("/api/v2/torrents/add", urls="magnet:?xt=urn:btih:%s&dn=m" % mh, stopped="true")
    assert [u for u, _ in _trackers(td, mh)] == ["http://127.0.0.1:1/a/announce", "http://127.0.0.1:1/b/announce",
                                                "http://127.0.0.1:1/c/announce"]
    assert [t for _, t in _trackers(td, mh)] == [0, 0, 1]
    tbp, hp = _multi(["p.bin"], private=True, announce_list=own)
    td.add(tbp, os.path.join(workdir, "dlp"), stopped=True)
    assert [u for u, _ in _trackers(td, hp)] == [own[0][0], own[1][0]]
    td.set_prefs({"add_trackers_enabled": False})
    tb3, h3 = _multi(["z.bin"])
    td.add(tb3, os.path.join(workdir, "dl3"), stopped=True)
    assert _trackers(td, h3) == []
    td.stop()


def test_merge_trackers(workdir, procs):
    """Adding a torrent that is there already fails ("Fails."); with
    merge_trackers the new source's trackers and web seeds join it, and the
    log says what happened in qBittorrent's words; private torrents are
    never merged."""
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    tb, h = _multi(["x.bin"], announce_list=[["http://127.0.0.1:1/one/announce"]])
    td.add(tb, os.path.join(workdir, "dl"), stopped=True)
    tb2, h2 = _multi(["x.bin"], announce_list=[["http://127.0.0.1:1/two/announce"]],
                     url_list=["http://127.0.0.1:1/seed/"])
    assert h2 == h and tb2 != tb

    def add_again(tbytes):
        files = [("torrents", ("again.torrent", tbytes, "application/x-bittorrent"))]
        return td.req("POST", "/api/v2/torrents/add", files=files, data={"savepath": os.path.join(workdir, "dl")}).text

    assert add_again(tb2) == "Fails."
    assert _trackers(td, h) == [("http://127.0.0.1:1/one/announce", 0)]
    assert any("Detected an attempt to add a duplicate torrent. Existing torrent: \"pack\". Torrent infohash: %s. "
               "Result: Merging of trackers is disabled" % h in m for m in _log(td)), _log(td)[-5:]
    td.set_prefs({"merge_trackers": True})
    assert add_again(tb2) == "Fails."
    assert [u for u, _ in _trackers(td, h)] == ["http://127.0.0.1:1/one/announce", "http://127.0.0.1:1/two/announce"]
    seeds = [w["url"] for w in td.get("/api/v2/torrents/webseeds", hash=h).json()]
    assert seeds == ["http://127.0.0.1:1/seed/"], seeds
    assert any("Result: Trackers are merged from new source" in m for m in _log(td))
    # a magnet of the same torrent merges its tr= too
    td.post("/api/v2/torrents/add", urls="magnet:?xt=urn:btih:%s&tr=%s" % (h, "http%3A%2F%2F127.0.0.1%3A1%2Fthree%2Fannounce"))
    assert "http://127.0.0.1:1/three/announce" in [u for u, _ in _trackers(td, h)]
    # the merged list is the torrent's own: persisted
    td.stop()
    td.start()
    assert len(_trackers(td, h)) == 3
    # private: refused
    tbp, hp = _multi(["p.bin"], private=True, announce_list=[["http://127.0.0.1:1/p1/announce"]])
    td.add(tbp, os.path.join(workdir, "dlp"), stopped=True)
    tbp2, _ = _multi(["p.bin"], private=True, announce_list=[["http://127.0.0.1:1/p2/announce"]])
    assert add_again(tbp2) == "Fails."
    assert [u for u, _ in _trackers(td, hp)] == ["http://127.0.0.1:1/p1/announce"]
    assert any("Result: Trackers cannot be merged because it is a private torrent" in m for m in _log(td))
    td.stop()


def test_add_trackers_from_url(workdir, procs):
    """add_trackers_from_url_enabled + add_trackers_url: the list is fetched
    when switched on and when the URL changes, shown in the read-only
    add_trackers_url_list, appended to new torrents after add_trackers'
    entries (one a line, an empty line starting a tier); a failed fetch is
    logged with qBittorrent's line; switched off, the list is emptied."""
    import http.server
    import threading
    from tdlib import wait_until
    lists = {"/one.txt": b"http://127.0.0.1:1/u1/announce\n\nhttp://127.0.0.1:1/u2/announce\n",
             "/two.txt": b"http://127.0.0.1:1/u3/announce\n"}

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = lists.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.9", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = "http://127.0.0.9:%d" % srv.server_address[1]
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    try:
        td.set_prefs({"add_trackers_enabled": True, "add_trackers": "http://127.0.0.1:1/a/announce",
                      "add_trackers_url": base + "/one.txt", "add_trackers_from_url_enabled": True})
        wait_until(lambda: td.prefs()["add_trackers_url_list"] == lists["/one.txt"].decode(), 15, "the list fetched",
                   procs=[td])
        assert "Tracker list updated" in _log(td)
        tb, h = _multi(["u.bin"], announce_list=[["http://127.0.0.1:1/own/announce"]])
        td.add(tb, os.path.join(workdir, "dl"), stopped=True)
        assert _trackers(td, h) == [("http://127.0.0.1:1/own/announce", 0), ("http://127.0.0.1:1/a/announce", 1),
                                    ("http://127.0.0.1:1/u1/announce", 2), ("http://127.0.0.1:1/u2/announce", 3)], \
            _trackers(td, h)
        td.set_prefs({"add_trackers_url": base + "/two.txt"})
        wait_until(lambda: td.prefs()["add_trackers_url_list"] == lists["/two.txt"].decode(), 15, "refetched",
                   procs=[td])
        td.set_prefs({"add_trackers_url": base + "/missing.txt"})
        wait_until(lambda: any(m.startswith("Failed to update tracker list. Reason: ") for m in _log(td)), 15,
                   "the failure logged", procs=[td])
        assert td.prefs()["add_trackers_url_list"] == lists["/two.txt"].decode()   # kept, as qBittorrent
        td.set_prefs({"add_trackers_from_url_enabled": False})
        assert td.prefs()["add_trackers_url_list"] == ""
        tb2, h2 = _multi(["v.bin"])
        td.add(tb2, os.path.join(workdir, "dl2"), stopped=True)
        assert [u for u, _ in _trackers(td, h2)] == ["http://127.0.0.1:1/a/announce"]
    finally:
        srv.shutdown()
        srv.server_close()
    td.stop()


def test_bdecode_limits(workdir, procs):
    """bdecode_depth_limit / bdecode_token_limit (libtorrent's
    load_torrent_limits): a .torrent nested deeper, or holding more values,
    than the limits is refused with a message naming the limit; within
    them it is added."""
    from tdlib import Raw
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    tb, h = _multi(["a.bin"])
    deep = Raw(b"l" * 60 + b"e" * 60)                 # a 60-deep list outside the info dict
    meta = bencode({"info": Raw(tb[tb.index(b"4:info") + 6:-1]), "x-deep": deep})
    assert infohash(meta) == h
    many_tb, many_h = _multi(["f%03d.bin" % i for i in range(60)])   # ~300 values

    def add(tbytes, name):
        files = [("torrents", (name, tbytes, "application/x-bittorrent"))]
        return td.req("POST", "/api/v2/torrents/add", ok=(200, 409, 415), files=files,
                      data={"savepath": os.path.join(workdir, "dl"), "stopped": "true"})

    td.set_prefs({"bdecode_depth_limit": 50})
    r = add(meta, "deep.torrent")
    assert td.torrent(h) is None, (r.status_code, r.text)
    assert r.status_code != 200 or r.text.strip() != "Ok.", r.text
    assert any("depth" in m.lower() or "nest" in m.lower() for m in _log(td)[-5:]), _log(td)[-5:]
    td.set_prefs({"bdecode_depth_limit": 100})
    assert add(meta, "deep.torrent").text.strip() == "Ok."
    assert td.torrent(h) is not None

    td.set_prefs({"bdecode_token_limit": 200})
    r = add(many_tb, "many.torrent")
    assert td.torrent(many_h) is None, (r.status_code, r.text)
    td.set_prefs({"bdecode_token_limit": 10000000})
    assert add(many_tb, "many.torrent").text.strip() == "Ok."
    assert td.torrent(many_h) is not None
    td.stop()
