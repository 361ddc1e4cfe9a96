/* banlist — banned peer addresses and the peer log (log/peers).
 *
 * Bans come from transfer/banPeers, the banned_IPs preference and the
 * engine's smart-ban (a peer that sent corrupt data); a banned
 * address is disconnected at once, refused when it connects, and never
 * dialled.  Every ban and refusal is recorded in a bounded ring that
 * log/peers reads, with qBittorrent's ids (0, 1, 2, ...).
 */
#ifndef TD_CORE_BANLIST_H
#define TD_CORE_BANLIST_H

#include <stdbool.h>
#include <stdint.h>

struct session;

struct banlist_entry {
    int64_t id;
    int64_t timestamp;   /* epoch seconds */
    char ip[64];
    bool blocked;
    char reason[128];
};

int banlist_init(struct session *s);
void banlist_free(struct session *s);

/* Bans ip (textual, v4 or v6; normalized) and disconnects its peers. */
int banlist_ban(struct session *s, const char *ip, const char *reason);
/* The engine's own ban (smart-ban found ip sending corrupt data), for this
 * run only as libtorrent's: the peer-log entry has blocked=false, as
 * qBittorrent logs libtorrent's peer_ban_alert ("was banned"). */
int banlist_ban_peer(struct session *s, const char *ip, const char *reason);
bool banlist_is_banned(struct session *s, const char *ip);
/* Why ip may not connect, either way: "banned IP address" (this list),
 * "IP filter" (core/ipfilter.c), or NULL.  The one check at accepts, dials
 * and new peer addresses. */
const char *banlist_refusal(struct session *s, const char *ip);
/* Replaces the preference-driven part of the list ("\n"-separated IPs). */
void banlist_set_pref(struct session *s, const char *list);
/* Records a refused connection in the peer log. */
void banlist_log(struct session *s, const char *ip, bool blocked, const char *reason);

/* Calls fn for each peer-log entry with id > after_id, oldest first. */
void banlist_entries(struct session *s, int64_t after_id,
                     void (*fn)(const struct banlist_entry *e, void *ud), void *ud);

#endif
