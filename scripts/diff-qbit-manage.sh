#!/bin/sh
# Differential check of torrentd's built-in qbit_manage (POST /api/run-command)
# against the real qbit_manage on one scenario: the stats, the end state over
# the v2 API, the files under root_dir and the log lines.
#
#   scripts/diff-qbit-manage.sh QBIT_MANAGE_DIR QBITTORRENT_API_DIR [EXTRA_PYTHONPATH]
#
# Arguments as scripts/try-qbit-manage.sh (whose scenario it builds twice from
# one seed: profile A, where the real qbit_manage runs all eight commands over
# the v2 API, and profile B, where torrentd's run-command runs them with the
# same config.yml). Runs inside scripts/netns-run.sh. Prints a table of
# differences; exit status 0 only when there are none, 2 when every end-state
# difference is on a torrent the run's recheck was still checking (a timing
# race: see docs/clients.md), 1 otherwise. DIFF_SEED picks the seed (12).
set -eu
[ $# -ge 2 ] || { sed -n 2,13p "$0"; exit 64; }
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
QBM_DIR=$(cd "$1" && pwd)
QBA_DIR=$(cd "$2" && pwd)
extra=${3:-}
export QBM_DIR
export PYTHONPATH="$QBA_DIR/src${extra:+:$extra}:$repo/tests/integration"
export TORRENTD_BIN="${TORRENTD_BIN:-$repo/build/asan/torrentd}"
export TRY_WORK="${TRY_WORK:-$(mktemp -d /tmp/diff-qbm.XXXXXX)}"
exec timeout 900 "$repo/scripts/netns-run.sh" /usr/bin/python3 "$here/diff-qbit-manage.py"
