"""Hostile API clients (issue 10): hostile multipart bodies, JSON carried in a
parameter, hostile query strings and path traversal through the parameters
that name a path, against the qBittorrent v2 API.

Each request gets an answer (qBittorrent's status and body where it has one,
else 400 with a message naming what was wrong), the daemon stays up, nothing
changes that the request did not legitimately change (preferences and the
torrent's files are compared before and after) and RSS stays bounded.

The expected answers were taken from qbittorrent-nox 4.5.2 run side by side
with torrentd (the harness of test_diff_qbt.py); where 4.5.2 has no answer
(endpoints it lacks, limits it does not have) the comment says so.

All requests are sent raw over a socket: requests/urllib would normalise the
very bytes under test (percent-encoding errors, NUL bytes, unterminated
multipart boundaries).
"""
import json
import os
import re
import socket
from urllib.parse import quote_from_bytes

import pytest

from conftest import LEECH_IP
from tdlib import Torrentd, bencode, infohash, piece_hashes, status_mib

B = "----hostile"
CT_MP = {"Content-Type": "multipart/form-data; boundary=" + B}
CT_FORM = {"Content-Type": "application/x-www-form-urlencoded"}
PL = 16384
PAYLOAD = bytes(range(256)) * 196          # 50176 bytes
INFO = {"name": "hostile-multi", "piece length": PL, "pieces": piece_hashes(PAYLOAD, PL),
        "files": [{"path": ["a.txt"], "length": 20000}, {"path": ["sub", "b.bin"], "length": 30176}]}
TBYTES = bencode({"info": INFO})
HASH = infohash(TBYTES)


def raw(d, method, path, body=b"", headers=None, timeout=30):
    """One request on its own connection; returns (status, body bytes)."""
    s = socket.create_connection(("127.0.0.1", d.webui_port), timeout=timeout)
    h = {"Host": "127.0.0.1:%d" % d.webui_port, "Referer": d.base,
         "Cookie": "; ".join("%s=%s" % kv for kv in d.s.cookies.items()),
         "Content-Length": str(len(body)), "Connection": "close"}
    h.update(headers or {})
    head = "%s %s HTTP/1.1\r\n" % (method, path) + "".join("%s: %s\r\n" % kv for kv in h.items()) + "\r\n"
    out = b""
    try:
        s.sendall(head.encode() + body)
        while True:
            c = s.recv(65536)
            if not c:
                break
            out += c
            hd, sep, bd = out.partition(b"\r\n\r\n")
            m = re.search(rb"(?i)\r\ncontent-length: *(\d+)", hd)
            if sep and m and len(bd) >= int(m.group(1)):
                break
    finally:
        s.close()
    hd, _, bd = out.partition(b"\r\n\r\n")
    return int(hd.split(b" ")[1]), bd


def mp(parts, end=True):
    out = b""
    for hdrs, data in parts:
        out += b"--" + B.encode() + b"\r\n" + hdrs + b"\r\n\r\n" + data + b"\r\n"
    if end:
        out += b"--" + B.encode() + b"--\r\n"
    return out


def form(**kv):
    return "&".join("%s=%s" % (k, quote_from_bytes(v if isinstance(v, bytes) else v.encode(), safe="%"))
                    for k, v in kv.items()).encode()


@pytest.fixture(scope="module")
def td(module_procs, tmp_path_factory):
    d = module_procs.add(Torrentd(str(tmp_path_factory.mktemp("hostile")), LEECH_IP))
    d.start()
    d.save = os.path.join(d.rundir, "save")
    os.makedirs(d.save, exist_ok=True)
    d.add(TBYTES, d.save, stopped=True)
    d.hwm0 = status_mib(d.pid, "VmHWM")
    return d


def snapshot(d):
    files = [(f["name"], f["size"]) for f in d.get("/api/v2/torrents/files", hash=HASH).json()]
    t = d.torrent(HASH)
    return {"prefs": d.prefs(), "files": files, "save_path": t["save_path"],
            "n": len(d.info()), "cats": d.get("/api/v2/torrents/categories").json()}


def check_unchanged(d, before, what):
    assert d.alive(), "torrentd died on " + what
    after = snapshot(d)
    for k in before:
        assert after[k] == before[k], "%s changed %s: %r -> %r" % (what, k, before[k], after[k])


# --------------------------------------------------------------------------
# multipart
# --------------------------------------------------------------------------

MAGNET = b"magnet:?xt=urn:btih:" + b"c" * 40
MP_CASES = [
    # (label, body, headers, allowed (status, body) answers)
    # 4.5.2: "Ok." -- it adds what it parsed; torrentd refuses the unfinished part
    ("boundary never ends", mp([(b'Content-Disposition: form-data; name="urls"', MAGNET)], end=False),
     CT_MP, {(200, b"Fails.")}),
    # 4.5.2: 200 "Fails." (no limit); torrentd: a named limit
    ("5000 parts", mp([(b'Content-Disposition: form-data; name="p%d"' % i, b"x") for i in range(5000)]),
     CT_MP, {(400, b"Too many form fields (limit 4096)")}),
    # 4.5.2: 200 "Fails."
    ("200 KB part header", mp([(b'Content-Disposition: form-data; name="urls"\r\nX-J: ' + b"j" * 200000, b"x")]),
     CT_MP, {(400, b"Malformed form body"), (200, b"Fails.")}),
    # 4.5.2: 415 "not a valid torrent file" (it reads every file part as a
    # torrent, named or not); torrentd dropped the part and answered "Fails."
    ("file part without a name", mp([(b'Content-Disposition: form-data; filename="a.torrent"', b"d4:infod4:name1:aee")]),
     CT_MP, {(415, b"Error: 'a.torrent' is not a valid torrent file.")}),
    # 4.5.2: 200 "Fails."
    ("nested multipart", mp([(b'Content-Disposition: form-data; name="torrents"; filename="a.torrent"\r\n'
                              b'Content-Type: multipart/mixed; boundary=inner',
                              b"--inner\r\nContent-Disposition: file; filename=\"b.torrent\"\r\n\r\nxx\r\n--inner--")]),
     CT_MP, {(200, b"Fails."), (415, b"Error: 'a.torrent' is not a valid torrent file.")}),
    # 4.5.2: 400 empty
    ("multipart without boundary", b"garbage", {"Content-Type": "multipart/form-data"},
     {(400, b""), (200, b"Fails.")}),
]


@pytest.mark.parametrize("label,body,headers,allowed", MP_CASES, ids=[c[0] for c in MP_CASES])
def test_hostile_multipart(td, label, body, headers, allowed):
    before = snapshot(td)
    st, bd = raw(td, "POST", "/api/v2/torrents/add", body, headers)
    assert (st, bd) in allowed, "%s: %d %r" % (label, st, bd[:200])
    check_unchanged(td, before, label)


# --------------------------------------------------------------------------
# JSON in a parameter
# --------------------------------------------------------------------------

JSON_VALUES = [
    ("100000 [", b"[" * 100000),
    ("1e999", b'{"max_connec":1e999}'),
    ("2^64", b'{"max_connec":18446744073709551616}'),
    ("invalid UTF-8", b'{"save_path":"\xff\xfe"}'),
    ("escaped NUL", b'{"web_ui_username":"a\\u0000b"}'),
    ("raw NUL", b'{"save_path":"/tmp/a\x00b"}'),
    ("not an object", b"[1]"),
]


@pytest.mark.parametrize("label,val", JSON_VALUES, ids=[v[0] for v in JSON_VALUES])
def test_hostile_json_prefs(td, label, val):
    """setPreferences json=: 4.5.2 answers 200 with an empty body to each and
    ignores what it cannot parse; so does torrentd, and nothing changes."""
    before = snapshot(td)
    st, bd = raw(td, "POST", "/api/v2/app/setPreferences", form(json=val), CT_FORM)
    assert (st, bd) == (200, b""), (label, st, bd[:200])
    check_unchanged(td, before, "setPreferences " + label)


@pytest.mark.parametrize("label,val", JSON_VALUES, ids=[v[0] for v in JSON_VALUES])
def test_hostile_json_cookies(td, label, val):
    """setCookies (5.x; 4.5.2 has no such endpoint): 400 naming the error."""
    before = snapshot(td)
    st, bd = raw(td, "POST", "/api/v2/app/setCookies", form(cookies=val), CT_FORM)
    assert st == 400 and bd, (label, st, bd[:200])
    check_unchanged(td, before, "setCookies " + label)


# --------------------------------------------------------------------------
# query strings and urlencoded forms
# --------------------------------------------------------------------------

Q_CASES = [
    # 4.5.2 answers these 200 (it has no parameter limit); torrentd answers
    # 414 (MHD's connection memory) -- a deliberate difference.
    ("10000 query parameters", "GET", "/api/v2/torrents/info?" + "&".join("k%d=v" % i for i in range(10000)),
     b"", {200, 414}),
    ("repeated keys", "GET", "/api/v2/torrents/info?filter=all&filter=bogus&filter=completed", b"", {200}),
    ("30 KiB value", "GET", "/api/v2/torrents/info?category=" + "a" * 30720, b"", {200}),
    ("percent-encoding errors", "GET", "/api/v2/torrents/info?category=%zz%4&hashes=%", b"", {200}),
    ("10000 form fields", "POST", "/api/v2/app/setPreferences",
     ("&".join("k%d=v" % i for i in range(10000)) + "&json=%7B%7D").encode(), {200, 400}),
    ("form percent-encoding error", "POST", "/api/v2/app/setPreferences",
     b"json=%7B%22max_connec%22%3A%zz%7D", {200}),
]


@pytest.mark.parametrize("label,method,path,body,allowed", Q_CASES, ids=[c[0] for c in Q_CASES])
def test_hostile_query(td, label, method, path, body, allowed):
    before = snapshot(td)
    st, bd = raw(td, method, path, body, CT_FORM if body else None)
    assert st in allowed, (label, st, bd[:200])
    if st == 400:
        assert bd == b"Too many form fields (limit 4096)", bd[:200]
    check_unchanged(td, before, label)


# --------------------------------------------------------------------------
# path traversal
# --------------------------------------------------------------------------

BAD_NAMES = ["../esc", "/abs", "a/../../b", "a\\..\\..\\b", "ok/../..", "a\x00b"]


@pytest.mark.parametrize("ep,old", [("renameFile", "hostile-multi/a.txt"), ("renameFolder", "hostile-multi/sub")])
@pytest.mark.parametrize("new", BAD_NAMES, ids=[repr(n) for n in BAD_NAMES])
def test_rename_cannot_escape(td, ep, old, new):
    """4.5.2 answers 409 to each (absolute: "Absolute path isn't allowed",
    NUL: "The new path is invalid"); no file moves out of the save path."""
    before = snapshot(td)
    st, bd = raw(td, "POST", "/api/v2/torrents/" + ep, form(hash=HASH, oldPath=old, newPath=new), CT_FORM)
    assert st == 409 and bd, (ep, new, st, bd)
    if "\x00" in new:
        assert bd.startswith(b"The new path is invalid: "), bd
    check_unchanged(td, before, "%s %r" % (ep, new))
    assert not os.path.exists(os.path.join(td.rundir, "esc"))
    assert not os.path.exists(os.path.join(td.rundir, "b"))


def test_set_location_nul_refused(td):
    """4.5.2: 409 "Cannot make save path". torrentd used the prefix before
    the NUL ("a", a relative path) and moved the torrent."""
    before = snapshot(td)
    st, bd = raw(td, "POST", "/api/v2/torrents/setLocation", form(hashes=HASH, location=b"a\x00b"), CT_FORM)
    assert (st, bd) == (409, b"Cannot make save path")
    check_unchanged(td, before, "setLocation NUL")


@pytest.mark.parametrize("ep", ["setSavePath", "setDownloadPath"])
def test_set_save_path_nul_refused(td, ep):
    """4.5.2: 409 "Cannot create target directory" for a path holding a NUL.
    torrentd used the prefix before the NUL ("a") and moved the torrent."""
    before = snapshot(td)
    st, bd = raw(td, "POST", "/api/v2/torrents/" + ep, form(id=HASH, path=b"a\x00b"), CT_FORM)
    assert (st, bd) == (409, b"Cannot create target directory"), (ep, st, bd)
    check_unchanged(td, before, ep + " NUL")


@pytest.mark.parametrize("val", ["../x", "a/../../b", "a\\..\\b", "a\x00b", ""])
def test_get_directory_content_refuses_relative(td, val):
    """5.x only (4.5.2: 404): anything but an existing absolute dir is refused."""
    st, bd = raw(td, "GET", "/api/v2/app/getDirectoryContent?dirPath=" + quote_from_bytes(val.encode(), safe=""))
    assert st == 400 and bd == b"Invalid directory path", (val, st, bd)


def test_rss_bounded(td):
    """After every hostile request above (the module's tests run first), the
    daemon's peak RSS has grown by less than 128 MiB over its peak at start
    (an ASan build idles at ~315 MiB; the requests add ~30 MiB)."""
    hwm = status_mib(td.pid, "VmHWM")
    print("torrentd VmHWM %.0f MiB at start, %.0f MiB after the hostile requests" % (td.hwm0, hwm))
    assert hwm - td.hwm0 < 128, "VmHWM grew %.0f MiB" % (hwm - td.hwm0)
