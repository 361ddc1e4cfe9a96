/* app_ut — running as a µTorrent Server drop-in (seed 004): its command
 * line, utserver.conf at start and on reload, and the dir_request
 * maintenance files.  main.c calls these at fixed points of its start-up;
 * everything µTorrent-specific about the process lives here.
 *
 * Command line: single-dash keywords, case-insensitive, next to torrentd's
 * own --options: -configfile FILE, -settingspath DIR (the profile), -logfile
 * [FILE] (default utserver.log: stdout and stderr go there, reopened on
 * SIGHUP), -pidfile FILE, -daemon (detached: a new session and process
 * group; the parent exits 0 once the child is serving, or with the child's
 * exit code if it fails first), -usage.  µTorrent mode is on when any of
 * them is given or argv[0] is named utserver; then the conf is -configfile
 * or ./utserver.conf (missing is fine unless -configfile named it) and the
 * profile is -settingspath or the working directory.
 *
 * The conf is read and every value checked before anything starts (and
 * before -daemon detaches): a bad value exits 2 with file:line and the key on
 * stderr.  Keys apply per their reload class (core/utconf.h); the first
 * start of a profile is one without torrentd.db.  admin_password sets the
 * WebUI password on the first start only, stored as its PBKDF2 hash; a blank
 * one is not accepted as a WebUI password (torrentd never serves the WebUI
 * without one): a random password is generated and printed, as at any
 * first start.
 *
 * dir_request (watched with inotify through uv_fs_event, and rescanned every
 * APP_UT_RESCAN_MS for file systems without it): each file is deleted, then
 * acted on.  c.utmr: the WebUI account becomes admin with a new random
 * password, printed on stdout (the log file with -logfile), never kept in
 * clear, and the login bans are lifted (µTorrent's "admin with a blank
 * password" would leave the WebUI open to the network).  wipl.utmr: the
 * WebUI login bans are lifted (torrentd's only per-address restriction of
 * the WebUI; the auth-bypass whitelist grants access, so it is left alone).
 * rcf.utmr: reload the conf, as SIGHUP does.  sp.utmr: orderly shutdown.
 */
#ifndef TD_APP_UT_H
#define TD_APP_UT_H

#include <stdbool.h>
#include <stdio.h>
#include <uv.h>

struct session;
struct web_server;

#define APP_UT_RESCAN_MS 2000

struct app_ut_cli {
    bool active;              /* µTorrent mode */
    bool usage;
    bool daemon;
    const char *configfile;   /* NULL: ./utserver.conf, optional */
    const char *settingspath;
    const char *logfile;      /* NULL: none */
    const char *pidfile;
};

/* Takes the µTorrent keywords out of argv (argc updated) so getopt_long
 * sees torrentd's own options only.  0, or -EINVAL with the reason in err
 * (a keyword missing its argument). */
int app_ut_scan_args(int *argc, char **argv, struct app_ut_cli *cli, char *err, size_t errlen);
void app_ut_usage(FILE *f);

/* Before session_new: loads and checks the conf, opens the log file,
 * detaches (-daemon), writes the pid file.  profile is where torrentd.db
 * lives (decides "first start").  Returns 0, or the exit code main returns
 * (2: bad conf or arguments; the message is on stderr).  *bind_ip gets the
 * conf's bind_ip on a first start (NULL otherwise): the listener address
 * must be known to session_new. */
int app_ut_prepare(const struct app_ut_cli *cli, const char *profile, const char **bind_ip);

/* After session_new, before session_start: applies the conf (stored, no
 * live hooks: nothing runs yet).  *password gets admin_password (first start
 * only, non-blank; owned by app_ut) or NULL.  0, or an exit code. */
int app_ut_apply_start(struct session *s, const char **password);

/* After the WebUI and the session started: cleans dir_temp_files' *.utt,
 * starts watching dir_request, tells a waiting -daemon parent we serve.
 * refresh_auth pushes the WebUI account and security settings to the web
 * server; shutdown begins the orderly shutdown.  0 or a negative errno. */
int app_ut_started(uv_loop_t *loop, struct session *s, struct web_server *ws, void (*refresh_auth)(void),
                   void (*shutdown)(void));

/* SIGHUP: reopen the log file, reload the conf (UT_ALWAYS keys). */
void app_ut_reload(void);
/* At shutdown: stop watching (closes the handles). */
void app_ut_stop(void);
/* At exit: removes the pid file, frees the conf. */
void app_ut_exit(void);

#endif
