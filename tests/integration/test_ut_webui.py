"""The official µTorrent web UI at /gui/ from webui.zip or a webui/ folder in
ut_webui_dir (default: the profile directory), as seed 004 describes:
index.html at /gui/, its files below it (folders, gzipped members as the
official build makes them), nothing outside, bounded."""
import base64
import gzip
import http.client
import os
import zipfile

import requests

from conftest import SEED_IP
from tdlib import PASSWORD, USER, Torrentd

AUTH = (USER, PASSWORD)
INDEX = b"<!DOCTYPE html><html><head><script src='./main.js'></script></head><body>uT</body></html>"
MAIN_JS = b"var utWebUI = {};\n" * 200      # > 1 KiB: the frame may gzip it
EN_JS = b"var LANG_STR = {'OV_CAT_ALL': 'All'};\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


def _get(td, path, auth=AUTH, **kw):
    return requests.get(td.base + path, auth=auth, timeout=30, allow_redirects=False, **kw)


def _raw(td, path):
    """The path exactly as written (requests would normalise ../)."""
    c = http.client.HTTPConnection("127.0.0.1", td.webui_port, timeout=30)
    c.putrequest("GET", path, skip_host=False, skip_accept_encoding=True)
    c.putheader("Authorization", "Basic " + base64.b64encode(("%s:%s" % AUTH).encode()).decode())
    c.endheaders()
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body


def _write_zip(path, members):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_DEFLATED)


def test_webui_from_zip(workdir, procs):
    td = procs.add(Torrentd(os.path.join(workdir, "td"), SEED_IP)).start()
    zpath = os.path.join(td.profile, "webui.zip")
    # as bittorrent/webui's build.sh makes it: every member gzipped, folders kept
    _write_zip(zpath, [("index.html", INDEX), ("main.js.gz", gzip.compress(MAIN_JS)),
                       ("lang/en.js.gz", gzip.compress(EN_JS)), ("images/ut.png", PNG),
                       ("../evil.txt", b"outside"), ("/abs.txt", b"absolute"), ("a/../b.txt", b"dotted"),
                       ("big.bin", b"\0" * (17 << 20)), ("bomb.js.gz", gzip.compress(b"\0" * (17 << 20)))])

    r = _get(td, "/gui/")
    assert r.status_code == 200, r.text
    assert r.content == INDEX
    assert r.headers["Content-Type"].startswith("text/html")
    r = _get(td, "/gui")
    assert r.status_code == 302 and r.headers["Location"] == "/gui/"
    r = _get(td, "/gui/main.js", headers={"Accept-Encoding": "identity"})
    assert r.status_code == 200 and r.content == MAIN_JS
    assert r.headers["Content-Type"] == "text/javascript"
    r = _get(td, "/gui/main.js", headers={"Accept-Encoding": "gzip"})
    assert r.content == MAIN_JS          # requests inflates what the frame gzipped
    r = _get(td, "/gui/lang/en.js")
    assert r.status_code == 200 and r.content == EN_JS
    r = _get(td, "/gui/images/ut.png")
    assert r.status_code == 200 and r.content == PNG
    assert r.headers["Content-Type"] == "image/png"
    assert _get(td, "/gui/nothere.js").status_code == 404
    assert _get(td, "/gui/images/").status_code == 400
    # bounded: a member too big, stored or inflated
    assert _get(td, "/gui/big.bin").status_code == 500
    assert _get(td, "/gui/bomb.js").status_code == 500

    # names are looked up, never used as paths; unclean names are refused
    for path in ("/gui/../evil.txt", "/gui/%2e%2e/evil.txt", "/gui/..%2fevil.txt", "/gui//abs.txt",
                 "/gui/a/../b.txt", "/gui/./index.html", "/gui/a%5cb"):
        status, body = _raw(td, path)
        assert status in (400, 404), (path, status)
        assert body not in (b"outside", b"absolute", b"dotted"), path
    assert not os.path.exists(os.path.join(td.profile, "..", "evil.txt"))

    # Basic auth as /gui/, no token needed for files; the API keeps its token
    r = _get(td, "/gui/", auth=None)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == 'Basic realm="uTorrent"'
    assert _get(td, "/gui/main.js", auth=(USER, "nope")).status_code == 401
    assert _get(td, "/gui/?list=1").status_code == 400
    r = _get(td, "/gui/token.html")
    assert r.status_code == 200 and "id='token'" in r.text

    # the archive is read per request: replaced, the new one is served; gone: 404
    _write_zip(zpath, [("index.html", b"<html>v2</html>")])
    assert _get(td, "/gui/").content == b"<html>v2</html>"
    os.unlink(zpath)
    assert _get(td, "/gui/").status_code == 404
    assert _get(td, "/gui/main.js").status_code == 404


def test_webui_from_folder(workdir, procs):
    td = procs.add(Torrentd(os.path.join(workdir, "td"), SEED_IP)).start()
    root = os.path.join(td.profile, "webui")
    os.makedirs(os.path.join(root, "lang"))
    with open(os.path.join(root, "index.html"), "wb") as f:
        f.write(INDEX)
    with open(os.path.join(root, "lang", "en.js.gz"), "wb") as f:
        f.write(gzip.compress(EN_JS))
    secret = os.path.join(workdir, "secret.txt")
    with open(secret, "wb") as f:
        f.write(b"secret")
    os.symlink(secret, os.path.join(root, "link.txt"))
    os.makedirs(os.path.join(root, "dir.js"))

    r = _get(td, "/gui/")
    assert r.status_code == 200 and r.content == INDEX
    r = _get(td, "/gui/lang/en.js")
    assert r.status_code == 200 and r.content == EN_JS
    assert _get(td, "/gui/link.txt").status_code == 404          # a symlink out of webui/
    assert _get(td, "/gui/dir.js").status_code == 404            # not a regular file
    for path in ("/gui/../secret.txt", "/gui/%2e%2e/%2e%2e/secret.txt", "/gui/lang/../../secret.txt"):
        status, body = _raw(td, path)
        assert status == 400, (path, status)
        assert body != b"secret"
    # a zip next to the folder wins
    _write_zip(os.path.join(td.profile, "webui.zip"), [("index.html", b"<html>zip</html>")])
    assert _get(td, "/gui/").content == b"<html>zip</html>"


def test_webui_dir_from_utserver_conf(workdir, procs):
    """ut_webui_dir from utserver.conf (seed 004: absolute or relative to the
    current directory) is where webui.zip is looked for, not the profile."""
    from test_utserver import ADMIN, PW, UtServer, write_conf
    ut = UtServer(workdir, SEED_IP)
    custom = os.path.join(workdir, "ui-here")
    os.makedirs(custom)
    _write_zip(os.path.join(custom, "webui.zip"), [("index.html", b"<html>custom dir</html>")])
    write_conf(ut, workdir, ut_webui_dir=custom)
    procs.add(ut).start()
    os.makedirs(ut.settings, exist_ok=True)
    _write_zip(os.path.join(ut.settings, "webui.zip"), [("index.html", b"<html>profile</html>")])
    r = _get(ut, "/gui/", auth=(ADMIN, PW))
    assert r.status_code == 200 and r.content == b"<html>custom dir</html>"
    # relative: to the directory utserver was started in
    ut.stop()
    write_conf(ut, workdir, ut_webui_dir="ui-here")
    ut.start()
    r = _get(ut, "/gui/", auth=(ADMIN, PW))
    assert r.status_code == 200 and r.content == b"<html>custom dir</html>"
