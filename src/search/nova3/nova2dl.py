#VERSION: 1.00
# torrentd's download runner: fetches a search result's .torrent through
# its plugin, as qBittorrent documents for nova2dl.py:
#
#   nova2dl.py <engine> <url>
#       calls engine.download_torrent(url) when the plugin has one, else
#       prints helpers.download_file(url): one line "<temp file> <url>".
#
# Written for torrentd; the same limits as nova2.py apply before the plugin
# is imported.
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

import nova2  # noqa: E402  (applies TORRENTD_SEARCH_LIMITS)
import helpers  # noqa: E402


def main(argv):
    if len(argv) < 3:
        print("Usage: %s engine_name download_parameter" % argv[0], file=sys.stderr)
        return 2
    name = argv[1].strip()
    url = argv[2].strip()
    cls = nova2.load_engine(name) if name in nova2.list_engines() else None
    if cls is None:
        print("%s: engine_name was not recognized: %s" % (argv[0], name), file=sys.stderr)
        return 1
    engine = cls()
    if hasattr(engine, "download_torrent"):
        engine.download_torrent(url)
    else:
        print(helpers.download_file(url))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
