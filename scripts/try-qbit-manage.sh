#!/bin/sh
# Runs an unmodified qbit_manage checkout against torrentd and checks what it
# did, over the API, after each command (dry run first, then for real).
#
#   scripts/try-qbit-manage.sh QBIT_MANAGE_DIR QBITTORRENT_API_DIR [EXTRA_PYTHONPATH]
#
# QBITTORRENT_API_DIR is a qbittorrent-api checkout (its src/ goes on
# PYTHONPATH); EXTRA_PYTHONPATH holds Python modules Debian lacks
# (pytimeparse2.py). Everything runs inside scripts/netns-run.sh on loopback:
# torrentd, opentracker, a fake tracker that answers "Unregistered torrent",
# and qbit_manage itself. Needs TORRENTD_BIN or build/asan/torrentd.
# Exit status 0 when every check passed; the report lists each check.
set -eu
[ $# -ge 2 ] || { sed -n 2,11p "$0"; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
QBM_DIR=$(cd "$1" && pwd)
QBA_DIR=$(cd "$2" && pwd)
extra=${3:-}
export QBM_DIR
export PYTHONPATH="$QBA_DIR/src${extra:+:$extra}:$repo/tests/integration"
export TORRENTD_BIN="${TORRENTD_BIN:-$repo/build/asan/torrentd}"
export TRY_WORK="${TRY_WORK:-$(mktemp -d /tmp/try-qbm.XXXXXX)}"
exec timeout 900 "$repo/scripts/netns-run.sh" /usr/bin/python3 "$here/try-qbit-manage.py"
