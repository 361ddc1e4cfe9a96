"""Hostile WebUI clients (issue 10): concurrent login guesses.

- 100 wrong-password logins sent at once from one address: at most
  web_ui_max_auth_fail_count of them are evaluated, the rest get the ban
  reply, the ban holds, another address still logs in.
"""
import os
import threading

import requests

from conftest import LEECH_IP
from tdlib import PASSWORD, USER, Torrentd

BANNED = "Your IP address has been banned after too many failed authentication attempts."


class SourceAdapter(requests.adapters.HTTPAdapter):
    def __init__(self, ip):
        self.ip = ip
        super().__init__()

    def init_poolmanager(self, *a, **kw):
        kw["source_address"] = (self.ip, 0)
        super().init_poolmanager(*a, **kw)


def from_ip(ip):
    s = requests.Session()
    s.headers.update({"Accept-Encoding": "identity"})
    s.mount("http://", SourceAdapter(ip))
    return s


# --------------------------------------------------------------------------
# defect 4: concurrent login guesses
# --------------------------------------------------------------------------

def test_concurrent_wrong_logins_are_counted_in_flight(procs, workdir):
    d = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    d.set_prefs({"web_ui_max_auth_fail_count": 5, "web_ui_ban_duration": 600})
    n = 100
    barrier = threading.Barrier(n)
    replies = [None] * n

    def guess(i):
        s = from_ip("127.0.0.6")
        try:
            barrier.wait(30)
            r = s.post(d.base + "/api/v2/auth/login", data={"username": USER, "password": "guess-%d" % i},
                       timeout=120)
            replies[i] = (r.status_code, r.text)
        except Exception as e:   # noqa: BLE001 - recorded, asserted below
            replies[i] = ("error", repr(e))

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    fails = sum(1 for r in replies if r == (200, "Fails."))
    banned = sum(1 for r in replies if r == (403, BANNED))
    print("\n100 concurrent wrong logins: %d evaluated (Fails.), %d refused (ban reply)" % (fails, banned))
    assert fails + banned == n, [r for r in replies if r not in ((200, "Fails."), (403, BANNED))][:5]
    assert 1 <= fails <= 5
    # banned now, even with the right password
    r = from_ip("127.0.0.6").post(d.base + "/api/v2/auth/login", data={"username": USER, "password": PASSWORD},
                                  timeout=30)
    assert (r.status_code, r.text) == (403, BANNED)
    # another address is not
    r = from_ip("127.0.0.7").post(d.base + "/api/v2/auth/login", data={"username": USER, "password": PASSWORD},
                                  timeout=30)
    assert (r.status_code, r.text) == (200, "Ok.")


def test_success_clears_pending_count(procs, workdir):
    """Right-password logins sent at once all succeed (none is failed, so none
    may count towards a ban), and afterwards wrong guesses start from zero."""
    d = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    d.set_prefs({"web_ui_max_auth_fail_count": 5, "web_ui_ban_duration": 600})
    s = from_ip("127.0.0.6")
    for i in range(4):
        assert s.post(d.base + "/api/v2/auth/login", data={"username": USER, "password": "x%d" % i},
                      timeout=30).text == "Fails."
    r = from_ip("127.0.0.6").post(d.base + "/api/v2/auth/login", data={"username": USER, "password": PASSWORD},
                                  timeout=30)
    assert (r.status_code, r.text) == (200, "Ok.")
    for i in range(4):     # cleared: four more failures are not a ban
        assert s.post(d.base + "/api/v2/auth/login", data={"username": USER, "password": "y%d" % i},
                      timeout=30).text == "Fails."
