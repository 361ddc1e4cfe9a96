#!/bin/sh
# Layering of includes: each row names a directory under src/ and the include
# paths its files (recursively) must not use.  A forbidden entry is a prefix
# of the path inside #include "..." or #include <...>: "bt/" forbids every bt
# header, "jansson.h" that one header.  The link check (td_link_<layer> in
# CMakeLists.txt) catches upward calls; this catches what linking cannot:
# web reaching past core into bt/disk/store (their code is linked through
# core), and header-only (type, inline) dependencies in either direction.
# The engine (core and below) never includes jansson: its JSON rows are made
# and read by store/record with SQLite's JSON functions.
# To extend: add a row, or a prefix to a row.  tests/layering/bad_* are
# fixtures the check must reject (CTest layering_selftest_*).
#
# Usage: tests/layering.sh [SRC_DIR]   (default: src/ next to this script)
set -u
src=${1:-$(dirname "$0")/../src}

fail=0
while read -r dir forbidden; do
    case $dir in ''|'#'*) continue ;; esac
    if [ ! -d "$src/$dir" ]; then
        echo "layering: $src/$dir: no such directory" >&2
        fail=1
        continue
    fi
    for prefix in $forbidden; do
        # Escape the regex metacharacters a prefix may hold ("jansson.h").
        re=$(printf '%s' "$prefix" | sed 's/[].[\*^$+?(){}|]/\\&/g')
        if grep -rnE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]$re" \
                --include='*.c' --include='*.h' "$src/$dir"; then
            echo "layering: src/$dir must not include $prefix headers (lines above)"
            fail=1
        fi
    done
done <<'RULES'
# dir  forbidden include prefixes
util   bt/ disk/ store/ core/ rss/ search/ ops/ automation/ web/ jansson.h yaml.h
bt     disk/ store/ core/ rss/ search/ ops/ automation/ web/ jansson.h yaml.h
disk   store/ core/ rss/ search/ ops/ automation/ web/ jansson.h yaml.h
store  bt/ disk/ core/ rss/ search/ ops/ automation/ web/ jansson.h yaml.h
core   rss/ search/ ops/ automation/ web/ jansson.h yaml.h
rss    search/ ops/ automation/ web/
search rss/ ops/ automation/ web/
ops    rss/ search/ automation/ web/ disk/ store/
automation rss/ search/ ops/ web/
web    bt/ disk/ store/
RULES
exit $fail
