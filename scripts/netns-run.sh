#!/bin/sh
# Runs a command in a private network namespace that has only loopback, so
# that nothing a test starts (peers, trackers, daemons) can reach out.  It
# also gets a private mount namespace (propagation private): tests that need
# a small or failing file system (tests/integration/fsfault.py) mount it
# there, invisible to the host, and it goes away with the namespace
# (TD_MOUNT_NS names it, so a test can tell it is inside).
set -eu
if [ "${TD_IN_NETNS:-}" = 1 ]; then exec "$@"; fi
export TD_IN_NETNS=1
exec unshare -n -m --propagation private \
    sh -c 'ip link set lo up && export TD_MOUNT_NS="$(readlink /proc/self/ns/mnt)" && exec "$@"' netns-run "$@"
