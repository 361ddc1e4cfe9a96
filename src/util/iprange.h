/* iprange — a set of IP address ranges read from an IP filter file, and the
 * O(log n) question "is this address in it?".
 *
 * The three formats qBittorrent reads (its FilterParserThread), chosen by
 * the file's extension as qBittorrent does:
 *   .dat  eMule: "first - last , level , description"; '#' and '//' lines
 *         are comments; a level above 127 means "allowed" (the line adds
 *         nothing); the level and description are optional.  IPv4 octets
 *         may carry leading zeros ("001.009.096.105").
 *   .p2p  PeerGuardian text: "name:first-last" (the name may hold ':' and
 *         '-': the range is after the last '-' and the first ':' whose rest
 *         is an address); a line without a name is malformed.
 *   .p2b  PeerGuardian binary, versions 1 and 2 (NUL-terminated name, then
 *         first and last as big-endian IPv4) and 3 (a name table, then
 *         name index/first/last triples).
 * Text lines hold IPv4 or IPv6 ranges; both ends must be of one family and
 * first <= last.  Malformed lines are counted and skipped, never fatal.
 *
 * Parsing streams: feed the file in chunks of any size (a real list is ~1M
 * lines, 60+ MB as text: it is never held whole).  Memory is bounded by the
 * ranges kept (8 bytes an IPv4 range, 32 an IPv6 one) plus one line
 * (IPRANGE_MAX_LINE; a longer line is malformed) and at most
 * IPRANGE_MAX_RANGES ranges (more are counted as errors).
 * iprange_parser_finish sorts and merges overlapping and adjacent ranges into
 * the set's interval arrays.  Not thread-safe; a parser and a set may be
 * built on one thread and handed to another.
 */
#ifndef TD_UTIL_IPRANGE_H
#define TD_UTIL_IPRANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define IPRANGE_MAX_LINE 1024
#define IPRANGE_MAX_RANGES (16u * 1024 * 1024)

enum iprange_format {
    IPRANGE_NONE = 0,   /* an extension qBittorrent does not read: no rules */
    IPRANGE_DAT,
    IPRANGE_P2P,
    IPRANGE_P2B,
};

struct iprange_v4 {
    uint32_t first, last;   /* host byte order */
};

struct iprange_v6 {
    uint8_t first[16], last[16];   /* network byte order: memcmp orders them */
};

/* Sorted, non-overlapping, non-adjacent intervals. */
struct iprange_set {
    struct iprange_v4 *v4;
    size_t n4;
    struct iprange_v6 *v6;
    size_t n6;
};

struct iprange_parser;

/* The format a path's extension names (case-insensitive, as qBittorrent's
 * Path::hasExtension). */
enum iprange_format iprange_format_of(const char *path);

/* 0, -ENOMEM, -EINVAL (fmt IPRANGE_NONE). */
int iprange_parser_new(enum iprange_format fmt, struct iprange_parser **out);
/* Feeds the next len bytes of the file.  0, or -ENOMEM (the parser stays
 * usable for _free).  A .p2b whose header or layout is wrong stops taking
 * ranges (iprange_parser_bad says so); the ranges read so far are kept, as
 * qBittorrent keeps them. */
int iprange_parser_feed(struct iprange_parser *p, const uint8_t *data, size_t len);
/* What a whole file gave. */
struct iprange_stats {
    size_t rules;              /* ranges added, before merging (qBittorrent's
                                  "number of rules applied") */
    size_t errors;             /* malformed lines or records */
    size_t first_error_line;   /* 1-based; 0 when none */
    bool bad;                  /* a .p2b that is not one (bad header, unknown
                                  version, truncated) */
};

/* Ends the input (a last line without a newline counts) and builds *out,
 * which the caller frees with iprange_set_free; *stats (may be NULL) says
 * what the file held.  0 or -ENOMEM.  The parser is freed either way. */
int iprange_parser_finish(struct iprange_parser *p, struct iprange_set *out, struct iprange_stats *stats);
void iprange_parser_free(struct iprange_parser *p);
/* Rules read so far (the stats' count before the input ended). */
size_t iprange_parser_rules(const struct iprange_parser *p);

/* In the set?  v4 in host order; an IPv4-mapped IPv6 address (::ffff:a.b.c.d)
 * is looked up as IPv4. */
bool iprange_has_v4(const struct iprange_set *s, uint32_t ip);
bool iprange_has_v6(const struct iprange_set *s, const uint8_t ip[16]);
/* sa is AF_INET or AF_INET6 (others: false). */
bool iprange_has_addr(const struct iprange_set *s, const struct sockaddr *sa);
/* Textual address (v4 or v6); false when not an address. */
bool iprange_has_text(const struct iprange_set *s, const char *ip);
/* Bytes the set's arrays take. */
size_t iprange_set_bytes(const struct iprange_set *s);
void iprange_set_free(struct iprange_set *s);

#endif
