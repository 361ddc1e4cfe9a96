#!/usr/bin/env python3
"""Builds the small .torrent fixtures used by tests/unit/test_metainfo.c.

Deterministic: content is generated from a fixed pattern and no creation
date depends on the clock, so rerunning produces identical files.  Run from
anywhere: python3 tests/data/make_fixtures.py
"""
import hashlib
import os

HERE = os.path.dirname(os.path.abspath(__file__))
PL = 16384


def benc(v):
    if isinstance(v, bool):
        raise TypeError("bool")
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, bytes):
        return b"%d:%s" % (len(v), v)
    if isinstance(v, list):
        return b"l" + b"".join(benc(x) for x in v) + b"e"
    if isinstance(v, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, x) for k, x in v.items())
        return b"d" + b"".join(benc(k) + benc(x) for k, x in items) + b"e"
    raise TypeError(type(v))


def content(n, seed):
    return bytes((i * 7 + seed) & 0xFF for i in range(n))


def pieces(data):
    return b"".join(hashlib.sha1(data[i:i + PL]).digest() for i in range(0, len(data), PL))


def merkle(nodes, width, pad):
    nodes = nodes + [pad] * (width - len(nodes))
    while len(nodes) > 1:
        nodes = [hashlib.sha256(nodes[i] + nodes[i + 1]).digest() for i in range(0, len(nodes), 2)]
        pad = hashlib.sha256(pad + pad).digest()
    return nodes[0]


def pow2(n):
    w = 1
    while w < n:
        w *= 2
    return w


def v2_hashes(data):
    """BEP52 (pieces root, piece layer or None) of one file's data."""
    leaves = [hashlib.sha256(data[i:i + 16384]).digest() for i in range(0, len(data), 16384)]
    per = PL // 16384
    if len(data) <= PL:
        return merkle(leaves, pow2(len(leaves)), bytes(32)), None
    layer = [merkle(leaves[i:i + per], per, bytes(32)) for i in range(0, len(leaves), per)]
    return merkle(layer, pow2(len(layer)), merkle([], per, bytes(32))), b"".join(layer)


def write(name, meta):
    raw = benc(meta)
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(raw)
    ih = hashlib.sha1(benc(meta["info"])).hexdigest() if "info" in meta else "-"
    print(f"{name:24} {len(raw):6} bytes  info-hash {ih}")


def multi_info(name, files, **extra):
    """files: list of (path list, length, attr or None)."""
    data = b""
    flist = []
    for i, (path, length, attr) in enumerate(files):
        blob = bytes(length) if attr and "p" in attr else content(length, i)
        data += blob
        f = {"length": length, "path": path}
        if attr:
            f["attr"] = attr
        flist.append(f)
    info = {"name": name, "piece length": PL, "pieces": pieces(data), "files": flist}
    info.update(extra)
    return info


def main():
    single = content(40000, 1)
    write("single.torrent", {
        "announce": "http://127.0.0.1:6969/announce",
        "comment": "single-file fixture",
        "created by": "make_fixtures.py",
        "creation date": 1700000000,
        "url-list": "http://127.0.0.1:8080/seed/",
        "info": {"name": "hello.txt", "length": len(single), "piece length": PL,
                 "pieces": pieces(single)},
    })

    write("multi.torrent", {
        "announce": "http://ignored.example/announce",
        "announce-list": [
            ["http://127.0.0.1:6969/announce", "", "udp://127.0.0.1:6969"],
            [],
            ["http://127.0.0.1:6969/announce", "http://127.0.0.1:7070/announce"],
            ["  "],
        ],
        "url-list": ["http://127.0.0.1:8080/a/", "http://127.0.0.1:8080/a/", "http://127.0.0.1:8080/b/"],
        "info": multi_info("multi", [
            (["a.txt"], 1000, None),
            (["sub", "b.bin"], 20000, None),
            (["sub", "deeper", "c.dat"], 0, None),
            (["run.sh"], 300, "x"),
        ]),
    })

    priv = content(5000, 9)
    write("private.torrent", {
        "announce": "http://127.0.0.1:6969/announce?passkey=abc",
        "info": {"name": "private.bin", "length": len(priv), "piece length": PL,
                 "pieces": pieces(priv), "private": 1},
    })

    write("padded.torrent", {
        "announce": "http://127.0.0.1:6969/announce",
        "info": multi_info("padded", [
            (["one.bin"], 10000, None),
            ([".pad", "6384"], 6384, "p"),
            (["two.bin"], 100, None),
            ([".pad", "16284"], 16284, None),       # old-style: named only
            (["three.bin"], 5, ""),
        ]),
    })

    # BEP52 hybrid: v1 files with a pad file, the same files in a file tree,
    # piece layers for the file of more than one piece.
    ha, hc = content(20000, 3), content(5, 4)
    ra, la = v2_hashes(ha)
    rc, _ = v2_hashes(hc)
    hpad = 2 * PL - len(ha)
    tree = {"a.bin": {"": {"length": len(ha), "pieces root": ra}},
            "b": {"c.txt": {"": {"length": len(hc), "pieces root": rc}},
                  "empty": {"": {"length": 0}}}}
    write("hybrid.torrent", {
        "announce": "http://127.0.0.1:6969/announce",
        "piece layers": {ra: la},
        "info": {"name": "hybrid", "piece length": PL, "meta version": 2, "file tree": tree,
                 "pieces": pieces(ha + bytes(hpad) + hc),
                 "files": [{"length": len(ha), "path": ["a.bin"]},
                           {"length": hpad, "path": [".pad", str(hpad)], "attr": "p"},
                           {"length": len(hc), "path": ["b", "c.txt"]},
                           {"length": 0, "path": ["b", "empty"]}]},
    })

    write("v2only.torrent", {
        "announce": "http://127.0.0.1:6969/announce",
        "piece layers": {ra: la},
        "info": {"name": "v2", "piece length": PL, "meta version": 2, "file tree": tree},
    })

    write("hostile.torrent", {
        "announce": "http://127.0.0.1:6969/announce",
        "info": multi_info("../../evil", [
            (["..", "..", "x"], 10, None),                 # -> x
            (["/etc/x"], 10, None),                        # -> _etc_x
            (["", "etc", "x"], 10, None),                  # -> etc/x
            (["a", "..", "..", "b"], 10, None),            # -> a/b
            (["a", "b"], 10, None),                        # duplicate -> a/b (1)
            ([b"nul\x00name"], 10, None),                  # -> nul_name
            (["L" * 300 + ".txt"], 10, None),              # -> 255 bytes, .txt kept
            (["dup.txt"], 10, None),
            (["dup.txt"], 10, None),                       # -> dup (1).txt
            (["..", "."], 10, None),                       # nothing left -> _
            (["x", "y"], 10, None),                        # dir x clashes with the first file: that one becomes "x (1)"
            ([b"bad\xff\xfeutf8"], 10, None),              # invalid UTF-8 -> bad__utf8
            (["back\\slash"], 10, None),                   # -> back_slash
        ]),
    })

    hn = content(100, 5)
    write("dotdot_name.torrent", {
        "info": {"name": "..", "length": len(hn), "piece length": PL, "pieces": pieces(hn)},
    })


if __name__ == "__main__":
    main()
