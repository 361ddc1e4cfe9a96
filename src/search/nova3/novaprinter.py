#VERSION: 1.00
# torrentd's search runtime: the result printer search plugins call.
#
# Written for torrentd; it implements the interface qBittorrent documents
# for its nova3 plugins: prettyPrinter(dict) prints one result line
#     link|name|size|seeds|leech|engine_url|desc_link|pub_date
# on stdout, and anySizeToBytes() turns "1.5 GB" into bytes (units K, M, G,
# T as powers of 1024; a number passes through; anything else is -1).
import re

_SIZE = re.compile(r"^(\d*\.?\d+) *([a-z]+)?", re.IGNORECASE)
_EXP = {"K": 10, "M": 20, "G": 30, "T": 40}


def anySizeToBytes(size_string):
    if isinstance(size_string, bool):
        return int(size_string)
    if isinstance(size_string, int):
        return size_string
    if isinstance(size_string, float):
        return round(size_string)
    m = _SIZE.match(str(size_string).strip())
    if m is None:
        return -1
    size = float(m.group(1))
    unit = m.group(2)
    if unit:
        size *= 2 ** _EXP.get(unit[0].upper(), 0)
    return round(size)


def _field(v):
    # A field may hold no line break: the daemon reads one result per line.
    return str(v).replace("\r", " ").replace("\n", " ")


def prettyPrinter(dictionary):
    fields = (
        _field(dictionary["link"]),
        _field(dictionary["name"]).replace("|", " "),
        str(anySizeToBytes(dictionary["size"])),
        _field(dictionary["seeds"]),
        _field(dictionary["leech"]),
        _field(dictionary["engine_url"]),
        _field(dictionary.get("desc_link", "")),
        _field(dictionary.get("pub_date", -1)),
    )
    line = "|".join(fields) + "\n"
    # fd 1 in UTF-8 whatever the locale, one write per line (threads of
    # several engines print at once).
    with open(1, "w", encoding="utf-8", errors="replace", closefd=False) as out:
        out.write(line)
        out.flush()
