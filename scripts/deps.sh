#!/bin/sh
# Installs the Debian packages torrentd needs to build, run and test.
# Idempotent: only calls apt-get when something is missing.
set -eu
PKGS="build-essential cmake pkg-config clang
libuv1-dev libmicrohttpd-dev libcurl4-openssl-dev libssl-dev libjansson-dev
libsqlite3-dev libexpat1-dev libpcre2-dev zlib1g-dev libcmocka-dev
python3 python3-pytest python3-requests iproute2 util-linux
qbittorrent-nox transmission-daemon transmission-cli opentracker mktorrent
aria2 python3-libtorrent wrk"
[ "${1:-}" = "--runtime-only" ] && PKGS="build-essential cmake pkg-config libuv1-dev libmicrohttpd-dev libcurl4-openssl-dev libssl-dev libjansson-dev libsqlite3-dev libexpat1-dev libpcre2-dev zlib1g-dev libcmocka-dev"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
