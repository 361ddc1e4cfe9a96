/* web/ui_files — the built-in WebUI compiled into the binary.
 *
 * CMake (cmake/embed_files.cmake) writes the table from src/ui/: one row per
 * file, named by its path under src/ui/ ("index.html", "js/api.js"), with a
 * strong ETag (a quoted SHA-1 prefix of the bytes) so a browser revalidates
 * and gets 304 instead of the body; web/static.c serves it.
 */
#ifndef TD_WEB_UI_FILES_H
#define TD_WEB_UI_FILES_H

#include <stddef.h>

struct web_ui_file {
    const char *name;
    const unsigned char *data;
    size_t len;
    const char *etag;
};
extern const struct web_ui_file web_ui_files[];
extern const size_t web_ui_files_count;

#endif
