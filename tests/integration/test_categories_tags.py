"""Categories and tags over the qBittorrent WebUI API v2, against a running torrentd.

docs/api-surface.md §4.6 (torrents/categories, torrents/tags), §4.7
(createCategory, editCategory, removeCategories, setCategory, createTags,
deleteTags, addTags, removeTags, setTags: every status code and message),
§5.7 (category object), §6.2 (category/tag filters of torrents/info), §8
(torrents/add creates a missing category and tags). Both sets must survive a
restart (they are committed before the answer).
"""
import os

import pytest

from conftest import LEECH_IP
from tdlib import Torrentd, make_torrent, piece_hashes, wait_until

PL = 16384


def tiny(name, size=20001):
    payload = os.urandom(size)
    info = {"name": name, "piece length": PL, "length": size, "pieces": piece_hashes(payload, PL)}
    tbytes, h = make_torrent(info, announce="http://127.0.0.1:9/announce")
    return tbytes, h


@pytest.fixture(scope="module")
def td(module_procs, tmp_path_factory):
    d = str(tmp_path_factory.mktemp("cats"))
    return module_procs.add(Torrentd(os.path.join(d, "td"), LEECH_IP)).start()


def post(td, endpoint, **data):
    return td.s.post(td.base + "/api/v2/torrents/" + endpoint, data=data, timeout=30)


def get(td, path, **params):
    return td.s.get(td.base + "/api/v2/torrents/" + path, params=params, timeout=30)


def status(r):
    return r.status_code, r.text


def added(td, tmp_path, name, **extra):
    tbytes, h = tiny(name)
    td.add(tbytes, str(tmp_path / "save"), stopped=True, **extra)
    return h, wait_until(lambda: td.torrent(h), 10, "torrent %s listed" % name)


def test_create_category_rules(td):
    assert status(post(td, "createCategory")) == (400, "Bad Request")
    assert status(post(td, "createCategory", category="")) == (400, "Category cannot be empty")
    for bad in ("/lead", "trail/", "two//slashes", "back\\slash"):
        assert status(post(td, "createCategory", category=bad)) == (409, "Incorrect category name"), bad
    assert status(post(td, "createCategory", category="movies", savePath="/data/movies")) == (200, "")
    assert status(post(td, "createCategory", category="movies")) == (409, "Unable to create category")
    assert td.s.get(td.base + "/api/v2/torrents/createCategory", timeout=10).status_code == 405
    cats = get(td, "categories").json()
    # @ctrl/qbittorrent expects exactly {name, savePath} for a plain category
    assert cats["movies"] == {"name": "movies", "savePath": "/data/movies"}
    for bad in ("/lead", "two//slashes"):
        assert bad not in cats


def test_download_path_variants(td):
    assert post(td, "createCategory", category="inc-on", savePath="", downloadPathEnabled="true",
                downloadPath="/tmp/incomplete").status_code == 200
    assert post(td, "createCategory", category="inc-off", downloadPathEnabled="false").status_code == 200
    assert post(td, "createCategory", category="inc-junk", downloadPathEnabled="1").status_code == 200
    cats = get(td, "categories").json()
    assert cats["inc-on"] == {"name": "inc-on", "savePath": "", "download_path": "/tmp/incomplete"}
    assert cats["inc-off"] == {"name": "inc-off", "savePath": "", "download_path": False}
    assert "download_path" not in cats["inc-junk"]   # not true/false = not given


def test_edit_category(td):
    assert status(post(td, "editCategory", category="x")) == (400, "Bad Request")   # savePath required
    assert status(post(td, "editCategory", category="", savePath="/a")) == (400, "Category cannot be empty")
    assert status(post(td, "editCategory", category="nope", savePath="/a")) == (409, "Unable to edit category")
    assert post(td, "createCategory", category="tv").status_code == 200
    assert status(post(td, "editCategory", category="tv", savePath="/data/tv")) == (200, "")
    assert get(td, "categories").json()["tv"] == {"name": "tv", "savePath": "/data/tv"}


def test_set_category_and_filter(td, tmp_path):
    h, t = added(td, tmp_path, "setcat.bin")
    assert t["category"] == ""
    assert status(post(td, "setCategory", hashes=h)) == (400, "Bad Request")
    assert status(post(td, "setCategory", hashes=h, category="missing")) == (409, "Incorrect category name")
    # nothing matched: nothing to refuse (qBittorrent applies per torrent)
    assert status(post(td, "setCategory", hashes="0" * 40, category="missing")) == (200, "")
    assert post(td, "createCategory", category="music").status_code == 200
    assert status(post(td, "setCategory", hashes=h.upper(), category="music")) == (200, "")
    assert td.torrent(h)["category"] == "music"
    assert [x["hash"] for x in td.info(category="music")] == [h]
    assert h not in [x["hash"] for x in td.info(category="")]
    assert status(post(td, "setCategory", hashes="all", category="")) == (200, "")
    assert td.torrent(h)["category"] == ""
    assert h in [x["hash"] for x in td.info(category="")]


def test_remove_categories(td, tmp_path):
    h, _ = added(td, tmp_path, "rmcat.bin")
    for c in ("rm-a", "rm-b", "rm-keep"):
        assert post(td, "createCategory", category=c).status_code == 200
    assert post(td, "setCategory", hashes=h, category="rm-a").status_code == 200
    assert status(post(td, "removeCategories")) == (400, "Bad Request")
    assert status(post(td, "removeCategories", categories="rm-a\nrm-b\n\nnever-existed")) == (200, "")
    cats = get(td, "categories").json()
    assert "rm-a" not in cats and "rm-b" not in cats and "rm-keep" in cats
    assert td.torrent(h)["category"] == ""


def test_add_creates_category_and_tags(td, tmp_path):
    h, t = added(td, tmp_path, "autocat.bin", category="created-by-add", tags="t-add1, t-add2,,")
    assert t["category"] == "created-by-add"
    assert "created-by-add" in get(td, "categories").json()
    tags = get(td, "tags").json()
    assert "t-add1" in tags and "t-add2" in tags
    assert t["tags"] == "t-add1, t-add2"
    # an invalid category name: the torrent is added uncategorised
    h2, t2 = added(td, tmp_path, "badcat.bin", category="bad//cat")
    assert t2["category"] == ""
    assert "bad//cat" not in get(td, "categories").json()


def test_tags_lifecycle(td, tmp_path):
    assert status(post(td, "createTags")) == (400, "Bad Request")
    assert status(post(td, "createTags", tags="zeta,Alpha, beta ,,tag10,tag9,ALPHA")) == (200, "")
    tags = get(td, "tags").json()
    mine = [x for x in tags if x.lower() in ("zeta", "alpha", "beta", "tag10", "tag9")]
    # natural, case-insensitive order; "ALPHA" is the same tag as "Alpha"; trimmed
    assert mine == ["Alpha", "beta", "tag9", "tag10", "zeta"]

    h, _ = added(td, tmp_path, "tagged.bin")
    assert status(post(td, "addTags", hashes=h)) == (400, "Bad Request")
    assert status(post(td, "addTags", hashes=h, tags="beta,fresh-tag")) == (200, "")
    assert "fresh-tag" in get(td, "tags").json()   # unknown tags are created
    assert td.torrent(h)["tags"] == "beta, fresh-tag"
    assert [x["hash"] for x in td.info(tag="fresh-tag")] == [h]
    assert h not in [x["hash"] for x in td.info(tag="")]

    assert status(post(td, "removeTags", hashes=h, tags="BETA")) == (200, "")
    assert td.torrent(h)["tags"] == "fresh-tag"
    assert status(post(td, "setTags", hashes=h, tags="zeta, Alpha,new-set")) == (200, "")
    assert td.torrent(h)["tags"] == "Alpha, new-set, zeta"
    assert status(post(td, "setTags", hashes=h)) == (400, "Bad Request")
    assert status(post(td, "removeTags", hashes=h)) == (200, "")   # no tags = all
    assert td.torrent(h)["tags"] == ""
    assert h in [x["hash"] for x in td.info(tag="")]

    assert post(td, "addTags", hashes=h, tags="zeta,doomed").status_code == 200
    assert status(post(td, "deleteTags", tags="doomed,never-was")) == (200, "")
    assert "doomed" not in get(td, "tags").json()
    assert td.torrent(h)["tags"] == "zeta"
    # hostile tag text: commas split, an empty or blank tag is never created
    assert post(td, "createTags", tags=" , ,\t").status_code == 200
    assert all(x.strip() and "," not in x for x in get(td, "tags").json())


def test_survives_restart(td, tmp_path):
    assert post(td, "createCategory", category="persist", savePath="/p",
                downloadPathEnabled="false").status_code == 200
    assert post(td, "createTags", tags="persist-tag").status_code == 200
    h, _ = added(td, tmp_path, "persist.bin")
    assert post(td, "setCategory", hashes=h, category="persist").status_code == 200
    assert post(td, "addTags", hashes=h, tags="persist-tag").status_code == 200
    assert post(td, "deleteTags", tags="zeta").status_code == 200
    before_cats, before_tags = get(td, "categories").json(), get(td, "tags").json()
    td.stop()
    td.start()
    assert get(td, "categories").json() == before_cats
    assert get(td, "tags").json() == before_tags
    assert before_cats["persist"] == {"name": "persist", "savePath": "/p", "download_path": False}
    t = wait_until(lambda: td.torrent(h), 20, "the torrent after restart")
    assert t["category"] == "persist" and t["tags"] == "persist-tag"
