/* smartban — who sent the bad block of a piece that failed its hash.
 *
 * libtorrent's smart-ban, per torrent: a failed piece only says that one of
 * its blocks was bad, not whose.  Striking every contributor punishes the
 * honest peer that completed a liar's half-done pieces.  So when a piece
 * fails, the SHA-1 of each of its blocks is recorded with the address that
 * sent it; the piece is downloaded again, and when it then passes, every
 * recorded block whose hash differs from the good one names a liar.  Two
 * shortcuts, also libtorrent's: a piece that one address sent alone is that
 * address's fault, and an address that sends one block twice with different
 * data lied at least once.  An address whose blocks were all good is never
 * named.
 *
 * Addresses, not connections: a liar that reconnects (new port, new peer
 * object) is still the same sender.  Memory is spent only on pieces that
 * failed, at most SMARTBAN_MAX_PIECES of them (the oldest is forgotten).
 * Pure bookkeeping: no I/O, no session; the caller hashes and bans.
 */
#ifndef TD_CORE_SMARTBAN_H
#define TD_CORE_SMARTBAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sockaddr;

#define SMARTBAN_MAX_PIECES 64
/* Records kept per block of a tracked piece (different senders). */
#define SMARTBAN_PER_BLOCK 4

/* A sender's address without the port; len 0 = nobody to blame (a web
 * seed, or a block whose sender is unknown). */
struct smartban_ip {
    uint8_t len;   /* 0, 4 or 16 */
    uint8_t b[16];
};

struct smartban;

struct smartban *smartban_new(void);
void smartban_free(struct smartban *sb);

/* The address of sa (AF_INET or AF_INET6; a v4-mapped v6 address becomes
 * v4); len 0 for anything else. */
struct smartban_ip smartban_ip_of(const struct sockaddr *sa);
bool smartban_ip_equal(const struct smartban_ip *a, const struct smartban_ip *b);
/* Textual form ("1.2.3.4", "2001:db8::1") into buf; "" for len 0. */
void smartban_ip_str(const struct smartban_ip *ip, char *buf, size_t len);

/* Piece `piece` of nblocks blocks failed its hash: senders[i] sent block i
 * and sha1[i] is the SHA-1 of what it sent.  Writes the addresses found
 * guilty right away (sole sender; same sender, different data for a block)
 * to ban[0..max_ban) and returns how many; remembers the rest.  -ENOMEM if
 * the piece could not be remembered (nothing is banned then but the sole
 * sender). */
int smartban_piece_failed(struct smartban *sb, uint32_t piece, uint32_t nblocks,
                          const struct smartban_ip *senders, const uint8_t (*sha1)[20],
                          struct smartban_ip *ban, int max_ban);

/* True while piece has failed records: its block hashes are wanted when it
 * passes. */
bool smartban_tracked(const struct smartban *sb, uint32_t piece);

/* Piece passed; sha1[i] is the SHA-1 of its good block i.  Writes the
 * senders of recorded blocks that differ to ban[] (each address once),
 * forgets the piece and returns how many. */
int smartban_piece_passed(struct smartban *sb, uint32_t piece, uint32_t nblocks, const uint8_t (*sha1)[20],
                          struct smartban_ip *ban, int max_ban);

/* Number of pieces tracked (tests, bounds). */
size_t smartban_count(const struct smartban *sb);

#endif
