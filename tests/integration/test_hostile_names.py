"""No file is ever created outside a torrent's save path (DESIGN.md principle 5).

Each case is a .torrent built here with a hostile name or path: `..`, absolute
paths, NULs, empty and `.` components. torrentd either rejects it at add time
(415 / "Fails.") or sanitizes it. When it accepts, it downloads the torrent
from a MiniSeeder (a Python peer serving the payload; the on-disk names are
torrentd's choice, so no other client could seed them) and then:
  * every created file is a regular file inside the save path (no symlinks),
    and together they hold exactly the payload's bytes;
  * the sandbox around the save path (its parents up to the test's scratch
    dir) is unchanged, and so are the absolute targets under /etc and /tmp.
"""
import os

import pytest

from conftest import LEECH_IP, MINI_IP
from tdlib import MiniSeeder, Torrentd, make_torrent, piece_hashes, tree_snapshot, wait_complete, \
    wait_until

PL = 16384
ABS_TARGETS = ["/etc/torrentd-hostile-x", "/etc/torrentd-hostile-y", "/tmp/torrentd-hostile-z"]

# ABS_TARGETS are machine-wide paths that every case cleans and checks: the
# cases run one at a time on one xdist worker, so one case's cleanup cannot
# hide (or its bug fail) another's.
pytestmark = pytest.mark.xdist_group("hostile-abs-paths")


def single(name, size=40000):
    payload = os.urandom(size)
    return {"name": name, "piece length": PL, "length": size,
            "pieces": piece_hashes(payload, PL)}, payload


def multi(name, paths, size=20011):
    files, payload = [], b""
    for p in paths:
        files.append({"length": size, "path": p})
        payload += os.urandom(size)
    return {"name": name, "piece length": PL, "files": files,
            "pieces": piece_hashes(payload, PL)}, payload


CASES = {
    "dotdot-name": lambda: single("../../x"),
    "absolute-name": lambda: single("/etc/torrentd-hostile-x"),
    "inner-dotdot-name": lambda: single("a/../../b"),
    "deep-dotdot-name": lambda: single("../" * 12 + "tmp/torrentd-hostile-z"),
    "nul-name": lambda: single("evil\x00name"),
    "empty-name": lambda: single(""),
    "dotdot-only-name": lambda: multi("..", [["f"]]),
    "dotdot-paths": lambda: multi("ok", [["..", "..", "mx"], ["a", "..", "..", "mb"], ["..", "..", "..", "..", "my"]]),
    "absolute-path": lambda: multi("ok", [["/etc/torrentd-hostile-y"], ["/", "etc", "torrentd-hostile-y"]]),
    "empty-component": lambda: multi("ok", [["", "e"], ["d", "", "f"]]),
    "empty-path": lambda: multi("ok", [["g"], [""]]),
    "nul-component": lambda: multi("ok", [["n\x00ul", "g"], ["h\x00"]]),
    "dot-components": lambda: multi("ok", [[".", "h"], ["i", "."], [".", ".", "j"]]),
    # Windows separators are ordinary bytes in a POSIX name: never a way up
    "backslash-name": lambda: single("..\\..\\bx"),
    "backslash-paths": lambda: multi("ok", [["..\\..", "bm"], ["a\\..\\..\\bn"], ["C:\\bo"]]),
    "slash-in-component": lambda: multi("ok", [["a/../../bp"], ["/etc/torrentd-hostile-y"]]),
}


def _clean_abs_targets():
    for p in ABS_TARGETS:
        if os.path.lexists(p) and not os.path.isdir(p):
            os.unlink(p)


@pytest.fixture
def abs_targets():
    _clean_abs_targets()
    yield
    _clean_abs_targets()


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_name_stays_inside_save_path(case, procs, workdir, abs_targets):
    info, payload = CASES[case]()
    tbytes, h = make_torrent(info)

    sandbox = os.path.join(workdir, "sandbox")
    save = os.path.join(sandbox, "l1", "l2", "save")
    os.makedirs(save)
    with open(os.path.join(sandbox, "l1", "canary"), "w") as f:
        f.write("canary")
    before = tree_snapshot(sandbox, exclude=save)

    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    r = td.req("POST", "/api/v2/torrents/add", ok=(200, 415),
               files=[("torrents", ("hostile.torrent", tbytes, "application/x-bittorrent"))],
               data={"savepath": save})
    accepted = r.status_code == 200 and r.text.strip() == "Ok."
    if accepted:
        seeder = MiniSeeder(MINI_IP, h, payload, PL)
        procs.on_close(seeder.close)
        wait_until(lambda: td.torrent(h) is not None, 10, "the torrent in torrents/info", procs=[td])
        wait_complete(td, h, 30, nudge=lambda: td.add_peers(h, [seeder.addr]), nudge_every=5, stall=15)
        assert not seeder.errors, seeder.errors
    else:
        assert r.status_code == 415 or r.text.strip() == "Fails.", (r.status_code, r.text)
        assert td.torrent(h) is None, "rejected torrent is listed"

    after = tree_snapshot(sandbox, exclude=save)
    assert after == before, "files created outside the save path: %s" % sorted(
        set(after.items()) ^ set(before.items()))
    for p in ABS_TARGETS:
        assert not os.path.lexists(p), "created %s" % p

    inside = tree_snapshot(save)
    links = [p for p, (kind, _) in inside.items() if kind == "link"]
    assert not links, "symlinks created in the save path: %s" % links
    real_save = os.path.realpath(save)
    for p in inside:
        assert os.path.realpath(os.path.join(save, p)).startswith(real_save + os.sep), p
    stored = sum(size for kind, size in inside.values() if kind == "file")
    if accepted:
        assert stored == len(payload), "save path holds %d bytes, payload is %d: %s" % (
            stored, len(payload), sorted(inside))
    else:
        assert stored == 0, sorted(inside)
