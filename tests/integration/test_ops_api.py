"""The operations API (qBitrr's WebUI API, seed 003; web/api/ops_*.c):
token auth with and without a token (X-API-Token and Bearer, the 401 body,
the WebUI session, the login ban), /health and /api/health without auth,
GET /api/logs filtering and the file log tail, POST /api/loglevel, the
/api/config round trip with its validation (400 naming the key, nothing
half-applied, secrets redacted and kept), /api/status, /api/processes and
restarting subsystems."""
import json
import os
import re

import requests

from conftest import LEECH_IP
from tdlib import Torrentd, http_session, wait_until

UNAUTH = {"error": "unauthorized"}
BAN = "Your IP address has been banned after too many failed authentication attempts."


def _start(procs, workdir, name="ops"):
    return procs.add(Torrentd(os.path.join(workdir, name), LEECH_IP, name=name)).start()


def _anon(td, path, method="GET", headers=None, **kw):
    """A request without the WebUI session."""
    s = http_session()
    return s.request(method, td.base + path, headers=headers or {}, timeout=30, **kw)


def _config(td, changes, ok=(200,)):
    return td.req("POST", "/api/config", ok=ok, json={"changes": changes})


def _set_token(td, token):
    r = _config(td, {"WebUI.Token": token})
    assert r.json()["status"] == "ok", r.text


# --------------------------------------------------------------------------
# auth
# --------------------------------------------------------------------------

def test_no_token_needs_the_webui_session(procs, workdir):
    """Without a configured token the ops API is never open: the WebUI
    session works, a request without it gets qBittorrent's 403; /health is
    public."""
    td = _start(procs, workdir)
    for path in ("/api/processes", "/api/status", "/api/logs", "/api/config", "/api/token", "/api/arr"):
        assert _anon(td, path).status_code == 403, path
        assert td.req("GET", path).status_code == 200, path
    assert td.req("GET", "/api/token").json() == {"token": ""}
    # a token header does not open anything while no token is configured
    assert _anon(td, "/api/processes", headers={"X-API-Token": "x"}).status_code == 403
    for path in ("/health", "/api/health"):
        r = _anon(td, path)
        assert r.status_code == 200 and r.json()["status"] in ("ok", "degraded"), r.text


def test_token_both_headers_and_401(procs, workdir):
    td = _start(procs, workdir)
    td.set_prefs({"web_ui_max_auth_fail_count": 0})   # many wrong tokens below: no ban here
    _set_token(td, "s3cret-token")
    for path in ("/api/processes", "/api/status", "/api/logs", "/api/config", "/api/token"):
        r = _anon(td, path)
        assert r.status_code == 401 and r.json() == UNAUTH, (path, r.status_code, r.text)
        assert r.headers["Content-Type"].startswith("application/json")
        r = _anon(td, path, headers={"X-API-Token": "s3cret-token"})
        assert r.status_code == 200, (path, r.text)
        r = _anon(td, path, headers={"Authorization": "Bearer s3cret-token"})
        assert r.status_code == 200, (path, r.text)
        for bad in ({"X-API-Token": "s3cret-tokeN"}, {"Authorization": "Bearer nope"},
                    {"X-API-Token": "s3cret-token-and-more"}):
            r = _anon(td, path, headers=bad)
            assert r.status_code == 401 and r.json() == UNAUTH, (path, bad, r.text)
        # the logged-in WebUI keeps working
        assert td.req("GET", path).status_code == 200
    # the WebUI hands the token to scripts
    assert td.req("GET", "/api/token").json() == {"token": "s3cret-token"}
    assert _anon(td, "/api/token", headers={"X-API-Token": "s3cret-token"}).json() == {"token": "s3cret-token"}
    # health stays public; qBittorrent's API is not opened by the token
    assert _anon(td, "/api/health").status_code == 200
    assert _anon(td, "/health").status_code == 200
    assert _anon(td, "/api/v2/app/preferences", headers={"X-API-Token": "s3cret-token"}).status_code == 403
    # POSTs too
    r = _anon(td, "/api/loglevel", "POST", headers={"Authorization": "Bearer s3cret-token"}, json={"level": "INFO"})
    assert r.status_code == 200 and r.json() == {"status": "ok", "level": "INFO"}, r.text
    r = _anon(td, "/api/loglevel", "POST", json={"level": "INFO"})
    assert r.status_code == 401 and r.json() == UNAUTH
    # the token changes live
    _set_token(td, "other")
    assert _anon(td, "/api/status", headers={"X-API-Token": "s3cret-token"}).status_code == 401
    assert _anon(td, "/api/status", headers={"X-API-Token": "other"}).status_code == 200
    # and survives a restart
    td.stop()
    td.start()
    assert _anon(td, "/api/status", headers={"X-API-Token": "other"}).status_code == 200
    assert _anon(td, "/api/status", headers={"X-API-Token": "s3cret-token"}).status_code == 401


def test_token_failures_ban(procs, workdir):
    """Wrong tokens count toward the WebUI's login ban: after
    web_ui_max_auth_fail_count of them the address is banned, even with the
    right token; a missing token does not count."""
    td = _start(procs, workdir)
    _set_token(td, "right")
    td.set_prefs({"web_ui_max_auth_fail_count": 3, "web_ui_ban_duration": 600})
    for _ in range(5):
        assert _anon(td, "/api/status").status_code == 401   # no token: not counted
    assert _anon(td, "/api/status", headers={"X-API-Token": "right"}).status_code == 200
    for i in range(3):
        r = _anon(td, "/api/status", headers={"X-API-Token": "wrong%d" % i})
        assert r.status_code == 401, r.text
    r = _anon(td, "/api/status", headers={"X-API-Token": "right"})
    assert r.status_code == 403 and r.text == BAN, (r.status_code, r.text)
    r = _anon(td, "/api/status", headers={"Authorization": "Bearer right"})
    assert r.status_code == 403
    msgs = [m["message"] for m in td.get("/api/v2/log/main").json()]
    assert sum("invalid API token" in m for m in msgs) == 3, msgs[-10:]


# --------------------------------------------------------------------------
# health
# --------------------------------------------------------------------------

def test_health_fields(procs, workdir):
    td = _start(procs, workdir)
    h = _anon(td, "/api/health").json()
    assert h["status"] == "ok", h
    assert h["problems"] == []
    c = h["checks"]
    assert c["listen"] == {"port": td.listen_port, "bound": True}
    assert c["dht"] == {"enabled": False, "running": False, "nodes": 0}
    assert c["trackers"] == {"torrents_failing": 0}
    assert c["automation"]["state"] == "not configured"
    disk = [d for d in c["disk"] if d["what"] == "default save path"]
    assert disk and disk[0]["path"] == td.save_path and disk[0]["free_bytes"] > 0 and disk[0]["ok"] is True
    g = c["free_space_guard"]
    assert g["enabled"] is False and g["folder"] == td.save_path and g["floor_bytes"] == -1 and g["paused"] == 0
    # a floor above what the disk has: degraded, naming the disk
    _config(td, {"Ops.FreeSpace": disk[0]["free_bytes"] * 1000})
    h = _anon(td, "/health").json()
    assert h["status"] == "degraded"
    assert h["checks"]["free_space_guard"]["enabled"] is True
    assert any(p.startswith("disk: ") and td.save_path in p for p in h["problems"]), h["problems"]
    # DHT switched on but not running is reported; off again: fine
    _config(td, {"Ops.FreeSpace": -1})
    assert _anon(td, "/health").json()["status"] == "ok"


# --------------------------------------------------------------------------
# logs
# --------------------------------------------------------------------------

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def test_logs_filtering(procs, workdir):
    td = _start(procs, workdir)
    _set_token(td, "tok")
    # a warning from the WebUI (a wrong token) and an Ops info line
    assert _anon(td, "/api/status", headers={"X-API-Token": "bad"}).status_code == 401
    td.req("POST", "/api/loglevel", json={"level": "debug"})
    logs = td.get("/api/logs", limit=10000).json()["logs"]
    assert logs, "empty log"
    for e in logs:
        assert set(e) >= {"timestamp", "level", "source", "message"}, e
        assert ISO.match(e["timestamp"]), e
        assert e["level"] in ("INFO", "WARNING", "CRITICAL"), e
    main = [m["message"] for m in td.get("/api/v2/log/main").json()]
    # the same log as v2 log/main, same order (it may have grown since)
    assert [e["message"] for e in logs] == main[:len(logs)]
    warn = td.get("/api/logs", level="WARNING", limit=10000).json()["logs"]
    assert warn and all(e["level"] in ("WARNING", "CRITICAL") for e in warn)
    assert any("invalid API token" in e["message"] and e["source"] == "WebUI" for e in warn), warn
    assert len(warn) < len(logs)
    ops = td.get("/api/logs", source="Ops", limit=10000).json()["logs"]
    assert ops and all(e["source"] == "Ops" for e in ops)
    assert any(e["message"] == "Ops: log level set to DEBUG" for e in ops), ops
    assert td.get("/api/logs", source="ops", level="WARNING").json()["logs"] == []
    two = td.get("/api/logs", limit=2).json()["logs"]
    assert two == logs[-2:] or len(two) == 2     # the newest two (more may have been logged since)
    assert min(100, len(logs)) <= len(td.get("/api/logs").json()["logs"]) <= 100   # limit's default: 100
    for bad in ({"level": "LOUD"}, {"limit": "0"}, {"limit": "x"}):
        r = td.req("GET", "/api/logs", ok=(400,), params=bad)
        assert "error" in r.json()
    # loglevel: the default filter of GET /api/logs
    r = td.req("POST", "/api/loglevel", ok=(400,), json={"level": "LOUD"})
    assert "error" in r.json()
    assert td.req("POST", "/api/loglevel", json={"level": "WARNING"}).json() == {"status": "ok", "level": "WARNING"}
    assert all(e["level"] != "INFO" for e in td.get("/api/logs", limit=10000).json()["logs"])
    td.req("POST", "/api/loglevel", json={"level": "INFO"})


def test_log_file_tail(procs, workdir):
    td = _start(procs, workdir)
    logs = os.path.join(workdir, "ops", "logs")
    td.set_prefs({"file_log_enabled": True, "file_log_path": logs})
    path = os.path.join(logs, "qbittorrent.log")
    wait_until(lambda: os.path.exists(path), 10, "the log file")
    for lv in ("DEBUG", "INFO", "WARNING", "INFO"):
        td.req("POST", "/api/loglevel", json={"level": lv})
    wait_until(lambda: "log level set to INFO" in open(path).read().splitlines()[-1], 10, "the lines in the file")
    lines = open(path).read().splitlines(keepends=True)
    assert "qbittorrent.log" in td.get("/api/logs").json()["files"]
    j = td.get("/api/logs/qbittorrent.log", lines=2, format="json").json()
    assert set(j) == {"content", "next_bytes", "size", "inode", "rotated", "truncated"}
    # lines written after the read above would only add to the end
    assert j["content"] == "".join(lines[-2:]) or j["size"] > len("".join(lines).encode())
    assert j["truncated"] is True and j["inode"] == os.stat(path).st_ino
    j = td.get("/api/logs/qbittorrent.log", lines=2, offset=2, format="json").json()
    assert j["content"] == "".join(lines[-4:-2])
    r = td.get("/api/logs/qbittorrent.log", lines=3, offset=1)
    assert r.headers["Content-Type"].startswith("text/plain")
    assert r.text == "".join(lines[-4:-1])
    assert td.get("/api/logs/Main.log", lines=3, offset=1).text == r.text     # qBitrr's name
    j = td.get("/api/logs/qbittorrent.log", lines=50000, format="json").json()
    assert j["content"].startswith(lines[0]) and j["truncated"] is False
    assert td.get("/api/logs/qbittorrent.log", offset=100000, format="json").json()["content"] == ""
    for name in ("nope.log", "qbittorrent.log..", "qbittorrent.log.bak"):
        assert td.req("GET", "/api/logs/" + name, ok=(404,)).json()["error"]
    td.req("GET", "/api/logs/qbittorrent.log", ok=(400,), params={"lines": "-1"})


# --------------------------------------------------------------------------
# config
# --------------------------------------------------------------------------

def test_config_round_trip_and_validation(procs, workdir):
    td = _start(procs, workdir)
    c = td.get("/api/config").json()
    assert set(c) == {"Preferences", "Ops", "WebUI"}
    assert c["Preferences"]["dl_limit"] == td.prefs()["dl_limit"]
    assert c["Ops"]["StalledDelay"] == -1 and c["Ops"]["FreeSpace"] == -1
    assert c["Ops"]["SeedingRules"] == [] and c["Ops"]["Arr"] == []
    assert c["WebUI"] == {"Token": ""}

    rules = [{"Tracker": "tracker.example", "MaxUploadRatio": 2.5, "RemoveTorrent": 1}]
    arr = [{"Name": "Sonarr-TV", "Type": "sonarr", "URI": "http://127.0.0.1:1/", "APIKey": "k3y",
            "Category": "tv"}]
    r = _config(td, {"Ops.StalledDelay": 30, "Preferences.dl_limit": 123456, "Ops.ManagedCategories": "tv, movies",
                     "Ops.SeedingRules": rules, "Ops.Arr": arr, "WebUI.Token": "t0k",
                     "Ops.MaximumDeletablePercentage": 0.5})
    assert r.json()["status"] == "ok" and r.json()["configReloaded"] is True
    c = td.get("/api/config").json()
    assert c["Ops"]["StalledDelay"] == 30 and c["Ops"]["ManagedCategories"] == "tv, movies"
    assert c["Ops"]["MaximumDeletablePercentage"] == 0.5
    assert c["Preferences"]["dl_limit"] == 123456 and td.prefs()["dl_limit"] == 123456
    assert c["Ops"]["SeedingRules"] == rules
    assert c["Ops"]["Arr"] == [dict(arr[0], APIKey="********")]      # secrets redacted
    assert c["WebUI"]["Token"] == "********"
    # the redacted values sent back keep the secrets
    _config(td, {"WebUI.Token": "********", "Ops.Arr": c["Ops"]["Arr"]})
    assert td.get("/api/token").json() == {"token": "t0k"}
    assert _anon(td, "/api/status", headers={"X-API-Token": "t0k"}).status_code == 200
    # validation: 400 naming the key, and nothing of the batch applied
    bad = [
        ({"Ops.StalledDelay": "soon"}, "Ops.StalledDelay"),
        ({"Ops.StalledDelay": -5}, "Ops.StalledDelay"),
        ({"Ops.MaximumDeletablePercentage": 1.5}, "Ops.MaximumDeletablePercentage"),
        ({"Ops.NoSuchKey": 1}, "Ops.NoSuchKey"),
        ({"Nope": 1}, "Nope"),
        ({"Preferences.no_such_pref": 1}, "Preferences.no_such_pref"),
        ({"Preferences.dl_limit": "fast"}, "Preferences.dl_limit"),
        ({"Preferences.listen_port": 70000}, "Preferences.listen_port"),
        ({"Ops.RemoveStalled": 1}, "Ops.RemoveStalled"),
        ({"Ops.SeedingRules": [{"Tracker": "x", "RemoveTorrent": 7}]}, "Ops.SeedingRules"),
        ({"Ops.SeedingRules": {"Tracker": "x"}}, "Ops.SeedingRules"),
        ({"Ops.Arr": [{"Name": "x", "Type": "plex", "URI": "http://h", "APIKey": "k", "Category": "c"}]},
         "Ops.Arr"),
        ({"Ops.Arr": [{"Name": "x", "Type": "radarr", "URI": "ftp://h", "APIKey": "k", "Category": "c"}]},
         "Ops.Arr"),
    ]
    before = td.get("/api/config").json()
    for change, key in bad:
        for first in (True, False):
            # a good change before and after the bad one: neither applied
            good = {"Preferences.up_limit": 777, "Ops.FreeSpace": 4096}
            batch = dict(list(good.items()) + list(change.items())) if first else dict(
                list(change.items()) + list(good.items()))
            r = _config(td, batch, ok=(400,))
            assert r.json()["error"].startswith(key + ":"), (change, r.text)
            assert td.get("/api/config").json() == before, change
    for body in ({}, {"changes": []}, {"changes": "x"}):
        assert td.req("POST", "/api/config", ok=(400,), json=body).json()["error"]
    assert td.req("POST", "/api/config", ok=(400,), data="not json",
                  headers={"Content-Type": "application/json"}).json()["error"]
    # null: back to the default
    _config(td, {"Ops.StalledDelay": None, "Ops.ManagedCategories": None})
    c = td.get("/api/config").json()
    assert c["Ops"]["StalledDelay"] == -1 and c["Ops"]["ManagedCategories"] == ""
    # persisted
    td.stop()
    td.start()
    c2 = td.get("/api/config").json()
    assert c2 == c
    assert td.get("/api/token").json() == {"token": "t0k"}


# --------------------------------------------------------------------------
# status, processes
# --------------------------------------------------------------------------

def _procs(td):
    return {p["name"]: p for p in td.get("/api/processes").json()["processes"]}


def test_status_and_processes(procs, workdir):
    td = _start(procs, workdir)
    st = td.get("/api/status").json()
    assert st["qbit"]["alive"] is True and st["qbit"]["version"] == "v5.1.4"
    assert st["qbit"]["port"] == td.webui_port and st["ready"] is True
    assert st["arrs"] == [] and isinstance(st["qbitInstances"], dict)

    p = _procs(td)
    assert set(p) >= {"engine", "dht", "rss", "watched_folders", "automation"}
    for v in p.values():
        assert set(v) >= {"name", "category", "status", "pid", "uptime"}, v
    assert p["engine"]["status"] == "running" and p["engine"]["pid"] == td.pid
    assert p["dht"]["status"] == "stopped" and p["dht"]["pid"] == 0
    assert p["automation"]["status"] == "not configured"
    assert p["rss"]["status"] == "stopped"

    def restart(name, code):
        r = td.req("POST", "/api/processes/%s/restart" % name, ok=(code,))
        return r.json()
    assert "error" in restart("dht", 409)         # DHT off in the preferences
    assert "error" in restart("rss", 409)
    assert "error" in restart("engine", 400)
    assert "error" in restart("automation", 400)
    assert "error" in restart("nosuch", 404)
    td.req("POST", "/api/processes/dht/restart/more", ok=(404,))
    td.req("POST", "/api/processes/watched_folders/bogus/restart", ok=(400,))
    assert td.req("POST", "/api/processes/watched_folders/all/restart").json() == {
        "status": "ok", "restarted": ["watched_folders"]}             # qBitrr's path form
    td.req("GET", "/api/processes/dht/restart", ok=(405,))
    assert restart("watched_folders", 200) == {"status": "ok", "restarted": ["watched_folders"]}

    td.set_prefs({"dht": True, "dht_bootstrap_nodes": ""})
    wait_until(lambda: _procs(td)["dht"]["status"] == "running", 10, "DHT running")
    wait_until(lambda: _procs(td)["dht"]["uptime"] >= 2, 10, "DHT up 2 s")
    assert restart("dht", 200) == {"status": "ok", "restarted": ["dht"]}
    p = _procs(td)
    assert p["dht"]["status"] == "running" and p["dht"]["uptime"] < 2 and p["dht"]["pid"] == td.pid
    assert any(m["message"] == "Ops: DHT restarted" for m in td.get("/api/v2/log/main").json())
    td.set_prefs({"rss_processing_enabled": True})
    assert restart("rss", 200) == {"status": "ok", "restarted": ["rss"]}
    assert _procs(td)["rss"]["status"] == "running"
    r = td.req("POST", "/api/processes/restart_all").json()
    assert r == {"status": "ok", "restarted": ["dht", "rss", "watched_folders"]}, r
