/* torrentd — command line, start-up and orderly shutdown.
 *
 * Everything runs on one libuv loop: the session (engine), the HTTP server
 * and the API adapters.  Worker threads exist only inside disk/ and store/.
 */
#include <errno.h>
#include <getopt.h>
#include <openssl/rand.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <uv.h>

#include "app_ut.h"
#include "core/settings.h"
#include "core/session.h"
#include "ops/ops.h"
#include "automation/automation.h"
#include "rss/rss.h"
#include "store/record.h"
#include "util/log.h"
#include "web/api/ops_api.h"
#include "web/api/qbt_v1.h"
#include "web/api/ut_gui.h"
#include "web/api/ut_serve.h"
#include "web/api/qbt_v2.h"
#include "web/api/qbt_v2_rss_rules.h"
#include "web/api/qbt_v2_search.h"
#include "web/api/qbm_api.h"
#include "web/server.h"

static uv_loop_t loop;
static struct session *session;
static struct web_server *web;
static struct rss *rss;
static struct ops *ops;   /* qBitrr's rules, the ops API's figures (src/ops) */
static struct automation *automation;
static uv_signal_t sig_int, sig_term, sig_hup;
static uv_timer_t shutdown_timer;
static bool stopping;
static bool stopped;   /* the session finished its orderly shutdown */
static struct app_ut_cli ut_cli;   /* µTorrent Server mode (app_ut.h) */

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: torrentd [options]\n"
            "  --profile DIR          where state lives (default ~/.local/share/torrentd)\n"
            "  --webui-port N         WebUI port (default 8080)\n"
            "  --webui-address ADDR   WebUI address (default 127.0.0.1; * = all)\n"
            "  --webui-password PW    set the WebUI password for user admin\n"
            "                         (also TORRENTD_WEBUI_PASSWORD)\n"
            "  --listen-port N        BitTorrent port (default 6881)\n"
            "  --listen-address ADDR  BitTorrent address to bind (default: all)\n"
            "  --save-path DIR        default save path (default PROFILE/downloads)\n"
            "  --help                 this text\n"
            "  --version              print the version\n");
    app_ut_usage(f);
}

static int parse_port(const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < 0 || v > 65535)
        return -EINVAL;
    *out = (int)v;
    return 0;
}

static void on_closed_all(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void on_session_down(void *ud)
{
    (void)ud;
    stopped = true;
    log_msg(LOG_INFO, "torrentd stopped");
    /* Whatever handle is left (timers of finished modules) goes too. */
    uv_walk(&loop, on_closed_all, NULL);
}

static void begin_shutdown(void)
{
    if (stopping)
        return;
    stopping = true;
    log_msg(LOG_INFO, "shutting down");
    /* Still watched, for a second signal, but no reason to keep running. */
    uv_unref((uv_handle_t *)&sig_int);
    uv_unref((uv_handle_t *)&sig_term);
    uv_unref((uv_handle_t *)&sig_hup);
    app_ut_stop();
    qbt_v2_close();
    if (web) {
        web_server_stop(web);
        web = NULL;
    }
    /* After the web server (no request can reach it any more), before the
     * session (its fetches go first; what it queued in the store is
     * answered by the store's close). */
    rss_stop(rss);
    rss = NULL;
    ops_stop(ops);
    ops = NULL;
    automation_stop(automation);
    automation = NULL;
    session_shutdown(session, on_session_down, NULL);
}

static void on_shutdown_timer(uv_timer_t *h)
{
    (void)h;
    begin_shutdown();
}

/* app/shutdown: let the reply go out first. */
static void api_shutdown_hook(void)
{
    uv_timer_start(&shutdown_timer, on_shutdown_timer, 100, 0);
}

static void on_signal(uv_signal_t *h, int signum)
{
    (void)h;
    if (stopping) {
        /* The user will not wait: die as the signal says.  The store is a
         * SQLite WAL database written in transactions, so this corrupts
         * nothing; what the last save missed costs a recheck at most. */
        log_msg(LOG_WARNING, "second signal: exiting without finishing the shutdown");
        log_shutdown();
        signal(signum, SIG_DFL);
        raise(signum);
        return;
    }
    begin_shutdown();
}

/* SIGHUP is what logrotate and init systems send to say "reopen your log".
 * With the file log on (file_log_enabled, core/logfile.c) the file is
 * reopened by its name.  stderr belongs to whoever started the daemon (the
 * service manager or the shell redirects it) and is left alone.  Either way
 * the default action of SIGHUP would end the daemon without its final save,
 * so it is caught and acknowledged in the log. */
static void on_hup(uv_signal_t *h, int signum)
{
    (void)h;
    (void)signum;
    if (ut_cli.active) {
        app_ut_reload();   /* µTorrent Server: reopen -logfile, reload utserver.conf */
        return;
    }
    char path[4096];
    int rc = log_file_reopen();
    log_file_path(path, sizeof path);
    if (rc == 0)
        log_msg(LOG_INFO, "SIGHUP received: log file %s reopened", path);
    else if (rc == -ENOENT)
        log_msg(LOG_INFO, "SIGHUP received: nothing to reopen (the log goes to stderr)");
    else
        log_msg(LOG_WARNING, "SIGHUP received: the log file cannot be reopened: %s", strerror(-rc));
}

/* The built-in UI, or the user's alternative one (e.g. VueTorrent). */
static void apply_static_root(struct web_server *ws, const struct settings *p)
{
    const char *alt = settings_str(p, SET_ALTERNATIVE_WEBUI_PATH);
    if (settings_bool(p, SET_ALTERNATIVE_WEBUI_ENABLED) && *alt)
        web_server_set_static_root(ws, alt, true);
    else
        web_server_use_builtin_ui(ws);
}

static void on_webui_root_changed(void *ud, const struct settings_mask *changed)
{
    (void)changed;
    struct session *s = ud;
    if (web)
        apply_static_root(web, &s->settings);
}

/* qBittorrent moves its WebUI at once when these change. */
static void on_webui_bind_changed(void *ud, const struct settings_mask *changed)
{
    struct session *s = ud;
    const struct settings *p = &s->settings;
    if (!web)
        return;
    bool https = settings_bool(p, SET_USE_HTTPS);
    web_server_rebind(web, settings_mask_has(changed, SET_WEB_UI_ADDRESS) ? settings_str(p, SET_WEB_UI_ADDRESS) : NULL,
                      settings_mask_has(changed, SET_WEB_UI_PORT) ? (int)settings_int(p, SET_WEB_UI_PORT) : -1,
                      https ? settings_str(p, SET_WEB_UI_HTTPS_CERT_PATH) : "",
                      https ? settings_str(p, SET_WEB_UI_HTTPS_KEY_PATH) : "");
}

static void fill_auth(struct web_auth_config *a, const struct settings *p)
{
    web_auth_config_defaults(a);
    a->username = settings_str(p, SET_WEB_UI_USERNAME);
    a->password_hash = p->password_hash;
    a->max_auth_fail_count = (int)settings_int(p, SET_WEB_UI_MAX_AUTH_FAIL_COUNT);
    a->ban_duration_s = (int)settings_int(p, SET_WEB_UI_BAN_DURATION);
    a->session_timeout_s = (int)settings_int(p, SET_WEB_UI_SESSION_TIMEOUT);
    a->csrf_protection = settings_bool(p, SET_WEB_UI_CSRF_PROTECTION_ENABLED);
    a->clickjacking_protection = settings_bool(p, SET_WEB_UI_CLICKJACKING_PROTECTION_ENABLED);
    a->host_header_validation = settings_bool(p, SET_WEB_UI_HOST_HEADER_VALIDATION_ENABLED);
    a->domain_list = settings_str(p, SET_WEB_UI_DOMAIN_LIST);
    a->bypass_local_auth = settings_bool(p, SET_BYPASS_LOCAL_AUTH);
    a->bypass_auth_subnet_whitelist_enabled = settings_bool(p, SET_BYPASS_AUTH_SUBNET_WHITELIST_ENABLED);
    a->bypass_auth_subnet_whitelist = settings_str(p, SET_BYPASS_AUTH_SUBNET_WHITELIST);
    a->secure_cookie = settings_bool(p, SET_WEB_UI_SECURE_COOKIE_ENABLED);
    a->custom_headers = settings_str(p, SET_WEB_UI_CUSTOM_HTTP_HEADERS);
    a->use_custom_headers = settings_bool(p, SET_WEB_UI_USE_CUSTOM_HTTP_HEADERS_ENABLED);
    a->reverse_proxy_enabled = settings_bool(p, SET_WEB_UI_REVERSE_PROXY_ENABLED);
    a->trusted_proxies = settings_str(p, SET_WEB_UI_REVERSE_PROXIES_LIST);
}

/* The WebUI account and security settings, pushed to the web server. */
static void refresh_auth(void)
{
    struct web_auth_config a;
    if (!web || !session->settings.password_hash)
        return;   /* never lock everybody out */
    fill_auth(&a, &session->settings);
    web_server_set_auth(web, &a);
}

/* Whoever changed them (utserver.conf, /gui/ setsetting, a .utmr file). */
static void on_webui_auth_changed(void *ud, const struct settings_mask *changed)
{
    (void)ud;
    (void)changed;
    refresh_auth();
}

/* The password is never stored in clear: only qBittorrent's PBKDF2 form. */
static int setup_password(struct session *s, const char *given)
{
    char generated[16];
    const char *pw = given;
    if (!pw && s->settings.password_hash)
        return 0;
    if (!pw) {
        static const char alnum[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        uint8_t rnd[12];
        RAND_bytes(rnd, sizeof rnd);
        for (size_t i = 0; i < sizeof rnd; i++)
            generated[i] = alnum[rnd[i] % (sizeof alnum - 1)];
        generated[sizeof rnd] = 0;
        pw = generated;
        printf("The WebUI administrator username is: admin\n"
               "A password was generated at first start: %s\n"
               "It is shown only this once (only its hash is kept); change it with\n"
               "--webui-password or in the WebUI settings.\n",
               pw);
    }
    char hash[WEB_AUTH_HASH_MAX];
    if (web_auth_hash_password(pw, hash, sizeof hash) != 0)
        return -EIO;
    /* Live at once (the WebUI may start before the row is committed); the
     * row itself has one writer, core's session_set_password_hash. */
    free(s->settings.password_hash);
    s->settings.password_hash = strdup(hash);
    if (!s->settings.password_hash)
        return -ENOMEM;
    return session_set_password_hash(s, hash, NULL, NULL);
}

/* Peers, files and up to 500 WebUI connections all need descriptors; the
 * usual soft limit of 1024 is hit long before the hard one. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            log_msg(LOG_WARNING, "cannot raise the open-files limit: %s", strerror(errno));
    }
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"profile", required_argument, NULL, 'p'},
        {"webui-port", required_argument, NULL, 'w'},
        {"webui-address", required_argument, NULL, 'a'},
        {"webui-password", required_argument, NULL, 'P'},
        {"listen-port", required_argument, NULL, 'l'},
        {"listen-address", required_argument, NULL, 'L'},
        {"save-path", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'v'},
        {NULL, 0, NULL, 0},
    };
    char default_profile[4096];
    const char *home = getenv("HOME");
    snprintf(default_profile, sizeof default_profile, "%s/.local/share/torrentd", home ? home : ".");
    const char *profile = default_profile, *webui_addr = "127.0.0.1", *save_path = NULL;
    const char *listen_addr = NULL, *password = getenv("TORRENTD_WEBUI_PASSWORD");
    int webui_port = 8080, listen_port = -1, c;
    bool webui_port_given = false, webui_addr_given = false;

    char uterr[160];
    if (app_ut_scan_args(&argc, argv, &ut_cli, uterr, sizeof uterr) != 0) {
        fprintf(stderr, "torrentd: %s\n", uterr);
        return 2;
    }
    if (ut_cli.usage) {
        app_ut_usage(stdout);
        return 0;
    }
    char cwd[4096];
    if (ut_cli.active)   /* µTorrent keeps its settings in the working directory */
        profile = ut_cli.settingspath ? ut_cli.settingspath : getcwd(cwd, sizeof cwd) ? cwd : ".";
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'p': profile = optarg; break;
        case 'w':
            if (parse_port(optarg, &webui_port) != 0) {
                fprintf(stderr, "torrentd: invalid --webui-port '%s'\n", optarg);
                return 2;
            }
            webui_port_given = true;
            break;
        case 'a': webui_addr = optarg; webui_addr_given = true; break;
        case 'P': password = optarg; break;
        case 'l':
            if (parse_port(optarg, &listen_port) != 0) {
                fprintf(stderr, "torrentd: invalid --listen-port '%s'\n", optarg);
                return 2;
            }
            break;
        case 'L': listen_addr = optarg; break;
        case 's': save_path = optarg; break;
        case 'h': usage(stdout); return 0;
        case 'v': printf("torrentd %s\n", TD_VERSION); return 0;
        default:
            fprintf(stderr, "torrentd: unknown or incomplete option '%s'\n", argv[optind - 1]);
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "torrentd: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (password && !*password) {
        fprintf(stderr, "torrentd: the WebUI password must not be empty\n");
        return 2;
    }
    if (ut_cli.active) {
        const char *bind_ip = NULL;
        int x = app_ut_prepare(&ut_cli, profile, &bind_ip);
        if (x != 0)
            return x;
        if (!listen_addr)
            listen_addr = bind_ip;
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);   /* until on_hup takes over: see there */
    raise_nofile();
    setvbuf(stdout, NULL, _IOLBF, 0);
    uv_loop_init(&loop);

    struct session_config cfg = {
        .profile_dir = profile,
        .save_path = save_path,
        .listen_address = listen_addr,
        .listen_port = listen_port,
    };
    if (session_new(&loop, &cfg, &session) != 0) {
        fprintf(stderr, "torrentd: cannot start (see the log above)\n");
        return 1;
    }
    struct settings *st = &session->settings;
    if (ut_cli.active) {
        const char *conf_pw = NULL;
        int x = app_ut_apply_start(session, &conf_pw);
        if (x != 0)
            return x;
        if (!password)
            password = conf_pw;
        if (!webui_addr_given)   /* µTorrent Server listens where the settings say (all addresses) */
            webui_addr = settings_str(st, SET_WEB_UI_ADDRESS);
    }
    if (setup_password(session, password) != 0)
        return 1;
    if (!webui_port_given && settings_int(st, SET_WEB_UI_PORT) != 8080)
        webui_port = (int)settings_int(st, SET_WEB_UI_PORT);
    /* The command line wins for this run (not stored). */
    char err[160] = "";
    struct settings_change cl[] = {
        {.id = SET_WEB_UI_PORT, .type = SETT_INT, .v.i = webui_port},
        {.id = SET_WEB_UI_ADDRESS, .type = SETT_STR, .v.s = webui_addr},
    };
    if (settings_apply(st, cl, webui_addr_given ? 2 : 1, NULL, err, sizeof err) != 0) {
        fprintf(stderr, "torrentd: %s\n", err);
        return 2;
    }

    struct web_config wc;
    memset(&wc, 0, sizeof wc);
    wc.address = webui_addr;
    wc.port = webui_port;
    if (settings_bool(st, SET_USE_HTTPS)) {
        wc.https_cert_path = settings_str(st, SET_WEB_UI_HTTPS_CERT_PATH);
        wc.https_key_path = settings_str(st, SET_WEB_UI_HTTPS_KEY_PATH);
    }
    fill_auth(&wc.auth, st);
    if (web_server_start(&loop, &wc, &web) != 0) {
        fprintf(stderr, "torrentd: cannot start the WebUI on %s:%d\n", webui_addr, webui_port);
        return 1;
    }
    apply_static_root(web, st);
    if (settings_add_hook(st, SG_WEBUI_ROOT, on_webui_root_changed, session) != 0 ||
        settings_add_hook(st, SG_WEBUI_AUTH, on_webui_auth_changed, session) != 0 ||
        settings_add_hook(st, SG_WEBUI_BIND, on_webui_bind_changed, session) != 0)
        return 1;
    if (rss_start(session, &rss) != 0) {
        fprintf(stderr, "torrentd: cannot start RSS\n");
        return 1;
    }
    if (ops_start(session, &ops) != 0 || ops_api_register(web, session, ops, rss) != 0) {
        fprintf(stderr, "torrentd: cannot start the operations API\n");
        return 1;
    }
    if (automation_start(session, &automation) != 0) {
        fprintf(stderr, "torrentd: cannot start the automation\n");
        return 1;
    }
    qbt_v2_register(web, session);
    qbm_api_register(web, session, automation);
    qbt_v2_rss_register(web, rss);
    qbt_v2_rss_rules_register(web, rss);
    qbt_v2_search_register(web, session);
    qbt_v1_register(web, session);
    ut_gui_register(web, session, rss);
    ut_webui_register(web, session);
    qbt_v2_set_shutdown_hook(api_shutdown_hook);
    if (session_start(session) != 0) {
        fprintf(stderr, "torrentd: cannot listen for peers\n");
        return 1;
    }
    uv_timer_init(&loop, &shutdown_timer);
    uv_signal_init(&loop, &sig_int);
    uv_signal_init(&loop, &sig_term);
    uv_signal_init(&loop, &sig_hup);
    uv_signal_start(&sig_int, on_signal, SIGINT);
    uv_signal_start(&sig_term, on_signal, SIGTERM);
    uv_signal_start(&sig_hup, on_hup, SIGHUP);

    const char *shown = strcmp(webui_addr, "*") == 0 ? "0.0.0.0" : webui_addr;
    printf("WebUI: http://%s%s%s:%d/ (user %s)\n", strchr(shown, ':') ? "[" : "", shown,
           strchr(shown, ':') ? "]" : "", web_server_port(web), settings_str(st, SET_WEB_UI_USERNAME));
    printf("Profile: %s\n", profile);
    if (ut_cli.active && app_ut_started(&loop, session, web, refresh_auth, begin_shutdown) != 0)
        return 1;

    uv_run(&loop, UV_RUN_DEFAULT);
    if (!stopped) {
        /* The loop ran dry with something still waiting to close: the final
         * save did not happen, and exit code 0 would hide it. */
        log_msg(LOG_CRITICAL, "shutdown did not complete; the next start may recheck");
        log_shutdown();
        return 1;
    }
    session_free(session);
    record_thread_done();   /* the row codec's SQLite connection */
    uv_loop_close(&loop);
    if (ut_cli.active)
        app_ut_exit();
    log_shutdown();
    return 0;
}
