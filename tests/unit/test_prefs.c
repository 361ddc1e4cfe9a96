/* web/api/qbt_v2_prefs: qBittorrent's app/preferences keys over the typed
 * settings.  The defaults must come out byte for byte as the JSON object
 * the daemon answered before the typed settings (kept below as it was in
 * src/core/prefs_defaults.c); the old prefs tests follow in typed form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "web/api/qbt_v2_prefs.h"

static const char old_defaults_json[] =
    "{\"add_stopped_enabled\":false,\"add_to_top_of_queue\":false,\"add_trackers\":\"\",\"add_trackers_enabled\":fa"
    "lse,\"add_trackers_from_url_enabled\":false,\"add_trackers_url\":\"\",\"add_trackers_url_list\":\"\",\"alt_dl_l"
    "imit\":10240,\"alt_up_limit\":10240,\"alternative_webui_enabled\":false,\"alternative_webui_path\":\"\",\"anno"
    "unce_ip\":\"\",\"announce_port\":0,\"announce_to_all_tiers\":true,\"announce_to_all_trackers\":false,\"anonymo"
    "us_mode\":false,\"app_instance_name\":\"\",\"async_io_threads\":10,\"auto_delete_mode\":0,\"auto_tmm_enabled\":"
    "false,\"autorun_enabled\":false,\"autorun_on_torrent_added_enabled\":false,\"autorun_on_torrent_added_pro"
    "gram\":\"\",\"autorun_program\":\"\",\"banned_IPs\":\"\",\"bdecode_depth_limit\":100,\"bdecode_token_limit\":100000"
    "00,\"bittorrent_protocol\":0,\"block_peers_on_privileged_ports\":false,\"bypass_auth_subnet_whitelist\":\"\""
    ",\"bypass_auth_subnet_whitelist_enabled\":false,\"bypass_local_auth\":false,\"category_changed_tmm_enable"
    "d\":false,\"checking_memory_use\":32,\"confirm_torrent_deletion\":true,\"confirm_torrent_recheck\":true,\"co"
    "nnection_speed\":30,\"current_interface_address\":\"\",\"current_interface_name\":\"\",\"current_network_inter"
    "face\":\"\",\"delete_torrent_content_files\":false,\"dht\":true,\"dht_bootstrap_nodes\":\"dht.libtorrent.org:2"
    "5401, dht.transmissionbt.com:6881, router.bittorrent.com:6881\",\"disk_cache\":-1,\"disk_cache_ttl\":60,\""
    "disk_io_read_mode\":1,\"disk_io_type\":0,\"disk_io_write_mode\":1,\"disk_queue_size\":1048576,\"dl_limit\":0,"
    "\"dont_count_slow_torrents\":false,\"dyndns_domain\":\"changeme.dyndns.org\",\"dyndns_enabled\":false,\"dyndn"
    "s_password\":\"\",\"dyndns_service\":0,\"dyndns_username\":\"\",\"embedded_tracker_port\":9000,\"embedded_tracke"
    "r_port_forwarding\":false,\"enable_coalesce_read_write\":false,\"enable_embedded_tracker\":false,\"enable_"
    "multi_connections_from_same_ip\":false,\"enable_piece_extent_affinity\":false,\"enable_upload_suggestion"
    "s\":false,\"encryption\":0,\"excluded_file_names\":\"\",\"excluded_file_names_enabled\":false,\"export_dir\":\"\""
    ",\"export_dir_fin\":\"\",\"file_log_age\":1,\"file_log_age_type\":1,\"file_log_backup_enabled\":true,\"file_log"
    "_delete_old\":true,\"file_log_enabled\":true,\"file_log_max_size\":65,\"file_log_path\":\"\",\"file_pool_size\""
    ":5000,\"hashing_threads\":1,\"i2p_address\":\"127.0.0.1\",\"i2p_enabled\":false,\"i2p_inbound_length\":3,\"i2p_"
    "inbound_quantity\":3,\"i2p_mixed_mode\":false,\"i2p_outbound_length\":3,\"i2p_outbound_quantity\":3,\"i2p_po"
    "rt\":7656,\"idn_support_enabled\":false,\"ignore_ssl_errors\":false,\"incomplete_files_ext\":false,\"ip_filt"
    "er_enabled\":false,\"ip_filter_path\":\"\",\"ip_filter_trackers\":false,\"limit_lan_peers\":true,\"limit_tcp_o"
    "verhead\":false,\"limit_utp_rate\":true,\"listen_port\":6881,\"locale\":\"en\",\"lsd\":true,\"mail_notification_"
    "auth_enabled\":false,\"mail_notification_email\":\"\",\"mail_notification_enabled\":false,\"mail_notificatio"
    "n_password\":\"\",\"mail_notification_sender\":\"qBittorrent_notification@example.com\",\"mail_notification_"
    "smtp\":\"smtp.changeme.com\",\"mail_notification_ssl_enabled\":false,\"mail_notification_username\":\"\",\"mar"
    "k_of_the_web\":true,\"max_active_checking_torrents\":1,\"max_active_downloads\":3,\"max_active_torrents\":5"
    ",\"max_active_uploads\":3,\"max_concurrent_http_announces\":50,\"max_connec\":500,\"max_connec_per_torrent\""
    ":100,\"max_inactive_seeding_time\":-1,\"max_inactive_seeding_time_enabled\":false,\"max_ratio\":-1.0,\"max_ra"
    "tio_act\":0,\"max_ratio_enabled\":false,\"max_seeding_time\":-1,\"max_seeding_time_enabled\":false,\"max_upl"
    "oads\":20,\"max_uploads_per_torrent\":4,\"memory_working_set_limit\":512,\"merge_trackers\":false,\"outgoing"
    "_ports_max\":0,\"outgoing_ports_min\":0,\"peer_tos\":4,\"peer_turnover\":4,\"peer_turnover_cutoff\":90,\"peer_"
    "turnover_interval\":300,\"performance_warning\":false,\"pex\":true,\"preallocate_all\":false,\"proxy_auth_en"
    "abled\":false,\"proxy_bittorrent\":true,\"proxy_hostname_lookup\":true,\"proxy_ip\":\"0.0.0.0\",\"proxy_misc\":"
    "true,\"proxy_password\":\"\",\"proxy_peer_connections\":false,\"proxy_port\":8080,\"proxy_rss\":true,\"proxy_ty"
    "pe\":\"None\",\"proxy_username\":\"\",\"python_executable_path\":\"\",\"queueing_enabled\":false,\"random_port\":fa"
    "lse,\"reannounce_when_address_changed\":false,\"recheck_completed_torrents\":false,\"refresh_interval\":15"
    "00,\"request_queue_size\":500,\"resolve_peer_countries\":false,\"resume_data_storage_type\":\"SQLite\",\"rss_"
    "auto_downloading_enabled\":false,\"rss_download_repack_proper_episodes\":true,\"rss_fetch_delay\":2,\"rss_max_articles_per_fee"
    "d\":50,\"rss_processing_enabled\":false,\"rss_refresh_interval\":30,\"rss_smart_episode_filters\":\"s(\\\\d+)e"
    "(\\\\d+)\\n(\\\\d+)x(\\\\d+)\\n(\\\\d{4}[.\\\\-]\\\\d{1,2}[.\\\\-]\\\\d{1,2})\\n(\\\\d{1,2}[.\\\\-]\\\\d{1,2}[.\\\\-]\\\\d{4})\",\""
    "save_path\":\"\",\"save_path_changed_tmm_enabled\":false,\"save_resume_data_interval\":60,\"save_statistics_"
    "interval\":15,\"scan_dirs\":{},\"schedule_from_hour\":8,\"schedule_from_min\":0,\"schedule_to_hour\":20,\"sche"
    "dule_to_min\":0,\"scheduler_days\":0,\"scheduler_enabled\":false,\"send_buffer_low_watermark\":10,\"send_buf"
    "fer_watermark\":500,\"send_buffer_watermark_factor\":50,\"slow_torrent_dl_rate_threshold\":2,\"slow_torren"
    "t_inactive_timer\":60,\"slow_torrent_ul_rate_threshold\":2,\"socket_backlog_size\":30,\"socket_receive_buf"
    "fer_size\":0,\"socket_send_buffer_size\":0,\"ssl_enabled\":false,\"ssl_listen_port\":0,\"ssrf_mitigation\":tr"
    "ue,\"status_bar_external_ip\":false,\"stop_tracker_timeout\":5,\"temp_path\":\"\",\"temp_path_enabled\":false,"
    "\"torrent_changed_tmm_enabled\":true,\"torrent_content_layout\":\"Original\",\"torrent_content_remove_optio"
    "n\":\"Delete\",\"torrent_file_size_limit\":104857600,\"torrent_stop_condition\":\"None\",\"up_limit\":0,\"upload"
    "_choking_algorithm\":1,\"upload_slots_behavior\":0,\"upnp\":true,\"upnp_lease_duration\":0,\"use_category_pa"
    "ths_in_manual_mode\":false,\"use_https\":false,\"use_unwanted_folder\":false,\"utp_tcp_mixed_mode\":0,\"vali"
    "date_https_tracker_certificate\":true,\"web_ui_address\":\"*\",\"web_ui_ban_duration\":3600,\"web_ui_clickja"
    "cking_protection_enabled\":true,\"web_ui_csrf_protection_enabled\":true,\"web_ui_custom_http_headers\":\"\""
    ",\"web_ui_domain_list\":\"*\",\"web_ui_host_header_validation_enabled\":true,\"web_ui_https_cert_path\":\"\",\""
    "web_ui_https_key_path\":\"\",\"web_ui_max_auth_fail_count\":5,\"web_ui_port\":8080,\"web_ui_reverse_proxies_"
    "list\":\"\",\"web_ui_reverse_proxy_enabled\":false,\"web_ui_secure_cookie_enabled\":true,\"web_ui_session_ti"
    "meout\":3600,\"web_ui_upnp\":false,\"web_ui_use_custom_http_headers_enabled\":false,\"web_ui_username\":\"ad"
    "min\"}";

static void defaults_byte_for_byte(void **state)
{
    (void)state;
    struct settings s;
    assert_int_equal(settings_init(&s), 0);
    json_t *o = qbt_v2_prefs_to_json(&s);
    json_error_t e;
    json_t *old = json_loads(old_defaults_json, 0, &e);
    assert_non_null(old);
    char *a = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    char *b = json_dumps(old, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(a, b);
    /* And in table order without sorting: the table is the key order. */
    char *c = json_dumps(o, JSON_COMPACT);
    assert_string_equal(c, b);
    free(a);
    free(b);
    free(c);
    json_decref(o);
    json_decref(old);
    settings_free(&s);
}

static void table_sorted_and_typed(void **state)
{
    (void)state;
    for (size_t i = 0; i < qbt_v2_prefs_count; i++) {
        const struct qbt_v2_pref *m = &qbt_v2_prefs[i];
        if (i > 0)
            assert_true(strcmp(qbt_v2_prefs[i - 1].key, m->key) < 0);   /* sorted, unique */
        assert_ptr_equal(qbt_v2_pref_find(m->key), m);
        static const enum setting_type want[] = {
            [QBT_BOOL] = SETT_BOOL, [QBT_INT] = SETT_INT, [QBT_REAL] = SETT_REAL,
            [QBT_STR] = SETT_STR, [QBT_OBJECT] = SETT_JSON,
        };
        assert_int_equal(settings_defs[m->id].type, want[m->type]);
    }
    assert_null(qbt_v2_pref_find("no_such_key"));
    assert_null(qbt_v2_pref_find("web_ui_password"));   /* write-only, handled by app.c */
}

static void defaults_have_qbt_types(void **state)
{
    (void)state;
    struct settings s;
    assert_int_equal(settings_init(&s), 0);
    json_t *o = qbt_v2_prefs_to_json(&s);
    assert_true(json_object_size(o) >= 200);
    assert_true(json_is_boolean(json_object_get(o, "dht")));
    assert_true(json_is_integer(json_object_get(o, "max_active_torrents")));
    assert_int_equal(settings_int(&s, SET_MAX_ACTIVE_TORRENTS), 5);
    assert_true(json_is_string(json_object_get(o, "proxy_type")));
    assert_true(json_is_object(json_object_get(o, "scan_dirs")));
    assert_true(json_is_real(json_object_get(o, "max_ratio")));
    assert_false(settings_bool(&s, SET_QUEUEING_ENABLED));
    assert_non_null(json_object_get(o, "add_stopped_enabled"));
    assert_null(json_object_get(o, "start_paused_enabled"));
    assert_null(json_object_get(o, "web_ui_password"));
    json_decref(o);
    settings_free(&s);
}

static void apply_checks_types_and_ignores_unknown(void **state)
{
    (void)state;
    struct settings s;
    char err[128];
    struct settings_mask changed = {0};
    assert_int_equal(settings_init(&s), 0);

    json_t *bad = json_pack("{s:i, s:s}", "max_active_torrents", 9, "dht", "yes");
    assert_int_equal(qbt_v2_prefs_apply(&s, bad, &changed, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "dht"));
    /* Nothing applied from a refused call. */
    assert_int_equal(settings_int(&s, SET_MAX_ACTIVE_TORRENTS), 5);
    assert_true(settings_mask_empty(&changed));
    json_decref(bad);

    json_t *ok = json_pack("{s:b, s:i, s:i, s:s}", "dht", 0, "max_active_torrents", 9,
                           "max_ratio", 2, "no_such_key", "x");
    assert_int_equal(qbt_v2_prefs_apply(&s, ok, &changed, err, sizeof err), 0);
    assert_false(settings_bool(&s, SET_DHT));
    assert_int_equal(settings_int(&s, SET_MAX_ACTIVE_TORRENTS), 9);
    /* An integer for a real-valued key stays a real. */
    assert_true(settings_real(&s, SET_MAX_RATIO) == 2.0);
    json_t *o = qbt_v2_prefs_to_json(&s);
    assert_true(json_is_real(json_object_get(o, "max_ratio")));
    assert_null(json_object_get(o, "no_such_key"));
    json_decref(o);
    assert_int_equal(settings_mask_count(&changed), 3);
    json_decref(ok);

    /* Re-applying the same values changes nothing. */
    memset(&changed, 0, sizeof changed);
    ok = json_pack("{s:i}", "max_active_torrents", 9);
    assert_int_equal(qbt_v2_prefs_apply(&s, ok, &changed, err, sizeof err), 0);
    assert_true(settings_mask_empty(&changed));
    json_decref(ok);

    json_t *notobj = json_array();
    assert_int_equal(qbt_v2_prefs_apply(&s, notobj, NULL, err, sizeof err), -EINVAL);
    json_decref(notobj);
    settings_free(&s);
}

/* qBittorrent clamps (or stores) numbers out of range; it never refuses. */
static void out_of_range_is_clamped(void **state)
{
    (void)state;
    struct settings s;
    char err[128] = "";
    assert_int_equal(settings_init(&s), 0);
    json_t *c = json_pack("{s:i, s:f, s:i, s:i, s:i}", "listen_port", 70000, "max_ratio", -5.0,
                          "dl_limit", -3, "max_active_downloads", -9, "max_seeding_time", -7);
    struct settings_mask changed = {0};
    assert_int_equal(qbt_v2_prefs_apply(&s, c, &changed, err, sizeof err), 0);
    assert_int_equal(settings_int(&s, SET_LISTEN_PORT), 65535);
    assert_true(settings_real(&s, SET_MAX_RATIO) == -1.0);
    assert_int_equal(settings_int(&s, SET_DL_LIMIT), 0);
    assert_int_equal(settings_int(&s, SET_MAX_ACTIVE_DOWNLOADS), -1);
    assert_int_equal(settings_int(&s, SET_MAX_SEEDING_TIME), -1);
    /* max_ratio was -1 already, dl_limit 0 already */
    assert_true(settings_mask_has(&changed, SET_LISTEN_PORT));
    assert_false(settings_mask_has(&changed, SET_MAX_RATIO));
    assert_false(settings_mask_has(&changed, SET_DL_LIMIT));
    json_decref(c);
    settings_free(&s);
}

static void object_key_round_trip(void **state)
{
    (void)state;
    struct settings s;
    char err[128] = "";
    assert_int_equal(settings_init(&s), 0);
    json_t *c = json_pack("{s:{s:i, s:s}}", "scan_dirs", "/w", 0, "/a", "/out");
    struct settings_mask changed = {0};
    assert_int_equal(qbt_v2_prefs_apply(&s, c, &changed, err, sizeof err), 0);
    assert_true(settings_mask_has(&changed, SET_SCAN_DIRS));
    json_t *o = qbt_v2_prefs_to_json(&s);
    assert_true(json_equal(json_object_get(o, "scan_dirs"), json_object_get(c, "scan_dirs")));
    json_decref(o);
    /* An array is not an object: refused, naming the key. */
    json_t *bad = json_pack("{s:[]}", "scan_dirs");
    assert_int_equal(qbt_v2_prefs_apply(&s, bad, NULL, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "scan_dirs"));
    json_decref(bad);
    json_decref(c);
    settings_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_byte_for_byte),
        cmocka_unit_test(table_sorted_and_typed),
        cmocka_unit_test(defaults_have_qbt_types),
        cmocka_unit_test(apply_checks_types_and_ignores_unknown),
        cmocka_unit_test(out_of_range_is_clamped),
        cmocka_unit_test(object_key_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
