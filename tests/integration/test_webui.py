"""Static WebUI files: the built-in UI at /, and an alternative UI folder
(as VueTorrent is installed: only public/) switched on live."""
import os

import requests

from conftest import LEECH_IP
from tdlib import Torrentd


def test_builtin_and_alternative_ui(workdir, procs):
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    anon = requests.Session()
    r = anon.get(td.base + "/", timeout=10)
    assert r.status_code == 200 and "<title>torrentd</title>" in r.text
    assert r.headers["Content-Type"].startswith("text/html")
    assert "default-src 'self'" in r.headers.get("Content-Security-Policy", "")
    assert anon.get(td.base + "/nope.js", timeout=10).status_code == 404
    assert anon.get(td.base + "/../etc/passwd", timeout=10).status_code in (400, 404)

    alt = os.path.join(workdir, "vuetorrent")
    os.makedirs(os.path.join(alt, "public", "assets"))
    with open(os.path.join(alt, "public", "index.html"), "w") as f:
        f.write("<html><body>alternative ui</body></html>")
    with open(os.path.join(alt, "public", "assets", "app.js"), "w") as f:
        f.write("console.log('vt')")
    td.set_prefs({"alternative_webui_enabled": True, "alternative_webui_path": alt})
    r = anon.get(td.base + "/", timeout=10)
    assert r.status_code == 200 and "alternative ui" in r.text
    # qBittorrent drops its own policy for an alternative UI (only the
    # clickjacking part, frame-ancestors, stays)
    assert "default-src" not in r.headers.get("Content-Security-Policy", "")
    r = td.s.get(td.base + "/assets/app.js", timeout=10)   # logged in: private/ falls back to public/
    assert r.status_code == 200 and "vt" in r.text
    td.set_prefs({"alternative_webui_enabled": False})
    assert "<title>torrentd</title>" in anon.get(td.base + "/", timeout=10).text
