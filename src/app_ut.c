/* app_ut — see app_ut.h. */
#include "app_ut.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/session.h"
#include "core/utconf.h"
#include "util/log.h"
#include "util/path.h"
#include "web/server.h"

#define UTT_SCAN_MAX 10000   /* dir_temp_files entries looked at */

/* randomize_bind_port: a random port in seed 004's range 1025-65000, one
 * that is free now (a port another program holds would make the start
 * fail: "cannot listen for peers"); 16 tries, then the last one drawn. */
static int random_free_port(void)
{
    int port = 0;
    for (int i = 0; i < 16; i++) {
        uint16_t r = 0;
        RAND_bytes((unsigned char *)&r, sizeof r);
        port = 1025 + r % (65000 - 1025 + 1);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            break;
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        int ok = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
        close(fd);
        if (ok)
            break;
    }
    return port;
}

static struct {
    const struct app_ut_cli *cli;
    char conf_path[PATH_MAX];
    bool conf_required;
    bool first_start;
    struct utconf conf;       /* as read at start */
    char *password;           /* admin_password of a first start */
    int ready_fd;             /* -daemon: the parent waits for a byte here */
    bool pid_written;

    uv_loop_t *loop;
    struct session *s;
    struct web_server *ws;
    void (*refresh_auth)(void);
    void (*shutdown)(void);
    bool stopping;
    uv_fs_event_t *watch;     /* heap: a closing one may outlive the next */
    char *watched_dir;
    uv_timer_t rescan;
    bool rescan_init;
} ut = {.ready_fd = -1};

/* ---- command line ---- */

static const char *const keywords[] = {"configfile", "settingspath", "logfile", "pidfile", "daemon", "usage"};

int app_ut_scan_args(int *argc, char **argv, struct app_ut_cli *cli, char *err, size_t errlen)
{
    memset(cli, 0, sizeof *cli);
    const char *base = strrchr(argv[0], '/');
    base = base ? base + 1 : argv[0];
    if (strcmp(base, "utserver") == 0)
        cli->active = true;
    int out = 1;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        size_t k = sizeof keywords / sizeof keywords[0];
        if (a[0] == '-' && a[1] != '-') {
            for (k = 0; k < sizeof keywords / sizeof keywords[0]; k++)
                if (strcasecmp(a + 1, keywords[k]) == 0)
                    break;
        }
        if (k == sizeof keywords / sizeof keywords[0]) {
            argv[out++] = argv[i];
            continue;
        }
        cli->active = true;
        const char *next = i + 1 < *argc ? argv[i + 1] : NULL;
        switch (k) {
        case 0:
        case 1:
        case 3:
            if (!next) {
                snprintf(err, errlen, "-%s needs an argument", keywords[k]);
                return -EINVAL;
            }
            i++;
            if (k == 0)
                cli->configfile = next;
            else if (k == 1)
                cli->settingspath = next;
            else
                cli->pidfile = next;
            break;
        case 2:   /* -logfile [FILE] */
            if (next && next[0] != '-') {
                cli->logfile = next;
                i++;
            } else
                cli->logfile = "utserver.log";
            break;
        case 4: cli->daemon = true; break;
        case 5: cli->usage = true; break;
        }
    }
    argv[out] = NULL;
    *argc = out;
    return 0;
}

void app_ut_usage(FILE *f)
{
    fprintf(f, "µTorrent Server options (single dash, any case; torrentd's own --options work too):\n"
               "  -configfile FILE     utserver.conf to read (default ./utserver.conf if present)\n"
               "  -settingspath DIR    where settings and resume data live (default: working directory)\n"
               "  -logfile [FILE]      write the log to FILE (default utserver.log)\n"
               "  -pidfile FILE        write the process id to FILE\n"
               "  -daemon              run detached, in its own session and process group\n"
               "  -usage               this text\n"
               "Reload utserver.conf with SIGHUP or rcf.utmr in dir_request.\n");
}

/* ---- start ---- */

/* Warnings of the start-up read, logged once the log goes where -logfile says. */
#define EARLY_WARN_MAX 32
static char *early_warn[EARLY_WARN_MAX];
static size_t num_early_warn;

static void warn_early(void *ud, const char *msg)
{
    (void)ud;
    if (num_early_warn < EARLY_WARN_MAX)
        early_warn[num_early_warn++] = strdup(msg);
}

static void log_early_warnings(void)
{
    for (size_t i = 0; i < num_early_warn; i++) {
        if (early_warn[i])
            log_msg(LOG_WARNING, "%s", early_warn[i]);
        free(early_warn[i]);
    }
    num_early_warn = 0;
}

static void warn_log(void *ud, const char *msg)
{
    (void)ud;
    log_msg(LOG_WARNING, "%s", msg);
}

static int open_log(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    int rc = dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

static int write_pidfile(const char *path)
{
    char tmp[PATH_MAX + 8], buf[32];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return -ENAMETOOLONG;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    int rc = write(fd, buf, (size_t)n) == n ? 0 : -EIO;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc != 0)
        unlink(tmp);
    return rc;
}

/* The parent of -daemon: waits for the child to serve (a byte on the pipe)
 * or to exit (the pipe closes first), and exits accordingly. */
static int parent_wait(pid_t child, int fd)
{
    char c;
    ssize_t r;
    do
        r = read(fd, &c, 1);
    while (r < 0 && errno == EINTR);
    if (r == 1)
        return 0;
    int st;
    while (waitpid(child, &st, 0) < 0 && errno == EINTR)
        ;
    fprintf(stderr, "utserver: the daemon did not start (see its log)\n");
    return WIFEXITED(st) && WEXITSTATUS(st) ? WEXITSTATUS(st) : 1;
}

/* Checks every value as a first start would apply it, on default settings:
 * a file that can be refused is refused before anything runs. */
static int check_conf(void)
{
    struct settings scratch;
    struct ut_batch b;
    char err[512] = "";
    if (settings_init(&scratch) != 0)
        return 1;
    int rc = ut_batch_init(&b, &scratch, NULL);
    if (rc == 0)
        rc = utconf_batch(&ut.conf, UTCONF_FIRST_START, &b, err, sizeof err);
    if (rc == 0 && settings_apply(&scratch, b.ch, b.n, NULL, err, sizeof err) != 0)
        rc = -EINVAL;
    ut_batch_free(&b);
    settings_free(&scratch);
    if (rc != 0)
        fprintf(stderr, "utserver: %s\n", *err ? err : strerror(-rc));
    return rc == 0 ? 0 : 2;
}

static int prepare(const struct app_ut_cli *cli, const char *profile, const char **bind_ip)
{
    ut.cli = cli;
    *bind_ip = NULL;
    ut.conf_required = cli->configfile != NULL;
    snprintf(ut.conf_path, sizeof ut.conf_path, "%s", cli->configfile ? cli->configfile : "utserver.conf");
    char err[512] = "";
    int rc = utconf_load(ut.conf_path, &ut.conf, warn_early, NULL, err, sizeof err);
    if (rc == -ENOENT && !ut.conf_required) {
        memset(&ut.conf, 0, sizeof ut.conf);
        ut.conf_path[0] = 0;   /* nothing to reload either */
    } else if (rc != 0) {
        fprintf(stderr, "utserver: %s\n", err);
        return 2;
    } else if ((rc = check_conf()) != 0)
        return rc;
    char db[PATH_MAX];
    snprintf(db, sizeof db, "%s/torrentd.db", profile);
    ut.first_start = access(db, F_OK) != 0;
    for (size_t i = 0; ut.first_start && i < ut.conf.n; i++)
        if (ut.conf.e[i].u->id == SET_CURRENT_INTERFACE_ADDRESS && *ut.conf.e[i].value)
            *bind_ip = ut.conf.e[i].value;

    if (cli->logfile) {
        /* Opened before detaching, so a bad path is reported here. */
        int fd = open(cli->logfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0) {
            fprintf(stderr, "utserver: cannot open log file %s: %s\n", cli->logfile, strerror(errno));
            return 2;
        }
        close(fd);
    }
    if (cli->daemon) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) != 0) {
            perror("utserver: pipe");
            return 1;
        }
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
            perror("utserver: fork");
            return 1;
        }
        if (pid > 0) {
            close(p[1]);
            exit(parent_wait(pid, p[0]));
        }
        close(p[0]);
        ut.ready_fd = p[1];
        setsid();   /* own session and process group, no controlling terminal */
    }
    if (cli->logfile && open_log(cli->logfile) != 0) {
        fprintf(stderr, "utserver: cannot open log file %s\n", cli->logfile);
        return 2;
    }
    if (cli->pidfile) {
        if ((rc = write_pidfile(cli->pidfile)) != 0) {
            fprintf(stderr, "utserver: cannot write pid file %s: %s\n", cli->pidfile, strerror(-rc));
            return 2;
        }
        ut.pid_written = true;
    }
    log_early_warnings();
    if (ut.conf_path[0])
        log_msg(LOG_INFO, "configuration: %s%s", ut.conf_path, ut.first_start ? " (first start of this profile)" : "");
    return 0;
}

int app_ut_prepare(const struct app_ut_cli *cli, const char *profile, const char **bind_ip)
{
    int rc = prepare(cli, profile, bind_ip);
    log_early_warnings();   /* on failure: still said (and freed) */
    return rc;
}

/* settings_apply of a conf batch; *changed gets the ids that changed. */
static int apply_conf(struct session *s, const struct utconf *c, enum utconf_moment m, struct settings_mask *changed,
                      char **password)
{
    struct ut_batch b;
    char err[512] = "";
    int rc = ut_batch_init(&b, &s->settings, NULL);
    if (rc == 0)
        rc = utconf_batch(c, m, &b, err, sizeof err);
    if (rc == 0)
        rc = settings_apply(&s->settings, b.ch, b.n, changed, err, sizeof err);
    if (rc == 0 && password && b.password && *b.password) {
        *password = b.password;
        b.password = NULL;
    } else if (rc == 0 && password && b.password) {
        log_msg(LOG_WARNING, "%s: admin_password is blank; torrentd does not serve the WebUI without a password",
                c->file);
    }
    ut_batch_free(&b);
    if (rc != 0)
        log_msg(LOG_WARNING, "%s", *err ? err : strerror(-rc));
    return rc;
}

int app_ut_apply_start(struct session *s, const char **password)
{
    *password = NULL;
    struct settings_mask changed = {0};
    int rc;
    if (ut.conf.n && apply_conf(s, &ut.conf, ut.first_start ? UTCONF_FIRST_START : UTCONF_START, &changed,
                                &ut.password) != 0)
        return 2;
    struct settings *st = &s->settings;
    /* µTorrent Server logs where -logfile says; qBittorrent's file log
     * (<profile>/logs/qbittorrent.log, on by default there) is not its own.
     * Not stored: the qBittorrent API can still turn it on. */
    settings_set_bool(st, SET_FILE_LOG_ENABLED, false, NULL);
    if (settings_bool(st, SET_UT_RANDOMIZE_BIND_PORT))
        settings_set_int(st, SET_LISTEN_PORT, random_free_port(), &changed);
    /* A new dir_active must exist before the first download lands there. */
    const char *dirs[] = {settings_str(st, SET_SAVE_PATH),
                          settings_bool(st, SET_TEMP_PATH_ENABLED) ? settings_str(st, SET_TEMP_PATH) : ""};
    for (size_t i = 0; i < 2; i++)
        if (*dirs[i] && (rc = path_mkdirs(dirs[i])) != 0)
            log_msg(LOG_WARNING, "cannot create %s: %s", dirs[i], strerror(-rc));
    if (session_settings_store(s, &changed, NULL, NULL) != 0)
        return 1;
    *password = ut.password;
    return 0;
}

/* ---- running ---- */

static void clean_temp_files(const char *dir)
{
    if (!*dir)
        return;
    DIR *d = opendir(dir);
    if (!d) {
        log_msg(LOG_WARNING, "dir_temp_files %s: %s", dir, strerror(errno));
        return;
    }
    unsigned removed = 0, seen = 0;
    struct dirent *e;
    while ((e = readdir(d)) && seen++ < UTT_SCAN_MAX) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".utt") != 0)
            continue;
        struct stat st;
        /* Regular files only: never follow a link out of the directory. */
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
            unlinkat(dirfd(d), e->d_name, 0) == 0)
            removed++;
    }
    closedir(d);
    if (removed)
        log_msg(LOG_INFO, "dir_temp_files: %u stale .utt file(s) deleted in %s", removed, dir);
}

/* c.utmr's password: like a first start's, shown once, only its hash kept. */
struct cred_reset {
    uv_work_t work;
    char plain[16];
    char hash[WEB_AUTH_HASH_MAX];
    int rc;
};

static void cred_work(uv_work_t *w)
{
    struct cred_reset *c = w->data;
    c->rc = web_auth_hash_password(c->plain, c->hash, sizeof c->hash);
}

static void on_cred_committed(void *ud, int rc)
{
    (void)ud;
    if (rc != 0)
        log_msg(LOG_WARNING, "c.utmr: the new WebUI credentials could not be saved (%d)", rc);
    else if (ut.refresh_auth)
        ut.refresh_auth();
}

static void on_cred_hash_stored(void *ud, int rc)
{
    (void)ud;
    if (rc != 0 || !ut.s) {
        on_cred_committed(NULL, rc ? rc : -ECANCELED);
        return;
    }
    struct settings_mask changed = {0};
    settings_set_str(&ut.s->settings, SET_WEB_UI_USERNAME, "admin", &changed);
    if (session_settings_changed(ut.s, &changed, on_cred_committed, NULL) != 0)
        on_cred_committed(NULL, -EIO);
}

/* Where the administrator will find the new password: stdout when it goes
 * somewhere (a terminal, -logfile, whatever the service manager collects);
 * a detached daemon without -logfile has /dev/null there, so then a file
 * only its owner can read, next to the request (dir_request is the
 * administrator's, seed 004 says to keep it private). */
static bool show_password(const char *pw)
{
    if (!ut.cli->daemon || ut.cli->logfile) {
        printf("c.utmr: the WebUI credentials were reset: user admin, password %s\n"
               "(shown only this once; change it in the WebUI)\n",
               pw);
        fflush(stdout);
        log_msg(LOG_WARNING, "c.utmr: WebUI credentials reset to user admin and a new password "
                             "(printed on the daemon's standard output)");
        return true;
    }
    char path[PATH_MAX];
    if (!ut.watched_dir || snprintf(path, sizeof path, "%s/c.utmr.password", ut.watched_dir) >= (int)sizeof path)
        return false;
    unlink(path);   /* a link planted there is not followed (O_EXCL below) */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return false;
    char line[64];
    int n = snprintf(line, sizeof line, "admin %s\n", pw);
    bool ok = write(fd, line, (size_t)n) == n;
    explicit_bzero(line, sizeof line);
    if (close(fd) != 0 || !ok) {
        unlink(path);
        return false;
    }
    log_msg(LOG_WARNING, "c.utmr: WebUI credentials reset to user admin and a new password, written to %s "
                         "(readable by this user only; delete it once read)", path);
    return true;
}

static void cred_done(uv_work_t *w, int status)
{
    struct cred_reset *c = w->data;
    if (status == 0 && c->rc == 0 && ut.s && !ut.stopping) {
        if (!show_password(c->plain)) {
            log_msg(LOG_WARNING, "c.utmr: the new password cannot be shown anywhere; credentials not reset");
            explicit_bzero(c, sizeof *c);
            free(c);
            return;
        }
        if (session_set_password_hash(ut.s, c->hash, on_cred_hash_stored, NULL) != 0)
            log_msg(LOG_WARNING, "c.utmr: the new password could not be stored");
    }
    explicit_bzero(c, sizeof *c);
    free(c);
}

static void reset_credentials(void)
{
    static const char alnum[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    struct cred_reset *c = calloc(1, sizeof *c);
    uint8_t rnd[12];
    if (!c || RAND_bytes(rnd, sizeof rnd) != 1) {
        free(c);
        log_msg(LOG_WARNING, "c.utmr: cannot make a new password");
        return;
    }
    for (size_t i = 0; i < sizeof rnd; i++)
        c->plain[i] = alnum[rnd[i] % (sizeof alnum - 1)];
    c->work.data = c;
    if (ut.ws)
        web_server_clear_bans(ut.ws);
    if (uv_queue_work(ut.loop, &c->work, cred_work, cred_done) != 0)
        free(c);
}

static void watch_request_dir(void);

static void on_reload_committed(void *ud, int rc)
{
    (void)ud;
    if (rc != 0)
        log_msg(LOG_WARNING, "reloaded settings could not be saved (%d)", rc);
}

static void reload_conf(const char *why)
{
    if (!ut.conf_path[0]) {
        log_msg(LOG_INFO, "%s: no configuration file to reload", why);
        return;
    }
    struct utconf c;
    char err[512] = "";
    if (utconf_load(ut.conf_path, &c, warn_log, NULL, err, sizeof err) != 0) {
        log_msg(LOG_WARNING, "%s: configuration not reloaded: %s", why, err);
        return;
    }
    struct settings_mask changed = {0};
    if (apply_conf(ut.s, &c, UTCONF_RELOAD, &changed, NULL) == 0) {
        log_msg(LOG_INFO, "%s: %s reloaded (%zu setting(s) changed)", why, ut.conf_path, settings_mask_count(&changed));
        /* The hooks (main's SG_WEBUI_AUTH one among them) apply it live. */
        if (session_settings_changed(ut.s, &changed, on_reload_committed, NULL) != 0)
            log_msg(LOG_WARNING, "reloaded settings could not be saved");
        watch_request_dir();
    }
    utconf_free(&c);
}

/* One pass over the four request files: each is deleted, then acted on. */
static void scan_requests(void)
{
    if (ut.stopping || !ut.watched_dir)
        return;
    static const char *const names[] = {"c.utmr", "wipl.utmr", "rcf.utmr", "sp.utmr"};
    char path[PATH_MAX];
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !ut.stopping; i++) {
        if (snprintf(path, sizeof path, "%s/%s", ut.watched_dir, names[i]) >= (int)sizeof path)
            return;
        if (unlink(path) != 0)
            continue;   /* absent (or not ours to delete: then not acted on either) */
        log_msg(LOG_INFO, "dir_request: %s", names[i]);
        switch (i) {
        case 0: reset_credentials(); break;
        case 1:
            if (ut.ws)
                web_server_clear_bans(ut.ws);
            log_msg(LOG_INFO, "wipl.utmr: WebUI login bans lifted");
            break;
        case 2: reload_conf("rcf.utmr"); break;
        case 3:
            if (ut.shutdown)
                ut.shutdown();
            break;
        }
    }
}

static void on_fs_event(uv_fs_event_t *h, const char *name, int events, int status)
{
    (void)h;
    (void)name;
    (void)events;
    (void)status;
    scan_requests();
}

static void on_rescan(uv_timer_t *h)
{
    (void)h;
    scan_requests();
}

static void free_handle(uv_handle_t *h) { free(h); }

static void unwatch(void)
{
    if (ut.watch) {
        uv_fs_event_stop(ut.watch);
        uv_close((uv_handle_t *)ut.watch, free_handle);
        ut.watch = NULL;
    }
    free(ut.watched_dir);
    ut.watched_dir = NULL;
}

/* (Re)starts watching ut_dir_request when it changed. */
static void watch_request_dir(void)
{
    const char *dir = settings_str(&ut.s->settings, SET_UT_DIR_REQUEST);
    if (ut.watched_dir && strcmp(ut.watched_dir, dir) == 0)
        return;
    unwatch();
    if (!*dir || ut.stopping)
        return;
    if (!(ut.watched_dir = strdup(dir)))
        return;
    uv_fs_event_t *h = malloc(sizeof *h);
    int rc = h ? uv_fs_event_init(ut.loop, h) : UV_ENOMEM;
    if (rc != 0)
        free(h);
    else if ((rc = uv_fs_event_start(h, on_fs_event, dir, 0)) != 0)
        uv_close((uv_handle_t *)h, free_handle);
    else
        ut.watch = h;
    if (rc != 0)
        log_msg(LOG_WARNING, "dir_request %s: not watched (%s); checked every %d ms", dir, uv_strerror(rc),
                APP_UT_RESCAN_MS);
    scan_requests();   /* files that arrived while nobody watched */
}

int app_ut_started(uv_loop_t *loop, struct session *s, struct web_server *ws, void (*refresh_auth)(void),
                   void (*shutdown)(void))
{
    ut.loop = loop;
    ut.s = s;
    ut.ws = ws;
    ut.refresh_auth = refresh_auth;
    ut.shutdown = shutdown;
    clean_temp_files(settings_str(&s->settings, SET_UT_DIR_TEMP_FILES));
    uv_timer_init(loop, &ut.rescan);
    ut.rescan_init = true;
    uv_timer_start(&ut.rescan, on_rescan, APP_UT_RESCAN_MS, APP_UT_RESCAN_MS);
    uv_unref((uv_handle_t *)&ut.rescan);
    watch_request_dir();
    if (ut.ready_fd >= 0) {
        /* The parent exits 0 now; from here the terminal is not ours. */
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
            dup2(null, STDIN_FILENO);
            if (!ut.cli->logfile) {
                fflush(NULL);
                dup2(null, STDOUT_FILENO);
                dup2(null, STDERR_FILENO);
            }
            close(null);
        }
        ssize_t w;
        do
            w = write(ut.ready_fd, "R", 1);
        while (w < 0 && errno == EINTR);
        close(ut.ready_fd);
        ut.ready_fd = -1;
    }
    return 0;
}

void app_ut_reload(void)
{
    if (ut.cli && ut.cli->logfile && open_log(ut.cli->logfile) != 0)
        log_msg(LOG_WARNING, "cannot reopen log file %s", ut.cli->logfile);
    log_msg(LOG_INFO, "SIGHUP received: log file reopened, configuration reloaded");
    reload_conf("SIGHUP");
}

void app_ut_stop(void)
{
    ut.stopping = true;
    unwatch();
    if (ut.rescan_init && !uv_is_closing((uv_handle_t *)&ut.rescan))
        uv_close((uv_handle_t *)&ut.rescan, NULL);
    ut.ws = NULL;
}

void app_ut_exit(void)
{
    if (ut.pid_written && ut.cli->pidfile)
        unlink(ut.cli->pidfile);
    ut.pid_written = false;
    utconf_free(&ut.conf);
    if (ut.password) {
        explicit_bzero(ut.password, strlen(ut.password));
        free(ut.password);
        ut.password = NULL;
    }
}
