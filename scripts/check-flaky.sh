#!/bin/sh
# check-flaky.sh N [pytest args...] -- runs the integration suite N times
# and reports, per test, how many runs it failed (or errored) in.
#
#   scripts/check-flaky.sh 10                      # whole suite, 10 runs
#   scripts/check-flaky.sh 3 tests/integration/test_sync.py
#
# Each run is `make integration`'s command (the ASan build, in the loopback
# namespace, TEST_WORKERS xdist workers) with a JUnit report of its own in
# build/flaky/run-K.xml; the summary is read from those reports, so a run
# that dies early counts as a failure of the whole run, never as a pass.
# Exit status: 0 when every run passed, 1 otherwise.
set -eu
cd "$(dirname "$0")/.."
N=${1:?usage: scripts/check-flaky.sh N [pytest args...]}
shift
case $N in ''|*[!0-9]*) echo "check-flaky: N must be a number" >&2; exit 2 ;; esac
[ "$N" -ge 1 ] || { echo "check-flaky: N must be at least 1" >&2; exit 2; }
[ $# -gt 0 ] || set -- tests/integration
PYTHON=${PYTHON:-/usr/bin/python3}
TEST_WORKERS=${TEST_WORKERS:-6}
TORRENTD_BIN=${TORRENTD_BIN:-$PWD/build/asan/torrentd}
export TORRENTD_BIN
[ -x "$TORRENTD_BIN" ] || { echo "check-flaky: no $TORRENTD_BIN (make asan)" >&2; exit 2; }
if [ "$TEST_WORKERS" = 0 ]; then XDIST="-p no:xdist"; else XDIST="-n $TEST_WORKERS --dist loadgroup"; fi
out=build/flaky
rm -rf "$out"
mkdir -p "$out"
k=1
while [ "$k" -le "$N" ]; do
    t0=$(date +%s)
    # shellcheck disable=SC2086
    if scripts/netns-run.sh "$PYTHON" -m pytest -q -p no:cacheprovider $XDIST \
        --junitxml="$out/run-$k.xml" "$@" >"$out/run-$k.log" 2>&1; then rc=0; else rc=$?; fi
    echo "run $k/$N: exit $rc in $(( $(date +%s) - t0 )) s ($(tail -1 "$out/run-$k.log"))"
    echo "$rc" >"$out/run-$k.rc"
    k=$((k + 1))
done
"$PYTHON" - "$out" "$N" <<'EOF'
import os, sys, xml.etree.ElementTree as ET
out, n = sys.argv[1], int(sys.argv[2])
fails, runs_bad = {}, 0
for k in range(1, n + 1):
    rc = int(open(os.path.join(out, "run-%d.rc" % k)).read())
    path = os.path.join(out, "run-%d.xml" % k)
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        root = None
    bad = set()
    for tc in (root.iter("testcase") if root is not None else ()):
        if tc.find("failure") is not None or tc.find("error") is not None:
            bad.add("%s::%s" % (tc.get("classname", ""), tc.get("name", "")))
    if rc != 0 and not bad:
        bad.add("(run %d exited %d with no failed test recorded: see %s)" % (k, rc, "run-%d.log" % k))
    runs_bad += bool(bad)
    for t in bad:
        fails.setdefault(t, []).append(k)
print("\n%d of %d runs had failures" % (runs_bad, n))
for t, ks in sorted(fails.items(), key=lambda kv: (-len(kv[1]), kv[0])):
    print("%3d/%d  %s  (runs %s)" % (len(ks), n, t, ",".join(map(str, ks))))
sys.exit(1 if runs_bad else 0)
EOF
