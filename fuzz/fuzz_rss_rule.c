/* RSS rules come from any WebUI client (rss/setRule's ruleDef) and their
 * titles from any feed.  The input is "title\nrule JSON": the rule is
 * parsed, matched and accepted against the title, and its serialized form
 * must be a fixed point (parse -> serialize -> parse -> serialize gives the
 * same JSON). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/settings.h"
#include "rss/rule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024)
        return 0;
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    char *nl = strchr(s, '\n');
    const char *title = s, *def = "";
    if (nl) {
        *nl = '\0';
        def = nl + 1;
    }
    static struct rss_smart_filter *smart;
    if (!smart && rss_smart_filter_new(settings_defs[SET_RSS_SMART_EPISODE_FILTERS].def_s, &smart) != 0)
        abort();
    json_t *j = json_loads(def, 0, NULL);
    struct rss_rule *r;
    if (rss_rule_from_json(j, "fuzz", &r) == 0) {
        struct rss_match_env env = {smart, (size & 1) != 0};
        struct strv eps = {0};
        bool m = rss_rule_matches(r, &env, title, 1000, &eps);
        int a = rss_rule_accept(r, &env, title, 1000);
        if (a >= 0 && (a == 1) != m)
            abort();   /* accept is matches plus its side effects */
        strv_clear(&eps);
        json_t *o1 = rss_rule_to_json(r);
        struct rss_rule *r2;
        if (o1 && rss_rule_from_json(o1, "fuzz", &r2) == 0) {
            json_t *o2 = rss_rule_to_json(r2);
            if (o2 && !json_equal(o1, o2))
                abort();
            json_decref(o2);
            rss_rule_free(r2);
        }
        json_decref(o1);
        rss_rule_free(r);
    }
    json_decref(j);
    /* The smart filter preference is user text too. */
    if (strlen(title) < 512) {
        struct rss_smart_filter *f;
        if (rss_smart_filter_new(title, &f) == 0) {
            free(rss_smart_filter_episode(f, def));
            rss_smart_filter_free(f);
        }
    }
    free(s);
    return 0;
}
