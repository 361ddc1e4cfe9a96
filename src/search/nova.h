/* nova — the pure parts of qBittorrent's search-plugin protocol (nova3):
 * result lines, the output stream cut into lines, plugin versions, the
 * `--capabilities` XML and the update server's versions.txt.
 *
 * Facts from qBittorrent 5.1 (SearchHandler::parseSearchResult,
 * SearchPluginManager::getPluginVersion / parseVersionInfo / update,
 * Utils::Version<2>), see ../shared/docs/clients-wave2.md §4 (outside the
 * repository).  Everything here reads bytes a plugin (untrusted code)
 * wrote: lengths are bounded, invalid UTF-8 becomes U+FFFD (as
 * QString::fromUtf8 does), nothing is ever trusted to be NUL-free.
 * No I/O, no loop: the unit tests and the fuzz target drive it directly.
 */
#ifndef TD_SEARCH_NOVA_H
#define TD_SEARCH_NOVA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A result line longer than this (magnets with many trackers reach a few
 * KiB) is dropped whole, its bytes never buffered. */
#define NOVA_MAX_LINE (64 * 1024)

/* One result: link|name|size|seeds|leech|engine_url[|desc_link[|pub_date]].
 * Strings are malloc'd valid UTF-8, never NULL. */
struct nova_result {
    char *file_url, *file_name, *site_url, *descr_link;
    int64_t file_size;     /* toLongLong of the field, 0 when not a number */
    int64_t seeds, leechers; /* -1 when not a number or negative */
    int64_t pub_date;      /* epoch seconds, -1 when absent or not > 0 */
};

/* Parses one line (without its '\n'; may hold any bytes).  0 and *out
 * filled (nova_result_free), -EINVAL when it is no result (fewer than six
 * '|'-separated fields; qBittorrent ignores such lines), -ENOMEM. */
int nova_parse_line(const char *line, size_t len, struct nova_result *out);
void nova_result_free(struct nova_result *r);

/* A malloc'd NUL-terminated copy of s[0..n) with surrounding ASCII
 * whitespace trimmed, every invalid UTF-8 sequence and every NUL replaced
 * by U+FFFD; NULL on ENOMEM. */
char *nova_utf8_dup(const char *s, size_t n, bool trim);

/* Cuts a stream into lines, as SearchHandler::readSearchOutput does: the
 * bytes after the last '\n' wait for the next read; what is still waiting
 * when the stream ends is dropped (qBittorrent never parses it).  A line
 * longer than NOVA_MAX_LINE is skipped up to its '\n'. */
struct nova_lines {
    char *buf;
    size_t len, cap;
    bool skipping;         /* inside an over-long line */
    uint64_t skipped;      /* over-long lines dropped (for the log) */
};
typedef void (*nova_line_fn)(void *ud, const char *line, size_t len);
/* Calls fn for each complete line of data (its '\n' not included).
 * 0 or -ENOMEM (the partial line is then dropped). */
int nova_lines_feed(struct nova_lines *l, const char *data, size_t n, nova_line_fn fn, void *ud);
void nova_lines_free(struct nova_lines *l);

/* Utils::Version<2>: exactly two '.'-separated non-negative ints, not
 * both 0. */
struct nova_version {
    int major, minor;
};
/* 0, or -EINVAL (*v is then {0,0}, qBittorrent's invalid version). */
int nova_version_parse(const char *s, size_t n, struct nova_version *v);
int nova_version_cmp(struct nova_version a, struct nova_version b);
bool nova_version_valid(struct nova_version v);
/* "1.0", "2.13" (qBittorrent prints two components at least); buf >= 24. */
void nova_version_str(struct nova_version v, char *buf, size_t size);

/* The version a plugin declares: the first "#VERSION:" line (case
 * insensitive, spaces removed), reading the text in chunks of at most 15
 * bytes as qBittorrent's readLine(16) does.  0, -ENOENT (none), -EINVAL
 * (a #VERSION: line whose value is invalid: bad[] gets it for the log). */
int nova_version_of_source(const char *text, size_t len, struct nova_version *v, char *bad, size_t badsize);

/* One engine of `nova2.py --capabilities`. */
struct nova_engine {
    char *name;            /* module name (the element's tag) */
    char *full_name, *url;
    char **cats;           /* supported categories ("all" not included), as listed */
    size_t num_cats;
};
/* Parses the capabilities XML (expat).  *out is a malloc'd array
 * (nova_engines_free).  0, -EBADMSG (not XML, or the root is not
 * <capabilities>), -ENOMEM. */
int nova_caps_parse(const char *xml, size_t len, struct nova_engine **out, size_t *n);
void nova_engines_free(struct nova_engine *e, size_t n);

/* versions.txt: "name: X.Y" lines, '#' lines and blank lines ignored.
 * fn(ud, name, version) for each valid line; *invalid counts the lines
 * that are neither (qBittorrent then reports the whole check failed).
 * Returns the number of valid lines. */
size_t nova_versions_parse(const char *text, size_t len,
                           void (*fn)(void *ud, const char *name, struct nova_version v), void *ud,
                           size_t *invalid);

/* A plugin name as qBittorrent derives it: a Python module name made of
 * letters, digits and '_' (torrentd refuses anything else: the name
 * becomes a file name and an argv word). */
bool nova_name_ok(const char *name);

#endif
