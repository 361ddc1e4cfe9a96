/* web/stats — requests answered, by API dialect and HTTP status, for
 * /metrics (torrentd_api_requests_total).  Counted where a reply is handed
 * to libmicrohttpd (server.c), so every dialect and every refusal of the
 * frame (403, 401, 404, 413) is seen once. */
#include <string.h>

#include "web/web_int.h"

/* The dialect a path belongs to: its route table's namespace. */
static const char *dialect_of(const char *path)
{
    static const struct {
        const char *prefix;
        const char *name;
    } map[] = {
        {"/api/v2/", "qbt_v2"}, {"/gui/", "utorrent"},    {"/gui", "utorrent"},  {"/proxy", "utorrent"},
        {"/command/", "qbt_v1"}, {"/query/", "qbt_v1"},   {"/sync/", "qbt_v1"},  {"/version/", "qbt_v1"},
        {"/login", "qbt_v1"},   {"/logout", "qbt_v1"},    {"/api/", "ops"},      {"/health", "ops"},
        {"/metrics", "ops"},
    };
    if (!path)
        return "webui";
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strncmp(path, map[i].prefix, strlen(map[i].prefix)) == 0)
            return map[i].name;
    return "webui";
}

void web_stats_count(struct web_server *ws, const char *path, int status)
{
    const char *d = dialect_of(path);
    for (size_t i = 0; i < ws->nstats; i++) {
        struct web_stat *s = &ws->stats[i];
        if (s->status == status && strcmp(s->dialect, d) == 0) {
            s->count++;
            return;
        }
    }
    if (ws->nstats < WEB_MAX_STATS)
        ws->stats[ws->nstats++] = (struct web_stat){d, status, 1};
}

void web_server_request_counts(struct web_server *ws,
                               void (*fn)(void *ud, const char *dialect, int status, uint64_t n), void *ud)
{
    for (size_t i = 0; i < ws->nstats; i++)
        fn(ud, ws->stats[i].dialect, ws->stats[i].status, ws->stats[i].count);
}
