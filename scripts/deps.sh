#!/bin/sh
# Installs the Debian packages torrentd needs to build, run and test.
# Idempotent: only calls apt-get when something is missing.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNTIME_ONLY=0
[ "${1:-}" = "--runtime-only" ] && RUNTIME_ONLY=1
PKGS="build-essential cmake pkg-config clang
libuv1-dev libmicrohttpd-dev libcurl4-openssl-dev libssl-dev libjansson-dev
libsqlite3-dev libexpat1-dev libpcre2-dev zlib1g-dev libcmocka-dev libzip-dev
python3 python3-pytest python3-pytest-xdist python3-requests iproute2 util-linux
qbittorrent-nox transmission-daemon transmission-cli opentracker mktorrent
aria2 python3-libtorrent wrk
libyaml-dev libminiupnpc-dev libnatpmp-dev
miniupnpd miniupnpc natpmpc nftables microsocks tinyproxy prometheus chromium"
# Node.js + npm run the bittorrent-dht interop test (test_dht.py) and @ctrl/qbittorrent (test_client_ctrl.py).
# Only when missing: a NodeSource nodejs bundles its own npm and conflicts with Debian's.
command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs"
command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"
[ $RUNTIME_ONLY = 1 ] && PKGS="build-essential cmake pkg-config libuv1-dev libmicrohttpd-dev libcurl4-openssl-dev libssl-dev libjansson-dev libsqlite3-dev libexpat1-dev libpcre2-dev zlib1g-dev libcmocka-dev libzip-dev libyaml-dev libminiupnpc-dev libnatpmp-dev"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "installing:$missing"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  # miniupnpd, tinyproxy and prometheus are test tools: keep apt from
  # starting them as services (policy-rc.d exit 101 = "do not start"),
  # only for this install and only when no policy is in place already.
  POLICY=/usr/sbin/policy-rc.d
  if [ ! -e $POLICY ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee $POLICY >/dev/null && $SUDO chmod 755 $POLICY
    trap '$SUDO rm -f $POLICY' EXIT
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
# bittorrent-dht, an independent DHT for test_dht.py, pinned in
# tests/integration/node/package{,-lock}.json (added with
# `npm install --prefix tests/integration/node bittorrent-dht@11.0.12`).
# Only when node and npm exist; without it those tests skip.
NODE_DIR="$ROOT/tests/integration/node"
if [ $RUNTIME_ONLY = 0 ] && command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 &&
   [ ! -d "$NODE_DIR/node_modules/bittorrent-dht" ]; then
  npm ci --prefix "$NODE_DIR" --no-audit --no-fund ||
    echo "warning: npm ci failed; test_dht.py skips the bittorrent-dht interop tests"
fi
# @ctrl/qbittorrent, a real API client run unchanged by test_client_ctrl.py,
# pinned in tests/integration/clients/package{,-lock}.json (added with
# `npm install --prefix tests/integration/clients @ctrl/qbittorrent@9.16.0`).
# That test fails without it (it does not skip).
CLIENTS_DIR="$ROOT/tests/integration/clients"
if [ $RUNTIME_ONLY = 0 ] && [ ! -d "$CLIENTS_DIR/node_modules" ]; then
  npm ci --prefix "$CLIENTS_DIR" --no-audit --no-fund ||
    echo "warning: npm ci failed in $CLIENTS_DIR; test_client_ctrl.py will fail"
fi
