"""save_path_changed_tmm_enabled (issue 15): when the default save path
changes, every automatically managed torrent whose path came from it turns
manual and stays (qBittorrent's default), or, with the preference on, moves
to the new path (SessionImpl::setSavePath); a torrent whose category has an
absolute path, or a manual one, is not touched."""
import hashlib
import os

from conftest import LEECH_IP
from tdlib import Torrentd, make_torrent, wait_until


def _torrent(workdir, name, where):
    payload = os.urandom(40000)
    os.makedirs(where, exist_ok=True)
    with open(os.path.join(where, name), "wb") as f:
        f.write(payload)
    info = {"name": name, "length": len(payload), "piece length": 16384,
            "pieces": b"".join(hashlib.sha1(payload[k:k + 16384]).digest() for k in range(0, len(payload), 16384))}
    return make_torrent(info)


def _t(td, h):
    return td.torrent(h)


def test_default_save_path_change(workdir, procs):
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    old = os.path.join(workdir, "old")
    td.set_prefs({"save_path": old})
    assert td.prefs()["save_path_changed_tmm_enabled"] is False
    td.post("/api/v2/torrents/createCategory", category="fixed", savePath=os.path.join(workdir, "fixed"))
    tb1, h1 = _torrent(workdir, "one.bin", old)
    td.add(tb1, "", autoTMM="true", skip_checking=True)
    tb2, h2 = _torrent(workdir, "two.bin", os.path.join(workdir, "fixed"))
    td.add(tb2, "", autoTMM="true", category="fixed", skip_checking=True)
    tb3, h3 = _torrent(workdir, "three.bin", old)
    td.add(tb3, old, autoTMM="false", skip_checking=True)
    wait_until(lambda: all(_t(td, h) and _t(td, h)["state"] != "checkingResumeData" for h in (h1, h2, h3)), 10, "added")
    assert _t(td, h1)["auto_tmm"] and _t(td, h1)["save_path"].rstrip("/") == old

    # off (the default): it turns manual and stays
    new = os.path.join(workdir, "new")
    td.set_prefs({"save_path": new})
    t1 = _t(td, h1)
    assert (t1["auto_tmm"], t1["save_path"].rstrip("/")) == (False, old), t1
    t2 = _t(td, h2)
    assert (t2["auto_tmm"], t2["save_path"].rstrip("/")) == (True, os.path.join(workdir, "fixed")), t2
    assert _t(td, h3)["save_path"].rstrip("/") == old
    td.stop()
    td.start()
    assert _t(td, h1)["auto_tmm"] is False    # persisted

    # on: it moves along, files and all
    td.post("/api/v2/torrents/setAutoManagement", hashes=h1, enable="false")
    td.post("/api/v2/torrents/setLocation", hashes=h1, location=new)
    wait_until(lambda: _t(td, h1)["save_path"].rstrip("/") == new and _t(td, h1)["state"] != "moving", 30,
               "at the new default", procs=[td])
    td.post("/api/v2/torrents/setAutoManagement", hashes=h1, enable="true")
    td.set_prefs({"save_path_changed_tmm_enabled": True})
    newer = os.path.join(workdir, "newer")
    td.set_prefs({"save_path": newer})
    wait_until(lambda: _t(td, h1)["save_path"].rstrip("/") == newer and _t(td, h1)["state"] != "moving", 30,
               "moved to the newer default", procs=[td])
    assert _t(td, h1)["auto_tmm"] is True
    assert os.path.exists(os.path.join(newer, "one.bin")) and not os.path.exists(os.path.join(new, "one.bin"))
    assert _t(td, h2)["save_path"].rstrip("/") == os.path.join(workdir, "fixed")
    assert _t(td, h3)["save_path"].rstrip("/") == old
    td.stop()


def test_use_category_paths_in_manual_mode(workdir, procs):
    """A torrent added by hand (autoTMM off) in a category without a save
    path goes to the default save path; with use_category_paths_in_manual_mode
    to its category's path, and a relative save path is under that path
    (qBittorrent's suggestedSavePath)."""
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    dflt = os.path.join(workdir, "default")
    catp = os.path.join(workdir, "catpath")
    td.set_prefs({"save_path": dflt})
    td.post("/api/v2/torrents/createCategory", category="cat", savePath=catp)
    tb1, h1 = _torrent(workdir, "m1.bin", os.path.join(workdir, "src"))
    td.add(tb1, "", autoTMM="false", category="cat", stopped=True)
    assert _t(td, h1)["save_path"].rstrip("/") == dflt
    td.set_prefs({"use_category_paths_in_manual_mode": True})
    tb2, h2 = _torrent(workdir, "m2.bin", os.path.join(workdir, "src"))
    td.add(tb2, "", autoTMM="false", category="cat", stopped=True)
    t2 = _t(td, h2)
    assert (t2["save_path"].rstrip("/"), t2["auto_tmm"]) == (catp, False), t2
    tb3, h3 = _torrent(workdir, "m3.bin", os.path.join(workdir, "src"))
    td.add(tb3, "rel", autoTMM="false", category="cat", stopped=True)
    assert _t(td, h3)["save_path"].rstrip("/") == os.path.join(catp, "rel")
    tb4, h4 = _torrent(workdir, "m4.bin", os.path.join(workdir, "src"))
    td.add(tb4, "", autoTMM="false", stopped=True)     # no category: the default
    assert _t(td, h4)["save_path"].rstrip("/") == dflt
    td.stop()
