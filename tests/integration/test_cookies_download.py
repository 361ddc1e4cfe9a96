"""Download cookies (app/setCookies, and the 4.x `cookie` field of
torrents/add) are sent with .torrent URL downloads, only to their domain."""
import hashlib
import http.server
import os
import threading

from conftest import LEECH_IP
from tdlib import Torrentd, make_torrent, wait_until


def _server(tbytes):
    seen = []

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.headers.get("Cookie", ""))
            if "auth=yes" not in self.headers.get("Cookie", ""):
                self.send_response(403)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/x-bittorrent")
            self.send_header("Content-Length", str(len(tbytes)))
            self.end_headers()
            self.wfile.write(tbytes)

        def log_message(self, *a):
            pass

    srv = http.server.HTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, seen


def _torrent(i):
    payload = b"cookie %d " % i * 1000
    info = {"name": "c%d.bin" % i, "length": len(payload), "piece length": 16384,
            "pieces": hashlib.sha1(payload).digest()}
    return make_torrent(info)


def test_cookies_sent_with_downloads(workdir, procs):
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    (t1, h1), (t2, h2), (t3, h3) = _torrent(1), _torrent(2), _torrent(3)
    srv, seen = _server(t1)
    url = "http://127.0.0.1:%d/t.torrent" % srv.server_port
    try:
        # without cookies the server refuses: nothing is added
        assert td.post("/api/v2/torrents/add", urls=url).text == "Ok."
        wait_until(lambda: len(seen) >= 1, 10, "first download attempt")
        assert td.torrent(h1) is None
        # app/setCookies: sent to that domain only
        import json
        td.post("/api/v2/app/setCookies", cookies=json.dumps([
            {"name": "auth", "value": "yes", "domain": "127.0.0.1", "path": "/", "expirationDate": 4102444800},
            {"name": "other", "value": "no", "domain": "example.invalid", "path": "/", "expirationDate": 4102444800}]))
        td.post("/api/v2/torrents/add", urls=url)
        wait_until(lambda: td.torrent(h1) is not None, 10, "added with the stored cookie")
        assert "auth=yes" in seen[-1] and "other" not in seen[-1]
    finally:
        srv.shutdown()
    # the 4.x per-request cookie field
    td.post("/api/v2/app/setCookies", cookies="[]")
    srv, seen = _server(t2)
    try:
        url = "http://127.0.0.1:%d/t2.torrent" % srv.server_port
        td.post("/api/v2/torrents/add", urls=url, cookie="auth=yes; x=1")
        wait_until(lambda: td.torrent(h2) is not None, 10, "added with the cookie field")
        assert "auth=yes" in seen[-1] and "x=1" in seen[-1]
    finally:
        srv.shutdown()
