/* web/api/qbt_v2_prefs — qBittorrent's app/preferences keys over the typed
 * settings (core/settings.h). */
#include "web/api/qbt_v2_prefs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sorted by key (strcmp): app/preferences is written in this order and
 * setPreferences looks keys up by binary search (a unit test checks both). */
const struct qbt_v2_pref qbt_v2_prefs[] = {
    {"add_stopped_enabled", SET_ADD_STOPPED_ENABLED, QBT_BOOL, 0},
    {"add_to_top_of_queue", SET_ADD_TO_TOP_OF_QUEUE, QBT_BOOL, 0},
    {"add_trackers", SET_ADD_TRACKERS, QBT_STR, 0},
    {"add_trackers_enabled", SET_ADD_TRACKERS_ENABLED, QBT_BOOL, 0},
    {"add_trackers_from_url_enabled", SET_ADD_TRACKERS_FROM_URL_ENABLED, QBT_BOOL, 0},
    {"add_trackers_url", SET_ADD_TRACKERS_URL, QBT_STR, 0},
    {"add_trackers_url_list", SET_ADD_TRACKERS_URL_LIST, QBT_STR, 0},
    {"alt_dl_limit", SET_ALT_DL_LIMIT, QBT_INT, 0},
    {"alt_up_limit", SET_ALT_UP_LIMIT, QBT_INT, 0},
    {"alternative_webui_enabled", SET_ALTERNATIVE_WEBUI_ENABLED, QBT_BOOL, 0},
    {"alternative_webui_path", SET_ALTERNATIVE_WEBUI_PATH, QBT_STR, 0},
    {"announce_ip", SET_ANNOUNCE_IP, QBT_STR, 0},
    {"announce_port", SET_ANNOUNCE_PORT, QBT_INT, 0},
    {"announce_to_all_tiers", SET_ANNOUNCE_TO_ALL_TIERS, QBT_BOOL, 0},
    {"announce_to_all_trackers", SET_ANNOUNCE_TO_ALL_TRACKERS, QBT_BOOL, 0},
    {"anonymous_mode", SET_ANONYMOUS_MODE, QBT_BOOL, 0},
    {"app_instance_name", SET_APP_INSTANCE_NAME, QBT_STR, 0},
    {"async_io_threads", SET_ASYNC_IO_THREADS, QBT_INT, 0},
    {"auto_delete_mode", SET_AUTO_DELETE_MODE, QBT_INT, 0},
    {"auto_tmm_enabled", SET_AUTO_TMM_ENABLED, QBT_BOOL, 0},
    /* torrentd's own (issue 12, automation): accepted, not written out */
    {"automation_api_key", SET_AUTOMATION_API_KEY, QBT_STR, QBT_WRITE_ONLY},
    {"automation_config_file", SET_AUTOMATION_CONFIG_FILE, QBT_STR, QBT_WRITE_ONLY},
    {"autorun_enabled", SET_AUTORUN_ENABLED, QBT_BOOL, 0},
    {"autorun_on_torrent_added_enabled", SET_AUTORUN_ON_TORRENT_ADDED_ENABLED, QBT_BOOL, 0},
    {"autorun_on_torrent_added_program", SET_AUTORUN_ON_TORRENT_ADDED_PROGRAM, QBT_STR, 0},
    {"autorun_program", SET_AUTORUN_PROGRAM, QBT_STR, 0},
    {"banned_IPs", SET_BANNED_IPS, QBT_STR, 0},
    {"bdecode_depth_limit", SET_BDECODE_DEPTH_LIMIT, QBT_INT, 0},
    {"bdecode_token_limit", SET_BDECODE_TOKEN_LIMIT, QBT_INT, 0},
    {"bittorrent_protocol", SET_BITTORRENT_PROTOCOL, QBT_INT, 0},
    {"block_peers_on_privileged_ports", SET_BLOCK_PEERS_ON_PRIVILEGED_PORTS, QBT_BOOL, 0},
    {"bypass_auth_subnet_whitelist", SET_BYPASS_AUTH_SUBNET_WHITELIST, QBT_STR, 0},
    {"bypass_auth_subnet_whitelist_enabled", SET_BYPASS_AUTH_SUBNET_WHITELIST_ENABLED, QBT_BOOL, 0},
    {"bypass_local_auth", SET_BYPASS_LOCAL_AUTH, QBT_BOOL, 0},
    {"category_changed_tmm_enabled", SET_CATEGORY_CHANGED_TMM_ENABLED, QBT_BOOL, 0},
    {"checking_memory_use", SET_CHECKING_MEMORY_USE, QBT_INT, 0},
    {"confirm_torrent_deletion", SET_CONFIRM_TORRENT_DELETION, QBT_BOOL, 0},
    {"confirm_torrent_recheck", SET_CONFIRM_TORRENT_RECHECK, QBT_BOOL, 0},
    {"connection_speed", SET_CONNECTION_SPEED, QBT_INT, 0},
    {"current_interface_address", SET_CURRENT_INTERFACE_ADDRESS, QBT_STR, 0},
    {"current_interface_name", SET_CURRENT_INTERFACE_NAME, QBT_STR, 0},
    {"current_network_interface", SET_CURRENT_NETWORK_INTERFACE, QBT_STR, 0},
    {"delete_torrent_content_files", SET_DELETE_TORRENT_CONTENT_FILES, QBT_BOOL, 0},
    {"dht", SET_DHT, QBT_BOOL, 0},
    {"dht_bootstrap_nodes", SET_DHT_BOOTSTRAP_NODES, QBT_STR, 0},
    {"disk_cache", SET_DISK_CACHE, QBT_INT, 0},
    {"disk_cache_ttl", SET_DISK_CACHE_TTL, QBT_INT, 0},
    {"disk_io_read_mode", SET_DISK_IO_READ_MODE, QBT_INT, 0},
    {"disk_io_type", SET_DISK_IO_TYPE, QBT_INT, 0},
    {"disk_io_write_mode", SET_DISK_IO_WRITE_MODE, QBT_INT, 0},
    {"disk_queue_size", SET_DISK_QUEUE_SIZE, QBT_INT, 0},
    {"dl_limit", SET_DL_LIMIT, QBT_INT, 0},
    {"dont_count_slow_torrents", SET_DONT_COUNT_SLOW_TORRENTS, QBT_BOOL, 0},
    {"dyndns_domain", SET_DYNDNS_DOMAIN, QBT_STR, 0},
    {"dyndns_enabled", SET_DYNDNS_ENABLED, QBT_BOOL, 0},
    {"dyndns_password", SET_DYNDNS_PASSWORD, QBT_STR, 0},
    {"dyndns_service", SET_DYNDNS_SERVICE, QBT_INT, 0},
    {"dyndns_username", SET_DYNDNS_USERNAME, QBT_STR, 0},
    {"embedded_tracker_port", SET_EMBEDDED_TRACKER_PORT, QBT_INT, 0},
    {"embedded_tracker_port_forwarding", SET_EMBEDDED_TRACKER_PORT_FORWARDING, QBT_BOOL, 0},
    {"enable_coalesce_read_write", SET_ENABLE_COALESCE_READ_WRITE, QBT_BOOL, 0},
    {"enable_embedded_tracker", SET_ENABLE_EMBEDDED_TRACKER, QBT_BOOL, 0},
    {"enable_multi_connections_from_same_ip", SET_ENABLE_MULTI_CONNECTIONS_FROM_SAME_IP, QBT_BOOL, 0},
    {"enable_piece_extent_affinity", SET_ENABLE_PIECE_EXTENT_AFFINITY, QBT_BOOL, 0},
    {"enable_upload_suggestions", SET_ENABLE_UPLOAD_SUGGESTIONS, QBT_BOOL, 0},
    {"encryption", SET_ENCRYPTION, QBT_INT, 0},
    {"excluded_file_names", SET_EXCLUDED_FILE_NAMES, QBT_STR, 0},
    {"excluded_file_names_enabled", SET_EXCLUDED_FILE_NAMES_ENABLED, QBT_BOOL, 0},
    {"export_dir", SET_EXPORT_DIR, QBT_STR, 0},
    {"export_dir_fin", SET_EXPORT_DIR_FIN, QBT_STR, 0},
    {"file_log_age", SET_FILE_LOG_AGE, QBT_INT, 0},
    {"file_log_age_type", SET_FILE_LOG_AGE_TYPE, QBT_INT, 0},
    {"file_log_backup_enabled", SET_FILE_LOG_BACKUP_ENABLED, QBT_BOOL, 0},
    {"file_log_delete_old", SET_FILE_LOG_DELETE_OLD, QBT_BOOL, 0},
    {"file_log_enabled", SET_FILE_LOG_ENABLED, QBT_BOOL, 0},
    {"file_log_max_size", SET_FILE_LOG_MAX_SIZE, QBT_INT, 0},
    {"file_log_path", SET_FILE_LOG_PATH, QBT_STR, 0},
    {"file_pool_size", SET_FILE_POOL_SIZE, QBT_INT, 0},
    {"hashing_threads", SET_HASHING_THREADS, QBT_INT, 0},
    {"i2p_address", SET_I2P_ADDRESS, QBT_STR, 0},
    {"i2p_enabled", SET_I2P_ENABLED, QBT_BOOL, 0},
    {"i2p_inbound_length", SET_I2P_INBOUND_LENGTH, QBT_INT, 0},
    {"i2p_inbound_quantity", SET_I2P_INBOUND_QUANTITY, QBT_INT, 0},
    {"i2p_mixed_mode", SET_I2P_MIXED_MODE, QBT_BOOL, 0},
    {"i2p_outbound_length", SET_I2P_OUTBOUND_LENGTH, QBT_INT, 0},
    {"i2p_outbound_quantity", SET_I2P_OUTBOUND_QUANTITY, QBT_INT, 0},
    {"i2p_port", SET_I2P_PORT, QBT_INT, 0},
    {"idn_support_enabled", SET_IDN_SUPPORT_ENABLED, QBT_BOOL, 0},
    {"ignore_ssl_errors", SET_IGNORE_SSL_ERRORS, QBT_BOOL, 0},
    {"incomplete_files_ext", SET_INCOMPLETE_FILES_EXT, QBT_BOOL, 0},
    {"ip_filter_enabled", SET_IP_FILTER_ENABLED, QBT_BOOL, 0},
    {"ip_filter_path", SET_IP_FILTER_PATH, QBT_STR, 0},
    {"ip_filter_trackers", SET_IP_FILTER_TRACKERS, QBT_BOOL, 0},
    {"limit_lan_peers", SET_LIMIT_LAN_PEERS, QBT_BOOL, 0},
    {"limit_tcp_overhead", SET_LIMIT_TCP_OVERHEAD, QBT_BOOL, 0},
    {"limit_utp_rate", SET_LIMIT_UTP_RATE, QBT_BOOL, 0},
    {"listen_port", SET_LISTEN_PORT, QBT_INT, 0},
    {"locale", SET_LOCALE, QBT_STR, 0},
    {"lsd", SET_LSD, QBT_BOOL, 0},
    {"mail_notification_auth_enabled", SET_MAIL_NOTIFICATION_AUTH_ENABLED, QBT_BOOL, 0},
    {"mail_notification_email", SET_MAIL_NOTIFICATION_EMAIL, QBT_STR, 0},
    {"mail_notification_enabled", SET_MAIL_NOTIFICATION_ENABLED, QBT_BOOL, 0},
    {"mail_notification_password", SET_MAIL_NOTIFICATION_PASSWORD, QBT_STR, 0},
    {"mail_notification_sender", SET_MAIL_NOTIFICATION_SENDER, QBT_STR, 0},
    {"mail_notification_smtp", SET_MAIL_NOTIFICATION_SMTP, QBT_STR, 0},
    {"mail_notification_ssl_enabled", SET_MAIL_NOTIFICATION_SSL_ENABLED, QBT_BOOL, 0},
    {"mail_notification_username", SET_MAIL_NOTIFICATION_USERNAME, QBT_STR, 0},
    {"mark_of_the_web", SET_MARK_OF_THE_WEB, QBT_BOOL, 0},
    {"max_active_checking_torrents", SET_MAX_ACTIVE_CHECKING_TORRENTS, QBT_INT, 0},
    {"max_active_downloads", SET_MAX_ACTIVE_DOWNLOADS, QBT_INT, 0},
    {"max_active_torrents", SET_MAX_ACTIVE_TORRENTS, QBT_INT, 0},
    {"max_active_uploads", SET_MAX_ACTIVE_UPLOADS, QBT_INT, 0},
    {"max_concurrent_http_announces", SET_MAX_CONCURRENT_HTTP_ANNOUNCES, QBT_INT, 0},
    {"max_connec", SET_MAX_CONNEC, QBT_INT, 0},
    {"max_connec_per_torrent", SET_MAX_CONNEC_PER_TORRENT, QBT_INT, 0},
    {"max_inactive_seeding_time", SET_MAX_INACTIVE_SEEDING_TIME, QBT_INT, 0},
    {"max_inactive_seeding_time_enabled", SET_MAX_INACTIVE_SEEDING_TIME_ENABLED, QBT_BOOL, 0},
    {"max_ratio", SET_MAX_RATIO, QBT_REAL, 0},
    {"max_ratio_act", SET_MAX_RATIO_ACT, QBT_INT, 0},
    {"max_ratio_enabled", SET_MAX_RATIO_ENABLED, QBT_BOOL, 0},
    {"max_seeding_time", SET_MAX_SEEDING_TIME, QBT_INT, 0},
    {"max_seeding_time_enabled", SET_MAX_SEEDING_TIME_ENABLED, QBT_BOOL, 0},
    {"max_uploads", SET_MAX_UPLOADS, QBT_INT, 0},
    {"max_uploads_per_torrent", SET_MAX_UPLOADS_PER_TORRENT, QBT_INT, 0},
    {"memory_working_set_limit", SET_MEMORY_WORKING_SET_LIMIT, QBT_INT, 0},
    {"merge_trackers", SET_MERGE_TRACKERS, QBT_BOOL, 0},
    {"outgoing_ports_max", SET_OUTGOING_PORTS_MAX, QBT_INT, 0},
    {"outgoing_ports_min", SET_OUTGOING_PORTS_MIN, QBT_INT, 0},
    {"peer_tos", SET_PEER_TOS, QBT_INT, 0},
    {"peer_turnover", SET_PEER_TURNOVER, QBT_INT, 0},
    {"peer_turnover_cutoff", SET_PEER_TURNOVER_CUTOFF, QBT_INT, 0},
    {"peer_turnover_interval", SET_PEER_TURNOVER_INTERVAL, QBT_INT, 0},
    {"performance_warning", SET_PERFORMANCE_WARNING, QBT_BOOL, 0},
    {"pex", SET_PEX, QBT_BOOL, 0},
    {"preallocate_all", SET_PREALLOCATE_ALL, QBT_BOOL, 0},
    {"proxy_auth_enabled", SET_PROXY_AUTH_ENABLED, QBT_BOOL, 0},
    {"proxy_bittorrent", SET_PROXY_BITTORRENT, QBT_BOOL, 0},
    {"proxy_hostname_lookup", SET_PROXY_HOSTNAME_LOOKUP, QBT_BOOL, 0},
    {"proxy_ip", SET_PROXY_IP, QBT_STR, 0},
    {"proxy_misc", SET_PROXY_MISC, QBT_BOOL, 0},
    {"proxy_password", SET_PROXY_PASSWORD, QBT_STR, 0},
    {"proxy_peer_connections", SET_PROXY_PEER_CONNECTIONS, QBT_BOOL, 0},
    {"proxy_port", SET_PROXY_PORT, QBT_INT, 0},
    {"proxy_rss", SET_PROXY_RSS, QBT_BOOL, 0},
    {"proxy_type", SET_PROXY_TYPE, QBT_STR, 0},
    {"proxy_username", SET_PROXY_USERNAME, QBT_STR, 0},
    {"python_executable_path", SET_PYTHON_EXECUTABLE_PATH, QBT_STR, 0},
    {"queueing_enabled", SET_QUEUEING_ENABLED, QBT_BOOL, 0},
    {"random_port", SET_RANDOM_PORT, QBT_BOOL, 0},
    {"reannounce_when_address_changed", SET_REANNOUNCE_WHEN_ADDRESS_CHANGED, QBT_BOOL, 0},
    {"recheck_completed_torrents", SET_RECHECK_COMPLETED_TORRENTS, QBT_BOOL, 0},
    {"refresh_interval", SET_REFRESH_INTERVAL, QBT_INT, 0},
    {"request_queue_size", SET_REQUEST_QUEUE_SIZE, QBT_INT, 0},
    {"resolve_peer_countries", SET_RESOLVE_PEER_COUNTRIES, QBT_BOOL, 0},
    {"resume_data_storage_type", SET_RESUME_DATA_STORAGE_TYPE, QBT_STR, 0},
    {"rss_auto_downloading_enabled", SET_RSS_AUTO_DOWNLOADING_ENABLED, QBT_BOOL, 0},
    {"rss_download_repack_proper_episodes", SET_RSS_DOWNLOAD_REPACK_PROPER_EPISODES, QBT_BOOL, 0},
    {"rss_fetch_delay", SET_RSS_FETCH_DELAY, QBT_INT, 0},
    {"rss_max_articles_per_feed", SET_RSS_MAX_ARTICLES_PER_FEED, QBT_INT, 0},
    {"rss_processing_enabled", SET_RSS_PROCESSING_ENABLED, QBT_BOOL, 0},
    {"rss_refresh_interval", SET_RSS_REFRESH_INTERVAL, QBT_INT, 0},
    {"rss_smart_episode_filters", SET_RSS_SMART_EPISODE_FILTERS, QBT_STR, 0},
    {"save_path", SET_SAVE_PATH, QBT_STR, 0},
    {"save_path_changed_tmm_enabled", SET_SAVE_PATH_CHANGED_TMM_ENABLED, QBT_BOOL, 0},
    {"save_resume_data_interval", SET_SAVE_RESUME_DATA_INTERVAL, QBT_INT, 0},
    {"save_statistics_interval", SET_SAVE_STATISTICS_INTERVAL, QBT_INT, 0},
    {"scan_dirs", SET_SCAN_DIRS, QBT_OBJECT, 0},
    {"schedule_from_hour", SET_SCHEDULE_FROM_HOUR, QBT_INT, 0},
    {"schedule_from_min", SET_SCHEDULE_FROM_MIN, QBT_INT, 0},
    {"schedule_to_hour", SET_SCHEDULE_TO_HOUR, QBT_INT, 0},
    {"schedule_to_min", SET_SCHEDULE_TO_MIN, QBT_INT, 0},
    {"scheduler_days", SET_SCHEDULER_DAYS, QBT_INT, 0},
    {"scheduler_enabled", SET_SCHEDULER_ENABLED, QBT_BOOL, 0},
    {"send_buffer_low_watermark", SET_SEND_BUFFER_LOW_WATERMARK, QBT_INT, 0},
    {"send_buffer_watermark", SET_SEND_BUFFER_WATERMARK, QBT_INT, 0},
    {"send_buffer_watermark_factor", SET_SEND_BUFFER_WATERMARK_FACTOR, QBT_INT, 0},
    {"slow_torrent_dl_rate_threshold", SET_SLOW_TORRENT_DL_RATE_THRESHOLD, QBT_INT, 0},
    {"slow_torrent_inactive_timer", SET_SLOW_TORRENT_INACTIVE_TIMER, QBT_INT, 0},
    {"slow_torrent_ul_rate_threshold", SET_SLOW_TORRENT_UL_RATE_THRESHOLD, QBT_INT, 0},
    {"socket_backlog_size", SET_SOCKET_BACKLOG_SIZE, QBT_INT, 0},
    {"socket_receive_buffer_size", SET_SOCKET_RECEIVE_BUFFER_SIZE, QBT_INT, 0},
    {"socket_send_buffer_size", SET_SOCKET_SEND_BUFFER_SIZE, QBT_INT, 0},
    {"ssl_enabled", SET_SSL_ENABLED, QBT_BOOL, 0},
    {"ssl_listen_port", SET_SSL_LISTEN_PORT, QBT_INT, 0},
    {"ssrf_mitigation", SET_SSRF_MITIGATION, QBT_BOOL, 0},
    {"status_bar_external_ip", SET_STATUS_BAR_EXTERNAL_IP, QBT_BOOL, 0},
    {"stop_tracker_timeout", SET_STOP_TRACKER_TIMEOUT, QBT_INT, 0},
    {"temp_path", SET_TEMP_PATH, QBT_STR, 0},
    {"temp_path_enabled", SET_TEMP_PATH_ENABLED, QBT_BOOL, 0},
    {"torrent_changed_tmm_enabled", SET_TORRENT_CHANGED_TMM_ENABLED, QBT_BOOL, 0},
    {"torrent_content_layout", SET_TORRENT_CONTENT_LAYOUT, QBT_STR, 0},
    {"torrent_content_remove_option", SET_TORRENT_CONTENT_REMOVE_OPTION, QBT_STR, 0},
    {"torrent_file_size_limit", SET_TORRENT_FILE_SIZE_LIMIT, QBT_INT, 0},
    {"torrent_stop_condition", SET_TORRENT_STOP_CONDITION, QBT_STR, 0},
    /* torrentd's own (issue 10; qBittorrent has no tracker timeouts):
     * accepted, not written out, so app/preferences stays qBittorrent's */
    {"tracker_completion_timeout", SET_TRACKER_COMPLETION_TIMEOUT, QBT_INT, QBT_WRITE_ONLY},
    {"tracker_receive_timeout", SET_TRACKER_RECEIVE_TIMEOUT, QBT_INT, QBT_WRITE_ONLY},
    {"up_limit", SET_UP_LIMIT, QBT_INT, 0},
    {"upload_choking_algorithm", SET_UPLOAD_CHOKING_ALGORITHM, QBT_INT, 0},
    {"upload_slots_behavior", SET_UPLOAD_SLOTS_BEHAVIOR, QBT_INT, 0},
    {"upnp", SET_UPNP, QBT_BOOL, 0},
    {"upnp_lease_duration", SET_UPNP_LEASE_DURATION, QBT_INT, 0},
    {"use_category_paths_in_manual_mode", SET_USE_CATEGORY_PATHS_IN_MANUAL_MODE, QBT_BOOL, 0},
    {"use_https", SET_USE_HTTPS, QBT_BOOL, 0},
    {"use_unwanted_folder", SET_USE_UNWANTED_FOLDER, QBT_BOOL, 0},
    {"utp_tcp_mixed_mode", SET_UTP_TCP_MIXED_MODE, QBT_INT, 0},
    {"validate_https_tracker_certificate", SET_VALIDATE_HTTPS_TRACKER_CERTIFICATE, QBT_BOOL, 0},
    {"web_ui_address", SET_WEB_UI_ADDRESS, QBT_STR, 0},
    {"web_ui_ban_duration", SET_WEB_UI_BAN_DURATION, QBT_INT, 0},
    {"web_ui_clickjacking_protection_enabled", SET_WEB_UI_CLICKJACKING_PROTECTION_ENABLED, QBT_BOOL, 0},
    {"web_ui_csrf_protection_enabled", SET_WEB_UI_CSRF_PROTECTION_ENABLED, QBT_BOOL, 0},
    {"web_ui_custom_http_headers", SET_WEB_UI_CUSTOM_HTTP_HEADERS, QBT_STR, 0},
    {"web_ui_domain_list", SET_WEB_UI_DOMAIN_LIST, QBT_STR, 0},
    {"web_ui_host_header_validation_enabled", SET_WEB_UI_HOST_HEADER_VALIDATION_ENABLED, QBT_BOOL, 0},
    {"web_ui_https_cert_path", SET_WEB_UI_HTTPS_CERT_PATH, QBT_STR, 0},
    {"web_ui_https_key_path", SET_WEB_UI_HTTPS_KEY_PATH, QBT_STR, 0},
    {"web_ui_max_auth_fail_count", SET_WEB_UI_MAX_AUTH_FAIL_COUNT, QBT_INT, 0},
    {"web_ui_port", SET_WEB_UI_PORT, QBT_INT, 0},
    {"web_ui_reverse_proxies_list", SET_WEB_UI_REVERSE_PROXIES_LIST, QBT_STR, 0},
    {"web_ui_reverse_proxy_enabled", SET_WEB_UI_REVERSE_PROXY_ENABLED, QBT_BOOL, 0},
    {"web_ui_secure_cookie_enabled", SET_WEB_UI_SECURE_COOKIE_ENABLED, QBT_BOOL, 0},
    {"web_ui_session_timeout", SET_WEB_UI_SESSION_TIMEOUT, QBT_INT, 0},
    {"web_ui_upnp", SET_WEB_UI_UPNP, QBT_BOOL, 0},
    {"web_ui_use_custom_http_headers_enabled", SET_WEB_UI_USE_CUSTOM_HTTP_HEADERS_ENABLED, QBT_BOOL, 0},
    {"web_ui_username", SET_WEB_UI_USERNAME, QBT_STR, 0},
};

const size_t qbt_v2_prefs_count = sizeof qbt_v2_prefs / sizeof qbt_v2_prefs[0];

const struct qbt_v2_pref *qbt_v2_pref_find(const char *key)
{
    size_t lo = 0, hi = qbt_v2_prefs_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(key, qbt_v2_prefs[mid].key);
        if (c == 0)
            return &qbt_v2_prefs[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

static json_t *value_json(const struct settings *s, const struct qbt_v2_pref *m)
{
    switch (m->type) {
    case QBT_BOOL: return json_boolean(settings_bool(s, m->id));
    case QBT_INT: return json_integer((json_int_t)settings_int(s, m->id));
    case QBT_REAL: return json_real(settings_real(s, m->id));
    case QBT_STR: return json_string(settings_str(s, m->id));
    case QBT_OBJECT: {
        json_error_t e;
        json_t *o = json_loads(settings_str(s, m->id), 0, &e);
        return json_is_object(o) ? o : (json_decref(o), json_object());
    }
    }
    return NULL;
}

json_t *qbt_v2_prefs_to_json(const struct settings *s)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < qbt_v2_prefs_count; i++) {
        if (qbt_v2_prefs[i].flags & QBT_WRITE_ONLY)
            continue;
        json_t *v = value_json(s, &qbt_v2_prefs[i]);
        if (!v || json_object_set_new(o, qbt_v2_prefs[i].key, v) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

static bool type_ok(enum qbt_v2_jtype t, const json_t *v)
{
    switch (t) {
    case QBT_BOOL: return json_is_boolean(v);
    case QBT_INT: return json_is_integer(v);
    case QBT_REAL: return json_is_number(v);   /* an integer is taken for a real */
    case QBT_STR: return json_is_string(v);
    case QBT_OBJECT: return json_is_object(v);
    }
    return false;
}

/* An object setting's members: scan_dirs maps a folder to 0 (its own
 * folder), 1 (the default save path) or a path, as qBittorrent's watched
 * folders model reads it; anything nested is refused rather than stored. */
static bool value_ok(const struct qbt_v2_pref *m, json_t *v)
{
    if (m->type != QBT_OBJECT)
        return true;
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x) {
        if (!json_is_integer(x) && !json_is_string(x))
            return false;
    }
    return true;
}

/* qBittorrent never refuses a number out of range: its setters clamp
 * (SessionImpl::setGlobalMaxRatio: below 0 is -1; speed limits below 0 are 0;
 * queue sizes std::max(-1, n)) or store it; so the value is brought into
 * the setting's bounds here instead of making the core setter refuse it. */
static void clamp(const struct setting_def *d, struct settings_change *c)
{
    if (c->type == SETT_INT && d->type == SETT_INT)
        c->v.i = c->v.i < d->min_i ? d->min_i : c->v.i > d->max_i ? d->max_i : c->v.i;
    if (c->type == SETT_INT && d->type == SETT_REAL) {
        c->type = SETT_REAL;
        c->v.r = (double)c->v.i;
    }
    if (c->type == SETT_REAL)
        c->v.r = c->v.r < d->min_r ? d->min_r : c->v.r > d->max_r ? d->max_r : c->v.r;
}

int qbt_v2_prefs_apply(struct settings *s, json_t *changes, struct settings_mask *changed, char *err, size_t errlen)
{
    if (!json_is_object(changes)) {
        snprintf(err, errlen, "Preferences must be a JSON object");
        return -EINVAL;
    }
    size_t n = json_object_size(changes), k = 0;
    struct settings_change *c = calloc(n ? n : 1, sizeof *c);
    char **texts = calloc(n ? n : 1, sizeof *texts);
    int rc = c && texts ? 0 : -ENOMEM;
    const char *key;
    json_t *v;
    json_object_foreach(changes, key, v) {
        const struct qbt_v2_pref *m = rc == 0 ? qbt_v2_pref_find(key) : NULL;
        if (!m || (m->flags & QBT_READ_ONLY))
            continue;   /* unknown keys are ignored, as qBittorrent does */
        if (!type_ok(m->type, v)) {
            snprintf(err, errlen, "Invalid type for preference '%s'", key);
            rc = -EINVAL;
            break;
        }
        if (!value_ok(m, v)) {
            snprintf(err, errlen, "Invalid value for preference '%s'", key);
            rc = -EINVAL;
            break;
        }
        struct settings_change *ch = &c[k];
        ch->id = m->id;
        switch (m->type) {
        case QBT_BOOL: ch->type = SETT_BOOL; ch->v.b = json_is_true(v); break;
        case QBT_INT: ch->type = SETT_INT; ch->v.i = (int64_t)json_integer_value(v); break;
        case QBT_REAL:
            ch->type = json_is_integer(v) ? SETT_INT : SETT_REAL;
            if (json_is_integer(v))
                ch->v.i = (int64_t)json_integer_value(v);
            else
                ch->v.r = json_real_value(v);
            break;
        case QBT_STR: ch->type = SETT_STR; ch->v.s = json_string_value(v); break;
        case QBT_OBJECT:
            texts[k] = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
            ch->type = SETT_STR;
            ch->v.s = texts[k];
            if (!texts[k])
                rc = -ENOMEM;
            break;
        }
        clamp(&settings_defs[m->id], ch);
        k++;
    }
    if (rc == 0)
        rc = settings_apply(s, c, k, changed, err, errlen);
    for (size_t i = 0; texts && i < k; i++)
        free(texts[i]);
    free(texts);
    free(c);
    return rc;
}
