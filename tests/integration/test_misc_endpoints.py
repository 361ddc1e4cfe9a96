"""The small qBittorrent 5.x endpoints (web/api/qbt_v2_misc.c) over HTTP:
app/networkInterfaceList and networkInterfaceAddressList (checked against
`ip -j addr` and against qbittorrent-nox 4.5.2 in the same namespace),
app/getDirectoryContent, app/cookies + setCookies, app/sendTestEmail and
torrents/SSLParameters + setSSLParameters, with every documented error, the
JSON type of every field and persistence across a restart."""
import hashlib
import json
import os
import subprocess
import time

import pytest
import requests

from conftest import LEECH_IP, MINI_IP
from tdlib import Qbt, Torrentd, make_torrent, wait_until

A = "/api/v2/app/"
T = "/api/v2/torrents/"
UNKNOWN = "0123456789abcdef0123456789abcdef01234567"


def _torrent(tag):
    payload = (b"misc endpoints %s " % tag.encode()) * 3000
    info = {"name": "misc-%s.bin" % tag, "length": len(payload), "piece length": 16384,
            "pieces": b"".join(hashlib.sha1(payload[k:k + 16384]).digest()
                               for k in range(0, len(payload), 16384))}
    return make_torrent(info)


def _err(td, method, ep, status, text=None, **kw):
    r = td.req(method, ep, ok=(status,), **kw)
    assert r.headers["Content-Type"].startswith("text/plain")
    if text is not None:
        assert r.text == text
    return r


# --------------------------------------------------------------------------
# network interfaces
# --------------------------------------------------------------------------

def _ip_addr():
    """(name, index, running, [addresses]) per interface with addresses, by index."""
    out = json.loads(subprocess.run(["ip", "-j", "addr", "show"], check=True,
                                    capture_output=True, text=True).stdout)
    rows = []
    for i in sorted(out, key=lambda x: x["ifindex"]):
        addrs = [a["local"] + ("%%%d" % i["ifindex"] if a.get("family") == "inet6" and a.get("scope") == "link"
                               else "")
                 for a in i.get("addr_info", []) if a.get("family") in ("inet", "inet6")]
        if addrs:
            running = "UP" in i.get("flags", []) and i.get("operstate") in ("UP", "UNKNOWN")
            rows.append((i["ifname"], i["ifindex"], running, addrs))
    return rows


def _check_ifaces(td):
    rows = _ip_addr()
    lst = td.get(A + "networkInterfaceList").json()
    assert lst == [{"name": n, "value": n} for n, _, _, _ in rows]
    for e in lst:
        assert set(e) == {"name", "value"} and all(isinstance(v, str) for v in e.values())
    everything = td.get(A + "networkInterfaceAddressList", iface="").json()
    assert everything == [a for _, _, up, addrs in rows if up for a in addrs]
    for n, idx, _, addrs in rows:
        assert td.get(A + "networkInterfaceAddressList", iface=n).json() == addrs
        assert td.post(A + "networkInterfaceAddressList", iface=str(idx)).json() == addrs
    return rows


def _add_links():
    """A running veth pair (tdmisc0 with a link-local and a global IPv6
    address, tdmisc1 without addresses) and a bridge that is down but has an
    address (tdmisc2)."""
    try:
        subprocess.run(["ip", "link", "add", "tdmisc0", "type", "veth", "peer", "name", "tdmisc1"],
                       check=True, capture_output=True)
        subprocess.run(["ip", "link", "add", "tdmisc2", "type", "bridge"], check=True, capture_output=True)
    except (subprocess.CalledProcessError, OSError):
        _del_links()
        return False
    for cmd in (["ip", "link", "set", "tdmisc0", "addrgenmode", "none"],
                ["ip", "link", "set", "tdmisc1", "addrgenmode", "none"],
                ["ip", "addr", "add", "10.254.1.1/24", "dev", "tdmisc0"],
                ["ip", "addr", "add", "fe80::abcd/64", "dev", "tdmisc0", "nodad"],
                ["ip", "addr", "add", "2001:db8:0:1:0:0:0:5/64", "dev", "tdmisc0", "nodad"],
                ["ip", "link", "set", "tdmisc0", "up"],
                ["ip", "link", "set", "tdmisc1", "up"],
                ["ip", "addr", "add", "10.254.2.1/24", "dev", "tdmisc2"]):
        subprocess.run(cmd, check=True, capture_output=True)
    return True


def _del_links():
    for n in ("tdmisc0", "tdmisc2"):
        subprocess.run(["ip", "link", "del", n], capture_output=True)


def test_network_interfaces(workdir, procs):
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    rows = _check_ifaces(td)
    assert any(n == "lo" for n, _, _, _ in rows)
    lo = td.get(A + "networkInterfaceAddressList", iface="lo").json()
    assert "127.0.0.1" in lo and LEECH_IP in lo
    assert td.get(A + "networkInterfaceAddressList", iface="nosuchif0").json() == []
    assert td.get(A + "networkInterfaceAddressList", iface="999999").json() == []
    _err(td, "GET", A + "networkInterfaceAddressList", 400, "Bad Request")

    qb = procs.add(Qbt(os.path.join(workdir, "qbt"), MINI_IP)).start()
    links = os.geteuid() == 0 and _add_links()
    try:
        if links:
            time.sleep(0.5)   # carrier up
            rows = _check_ifaces(td)
            names = [n for n, _, _, _ in rows]
            assert "tdmisc0" in names and "tdmisc2" in names and "tdmisc1" not in names
            every = td.get(A + "networkInterfaceAddressList", iface="").json()
            idx = dict((n, i) for n, i, _, _ in rows)["tdmisc0"]
            assert "10.254.1.1" in every and "fe80::abcd%%%d" % idx in every   # index as scope id
            assert "10.254.2.1" not in every          # interface down
            assert "2001:db8:0:1::5" in every
            assert td.get(A + "networkInterfaceAddressList", iface="tdmisc2").json() == ["10.254.2.1"]
            assert td.get(A + "networkInterfaceAddressList", iface="tdmisc1").json() == []
        # the reference, in the same namespace at the same moment
        for ep, params in (("networkInterfaceList", {}), ("networkInterfaceAddressList", {"iface": ""}),
                           ("networkInterfaceAddressList", {"iface": "lo"}),
                           ("networkInterfaceAddressList", {"iface": "tdmisc0"}),
                           ("networkInterfaceAddressList", {"iface": "tdmisc2"}),
                           ("networkInterfaceAddressList", {"iface": "nosuchif0"})):
            assert td.get(A + ep, **params).json() == qb.get(A + ep, **params).json(), ep
        assert qb.req("GET", A + "networkInterfaceAddressList", ok=(400,)).text == "Bad Request"
    finally:
        if links:
            _del_links()


# --------------------------------------------------------------------------
# app/getDirectoryContent
# --------------------------------------------------------------------------

def test_directory_content(workdir, procs):
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    root = os.path.join(workdir, "tree")
    for d in ("a10", "a2", "B", ".hiddendir", "a2/inner"):
        os.makedirs(os.path.join(root, d))
    for f, size in (("f1.txt", 5), ("F10.txt", 0), ("f2.txt", 12345), (".hidden", 1)):
        with open(os.path.join(root, f), "wb") as fh:
            fh.write(b"x" * size)
    os.mkfifo(os.path.join(root, "fifo"))
    os.symlink("/nonexistent/target", os.path.join(root, "broken"))
    os.symlink(os.path.join(root, "a10"), os.path.join(root, "ldir"))
    os.symlink(os.path.join(root, "f1.txt"), os.path.join(root, "lfile"))

    dirs = ["a2", "a10", "B", "ldir"]
    files = ["f1.txt", "f2.txt", "F10.txt", "lfile"]
    nat = ["a2", "a10", "B", "f1.txt", "f2.txt", "F10.txt", "ldir", "lfile"]   # natural, no case

    def get(**p):
        r = td.req("GET", A + "getDirectoryContent", params=p)
        assert r.headers["Content-Type"].startswith("application/json")
        return r.json()

    assert get(dirPath=root) == [root + "/" + n for n in nat]
    assert get(dirPath=root, mode="all") == [root + "/" + n for n in nat]
    assert get(dirPath=root, mode="dirs") == [root + "/" + n for n in dirs]
    assert get(dirPath=root, mode="files") == [root + "/" + n for n in files]
    assert get(dirPath=root + "/", mode="dirs") == [root + "/" + n for n in dirs]  # one slash
    assert get(dirPath=root + "/a2") == [root + "/a2/inner"]
    assert get(dirPath=root + "/a2/inner") == []
    assert td.post(A + "getDirectoryContent", dirPath=root, mode="dirs").json() == \
        [root + "/" + n for n in dirs]
    assert get(dirPath=root + "/a2/../B") == []      # not normalized, like Qt
    assert "/etc" in get(dirPath="/", mode="dirs")

    meta = get(dirPath=root, withMetadata="true")
    assert [m["name"] for m in meta] == nat
    st = os.stat(os.path.join(root, "f2.txt"))
    for m in meta:
        is_dir = m["name"] in dirs
        assert m["type"] == ("dir" if is_dir else "file")
        keys = {"name", "type", "creation_date", "last_access_date", "last_modification_date"}
        assert set(m) == (keys if is_dir else keys | {"size"})
        for k in keys - {"name", "type"}:
            assert isinstance(m[k], int)
        if m["name"] == "f2.txt":
            assert m["size"] == 12345
            assert m["last_modification_date"] == int(st.st_mtime)
            assert m["creation_date"] == -1 or abs(m["creation_date"] - st.st_mtime) < 5
        if m["name"] == "lfile":
            assert m["size"] == 5
    assert [m["name"] for m in get(dirPath=root, mode="files", withMetadata="true")] == files
    assert get(dirPath=root, withMetadata="yes") == [root + "/" + n for n in nat]   # not a bool

    for bad in ("", "relative/path", "a2", ":/res", ":", "./x", "~"):
        _err(td, "GET", A + "getDirectoryContent", 400, "Invalid directory path", params={"dirPath": bad})
    _err(td, "GET", A + "getDirectoryContent", 400, "Bad Request")
    _err(td, "GET", A + "getDirectoryContent", 404, "Directory does not exist",
         params={"dirPath": root + "/nope"})
    _err(td, "GET", A + "getDirectoryContent", 404, "Directory does not exist",
         params={"dirPath": root + "/f1.txt"})
    _err(td, "GET", A + "getDirectoryContent", 404, "Directory does not exist",
         params={"dirPath": root + "/broken"})
    for mode in ("ALL", "dir", "", "files "):
        _err(td, "GET", A + "getDirectoryContent", 400, "Invalid mode, allowed values: all, dirs, files",
             params={"dirPath": root, "mode": mode})
    # existence is checked before the mode, as in qBittorrent
    _err(td, "GET", A + "getDirectoryContent", 404, "Directory does not exist",
         params={"dirPath": root + "/nope", "mode": "bogus"})
    if os.geteuid() != 0:
        locked = os.path.join(root, "B")
        os.chmod(locked, 0)
        assert get(dirPath=locked) == []


# --------------------------------------------------------------------------
# app/cookies, app/setCookies
# --------------------------------------------------------------------------

def _types_ok(cookies):
    for c in cookies:
        assert set(c) == {"name", "domain", "path", "value", "expirationDate"}
        for k in ("name", "domain", "path", "value"):
            assert isinstance(c[k], str)
        assert isinstance(c["expirationDate"], int) and not isinstance(c["expirationDate"], bool)


def test_cookies(workdir, procs):
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    assert td.get(A + "cookies").json() == []
    future = int(time.time()) + 86400 * 30
    given = [
        {"name": "uid", "domain": ".tracker.example", "path": "/", "value": "12345",
         "expirationDate": future},
        {"name": "pass", "domain": "tracker.example", "path": "/dl", "value": "s3cr=t;x",
         "expirationDate": future + 1},
        {"name": "session", "domain": "b.example", "path": "/", "value": "v"},    # no expiry
        {"name": "old", "domain": "c.example", "path": "/", "value": "v", "expirationDate": 1000},
        {"name": 5, "value": None, "expirationDate": 1.5, "extra": "dropped"},
        {"expirationDate": float(future)},
        {},
    ]
    want = [
        given[0], given[1],
        {"name": "session", "domain": "b.example", "path": "/", "value": "v", "expirationDate": -1},
        given[3],
        {"name": "", "domain": "", "path": "", "value": "", "expirationDate": 0},
        {"name": "", "domain": "", "path": "", "value": "", "expirationDate": future},
        {"name": "", "domain": "", "path": "", "value": "", "expirationDate": -1},
    ]
    r = td.req("POST", A + "setCookies", data={"cookies": json.dumps(given)})
    assert r.text == ""
    got = td.get(A + "cookies").json()
    assert got == want
    _types_ok(got)
    assert td.post(A + "cookies").json() == want

    # errors leave the list alone
    _err(td, "POST", A + "setCookies", 400, "Bad Request")
    _err(td, "POST", A + "setCookies", 400, None, data={"cookies": "[{"})
    _err(td, "POST", A + "setCookies", 400, None, data={"cookies": ""})
    _err(td, "POST", A + "setCookies", 400, "cookies must be array", data={"cookies": "{}"})
    _err(td, "POST", A + "setCookies", 400, "cookies must be array",
         data={"cookies": json.dumps({"name": "x"})})
    _err(td, "POST", A + "setCookies", 400, "Bad Request", data={"cookies": json.dumps([{}, 1])})
    _err(td, "POST", A + "setCookies", 400, "Bad Request", data={"cookies": json.dumps([[]])})
    _err(td, "POST", A + "setCookies", 400, "Bad Request", data={"cookies": json.dumps(["a"])})
    _err(td, "GET", A + "setCookies", 405, None, params={"cookies": "[]"})
    _err(td, "POST", A + "setCookies", 400, None, data={"cookies": "[" * 5000 + "]" * 5000})
    _err(td, "POST", A + "setCookies", 400, None,
         data={"cookies": json.dumps([{"name": "n", "value": "v" * 1024}] * 5000)})   # > 4 MiB
    assert td.get(A + "cookies").json() == want

    # a restart keeps the cookies that have not expired and are not session cookies
    td.stop()
    td.start()
    kept = td.get(A + "cookies").json()
    assert kept == [want[0], want[1], want[5]]
    _types_ok(kept)

    td.post(A + "setCookies", cookies=" [ ] ")
    assert td.get(A + "cookies").json() == []
    td.stop()
    td.start()
    assert td.get(A + "cookies").json() == []


# --------------------------------------------------------------------------
# app/sendTestEmail
# --------------------------------------------------------------------------

def test_send_test_email(workdir, procs):
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    r = td.req("POST", A + "sendTestEmail")
    assert r.status_code == 200 and r.text == ""
    _err(td, "GET", A + "sendTestEmail", 405)
    # The default server (smtp.changeme.com) cannot be reached in the test
    # namespace: the failure is logged as a warning, nothing else happens.
    # Delivery to a real SMTP server is tested in test_mail.py.
    wait_until(lambda: any(e["message"].startswith("notification e-mail") and e["type"] == 4
                           for e in td.get("/api/v2/log/main").json()), 20, "the mail failure logged")


# --------------------------------------------------------------------------
# torrents/SSLParameters, setSSLParameters
# --------------------------------------------------------------------------

def _openssl(*args, inp=None):
    return subprocess.run(["openssl"] + list(args), check=True, capture_output=True,
                          input=inp).stdout.decode()


@pytest.fixture(scope="module")
def pems(tmp_path_factory):
    d = tmp_path_factory.mktemp("pem")
    k, c = str(d / "k.pem"), str(d / "c.pem")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", k, "-out", c,
             "-subj", "/CN=torrentd-test", "-days", "2")
    ek, ec = str(d / "ek.pem"), str(d / "ec.pem")
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", ek, "-out", ec, "-subj", "/CN=torrentd-ec", "-days", "2")
    enc = _openssl("pkey", "-in", k, "-aes256", "-passout", "pass:secret")
    ed = _openssl("genpkey", "-algorithm", "ed25519")
    dh = _openssl("genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048")
    read = lambda p: open(p).read()  # noqa: E731
    return {"cert": read(c), "key": read(k), "ec_cert": read(ec), "ec_key": read(ek),
            "enc_key": enc, "ed_key": ed, "dh": dh}


def _pub(key_pem):
    return _openssl("pkey", "-pubout", inp=key_pem.encode())


def test_ssl_parameters(workdir, procs, pems):
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    tb, h = _torrent("ssl")
    tb2, h2 = _torrent("ssl2")
    td.add(tb, td.save_path, stopped=True)
    td.add(tb2, td.save_path, stopped=True)

    empty = {"ssl_certificate": "", "ssl_private_key": "", "ssl_dh_params": ""}
    r = td.req("GET", T + "SSLParameters", params={"hash": h})
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json() == empty
    assert td.post(T + "SSLParameters", hash=h.upper()).json() == empty
    _err(td, "GET", T + "SSLParameters", 400, "Bad Request")
    _err(td, "GET", T + "SSLParameters", 404, "Not Found", params={"hash": UNKNOWN})
    _err(td, "GET", T + "SSLParameters", 404, "Not Found", params={"hash": "xyz"})

    good = {"hash": h, "ssl_certificate": pems["cert"], "ssl_private_key": pems["key"],
            "ssl_dh_params": pems["dh"]}
    # every parameter is required, even for an unknown torrent
    for k in good:
        partial = {x: v for x, v in good.items() if x != k}
        _err(td, "POST", T + "setSSLParameters", 400, "Bad Request", data=partial)
    _err(td, "POST", T + "setSSLParameters", 404, "Not Found", data=dict(good, hash=UNKNOWN))
    _err(td, "GET", T + "setSSLParameters", 405, None, params=good)
    bad = [
        dict(good, ssl_certificate=""), dict(good, ssl_private_key=""), dict(good, ssl_dh_params=""),
        dict(good, ssl_certificate="not a certificate"),
        dict(good, ssl_certificate=pems["cert"].replace("A", "B", 40)),
        dict(good, ssl_certificate=pems["key"]),
        dict(good, ssl_private_key=pems["cert"]),
        dict(good, ssl_private_key=pems["enc_key"]),      # no passphrase to give
        dict(good, ssl_private_key=pems["ed_key"]),       # QSslKey: RSA, EC, DSA only
        dict(good, ssl_dh_params="-----BEGIN DH PARAMETERS-----\nAAAA\n-----END DH PARAMETERS-----\n"),
        dict(good, ssl_dh_params=pems["cert"]),
        dict(good, ssl_certificate="x" * (70 << 10)),
    ]
    for b in bad:
        _err(td, "POST", T + "setSSLParameters", 415, "Unsupported Media Type", data=b)
    assert td.get(T + "SSLParameters", hash=h).json() == empty

    r = td.req("POST", T + "setSSLParameters", data=good)
    assert r.text == ""
    got = td.get(T + "SSLParameters", hash=h).json()
    assert set(got) == set(empty) and all(isinstance(v, str) for v in got.values())
    assert got["ssl_certificate"] == pems["cert"]
    assert got["ssl_private_key"].startswith("-----BEGIN RSA PRIVATE KEY-----")   # QSslKey::toPem
    assert _pub(got["ssl_private_key"]) == _pub(pems["key"])
    assert got["ssl_dh_params"] == pems["dh"]
    assert td.get(T + "SSLParameters", hash=h2).json() == empty

    ec = dict(good, hash=h2, ssl_certificate="junk before\n" + pems["ec_cert"] + pems["cert"],
              ssl_private_key=pems["ec_key"])
    td.post(T + "setSSLParameters", **ec)
    got2 = td.get(T + "SSLParameters", hash=h2).json()
    assert got2["ssl_certificate"] == pems["ec_cert"]          # the first certificate only
    assert got2["ssl_private_key"].startswith("-----BEGIN EC PRIVATE KEY-----")
    assert _pub(got2["ssl_private_key"]) == _pub(pems["ec_key"])

    td.stop()
    td.start()
    assert td.get(T + "SSLParameters", hash=h).json() == got
    assert td.get(T + "SSLParameters", hash=h2).json() == got2

    # a removed and re-added torrent starts without them (another added_on)
    td.delete(h2)
    _err(td, "GET", T + "SSLParameters", 404, "Not Found", params={"hash": h2})
    time.sleep(1.1)
    td.add(tb2, td.save_path, stopped=True)
    assert td.get(T + "SSLParameters", hash=h2).json() == empty
    td.stop()
    td.start()
    assert td.get(T + "SSLParameters", hash=h2).json() == empty
    assert td.get(T + "SSLParameters", hash=h).json() == got


# --------------------------------------------------------------------------
# endpoints qBittorrent 5.1 does not have

MASTER_ONLY = [("POST", A + "rotateAPIKey"), ("POST", A + "deleteAPIKey"), ("GET", A + "processInfo"),
               ("GET", A + "getFreeSpaceAtPath"), ("GET", "/api/v2/transfer/getSpeedLimits"),
               ("POST", "/api/v2/transfer/setSpeedLimits"), ("GET", T + "pieceAvailability"),
               ("POST", T + "fetchMetadata"), ("POST", T + "parseMetadata"), ("GET", T + "saveMetadata"),
               ("GET", T + "downloadFile"), ("POST", T + "setComment"),
               ("POST", "/api/v2/clientdata/load"), ("POST", "/api/v2/clientdata/store")]


def test_master_only_endpoints_are_404(workdir, procs):
    """API >= 2.12 endpoints answer 404 `Not Found` as in qBittorrent 5.1
    (torrentd reports 2.11.4); without a session they are 403 like any
    other API path."""
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    for method, ep in MASTER_ONLY:
        _err(td, method, ep, 404, "Not Found", data={"hash": UNKNOWN, "hashes": UNKNOWN, "path": "/"})
    anon = requests.Session()
    for method, ep in MASTER_ONLY:
        r = anon.request(method, td.base + ep, timeout=10)
        assert r.status_code == 403 and r.text == "Forbidden", (ep, r.status_code, r.text)
