#!/bin/sh
# Layering of calls: each row names a layer and the layers its code may call
# directly.  A symbol that libtd_<layer>.a leaves undefined and another layer's
# library defines must come from a layer on the row.  The link check
# (td_link_<layer> in CMakeLists.txt) already fails on an upward call; this
# also catches a call that skips a layer, which links because the layer in
# between brings the lower one along (web calling bt or store past core).
# tests/layering.sh does the same for #include lines.
#
# Usage: tests/layering_calls.sh LIBDIR   (the build directory holding libtd_*.a)
set -u
libdir=${1:?usage: layering_calls.sh LIBDIR}
layers="util bt disk store core rss automation web"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

for l in $layers; do
    lib="$libdir/libtd_$l.a"
    [ -f "$lib" ] || { echo "layering_calls: $lib missing" >&2; exit 1; }
    nm -g --defined-only "$lib" | awk 'NF == 3 { print $3 }' | sort -u > "$tmp/def.$l"
done

fail=0
while read -r layer allowed; do
    case $layer in ''|'#'*) continue ;; esac
    # "archive:object: U symbol" for every undefined reference
    nm -A -u "$libdir/libtd_$layer.a" | awk '{ print $NF, $1 }' | sort -u > "$tmp/und"
    for other in $layers; do
        [ "$other" = "$layer" ] && continue
        case " $allowed " in *" $other "*) continue ;; esac
        bad=$(awk 'NR == FNR { d[$1] = 1; next } ($1 in d)' "$tmp/def.$other" "$tmp/und")
        if [ -n "$bad" ]; then
            printf '%s\n' "$bad" | sed "s|^\\([^ ]*\\) .*/\\(libtd_[a-z]*\\.a:.*\\):\$|\\2 calls \\1|"
            echo "layering_calls: $layer must not call $other (lines above)"
            fail=1
        fi
    done
done <<'RULES'
# layer  layers it may call
util
bt     util
disk   bt util
store  util
core   bt disk store util
rss    core store util
automation core util
web    rss automation core util
RULES
exit $fail
