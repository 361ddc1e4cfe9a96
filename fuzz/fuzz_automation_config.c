/* qbit_manage's config.yml is the user's file, but a config_file glob may
 * pick up anything in the profile and the web API reads whatever is there:
 * the parser must hold on any bytes.  Checked on every input: a parse
 * either fails with a message naming the file, or gives a MAP root whose
 * every accessor answers; a cron expression from the input parses or not,
 * and a parsed one finds its next time without running away. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "automation/config.h"
#include "automation/cron.h"

static void walk(const struct autocfg_node *n, int depth)
{
    if (depth > AUTOCFG_MAX_DEPTH + 1)
        abort();
    if (n->kind == AUTOCFG_SCALAR && !n->str)
        abort();
    (void)autocfg_bool(n, false);
    (void)autocfg_int(n, 0);
    (void)autocfg_real(n, 0);
    (void)autocfg_duration(n, 0);
    for (size_t i = 0; i < autocfg_list_len(n); i++)
        (void)autocfg_list_at(n, i);
    for (size_t i = 0; (n->kind == AUTOCFG_MAP || n->kind == AUTOCFG_SEQ) && i < n->n; i++) {
        if (n->kind == AUTOCFG_MAP && (!n->keys[i] || autocfg_get(n, n->keys[i]) == NULL))
            abort();
        walk(n->items[i], depth + 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1u << 20)
        return 0;
    struct autocfg *c = NULL;
    char err[512] = "";
    int rc = autocfg_parse("fuzz.yml", (const char *)data, size, &c, err, sizeof err);
    if (rc == 0) {
        if (!c || !c->root || c->root->kind != AUTOCFG_MAP)
            abort();
        walk(c->root, 0);
        autocfg_free(c);
    } else if (c || (rc == -EINVAL && strncmp(err, "fuzz.yml:", 9) != 0)) {
        abort();
    }
    char line[128];
    size_t n = 0;
    while (n < size && n + 1 < sizeof line && data[n] != '\n' && data[n] != '\0') {
        line[n] = (char)data[n];
        n++;
    }
    line[n] = '\0';
    struct cron cr;
    if (cron_parse(line, &cr) == 0)
        (void)cron_next(&cr, 1700000000);
    return 0;
}
