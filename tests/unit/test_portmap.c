/* core/portmap's pure parts: which ports the settings ask to map, and when
 * leases are renewed.  (The router exchanges: tests/integration/test_portmap.py.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/portmap.h"
#include "core/session.h"
#include "core/settings.h"

static bool has(const struct portmap_want *w, size_t n, uint16_t port, uint8_t proto)
{
    for (size_t i = 0; i < n; i++)
        if (w[i].port == port && w[i].proto == proto)
            return true;
    return false;
}

static void wanted_follows_settings(void **state)
{
    (void)state;
    struct session s;
    memset(&s, 0, sizeof s);
    assert_int_equal(settings_init(&s.settings), 0);
    s.listen_port = 6881;
    struct portmap_want w[PORTMAP_MAX];
    /* qBittorrent's default: upnp on, the peer port over TCP and UDP */
    size_t n = portmap_wanted(&s, 0, w);
    assert_int_equal(n, 2);
    assert_true(has(w, n, 6881, PORTMAP_TCP) && has(w, n, 6881, PORTMAP_UDP));
    /* the WebUI port with web_ui_upnp; the tracker's with forwarding and a running tracker */
    settings_set_bool(&s.settings, SET_WEB_UI_UPNP, true, NULL);
    settings_set_int(&s.settings, SET_WEB_UI_PORT, 8080, NULL);
    settings_set_bool(&s.settings, SET_EMBEDDED_TRACKER_PORT_FORWARDING, true, NULL);
    n = portmap_wanted(&s, 0, w);
    assert_int_equal(n, 3);
    assert_true(has(w, n, 8080, PORTMAP_TCP));
    n = portmap_wanted(&s, 9000, w);
    assert_int_equal(n, 4);
    assert_true(has(w, n, 9000, PORTMAP_TCP) && w[3].what == PORTMAP_TRACKER);
    /* one port used twice is one mapping */
    settings_set_int(&s.settings, SET_WEB_UI_PORT, 6881, NULL);
    n = portmap_wanted(&s, 9000, w);
    assert_int_equal(n, 3);
    /* upnp off: nothing */
    settings_set_bool(&s.settings, SET_UPNP, false, NULL);
    assert_int_equal(portmap_wanted(&s, 9000, w), 0);
    settings_free(&s.settings);
}

static void renewal(void **state)
{
    (void)state;
    assert_int_equal(portmap_renew_after(6, false), 3);
    assert_int_equal(portmap_renew_after(1, true), 1);
    assert_int_equal(portmap_renew_after(3600, true), 1800);
    /* permanent: UPnP refreshed hourly, NAT-PMP's two-hour lease at half */
    assert_int_equal(portmap_renew_after(0, false), 3600);
    assert_int_equal(portmap_renew_after(0, true), 3600);
    assert_int_equal(portmap_renew_after(604800, false), 86400);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wanted_follows_settings),
        cmocka_unit_test(renewal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
