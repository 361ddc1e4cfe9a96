#!/bin/sh
# qbittorrent-api's own tests/test_search.py against torrentd, offline, with
# local plugins (issue 13):
#
#   scripts/netns-run.sh /bin/sh scripts/try-qbittorrent-api-search.sh \
#       QBITTORRENT_API_CHECKOUT [TORRENTD_BINARY]
#
# A scratch torrentd on localhost:8080 (the suite hard-codes it) gets a slow
# plugin in <profile>/nova3/engines (the suite wants to see a search
# "Running") and search_update_url pointing at a loopback server whose
# versions.txt offers an offline stand-in for the eztv plugin (the suite
# updates the plugins, then downloads a torrent through eztv).  Then
# scripts/try-qbittorrent-api.py --suite runs tests/test_search.py.  The two
# install/uninstall tests fetch a plugin from github.com: try-qbittorrent-api.py
# serves a stand-in of the same name locally instead.
set -u
[ $# -ge 1 ] || { sed -n 2,13p "$0"; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
CHECKOUT=$1
BIN=${2:-$repo/build/asan/torrentd}
W=$(mktemp -d /tmp/qbtapi-search.XXXXXX)
mkdir -p "$W/profile" "$W/upd/engines"

cat > "$W/slowdummy.py" <<'PY'
#VERSION: 1.00
# A slow offline plugin: one result, then 30 s of "Running".
import time

from novaprinter import prettyPrinter


class slowdummy(object):
    url = "http://slowdummy.example"
    name = "Slow Dummy"
    supported_categories = {"all": "0", "movies": "1"}

    def search(self, what, cat="all"):
        prettyPrinter({"link": "magnet:?xt=urn:btih:" + "ab" * 20, "name": "Ubuntu dummy " + what,
                       "size": "1 GB", "seeds": 5, "leech": 1, "engine_url": self.url})
        time.sleep(30)
PY
cat > "$W/upd/engines/eztv.py" <<'PY'
#VERSION: 1.00
# An offline stand-in for the eztv plugin: download_torrent through helpers.
import helpers
from novaprinter import prettyPrinter


class eztv(object):
    url = "http://eztv.example"
    name = "EZTV (offline stand-in)"
    supported_categories = {"all": "0", "tv": "1"}

    def search(self, what, cat="all"):
        prettyPrinter({"link": "http://eztv.example/1.torrent", "name": "eztv " + what, "size": 1,
                       "seeds": 1, "leech": 1, "engine_url": self.url})

    def download_torrent(self, url):
        print(helpers.download_file(url))
PY
printf 'eztv: 1.00\n' > "$W/upd/engines/versions.txt"

start() {
    "$BIN" --profile "$W/profile" --webui-address 127.0.0.1 --webui-port 8080 --listen-address 127.0.0.1 \
        --listen-port 18999 --save-path "$W/dl" --webui-password adminadmin >>"$W/torrentd.log" 2>&1 &
    echo $! > "$W/pid"
    i=0
    while [ $i -lt 200 ] && ! curl -s -o /dev/null http://127.0.0.1:8080/api/v2/app/version; do
        sleep 0.1; i=$((i + 1))
    done
}
stop() {
    kill "$(cat "$W/pid")"
    wait "$(cat "$W/pid")"
}

start
stop
/usr/bin/python3 - "$W/profile/torrentd.db" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
with db:
    db.execute("INSERT OR REPLACE INTO prefs(key, value) VALUES (?, ?)",
               ("search_update_url", json.dumps("http://127.0.0.1:18766/engines/")))
PY
cp "$W/slowdummy.py" "$W/profile/nova3/engines/"
/usr/bin/python3 -m http.server 18766 --bind 127.0.0.1 --directory "$W/upd" >/dev/null 2>&1 &
http=$!
start
/usr/bin/python3 "$here/try-qbittorrent-api.py" "$CHECKOUT" http://localhost:8080 --suite -- tests/test_search.py
rc=$?
stop
status=$?
kill $http
echo "torrentd exit status $status, log $W/torrentd.log"
[ $status -eq 0 ] || rc=100
exit $rc
