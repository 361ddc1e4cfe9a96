#include "core/logfile.h"

#include <stdio.h>

#include "core/session.h"
#include "util/log.h"

/* qBittorrent's Application clamps these (MIN/MAX_FILELOG_SIZE, age 1..365). */
#define LOGFILE_MIN_BYTES 1024
#define LOGFILE_MAX_BYTES (1000 * 1024 * 1024)

static void apply(struct session *s)
{
    const struct settings *st = &s->settings;
    if (!settings_bool(st, SET_FILE_LOG_ENABLED)) {
        log_file_set(NULL);
        return;
    }
    int64_t kib = settings_int(st, SET_FILE_LOG_MAX_SIZE);
    int64_t bytes = kib < LOGFILE_MIN_BYTES / 1024 ? LOGFILE_MIN_BYTES
                  : kib > LOGFILE_MAX_BYTES / 1024 ? LOGFILE_MAX_BYTES : kib * 1024;
    int64_t age = settings_int(st, SET_FILE_LOG_AGE);
    int64_t unit = settings_int(st, SET_FILE_LOG_AGE_TYPE);
    const char *dir = settings_str(st, SET_FILE_LOG_PATH);
    char deflt[4096];
    if (!*dir) {   /* set empty at run time: the default again */
        snprintf(deflt, sizeof deflt, "%s/logs", s->profile_dir);
        dir = deflt;
    }
    struct log_file_config c = {
        .dir = dir,
        .backup = settings_bool(st, SET_FILE_LOG_BACKUP_ENABLED),
        .max_bytes = bytes,
        .delete_old = settings_bool(st, SET_FILE_LOG_DELETE_OLD),
        .age = age < 1 ? 1 : age > 365 ? 365 : (int)age,
        .age_unit = unit < 0 || unit > 2 ? LOG_AGE_MONTHS : (enum log_file_age_unit)unit,
    };
    log_file_set(&c);   /* a failure is logged there */
}

static void on_changed(void *ud, const struct settings_mask *changed)
{
    (void)changed;
    apply(ud);
}

int logfile_start(struct session *s)
{
    int rc = settings_add_hook(&s->settings, SG_FILE_LOG, on_changed, s);
    if (rc == 0)
        apply(s);
    return rc;
}
