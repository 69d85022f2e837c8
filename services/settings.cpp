#include "services/settings.h"

#include <fstream>
#include <sstream>

#include "db/database.h"

namespace services {

using core::check_any;
using core::check_int;
using core::check_one_of;

std::vector<core::SettingDecl> setting_decls() {
    constexpr int64_t kMiB = 1024 * 1024;
    return {
        {"listen", "/run/synkronus/fcgi.sock",
         "FastCGI socket: a unix socket path, or host:port. Ignored when systemd passes a socket.", check_any()},
        {"socket_mode", "0660", "Permissions of the unix socket (octal); nginx's user must be able to connect.",
         [](const std::string& v) -> std::string {
             if (v.empty() || v.find_first_not_of("01234567") != std::string::npos || v.size() > 4)
                 return "must be an octal mode such as 0660";
             return "";
         }},
        {"workers", "0",
         "Number of FastCGI worker processes; 0 means two per CPU core (a worker waits on the\n"
         "database for much of a request, so one per core leaves cores idle).",
         check_int(0, 1024)},
        {"backlog", "1024", "Listen backlog of the FastCGI socket.", check_int(1, 65535)},
        {"db_host", "127.0.0.1", "MySQL/MariaDB host (ignored when db_socket is set).", check_any()},
        {"db_port", "3306", "MySQL/MariaDB TCP port.", check_int(1, 65535)},
        {"db_socket", "", "MySQL/MariaDB unix socket path; when set, used instead of host and port.", check_any()},
        {"db_hosts", "",
         "Database nodes as host:port, comma-separated (a Galera cluster), tried in this order on connect\n"
         "and whenever a connection is lost; a node that is not Synced in the primary component is\n"
         "skipped. List a different node first on each host to spread the load. When set, db_host,\n"
         "db_port and db_socket are ignored.",
         [](const std::string& v) -> std::string {
             if (v.empty()) return "";
             try {
                 db::parse_endpoints(v);
             } catch (const db::Error& e) {
                 return e.what();
             }
             return "";
         }},
        {"db_wsrep_sync_wait", "0",
         "On Galera, the session's wsrep_sync_wait: 1 makes every read wait until the node has applied\n"
         "all that the cluster committed before it (read-your-writes across hosts, at a round trip per\n"
         "read). 0 does not wait; pulls stay correct, they may end a few milliseconds behind.",
         check_int(0, 15)},
        {"db_user", "synkronus", "Database user.", check_any()},
        {"db_password", "", "Database password. Prefer db_password_file.", check_any(), true},
        {"db_password_file", "/etc/synkronus/db-password",
         "File holding the database password (used when db_password is empty; a missing file means none).\n"
         "The package generates it at first install; README.Debian creates the database user with it.",
         check_any()},
        {"db_name", "synkronus", "Database name.", check_any()},
        {"db_lock_wait_timeout", "20",
         "Seconds a request waits for a database lock (a long transaction or LOCK TABLES elsewhere)\n"
         "before it gives up with 503. Keep it below nginx's fastcgi_read_timeout (60 s).",
         check_int(1, 3600)},
        {"jwt_secret", "",
         "Secret that signs tokens, at least 32 bytes. Prefer jwt_secret_file; the server refuses to start without one.",
         check_any(), true},
        {"jwt_secret_file", "/etc/synkronus/jwt-secret",
         "File holding the token signing secret (used when jwt_secret is empty).", check_any()},
        {"access_token_ttl", "3600", "Access token lifetime in seconds.", check_int(60, 7 * 86400)},
        {"refresh_token_ttl", "2592000", "Refresh token lifetime in seconds (default 30 days).",
         check_int(300, 365 * 86400)},
        {"admin_password", "",
         "If set and no user exists yet, the first start creates the user 'admin' with this password.",
         check_any(), true},
        {"body_limit_json", std::to_string(64 * 1024), "Largest body of JSON endpoints other than sync, in bytes.",
         check_int(1024, 64 * kMiB)},
        {"body_limit_sync", std::to_string(16 * kMiB), "Largest body of /sync/push and /sync/pull, in bytes.",
         check_int(1024, 1024 * kMiB)},
        {"body_limit_bundle", std::to_string(100 * kMiB), "Largest app bundle upload, in bytes.",
         check_int(1024, 4096 * kMiB)},
        {"bundle_dir", "/var/lib/synkronus/bundles",
         "Where app bundle versions are stored. Must be shared by all hosts that serve downloads.", check_any()},
        {"bundle_retention", "5", "How many newest app bundle versions to keep (the active one is always kept).",
         check_int(1, 100000)},
        {"bundle_accel_prefix", "/_synkronus_bundle/",
         "Internal nginx location that serves bundle files (X-Accel-Redirect); must match the nginx snippet.",
         check_any()},
        {"bundle_cache_ms", "1000",
         "How long a worker may reuse the active bundle version it read (ms). Pushes and switches on the\n"
         "same host are seen at once; other hosts see them within this time. 0 reads it on every request.",
         check_int(0, 60000)},
        {"attachment_dir", "/var/lib/synkronus/attachments",
         "Where attachments are stored (by content hash). Must be shared by all hosts that serve downloads.",
         check_any()},
        {"attachment_max_bytes", std::to_string(64 * kMiB),
         "Largest attachment, in bytes (nginx's client_max_body_size for /attachments/ must allow it).",
         check_int(1, 4096 * kMiB)},
        {"attachment_cache_ms", "2000",
         "How long a worker may reuse an attachment's hash, size and type it read (ms), for downloads and\n"
         "304s without a database query. A deletion on the same host is seen at once; other hosts may\n"
         "still serve a deleted attachment for this long. 0 reads the row on every request.",
         check_int(0, 60000)},
        {"attachment_accel_prefix", "/_synkronus_attachment/",
         "Internal nginx location that serves attachment files (X-Accel-Redirect); must match the nginx snippet.",
         check_any()},
        {"public_base_url", "",
         "Scheme, host and port that attachment download_url values start with (e.g. https://sync.example.org).\n"
         "Empty: https:// and the Host the client called, which is what the device can reach.",
         [](const std::string& v) -> std::string {
             if (v.empty() || v.rfind("https://", 0) == 0 || v.rfind("http://", 0) == 0) return "";
             return "must start with https:// (or http://)";
         }},
        {"sync_max_records", "1000", "Most records one push may carry.", check_int(1, 100000)},
        {"idempotency_ttl", "86400", "How long a push's response is kept for replay, in seconds.",
         check_int(60, 30 * 86400)},
        {"record_history_days", "365",
         "How long the versions that accepted changes replaced are kept for GET /admin/records/{id}, in days; "
         "0 keeps none.",
         check_int(0, 36500)},
        {"login_max_failures_user", "10", "Failed logins per username within login_failure_window before 429.",
         check_int(1, 1000000)},
        {"login_max_failures_addr", "100", "Failed logins per client address within login_failure_window before 429.",
         check_int(1, 1000000)},
        {"login_failure_window", "900", "Window for counting failed logins, in seconds.", check_int(1, 86400)},
        {"argon2_memory_kib", "19456", "Argon2id memory cost in KiB.", check_int(1024, 4 * 1024 * 1024)},
        {"argon2_time_cost", "2", "Argon2id iterations.", check_int(1, 100)},
        {"revocation_cache_seconds", "2",
         "How long a worker trusts a user's token version before reading it again (revocation delay).",
         check_int(0, 5)},
        {"grant_seconds", "1",
         "How long nginx may reuse a worker's answer for downloads of bundle files and attachments\n"
         "(that a token is valid, at most revocation_cache_seconds - 1; which file a URI sends; that a\n"
         "client's copy is current), so that repeated downloads and 304s need no worker. Changes on this\n"
         "host (a switch, push, deletion, logout or password change) show at once; on other hosts\n"
         "within this + 1 s (or the worker's own cache time, whichever is longer). 0: nginx asks a\n"
         "worker for every download.",
         check_int(0, 5)},
        {"grant_generation_link", "/run/synkronus-fcgi/generation",
         "Symbolic link the workers point at a new directory after every change on this host that an\n"
         "answer nginx keeps could contradict; nginx puts its target into those answers' keys. Must\n"
         "match `root` of the grant locations in the nginx snippet, on a local filesystem. Empty: none\n"
         "(then changes on this host, too, show within grant_seconds + 1 s).",
         check_any()},
        {"presence_interval", "60",
         "Seconds between two writes of one device's presence (GET /admin/devices). Requests in between\n"
         "are counted in the worker and written with the next write, so a pull is not a write.",
         check_int(0, 3600)},
        {"device_presence", "on",
         "on: remember every client_id that pushes or pulls (GET /admin/devices). off: nothing is kept or\n"
         "written (the devices list stays as it was); `make bench` compares pulls with it on and off.",
         check_one_of({"on", "off"})},
        {"audit_retention_days", "400", "How long audit log events are kept, in days.", check_int(1, 36500)},
        {"sql_dir", "/usr/share/synkronus/sql", "Directory of the numbered SQL migrations.", check_any()},
        {"log_level", "info", "debug, info, warn or error.", check_one_of({"debug", "info", "warn", "error"})},
    };
}

core::Config load_config(const std::string& path, bool file_required, bool require_secret) {
    core::Config cfg(setting_decls());
    cfg.load_file(path, file_required);
    cfg.load_env();
    cfg.validate();
    // Secrets kept in files of their own (generated at install, never in a file the
    // admin edits or the package ships): read when the setting itself is empty.
    for (const auto& [key, file_key] : {std::pair{"jwt_secret", "jwt_secret_file"}, {"db_password", "db_password_file"}}) {
        if (!cfg.str(key).empty() || cfg.str(file_key).empty()) continue;
        std::ifstream in(cfg.str(file_key));
        if (!in) continue;
        std::stringstream ss;
        ss << in.rdbuf();
        std::string s = ss.str();
        while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
        cfg.set(key, s);
    }
    if (require_secret && cfg.str("jwt_secret").size() < 32)
        throw core::ConfigError(
            "jwt_secret: a token signing secret of at least 32 bytes is required (set jwt_secret or jwt_secret_file)");
    return cfg;
}

db::Settings db_settings_from(const core::Config& cfg) {
    db::Settings s;
    if (!cfg.str("db_hosts").empty()) {
        s.nodes = db::parse_endpoints(cfg.str("db_hosts"));
    } else {
        s.nodes.assign(1, db::Endpoint{});
        s.nodes[0].host = cfg.str("db_host");
        s.nodes[0].port = static_cast<int>(cfg.integer("db_port"));
        s.nodes[0].socket = cfg.str("db_socket");
    }
    s.wsrep_sync_wait = static_cast<int>(cfg.integer("db_wsrep_sync_wait"));
    s.user = cfg.str("db_user");
    s.password = cfg.str("db_password");
    s.name = cfg.str("db_name");
    s.lock_wait_timeout_s = static_cast<int>(cfg.integer("db_lock_wait_timeout"));
    return s;
}

core::PasswordParams password_params_from(const core::Config& cfg) {
    core::PasswordParams p;
    p.memory_kib = static_cast<uint32_t>(cfg.integer("argon2_memory_kib"));
    p.time_cost = static_cast<uint32_t>(cfg.integer("argon2_time_cost"));
    return p;
}

}  // namespace services
