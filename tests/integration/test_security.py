"""WebUI security as qBittorrent does it (docs/api-surface.md §1, §2).

Every test runs against torrentd and, as a check on the test itself, against
qbittorrent-nox 4.5.2 (`[qbt]` ids): brute-force ban of the client IP, CSRF
(Origin/Referer vs Host), Host header validation (web_ui_domain_list), session
expiry (web_ui_session_timeout), the always-sent security headers, custom HTTP
headers, and HTTPS with a self-signed certificate made here by openssl.
"""
import os
import re
import subprocess
import time

import pytest
import requests
import urllib3

from conftest import SEED_IP
from tdlib import PASSWORD, USER, Qbt, Torrentd, free_port, loip, wait_until

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

BANNED = "Your IP address has been banned after too many failed authentication attempts."
OTHER_IP = loip(8)      # a second client address on lo (conftest adds loip(2..9))


class SourceAdapter(requests.adapters.HTTPAdapter):
    """Connects from a chosen local address, so one test can be two clients."""

    def __init__(self, ip):
        self.ip = ip
        super().__init__()

    def init_poolmanager(self, *a, **kw):
        kw["source_address"] = (self.ip, 0)
        super().init_poolmanager(*a, **kw)


@pytest.fixture(params=["torrentd", "qbt"])
def daemon(request, procs, workdir):
    cls = Torrentd if request.param == "torrentd" else Qbt
    return procs.add(cls(os.path.join(workdir, request.param), loip(2))).start()


def bare(d, ip=None):
    """A session without cookie, Referer or Origin."""
    s = requests.Session()
    s.headers.update({"Accept-Encoding": "identity"})
    if ip:
        s.mount("http://", SourceAdapter(ip))
        s.mount("https://", SourceAdapter(ip))
    return s


def login(d, s, password=PASSWORD, base=None, **kw):
    return s.post((base or d.base) + "/api/v2/auth/login",
                  data={"username": USER, "password": password}, timeout=10, **kw)


# --------------------------------------------------------------------------
# brute-force ban
# --------------------------------------------------------------------------

def test_ban_after_failed_logins(daemon):
    d = daemon
    d.set_prefs({"web_ui_max_auth_fail_count": 5, "web_ui_ban_duration": 3})
    s = bare(d)
    for i in range(5):
        r = login(d, s, "wrong-%d" % i)
        assert (r.status_code, r.text) == (200, "Fails."), (i, r.status_code, r.text)
    for pw in ("wrong-again", PASSWORD):            # banned: even the right password
        r = login(d, s, pw)
        assert (r.status_code, r.text) == (403, BANNED), (pw, r.status_code, r.text)
        assert "SID" not in r.cookies
    # the ban is on login only: an existing session goes on working
    assert d.s.get(d.base + "/api/v2/app/version", timeout=10).status_code == 200
    # and on this IP only: another client address logs in
    r = login(d, bare(d, OTHER_IP))
    assert (r.status_code, r.text) == (200, "Ok."), (r.status_code, r.text)
    # the ban expires (web_ui_ban_duration = 3 s)
    time.sleep(3.5)
    r = login(d, s)
    assert (r.status_code, r.text) == (200, "Ok."), (r.status_code, r.text)
    assert "SID" in r.cookies


def test_success_resets_the_counter(daemon):
    d = daemon
    s = bare(d)
    for i in range(4):
        assert login(d, s, "wrong").text == "Fails."
    assert login(d, bare(d)).text == "Ok."          # success clears the IP's count
    for i in range(4):
        assert login(d, bare(d), "wrong").text == "Fails.", i
    assert login(d, bare(d)).text == "Ok."


def test_unauthenticated_is_403(daemon):
    d = daemon
    for path in ("/api/v2/app/version", "/api/v2/torrents/info", "/api/v2/sync/maindata"):
        r = bare(d).get(d.base + path, timeout=10)
        assert (r.status_code, r.text) == (403, "Forbidden"), (path, r.status_code, r.text)


# --------------------------------------------------------------------------
# CSRF and Host header
# --------------------------------------------------------------------------

def test_csrf(daemon):
    d = daemon
    s = bare(d)
    assert login(d, s).text == "Ok."
    url = d.base + "/api/v2/app/version"
    port = d.webui_port
    cases = [
        ({}, 200),                                                     # API clients send neither
        ({"Origin": "http://127.0.0.1:%d" % port}, 200),
        ({"Referer": "http://127.0.0.1:%d/index.html" % port}, 200),
        ({"Origin": "https://127.0.0.1:%d" % port}, 200),              # scheme is ignored
        ({"Origin": "http://evil.example"}, 401),
        ({"Origin": "http://127.0.0.1:%d" % (port + 1)}, 401),         # port must match too
        ({"Referer": "http://evil.example/x"}, 401),
        ({"Origin": "http://evil.example", "Referer": "http://127.0.0.1:%d/" % port}, 401),  # Origin wins
    ]
    for hdrs, want in cases:
        r = s.get(url, headers=hdrs, timeout=10)
        assert r.status_code == want, (hdrs, r.status_code, r.text)
        if want == 401:
            assert r.text == "Unauthorized"
    # a cross-site login is refused before the credentials are looked at
    r = login(d, bare(d), headers={"Origin": "http://evil.example"})
    assert r.status_code == 401 and "SID" not in r.cookies
    # a cross-site POST changes nothing
    r = s.post(d.base + "/api/v2/app/setPreferences", data={"json": '{"max_connec": 77}'},
               headers={"Referer": "http://evil.example/"}, timeout=10)
    assert r.status_code == 401
    assert d.prefs()["max_connec"] != 77
    # switched off: the same request goes through
    d.set_prefs({"web_ui_csrf_protection_enabled": False})
    r = s.get(url, headers={"Origin": "http://evil.example"}, timeout=10)
    assert r.status_code == 200, (r.status_code, r.text)


def test_host_header_validation(daemon):
    d = daemon
    s = bare(d)
    assert login(d, s).text == "Ok."
    url = d.base + "/api/v2/app/version"
    port = d.webui_port
    d.set_prefs({"web_ui_domain_list": "good.example;*.wild.example"})
    cases = [
        ("127.0.0.1:%d" % port, 200),           # the local address is always fine
        ("good.example:%d" % port, 200),
        ("GOOD.example", 200),                  # case-insensitive, no port is fine
        ("a.wild.example:%d" % port, 200),
        ("evil.example:%d" % port, 401),
        ("evil.example", 401),
        ("good.example:%d" % (port + 1), 401),  # port mismatch
    ]
    # the cookie by hand: requests would match its jar against the Host header
    sid = {"Cookie": "SID=" + s.cookies["SID"]}
    for host, want in cases:
        r = bare(d).get(url, headers=dict(sid, Host=host), timeout=10)
        assert r.status_code == want, (host, r.status_code, r.text)
        if want == 401:
            assert r.text == "Unauthorized"
    d.set_prefs({"web_ui_host_header_validation_enabled": False})
    r = bare(d).get(url, headers=dict(sid, Host="evil.example:%d" % port), timeout=10)
    assert r.status_code == 200


# --------------------------------------------------------------------------
# sessions
# --------------------------------------------------------------------------

def test_session_expiry(daemon):
    d = daemon
    d.set_prefs({"web_ui_session_timeout": 2})
    s = bare(d)
    assert login(d, s).text == "Ok."
    url = d.base + "/api/v2/app/version"
    for _ in range(4):                          # activity keeps it alive past the timeout
        assert s.get(url, timeout=10).status_code == 200
        time.sleep(1)
    time.sleep(3.5)                             # idle longer than the timeout
    r = s.get(url, timeout=10)
    assert r.status_code == 403, (r.status_code, r.text)
    assert login(d, s).text == "Ok."            # a new login works
    assert s.get(url, timeout=10).status_code == 200


def test_logout_kills_the_session(daemon):
    d = daemon
    s = bare(d)
    assert login(d, s).text == "Ok."
    sid = s.cookies.get("SID")
    r = s.post(d.base + "/api/v2/auth/logout", timeout=10)
    assert r.status_code == 200
    t = bare(d)
    t.cookies.set("SID", sid)                   # replaying the old cookie
    assert t.get(d.base + "/api/v2/app/version", timeout=10).status_code == 403


def test_sid_cookie(daemon):
    d = daemon
    r = login(d, bare(d))
    c = r.headers.get("Set-Cookie", "")
    m = re.match(r"SID=([A-Za-z0-9+/=]+);", c)
    assert m and len(m.group(1)) == 32, c
    attrs = {a.strip().split("=")[0].lower() for a in c.split(";")[1:]}
    assert {"httponly", "path", "samesite"} <= attrs and "secure" not in attrs, c
    assert "SameSite=Strict" in c
    assert login(d, bare(d)).cookies["SID"] != m.group(1)        # unique per login


# --------------------------------------------------------------------------
# headers
# --------------------------------------------------------------------------

def test_security_headers(daemon):
    d = daemon
    for path in ("/api/v2/app/version", "/api/v2/nope/nope", "/"):
        h = d.s.get(d.base + path, timeout=10).headers
        assert h.get("X-Frame-Options") == "SAMEORIGIN", (path, dict(h))
        assert h.get("X-Content-Type-Options") == "nosniff", path
        assert h.get("X-XSS-Protection") == "1; mode=block", path
        csp = h.get("Content-Security-Policy", "")
        for part in ("default-src 'self'", "object-src 'none'", "form-action 'self'",
                     "frame-ancestors 'self'"):
            assert part in csp, (path, csp)
        assert "upgrade-insecure-requests" not in csp
    # unauthenticated responses carry them too
    h = bare(d).get(d.base + "/api/v2/app/version", timeout=10).headers
    assert h.get("X-Frame-Options") == "SAMEORIGIN" and "Content-Security-Policy" in h
    d.set_prefs({"web_ui_clickjacking_protection_enabled": False})
    h = d.s.get(d.base + "/api/v2/app/version", timeout=10).headers
    assert "X-Frame-Options" not in h, dict(h)
    assert "frame-ancestors" not in h.get("Content-Security-Policy", "")


def test_custom_http_headers(daemon):
    d = daemon
    d.set_prefs({"web_ui_use_custom_http_headers_enabled": True,
                 "web_ui_custom_http_headers": "X-Td-Test: hello world\nX-Second:two\nnot a header line"})
    h = d.s.get(d.base + "/api/v2/app/version", timeout=10).headers
    assert h.get("X-Td-Test") == "hello world", dict(h)
    assert h.get("X-Second") == "two", dict(h)
    h = bare(d).get(d.base + "/api/v2/app/version", timeout=10).headers
    assert h.get("X-Td-Test") == "hello world"
    d.set_prefs({"web_ui_use_custom_http_headers_enabled": False})
    h = d.s.get(d.base + "/api/v2/app/version", timeout=10).headers
    assert "X-Td-Test" not in h


# --------------------------------------------------------------------------
# HTTPS
# --------------------------------------------------------------------------

def make_cert(dirpath):
    cert, key = os.path.join(dirpath, "cert.pem"), os.path.join(dirpath, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
                    "-days", "1", "-keyout", key, "-out", cert], check=True, timeout=60,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def test_https(daemon, workdir):
    d = daemon
    cert, key = make_cert(workdir)
    # Both switch the WebUI to HTTPS at once, without a restart.
    d.set_prefs({"use_https": True, "web_ui_https_cert_path": cert, "web_ui_https_key_path": key})
    https = "https://127.0.0.1:%d" % d.webui_port
    s = bare(d)
    s.verify = False
    s.trust_env = False         # else REQUESTS_CA_BUNDLE in the environment overrides verify

    def up():
        try:
            return s.get(https + "/api/v2/app/version", timeout=2).status_code in (200, 403)
        except requests.RequestException:
            return False
    wait_until(up, 30, "%s to answer over HTTPS" % d.name, 0.2, procs=[d])
    r = login(d, s, base=https)
    assert (r.status_code, r.text) == (200, "Ok."), (r.status_code, r.text)
    c = r.headers.get("Set-Cookie", "")
    attrs = {a.strip().split("=")[0].lower() for a in c.split(";")[1:]}
    assert "secure" in attrs and "httponly" in attrs, c
    r = s.get(https + "/api/v2/app/version", timeout=10)
    assert r.status_code == 200
    assert "upgrade-insecure-requests" in r.headers.get("Content-Security-Policy", "")
    # the certificate served is ours
    pem = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % d.webui_port,
                          "-servername", "localhost"], input=b"", capture_output=True, timeout=30).stdout
    assert b"CN = localhost" in pem or b"CN=localhost" in pem
    # plain HTTP no longer gets an API answer
    try:
        r = bare(d).get(d.base + "/api/v2/app/version", timeout=3)
        assert r.status_code not in (200, 403), "plain HTTP still answered %d" % r.status_code
    except requests.RequestException:
        pass


def test_webui_port_change_applies_at_once(daemon):
    """A new web_ui_port is listened on right away (qBittorrent's
    WebUI::configure); the old port stops taking connections; the session
    cookie stays valid on the new port."""
    d = daemon
    old_base = d.base
    new_port = free_port()
    d.set_prefs({"web_ui_port": new_port})
    new_base = "http://127.0.0.1:%d" % new_port
    d.s.headers["Referer"] = new_base      # else the CSRF check refuses the old port's origin

    def moved():
        try:
            return d.s.get(new_base + "/api/v2/app/version", timeout=2).status_code == 200
        except requests.RequestException:
            return False
    wait_until(moved, 15, "%s to answer on its new WebUI port" % d.name, 0.1, procs=[d])
    assert d.s.get(new_base + "/api/v2/app/preferences", timeout=5).json()["web_ui_port"] == new_port

    def old_closed():
        try:
            bare(d).get(old_base + "/api/v2/app/version", timeout=2)
            return False
        except requests.RequestException:
            return True
    wait_until(old_closed, 15, "%s to stop listening on its old WebUI port" % d.name, 0.1, procs=[d])
    d.webui_port = new_port


def test_https_unusable_certificate_falls_back_to_http(daemon, workdir):
    """use_https with a certificate that cannot be read: both keep serving
    plain HTTP and log the CRITICAL 'HTTPS setup failed, fallback to HTTP'."""
    d = daemon
    missing = os.path.join(workdir, "no-such-cert.pem")
    d.set_prefs({"use_https": True, "web_ui_https_cert_path": missing, "web_ui_https_key_path": missing})

    def logged():
        return [e for e in d.get("/api/v2/log/main").json()
                if "HTTPS setup failed, fallback to HTTP" in e["message"]]
    rows = wait_until(logged, 15, "%s to log the HTTPS fallback" % d.name, 0.2, procs=[d])
    assert rows[-1]["type"] == 8, rows
    assert d.get("/api/v2/app/version").status_code == 200


def test_webui_port_taken_keeps_the_old_port(workdir, procs):
    """Deliberate difference: when the new port cannot be bound qBittorrent's
    WebUI stops listening; torrentd logs qBittorrent's CRITICAL line and
    goes back to the address and port it had."""
    import socket
    d = procs.add(Torrentd(os.path.join(workdir, "td"), SEED_IP)).start()
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    taken = blocker.getsockname()[1]
    try:
        d.set_prefs({"web_ui_port": taken})

        def logged():
            return [e for e in d.get("/api/v2/log/main").json()
                    if e["message"] == "WebUI: Unable to bind to IP: 127.0.0.1, port: %d" % taken]
        rows = wait_until(logged, 15, "the bind failure in the log", 0.2, procs=[d])
        assert rows[0]["type"] == 8
        assert d.get("/api/v2/app/version").text == "v5.1.4"
    finally:
        blocker.close()
