"""app/preferences byte for byte: the whole body (key order, JSON types,
number formats) of a fresh daemon, after a setPreferences touching every
JSON type (an integer given for a real, an object, strings with escapes)
and after a restart (the values read back from the store).  The golden
files were captured from the build before the typed-settings rewrite
(core/settings + web/api/qbt_v2_prefs); machine-dependent values (ports,
paths, addresses) are replaced by placeholders first.  Regenerate with
TD_GOLDEN_WRITE=1 only when the output is meant to change."""
import json
import os
import re

from conftest import LEECH_IP
from tdlib import Torrentd

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")

CHANGES = {"max_ratio": 2, "max_ratio_enabled": True, "max_seeding_time": 90,
           "scan_dirs": {"/tmp/watch": 0, "/tmp/w2": "/tmp/out"},
           "web_ui_domain_list": "a.example;b.\"quoted\"\\x", "dl_limit": 123456,
           "queueing_enabled": True, "max_active_downloads": 7, "proxy_type": "SOCKS5",
           "slow_torrent_inactive_timer": 0, "dht": False, "no_such_key": 5,
           "banned_IPs": "10.0.0.2\n10.0.0.1", "random_port": False,
           "torrent_content_layout": "Subfolder", "alt_up_limit": 0}


def _masked(td):
    body = td.get("/api/v2/app/preferences").text
    for k, v in ((r'"save_path":"[^"]*"', '"save_path":"@SAVE@"'),
                 (r'"listen_port":\d+', '"listen_port":@PORT@'),
                 (r'"web_ui_port":\d+', '"web_ui_port":@WEBPORT@'),
                 (r'"current_interface_address":"[^"]*"', '"current_interface_address":"@ADDR@"')):
        body, n = re.subn(k, v, body)
        assert n == 1, k
    # qBittorrent's file log folder defaults to <data dir>/logs: ours is the profile's
    logs = '"file_log_path":%s' % json.dumps(os.path.join(td.profile, "logs"))
    assert body.count(logs) == 1, logs
    return body.replace(logs, '"file_log_path":"@LOGS@"')


def _check(body, name):
    path = os.path.join(HERE, name)
    if os.environ.get("TD_GOLDEN_WRITE"):
        with open(path, "w") as f:
            f.write(body)
    with open(path) as f:
        assert body == f.read()


def test_preferences_byte_for_byte(procs, tmp_path):
    td = procs.add(Torrentd(str(tmp_path / "td"), LEECH_IP)).start(login=True)
    # start() turned dht/lsd/pex/upnp off
    _check(_masked(td), "prefs_fresh.json")
    td.set_prefs(CHANGES)
    _check(_masked(td), "prefs_changed.json")
    assert json.loads(td.get("/api/v2/app/preferences").text)["max_ratio"] == 2.0
    td.stop()
    td.start()
    _check(_masked(td), "prefs_changed.json")


def test_old_profile_rows_load(procs, tmp_path):
    """`prefs` rows as the jansson-object store wrote them (each value
    JSON-encoded, objects in insertion order, a real written as an integer
    by hand, a key no longer known) load unchanged into the typed settings."""
    import sqlite3
    td = procs.add(Torrentd(str(tmp_path / "td"), LEECH_IP)).start(login=True)
    td.stop()
    db = sqlite3.connect(os.path.join(td.profile, "torrentd.db"))
    rows = {"max_ratio": "3", "max_ratio_enabled": "true", "scan_dirs": '{"/z":1,"/a":0}',
            "web_ui_domain_list": '"x.example"', "max_active_downloads": "9",
            "start_paused_enabled": "true", "banned_IPs": '"10.1.1.1"'}
    with db:
        db.executemany("INSERT OR REPLACE INTO prefs(key, value) VALUES(?, ?)", rows.items())
    db.close()
    td.start()
    p = td.prefs()
    assert p["max_ratio"] == 3.0 and isinstance(p["max_ratio"], float)
    assert p["max_ratio_enabled"] is True and p["max_active_downloads"] == 9
    assert p["scan_dirs"] == {"/z": 1, "/a": 0}
    assert p["web_ui_domain_list"] == "x.example" and p["banned_IPs"] == "10.1.1.1"
    assert "start_paused_enabled" not in p
