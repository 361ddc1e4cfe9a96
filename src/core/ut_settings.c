#include "core/ut_settings.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "store/record.h"
#include "util/log.h"

#define ROW(nm, t, acc, rl, cv, sid, cf, gu) {nm, t, acc, rl, cv, sid, cf, gu}
#define NOID (-1)

/* Sorted by name (ut_settings_find is a binary search; test_utconf checks
 * the order).  conf = utserver.conf key; gui = listed by getsettings. */
const struct ut_setting ut_settings[] = {
    ROW("admin_name", UT_STR, 'Y', UT_FIRST, UT_CONV_DIRECT, SET_WEB_UI_USERNAME, true, true),
    ROW("admin_password", UT_STR, 'W', UT_FIRST, UT_CONV_ADMIN_PASSWORD, NOID, true, false),
    ROW("all_writes_sync", UT_BOOL, 'R', UT_ALWAYS, UT_CONV_DIRECT, SET_UT_ALL_WRITES_SYNC, true, true),
    /* Stored, does not act: µTorrent throttles all its uploads by uTP's
     * one-way delay signal (yielding to other traffic).  torrentd's uTP
     * connections (core/utpsock.c) always run LEDBAT; its TCP uploads are not
     * throttled by the delay of its uTP ones. */
    ROW("auto_bandwidth_management", UT_BOOL, 'Y', UT_FIRST, UT_CONV_DIRECT, SET_UT_AUTO_BANDWIDTH_MANAGEMENT, true,
        true),
    ROW("bind_ip", UT_STR, 'R', UT_FIRST, UT_CONV_DIRECT, SET_CURRENT_INTERFACE_ADDRESS, true, true),
    ROW("bind_port", UT_INT, 'Y', UT_FIRST, UT_CONV_DIRECT, SET_LISTEN_PORT, true, true),
    /* Stored, does not act: µTorrent itself dropped compact allocation (and
     * it never worked with selective downloads); torrentd's files are sparse
     * (prealloc_space preallocates them), the layout compact allocation
     * replaced. */
    ROW("compact_allocation", UT_BOOL, 'R', UT_ALWAYS, UT_CONV_DIRECT, SET_UT_COMPACT_ALLOCATION, true, true),
    ROW("conns_globally", UT_INT, 'Y', UT_GUI, UT_CONV_DIRECT, SET_MAX_CONNEC, false, true),
    ROW("conns_per_torrent", UT_INT, 'Y', UT_FIRST, UT_CONV_DIRECT, SET_MAX_CONNEC_PER_TORRENT, true, true),
    ROW("dht", UT_BOOL, 'Y', UT_FIRST, UT_CONV_DIRECT, SET_DHT, true, true),
    ROW("dir_active", UT_STR, 'R', UT_FIRST, UT_CONV_DIR_ACTIVE, NOID, true, true),
    ROW("dir_active_download", UT_STR, 'Y', UT_GUI, UT_CONV_DIR_ACTIVE, NOID, false, true),
    ROW("dir_active_download_flag", UT_BOOL, 'R', UT_GUI, UT_CONV_DIR_ACTIVE_FLAG, NOID, false, true),
    ROW("dir_add_label", UT_BOOL, 'Y', UT_GUI, UT_CONV_DIRECT, SET_AUTO_TMM_ENABLED, false, true),
    ROW("dir_autoload", UT_STR, 'R', UT_FIRST, UT_CONV_PATH, SET_UT_DIR_AUTOLOAD, true, true),
    ROW("dir_autoload_delete", UT_BOOL, 'R', UT_FIRST, UT_CONV_DIRECT, SET_UT_DIR_AUTOLOAD_DELETE, true, true),
    ROW("dir_completed", UT_STR, 'R', UT_FIRST, UT_CONV_DIR_COMPLETED, NOID, true, true),
    ROW("dir_completed_download", UT_STR, 'Y', UT_GUI, UT_CONV_DIR_COMPLETED_GUI, NOID, false, true),
    ROW("dir_completed_download_flag", UT_BOOL, 'Y', UT_GUI, UT_CONV_DIR_COMPLETED_FLAG, NOID, false, true),
    ROW("dir_download", UT_STR, 'R', UT_ALWAYS, UT_CONV_DIR_DOWNLOAD, SET_UT_DIR_DOWNLOAD, true, false),
    ROW("dir_request", UT_STR, 'R', UT_ALWAYS, UT_CONV_PATH, SET_UT_DIR_REQUEST, true, true),
    ROW("dir_root", UT_STR, 'R', UT_FIRST, UT_CONV_PATH, SET_UT_DIR_ROOT, true, true),
    ROW("dir_temp_files", UT_STR, 'R', UT_FIRST, UT_CONV_PATH, SET_UT_DIR_TEMP_FILES, true, true),
    ROW("dir_torrent_files", UT_STR, 'R', UT_FIRST, UT_CONV_ROOT_PATH, SET_EXPORT_DIR, true, true),
    ROW("disk_cache_max_size", UT_INT, 'R', UT_ALWAYS, UT_CONV_DIRECT, SET_UT_DISK_CACHE_MAX_SIZE, true, true),
    /* Acts: the ciphertext read buffer of each SSL-torrent TLS connection
     * (ssltorrent_size_buffers -> sslpeer_set_rbuf_size); test_utserver_keys2
     * test_encrypt_buffer_size counts the read(2)s. */
    ROW("encrypt_buffer_size", UT_INT, 'R', UT_START, UT_CONV_DIRECT, SET_UT_ENCRYPT_BUFFER_SIZE, true, true),
    ROW("finish_cmd", UT_STR, 'R', UT_FIRST, UT_CONV_DIRECT, SET_UT_FINISH_CMD, true, true),
    ROW("localhost_authentication", UT_BOOL, 'R', UT_ALWAYS, UT_CONV_INVERT, SET_BYPASS_LOCAL_AUTH, true, true),
    ROW("logmask", UT_INT, 'R', UT_ALWAYS, UT_CONV_DIRECT, SET_UT_LOGMASK, true, true),
    ROW("low_cpu", UT_BOOL, 'R', UT_FIRST, UT_CONV_DIRECT, SET_UT_LOW_CPU, true, true),
    ROW("lsd", UT_BOOL, 'Y', UT_FIRST, UT_CONV_DIRECT, SET_LSD, true, true),
    ROW("max_dl_rate", UT_INT, 'Y', UT_FIRST, UT_CONV_KBPS, SET_DL_LIMIT, true, true),
    ROW("max_total_connections", UT_INT, 'Y', UT_FIRST, UT_CONV_DIRECT, SET_MAX_CONNEC, true, true),
    ROW("max_ul_rate", UT_INT, 'Y', UT_FIRST, UT_CONV_KBPS, SET_UP_LIMIT, true, true),
    /* Acts (KB/s, stored as given): a finished torrent's upload is capped by a
     * per-torrent seeding bucket (core/limits), the lower of it and the
     * torrent's own limit winning; test_max_ul_rate_seed_caps_seeding_upload. */
    ROW("max_ul_rate_seed", UT_INT, 'Y', UT_FIRST, UT_CONV_DIRECT, SET_UT_MAX_UL_RATE_SEED, true, true),
    /* Acts: files opened for writing on vfat (statfs MSDOS_SUPER_MAGIC) are
     * opened O_SYNC (storage_sync_flags; unit test_storage).  Not observed on
     * a real vfat here: the test kernel has no vfat/msdos file system, cannot
     * load modules and has no mkfs.vfat; a FUSE FAT reports FUSE's magic.
     * µTorrent's "compact allocation on those file systems" has no
     * counterpart (see compact_allocation). */
    ROW("minimize_kernel_caching", UT_BOOL, 'R', UT_ALWAYS, UT_CONV_DIRECT, SET_UT_MINIMIZE_KERNEL_CACHING, true,
        true),
    /* natpmp and upnp: both are upnp, qBittorrent's one switch for UPnP IGD
     * and NAT-PMP (core/portmap.c), which acts live. */
    ROW("natpmp", UT_BOOL, 'Y', UT_FIRST, UT_CONV_DIRECT, SET_UPNP, true, true),
    ROW("pex", UT_BOOL, 'Y', UT_FIRST, UT_CONV_DIRECT, SET_PEX, true, true),
    ROW("prealloc_space", UT_BOOL, 'R', UT_ALWAYS, UT_CONV_DIRECT, SET_PREALLOCATE_ALL, true, true),
    /* Acts: with no bind_ip, the first address of this interface (IPv4 before
     * IPv6) is listened on and connected from, as qBittorrent's
     * current_network_interface (session wanted_address); a missing name is
     * warned and every address used; test_preferred_interface. */
    ROW("preferred_interface", UT_STR, 'R', UT_ALWAYS, UT_CONV_DIRECT, SET_UT_PREFERRED_INTERFACE, true, true),
    /* Acts (MB; 0 = 80): the sequential picker starts no piece at or past the
     * first missing one + span (bt_picker_set_sequential_span); -1 turns
     * in-order picking off and sequential_download no longer marks new
     * torrents; test_progressive_piece_span. */
    ROW("progressive_piece_span", UT_INT, 'R', UT_ALWAYS, UT_CONV_DIRECT, SET_UT_PROGRESSIVE_PIECE_SPAN, true, true),
    ROW("randomize_bind_port", UT_BOOL, 'R', UT_START, UT_CONV_DIRECT, SET_UT_RANDOMIZE_BIND_PORT, true, true),
    ROW("rate_limit_local_peers", UT_BOOL, 'Y', UT_FIRST, UT_CONV_DIRECT, SET_LIMIT_LAN_PEERS, true, true),
    ROW("seed_ratio", UT_INT, 'Y', UT_FIRST, UT_CONV_RATIO_PCT, SET_MAX_RATIO, true, true),
    ROW("seed_time", UT_INT, 'Y', UT_FIRST, UT_CONV_SEED_TIME, SET_MAX_SEEDING_TIME, true, true),
    ROW("sequential_download", UT_BOOL, 'R', UT_ALWAYS, UT_CONV_DIRECT, SET_UT_SEQUENTIAL_DOWNLOAD, true, true),
    ROW("state_cmd", UT_STR, 'R', UT_FIRST, UT_CONV_DIRECT, SET_UT_STATE_CMD, true, true),
    ROW("token_auth_enable", UT_BOOL, 'R', UT_FIRST, UT_CONV_DIRECT, SET_UT_TOKEN_AUTH_ENABLE, true, true),
    ROW("token_auth_filter", UT_STR, 'R', UT_START, UT_CONV_DIRECT, SET_UT_TOKEN_AUTH_FILTER, true, true),
    /* uconnect_*: accepted with a warning, not stored: µTorrent Remote (the
     * uconnect relay service) is gone, there is nothing to log in to. */
    ROW("uconnect_enable", UT_BOOL, 'R', UT_ALWAYS, UT_CONV_IGNORED, NOID, true, false),
    ROW("uconnect_password", UT_STR, 'W', UT_ALWAYS, UT_CONV_IGNORED, NOID, true, false),
    ROW("uconnect_username", UT_STR, 'R', UT_ALWAYS, UT_CONV_IGNORED, NOID, true, false),
    ROW("upnp", UT_BOOL, 'Y', UT_FIRST, UT_CONV_DIRECT, SET_UPNP, true, true),
    ROW("ut_webui_dir", UT_STR, 'R', UT_ALWAYS, UT_CONV_PATH, SET_UT_WEBUI_DIR, true, true),
    ROW("ut_webui_port", UT_INT, 'R', UT_FIRST, UT_CONV_WEBUI_PORT, SET_UT_WEBUI_PORT, true, true),
    ROW("webui.password", UT_STR, 'Y', UT_GUI, UT_CONV_WEBUI_PASSWORD, NOID, false, true),
    ROW("webui.username", UT_STR, 'Y', UT_GUI, UT_CONV_DIRECT, SET_WEB_UI_USERNAME, false, true),
    /* Acts (MB; 0 = 2, -1 = no write caching): a verified piece goes to disk
     * in pwrite()s of at most this size, -1 one per 16 KiB block
     * (storage_set_write_chunk); test_write_coalesce_max_size.  Data is held
     * until its piece verifies, so at most one piece is coalesced. */
    ROW("write_coalesce_max_size", UT_INT, 'R', UT_ALWAYS, UT_CONV_DIRECT, SET_UT_WRITE_COALESCE_MAX_SIZE, true,
        true),
};
const size_t ut_settings_count = sizeof ut_settings / sizeof ut_settings[0];

static int cmp_name(const void *k, const void *e)
{
    return strcmp(k, ((const struct ut_setting *)e)->name);
}

const struct ut_setting *ut_settings_find(const char *name)
{
    return bsearch(name, ut_settings, ut_settings_count, sizeof ut_settings[0], cmp_name);
}

unsigned ut_settings_log_sources(int64_t logmask)
{
    static const struct { int bit; unsigned src; } map[] = {
        {3, LOG_SRC_HAVE},      {19, LOG_SRC_DISCONNECT}, {20, LOG_SRC_PEER_OUT}, {21, LOG_SRC_PEER_IN},
        {27, LOG_SRC_WEBUI},    {29, LOG_SRC_PEX},        {31, LOG_SRC_BLOCKED},
    };
    uint32_t m = (uint32_t)logmask;   /* µTorrent's is 32 bits; a negative one is its two's complement */
    unsigned out = 0;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (m & (UINT32_C(1) << map[i].bit))
            out |= map[i].src;
    return out;
}

bool ut_settings_is_account(const struct ut_setting *u)
{
    return u->conv == UT_CONV_ADMIN_PASSWORD || u->conv == UT_CONV_WEBUI_PASSWORD ||
           (u->id >= 0 && (u->id == SET_WEB_UI_USERNAME || u->id == SET_UT_WEBUI_GUEST_NAME));
}

/* ---- reading: torrentd value -> µTorrent text ---- */

static const char *dir_active_of(const struct settings *s)
{
    return settings_bool(s, SET_TEMP_PATH_ENABLED) ? settings_str(s, SET_TEMP_PATH) : settings_str(s, SET_SAVE_PATH);
}

static const char *dir_completed_of(const struct settings *s)
{
    return settings_bool(s, SET_TEMP_PATH_ENABLED) ? settings_str(s, SET_SAVE_PATH) : "";
}

static int put(char *out, size_t outlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int put(char *out, size_t outlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, outlen, fmt, ap);
    va_end(ap);
    return n < 0 || (size_t)n >= outlen ? -ENOSPC : 0;
}

static const char *tf(bool b) { return b ? "true" : "false"; }

int ut_settings_format(const struct settings *s, const struct ut_setting *u, char *out, size_t outlen)
{
    enum setting_id id = (enum setting_id)u->id;
    switch (u->conv) {
    case UT_CONV_DIRECT:
    case UT_CONV_PATH:
    case UT_CONV_ROOT_PATH:
    case UT_CONV_WEBUI_PORT:
        if (u->conv == UT_CONV_WEBUI_PORT && settings_int(s, SET_UT_WEBUI_PORT) == 0)
            id = SET_WEB_UI_PORT;   /* not configured apart: /gui/ is on the WebUI port */
        switch (settings_defs[id].type) {
        case SETT_BOOL: return put(out, outlen, "%s", tf(settings_bool(s, id)));
        case SETT_INT: return put(out, outlen, "%" PRId64, settings_int(s, id));
        case SETT_REAL: return put(out, outlen, "%g", settings_real(s, id));
        case SETT_STR:
        case SETT_JSON: return put(out, outlen, "%s", settings_str(s, id));
        }
        return -EINVAL;
    case UT_CONV_INVERT: return put(out, outlen, "%s", tf(!settings_bool(s, id)));
    case UT_CONV_KBPS: {
        int64_t v = settings_int(s, id);
        return put(out, outlen, "%" PRId64, v <= 0 ? -1 : (v + 1023) / 1024);
    }
    case UT_CONV_RATIO_PCT: {
        double r = settings_real(s, SET_MAX_RATIO);
        bool on = settings_bool(s, SET_MAX_RATIO_ENABLED) && r >= 0;
        return put(out, outlen, "%lld", on ? llround(r * 100) : 0LL);
    }
    case UT_CONV_SEED_TIME: {
        int64_t m = settings_int(s, SET_MAX_SEEDING_TIME);
        bool on = settings_bool(s, SET_MAX_SEEDING_TIME_ENABLED) && m >= 0;
        return put(out, outlen, "%" PRId64, on ? m * 60 : 0);
    }
    case UT_CONV_DIR_ACTIVE: return put(out, outlen, "%s", dir_active_of(s));
    case UT_CONV_DIR_COMPLETED:
    case UT_CONV_DIR_COMPLETED_GUI: return put(out, outlen, "%s", dir_completed_of(s));
    case UT_CONV_DIR_COMPLETED_FLAG: return put(out, outlen, "%s", tf(settings_bool(s, SET_TEMP_PATH_ENABLED)));
    case UT_CONV_DIR_ACTIVE_FLAG: return put(out, outlen, "true");
    case UT_CONV_DIR_DOWNLOAD: return put(out, outlen, "%s", settings_str(s, SET_UT_DIR_DOWNLOAD));
    case UT_CONV_WEBUI_PASSWORD: return put(out, outlen, "%s", UT_PASSWORD_PLACEHOLDER);
    case UT_CONV_ADMIN_PASSWORD:
    case UT_CONV_IGNORED: return -EINVAL;
    }
    return -EINVAL;
}

/* ---- writing: µTorrent text -> settings_changes ---- */

static int fail(char *err, size_t errlen, int rc, const struct ut_setting *u, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int fail(char *err, size_t errlen, int rc, const struct ut_setting *u, const char *fmt, ...)
{
    if (err && errlen) {
        int n = snprintf(err, errlen, "%s: ", u ? u->name : "settings");
        if (n >= 0 && (size_t)n < errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return rc;
}

int ut_batch_init(struct ut_batch *b, const struct settings *cur, const char *cwd)
{
    memset(b, 0, sizeof *b);
    b->cur = cur;
    if (cwd)
        b->cwd = strdup(cwd);
    else {
        char buf[PATH_MAX];
        b->cwd = strdup(getcwd(buf, sizeof buf) ? buf : "/");
    }
    b->completed_flag = settings_bool(cur, SET_TEMP_PATH_ENABLED);
    b->dir_active = strdup(dir_active_of(cur));
    b->dir_completed = strdup(dir_completed_of(cur));
    if (!b->cwd || !b->dir_active || !b->dir_completed) {
        ut_batch_free(b);
        return -ENOMEM;
    }
    return 0;
}

void ut_batch_free(struct ut_batch *b)
{
    for (size_t i = 0; i < b->num_owned; i++)
        free(b->owned[i]);
    for (size_t i = 0; i < b->num_paths; i++)
        free(b->paths[i].raw);
    for (size_t i = 0; i < b->num_dl; i++)
        free(b->dl[i]);
    if (b->password) {
        explicit_bzero(b->password, strlen(b->password));
        free(b->password);
    }
    free(b->dir_active);
    free(b->dir_completed);
    free(b->cwd);
    memset(b, 0, sizeof *b);
}

static int parse_bool(const char *v, bool *out)
{
    if (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0)
        *out = true;
    else if (strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0)
        *out = false;
    else
        return -EINVAL;
    return 0;
}

static int parse_int(const char *v, int64_t *out)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (end == v || *end || errno)
        return errno == ERANGE ? -ERANGE : -EINVAL;
    *out = x;
    return 0;
}

/* Adds (or replaces: the last value of a key wins) a change. */
static int add_change(struct ut_batch *b, struct settings_change c)
{
    for (size_t i = 0; i < b->n; i++) {
        if (b->ch[i].id == c.id) {
            b->ch[i] = c;
            return 0;
        }
    }
    if (b->n == UT_BATCH_MAX)
        return -E2BIG;
    b->ch[b->n++] = c;
    return 0;
}

static int add_str(struct ut_batch *b, enum setting_id id, const char *v)
{
    if (b->num_owned == UT_BATCH_MAX)
        return -E2BIG;
    char *d = strdup(v);
    if (!d)
        return -ENOMEM;
    b->owned[b->num_owned++] = d;
    int rc = add_change(b, (struct settings_change){.id = id, .type = settings_defs[id].type, .v.s = d});
    return rc;
}

static int replace(char **slot, const char *v)
{
    char *d = strdup(v);
    if (!d)
        return -ENOMEM;
    free(*slot);
    *slot = d;
    return 0;
}

int ut_batch_set(struct ut_batch *b, const struct ut_setting *u, const char *value, char *err, size_t errlen)
{
    if (b->finished)
        return fail(err, errlen, -EINVAL, u, "batch already finished");
    if (strlen(value) >= UT_VALUE_MAX)
        return fail(err, errlen, -EINVAL, u, "value longer than %d bytes", UT_VALUE_MAX - 1);
    bool bv = false;
    int64_t iv = 0;
    int rc = 0;
    if (u->type == UT_BOOL && parse_bool(value, &bv) != 0)
        return fail(err, errlen, -EINVAL, u, "'%s' is not a boolean (true, false, 1 or 0)", value);
    if (u->type == UT_INT && (rc = parse_int(value, &iv)) != 0)
        return fail(err, errlen, rc, u, "'%s' is not an integer", value);
    enum setting_id id = (enum setting_id)u->id;
    const struct setting_def *d = u->id >= 0 ? &settings_defs[id] : NULL;
    switch (u->conv) {
    case UT_CONV_DIRECT:
    case UT_CONV_WEBUI_PORT:
        if (d->type == SETT_BOOL)
            rc = add_change(b, (struct settings_change){.id = id, .type = SETT_BOOL, .v.b = bv});
        else if (d->type == SETT_INT) {
            if (iv < d->min_i || iv > d->max_i)
                return fail(err, errlen, -ERANGE, u, "%" PRId64 " is out of range %" PRId64 "..%" PRId64, iv,
                            d->min_i, d->max_i);
            rc = add_change(b, (struct settings_change){.id = id, .type = SETT_INT, .v.i = iv});
            if (rc == 0 && u->conv == UT_CONV_WEBUI_PORT) {
                if (iv == 0)
                    return fail(err, errlen, -ERANGE, u, "0 is not a port");
                rc = add_change(b, (struct settings_change){.id = SET_WEB_UI_PORT, .type = SETT_INT, .v.i = iv});
            }
        } else
            rc = add_str(b, id, value);
        break;
    case UT_CONV_INVERT:
        rc = add_change(b, (struct settings_change){.id = id, .type = SETT_BOOL, .v.b = !bv});
        break;
    case UT_CONV_KBPS:
        if (iv < -1 || iv > INT64_MAX / 1024)
            return fail(err, errlen, -ERANGE, u, "%" PRId64 " is out of range -1..%" PRId64 " (KB/s; -1 = unlimited)",
                        iv, INT64_MAX / 1024);
        rc = add_change(b, (struct settings_change){.id = id, .type = SETT_INT, .v.i = iv <= 0 ? 0 : iv * 1024});
        break;
    case UT_CONV_RATIO_PCT:
        if (iv < 0 || iv > INT32_MAX)
            return fail(err, errlen, -ERANGE, u, "%" PRId64 " is out of range 0..%d (percent; 0 = no limit)", iv,
                        INT32_MAX);
        rc = add_change(b, (struct settings_change){.id = SET_MAX_RATIO_ENABLED, .type = SETT_BOOL, .v.b = iv > 0});
        if (rc == 0 && iv > 0)
            rc = add_change(b, (struct settings_change){.id = SET_MAX_RATIO, .type = SETT_REAL, .v.r = iv / 100.0});
        break;
    case UT_CONV_SEED_TIME:
        if (iv < 0 || iv > INT32_MAX)
            return fail(err, errlen, -ERANGE, u, "%" PRId64 " is out of range 0..%d (seconds; 0 = no limit)", iv,
                        INT32_MAX);
        rc = add_change(b,
                        (struct settings_change){.id = SET_MAX_SEEDING_TIME_ENABLED, .type = SETT_BOOL, .v.b = iv > 0});
        if (rc == 0 && iv > 0)
            rc = add_change(b, (struct settings_change){.id = SET_MAX_SEEDING_TIME, .type = SETT_INT,
                                                        .v.i = (iv + 59) / 60});
        break;
    case UT_CONV_PATH:
    case UT_CONV_ROOT_PATH: {
        /* The last value of a key wins. */
        size_t i = 0;
        while (i < b->num_paths && b->paths[i].u->id != u->id)
            i++;
        if (i == UT_BATCH_MAX)
            return fail(err, errlen, -E2BIG, u, "too many settings");
        if (i == b->num_paths) {
            b->paths[i].u = u;
            b->num_paths++;
        }
        rc = replace(&b->paths[i].raw, value);
        break;
    }
    case UT_CONV_DIR_ACTIVE:
        if (!*value)
            return fail(err, errlen, -EINVAL, u, "must not be empty");
        rc = replace(&b->dir_active, value);
        b->dir_touched = true;
        break;
    case UT_CONV_DIR_COMPLETED:
        rc = replace(&b->dir_completed, value);
        b->completed_flag = *value != 0;
        b->dir_touched = true;
        break;
    case UT_CONV_DIR_COMPLETED_GUI:
        rc = replace(&b->dir_completed, value);
        b->dir_touched = true;
        break;
    case UT_CONV_DIR_COMPLETED_FLAG:
        b->completed_flag = bv;
        b->dir_touched = true;
        break;
    case UT_CONV_DIR_ACTIVE_FLAG:
        if (!bv)
            return fail(err, errlen, -EINVAL, u, "is always true in torrentd (there is always a save path)");
        break;
    case UT_CONV_DIR_DOWNLOAD:
        if (!b->dl_touched) {
            b->dl_touched = true;   /* the file's list replaces the stored one */
        }
        if (!*value)
            break;
        if (b->num_dl == UT_DIR_DOWNLOAD_MAX)
            return fail(err, errlen, -E2BIG, u, "more than %d entries", UT_DIR_DOWNLOAD_MAX);
        if (!(b->dl[b->num_dl] = strdup(value)))
            rc = -ENOMEM;
        else
            b->num_dl++;
        break;
    case UT_CONV_ADMIN_PASSWORD:
        rc = replace(&b->password, value);
        break;
    case UT_CONV_WEBUI_PASSWORD:
        if (strcmp(value, UT_PASSWORD_PLACEHOLDER) == 0)
            break;   /* what getsettings showed, sent back: unchanged */
        if (!*value)
            return fail(err, errlen, -EINVAL, u, "must not be empty (torrentd does not serve the WebUI without a password)");
        rc = replace(&b->password, value);
        break;
    case UT_CONV_IGNORED:
        break;
    }
    if (rc == -E2BIG)
        return fail(err, errlen, rc, u, "too many settings in one batch");
    if (rc != 0)
        return fail(err, errlen, rc, u, "%s", strerror(-rc));
    return 0;
}

/* base + "/" + v, normalised lexically ("." and ".." components, repeated
 * slashes, no trailing slash); an absolute v ignores base. */
static char *resolve(const char *base, const char *v)
{
    size_t bl = strlen(base), vl = strlen(v);
    char *in = malloc(bl + vl + 2);
    char *out = malloc(bl + vl + 2);
    if (!in || !out) {
        free(in);
        free(out);
        return NULL;
    }
    if (v[0] == '/')
        memcpy(in, v, vl + 1);
    else
        snprintf(in, bl + vl + 2, "%s/%s", base, v);
    size_t o = 0;
    char *save = NULL;
    for (char *c = strtok_r(in, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        if (strcmp(c, ".") == 0)
            continue;
        if (strcmp(c, "..") == 0) {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
            continue;
        }
        out[o++] = '/';
        size_t cl = strlen(c);
        memcpy(out + o, c, cl);
        o += cl;
    }
    if (o == 0)
        out[o++] = '/';
    out[o] = 0;
    free(in);
    return out;
}

static int add_resolved(struct ut_batch *b, enum setting_id id, const char *base, const char *raw)
{
    if (!*raw)
        return add_str(b, id, "");
    char *p = resolve(base, raw);
    if (!p)
        return -ENOMEM;
    int rc = add_str(b, id, p);
    free(p);
    return rc;
}

int ut_batch_finish(struct ut_batch *b, char *err, size_t errlen)
{
    if (b->finished)
        return 0;
    b->finished = true;
    /* dir_root first: the others may be relative to it. */
    const char *root_raw = NULL;
    for (size_t i = 0; i < b->num_paths; i++)
        if (b->paths[i].u->id == SET_UT_DIR_ROOT)
            root_raw = b->paths[i].raw;
    char *root = root_raw ? (*root_raw ? resolve(b->cwd, root_raw) : strdup(b->cwd))
                          : strdup(*settings_str(b->cur, SET_UT_DIR_ROOT) ? settings_str(b->cur, SET_UT_DIR_ROOT)
                                                                           : b->cwd);
    if (!root)
        return fail(err, errlen, -ENOMEM, NULL, "out of memory");
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < b->num_paths; i++) {
        const struct ut_setting *u = b->paths[i].u;
        rc = add_resolved(b, (enum setting_id)u->id, u->conv == UT_CONV_ROOT_PATH ? root : b->cwd, b->paths[i].raw);
    }
    if (rc == 0 && b->dir_touched) {
        bool move = b->completed_flag && *b->dir_completed;
        char *act = resolve(root, b->dir_active);
        char *done = move ? resolve(root, b->dir_completed) : NULL;
        if (!act || (move && !done))
            rc = -ENOMEM;
        if (rc == 0)
            rc = add_change(b, (struct settings_change){.id = SET_TEMP_PATH_ENABLED, .type = SETT_BOOL, .v.b = move});
        if (rc == 0)
            rc = add_str(b, SET_SAVE_PATH, move ? done : act);
        if (rc == 0 && move)
            rc = add_str(b, SET_TEMP_PATH, act);
        free(act);
        free(done);
    }
    if (rc == 0 && b->dl_touched) {
        /* ["a","b"]: each element quoted by store/record, the array is ours. */
        size_t cap = 3, len = 1;
        char *json = malloc(cap);
        if (json)
            json[0] = '[';
        for (size_t i = 0; json && rc == 0 && i < b->num_dl; i++) {
            char *p = resolve(root, b->dl[i]), *q = NULL;
            if (!p || record_value_encode(&(struct record_value){.type = RECORD_TEXT, .s = p}, &q) != 0) {
                free(p);
                rc = -ENOMEM;
                break;
            }
            size_t ql = strlen(q);
            char *g = realloc(json, cap + ql + 1);
            if (!g) {
                free(p);
                free(q);
                rc = -ENOMEM;
                break;
            }
            json = g;
            cap += ql + 1;
            if (i)
                json[len++] = ',';
            memcpy(json + len, q, ql);
            len += ql;
            free(p);
            free(q);
        }
        if (!json)
            rc = -ENOMEM;
        if (rc == 0) {
            json[len++] = ']';
            json[len] = 0;
            rc = add_str(b, SET_UT_DIR_DOWNLOAD, json);
        }
        free(json);
    }
    free(root);
    if (rc == -E2BIG)
        return fail(err, errlen, rc, NULL, "too many settings in one batch");
    if (rc != 0)
        return fail(err, errlen, rc, NULL, "%s", strerror(-rc));
    return 0;
}
