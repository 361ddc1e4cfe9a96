/* rss/feedparse: RSS 2.0 and Atom as qBittorrent's parser reads them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rss/feedparse.h"

#define NOW 1765000000000LL

static struct feedparse_result parse(const char *doc, const char *prev)
{
    struct feedparse_result r;
    assert_int_equal(feedparse_parse(doc, strlen(doc), prev, NOW, &r), 0);
    return r;
}

static const char *s(const struct feedparse_article *a, const char *k)
{
    return json_string_value(json_object_get(a->data, k));
}

static void rss20(void **state)
{
    (void)state;
    struct feedparse_result r = parse(
        "<?xml version='1.0'?><rss version='2.0' xmlns:t='urn:t'><channel><title> Chan </title>"
        "<lastBuildDate>Mon, 01 Jan 2024 00:00:00 GMT</lastBuildDate>"
        "<image><url>x</url></image>"
        "<item><title>  One </title><guid> g1 </guid><link> http://h/1 </link>"
        "<enclosure url='http://h/1.torrent' type='application/x-bittorrent'/>"
        "<description>a <b>bold</b> &amp; &eacute;&hellip;</description>"
        "<pubDate>Tue, 10 Jun 2003 04:00:00 GMT</pubDate><author>me</author>"
        "<t:infoHash>abc</t:infoHash><comments>c</comments></item>"
        "<item><title>Two</title><enclosure url='http://h/2.torrent'/><link>http://h/2</link></item>"
        "<item><title>Three</title><link>http://h/3</link>"
        "<enclosure url='http://h/3.mp3' type='audio/mpeg'/></item>"
        "<item><title>Mag</title><link>MAGNET:?xt=urn:btih:1</link></item>"
        "<item><title>Two</title><enclosure url='http://h/2.torrent'/></item>"   /* same id: dropped */
        "<item><description>no id at all</description></item>"
        "</channel></rss>",
        NULL);
    assert_string_equal(r.error, "");
    assert_string_equal(r.title, " Chan ");   /* the channel title is not trimmed */
    assert_string_equal(r.last_build_date, "Mon, 01 Jan 2024 00:00:00 GMT");
    assert_int_equal(r.n, 4);
    const struct feedparse_article *a = &r.articles[0];
    assert_string_equal(s(a, "id"), "g1");
    assert_string_equal(s(a, "title"), "One");
    assert_string_equal(s(a, "link"), "http://h/1");
    assert_string_equal(s(a, "torrentURL"), "http://h/1.torrent");
    assert_string_equal(s(a, "description"), "a bold & \xc3\xa9\xe2\x80\xa6");
    assert_string_equal(s(a, "author"), "me");
    assert_string_equal(s(a, "infoHash"), "abc");   /* by local name */
    assert_string_equal(s(a, "comments"), "c");
    assert_true(a->has_date);
    assert_int_equal(a->date_ms, 1055217600000LL);
    /* untyped enclosure wins over the link; it is the id as there is no guid */
    assert_string_equal(s(&r.articles[1], "torrentURL"), "http://h/2.torrent");
    assert_string_equal(s(&r.articles[1], "id"), "http://h/2.torrent");
    assert_false(r.articles[1].has_date);
    /* a typed non-torrent enclosure is ignored: the link is the torrent URL */
    assert_string_equal(s(&r.articles[2], "torrentURL"), "http://h/3");
    /* a magnet <link> is the torrent URL, not the link */
    assert_string_equal(s(&r.articles[3], "torrentURL"), "MAGNET:?xt=urn:btih:1");
    assert_null(json_object_get(r.articles[3].data, "link"));
    feedparse_result_free(&r);
}

static void rss_unchanged_build_date(void **state)
{
    (void)state;
    struct feedparse_result r = parse("<rss><channel><lastBuildDate>X</lastBuildDate>"
                                      "<item><title>a</title></item></channel></rss>",
                                      "X");
    assert_true(r.unchanged);
    assert_int_equal(r.n, 0);
    assert_string_equal(r.error, "");
    feedparse_result_free(&r);
}

static void atom(void **state)
{
    (void)state;
    struct feedparse_result r = parse(
        "<feed xmlns='http://www.w3.org/2005/Atom' xml:base='http://b/x/'><title>A</title>"
        "<updated>2024-01-01T00:00:00Z</updated>"
        "<entry><title>E1</title><id>i1</id><link rel='alternate' href='rel/1'/>"
        "<updated>2024-01-02T03:04:05.5+02:00</updated>"
        "<author><name> N </name><uri>u</uri></author>"
        "<summary>   </summary><content type='html'> body </content><summary>second</summary>"
        "<category term='x'>cat</category></entry>"
        "<entry><title>E2</title><link href='magnet:?xt=1'/><link>http://abs/2</link>"
        "<updated>garbage</updated></entry>"
        "<entry><title>E3</title><link href='https://abs/3'/><updated>2024-01-05</updated></entry>"
        "</feed>",
        NULL);
    assert_string_equal(r.error, "");
    assert_string_equal(r.title, "A");
    assert_string_equal(r.last_build_date, "2024-01-01T00:00:00Z");
    assert_int_equal(r.n, 3);
    const struct feedparse_article *a = &r.articles[0];
    assert_string_equal(s(a, "link"), "http://b/x/rel/1");
    assert_string_equal(s(a, "torrentURL"), "http://b/x/rel/1");
    assert_string_equal(s(a, "author"), "N");
    assert_string_equal(s(a, "description"), "body");   /* first non-empty of summary/content */
    assert_string_equal(s(a, "category"), "cat");
    assert_int_equal(a->date_ms, 1704157445500LL);
    assert_int_equal(a->date_offset_s, 7200);   /* shown in its own zone */
    /* magnet href, then a text link (no attributes) taken as is */
    assert_string_equal(s(&r.articles[1], "torrentURL"), "magnet:?xt=1");
    assert_string_equal(s(&r.articles[1], "link"), "http://abs/2");
    assert_true(r.articles[1].has_date);   /* unreadable: the parse time */
    assert_int_equal(r.articles[1].date_ms, NOW);
    /* absolute links are not prefixed with xml:base */
    assert_string_equal(s(&r.articles[2], "link"), "https://abs/3");
    assert_int_equal(r.articles[2].date_ms, 1704412800000LL);
    feedparse_result_free(&r);
}

static void broken_and_invalid(void **state)
{
    (void)state;
    struct feedparse_result r =
        parse("<rss><channel><item><title>kept</title></item><item><title>cut</title></channel>", NULL);
    assert_non_null(strstr(r.error, "(line: 1, column: "));
    /* the item read before the break, and the one it was in (qBittorrent) */
    assert_int_equal(r.n, 2);
    assert_string_equal(s(&r.articles[0], "title"), "kept");
    feedparse_result_free(&r);

    r = parse("<html><body>no feed</body></html>", NULL);
    assert_string_equal(r.error, "Invalid RSS feed.");
    assert_int_equal(r.n, 0);
    feedparse_result_free(&r);

    r = parse("<rss><notchannel><item><title>x</title></item></notchannel></rss>", NULL);
    assert_string_equal(r.error, "Invalid RSS feed.");
    assert_int_equal(r.n, 0);
    feedparse_result_free(&r);

    r = parse("<rss><channel><item><title>&undefinedentity;</title></item></channel></rss>", NULL);
    assert_non_null(strstr(r.error, "undefined entity"));
    feedparse_result_free(&r);

    /* CDATA is not entity-rewritten */
    r = parse("<rss><channel><item><title><![CDATA[a&nbsp;b]]></title></item></channel></rss>", NULL);
    assert_string_equal(r.error, "");
    assert_string_equal(s(&r.articles[0], "title"), "a&nbsp;b");
    feedparse_result_free(&r);
}

/* A windows-1251 feed (Russian trackers): read through iconv's map. */
static void single_byte_encoding(void **state)
{
    (void)state;
    struct feedparse_result r = parse("<?xml version='1.0' encoding='windows-1251'?><rss><channel>"
                                      "<title>\xd2\xe5\xf1\xf2</title><item><title>\xc0\xe1\xe2</title></item>"
                                      "</channel></rss>",
                                      NULL);
    assert_string_equal(r.error, "");
    assert_string_equal(r.title, "\xd0\xa2\xd0\xb5\xd1\x81\xd1\x82");   /* "Тест" */
    assert_int_equal(r.n, 1);
    assert_string_equal(s(&r.articles[0], "title"), "\xd0\x90\xd0\xb1\xd0\xb2");   /* "Абв" */
    feedparse_result_free(&r);
    /* an encoding nobody knows, or a multi-byte one: refused */
    r = parse("<?xml version='1.0' encoding='x-no-such'?><rss><channel/></rss>", NULL);
    assert_non_null(strstr(r.error, "encoding"));
    feedparse_result_free(&r);
    r = parse("<?xml version='1.0' encoding='Shift_JIS'?><rss><channel/></rss>", NULL);
    assert_non_null(strstr(r.error, "encoding"));
    feedparse_result_free(&r);
}

static void bounds(void **state)
{
    (void)state;
    struct feedparse_result r;
    /* over the document cap: refused before parsing */
    assert_int_equal(feedparse_parse("x", FEEDPARSE_MAX_DOC + 1, NULL, NOW, &r), -EINVAL);
    feedparse_result_free(&r);
    /* nesting */
    size_t depth = FEEDPARSE_MAX_DEPTH + 10;
    char *doc = malloc(depth * 7 + 64);
    assert_non_null(doc);
    char *p = doc + sprintf(doc, "<rss><channel><item>");
    for (size_t i = 0; i < depth; i++)
        p += sprintf(p, "<a>");
    *p = '\0';
    r = parse(doc, NULL);
    assert_string_equal(r.error, "The RSS feed is nested too deeply.");
    feedparse_result_free(&r);
    free(doc);
    /* one element's text over the cap */
    size_t big = FEEDPARSE_MAX_TEXT + 100;
    doc = malloc(big + 128);
    assert_non_null(doc);
    p = doc + sprintf(doc, "<rss><channel><item><title>");
    memset(p, 'x', big);
    strcpy(p + big, "</title></item></channel></rss>");
    r = parse(doc, NULL);
    assert_string_equal(r.error, "An element of the RSS feed is too long.");
    feedparse_result_free(&r);
    free(doc);
    /* an entity bomb: expat's amplification limit stops it */
    const char *bomb = "<?xml version='1.0'?><!DOCTYPE r [<!ENTITY a '0123456789'>"
                       "<!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'><!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;'>"
                       "<!ENTITY d '&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;'><!ENTITY e '&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;'>"
                       "<!ENTITY f '&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;'><!ENTITY g '&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;'>"
                       "<!ENTITY h '&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;'>]>"
                       "<rss><channel><item><title>&h;</title></item></channel></rss>";
    r = parse(bomb, NULL);
    assert_string_not_equal(r.error, "");
    feedparse_result_free(&r);
}

static void dates(void **state)
{
    (void)state;
    int64_t ms;
    assert_int_equal(feedparse_date_rfc822("Tue, 10 Jun 2003 04:00:00 GMT", &ms), 0);
    assert_int_equal(ms, 1055217600000LL);
    assert_int_equal(feedparse_date_rfc822("10 Jun 2003 06:00 +0200", &ms), 0);
    assert_int_equal(ms, 1055217600000LL);
    assert_int_equal(feedparse_date_rfc822("Tuesday, 10-Jun-03 00:00:00 EDT", &ms), 0);
    assert_int_equal(ms, 1055217600000LL);
    assert_int_equal(feedparse_date_rfc822("Mon, 09 Jun 2003 21:00:00 PDT", &ms), 0);
    assert_int_equal(ms, 1055217600000LL);
    assert_int_equal(feedparse_date_rfc822("Tue Jun 10 04:00:00 2003", &ms), 0);
    assert_int_equal(ms, 1055217600000LL);
    assert_int_equal(feedparse_date_rfc822("1 Jan 99 00:00:00 Z", &ms), 0);   /* 2-digit year >= 50: 19xx */
    assert_int_equal(ms, 915148800000LL);
    assert_int_equal(feedparse_date_rfc822("1 Jan 49 00:00:00 UT", &ms), 0);
    assert_int_equal(ms, 2493072000000LL);
    assert_int_equal(feedparse_date_rfc822("31 Dec 2016 23:59:60 +0000", &ms), 0);   /* leap second */
    assert_int_equal(feedparse_date_rfc822("31 Dec 2016 23:58:60 +0000", &ms), -EINVAL);
    assert_int_equal(feedparse_date_rfc822("10 Jun-2003 04:00:00 GMT", &ms), -EINVAL);   /* mixed separators */
    assert_int_equal(feedparse_date_rfc822("31 Feb 2003 04:00:00 GMT", &ms), -EINVAL);
    assert_int_equal(feedparse_date_rfc822("yesterday", &ms), -EINVAL);
    assert_int_equal(feedparse_date_rfc822("10 Jun 2003 04:00:00 +0260", &ms), -ERANGE);
    assert_int_equal(feedparse_date_rfc822("10 Jun 2003 04:00:00 X1Y", &ms), -ERANGE);
    assert_int_equal(feedparse_date_iso8601("2003-06-10T04:00:00Z", &ms, NULL), 0);
    assert_int_equal(ms, 1055217600000LL);
    assert_int_equal(feedparse_date_iso8601("2003-06-10T06:00:00+02:00", &ms, NULL), 0);
    assert_int_equal(ms, 1055217600000LL);
    assert_int_equal(feedparse_date_iso8601("2003-06-10 04:00", &ms, NULL), 0);
    assert_int_equal(ms, 1055217600000LL);
    assert_int_equal(feedparse_date_iso8601("2003-13-10", &ms, NULL), -EINVAL);
    assert_int_equal(feedparse_date_iso8601("2003-06-10T04:00:00Zjunk", &ms, NULL), -EINVAL);
    char out[32];
    feedparse_date_format(1055217600000LL, 0, out);
    assert_string_equal(out, "10 Jun 2003 04:00:00 +0000");
    int off;
    assert_int_equal(feedparse_date_iso8601("2003-06-10T06:30:00+02:30", &ms, &off), 0);
    assert_int_equal(off, 9000);
    feedparse_date_format(ms, off, out);
    assert_string_equal(out, "10 Jun 2003 06:30:00 +0230");
    feedparse_date_format(ms, -3600, out);
    assert_string_equal(out, "10 Jun 2003 03:00:00 -0100");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rss20),  cmocka_unit_test(rss_unchanged_build_date), cmocka_unit_test(atom),
        cmocka_unit_test(broken_and_invalid), cmocka_unit_test(single_byte_encoding),
        cmocka_unit_test(bounds), cmocka_unit_test(dates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
