/* runprog — runs a user's program for a torrent event, without a shell.
 *
 * Two vocabularies over one mechanism:
 *   qBittorrent  "run on torrent added" (autorun_on_torrent_added_enabled /
 *                _program) and "run on torrent finished" (autorun_enabled /
 *                autorun_program), placeholders %N %L %G %F %R %D %C %Z %T
 *                %I %J %K (5.1's Application::runExternalProgram);
 *   µTorrent     finish_cmd (ut_finish_cmd, on completion) and state_cmd
 *                (ut_state_cmd, on every state change), placeholders %F %D
 *                %N %S %P %L %T %M %I with seed 004's state numbers.
 *
 * The values (a torrent without metadata has no files: "" for paths):
 *   qBittorrent  %N name, %L category, %G tags joined by ",", %F content
 *                path (the file of a single-file torrent, else the root
 *                folder, else where the data is), %R root folder path or "",
 *                %D save path, %C number of files, %Z total size in bytes,
 *                %T current tracker (or the first, or ""), %I v1 info-hash
 *                or "-", %J v2 info-hash or "-", %K torrent id
 *   µTorrent     %F the file name of a single-file torrent ("" otherwise),
 *                %D the folder the data is in (a single file's own folder,
 *                else the content folder), %N name, %S state, %P previous
 *                state (0 unknown), %L label (category), %T tracker, %M
 *                status text ("Seeding", "[F] Downloading", "Error: ..."),
 *                %I info-hash in upper-case hex.  torrentd has no "paused"
 *                distinct from stopped: state 3 never occurs.
 *
 * The command line is split into argv first, as qBittorrent does on Linux
 * (Utils::String::splitCommand: words separated by spaces, double quotes
 * group and stay in the word, one pair of quotes around a whole word is
 * stripped), and only then are the placeholders of each word replaced.  A
 * value is never split again and never reaches a shell: a torrent named
 * `x"; rm -rf ~; $(id)` is one argument.  A user who wants a shell names one
 * (`sh -c "…"`), as in qBittorrent.
 *
 * Processes run through uv_spawn with UV_PROCESS_DETACHED (their own session
 * and process group), stdin from /dev/null, stdout and stderr read on the
 * loop and logged line by line (at most RUNPROG_LOG_BYTES per process), the
 * exit code or signal logged.  At most RUNPROG_MAX_RUNNING run at once; the
 * rest wait in a FIFO of at most RUNPROG_MAX_QUEUED (beyond it an event is
 * dropped with a warning).  libuv reaps every child (no zombies); at
 * shutdown the handles are closed and running children are left to finish
 * on their own (init reaps them).
 *
 * state_cmd: the state is µTorrent's number for the torrent's
 * enum torrent_state (runprog_ut_state).  While ut_state_cmd is set, a 1 s
 * timer walks the session's change list (session_changed_since: O(torrents
 * changed), the same list sync/maindata reads; every state change touches
 * the torrent) and compares each changed torrent's number with the one last
 * reported (torrent.runprog_state); finishing also compares at once.  The
 * first state seen for a torrent (when it is added, loaded, or when
 * state_cmd is switched on) is recorded without running anything; states
 * with no µTorrent number (moving, validating resume data) keep the last one.
 * A change that is undone within one tick is not seen.
 *
 * Loop thread only.
 */
#ifndef TD_CORE_RUNPROG_H
#define TD_CORE_RUNPROG_H

#include <stddef.h>

#include "core/torrent_status.h"

struct session;
struct torrent;
struct settings_mask;

#define RUNPROG_MAX_RUNNING 4
#define RUNPROG_MAX_QUEUED 256
#define RUNPROG_LOG_BYTES 4096

/* ---- the pure parts (tests/unit/test_runprog.c) ---- */

/* qBittorrent's word splitting (see above).  *argv is a NULL-terminated
 * malloc'd array of malloc'd words (runprog_argv_free); *argc may be 0.
 * 0 or -ENOMEM. */
int runprog_split(const char *cmdline, char ***argv, size_t *argc);
void runprog_argv_free(char **argv);

/* Replaces the placeholders of one word, right to left as qBittorrent does
 * ("%%N" is "%" followed by the name; an unknown "%x" stays).  value(ud, c)
 * gives the text for placeholder letter c, or NULL when c is none.  A
 * malloc'd string, NULL on ENOMEM. */
char *runprog_expand(const char *word, const char *(*value)(void *ud, char c), void *ud);

/* µTorrent's state number (seed 004: 1 error, 2 checked, 3 paused, 4 super
 * seeding, 5 seeding, 6 downloading, 7-9 forced, 10 queued seed, 11
 * finished, 12 queued, 13 stopped) for a state; 0 for the states µTorrent
 * has no number for (moving, validating resume data). */
int runprog_ut_state(enum torrent_state st, int super_seeding);

/* ---- the running part ---- */

/* Marks every descriptor above 2 close-on-exec, so a spawned child gets
 * stdin, stdout and stderr only (search/proc spawns through it too). */
void runprog_cloexec_all(void);

/* Created by session_start (settings hooks registered), closed at shutdown. */
int runprog_start(struct session *s);
void runprog_close(struct session *s);

/* Events (core/notify.c fans them out).  Each runs what the settings say,
 * possibly nothing. */
void runprog_torrent_added(struct session *s, struct torrent *t);
void runprog_torrent_finished(struct session *s, struct torrent *t);

/* For tests and logs: processes running and waiting. */
size_t runprog_running(const struct session *s);
size_t runprog_queued(const struct session *s);

#endif
