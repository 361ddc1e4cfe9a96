#!/bin/sh
# Drives a built VueTorrent (its dist folder, the one holding public/) served
# by torrentd as the alternative WebUI, in headless Debian chromium through
# playwright-core, and reports console errors and failed API requests.
#
#   scripts/try-vuetorrent.sh VUETORRENT_DIST [PLAYWRIGHT_CORE_PREFIX]
#
# PLAYWRIGHT_CORE_PREFIX is a folder where `npm install playwright-core` ran
# (default /tmp/pw). Screenshots and logs go to $TRY_WORK (default a new
# /tmp/try-vt.*). Everything runs inside scripts/netns-run.sh on loopback
# (the RSS feed and the search plugin come from a loopback HTTP server).
# VT_ONLY=REGEX runs only the browser steps it matches (and the login), for
# working on one page; the API checks of the skipped steps then fail.
# Exit status 0 when every check passed.
set -eu
[ $# -ge 1 ] || { sed -n 2,13p "$0"; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
VT_DIST=$(cd "$1" && pwd)
[ -f "$VT_DIST/public/index.html" ] || { echo "$VT_DIST/public/index.html missing" >&2; exit 2; }
export VT_DIST
export PW_DIR="${2:-/tmp/pw}"
export PYTHONPATH="$repo/tests/integration"
export TORRENTD_BIN="${TORRENTD_BIN:-$repo/build/asan/torrentd}"
export TRY_WORK="${TRY_WORK:-$(mktemp -d /tmp/try-vt.XXXXXX)}"
exec timeout 900 "$repo/scripts/netns-run.sh" /usr/bin/python3 "$here/try-vuetorrent.py"
