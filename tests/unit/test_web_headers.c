/* What web/ sees of the layers below core: this file includes every web
 * header (and through them the core headers a dialect uses) and compiles
 * only if none of them brings in a bt/, disk/ or store/ header -- a dialect
 * reads core/view.h, never bt's structs.  tests/layering.sh checks the
 * #include lines of src/web; this checks what core's headers pull in.
 *
 * struct torrent's choker state and struct peer's extension handshake are
 * held by pointer for this reason: core/torrent.h and core/peer.h only
 * forward-declare struct bt_choker and struct bt_ext_handshake.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/view.h"
#include "web/api/qbt_v2.h"
#include "web/api/qbt_v2_int.h"
#include "web/api/qbt_v2_prefs.h"
#include "web/auth.h"
#include "web/guard.h"
#include "web/server.h"
#include "web/web_int.h"

#if defined(TD_BT_BENCODE_H) || defined(TD_BT_CHOKER_H) || defined(TD_BT_EXT_H) || defined(TD_BT_LAYERS_H) || \
    defined(TD_BT_LSD_H) || defined(TD_BT_MAGNET_H) || defined(TD_BT_MERKLE_H) || defined(TD_BT_METADATA_H) ||   \
    defined(TD_BT_METAINFO_H) || defined(TD_BT_PEX_H) || defined(TD_BT_PICKER_H) || defined(TD_BT_WIRE_H)
#error "a header web/ includes brings in a bt/ header"
#endif
#if defined(TD_BT_TRACKER_TRACKER_H) || defined(TD_BT_TRACKER_ANNOUNCE_H) || defined(TD_BT_DHT_DHT_H) || \
    defined(TD_BT_DHT_KRPC_H) || defined(TD_BT_DHT_NODE_H) || defined(TD_BT_DHT_ROUTING_H) ||             \
    defined(TD_BT_DHT_STORE_H) || defined(TD_BT_DHT_TOKEN_H)
#error "a header web/ includes brings in bt/tracker or bt/dht"
#endif
#if defined(TD_DISK_STORAGE_H) || defined(TD_STORE_STORE_H) || defined(TD_STORE_RECORD_H)
#error "a header web/ includes brings in disk/ or store/"
#endif

/* The views are usable with bt's structs incomplete. */
static void views_without_bt(void **state)
{
    (void)state;
    struct view_meta m = {0};
    struct view_file f = {0};
    struct view_tracker tr = {0};
    assert_false(m.has_metadata);
    assert_null(f.path);
    assert_null(tr.url);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(views_without_bt)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
