"""Web seeds (BEP19): with no peer at all, a torrent is downloaded from its
url-list over HTTP range requests; a broken web seed is retried later and
harms nothing."""
import hashlib
import http.server
import os
import re
import time
import threading

from conftest import LEECH_IP
from tdlib import Torrentd, make_torrent, wait_until


def _range_server(root, hits):
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            path = os.path.join(root, self.path.lstrip("/").replace("%20", " "))
            hits.append((self.path, self.headers.get("Range")))
            if not os.path.isfile(path):
                self.send_response(404)
                self.end_headers()
                return
            data = open(path, "rb").read()
            m = re.match(r"bytes=(\d+)-(\d+)", self.headers.get("Range") or "")
            if m:
                a, b = int(m.group(1)), int(m.group(2))
                body = data[a:b + 1]
                self.send_response(206)
                self.send_header("Content-Range", "bytes %d-%d/%d" % (a, b, len(data)))
            else:
                body = data
                self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def test_download_from_web_seed_only(workdir, procs):
    root = os.path.join(workdir, "www")
    files = {"a.bin": os.urandom(300001), "sub/b c.bin": os.urandom(180000)}
    for rel, content in files.items():
        os.makedirs(os.path.dirname(os.path.join(root, "multi", rel)), exist_ok=True)
        with open(os.path.join(root, "multi", rel), "wb") as f:
            f.write(content)
    blob = files["a.bin"] + files["sub/b c.bin"]
    hits = []
    srv = _range_server(root, hits)
    try:
        info = {"name": "multi", "piece length": 65536,
                "files": [{"length": len(files["a.bin"]), "path": ["a.bin"]},
                          {"length": len(files["sub/b c.bin"]), "path": ["sub", "b c.bin"]}],
                "pieces": b"".join(hashlib.sha1(blob[k:k + 65536]).digest() for k in range(0, len(blob), 65536))}
        good = "http://127.0.0.1:%d/" % srv.server_port
        bad = "http://127.0.0.1:%d/missing/" % srv.server_port
        tbytes, h = make_torrent(dict(info))
        # url-list lives beside info in the .torrent
        from tdlib import bdecode, bencode
        meta = bdecode(tbytes)
        meta[b"url-list"] = [bad.encode(), good.encode()]
        tbytes = bencode(meta)
        td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
        td.add(tbytes, td.save_path)
        seeds = td.get("/api/v2/torrents/webseeds", hash=h).json()
        assert {"url": good} in seeds and {"url": bad} in seeds
        wait_until(lambda: td.torrent(h)["progress"] == 1, 60, "downloaded from the web seed")
        for rel, content in files.items():
            with open(os.path.join(td.save_path, "multi", rel), "rb") as f:
                assert f.read() == content
        assert any(r and p.startswith("/multi/sub/b%20c.bin") for p, r in hits), hits[:5]
        assert any(p.startswith("/missing/") for p, _ in hits), "the broken seed was tried too"
    finally:
        srv.shutdown()


def _with_url_list(tbytes, urls):
    from tdlib import bdecode, bencode
    meta = bdecode(tbytes)
    meta[b"url-list"] = [u.encode() for u in urls]
    return bencode(meta)


def _ftp_warnings(td, name):
    pre = 'URL seed connection failed. Torrent: "%s". URL: "' % name
    return [e for e in td.get("/api/v2/log/main").json() if e["message"].startswith(pre)]


def test_ftp_web_seed_is_listed_and_logged_once(workdir, procs):
    """libtorrent has no FTP client: qBittorrent lists an ftp:// seed, never
    downloads from it, and logs one WARNING per seed when the torrent would
    first use it.  Nothing listens on the ftp ports."""
    payload = os.urandom(100000)
    info = {"name": "ftpseed", "piece length": 32768, "length": len(payload),
            "pieces": b"".join(hashlib.sha1(payload[k:k + 32768]).digest() for k in range(0, len(payload), 32768))}
    tbytes, h = make_torrent(info)
    ftp1, ftp2 = "ftp://127.0.0.1:9/files/", "ftp://127.0.0.1:9/other/"
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    td.add(_with_url_list(make_torrent(dict(info, name="ftpstopped"))[0], [ftp1]), td.save_path, stopped=True)
    done = make_torrent(dict(info, name="ftpdone"))
    td.add(_with_url_list(done[0], [ftp1]), td.save_path, skip_checking=True)
    td.add(_with_url_list(tbytes, [ftp1]), td.save_path)

    wait_until(lambda: _ftp_warnings(td, "ftpseed"), 5, "the ftp seed warning")
    time.sleep(2.5)   # a few more ticks: still one line
    msg = 'URL seed connection failed. Torrent: "ftpseed". URL: "%s". Error: "ftpseed url seed (%s) failed: ' \
          'unsupported URL protocol"'
    w = _ftp_warnings(td, "ftpseed")
    assert [(e["message"], e["type"]) for e in w] == [(msg % (ftp1, ftp1), 4)]
    assert _ftp_warnings(td, "ftpstopped") == [], "a stopped torrent uses no seed"
    assert td.torrent(done[1])["progress"] == 1
    assert _ftp_warnings(td, "ftpdone") == [], "a complete torrent uses no seed"
    assert td.get("/api/v2/torrents/webseeds", hash=h).json() == [{"url": ftp1}]
    assert td.torrent(h)["progress"] == 0
    assert td.torrent(h)["state"] in ("stalledDL", "metaDL", "downloading")

    td.post("/api/v2/torrents/addWebSeeds", hash=h, urls=ftp2)
    wait_until(lambda: len(_ftp_warnings(td, "ftpseed")) >= 2, 5, "the second ftp seed warning")
    time.sleep(2.5)
    w = _ftp_warnings(td, "ftpseed")
    assert [(e["message"], e["type"]) for e in w] == [(msg % (ftp1, ftp1), 4), (msg % (ftp2, ftp2), 4)]
    assert td.get("/api/v2/torrents/webseeds", hash=h).json() == [{"url": ftp1}, {"url": ftp2}]
    assert td.torrent(h)["progress"] == 0

    # The seeds stay disabled for the daemon's run: stop/start logs nothing new.
    td.post("/api/v2/torrents/stop", hashes=h)
    td.post("/api/v2/torrents/start", hashes=h)
    wait_until(lambda: td.torrent(h)["state"] in ("stalledDL", "downloading"), 5, "restarted")
    time.sleep(2.5)
    assert len(_ftp_warnings(td, "ftpseed")) == 2
