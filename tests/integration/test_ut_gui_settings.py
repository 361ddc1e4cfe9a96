"""/gui/ getsettings/setsetting and the WebUI account (web/api/ut_gui_settings.c,
core/ut_settings.c): the official µTorrent WebUI's account fields
webui.username and webui.password (its Settings > Web UI page sends them
with setsetting, only when changed), the password shown as a placeholder and
stored only as qBittorrent's PBKDF2 hash, and the read-only guest's
getsettings without the account's rows."""
import os
import sqlite3

from conftest import LEECH_IP
from tdlib import PASSWORD, USER, Torrentd, wait_until
from test_ut_gui import Gui, set_rows

PLACEHOLDER = "********"
ACCOUNT_ROWS = ("admin_name", "webui.username", "webui.password", "admin_password")


def start(procs, tmp_path):
    td = procs.add(Torrentd(str(tmp_path / "td"), LEECH_IP)).start()
    set_rows(td, {"ut_webui_guest_enabled": "true"})
    return td


def settings(g):
    return {r[0]: r for r in g.ok(("action", "getsettings"))["settings"]}


def setsetting(g, *pairs):
    q = [("action", "setsetting")]
    for k, v in pairs:
        q += [("s", k), ("v", v)]
    return g.call(*q)


def stored_hash(td):
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(td.profile, "torrentd.db"), uri=True, timeout=10)
    try:
        row = db.execute("SELECT value FROM prefs WHERE key = 'web_ui_password_hash'").fetchone()
    finally:
        db.close()
    return row[0] if row else None


def basic_status(td, user, password):
    return Gui(td, user=user, password=password).s.get(td.base + "/gui/token.html", timeout=30).status_code


def test_webui_password_and_username(procs, tmp_path):
    td = start(procs, tmp_path)
    g = Gui(td)
    g.get_token()
    rows = settings(g)
    # The account as the official WebUI reads it: the name, a placeholder.
    assert rows["webui.username"][1:] == [2, USER, {"access": "Y"}]
    assert rows["webui.password"][1:] == [2, PLACEHOLDER, {"access": "Y"}]
    text = g.raw([("action", "getsettings")]).text
    assert PASSWORD not in text and "@ByteArray" not in text
    old_hash = stored_hash(td)

    # The placeholder sent back changes nothing; an empty password is refused.
    assert "error" not in setsetting(g, ("webui.password", PLACEHOLDER))
    assert stored_hash(td) == old_hash
    r = setsetting(g, ("webui.password", ""), ("max_dl_rate", "7"))
    assert "webui.password: must not be empty" in r["error"]
    assert settings(g)["max_dl_rate"][2] == "-1", "all or nothing"
    assert basic_status(td, USER, PASSWORD) == 200

    # A new name and password: live for /gui/ Basic and for the v2 login,
    # the old ones refused, only the PBKDF2 hash stored.
    new_pw = "N3w-webui-pass"
    assert "error" not in setsetting(g, ("webui.username", "boss"), ("webui.password", new_pw))
    h = stored_hash(td)
    assert h != old_hash and h.startswith('"@ByteArray(') and new_pw not in h
    wait_until(lambda: basic_status(td, "boss", new_pw) == 200, 10, "new credentials accepted")
    assert basic_status(td, USER, PASSWORD) == 401
    assert basic_status(td, "boss", PASSWORD) == 401
    s = td.new_session()
    r = s.post(td.base + "/api/v2/auth/login", data={"username": "boss", "password": new_pw}, timeout=30)
    assert r.text == "Ok."
    g2 = Gui(td, user="boss", password=new_pw)
    g2.get_token()
    assert settings(g2)["webui.password"][2] == PLACEHOLDER
    with open(os.path.join(td.profile, "torrentd.db"), "rb") as f:
        assert new_pw.encode() not in f.read()


def test_guest_getsettings_without_account(procs, tmp_path):
    td = start(procs, tmp_path)
    admin = Gui(td)
    admin.get_token()
    assert "admin_name" in settings(admin)
    g = Gui(td, user="guest", password="whatever")
    g.get_token()
    rows = settings(g)
    for k in ACCOUNT_ROWS:
        assert k not in rows, k
    assert "max_dl_rate" in rows and "bind_port" in rows, "the rest is still readable"
    text = g.raw([("action", "getsettings")]).text
    assert '"%s"' % USER not in text, "the admin's name is nowhere in the guest's view"
    r = g.raw([("action", "setsetting"), ("s", "webui.password"), ("v", "x")])
    assert r.status_code == 400 and r.text == "invalid request"
    assert basic_status(td, USER, PASSWORD) == 200
