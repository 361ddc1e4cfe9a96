/* web/api/qbm_api — qbit_manage 4.8.1's web API over automation/ (seed 002;
 * ../shared/docs/api-surface.md §13.3, outside the repository).
 *
 *   POST /api/run-command       {"commands": [...], "config_file", "hashes",
 *                               "dry_run", "skip_cleanup",
 *                               "skip_qb_version_check", "log_level"}
 *   POST /api/system/force-reset
 *
 * Auth: WEB_AUTH_API_KEY (X-API-Key = the setting automation_api_key, or a
 * WebUI session).  Replies as qbit_manage's FastAPI app: 200 with the
 * per-config stats after the run, 200 {"status":"queued",...} at once when
 * a run is in progress, 400 {"detail":"Invalid command: <name>"} (and for
 * an empty list), 422 {"detail":[...]} for a malformed body, 500
 * {"detail":"<error>"} for a run that failed (a config that does not
 * parse: file, line and key).
 */
#ifndef TD_WEB_API_QBM_API_H
#define TD_WEB_API_QBM_API_H

#include "automation/automation.h"
#include "core/session.h"
#include "web/server.h"

/* Registers the routes and keeps the server's API key in step with the
 * setting.  0 or a negative errno. */
int qbm_api_register(struct web_server *ws, struct session *s, struct automation *a);

#endif
