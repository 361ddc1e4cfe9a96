#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "core/smartban.h"

#define NB 4

static struct smartban_ip ip4(const char *s)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(6881)};
    inet_pton(AF_INET, s, &sa.sin_addr);
    return smartban_ip_of((struct sockaddr *)&sa);
}

/* The hash of "block i of the good piece" or of a corrupt version. */
static void digest(uint8_t out[20], int block, bool good)
{
    memset(out, good ? 0x11 : 0xEE, 20);
    out[0] = (uint8_t)block;
}

static void blocks(uint8_t (*sha1)[20], const bool *good)
{
    for (int i = 0; i < NB; i++)
        digest(sha1[i], i, good[i]);
}

static bool banned(const struct smartban_ip *ban, int n, const struct smartban_ip *who)
{
    for (int i = 0; i < n; i++)
        if (smartban_ip_equal(&ban[i], who))
            return true;
    return false;
}

/* The case: the liar sent half of the piece, the honest seeder
 * completed it.  Only the liar is named once the piece passes. */
static void liar_found_when_piece_passes(void **state)
{
    (void)state;
    struct smartban *sb = smartban_new();
    struct smartban_ip liar = ip4("127.0.0.6"), honest = ip4("127.0.0.2"), ban[8];
    struct smartban_ip senders[NB] = {liar, liar, honest, honest};
    uint8_t sha1[NB][20];
    blocks(sha1, (bool[]){false, false, true, true});
    assert_int_equal(smartban_piece_failed(sb, 7, NB, senders, (const uint8_t(*)[20])sha1, ban, 8), 0);
    assert_true(smartban_tracked(sb, 7));
    assert_false(smartban_tracked(sb, 8));

    blocks(sha1, (bool[]){true, true, true, true});   /* the good copy, from the honest one */
    int n = smartban_piece_passed(sb, 7, NB, (const uint8_t(*)[20])sha1, ban, 8);
    assert_int_equal(n, 1);
    assert_true(banned(ban, n, &liar));
    assert_false(banned(ban, n, &honest));
    assert_false(smartban_tracked(sb, 7));   /* forgotten once settled */
    assert_int_equal(smartban_count(sb), 0);
    smartban_free(sb);
}

/* A piece that one address sent alone is that address's fault. */
static void sole_sender_banned_at_once(void **state)
{
    (void)state;
    struct smartban *sb = smartban_new();
    struct smartban_ip liar = ip4("10.0.0.9"), ban[8];
    struct smartban_ip senders[NB] = {liar, liar, liar, liar};
    uint8_t sha1[NB][20];
    blocks(sha1, (bool[]){true, false, true, true});
    int n = smartban_piece_failed(sb, 1, NB, senders, (const uint8_t(*)[20])sha1, ban, 8);
    assert_int_equal(n, 1);
    assert_true(smartban_ip_equal(&ban[0], &liar));
    smartban_free(sb);
}

/* The liar sends the same bad block again: no ban while nothing is proven,
 * the honest peer is never named, the liar is when the piece passes. */
static void repeated_failure_then_pass(void **state)
{
    (void)state;
    struct smartban *sb = smartban_new();
    struct smartban_ip liar = ip4("127.0.0.6"), honest = ip4("127.0.0.2"), ban[8];
    uint8_t sha1[NB][20];
    struct smartban_ip s1[NB] = {liar, honest, honest, honest};
    blocks(sha1, (bool[]){false, true, true, true});
    assert_int_equal(smartban_piece_failed(sb, 3, NB, s1, (const uint8_t(*)[20])sha1, ban, 8), 0);
    struct smartban_ip s2[NB] = {liar, honest, liar, honest};
    blocks(sha1, (bool[]){false, true, false, true});
    assert_int_equal(smartban_piece_failed(sb, 3, NB, s2, (const uint8_t(*)[20])sha1, ban, 8), 0);
    blocks(sha1, (bool[]){true, true, true, true});
    int n = smartban_piece_passed(sb, 3, NB, (const uint8_t(*)[20])sha1, ban, 8);
    assert_int_equal(n, 1);
    assert_true(smartban_ip_equal(&ban[0], &liar));
    smartban_free(sb);
}

/* The same sender, one block, two different contents: one was a lie. */
static void changed_data_is_a_lie(void **state)
{
    (void)state;
    struct smartban *sb = smartban_new();
    struct smartban_ip a = ip4("192.0.2.1"), b = ip4("192.0.2.2"), ban[8];
    uint8_t sha1[NB][20];
    struct smartban_ip s[NB] = {a, b, b, b};
    blocks(sha1, (bool[]){false, true, true, true});
    assert_int_equal(smartban_piece_failed(sb, 0, NB, s, (const uint8_t(*)[20])sha1, ban, 8), 0);
    sha1[0][5] ^= 1;   /* a sends block 0 again, differently (still bad) */
    int n = smartban_piece_failed(sb, 0, NB, s, (const uint8_t(*)[20])sha1, ban, 8);
    assert_int_equal(n, 1);
    assert_true(smartban_ip_equal(&ban[0], &a));
    smartban_free(sb);
}

/* Web-seed blocks (no address) are nobody's; a piece of web-seed blocks and
 * one peer's is not a sole-sender piece. */
static void unknown_senders_never_blamed(void **state)
{
    (void)state;
    struct smartban *sb = smartban_new();
    struct smartban_ip none, peer = ip4("198.51.100.7"), ban[8];
    memset(&none, 0, sizeof none);
    uint8_t sha1[NB][20];
    struct smartban_ip s[NB] = {none, none, none, none};
    blocks(sha1, (bool[]){false, false, false, false});
    assert_int_equal(smartban_piece_failed(sb, 2, NB, s, (const uint8_t(*)[20])sha1, ban, 8), 0);
    struct smartban_ip s2[NB] = {none, peer, none, none};
    blocks(sha1, (bool[]){false, true, true, true});
    assert_int_equal(smartban_piece_failed(sb, 2, NB, s2, (const uint8_t(*)[20])sha1, ban, 8), 0);
    blocks(sha1, (bool[]){true, true, true, true});
    assert_int_equal(smartban_piece_passed(sb, 2, NB, (const uint8_t(*)[20])sha1, ban, 8), 0);
    smartban_free(sb);
}

/* Only failed pieces cost memory, and at most SMARTBAN_MAX_PIECES of them. */
static void bounded(void **state)
{
    (void)state;
    struct smartban *sb = smartban_new();
    struct smartban_ip a = ip4("203.0.113.1"), b = ip4("203.0.113.2"), ban[8];
    uint8_t sha1[NB][20];
    struct smartban_ip s[NB] = {a, b, a, b};
    blocks(sha1, (bool[]){false, true, false, true});
    uint8_t good[NB][20];
    blocks(good, (bool[]){true, true, true, true});
    assert_int_equal(smartban_piece_passed(sb, 5, NB, (const uint8_t(*)[20])good, ban, 8), 0);
    for (uint32_t p = 0; p < 3 * SMARTBAN_MAX_PIECES; p++)
        assert_int_equal(smartban_piece_failed(sb, p, NB, s, (const uint8_t(*)[20])sha1, ban, 8), 0);
    assert_int_equal(smartban_count(sb), SMARTBAN_MAX_PIECES);
    assert_false(smartban_tracked(sb, 0));                          /* the oldest went */
    assert_true(smartban_tracked(sb, 3 * SMARTBAN_MAX_PIECES - 1));
    smartban_free(sb);
}

static void addresses(void **state)
{
    (void)state;
    struct sockaddr_in6 m = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "::ffff:127.0.0.6", &m.sin6_addr);
    struct smartban_ip a = smartban_ip_of((struct sockaddr *)&m), b = ip4("127.0.0.6");
    assert_true(smartban_ip_equal(&a, &b));   /* another port, another family: the same sender */
    char buf[64];
    smartban_ip_str(&a, buf, sizeof buf);
    assert_string_equal(buf, "127.0.0.6");
    inet_pton(AF_INET6, "2001:db8::1", &m.sin6_addr);
    a = smartban_ip_of((struct sockaddr *)&m);
    assert_int_equal(a.len, 16);
    smartban_ip_str(&a, buf, sizeof buf);
    assert_string_equal(buf, "2001:db8::1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(liar_found_when_piece_passes),
        cmocka_unit_test(sole_sender_banned_at_once),
        cmocka_unit_test(repeated_failure_then_pass),
        cmocka_unit_test(changed_data_is_a_lie),
        cmocka_unit_test(unknown_senders_never_blamed),
        cmocka_unit_test(bounded),
        cmocka_unit_test(addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
