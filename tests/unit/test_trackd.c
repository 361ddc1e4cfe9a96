/* bt/tracker/trackd: the embedded tracker's announce/scrape logic, with a
 * clock of the test's own (expiry) and addresses of every family. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "bt/bencode.h"
#include "bt/tracker/trackd.h"
#include "util/buf.h"

#define MAXP 16

struct q {
    struct trackd_param p[MAXP];
    size_t n;
};

static void add(struct q *q, const char *k, const void *v, size_t vlen)
{
    q->p[q->n++] = (struct trackd_param){k, strlen(k), v, vlen};
}

static void adds(struct q *q, const char *k, const char *v)
{
    add(q, k, v, strlen(v));
}

static struct sockaddr_storage v4(const char *ip)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *s = (struct sockaddr_in *)&ss;
    s->sin_family = AF_INET;
    inet_pton(AF_INET, ip, &s->sin_addr);
    return ss;
}

static struct sockaddr_storage v6(const char *ip)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
    s->sin6_family = AF_INET6;
    inet_pton(AF_INET6, ip, &s->sin6_addr);
    return ss;
}

static const uint8_t IH[20] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};

/* Announces; returns the decoded reply (caller frees doc and buf). */
static const struct benc *ann(struct trackd *td, struct q *q, const struct sockaddr_storage *from, uint64_t now,
                              struct buf *out, struct benc_doc **doc)
{
    buf_reset(out);
    assert_int_equal(trackd_announce(td, q->p, q->n, (const struct sockaddr *)from, now, out), 0);
    assert_int_equal(benc_parse(buf_head(out), buf_size(out), NULL, 0, doc, NULL, NULL, 0), 0);
    return benc_root(*doc);
}

static struct q peer(const char *port, const char *id, const char *left)
{
    struct q q = {.n = 0};
    add(&q, "info_hash", IH, 20);
    adds(&q, "peer_id", id);
    adds(&q, "port", port);
    adds(&q, "left", left);
    return q;
}

static void announce_compact_and_v6(void **state)
{
    (void)state;
    struct trackd *td = trackd_new();
    struct buf out = {0};
    struct benc_doc *doc;
    struct sockaddr_storage a = v4("10.0.0.1"), b = v6("2001:db8::7"), m = v6("::ffff:10.0.0.3");
    struct q q = peer("6881", "AAAAAAAAAAAAAAAAAAAA", "5");
    const struct benc *r = ann(td, &q, &a, 1000, &out, &doc);
    size_t len;
    assert_non_null(benc_dict_str(r, "peers", &len));
    assert_int_equal(len, 0);
    benc_doc_free(doc);
    /* an IPv6 socket address: peers6 for the others */
    q = peer("6882", "BBBBBBBBBBBBBBBBBBBB", "0");
    r = ann(td, &q, &b, 1000, &out, &doc);
    const uint8_t *pp = benc_dict_str(r, "peers", &len);
    assert_int_equal(len, 6);
    assert_memory_equal(pp, "\x0a\x00\x00\x01\x1a\xe1", 6);
    const uint8_t *ext = benc_dict_str(r, "external ip", &len);
    assert_int_equal(len, 16);
    assert_int_equal(ext[0], 0x20);
    benc_doc_free(doc);
    /* a v4-mapped socket address counts as IPv4 */
    q = peer("6883", "CCCCCCCCCCCCCCCCCCCC", "1");
    r = ann(td, &q, &m, 1000, &out, &doc);
    pp = benc_dict_str(r, "peers", &len);
    assert_int_equal(len, 6);
    pp = benc_dict_str(r, "peers6", &len);
    assert_int_equal(len, 18);
    assert_memory_equal(pp + 16, "\x1a\xe2", 2);
    int64_t c, inc;
    assert_true(benc_dict_int(r, "complete", &c) && benc_dict_int(r, "incomplete", &inc));
    assert_int_equal(c, 1);
    assert_int_equal(inc, 2);
    ext = benc_dict_str(r, "external ip", &len);
    assert_int_equal(len, 4);
    benc_doc_free(doc);
    assert_int_equal(trackd_peers(td), 3);
    /* re-announcing is not a new peer; a seed that was a leech moves */
    q = peer("6881", "AAAAAAAAAAAAAAAAAAAA", "0");
    adds(&q, "event", "completed");
    r = ann(td, &q, &a, 1001, &out, &doc);
    assert_true(benc_dict_int(r, "complete", &c));
    assert_int_equal(c, 2);
    benc_doc_free(doc);
    assert_int_equal(trackd_peers(td), 3);
    buf_free(&out);
    trackd_free(td);
}

static void expiry_and_stopped(void **state)
{
    (void)state;
    struct trackd *td = trackd_new();
    struct buf out = {0};
    struct benc_doc *doc;
    struct sockaddr_storage a = v4("10.0.0.1"), b = v4("10.0.0.2");
    struct q q = peer("1000", "A", "5");
    ann(td, &q, &a, 10000, &out, &doc);
    benc_doc_free(doc);
    q = peer("1001", "B", "5");
    ann(td, &q, &b, 10000 + TRACKD_EXPIRE_S - 10, &out, &doc);
    benc_doc_free(doc);
    trackd_expire(td, 10000 + TRACKD_EXPIRE_S + 1);
    assert_int_equal(trackd_peers(td), 1);   /* A expired, B not */
    q = peer("1001", "B", "5");
    adds(&q, "event", "stopped");
    const struct benc *r = ann(td, &q, &b, 10000 + TRACKD_EXPIRE_S + 2, &out, &doc);
    size_t len;
    assert_non_null(benc_dict_str(r, "peers", &len));
    assert_int_equal(len, 0);
    benc_doc_free(doc);
    assert_int_equal(trackd_peers(td), 0);
    assert_int_equal(trackd_torrents(td), 0);   /* an empty swarm is dropped */
    buf_free(&out);
    trackd_free(td);
}

static void bounded(void **state)
{
    (void)state;
    struct trackd *td = trackd_new();
    struct buf out = {0};
    struct benc_doc *doc;
    struct sockaddr_storage a = v4("10.0.0.1");
    char port[8];
    for (int i = 0; i < TRACKD_MAX_PEERS + 50; i++) {
        snprintf(port, sizeof port, "%d", 2000 + i);
        struct q q = peer(port, "X", "5");
        adds(&q, "numwant", "100000");
        const struct benc *r = ann(td, &q, &a, (uint64_t)(5000 + i), &out, &doc);
        size_t len;
        benc_dict_str(r, "peers", &len);
        assert_true(len / 6 <= TRACKD_MAX_PEERS);
        benc_doc_free(doc);
    }
    assert_int_equal(trackd_peers(td), TRACKD_MAX_PEERS);
    /* many swarms: capped, the least recently announced goes */
    uint8_t ih[20] = {0};
    for (int i = 0; i < TRACKD_MAX_TORRENTS + 5; i++) {
        memcpy(ih, &i, sizeof i);
        ih[19] = 0xee;
        struct q q = {.n = 0};
        add(&q, "info_hash", ih, 20);
        adds(&q, "peer_id", "Y");
        adds(&q, "port", "3000");
        buf_reset(&out);
        assert_int_equal(trackd_announce(td, q.p, q.n, (const struct sockaddr *)&a, 9000, &out), 0);
    }
    assert_int_equal(trackd_torrents(td), TRACKD_MAX_TORRENTS);
    buf_free(&out);
    trackd_free(td);
}

static const char *failure(struct trackd *td, struct q *q, bool scrape, struct buf *out)
{
    static char why[128];
    struct sockaddr_storage a = v4("10.0.0.1");
    buf_reset(out);
    int rc = scrape ? trackd_scrape(td, q->p, q->n, out)
                    : trackd_announce(td, q->p, q->n, (const struct sockaddr *)&a, 1, out);
    assert_int_equal(rc, 0);
    struct benc_doc *doc;
    assert_int_equal(benc_parse(buf_head(out), buf_size(out), NULL, 0, &doc, NULL, NULL, 0), 0);
    char *s = benc_dict_strdup(benc_root(doc), "failure reason");
    snprintf(why, sizeof why, "%s", s ? s : "");
    free(s);
    benc_doc_free(doc);
    return why;
}

static void malformed(void **state)
{
    (void)state;
    struct trackd *td = trackd_new();
    struct buf out = {0};
    struct q q = {.n = 0};
    assert_string_equal(failure(td, &q, false, &out), "Missing \"info_hash\" parameter");
    add(&q, "info_hash", "short", 5);
    assert_string_equal(failure(td, &q, false, &out), "Invalid \"info_hash\" parameter");
    q = peer("99999", "A", "1");
    assert_string_equal(failure(td, &q, false, &out), "Invalid \"port\" parameter");
    q = peer("+5", "A", "1");
    assert_string_equal(failure(td, &q, false, &out), "Invalid \"port\" parameter");
    q = peer("5", "A", "1");
    adds(&q, "event", "stoppedx");
    assert_string_equal(failure(td, &q, false, &out), "Invalid \"event\" parameter");
    q = peer("5", "A", "1");
    adds(&q, "numwant", "-1");
    assert_string_equal(failure(td, &q, false, &out), "Invalid \"numwant\" parameter");
    q = peer("5", "A", "1");
    adds(&q, "ip", "not-an-ip");   /* ignored: the socket address is used */
    assert_string_equal(failure(td, &q, false, &out), "");
    q = (struct q){.n = 0};
    assert_string_equal(failure(td, &q, true, &out), "Missing \"info_hash\" parameter");
    assert_int_equal(trackd_peers(td), 1);
    buf_free(&out);
    trackd_free(td);
}

static void scrape_sorted_unique(void **state)
{
    (void)state;
    struct trackd *td = trackd_new();
    struct buf out = {0};
    struct q q = {.n = 0};
    uint8_t a[20], b[20];
    memset(a, 0xaa, 20);
    memset(b, 0x11, 20);
    add(&q, "info_hash", a, 20);
    add(&q, "info_hash", b, 20);
    add(&q, "info_hash", a, 20);
    assert_int_equal(trackd_scrape(td, q.p, q.n, &out), 0);
    struct benc_doc *doc;
    /* the strict parser refuses unsorted or duplicate keys */
    assert_int_equal(benc_parse(buf_head(&out), buf_size(&out), NULL, 0, &doc, NULL, NULL, 0), 0);
    assert_false(benc_doc_unsorted(doc));
    benc_doc_free(doc);
    buf_free(&out);
    trackd_free(td);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(announce_compact_and_v6),
        cmocka_unit_test(expiry_and_stopped),
        cmocka_unit_test(bounded),
        cmocka_unit_test(malformed),
        cmocka_unit_test(scrape_sorted_unique),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
