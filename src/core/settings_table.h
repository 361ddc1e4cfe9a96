/* settings_table — every daemon setting, defined once.
 *
 *   X(ID, "name", TYPE, default, min, max, groups)
 *
 * ID      becomes SET_<ID> (enum setting_id in core/settings.h): code names a
 *         setting by id, so a misspelt one does not compile.
 * name    the persistence name: the key of the setting's row in the store's
 *         `prefs` table (src/store).  It equals the qBittorrent app/preferences
 *         key the setting first had, so profiles written before the typed
 *         settings load unchanged.  Never rename one without a migration.
 * TYPE    BOOL, INT (int64), REAL (double), STR, or JSON (a string slot that
 *         holds compact JSON text: qBittorrent's scan_dirs object).
 * default of that type; min/max bound INT and REAL (setters refuse values
 *         outside with -ERANGE).  The bounds are qBittorrent's where it has
 *         them (ports 0..65535; -1 = "no limit" for ratio, seeding times and
 *         queue sizes; speed limits >= 0; max_ratio_act 0..3).
 * groups  SG_* bits (core/settings.h): which live-apply hooks a change wakes.
 *
 * API dialects do not use these names: each has its own mapping table from
 * its keys to the ids (web/api/qbt_v2_prefs.c for qBittorrent).  The order
 * here is by name, which keeps the table easy to diff against qBittorrent's
 * app/preferences.  Regenerating: add a row; no other list to keep in step.
 */
#ifndef TD_CORE_SETTINGS_TABLE_H
#define TD_CORE_SETTINGS_TABLE_H

#define SETTINGS_TABLE(X) \
    X(ADD_STOPPED_ENABLED, "add_stopped_enabled", BOOL, false, 0, 1, 0) \
    X(ADD_TO_TOP_OF_QUEUE, "add_to_top_of_queue", BOOL, false, 0, 1, 0) \
    X(ADD_TRACKERS, "add_trackers", STR, "", 0, 0, 0) \
    X(ADD_TRACKERS_ENABLED, "add_trackers_enabled", BOOL, false, 0, 1, 0) \
    X(ADD_TRACKERS_FROM_URL_ENABLED, "add_trackers_from_url_enabled", BOOL, false, 0, 1, SG_TRACKER_LIST) \
    X(ADD_TRACKERS_URL, "add_trackers_url", STR, "", 0, 0, SG_TRACKER_LIST) \
    X(ADD_TRACKERS_URL_LIST, "add_trackers_url_list", STR, "", 0, 0, 0) \
    X(ALT_DL_LIMIT, "alt_dl_limit", INT, 10240, 0, INT64_MAX, SG_LIMITS) \
    X(ALT_UP_LIMIT, "alt_up_limit", INT, 10240, 0, INT64_MAX, SG_LIMITS) \
    X(ALTERNATIVE_WEBUI_ENABLED, "alternative_webui_enabled", BOOL, false, 0, 1, SG_WEBUI_ROOT) \
    X(ALTERNATIVE_WEBUI_PATH, "alternative_webui_path", STR, "", 0, 0, SG_WEBUI_ROOT) \
    X(ANNOUNCE_IP, "announce_ip", STR, "", 0, 0, SG_TRACKERS) \
    X(ANNOUNCE_PORT, "announce_port", INT, 0, 0, 65535, SG_TRACKERS) \
    X(ANNOUNCE_TO_ALL_TIERS, "announce_to_all_tiers", BOOL, true, 0, 1, SG_PEER_POLICY) \
    X(ANNOUNCE_TO_ALL_TRACKERS, "announce_to_all_trackers", BOOL, false, 0, 1, SG_PEER_POLICY) \
    X(ANONYMOUS_MODE, "anonymous_mode", BOOL, false, 0, 1, SG_PEER_POLICY) \
    X(APP_INSTANCE_NAME, "app_instance_name", STR, "", 0, 0, 0) \
    X(ASYNC_IO_THREADS, "async_io_threads", INT, 10, INT64_MIN, INT64_MAX, 0) \
    X(AUTO_DELETE_MODE, "auto_delete_mode", INT, 0, INT64_MIN, INT64_MAX, 0) \
    X(AUTO_TMM_ENABLED, "auto_tmm_enabled", BOOL, false, 0, 1, 0) \
    /* automation (issue 12): qbit_manage's config.yml glob under the profile, the X-API-Key of /api/run-command */ \
    X(AUTOMATION_API_KEY, "automation_api_key", STR, "", 0, 0, SG_AUTOMATION) \
    X(AUTOMATION_CONFIG_FILE, "automation_config_file", STR, "config.yml", 0, 0, SG_AUTOMATION) \
    X(AUTORUN_ENABLED, "autorun_enabled", BOOL, false, 0, 1, 0) \
    X(AUTORUN_ON_TORRENT_ADDED_ENABLED, "autorun_on_torrent_added_enabled", BOOL, false, 0, 1, 0) \
    X(AUTORUN_ON_TORRENT_ADDED_PROGRAM, "autorun_on_torrent_added_program", STR, "", 0, 0, 0) \
    X(AUTORUN_PROGRAM, "autorun_program", STR, "", 0, 0, 0) \
    X(BANNED_IPS, "banned_IPs", STR, "", 0, 0, SG_BANS) \
    X(BDECODE_DEPTH_LIMIT, "bdecode_depth_limit", INT, 100, INT64_MIN, INT64_MAX, 0) \
    X(BDECODE_TOKEN_LIMIT, "bdecode_token_limit", INT, 10000000, INT64_MIN, INT64_MAX, 0) \
    X(BITTORRENT_PROTOCOL, "bittorrent_protocol", INT, 0, 0, 2, SG_UTP) /* utp: 0 TCP+uTP, 1 TCP, 2 uTP */ \
    X(BLOCK_PEERS_ON_PRIVILEGED_PORTS, "block_peers_on_privileged_ports", BOOL, false, 0, 1, 0) \
    X(BYPASS_AUTH_SUBNET_WHITELIST, "bypass_auth_subnet_whitelist", STR, "", 0, 0, SG_WEBUI_AUTH) \
    X(BYPASS_AUTH_SUBNET_WHITELIST_ENABLED, "bypass_auth_subnet_whitelist_enabled", BOOL, false, 0, 1, SG_WEBUI_AUTH) \
    X(BYPASS_LOCAL_AUTH, "bypass_local_auth", BOOL, false, 0, 1, SG_WEBUI_AUTH) \
    X(CATEGORY_CHANGED_TMM_ENABLED, "category_changed_tmm_enabled", BOOL, false, 0, 1, 0) \
    X(CHECKING_MEMORY_USE, "checking_memory_use", INT, 32, INT64_MIN, INT64_MAX, 0) \
    X(CONFIRM_TORRENT_DELETION, "confirm_torrent_deletion", BOOL, true, 0, 1, 0) \
    X(CONFIRM_TORRENT_RECHECK, "confirm_torrent_recheck", BOOL, true, 0, 1, 0) \
    X(CONNECTION_SPEED, "connection_speed", INT, 30, INT64_MIN, INT64_MAX, SG_PEER_POLICY) \
    X(CURRENT_INTERFACE_ADDRESS, "current_interface_address", STR, "", 0, 0, SG_LISTEN) \
    X(CURRENT_INTERFACE_NAME, "current_interface_name", STR, "", 0, 0, 0) \
    X(CURRENT_NETWORK_INTERFACE, "current_network_interface", STR, "", 0, 0, SG_LISTEN) \
    X(DELETE_TORRENT_CONTENT_FILES, "delete_torrent_content_files", BOOL, false, 0, 1, 0) \
    X(DHT, "dht", BOOL, true, 0, 1, SG_DISCOVERY) \
    X(DHT_BOOTSTRAP_NODES, "dht_bootstrap_nodes", STR, "dht.libtorrent.org:25401, dht.transmissionbt.com:6881, router.bittorrent.com:6881", 0, 0, SG_DISCOVERY | SG_DHT_NODES) \
    X(DISK_CACHE, "disk_cache", INT, -1, INT64_MIN, INT64_MAX, SG_DISK) \
    X(DISK_CACHE_TTL, "disk_cache_ttl", INT, 60, INT64_MIN, INT64_MAX, 0) \
    X(DISK_IO_READ_MODE, "disk_io_read_mode", INT, 1, INT64_MIN, INT64_MAX, 0) \
    X(DISK_IO_TYPE, "disk_io_type", INT, 0, INT64_MIN, INT64_MAX, 0) \
    X(DISK_IO_WRITE_MODE, "disk_io_write_mode", INT, 1, INT64_MIN, INT64_MAX, 0) \
    X(DISK_QUEUE_SIZE, "disk_queue_size", INT, 1048576, INT64_MIN, INT64_MAX, 0) \
    X(DL_LIMIT, "dl_limit", INT, 0, 0, INT64_MAX, SG_LIMITS) \
    X(DONT_COUNT_SLOW_TORRENTS, "dont_count_slow_torrents", BOOL, false, 0, 1, 0) \
    X(DYNDNS_DOMAIN, "dyndns_domain", STR, "changeme.dyndns.org", 0, 0, 0) \
    X(DYNDNS_ENABLED, "dyndns_enabled", BOOL, false, 0, 1, 0) \
    X(DYNDNS_PASSWORD, "dyndns_password", STR, "", 0, 0, 0) \
    X(DYNDNS_SERVICE, "dyndns_service", INT, 0, INT64_MIN, INT64_MAX, 0) \
    X(DYNDNS_USERNAME, "dyndns_username", STR, "", 0, 0, 0) \
    X(EMBEDDED_TRACKER_PORT, "embedded_tracker_port", INT, 9000, 0, 65535, SG_ETRACKER) \
    X(EMBEDDED_TRACKER_PORT_FORWARDING, "embedded_tracker_port_forwarding", BOOL, false, 0, 1, SG_PORTMAP) \
    X(ENABLE_COALESCE_READ_WRITE, "enable_coalesce_read_write", BOOL, false, 0, 1, 0) \
    X(ENABLE_EMBEDDED_TRACKER, "enable_embedded_tracker", BOOL, false, 0, 1, SG_ETRACKER) \
    X(ENABLE_MULTI_CONNECTIONS_FROM_SAME_IP, "enable_multi_connections_from_same_ip", BOOL, false, 0, 1, 0) \
    X(ENABLE_PIECE_EXTENT_AFFINITY, "enable_piece_extent_affinity", BOOL, false, 0, 1, 0) \
    X(ENABLE_UPLOAD_SUGGESTIONS, "enable_upload_suggestions", BOOL, false, 0, 1, 0) \
    X(ENCRYPTION, "encryption", INT, 0, INT64_MIN, INT64_MAX, SG_ENCRYPTION) /* mse: 0 prefer, 1 require, 2 disable */ \
    X(EXCLUDED_FILE_NAMES, "excluded_file_names", STR, "", 0, 0, 0) \
    X(EXCLUDED_FILE_NAMES_ENABLED, "excluded_file_names_enabled", BOOL, false, 0, 1, 0) \
    X(EXPORT_DIR, "export_dir", STR, "", 0, 0, 0) \
    X(EXPORT_DIR_FIN, "export_dir_fin", STR, "", 0, 0, 0) \
    X(FILE_LOG_AGE, "file_log_age", INT, 1, INT64_MIN, INT64_MAX, SG_FILE_LOG) \
    X(FILE_LOG_AGE_TYPE, "file_log_age_type", INT, 1, INT64_MIN, INT64_MAX, SG_FILE_LOG) \
    X(FILE_LOG_BACKUP_ENABLED, "file_log_backup_enabled", BOOL, true, 0, 1, SG_FILE_LOG) \
    X(FILE_LOG_DELETE_OLD, "file_log_delete_old", BOOL, true, 0, 1, SG_FILE_LOG) \
    X(FILE_LOG_ENABLED, "file_log_enabled", BOOL, true, 0, 1, SG_FILE_LOG) \
    X(FILE_LOG_MAX_SIZE, "file_log_max_size", INT, 65, INT64_MIN, INT64_MAX, SG_FILE_LOG) \
    X(FILE_LOG_PATH, "file_log_path", STR, "", 0, 0, SG_FILE_LOG) \
    X(FILE_POOL_SIZE, "file_pool_size", INT, 5000, INT64_MIN, INT64_MAX, 0) \
    X(HASHING_THREADS, "hashing_threads", INT, 1, INT64_MIN, INT64_MAX, 0) \
    X(I2P_ADDRESS, "i2p_address", STR, "127.0.0.1", 0, 0, 0) \
    X(I2P_ENABLED, "i2p_enabled", BOOL, false, 0, 1, 0) \
    X(I2P_INBOUND_LENGTH, "i2p_inbound_length", INT, 3, INT64_MIN, INT64_MAX, 0) \
    X(I2P_INBOUND_QUANTITY, "i2p_inbound_quantity", INT, 3, INT64_MIN, INT64_MAX, 0) \
    X(I2P_MIXED_MODE, "i2p_mixed_mode", BOOL, false, 0, 1, 0) \
    X(I2P_OUTBOUND_LENGTH, "i2p_outbound_length", INT, 3, INT64_MIN, INT64_MAX, 0) \
    X(I2P_OUTBOUND_QUANTITY, "i2p_outbound_quantity", INT, 3, INT64_MIN, INT64_MAX, 0) \
    X(I2P_PORT, "i2p_port", INT, 7656, 0, 65535, 0) \
    X(IDN_SUPPORT_ENABLED, "idn_support_enabled", BOOL, false, 0, 1, 0) \
    X(IGNORE_SSL_ERRORS, "ignore_ssl_errors", BOOL, false, 0, 1, 0) \
    X(INCOMPLETE_FILES_EXT, "incomplete_files_ext", BOOL, false, 0, 1, 0) \
    X(IP_FILTER_ENABLED, "ip_filter_enabled", BOOL, false, 0, 1, SG_IPFILTER) \
    X(IP_FILTER_PATH, "ip_filter_path", STR, "", 0, 0, SG_IPFILTER) \
    X(IP_FILTER_TRACKERS, "ip_filter_trackers", BOOL, false, 0, 1, SG_IPFILTER) \
    X(LIMIT_LAN_PEERS, "limit_lan_peers", BOOL, true, 0, 1, 0) \
    X(LIMIT_TCP_OVERHEAD, "limit_tcp_overhead", BOOL, false, 0, 1, 0) \
    X(LIMIT_UTP_RATE, "limit_utp_rate", BOOL, true, 0, 1, 0) \
    X(LISTEN_PORT, "listen_port", INT, 6881, 0, 65535, SG_LISTEN) \
    X(LOCALE, "locale", STR, "en", 0, 0, 0) \
    X(LSD, "lsd", BOOL, true, 0, 1, SG_DISCOVERY) \
    X(MAIL_NOTIFICATION_AUTH_ENABLED, "mail_notification_auth_enabled", BOOL, false, 0, 1, 0) \
    X(MAIL_NOTIFICATION_EMAIL, "mail_notification_email", STR, "", 0, 0, 0) \
    X(MAIL_NOTIFICATION_ENABLED, "mail_notification_enabled", BOOL, false, 0, 1, 0) \
    X(MAIL_NOTIFICATION_PASSWORD, "mail_notification_password", STR, "", 0, 0, 0) \
    X(MAIL_NOTIFICATION_SENDER, "mail_notification_sender", STR, "qBittorrent_notification@example.com", 0, 0, 0) \
    X(MAIL_NOTIFICATION_SMTP, "mail_notification_smtp", STR, "smtp.changeme.com", 0, 0, 0) \
    X(MAIL_NOTIFICATION_SSL_ENABLED, "mail_notification_ssl_enabled", BOOL, false, 0, 1, 0) \
    X(MAIL_NOTIFICATION_USERNAME, "mail_notification_username", STR, "", 0, 0, 0) \
    X(MARK_OF_THE_WEB, "mark_of_the_web", BOOL, true, 0, 1, 0) \
    X(MAX_ACTIVE_CHECKING_TORRENTS, "max_active_checking_torrents", INT, 1, -1, INT64_MAX, 0) \
    X(MAX_ACTIVE_DOWNLOADS, "max_active_downloads", INT, 3, -1, INT64_MAX, 0) \
    X(MAX_ACTIVE_TORRENTS, "max_active_torrents", INT, 5, -1, INT64_MAX, 0) \
    X(MAX_ACTIVE_UPLOADS, "max_active_uploads", INT, 3, -1, INT64_MAX, 0) \
    X(MAX_CONCURRENT_HTTP_ANNOUNCES, "max_concurrent_http_announces", INT, 50, INT64_MIN, INT64_MAX, SG_TRACKERS) \
    X(MAX_CONNEC, "max_connec", INT, 500, INT64_MIN, INT64_MAX, 0) \
    X(MAX_CONNEC_PER_TORRENT, "max_connec_per_torrent", INT, 100, INT64_MIN, INT64_MAX, 0) \
    X(MAX_INACTIVE_SEEDING_TIME, "max_inactive_seeding_time", INT, -1, -1, INT64_MAX, 0) \
    X(MAX_INACTIVE_SEEDING_TIME_ENABLED, "max_inactive_seeding_time_enabled", BOOL, false, 0, 1, 0) \
    X(MAX_RATIO, "max_ratio", REAL, -1.0, -1, DBL_MAX, 0) \
    X(MAX_RATIO_ACT, "max_ratio_act", INT, 0, 0, 3, 0) \
    X(MAX_RATIO_ENABLED, "max_ratio_enabled", BOOL, false, 0, 1, 0) \
    X(MAX_SEEDING_TIME, "max_seeding_time", INT, -1, -1, INT64_MAX, 0) \
    X(MAX_SEEDING_TIME_ENABLED, "max_seeding_time_enabled", BOOL, false, 0, 1, 0) \
    X(MAX_UPLOADS, "max_uploads", INT, 20, INT64_MIN, INT64_MAX, SG_PEER_POLICY) \
    X(MAX_UPLOADS_PER_TORRENT, "max_uploads_per_torrent", INT, 4, INT64_MIN, INT64_MAX, SG_PEER_POLICY) \
    X(MEMORY_WORKING_SET_LIMIT, "memory_working_set_limit", INT, 512, INT64_MIN, INT64_MAX, 0) \
    X(MERGE_TRACKERS, "merge_trackers", BOOL, false, 0, 1, 0) \
    /* Operations API and qBitrr's torrent-side rules (issue 12, src/ops/ \
     * acts on SG_OPS; web/api/ops_config.c names them Section.Key):     \
     * the API token, stalled handling, the free-space guard, per-tracker \
     * seeding rules and the Arr connections (JSON arrays). */          \
    X(OPS_ARR, "ops_arr", JSON, "[]", 0, 0, SG_OPS) \
    X(OPS_AUTO_PAUSE_RESUME, "ops_auto_pause_resume", BOOL, true, 0, 1, SG_OPS) \
    X(OPS_FREE_SPACE, "ops_free_space", INT, -1, -1, INT64_MAX, SG_OPS) \
    X(OPS_FREE_SPACE_FOLDER, "ops_free_space_folder", STR, "", 0, 0, SG_OPS) \
    X(OPS_IGNORE_YOUNGER_THAN, "ops_ignore_younger_than", INT, 180, 0, INT64_MAX, SG_OPS) \
    X(OPS_MANAGED_CATEGORIES, "ops_managed_categories", STR, "", 0, 0, SG_OPS) \
    X(OPS_MAX_DELETABLE_PERCENTAGE, "ops_max_deletable_percentage", REAL, 0.99, 0, 1, SG_OPS) \
    X(OPS_METRICS_NEED_TOKEN, "ops_metrics_need_token", BOOL, false, 0, 1, SG_OPS) \
    X(OPS_SEEDING_RULES, "ops_seeding_rules", JSON, "[]", 0, 0, SG_OPS) \
    X(OPS_STALLED_DELAY, "ops_stalled_delay", REAL, -1.0, -1, DBL_MAX, SG_OPS) \
    X(OPS_STALLED_REMOVE, "ops_stalled_remove", BOOL, false, 0, 1, SG_OPS) \
    X(OPS_TOKEN, "ops_token", STR, "", 0, 0, SG_OPS) \
    X(OUTGOING_PORTS_MAX, "outgoing_ports_max", INT, 0, 0, 65535, 0) \
    X(OUTGOING_PORTS_MIN, "outgoing_ports_min", INT, 0, 0, 65535, 0) \
    X(PEER_TOS, "peer_tos", INT, 4, INT64_MIN, INT64_MAX, SG_PEER_POLICY) \
    X(PEER_TURNOVER, "peer_turnover", INT, 4, INT64_MIN, INT64_MAX, SG_PEER_POLICY) \
    X(PEER_TURNOVER_CUTOFF, "peer_turnover_cutoff", INT, 90, INT64_MIN, INT64_MAX, SG_PEER_POLICY) \
    X(PEER_TURNOVER_INTERVAL, "peer_turnover_interval", INT, 300, INT64_MIN, INT64_MAX, SG_PEER_POLICY) \
    X(PERFORMANCE_WARNING, "performance_warning", BOOL, false, 0, 1, 0) \
    X(PEX, "pex", BOOL, true, 0, 1, 0) \
    X(PREALLOCATE_ALL, "preallocate_all", BOOL, false, 0, 1, SG_DISK) \
    X(PROXY_AUTH_ENABLED, "proxy_auth_enabled", BOOL, false, 0, 1, SG_PROXY) \
    X(PROXY_BITTORRENT, "proxy_bittorrent", BOOL, true, 0, 1, SG_PROXY) \
    X(PROXY_HOSTNAME_LOOKUP, "proxy_hostname_lookup", BOOL, true, 0, 1, SG_PROXY) \
    X(PROXY_IP, "proxy_ip", STR, "0.0.0.0", 0, 0, SG_PROXY) \
    X(PROXY_MISC, "proxy_misc", BOOL, true, 0, 1, 0) \
    X(PROXY_PASSWORD, "proxy_password", STR, "", 0, 0, SG_PROXY) \
    X(PROXY_PEER_CONNECTIONS, "proxy_peer_connections", BOOL, false, 0, 1, SG_PROXY) \
    X(PROXY_PORT, "proxy_port", INT, 8080, 0, 65535, SG_PROXY) \
    X(PROXY_RSS, "proxy_rss", BOOL, true, 0, 1, 0) \
    X(PROXY_TYPE, "proxy_type", STR, "None", 0, 0, SG_PROXY) \
    X(PROXY_USERNAME, "proxy_username", STR, "", 0, 0, SG_PROXY) \
    X(PYTHON_EXECUTABLE_PATH, "python_executable_path", STR, "", 0, 0, 0) \
    X(QUEUEING_ENABLED, "queueing_enabled", BOOL, false, 0, 1, 0) \
    X(RANDOM_PORT, "random_port", BOOL, false, 0, 1, SG_LISTEN) \
    X(REANNOUNCE_WHEN_ADDRESS_CHANGED, "reannounce_when_address_changed", BOOL, false, 0, 1, SG_PEER_POLICY) \
    X(RECHECK_COMPLETED_TORRENTS, "recheck_completed_torrents", BOOL, false, 0, 1, 0) \
    X(REFRESH_INTERVAL, "refresh_interval", INT, 1500, INT64_MIN, INT64_MAX, 0) \
    X(REQUEST_QUEUE_SIZE, "request_queue_size", INT, 500, INT64_MIN, INT64_MAX, 0) \
    X(RESOLVE_PEER_COUNTRIES, "resolve_peer_countries", BOOL, false, 0, 1, 0) \
    X(RESUME_DATA_STORAGE_TYPE, "resume_data_storage_type", STR, "SQLite", 0, 0, 0) \
    X(RSS_AUTO_DOWNLOADING_ENABLED, "rss_auto_downloading_enabled", BOOL, false, 0, 1, SG_RSS_AUTODL) \
    X(RSS_DOWNLOAD_REPACK_PROPER_EPISODES, "rss_download_repack_proper_episodes", BOOL, true, 0, 1, SG_RSS_AUTODL) \
    /* RSS feeds (issue 13, rss/rss.c acts on SG_RSS; rss_fetch_delay in  \
     * seconds between two fetches from one host, qBittorrent's          \
     * RSS/Session/FetchDelay) */                                         \
    X(RSS_FETCH_DELAY, "rss_fetch_delay", INT, 2, INT64_MIN, INT64_MAX, SG_RSS) \
    X(RSS_MAX_ARTICLES_PER_FEED, "rss_max_articles_per_feed", INT, 50, INT64_MIN, INT64_MAX, SG_RSS) \
    X(RSS_PROCESSING_ENABLED, "rss_processing_enabled", BOOL, false, 0, 1, SG_RSS) \
    X(RSS_REFRESH_INTERVAL, "rss_refresh_interval", INT, 30, INT64_MIN, INT64_MAX, SG_RSS) \
    X(RSS_SMART_EPISODE_FILTERS, "rss_smart_episode_filters", STR, "s(\\d+)e(\\d+)\n(\\d+)x(\\d+)\n(\\d{4}[.\\-]\\d{1,2}[.\\-]\\d{1,2})\n(\\d{1,2}[.\\-]\\d{1,2}[.\\-]\\d{4})", 0, 0, SG_RSS_AUTODL) \
    X(SAVE_PATH, "save_path", STR, "", 0, 0, SG_DEFAULT_PATH) \
    X(SAVE_PATH_CHANGED_TMM_ENABLED, "save_path_changed_tmm_enabled", BOOL, false, 0, 1, 0) \
    X(SAVE_RESUME_DATA_INTERVAL, "save_resume_data_interval", INT, 60, INT64_MIN, INT64_MAX, 0) \
    X(SAVE_STATISTICS_INTERVAL, "save_statistics_interval", INT, 15, INT64_MIN, INT64_MAX, 0) \
    X(SCAN_DIRS, "scan_dirs", JSON, "{}", 0, 0, SG_WATCHDIR) \
    X(SCHEDULE_FROM_HOUR, "schedule_from_hour", INT, 8, INT64_MIN, INT64_MAX, SG_SCHEDULER) \
    X(SCHEDULE_FROM_MIN, "schedule_from_min", INT, 0, INT64_MIN, INT64_MAX, SG_SCHEDULER) \
    X(SCHEDULE_TO_HOUR, "schedule_to_hour", INT, 20, INT64_MIN, INT64_MAX, SG_SCHEDULER) \
    X(SCHEDULE_TO_MIN, "schedule_to_min", INT, 0, INT64_MIN, INT64_MAX, SG_SCHEDULER) \
    X(SCHEDULER_DAYS, "scheduler_days", INT, 0, INT64_MIN, INT64_MAX, SG_SCHEDULER) \
    X(SCHEDULER_ENABLED, "scheduler_enabled", BOOL, false, 0, 1, SG_SCHEDULER) \
    /* search (issue 13): qBittorrent's SearchEngines/DisabledEngines (","-joined plugin names) and the \
     * folder updatePlugins reads versions.txt and <name>.py from */ \
    X(SEARCH_DISABLED_ENGINES, "search_disabled_engines", STR, "", 0, 0, 0) \
    X(SEARCH_UPDATE_URL, "search_update_url", STR, \
      "https://raw.githubusercontent.com/qbittorrent/search-plugins/refs/heads/master/nova3/engines/", 0, 0, 0) \
    X(SEND_BUFFER_LOW_WATERMARK, "send_buffer_low_watermark", INT, 10, INT64_MIN, INT64_MAX, 0) \
    X(SEND_BUFFER_WATERMARK, "send_buffer_watermark", INT, 500, INT64_MIN, INT64_MAX, 0) \
    X(SEND_BUFFER_WATERMARK_FACTOR, "send_buffer_watermark_factor", INT, 50, INT64_MIN, INT64_MAX, 0) \
    X(SLOW_TORRENT_DL_RATE_THRESHOLD, "slow_torrent_dl_rate_threshold", INT, 2, INT64_MIN, INT64_MAX, 0) \
    X(SLOW_TORRENT_INACTIVE_TIMER, "slow_torrent_inactive_timer", INT, 60, INT64_MIN, INT64_MAX, 0) \
    X(SLOW_TORRENT_UL_RATE_THRESHOLD, "slow_torrent_ul_rate_threshold", INT, 2, INT64_MIN, INT64_MAX, 0) \
    X(SOCKET_BACKLOG_SIZE, "socket_backlog_size", INT, 30, INT64_MIN, INT64_MAX, 0) \
    X(SOCKET_RECEIVE_BUFFER_SIZE, "socket_receive_buffer_size", INT, 0, INT64_MIN, INT64_MAX, 0) \
    X(SOCKET_SEND_BUFFER_SIZE, "socket_send_buffer_size", INT, 0, INT64_MIN, INT64_MAX, 0) \
    X(SSL_ENABLED, "ssl_enabled", BOOL, false, 0, 1, SG_SSL) \
    X(SSL_LISTEN_PORT, "ssl_listen_port", INT, 0, 0, 65535, SG_SSL) \
    X(SSRF_MITIGATION, "ssrf_mitigation", BOOL, true, 0, 1, SG_PEER_POLICY) \
    X(STATUS_BAR_EXTERNAL_IP, "status_bar_external_ip", BOOL, false, 0, 1, 0) \
    X(STOP_TRACKER_TIMEOUT, "stop_tracker_timeout", INT, 5, INT64_MIN, INT64_MAX, SG_TRACKERS) \
    X(TEMP_PATH, "temp_path", STR, "", 0, 0, 0) \
    X(TEMP_PATH_ENABLED, "temp_path_enabled", BOOL, false, 0, 1, 0) \
    X(TORRENT_CHANGED_TMM_ENABLED, "torrent_changed_tmm_enabled", BOOL, true, 0, 1, 0) \
    X(TORRENT_CONTENT_LAYOUT, "torrent_content_layout", STR, "Original", 0, 0, 0) \
    X(TORRENT_CONTENT_REMOVE_OPTION, "torrent_content_remove_option", STR, "Delete", 0, 0, 0) \
    X(TORRENT_FILE_SIZE_LIMIT, "torrent_file_size_limit", INT, 104857600, INT64_MIN, INT64_MAX, 0) \
    X(TORRENT_STOP_CONDITION, "torrent_stop_condition", STR, "None", 0, 0, 0) \
    /* tracker timeouts (issue 10): libtorrent's names and defaults, in      \
     * seconds; torrentd's own (qBittorrent has no such preference).      */ \
    X(TRACKER_COMPLETION_TIMEOUT, "tracker_completion_timeout", INT, 30, 1, 3600, SG_TRACKERS) \
    X(TRACKER_RECEIVE_TIMEOUT, "tracker_receive_timeout", INT, 10, 1, 600, SG_TRACKERS) \
    X(UP_LIMIT, "up_limit", INT, 0, 0, INT64_MAX, SG_LIMITS) \
    X(UPLOAD_CHOKING_ALGORITHM, "upload_choking_algorithm", INT, 1, INT64_MIN, INT64_MAX, SG_PEER_POLICY) \
    X(UPLOAD_SLOTS_BEHAVIOR, "upload_slots_behavior", INT, 0, INT64_MIN, INT64_MAX, SG_PEER_POLICY) \
    X(UPNP, "upnp", BOOL, true, 0, 1, SG_PORTMAP) \
    X(UPNP_LEASE_DURATION, "upnp_lease_duration", INT, 0, INT64_MIN, INT64_MAX, SG_PORTMAP) \
    X(USE_CATEGORY_PATHS_IN_MANUAL_MODE, "use_category_paths_in_manual_mode", BOOL, false, 0, 1, 0) \
    X(USE_HTTPS, "use_https", BOOL, false, 0, 1, SG_WEBUI_BIND) \
    X(USE_SUBCATEGORIES, "use_subcategories", BOOL, false, 0, 1, 0) \
    X(USE_UNWANTED_FOLDER, "use_unwanted_folder", BOOL, false, 0, 1, 0) \
    /* µTorrent Server (issue 11): utserver.conf and /gui/ (core/ut_settings.c \
     * maps the µTorrent names, including these, onto the settings).  The \
     * /gui/ ones (web/api/ut_gui*.c): the download directories of \
     * list-dirs/download_dir (a JSON array of paths; utserver.conf's \
     * dir_download), the token check (token_auth_enable, token_auth_filter: \
     * "all" or "remote") and the read-only guest.  The others are the conf \
     * keys with no qBittorrent setting behind them, in µTorrent's units \
     * (MB, KB/s).  The rows marked "automation" are acted on by \
     * core/runprog (finish_cmd, state_cmd) and core/watchdir (dir_autoload, \
     * dir_autoload_delete), which serve qBittorrent's autorun_*, scan_dirs \
     * and export_dir* too. */ \
    X(UT_ALL_WRITES_SYNC, "ut_all_writes_sync", BOOL, false, 0, 1, SG_DISK) \
    X(UT_AUTO_BANDWIDTH_MANAGEMENT, "ut_auto_bandwidth_management", BOOL, true, 0, 1, 0) \
    X(UT_COMPACT_ALLOCATION, "ut_compact_allocation", BOOL, false, 0, 1, 0) \
    X(UT_DIR_AUTOLOAD, "ut_dir_autoload", STR, "", 0, 0, SG_WATCHDIR) /* automation */ \
    X(UT_DIR_AUTOLOAD_DELETE, "ut_dir_autoload_delete", BOOL, false, 0, 1, SG_WATCHDIR) /* automation */ \
    X(UT_DIR_DOWNLOAD, "ut_dir_download", JSON, "[]", 0, 0, 0) \
    X(UT_DIR_REQUEST, "ut_dir_request", STR, "", 0, 0, 0) \
    X(UT_DIR_ROOT, "ut_dir_root", STR, "", 0, 0, 0) \
    X(UT_DIR_TEMP_FILES, "ut_dir_temp_files", STR, "", 0, 0, 0) \
    X(UT_DISK_CACHE_MAX_SIZE, "ut_disk_cache_max_size", INT, 0, 0, 512, SG_DISK) \
    X(UT_ENCRYPT_BUFFER_SIZE, "ut_encrypt_buffer_size", INT, 102400, 4096, INT32_MAX, 0) \
    X(UT_FINISH_CMD, "ut_finish_cmd", STR, "", 0, 0, 0) /* automation */ \
    X(UT_LOGMASK, "ut_logmask", INT, 0, INT32_MIN, UINT32_MAX, SG_LOG) \
    X(UT_LOW_CPU, "ut_low_cpu", BOOL, false, 0, 1, SG_LOW_CPU) \
    X(UT_MAX_UL_RATE_SEED, "ut_max_ul_rate_seed", INT, -1, -1, INT32_MAX, SG_LIMITS) \
    X(UT_MINIMIZE_KERNEL_CACHING, "ut_minimize_kernel_caching", BOOL, false, 0, 1, 0) \
    X(UT_PREFERRED_INTERFACE, "ut_preferred_interface", STR, "", 0, 0, SG_LISTEN) \
    X(UT_PROGRESSIVE_PIECE_SPAN, "ut_progressive_piece_span", INT, 0, -1, 1024, 0) \
    X(UT_RANDOMIZE_BIND_PORT, "ut_randomize_bind_port", BOOL, false, 0, 1, 0) \
    X(UT_SEQUENTIAL_DOWNLOAD, "ut_sequential_download", BOOL, false, 0, 1, 0) \
    X(UT_STATE_CMD, "ut_state_cmd", STR, "", 0, 0, SG_RUNPROG) /* automation */ \
    X(UT_TOKEN_AUTH_ENABLE, "ut_token_auth_enable", BOOL, true, 0, 1, 0) \
    X(UT_TOKEN_AUTH_FILTER, "ut_token_auth_filter", STR, "all", 0, 0, 0) \
    X(UT_WEBUI_DIR, "ut_webui_dir", STR, "", 0, 0, 0) \
    X(UT_WEBUI_GUEST_ENABLED, "ut_webui_guest_enabled", BOOL, false, 0, 1, SG_WEBUI_AUTH) \
    X(UT_WEBUI_GUEST_NAME, "ut_webui_guest_name", STR, "guest", 0, 0, SG_WEBUI_AUTH) \
    X(UT_WEBUI_PORT, "ut_webui_port", INT, 0, 0, 65535, 0) \
    X(UT_WRITE_COALESCE_MAX_SIZE, "ut_write_coalesce_max_size", INT, 0, -1, 32, 0) \
    X(UTP_TCP_MIXED_MODE, "utp_tcp_mixed_mode", INT, 0, 0, 1, 0) /* utp: 0 prefer TCP, 1 peer-proportional */ \
    X(VALIDATE_HTTPS_TRACKER_CERTIFICATE, "validate_https_tracker_certificate", BOOL, true, 0, 1, SG_TRACKERS) \
    X(WEB_UI_ADDRESS, "web_ui_address", STR, "*", 0, 0, SG_WEBUI_BIND | SG_WEBUI_AUTH) \
    X(WEB_UI_BAN_DURATION, "web_ui_ban_duration", INT, 3600, INT64_MIN, INT64_MAX, SG_WEBUI_AUTH) \
    X(WEB_UI_CLICKJACKING_PROTECTION_ENABLED, "web_ui_clickjacking_protection_enabled", BOOL, true, 0, 1, SG_WEBUI_AUTH) \
    X(WEB_UI_CSRF_PROTECTION_ENABLED, "web_ui_csrf_protection_enabled", BOOL, true, 0, 1, SG_WEBUI_AUTH) \
    X(WEB_UI_CUSTOM_HTTP_HEADERS, "web_ui_custom_http_headers", STR, "", 0, 0, SG_WEBUI_AUTH) \
    X(WEB_UI_DOMAIN_LIST, "web_ui_domain_list", STR, "*", 0, 0, SG_WEBUI_AUTH) \
    X(WEB_UI_HOST_HEADER_VALIDATION_ENABLED, "web_ui_host_header_validation_enabled", BOOL, true, 0, 1, SG_WEBUI_AUTH) \
    X(WEB_UI_HTTPS_CERT_PATH, "web_ui_https_cert_path", STR, "", 0, 0, SG_WEBUI_BIND | SG_WEBUI_AUTH) \
    X(WEB_UI_HTTPS_KEY_PATH, "web_ui_https_key_path", STR, "", 0, 0, SG_WEBUI_BIND | SG_WEBUI_AUTH) \
    X(WEB_UI_MAX_AUTH_FAIL_COUNT, "web_ui_max_auth_fail_count", INT, 5, INT64_MIN, INT64_MAX, SG_WEBUI_AUTH) \
    X(WEB_UI_PORT, "web_ui_port", INT, 8080, 0, 65535, SG_WEBUI_BIND | SG_WEBUI_AUTH) \
    X(WEB_UI_REVERSE_PROXIES_LIST, "web_ui_reverse_proxies_list", STR, "", 0, 0, SG_WEBUI_AUTH) \
    X(WEB_UI_REVERSE_PROXY_ENABLED, "web_ui_reverse_proxy_enabled", BOOL, false, 0, 1, SG_WEBUI_AUTH) \
    X(WEB_UI_SECURE_COOKIE_ENABLED, "web_ui_secure_cookie_enabled", BOOL, true, 0, 1, SG_WEBUI_AUTH) \
    X(WEB_UI_SESSION_TIMEOUT, "web_ui_session_timeout", INT, 3600, INT64_MIN, INT64_MAX, SG_WEBUI_AUTH) \
    X(WEB_UI_UPNP, "web_ui_upnp", BOOL, false, 0, 1, SG_PORTMAP) \
    X(WEB_UI_USE_CUSTOM_HTTP_HEADERS_ENABLED, "web_ui_use_custom_http_headers_enabled", BOOL, false, 0, 1, SG_WEBUI_AUTH) \
    X(WEB_UI_USERNAME, "web_ui_username", STR, "admin", 0, 0, SG_WEBUI_AUTH)


#endif
