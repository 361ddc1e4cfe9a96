#VERSION: 1.00
# torrentd's search runner: runs qBittorrent nova3 search plugins.
#
# Written for torrentd (the daemon writes this file into <profile>/nova3/
# and runs it); the command line and output are those qBittorrent documents
# for its nova2.py, so a plugin behaves here as it does there:
#
#   nova2.py --capabilities [--names]
#       <capabilities><MODULE><name>..</name><url>..</url>
#       <categories>cat cat ..</categories></MODULE>..</capabilities>
#       (with --names: the loadable module names, comma-separated)
#   nova2.py all|engine1[,engine2]* <category> <keywords...>
#       one result per line from novaprinter.prettyPrinter; exit 0, 1 when
#       an engine raised, 2 on bad arguments (an unknown category)
#
# Plugins are engines/<name>.py (names starting with "_" are skipped), each
# defining a class <name> with url, name, supported_categories and
# search(what, cat).  Engines of one search run in threads of this one
# process, so the daemon's limits hold for all of them.
#
# Plugins are untrusted code: before importing any, the runner caps its own
# CPU time and address space with the limits the daemon passes in
# TORRENTD_SEARCH_LIMITS="<cpu seconds>,<address space bytes>" (0 = none).
import os
import sys


def _limit():
    spec = os.environ.get("TORRENTD_SEARCH_LIMITS", "")
    if not spec:
        return
    try:
        import resource
        cpu, mem = (int(x) for x in spec.split(","))
        if cpu > 0:
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        if mem > 0:
            resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    except (ImportError, ValueError, OSError) as e:
        print("torrentd search runner: cannot set limits: %s" % e, file=sys.stderr)
        sys.exit(1)


_limit()

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

import importlib  # noqa: E402
import threading  # noqa: E402
import traceback  # noqa: E402
import urllib.parse  # noqa: E402
import xml.etree.ElementTree as ET  # noqa: E402

import helpers  # noqa: E402,F401  (plugins expect it importable)

CATEGORIES = ("all", "anime", "books", "games", "movies", "music", "pictures", "software", "tv")

_loaded = {}


def list_engines():
    names = []
    try:
        entries = os.listdir(os.path.join(_HERE, "engines"))
    except OSError:
        return names
    for entry in entries:
        if not entry.endswith(".py"):
            continue
        name = entry[:-3].strip()
        if not name or name.startswith("_") or "." in name:
            continue
        names.append(name)
    return sorted(names)


def load_engine(name):
    if name in _loaded:
        return _loaded[name]
    cls = None
    try:
        module = importlib.import_module("engines." + name)
        cls = getattr(module, name)
    except BaseException:  # a plugin may even call sys.exit() on import
        traceback.print_exc()
    _loaded[name] = cls
    return cls


def capabilities(names):
    root = ET.Element("capabilities")
    for name in names:
        cls = load_engine(name)
        if cls is None:
            continue
        try:
            full_name = str(cls.name)
            url = str(cls.url)
            cats = getattr(cls, "supported_categories", {}) or {}
            cat_names = " ".join(sorted(str(k) for k in cats.keys() if k != "all"))
        except BaseException:
            traceback.print_exc()
            continue
        elem = ET.SubElement(root, name)
        ET.SubElement(elem, "name").text = full_name
        ET.SubElement(elem, "url").text = url
        ET.SubElement(elem, "categories").text = cat_names
    ET.indent(root)
    return ET.tostring(root, "unicode")


def run_one(cls, what, cat, failed):
    try:
        engine = cls()
        if hasattr(engine, "supported_categories"):
            if cat in engine.supported_categories:
                engine.search(what, cat)
        else:
            engine.search(what)
    except BaseException:
        traceback.print_exc()
        failed.append(cls)


def main(argv):
    names = list_engines()
    # Only as the first argument: a search for the word "--capabilities"
    # is a search.
    if len(argv) > 1 and argv[1] == "--capabilities":
        if "--names" in argv[2:]:
            print(",".join(n for n in names if load_engine(n) is not None))
        else:
            print(capabilities(names))
        return 0
    if len(argv) < 4:
        print("Usage: %s all|engine1[,engine2]* <category> <keywords>" % argv[0], file=sys.stderr)
        return 2
    wanted = set(a.strip().lower() for a in argv[1].split(","))
    engines = names if "all" in wanted else [n for n in names if n.lower() in wanted]
    cat = argv[2].strip().lower()
    if cat not in CATEGORIES:
        print("Invalid category: %s" % cat, file=sys.stderr)
        return 2
    what = urllib.parse.quote(" ".join(argv[3:]))
    failed = []
    threads = []
    for name in engines:
        cls = load_engine(name)
        if cls is None:   # as qBittorrent's: an engine that does not load is skipped
            continue
        t = threading.Thread(target=run_one, args=(cls, what, cat, failed), daemon=True)
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
