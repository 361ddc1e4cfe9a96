#include "util/natcmp.h"

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int lower(unsigned char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

int natcmp_n(const char *a, size_t an, const char *b, size_t bn)
{
    size_t i = 0, k = 0;
    while (i < an && k < bn) {
        unsigned char ca = (unsigned char)a[i], cb = (unsigned char)b[k];
        if (is_digit(ca) && is_digit(cb)) {
            size_t ie = i, ke = k;
            while (ie < an && is_digit((unsigned char)a[ie]))
                ie++;
            while (ke < bn && is_digit((unsigned char)b[ke]))
                ke++;
            size_t i0 = i, k0 = k;
            while (i0 + 1 < ie && a[i0] == '0')
                i0++;
            while (k0 + 1 < ke && b[k0] == '0')
                k0++;
            if (ie - i0 != ke - k0)
                return ie - i0 < ke - k0 ? -1 : 1;
            int r = memcmp(a + i0, b + k0, ie - i0);
            if (r)
                return r < 0 ? -1 : 1;
            i = ie;
            k = ke;
            continue;
        }
        int la = lower(ca), lb = lower(cb);
        if (la != lb)
            return la < lb ? -1 : 1;
        i++;
        k++;
    }
    if (i < an)
        return 1;
    return k < bn ? -1 : 0;
}
