"""The proxy preferences for what torrentd fetches on the user's behalf
(issue 13/15): RSS feeds go through the proxy when proxy_type is set and
proxy_rss is on (qBittorrent's "Use proxy for RSS purposes"), directly when
it is off; credentials are sent when proxy_auth_enabled."""
import base64
import http.server
import os
import threading
import urllib.request

from conftest import LEECH_IP
from tdlib import Torrentd, wait_until

FEED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Proxied</title>
<item><title>One</title><guid>p1</guid><pubDate>Mon, 07 Dec 2026 10:00:00 GMT</pubDate></item>
</channel></rss>"""


def _serve(handler):
    srv = http.server.ThreadingHTTPServer(("127.0.0.9", 0), handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def test_rss_through_http_proxy(workdir, procs):
    direct, proxied, auth = [], [], []

    class Feed(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            direct.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(FEED)))
            self.end_headers()
            self.wfile.write(FEED)

        def log_message(self, *a):
            pass

    class Proxy(http.server.BaseHTTPRequestHandler):
        """A forward proxy: GET with an absolute URI, fetched directly."""
        def do_GET(self):
            proxied.append(self.path)
            auth.append(self.headers.get("Proxy-Authorization"))
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with opener.open(self.path, timeout=10) as r:
                body = r.read()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    feed, proxy = _serve(Feed), _serve(Proxy)
    url = "http://127.0.0.9:%d/feed.xml" % feed.server_address[1]
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    try:
        td.set_prefs({"proxy_type": "HTTP", "proxy_ip": "127.0.0.9", "proxy_port": proxy.server_address[1],
                      "proxy_rss": True, "proxy_auth_enabled": True, "proxy_username": "u",
                      "proxy_password": "p w"})
        td.req("POST", "/api/v2/rss/addFeed", data={"url": url, "path": "P"})
        td.req("POST", "/api/v2/rss/refreshItem", data={"itemPath": "P"})   # processing is off by default

        def articles():
            return td.get("/api/v2/rss/items", withData="true").json().get("P", {}).get("articles", [])
        wait_until(lambda: articles(), 30, "the feed through the proxy", procs=[td])
        assert proxied == [url], proxied
        assert auth[0] == "Basic " + base64.b64encode(b"u:p w").decode(), auth
        # proxy_rss off: straight to the feed
        td.set_prefs({"proxy_rss": False})
        n = len(direct)
        td.req("POST", "/api/v2/rss/refreshItem", data={"itemPath": "P"})
        wait_until(lambda: len(direct) > n, 30, "a direct fetch", procs=[td])
        assert len(proxied) == 1, proxied
    finally:
        feed.shutdown()
        proxy.shutdown()
    td.stop()
