/* The web form accumulator (web/form.c) is fed by MHD's post processor and
 * query parser with whatever a client sends: field names, file names and
 * value chunks at any offset, in any order, with NUL bytes.  The input is a
 * script of web_form_iter calls: per call a control byte (bit 0: a file
 * part, bit 1: continue the current part at a non-zero offset, bit 2: no
 * key), then three length-prefixed strings (key, filename, data).  After the
 * script the public accessors run over every field and file. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/web_int.h"

static const uint8_t *take(const uint8_t **p, const uint8_t *end, size_t *n)
{
    if (*p >= end) {
        *n = 0;
        return *p;
    }
    size_t want = **p;
    (*p)++;
    if (want > (size_t)(end - *p))
        want = (size_t)(end - *p);
    const uint8_t *s = *p;
    *p += want;
    *n = want;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    struct web_req r;
    memset(&r, 0, sizeof r);
    r.cur_part = -1;
    const uint8_t *p = data, *end = data + size;
    uint64_t off = 0;
    while (p < end) {
        uint8_t ctl = *p++;
        size_t kn, fn, dn;
        const uint8_t *k = take(&p, end, &kn), *f = take(&p, end, &fn), *d = take(&p, end, &dn);
        char key[256], file[256];
        memcpy(key, k, kn);
        key[kn] = 0;
        memcpy(file, f, fn);
        file[fn] = 0;
        off = (ctl & 2) ? off + 1 : 0;
        if (web_form_iter(&r, MHD_POSTDATA_KIND, (ctl & 4) ? NULL : key, (ctl & 1) ? file : NULL, NULL, NULL,
                          (const char *)d, off, dn) != MHD_YES)
            break;
    }
    for (size_t i = 0; i < r.nparams; i++) {
        /* the lookup answers for the last field of a name (repeated keys) */
        const char *v = web_req_param(&r, r.params[i].name);
        size_t last = i;
        for (size_t j = i + 1; j < r.nparams; j++)
            if (strcmp(r.params[j].name, r.params[i].name) == 0)
                last = j;
        if (!v || (strlen(v) != r.params[last].val.len && !web_req_param_has_nul(&r, r.params[i].name)))
            abort();   /* a value cut short must say so */
        (void)web_req_bool(&r, r.params[i].name, false);
    }
    for (size_t i = 0; i < web_req_file_count(&r); i++) {
        const struct web_file *wf = web_req_file(&r, i);
        if (!wf || !wf->filename || !wf->field)
            abort();
    }
    web_form_free(&r);
    return 0;
}
