#!/bin/sh
# Runs a command in a private network namespace that has only loopback, so
# that nothing a test starts (peers, trackers, daemons) can reach out.
set -eu
if [ "${TD_IN_NETNS:-}" = 1 ]; then exec "$@"; fi
export TD_IN_NETNS=1
exec unshare -n sh -c 'ip link set lo up && exec "$@"' netns-run "$@"
