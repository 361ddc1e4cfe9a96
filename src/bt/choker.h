/* choker — who we upload to.  A pure decision over a snapshot of a torrent's
 * peers; the caller applies the result (sends choke/unchoke for every peer
 * whose `choked` changed) and runs it every ~10 s or when peers come and go.
 *
 * Leeching (tit-for-tat): the slots-1 interested peers that give us the best
 * download rate are unchoked, snubbed peers last; one more slot is an
 * optimistic unchoke, rotated every BT_CHOKER_OPTIMISTIC_MS among choked
 * interested peers, preferring peers that have never been unchoked (so a
 * newcomer with nothing to trade can get its first pieces).
 *
 * Seeding: interested peers ranked by our upload rate to them, but a peer
 * that has been unchoked for BT_CHOKER_SEED_TURN_MS yields its slot to the
 * peer that has waited longest (round robin), so every interested peer gets
 * a turn.  No optimistic slot when seeding.
 *
 * slots < 0 means unlimited (every interested peer unchoked).  Peers not
 * interested are choked (they get no slot).  Deterministic for a given input.
 */
#ifndef TD_BT_CHOKER_H
#define TD_BT_CHOKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How a seed ranks interested peers (qBittorrent's upload_choking_algorithm
 * values; libtorrent's seed_choking_algorithm):
 *   ROUND_ROBIN     the turns described above (the default of a zeroed
 *                   struct bt_choker)
 *   FASTEST_UPLOAD  by our upload rate to them only; no turns
 *   ANTI_LEECH      peers that have just started or are about to finish
 *                   first (the farther from half the torrent, the better),
 *                   so that a leech in the middle gets least */
enum bt_choker_seed_algorithm {
    BT_CHOKER_SEED_ROUND_ROBIN = 0,
    BT_CHOKER_SEED_FASTEST_UPLOAD = 1,
    BT_CHOKER_SEED_ANTI_LEECH = 2,
};

#define BT_CHOKER_OPTIMISTIC_MS 30000
#define BT_CHOKER_SEED_TURN_MS 60000

struct bt_choker_peer {
    void *peer;
    bool interested;            /* in us */
    bool choked;                /* in: current state; out: decision */
    uint64_t down_rate, up_rate;   /* bytes/s from them to us, from us to them */
    bool snubbed;               /* sent us nothing for a long while despite requests */
    bool optimistic;            /* in: current optimistic unchoke; out: decision */
    uint64_t unchoked_since_ms; /* in: when the current unchoke began (0 = never unchoked);
                                   out: updated for peers newly unchoked, 0 for choked */
    uint64_t choked_since_ms;   /* in/out: when it was last choked (0 = never unchoked), the
                                   round-robin waiting time */
    uint16_t progress_pm;       /* how much of the torrent the peer has, in thousandths (anti-leech) */
};

struct bt_choker {
    uint64_t last_optimistic_ms;   /* when the optimistic slot last rotated */
    uint32_t rr_cursor;            /* rotates ties between otherwise equal peers */
    int seed_algorithm;            /* enum bt_choker_seed_algorithm; the caller sets it */
};

void bt_choker_init(struct bt_choker *c);

/* The current optimistic peer is the one passed in with optimistic set; it
 * keeps the slot until BT_CHOKER_OPTIMISTIC_MS after the last rotation, or
 * until it loses interest.  On allocation failure nothing is changed. */
void bt_choker_run(struct bt_choker *c, struct bt_choker_peer *peers, size_t n, int slots, bool seeding,
                   uint64_t now_ms);

#endif
