"""Differential test: the same scripted calls against torrentd and against
Debian's qbittorrent-nox 4.5.2, both on loopback, compared call by call.

Per call: HTTP status, body kind (empty / text / json-object / json-array),
plain-text bodies where a client reads them (Ok./Fails., every error text),
and for JSON the key sets and JSON types of every object, recursively (arrays
of objects: the union of the element key sets; maps keyed by data such as
hashes or category names: the union of their values). Values may differ,
except where a step asks for them (array lengths, enum values).

torrentd speaks qBittorrent 5.1 (API 2.11.4), the reference is 4.5.2 (API
2.8.19): every deliberate difference is one row of DIFFERENCES below, and the
same table is in docs/api-coverage.md ("Deliberate differences from
qbittorrent-nox 4.5.2"); test_differences_documented keeps the two equal
(`python3 tests/integration/test_diff_qbt.py --doc` prints the section).

Each scripted case is its own parametrized test, so an endpoint torrentd does
not serve yet fails its own case and hides nothing else.
"""
import fnmatch
import json
import os
import random
import re
import sys
import time

import pytest
import requests

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tdlib import (REPO, PASSWORD, Qbt, Torrentd, bencode, infohash, loip, piece_hashes,  # noqa: E402
                   wait_until)

TD_IP, QBT_IP = loip(6), loip(7)
PL = 16384
UNKNOWN = "0123456789abcdef0123456789abcdef01234567"

# --------------------------------------------------------------------------
# the deliberate differences (5.1 behaviour of torrentd vs 4.5.2)
# --------------------------------------------------------------------------
# kind:  map      - torrentd is called by the 5.x name, 4.5.2 by the 4.x one
#        value    - same shape, the values differ as listed (mapped before comparing)
#        extra    - keys/endpoints torrentd has and 4.5.2 has not
#        missing  - keys 4.5.2 has and torrentd has not
#        type     - same key, another JSON type
#        omit     - torrentd may leave the key out when it would be empty
#        partial  - only compared for consistency, not equality
#        only5    - endpoint absent in 4.5.2: torrentd checked on its own
# match: "endpoint:json-path" globs ($ = root, .key, [] = array element,
#        .* = any key of a map) the row allows; empty for documentation-only rows.

PREF_5_ONLY = [
    # keys of 5.1's app/preferences that 4.5.2 lacks (API 2.9-2.11.4)
    "add_stopped_enabled", "proxy_bittorrent", "proxy_misc", "proxy_rss",
    "max_inactive_seeding_time", "max_inactive_seeding_time_enabled", "add_to_top_of_queue",
    "torrent_content_remove_option", "torrent_file_size_limit", "mark_of_the_web",
    "ignore_ssl_errors", "python_executable_path", "bdecode_depth_limit", "bdecode_token_limit",
    "dht_bootstrap_nodes", "socket_send_buffer_size", "socket_receive_buffer_size",
    "i2p_enabled", "i2p_address", "i2p_port", "i2p_mixed_mode", "i2p_inbound_quantity",
    "i2p_outbound_quantity", "i2p_inbound_length", "i2p_outbound_length",
    "file_log_enabled", "file_log_path", "file_log_backup_enabled", "file_log_max_size",
    "file_log_delete_old", "file_log_age", "file_log_age_type", "performance_warning",
    "status_bar_external_ip", "delete_torrent_content_files", "confirm_torrent_recheck",
    "confirm_torrent_deletion", "app_instance_name", "refresh_interval",
    "memory_working_set_limit", "disk_io_type", "disk_io_read_mode", "disk_io_write_mode",
    "embedded_tracker_port_forwarding", "resume_data_storage_type",
    "use_unwanted_folder", "excluded_file_names_enabled", "excluded_file_names",
    "autorun_on_torrent_added_enabled", "autorun_on_torrent_added_program",
    "hashing_threads", "reannounce_when_address_changed", "ssl_enabled", "ssl_listen_port",
    "add_trackers_from_url_enabled", "add_trackers_url", "add_trackers_url_list",
    "torrent_stop_condition", "merge_trackers", "use_category_paths_in_manual_mode",
    "web_ui_reverse_proxies_list", "max_active_checking_torrents", "peer_turnover",
    "peer_turnover_cutoff", "peer_turnover_interval", "request_queue_size",
    "max_concurrent_http_announces", "connection_speed", "socket_backlog_size",
    "announce_port", "current_interface_name", "save_statistics_interval",
    "rss_fetch_delay",
]

TORRENT_5_ONLY = ["root_path", "popularity", "reannounce", "comment", "private", "has_metadata",
                  "max_inactive_seeding_time", "inactive_seeding_time_limit"]


def _torrent_paths(keys):
    return ["torrents/info:$[].%s" % k for k in keys] + \
           ["sync/maindata:$.torrents.*.%s" % k for k in keys]


DIFFERENCES = [
    dict(id="D1", kind="value", where="app/version, app/webapiVersion",
         what="`v5.1.4` / `2.11.4` instead of `v4.5.2` / `2.8.19`",
         why="torrentd identifies as 5.1.4 (api-surface §0: qbit_manage and qbittorrent-api need a known version)",
         match=[]),
    dict(id="D2", kind="map", where="torrents/stop, torrents/start",
         what="called as torrents/pause, torrents/resume on 4.5.2",
         why="API 2.11.0 renamed them; torrentd serves both names",
         match=[]),
    dict(id="D3", kind="map", where="torrents/info `filter`",
         what="`stopped`/`running` called as `paused`/`resumed` on 4.5.2",
         why="API 2.11.0 renamed the filters; torrentd accepts both",
         match=[]),
    dict(id="D4", kind="map", where="torrents/add `stopped`",
         what="sent as `paused` to 4.5.2",
         why="API 2.11.0 renamed the option; torrentd accepts both",
         match=[]),
    dict(id="D5", kind="value", where="torrent `state`",
         what="`stoppedUP`/`stoppedDL` where 4.5.2 says `pausedUP`/`pausedDL`",
         why="5.x state names (what a 2.11.4 server emits)",
         match=[]),
    dict(id="D6", kind="extra", where="torrents/info element, sync/maindata torrent",
         what="+ " + ", ".join("`%s`" % k for k in TORRENT_5_ONLY),
         why="5.x fields (the inactive-seeding pair since 4.6, `private`/`has_metadata` since 5.1)",
         match=_torrent_paths(TORRENT_5_ONLY)),
    dict(id="D7", kind="type", where="torrents/info `private`",
         what="bool, or null without metadata",
         why="5.1 field (D6); null only for a magnet without metadata",
         match=_torrent_paths(["private"])),
    dict(id="D8", kind="extra", where="torrents/properties",
         what="+ `popularity`, `private`, `has_metadata`, `progress`",
         why="5.x / 5.1 fields",
         match=["torrents/properties:$.%s" % k for k in ("popularity", "private", "has_metadata", "progress")]),
    dict(id="D9", kind="extra", where="transfer/info, sync/maindata server_state",
         what="+ `last_external_address_v4`, `last_external_address_v6`; server_state + `use_subcategories`",
         why="5.x fields",
         match=["transfer/info:$.last_external_address_v4", "transfer/info:$.last_external_address_v6",
                "sync/maindata:$.server_state.last_external_address_v4",
                "sync/maindata:$.server_state.last_external_address_v6",
                "sync/maindata:$.server_state.use_subcategories"]),
    dict(id="D10", kind="extra", where="app/buildInfo",
         what="+ `platform`",
         why="5.x field",
         match=["app/buildInfo:$.platform"]),
    dict(id="D11", kind="missing", where="app/preferences",
         what="`start_paused_enabled` → `add_stopped_enabled`; `proxy_torrents_only` → "
              "`proxy_bittorrent`/`proxy_misc`/`proxy_rss`",
         why="renamed in API 2.9/2.11 (5.x names only)",
         match=["app/preferences:$.start_paused_enabled", "app/preferences:$.proxy_torrents_only"]),
    dict(id="D12", kind="type", where="app/preferences `proxy_type`",
         what="string (`None`, `HTTP`, `SOCKS4`, `SOCKS5`) instead of int",
         why="API 2.9 made it a string",
         match=["app/preferences:$.proxy_type"]),
    dict(id="D13", kind="extra", where="app/preferences",
         what="keys added by 4.6-5.1 (%d, e.g. `i2p_*`, `file_log_*`, `bdecode_*`)" % len(PREF_5_ONLY),
         why="5.1 has 220 keys, 4.5.2 174 (api-surface §5.8); the list is PREF_5_ONLY in this test",
         match=["app/preferences:$.%s" % k for k in PREF_5_ONLY]),
    dict(id="D14", kind="omit", where="sync/maindata full update",
         what="`categories`, `tags`, `trackers` may be left out when empty",
         why="5.1 omits empty collections; 4.5.2 always sends them (clients accept both)",
         match=["sync/maindata:$.categories", "sync/maindata:$.tags", "sync/maindata:$.trackers",
                "sync/maindata:$.torrents"]),
    dict(id="D15", kind="partial", where="sync/maindata incremental (rid=N)",
         what="both must be partial (no `full_update`) and every key sent must have the type it has "
              "in the full update; which keys are sent may differ",
         why="5.1 is event-driven, 4.5.2 diffs snapshots: what changed in between is timing",
         match=[]),
    dict(id="D16", kind="only5", where="torrents/count, torrents/setTags, torrents/addWebSeeds, "
                                      "torrents/removeWebSeeds",
         what="not in 4.5.2: torrentd's answer is checked on its own",
         why="added in API 2.10 / 2.11.3 / 2.11.4",
         match=[]),
    dict(id="D17", kind="status", where="app/setPreferences with a value of the wrong JSON type",
         what="400 `Invalid type for preference '<key>'` (4.5.2: 200, value coerced or dropped)",
         why="a typo in a client must not silently store 0/false (issue 4: wrong type → 400 with a message)",
         match=[]),
]

D_BY_KIND = {}
for _d in DIFFERENCES:
    D_BY_KIND.setdefault(_d["kind"], []).extend(_d["match"])

ENDPOINT_MAP = {"torrents/stop": "torrents/pause", "torrents/start": "torrents/resume"}    # D2
FILTER_MAP = {"stopped": "paused", "running": "resumed"}                                   # D3
STATE_MAP = {"pausedUP": "stoppedUP", "pausedDL": "stoppedDL"}                             # D5


def differences_markdown():
    out = ["## Deliberate differences from qbittorrent-nox 4.5.2", "",
           "torrentd answers as qBittorrent 5.1.4 (API 2.11.4); the differential test",
           "(`tests/integration/test_diff_qbt.py`, table `DIFFERENCES`) compares it with Debian's",
           "qbittorrent-nox 4.5.2 (API 2.8.19) and allows exactly these differences:", "",
           "| id | where | difference | why |", "|---|---|---|---|"]
    for d in DIFFERENCES:
        out.append("| %s | %s | %s | %s |" % (d["id"], d["where"], d["what"], d["why"]))
    return "\n".join(out) + "\n"


def doc_section(text):
    i = text.find("## Deliberate differences from qbittorrent-nox 4.5.2")
    if i < 0:
        return None
    j = text.find("\n## ", i + 3)
    return text[i:] if j < 0 else text[i:j + 1]


# --------------------------------------------------------------------------
# shapes
# --------------------------------------------------------------------------

def jtype(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def glob(pat, s):
    return fnmatch.fnmatchcase(s, pat.replace("[", "[[]"))


def flatten(v, maps=(), path="$", out=None):
    """{json-path: {types}} of a JSON value; maps (paths) are objects keyed by data."""
    if out is None:
        out = {}
    out.setdefault(path, set()).add(jtype(v))
    if isinstance(v, dict):
        star = any(glob(m, path) for m in maps)
        for k, x in v.items():
            flatten(x, maps, path + "." + ("*" if star else k), out)
    elif isinstance(v, list):
        for x in v:
            flatten(x, maps, path + "[]", out)
    return out


def _under(p, e):
    return p.startswith(e) and p[len(e):len(e) + 1] in (".", "[")


def _empties(flat):
    return {p for p, ts in flat.items() if ts & {"array", "object"}
            and not any(_under(q, p) for q in flat)}


def allowed(kind, ep, p):
    return any(glob(m, "%s:%s" % (ep, p)) for m in D_BY_KIND.get(kind, ()))


def compare_shapes(ep, td, qb):
    """Problems between two flattened shapes, minus the allowed differences."""
    probs = []
    skip = _empties(td) | _empties(qb)
    for p in sorted(set(td) | set(qb)):
        if any(_under(p, e) for e in skip):
            continue
        if p not in td:
            if any(_under(p, q) and q not in td for q in qb):
                continue       # reported at the parent
            if not allowed("missing", ep, p) and not allowed("omit", ep, p):
                probs.append("%s: missing in torrentd (4.5.2 has %s)" % (p, "/".join(sorted(qb[p]))))
        elif p not in qb:
            if any(_under(p, q) and q not in qb for q in td):
                continue
            if not allowed("extra", ep, p):
                probs.append("%s: extra in torrentd (%s)" % (p, "/".join(sorted(td[p]))))
        elif td[p] != qb[p] and not allowed("type", ep, p):
            probs.append("%s: type %s in torrentd, %s in 4.5.2" % (
                p, "/".join(sorted(td[p])), "/".join(sorted(qb[p]))))
    return probs


def body_kind(r):
    if not r.content:
        return "empty"
    if r.headers.get("Content-Type", "").startswith("application/json"):
        try:
            v = r.json()
        except ValueError:
            return "bad-json"
        return {dict: "json-object", list: "json-array"}.get(type(v), "json-scalar")
    return "text"


def pick(v, path):
    """Values at a simple path ($, .key, [] steps) as a list."""
    vals = [v]
    for tok in re.findall(r"\.[^.\[]+|\[\]", path[1:]):
        nxt = []
        for x in vals:
            if tok == "[]" and isinstance(x, list):
                nxt.extend(x)
            elif tok != "[]" and isinstance(x, dict) and tok[1:] in x:
                nxt.append(x[tok[1:]])
        vals = nxt
    return [STATE_MAP.get(x, x) if isinstance(x, str) else x for x in vals]


# --------------------------------------------------------------------------
# the two daemons and the recorder
# --------------------------------------------------------------------------

def tiny(name, size=50001, files=None):
    """A deterministic v1 torrent (same bytes for both daemons); files=[(path, size)]."""
    rnd = random.Random(name)
    if files:
        payload = bytes(rnd.getrandbits(8) for _ in range(sum(s for _, s in files)))
        info = {"name": name, "piece length": PL, "pieces": piece_hashes(payload, PL),
                "files": [{"path": p.split("/"), "length": s} for p, s in files]}
    else:
        payload = bytes(rnd.getrandbits(8) for _ in range(size))
        info = {"name": name, "piece length": PL, "length": size, "pieces": piece_hashes(payload, PL)}
    meta = {"info": info, "announce": "http://127.0.0.1:9/announce", "created by": "diff",
            "creation date": 1700000000}
    t = bencode(meta)
    return t, infohash(t), payload


class Side:
    def __init__(self, name, daemon):
        self.name = name            # "td" or "qbt"
        self.d = daemon
        self.save = os.path.join(daemon.rundir, "save")
        os.makedirs(self.save, exist_ok=True)

    @property
    def qbt(self):
        return self.name == "qbt"

    def map_call(self, ep, fields):
        if not self.qbt:
            return ep, fields
        fields = dict(fields or {})
        if "stopped" in fields:
            fields["paused"] = fields.pop("stopped")
        if fields.get("filter") in FILTER_MAP:
            fields["filter"] = FILTER_MAP[fields["filter"]]
        return ENDPOINT_MAP.get(ep, ep), fields

    def call(self, method, ep, fields=None, files=None, session=None, raw_path=None):
        s = session or self.d.s
        ep2, fields = self.map_call(ep, fields)
        url = self.d.base + (raw_path or "/api/v2/" + ep2)
        if method == "GET":
            return s.get(url, params=fields, timeout=30)
        return s.post(url, data=fields, files=files, timeout=30)

    def add(self, tbytes, **fields):
        fields.setdefault("savepath", self.save)
        return self.call("POST", "torrents/add", fields,
                         files=[("torrents", ("x.torrent", tbytes, "application/x-bittorrent"))])


class Rec:
    """Runs one side of a case and records each step."""

    def __init__(self, side):
        self.side = side
        self.steps = []

    def _do(self, method, ep, fields=None, files=None, label=None, only5=None, **opts):
        label = label or "%s %s %s" % (method, ep, json.dumps(fields, sort_keys=True).replace(
            self.side.save, "<save>") if fields else "")
        if (only5 is not None or opts.get("deliberate")) and self.side.qbt:
            self.steps.append((label, ep, None, dict(opts, only5=only5)))
            return None
        r = self.side.call(method, ep, fields, files=files, session=opts.pop("session", None),
                           raw_path=opts.pop("raw_path", None))
        self.steps.append((label, ep, r, dict(opts, only5=only5)))
        return r

    def get(self, ep, params=None, **opts):
        return self._do("GET", ep, params, **opts)

    def post(self, ep, data=None, **opts):
        return self._do("POST", ep, data, **opts)

    def value(self, label, v):
        """A computed value compared exactly (after STATE_MAP)."""
        self.steps.append((label, "value", v, {}))


def compare_steps(td_steps, qb_steps):
    probs = []
    assert [s[0] for s in td_steps] == [s[0] for s in qb_steps], "the script diverged"
    for (label, ep, rt, opts), (_, _, rq, _) in zip(td_steps, qb_steps):
        where = "[%s]" % label.strip()
        if ep == "value":
            if rt != rq:
                probs.append("%s torrentd %r != 4.5.2 %r" % (where, rt, rq))
            continue
        if opts.get("only5") or opts.get("deliberate"):
            st, kind = opts.get("only5") or opts["deliberate"][1:]
            if (rt.status_code, body_kind(rt)) != (st, kind):
                probs.append("%s (5.x only) torrentd %d %s, want %d %s: %r" % (
                    where, rt.status_code, body_kind(rt), st, kind, rt.text[:200]))
            continue
        if rt.status_code != rq.status_code:
            probs.append("%s status %d in torrentd, %d in 4.5.2 (torrentd body %r, 4.5.2 body %r)" % (
                where, rt.status_code, rq.status_code, rt.text[:120], rq.text[:120]))
            continue
        kt, kq = body_kind(rt), body_kind(rq)
        if kt != kq:
            probs.append("%s body %s in torrentd, %s in 4.5.2 (%r vs %r)" % (
                where, kt, kq, rt.text[:120], rq.text[:120]))
            continue
        exact_text = opts.get("text", rt.status_code >= 400)
        if kt == "text" and exact_text and rt.text != rq.text:
            probs.append("%s text %r in torrentd, %r in 4.5.2" % (where, rt.text[:200], rq.text[:200]))
        if kt.startswith("json"):
            maps = opts.get("maps", ())
            vt, vq = rt.json(), rq.json()
            if opts.get("partial_of"):
                full_t, full_q = opts["partial_of"]
                for side, v, full in (("torrentd", vt, full_t), ("4.5.2", vq, full_q)):
                    if "full_update" in v:
                        probs.append("%s %s sent a full update" % (where, side))
                    ft = flatten(full, maps)
                    for p, ts in flatten(v, maps).items():
                        if p in ft and not ts <= ft[p]:
                            probs.append("%s %s: %s is %s, full update has %s" % (where, side, p, ts, ft[p]))
                        elif p not in ft and not any(_under(p, e) for e in _empties(ft)) \
                                and not p.endswith("_removed") and "_removed[]" not in p:
                            probs.append("%s %s: %s not in the full update" % (where, side, p))
            else:
                probs += ["%s %s" % (where, x) for x in compare_shapes(ep, flatten(vt, maps),
                                                                        flatten(vq, maps))]
            for p in opts.get("values", ()):
                a, b = pick(vt, p), pick(vq, p)
                if a != b:
                    probs.append("%s value %s: torrentd %r, 4.5.2 %r" % (where, p, a, b))
            for p in opts.get("svalues", ()):          # order not specified: compare sorted
                a, b = sorted(map(str, pick(vt, p))), sorted(map(str, pick(vq, p)))
                if a != b:
                    probs.append("%s value %s: torrentd %r, 4.5.2 %r" % (where, p, a, b))
            if opts.get("length") and len(vt) != len(vq):
                probs.append("%s length %d in torrentd, %d in 4.5.2" % (where, len(vt), len(vq)))
    return probs


# --------------------------------------------------------------------------
# fixture: both daemons with the same starting torrents
# --------------------------------------------------------------------------

SEED_T, SEED_H, SEED_P = tiny("diff-seed.bin")
MULTI_FILES = [("a.txt", 20000), ("sub/b.bin", 40000), ("sub/c.dat", 7)]
MULTI_T, MULTI_H, _ = tiny("diff-multi", files=MULTI_FILES)


@pytest.fixture(scope="module")
def pair(module_procs, tmp_path_factory):
    d = str(tmp_path_factory.mktemp("diff"))
    td = module_procs.add(Torrentd(os.path.join(d, "td"), TD_IP))
    qb = module_procs.add(Qbt(os.path.join(d, "qbt"), QBT_IP))
    td.start()
    qb.start()
    sides = {"td": Side("td", td), "qbt": Side("qbt", qb)}
    for s in sides.values():
        s.d.set_prefs({"queueing_enabled": False, "max_ratio_enabled": False})
        with open(os.path.join(s.save, "diff-seed.bin"), "wb") as f:
            f.write(SEED_P)
        for t, extra in ((SEED_T, {"skip_checking": "true"}), (MULTI_T, {"stopped": "true"})):
            r = s.add(t, **extra)
            assert (r.status_code, r.text) == (200, "Ok."), (s.name, r.status_code, r.text)
    for s in sides.values():
        s.d.wait_seeding(SEED_H, 30)
        wait_until(lambda: s.d.torrent(MULTI_H), 10, "the multi-file torrent")
    return sides


def run_case(pair, fn):
    recs = {}
    for name in ("qbt", "td"):
        rec = Rec(pair[name])
        fn(rec)
        recs[name] = rec
    dump = os.environ.get("DIFF_DUMP")
    if dump:
        os.makedirs(dump, exist_ok=True)
        with open(os.path.join(dump, fn.__name__ + ".txt"), "w") as f:
            for name, rec in recs.items():
                for label, ep, r, _ in rec.steps:
                    body = r if ep == "value" or r is None else "%d %s" % (r.status_code, r.text[:3000])
                    f.write("%s | %s | %s\n" % (name, label, body))
    probs = compare_steps(recs["td"].steps, recs["qbt"].steps)
    assert not probs, "torrentd differs from qbittorrent-nox 4.5.2:\n  " + "\n  ".join(probs)


# --------------------------------------------------------------------------
# the scripted cases (each runs once per daemon, qbt first)
# --------------------------------------------------------------------------

def settle(pred, timeout=10):
    """Poll pred() for up to `timeout` s without failing: the comparison that
    follows reports a daemon that never got there."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        try:
            if pred():
                return True
        except (requests.RequestException, ValueError, KeyError, IndexError, TypeError):
            pass
        time.sleep(0.1)
    return False


def state_of(rec, h):
    t = rec.side.d.torrent(h)
    return t["state"] if t else None


def settled(rec, h):
    """Until h is listed and no longer checking (4.5.2 shows checkingResumeData first)."""
    settle(lambda: state_of(rec, h) and not state_of(rec, h).startswith("checking"))


def fresh(rec, name, **opts):
    """Add a throwaway torrent (same bytes on both sides); returns its hash."""
    t, h, _ = tiny(name)
    rec.side.add(t, stopped="true", **opts)
    settled(rec, h)
    return h


def c_auth_login(rec):
    s = rec.side.d.new_session()
    rec.post("auth/login", {"username": "admin", "password": "wrong"}, session=s, text=True)
    rec.get("app/version", session=s, label="no session -> 403")
    r = rec.post("auth/login", {"username": "admin", "password": PASSWORD}, session=s, text=True)
    attrs = sorted(a.split("=")[0].strip().lower()
                   for a in r.headers.get("Set-Cookie", "").split(";")[1:])
    rec.value("SID cookie attributes", attrs)
    rec.value("SID cookie length", len(s.cookies.get("SID", "")))
    rec.post("auth/login", {"username": "admin", "password": PASSWORD}, session=s, text=True,
             label="login again with a session")
    rec.get("app/webapiVersion", session=s, label="with the session", text=False)
    rec.post("auth/logout", session=s)
    rec.get("app/webapiVersion", session=s, label="after logout")


def c_app_version(rec):
    rec.get("app/version")
    rec.post("app/version", label="POST app/version")
    rec.get("app/webapiVersion")


def c_app_buildinfo(rec):
    rec.get("app/buildInfo")


def c_app_preferences(rec):
    rec.get("app/preferences", maps=["$.scan_dirs"])


def c_app_setpreferences(rec):
    rec.post("app/setPreferences", {"json": json.dumps({"dht": False, "max_connec": 321})})
    r = rec.get("app/preferences", maps=["$.scan_dirs"], label="read back")
    rec.value("max_connec read back", r.json().get("max_connec") if r.status_code == 200 else r.status_code)
    rec.post("app/setPreferences", label="no json")
    rec.post("app/setPreferences", {"json": "{not json"}, label="unparsable json")
    rec.post("app/setPreferences", {"json": json.dumps({"no_such_key_x": 1})}, label="unknown key")


def c_app_setpreferences_wrong_type(rec):
    rec.post("app/setPreferences", {"json": json.dumps({"max_connec": "lots"})},
             deliberate=("D17", 400, "text"))
    rec.post("app/setPreferences", {"json": json.dumps({"dht": "yes", "max_connec": 100})},
             deliberate=("D17", 400, "text"), label="one bad key among good ones")


def c_app_defaultsavepath(rec):
    rec.get("app/defaultSavePath")


def c_transfer_info(rec):
    rec.get("transfer/info")
    rec.get("transfer/speedLimitsMode", text=True)


def c_transfer_limits(rec):
    rec.post("transfer/setDownloadLimit", {"limit": "1048576"})
    rec.get("transfer/downloadLimit", text=True)
    rec.post("transfer/setUploadLimit", {"limit": "2097152"})
    rec.get("transfer/uploadLimit", text=True)
    rec.post("transfer/setDownloadLimit", {"limit": "0"})
    rec.post("transfer/setUploadLimit", {"limit": "0"})
    rec.get("transfer/downloadLimit", text=True, label="back to unlimited")
    rec.post("transfer/toggleSpeedLimitsMode")
    rec.get("transfer/speedLimitsMode", text=True, label="after toggle")
    rec.post("transfer/setSpeedLimitsMode", {"mode": "0"})
    rec.get("transfer/speedLimitsMode", text=True, label="after setSpeedLimitsMode 0")


MAINDATA_MAPS = ["$.torrents", "$.categories", "$.trackers"]


def c_sync_maindata(rec):
    r0 = rec.get("sync/maindata", {"rid": "0"}, maps=MAINDATA_MAPS)
    full = r0.json() if r0.status_code == 200 else {}
    rec.value("full_update on rid=0", full.get("full_update"))
    rid = full.get("rid", 1)
    time.sleep(0.5)
    r1 = rec.get("sync/maindata", {"rid": str(rid)}, maps=MAINDATA_MAPS, label="rid=N",
                 partial_of=(full, full))
    rec.value("rid=N has an int rid", isinstance(r1.json().get("rid") if r1.status_code == 200 else None, int))
    r2 = rec.get("sync/maindata", {"rid": "987654"}, maps=MAINDATA_MAPS, label="unknown rid")
    rec.value("full_update on an unknown rid", r2.json().get("full_update") if r2.status_code == 200 else None)


def c_torrents_add(rec):
    t, h, _ = tiny("diff-add.bin")
    rec.value("add", rec.side.add(t, stopped="true").text)
    rec.value("add duplicate", rec.side.add(t, stopped="true").text)
    r = rec.side.call("POST", "torrents/add", {"savepath": rec.side.save},
                      files=[("torrents", ("bad.torrent", b"not bencode", "application/x-bittorrent"))])
    rec.value("malformed file", (r.status_code, r.text))
    r = rec.side.call("POST", "torrents/add", {"savepath": rec.side.save})
    rec.value("nothing to add", (r.status_code, r.text))
    r = rec.side.call("POST", "torrents/add", {"urls": "not a url at all", "savepath": rec.side.save})
    rec.value("bad url", (r.status_code, r.text))
    settled(rec, h)
    rec.get("torrents/info", {"hashes": h}, length=True, values=["$[].name", "$[].state"])


def c_torrents_info(rec):
    hs = SEED_H + "|" + MULTI_H
    rec.get("torrents/info")
    for f in ("all", "seeding", "completed", "downloading", "stopped", "running", "active",
              "inactive", "stalled", "stalled_uploading", "checking", "errored"):
        rec.get("torrents/info", {"hashes": hs, "filter": f}, length=True, svalues=["$[].hash"])
    rec.get("torrents/info", {"hashes": hs, "sort": "name"}, values=["$[].hash"])
    rec.get("torrents/info", {"hashes": hs, "sort": "name", "reverse": "true"}, values=["$[].hash"])
    rec.get("torrents/info", {"hashes": hs, "sort": "size", "limit": "1"}, values=["$[].hash"])
    rec.get("torrents/info", {"hashes": hs, "sort": "size", "limit": "1", "offset": "1"}, values=["$[].hash"])
    rec.get("torrents/info", {"hashes": hs, "sort": "no_such_field"})
    rec.get("torrents/info", {"hashes": hs, "category": ""}, length=True)
    rec.get("torrents/info", {"hashes": hs, "tag": ""}, length=True)
    rec.get("torrents/info", {"hashes": UNKNOWN}, length=True)
    rec.post("torrents/info", {"hashes": SEED_H}, length=True, values=["$[].state", "$[].progress"])


def c_torrents_queries(rec):
    for ep in ("properties", "files", "trackers", "pieceStates", "pieceHashes", "webseeds"):
        for h in (SEED_H, MULTI_H):
            rec.get("torrents/" + ep, {"hash": h},
                    values=["$[].name", "$[].index", "$[].size", "$[].priority", "$[].piece_range"]
                    if ep == "files" else (["$[].url", "$[].tier"] if ep == "trackers" else ()))
        rec.get("torrents/" + ep, {"hash": UNKNOWN}, label="%s unknown hash" % ep)
        rec.get("torrents/" + ep, label="%s no hash" % ep)
    rec.get("torrents/files", {"hash": MULTI_H, "indexes": "0|2"}, values=["$[].index"])
    rec.get("torrents/files", {"hash": MULTI_H, "indexes": "7"})
    rec.get("torrents/files", {"hash": MULTI_H, "indexes": "x"})


def c_stop_start(rec):
    h = fresh(rec, "diff-stopstart.bin")
    rec.post("torrents/start", {"hashes": h})
    time.sleep(0.5)
    rec.post("torrents/stop", {"hashes": SEED_H})
    settle(lambda: state_of(rec, SEED_H) in ("stoppedUP", "pausedUP"))
    rec.get("torrents/info", {"hashes": SEED_H}, values=["$[].state", "$[].dlspeed", "$[].upspeed", "$[].eta"])
    rec.get("torrents/info", {"hashes": SEED_H, "filter": "stopped"}, length=True)
    rec.post("torrents/start", {"hashes": SEED_H})
    settle(lambda: state_of(rec, SEED_H) in ("stalledUP", "uploading"))
    rec.get("torrents/info", {"hashes": SEED_H, "filter": "running"}, length=True)
    rec.post("torrents/stop", {"hashes": "all"}, label="stop all")
    rec.post("torrents/start", {"hashes": "all"}, label="start all")
    rec.post("torrents/stop", {"hashes": h}, label="stop it again")
    rec.post("torrents/stop", label="stop without hashes")
    rec.get("torrents/stop", {"hashes": h}, label="GET on POST-only")


def c_delete(rec):
    h = fresh(rec, "diff-delete.bin")
    rec.post("torrents/delete", {"hashes": h, "deleteFiles": "false"})
    settle(lambda: rec.side.d.torrent(h) is None)
    rec.get("torrents/info", {"hashes": h}, length=True)
    rec.post("torrents/delete", {"hashes": UNKNOWN, "deleteFiles": "false"}, label="unknown hash")
    rec.post("torrents/delete", label="no params")


def c_count(rec):
    rec.get("torrents/count", only5=(200, "text"))


def c_categories(rec):
    rec.post("torrents/createCategory", {"category": "diffcat", "savePath": rec.side.save + "/dc"})
    rec.post("torrents/createCategory", {"category": "diffcat"}, label="exists")
    rec.post("torrents/createCategory", {"category": ""}, label="empty")
    rec.post("torrents/createCategory", {"category": "a//b"}, label="invalid name")
    rec.post("torrents/createCategory", {"category": "plain"}, label="no save path")
    rec.get("torrents/categories", maps=["$"], values=["$.diffcat.name", "$.plain.savePath"])
    rec.post("torrents/editCategory", {"category": "diffcat", "savePath": rec.side.save + "/dc2"})
    rec.post("torrents/editCategory", {"category": "nocat", "savePath": "/tmp/x"}, label="unknown")
    rec.post("torrents/setCategory", {"hashes": SEED_H, "category": "diffcat"})
    rec.get("torrents/info", {"hashes": SEED_H}, values=["$[].category"])
    rec.get("torrents/info", {"hashes": SEED_H + "|" + MULTI_H, "category": "diffcat"}, length=True)
    rec.post("torrents/setCategory", {"hashes": SEED_H, "category": "nocat"}, label="unknown category")
    rec.post("torrents/setCategory", {"hashes": SEED_H, "category": ""}, label="uncategorise")
    rec.post("torrents/setCategory", {"hashes": UNKNOWN, "category": "diffcat"}, label="unknown hash")
    rec.post("torrents/removeCategories", {"categories": "diffcat\nplain"})
    rec.post("torrents/removeCategories", {"categories": "never-existed"}, label="remove unknown")
    rec.get("torrents/categories", maps=["$"], label="after remove", length=False)
    r = rec.side.call("GET", "torrents/categories")
    rec.value("categories left", sorted(k for k in r.json() if k in ("diffcat", "plain"))
              if r.status_code == 200 else r.status_code)


def c_tags(rec):
    rec.post("torrents/createTags", {"tags": "difftag1,difftag2"})
    r = rec.get("torrents/tags")
    rec.value("tags created", sorted(t for t in r.json() if t.startswith("difftag")) if r.status_code == 200 else r.status_code)
    rec.post("torrents/addTags", {"hashes": SEED_H, "tags": "difftag1,difftag3"})
    rec.get("torrents/info", {"hashes": SEED_H}, values=["$[].tags"])
    rec.get("torrents/info", {"hashes": SEED_H + "|" + MULTI_H, "tag": "difftag3"}, length=True)
    rec.post("torrents/removeTags", {"hashes": SEED_H, "tags": "difftag1"})
    rec.get("torrents/info", {"hashes": SEED_H}, values=["$[].tags"], label="after removeTags")
    rec.post("torrents/setTags", {"hashes": SEED_H, "tags": "difftag2"}, only5=(200, "empty"))
    rec.post("torrents/removeTags", {"hashes": SEED_H}, label="remove all tags")
    rec.post("torrents/deleteTags", {"tags": "difftag1,difftag2,difftag3"})
    r = rec.get("torrents/tags", label="after deleteTags")
    rec.value("tags left", sorted(t for t in r.json() if t.startswith("difftag")) if r.status_code == 200 else r.status_code)
    rec.post("torrents/createTags", label="createTags without tags")


def c_torrent_limits(rec):
    hs = SEED_H + "|" + UNKNOWN
    rec.get("torrents/downloadLimit", {"hashes": hs}, maps=["$"])
    rec.post("torrents/setDownloadLimit", {"hashes": SEED_H, "limit": "65536"})
    rec.get("torrents/downloadLimit", {"hashes": SEED_H}, maps=["$"], values=["$.%s" % SEED_H],
            label="after set")
    rec.post("torrents/setUploadLimit", {"hashes": SEED_H, "limit": "131072"})
    rec.get("torrents/uploadLimit", {"hashes": hs}, maps=["$"], values=["$.%s" % SEED_H])
    rec.get("torrents/info", {"hashes": SEED_H}, values=["$[].dl_limit", "$[].up_limit"])
    rec.post("torrents/setDownloadLimit", {"hashes": SEED_H, "limit": "0"}, label="unlimited")
    rec.post("torrents/setUploadLimit", {"hashes": SEED_H, "limit": "0"}, label="unlimited")
    rec.get("torrents/properties", {"hash": SEED_H}, values=["$.dl_limit", "$.up_limit"])
    rec.post("torrents/setShareLimits", {"hashes": SEED_H, "ratioLimit": "2.5", "seedingTimeLimit": "60",
                                         "inactiveSeedingTimeLimit": "-2"})
    rec.get("torrents/info", {"hashes": SEED_H}, values=["$[].ratio_limit", "$[].seeding_time_limit"],
            label="share limits")
    rec.post("torrents/setShareLimits", {"hashes": SEED_H, "ratioLimit": "-2", "seedingTimeLimit": "-2",
                                         "inactiveSeedingTimeLimit": "-2"}, label="back to global")
    rec.post("torrents/setShareLimits", {"hashes": SEED_H}, label="missing limits")


def c_queue(rec):
    for op in ("increasePrio", "decreasePrio", "topPrio", "bottomPrio"):
        rec.post("torrents/" + op, {"hashes": MULTI_H}, label="%s queueing off" % op)
    rec.side.d.set_prefs({"queueing_enabled": True})
    try:
        for op in ("topPrio", "bottomPrio", "increasePrio", "decreasePrio"):
            rec.post("torrents/" + op, {"hashes": MULTI_H}, label="%s queueing on" % op)
        time.sleep(1.0)                 # 4.5.2 shows queue positions at its next refresh
        rec.get("torrents/info", {"hashes": MULTI_H}, values=["$[].priority"])
        rec.get("torrents/info", {"hashes": SEED_H}, values=["$[].priority"], label="finished has priority 0")
    finally:
        rec.side.d.set_prefs({"queueing_enabled": False})


def c_toggles(rec):
    h = MULTI_H
    before = rec.side.d.torrent(h)
    rec.post("torrents/toggleSequentialDownload", {"hashes": h})
    rec.post("torrents/toggleFirstLastPiecePrio", {"hashes": h})
    after = rec.side.d.torrent(h)
    rec.value("seq_dl toggled", after["seq_dl"] != before["seq_dl"])
    rec.value("f_l_piece_prio toggled", after["f_l_piece_prio"] != before["f_l_piece_prio"])
    rec.post("torrents/toggleSequentialDownload", {"hashes": h}, label="toggle back")
    rec.post("torrents/toggleFirstLastPiecePrio", {"hashes": h}, label="toggle back")
    rec.post("torrents/setSuperSeeding", {"hashes": SEED_H, "value": "true"})
    time.sleep(1.0)
    rec.get("torrents/info", {"hashes": SEED_H}, values=["$[].super_seeding"])
    rec.post("torrents/setSuperSeeding", {"hashes": SEED_H, "value": "false"}, label="off")
    rec.post("torrents/setAutoManagement", {"hashes": MULTI_H, "enable": "false"})
    rec.get("torrents/info", {"hashes": MULTI_H}, values=["$[].auto_tmm"])


def c_force_start(rec):
    rec.post("torrents/setForceStart", {"hashes": SEED_H, "value": "true"})
    settle(lambda: state_of(rec, SEED_H) == "forcedUP")
    rec.get("torrents/info", {"hashes": SEED_H}, values=["$[].force_start", "$[].state"])
    rec.post("torrents/setForceStart", {"hashes": SEED_H, "value": "false"}, label="off")
    settle(lambda: state_of(rec, SEED_H) in ("stalledUP", "uploading"))
    rec.get("torrents/info", {"hashes": SEED_H}, values=["$[].force_start"], label="after off")


def c_rename(rec):
    h = fresh(rec, "diff-rename.bin")
    rec.post("torrents/rename", {"hash": h, "name": "renamed by diff"})
    settle(lambda: rec.side.d.torrent(h)["name"] == "renamed by diff", 5)
    rec.get("torrents/info", {"hashes": h}, values=["$[].name"])
    rec.post("torrents/rename", {"hash": h, "name": ""}, label="empty name")
    rec.post("torrents/rename", {"hash": UNKNOWN, "name": "x"}, label="unknown hash")
    rec.post("torrents/rename", {"hash": h}, label="no name")


def c_rename_file(rec):
    h = MULTI_H
    rec.post("torrents/renameFile", {"hash": h, "oldPath": "diff-multi/a.txt", "newPath": "diff-multi/a2.txt"})
    time.sleep(0.5)
    rec.get("torrents/files", {"hash": h}, values=["$[].name"])
    rec.post("torrents/renameFile", {"hash": h, "oldPath": "diff-multi/nope", "newPath": "diff-multi/x"},
             label="unknown old path")
    rec.post("torrents/renameFile", {"hash": h, "oldPath": "diff-multi/a2.txt", "newPath": "diff-multi/sub/c.dat"},
             label="onto an existing file")
    rec.post("torrents/renameFile", {"hash": UNKNOWN, "oldPath": "a", "newPath": "b"}, label="unknown hash")
    rec.post("torrents/renameFile", {"hash": h, "oldPath": "diff-multi/a2.txt", "newPath": "diff-multi/a.txt"},
             label="rename back")
    rec.post("torrents/renameFolder", {"hash": h, "oldPath": "diff-multi/sub", "newPath": "diff-multi/sub2"})
    time.sleep(0.5)
    rec.get("torrents/files", {"hash": h}, values=["$[].name"], label="after renameFolder")
    rec.post("torrents/renameFolder", {"hash": h, "oldPath": "diff-multi/sub2", "newPath": "diff-multi/sub"},
             label="folder back")


def c_file_prio(rec):
    h = MULTI_H
    rec.post("torrents/filePrio", {"hash": h, "id": "0", "priority": "0"})
    rec.post("torrents/filePrio", {"hash": h, "id": "1|2", "priority": "7"}, label="two ids")
    time.sleep(1.0)                     # 4.5.2 updates `size` at its next refresh
    rec.get("torrents/files", {"hash": h}, values=["$[].priority"])
    rec.get("torrents/info", {"hashes": h}, values=["$[].size", "$[].total_size"])
    rec.post("torrents/filePrio", {"hash": h, "id": "0", "priority": "3"}, label="invalid priority")
    rec.post("torrents/filePrio", {"hash": h, "id": "0", "priority": "x"}, label="priority not int")
    rec.post("torrents/filePrio", {"hash": h, "id": "x", "priority": "1"}, label="id not int")
    rec.post("torrents/filePrio", {"hash": h, "id": "99", "priority": "1"}, label="id out of range")
    rec.post("torrents/filePrio", {"hash": UNKNOWN, "id": "0", "priority": "1"}, label="unknown hash")
    rec.post("torrents/filePrio", {"hash": h, "id": "0|1|2", "priority": "1"}, label="all back to normal")


def c_trackers(rec):
    h = MULTI_H
    t1, t2 = "http://127.0.0.1:10/announce", "http://127.0.0.1:11/announce"
    rec.post("torrents/addTrackers", {"hash": h, "urls": t1 + "\n\n" + t2})
    time.sleep(0.3)
    rec.get("torrents/trackers", {"hash": h}, values=["$[].url", "$[].tier"])
    rec.post("torrents/editTracker", {"hash": h, "origUrl": t1, "newUrl": "http://127.0.0.1:12/announce"})
    rec.post("torrents/editTracker", {"hash": h, "origUrl": t2, "newUrl": "http://[::1/announce"}, label="invalid new url")
    rec.post("torrents/editTracker", {"hash": h, "origUrl": "http://127.0.0.1:99/x", "newUrl": "http://127.0.0.1:98/x"},
             label="not found")
    rec.post("torrents/editTracker", {"hash": h, "origUrl": t2, "newUrl": "http://127.0.0.1:9/announce"},
             label="already exists")
    rec.post("torrents/editTracker", {"hash": UNKNOWN, "origUrl": t2, "newUrl": t1}, label="unknown hash")
    time.sleep(0.3)
    rec.get("torrents/trackers", {"hash": h}, values=["$[].url"], label="after edit")
    rec.post("torrents/removeTrackers", {"hash": h, "urls": t2 + "|http://127.0.0.1:12/announce"})
    rec.post("torrents/removeTrackers", {"hash": UNKNOWN, "urls": t2}, label="unknown hash")
    rec.post("torrents/addTrackers", {"hash": UNKNOWN, "urls": t1}, label="add unknown hash")
    time.sleep(0.3)
    rec.get("torrents/trackers", {"hash": h}, values=["$[].url"], label="after remove")


def c_webseeds(rec):
    h = MULTI_H
    rec.post("torrents/addWebSeeds", {"hash": h, "urls": "http://127.0.0.1:13/ws/"}, only5=(200, "empty"))
    rec.post("torrents/removeWebSeeds", {"hash": h, "urls": "http://127.0.0.1:13/ws/"}, only5=(200, "empty"))
    rec.get("torrents/webseeds", {"hash": h}, length=True)


def c_log(rec):
    r = rec.get("log/main")
    n = r.json() if r.status_code == 200 else []
    last = n[-1]["id"] if n else -1
    rec.get("log/main", {"last_known_id": str(last)}, label="nothing newer", length=True)
    rec.get("log/main", {"normal": "false", "info": "false", "warning": "false", "critical": "false"},
            label="no types", length=True)
    rec.get("log/peers")
    rec.get("log/peers", {"last_known_id": "100000"}, label="peers nothing newer", length=True)


def c_routing(rec):
    rec.get("torrents/nope", label="unknown action")
    rec.get("nope/nope", label="unknown scope")
    rec.get("x", raw_path="/api/v2/torrents", label="no action")
    rec.get("app/setPreferences", label="GET on POST-only app/setPreferences")
    rec.get("torrents/delete", {"hashes": UNKNOWN}, label="GET on POST-only torrents/delete")
    rec.get("torrents/createCategory", {"category": "x"}, label="GET on POST-only createCategory")
    rec.get("auth/logout", label="GET auth/logout")
    rec.post("torrents/info", label="POST on a read endpoint")


CASES = [c_auth_login, c_app_version, c_app_buildinfo, c_app_preferences, c_app_setpreferences,
         c_app_setpreferences_wrong_type, c_app_defaultsavepath, c_transfer_info, c_transfer_limits,
         c_sync_maindata, c_torrents_add, c_torrents_info, c_torrents_queries, c_stop_start, c_delete,
         c_count, c_categories, c_tags, c_torrent_limits, c_queue, c_toggles, c_force_start, c_rename,
         c_rename_file, c_file_prio, c_trackers, c_webseeds, c_log, c_routing]


@pytest.mark.parametrize("case", CASES, ids=[c.__name__[2:] for c in CASES])
def test_diff(pair, case):
    run_case(pair, case)


def test_differences_documented():
    with open(os.path.join(REPO, "docs", "api-coverage.md")) as f:
        sec = doc_section(f.read())
    assert sec is not None, "docs/api-coverage.md lacks the deliberate-differences section"
    assert sec.strip() == differences_markdown().strip(), \
        "docs/api-coverage.md and DIFFERENCES disagree; the section should read:\n" + differences_markdown()


def test_shape_compare_can_fail():
    """The comparator itself: a missing key, an extra key and a type change are caught;
    allowed differences are not reported."""
    qb = flatten([{"hash": "a", "size": 1, "state": "pausedUP"}])
    assert compare_shapes("torrents/info", flatten([{"hash": "a", "size": 1.5, "state": "x"}]), qb) == []
    assert compare_shapes("torrents/info", flatten([{"hash": "a", "state": "x"}]), qb)
    assert compare_shapes("torrents/info", flatten([{"hash": "a", "size": "1", "state": "x"}]), qb)
    assert compare_shapes("torrents/info", flatten([{"hash": "a", "size": 1, "state": "x", "zz": 1}]), qb)
    assert compare_shapes("torrents/info", flatten([{"hash": "a", "size": 1, "state": "x",
                                                     "root_path": ""}]), qb) == []
    assert compare_shapes("x", flatten({"a": [{"b": 1}]}), flatten({"a": [{"b": 1, "c": {"d": 1}}]})) == \
        ["$.a[].c: missing in torrentd (4.5.2 has object)"]
    assert compare_shapes("x", flatten({"a": []}), flatten({"a": [{"b": 1}]})) == []
    assert pick([{"state": "pausedUP"}], "$[].state") == ["stoppedUP"]


if __name__ == "__main__":
    if "--doc" in sys.argv:
        print(differences_markdown(), end="")
