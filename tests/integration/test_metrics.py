"""GET /metrics (web/api/ops_metrics.c): Prometheus' text format as
`promtool check metrics` (Debian's prometheus) accepts it, counters that only
grow, and values that follow a real transfer between two daemons: payload
and wire bytes, rates, torrents by state and category, peers by source, the
seeder's read cache, API requests by dialect and status; the optional token."""
import os
import re
import subprocess

from conftest import LEECH_IP, SEED_IP
from tdlib import MiB, Dataset, Torrentd, http_session, wait_until

FILES = [("m1.bin", 6 * MiB + 11), ("sub/m2.bin", 4 * MiB + 3)]
SAMPLE = re.compile(r'^([a-z_]+)(\{[^}]*\})? (-?[0-9.e+]+)$')


def _scrape(td, headers=None):
    r = http_session().get(td.base + "/metrics", headers=headers or {}, timeout=30)
    assert r.status_code == 200, (r.status_code, r.text[:200])
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return r.text


def _promtool(text):
    p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)


def _parse(text):
    """{(name, labels): value} and the declared type per name."""
    vals, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ")
            types[name] = typ
            continue
        if line.startswith("#") or not line:
            continue
        m = SAMPLE.match(line)
        assert m, line
        vals[(m.group(1), m.group(2) or "")] = float(m.group(3))
    return vals, types


def _v(vals, name, labels=""):
    return vals.get((name, labels), 0.0)


def _check_monotonic(before, after, types):
    for (name, labels), v in before.items():
        if types.get(name) == "counter":
            assert after.get((name, labels), 0) >= v, (name, labels, v, after.get((name, labels)))


def test_metrics_format_and_transfer(procs, workdir):
    ds = Dataset(os.path.join(workdir, "seedroot"), "metrics", FILES, piece_exp=16)
    seeder = procs.add(Torrentd(os.path.join(workdir, "seed"), SEED_IP, name="seed")).start()
    seeder.add(ds.tbytes, ds.seed_root, skip_checking=True, filename="m.torrent", category="tv")
    seeder.wait_seeding(ds.infohash, 60)
    leecher = procs.add(Torrentd(os.path.join(workdir, "leech"), LEECH_IP, name="leech")).start()
    leecher.set_prefs({"dl_limit": 2 * MiB})

    t0 = _scrape(leecher)
    _promtool(t0)
    v0, types = _parse(t0)
    for name, typ in types.items():
        assert name.startswith("torrentd_"), name
        assert typ in ("counter", "gauge"), (name, typ)
        assert (typ == "counter") == name.endswith("_total"), name
    assert sum(v for (n, _), v in v0.items() if n == "torrentd_torrents") == 0
    assert _v(v0, "torrentd_payload_bytes_total", '{direction="download"}') == 0
    assert _v(v0, "torrentd_free_space_bytes", '{path="%s"}' % leecher.save_path) > 0

    leecher.add(ds.tbytes, leecher.save_path, filename="m.torrent", category="tv")
    wait_until(lambda: leecher.torrent(ds.infohash), 10, "added")
    leecher.add_peers(ds.infohash, [seeder.peer_addr])
    # mid-transfer: downloading, a peer from the API, bytes and a rate
    mid = wait_until(lambda: (lambda t: t if 0 < _v(_parse(t)[0], "torrentd_payload_bytes_total",
                                                    '{direction="download"}') < ds.size else None)(
        _scrape(leecher)), 30, "bytes arriving", interval=0.05)
    _promtool(mid)
    vm = _parse(mid)
    assert _v(vm[0], "torrentd_category_torrents", '{category="tv"}') == 1
    wait_until(lambda: _v(_parse(_scrape(leecher))[0], "torrentd_peers_connected", '{source="api"}') >= 1, 10,
               "the peer counted by source")
    wait_until(lambda: _v(_parse(_scrape(leecher))[0], "torrentd_rate_bytes_per_second",
                          '{direction="download"}') > 0, 10, "a download rate")
    wait_until(lambda: _v(_parse(_scrape(leecher))[0], "torrentd_torrents", '{state="downloading"}') == 1, 10,
               "downloading")

    leecher.wait_complete(ds.infohash, 120, procs=[seeder])
    wait_until(lambda: _v(_parse(_scrape(leecher))[0], "torrentd_torrents", '{state="downloading"}') == 0, 10,
               "no longer downloading")
    t1 = _scrape(leecher)
    _promtool(t1)
    v1 = _parse(t1)
    _check_monotonic(v0, v1[0], types)
    _check_monotonic(vm[0], v1[0], types)
    dl = _v(v1[0], "torrentd_payload_bytes_total", '{direction="download"}')
    assert dl >= ds.size, (dl, ds.size)
    assert _v(v1[0], "torrentd_alltime_payload_bytes_total", '{direction="download"}') >= dl
    wire = _v(v1[0], "torrentd_wire_bytes_total", '{direction="download"}')
    assert wire > dl
    assert _v(v1[0], "torrentd_protocol_bytes_total", '{direction="download"}') > 0
    assert _v(v1[0], "torrentd_wire_bytes_total", '{direction="upload"}') > 0      # requests, handshake
    states = {l: v for (n, l), v in v1[0].items() if n == "torrentd_torrents" and v}
    assert sum(states.values()) == 1 and list(states)[0] in ('{state="stalledUP"}', '{state="uploading"}'), states
    assert _v(v1[0], "torrentd_hash_failures_total") == 0
    reqs = {l: v for (n, l), v in v1[0].items() if n == "torrentd_api_requests_total"}
    assert reqs.get('{dialect="qbt_v2",code="200"}', 0) > _v(v0, "torrentd_api_requests_total",
                                                             '{dialect="qbt_v2",code="200"}')
    assert reqs.get('{dialect="ops",code="200"}', 0) >= 5
    assert v1[0][("torrentd_automation_runs_total", '{result="ok"}')] == 0

    # the seeder: uploads, served from the read cache
    s = _parse(_scrape(seeder))[0]
    assert _v(s, "torrentd_payload_bytes_total", '{direction="upload"}') >= ds.size
    assert _v(s, "torrentd_disk_cache_hits_total") + _v(s, "torrentd_disk_cache_misses_total") > 0
    assert _v(s, "torrentd_disk_cache_hits_total") > 0     # several blocks per piece

    # a 404 is counted under its dialect and code
    leecher.req("GET", "/api/v2/nope", ok=(404,))
    assert _v(_parse(_scrape(leecher))[0], "torrentd_api_requests_total", '{dialect="qbt_v2",code="404"}') >= 1


def test_metrics_token(procs, workdir):
    td = procs.add(Torrentd(os.path.join(workdir, "m"), LEECH_IP, name="m")).start()
    td.req("POST", "/api/config", json={"changes": {"WebUI.Token": "mt"}})
    _scrape(td)                                      # public by default
    td.req("POST", "/api/config", json={"changes": {"Ops.MetricsRequireToken": True}})
    r = http_session().get(td.base + "/metrics", timeout=30)
    assert r.status_code == 401 and r.json() == {"error": "unauthorized"}
    r = http_session().get(td.base + "/metrics", headers={"X-API-Token": "nope"}, timeout=30)
    assert r.status_code == 401
    _promtool(_scrape(td, {"X-API-Token": "mt"}))
    _scrape(td, {"Authorization": "Bearer mt"})
