// synkronus-admin: migrations and user administration from the command line.
// This is how the first admin is made; there is no default account.
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>

#include <string>
#include <vector>

#include "core/grant.h"
#include "core/log.h"
#include "core/qr.h"
#include "domain/audit_event.h"
#include "domain/provisioning.h"
#include "db/database.h"
#include "db/migrate.h"
#include "services/admin_service.h"
#include "services/audit.h"
#include "services/bundle_store.h"
#include "services/attachment_store.h"
#include "services/settings.h"
#include "services/user_service.h"

namespace {

int usage() {
    std::cerr << "usage: synkronus-admin [--config FILE] COMMAND\n"
                 "commands:\n"
                 "  migrate                      apply the SQL migrations not yet applied\n"
                 "  create-user USER ROLE        role: read-only, read-write or admin\n"
                 "  reset-password USER          new password read from stdin (or prompted)\n"
                 "  set-role USER ROLE\n"
                 "  delete-user USER\n"
                 "  list-users\n"
                 "  check [--repair]             compare the app bundle store with the database;\n"
                 "                               --repair re-publishes damaged versions from their\n"
                 "                               kept ZIP, or deactivates an active one it cannot repair\n"
                 "  attachments list             stored attachments; 'unreferenced' when no record's data names one\n"
                 "  attachments delete ID        as DELETE /attachments/ID (clients see a delete in the manifest)\n"
                 "  attachments check            every stored attachment's file exists with its size and hash\n"
                 "  attachments reindex          rebuild the attachment references from the records (after a rolling\n"
                 "                               upgrade from a version without them; safe while servers run)\n"
                 "  records recount              count the records and the live attachments for the overview\n"
                 "                               afresh (after a rolling upgrade from a version without the\n"
                 "                               counts; pushes and uploads wait for it)\n"
                 "  devices                      the devices that pushed or pulled, most recently seen first:\n"
                 "                               client_id user generation first_seen last_seen last_push_at\n"
                 "                               last_pull_at cursor behind pushes records_pushed ('-': none)\n"
                 "  audit [--actor NAME] [--action ACTION] [--after TIME] [--before TIME] [--limit N]\n"
                 "                               the audit log, newest first (TIME: RFC 3339; N: default 100)\n"
                 "  provision USER [--role read-only|read-write] [--server-url URL]\n"
                 "                               create a device user or give a non-admin one a new password\n"
                 "                               (its sessions are revoked); prints the password once, the\n"
                 "                               FRMLS: string and its QR code. URL default: https://HOSTNAME\n"
                 "Passwords are read from the first line of standard input, or prompted\n"
                 "for on a terminal; never on the command line, where ps would show them.\n";
    return 2;
}

std::string read_password(const std::string& prompt) {
    std::string pw;
    if (isatty(0)) {
        std::cerr << prompt;
        termios old {};
        tcgetattr(0, &old);
        termios quiet = old;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        tcsetattr(0, TCSANOW, &quiet);
        std::getline(std::cin, pw);
        tcsetattr(0, TCSANOW, &old);
        std::cerr << "\n";
    } else {
        std::getline(std::cin, pw);
    }
    if (!pw.empty() && pw.back() == '\r') pw.pop_back();
    return pw;
}

// Exit 0 when the store matches the database (after repairs), 1 when not.
int check_store(db::Database& database, const core::Config& cfg, bool repair) {
    services::BundleStore store(database, cfg.str("bundle_dir"), cfg.integer("bundle_retention"));
    auto results = store.check(repair);
    int left = 0;
    for (const auto& c : results) {
        std::cout << "app bundle version " << services::bundle_version_name(c.version) << (c.active ? " (active)" : "");
        if (c.problems.empty()) {
            std::cout << ": ok\n";
            continue;
        }
        std::cout << ":";
        for (const auto& p : c.problems) std::cout << " " << p << ";";
        switch (c.repair) {
            case services::BundleCheck::Repair::republished: std::cout << " repaired: re-published from its ZIP\n"; break;
            case services::BundleCheck::Repair::deactivated:
                std::cout << " deactivated: no kept ZIP to repair it from; push or switch to another version\n";
                break;
            case services::BundleCheck::Repair::not_repaired:
                std::cout << " not repaired: no kept ZIP to repair it from\n";
                ++left;
                break;
            case services::BundleCheck::Repair::none: std::cout << " (check --repair to repair)\n"; ++left; break;
        }
    }
    if (results.empty()) std::cout << "no app bundle version is stored\n";
    std::cout << (left ? std::to_string(left) + " version(s) with problems\n" : "the app bundle store matches the database\n");
    return left ? 1 : 0;
}

int refuse(const std::string& why) {
    std::cerr << "synkronus-admin: " << why << "\n";
    return 1;
}

int attachments(db::Database& database, const core::Config& cfg, const std::vector<std::string>& args) {
    services::AttachmentStore store(database, cfg.str("attachment_dir"));
    const std::string& sub = args[1];
    if (sub == "list" && args.size() == 2) {
        for (const auto& a : store.live())
            std::cout << a.attachment_id << "\t" << a.size << "\t" << a.content_type << "\t" << a.sha256
                      << (store.referenced(a.attachment_id) ? "" : "\tunreferenced") << "\n";
        return 0;
    }
    if (sub == "delete" && args.size() == 3) {
        if (!store.remove(args[2], services::admin_tool_actor())) return refuse("no attachment '" + args[2] + "'");
        std::cout << "deleted attachment '" << args[2] << "'\n";
        return 0;
    }
    if (sub == "reindex" && args.size() == 2) {
        const size_t n = db::rebuild_attachment_refs(database.raw_conn(), nullptr);
        std::cout << "attachment references rebuilt from " << n << " record(s)\n";
        return 0;
    }
    if (sub == "check" && args.size() == 2) {
        auto problems = store.check();
        for (const auto& p : problems) std::cerr << "synkronus-admin: attachment '" << p.attachment_id << "': " << p.what << "\n";
        if (!problems.empty()) return 1;
        std::cout << store.live().size() << " attachment(s) checked, all files present with their hash\n";
        return 0;
    }
    return usage();
}

const std::string& or_dash(const std::optional<std::string>& v) {
    static const std::string dash = "-";
    return v ? *v : dash;
}

std::string or_dash(const std::optional<int64_t>& v) { return v ? std::to_string(*v) : "-"; }

// The device list as GET /admin/devices shows it, all pages, one device per line.
int devices(db::Database& database, const core::Config& cfg) {
    services::AdminService admin(database, services::password_params_from(cfg));
    std::optional<std::pair<std::string, std::string>> after;
    for (;;) {
        constexpr int kPage = 500;
        auto page = admin.devices(after, kPage);
        for (const auto& d : page.devices)
            std::cout << d.client_id << "\t" << d.username << "\t" << (d.generation.empty() ? "-" : d.generation) << "\t"
                      << d.first_seen << "\t" << d.last_seen << "\t" << or_dash(d.last_push_at) << "\t"
                      << or_dash(d.last_pull_at) << "\t" << or_dash(d.cursor) << "\t" << or_dash(page.behind(d))
                      << "\t" << d.pushes << "\t" << d.records_pushed << "\n";
        if (page.devices.size() < static_cast<size_t>(kPage)) return 0;
        after = std::make_pair(page.devices.back().sort_key, page.devices.back().client_id);
    }
}

// Options after the command's positional arguments: --name VALUE pairs; a name not in
// `known` or without a value is a usage error (nullopt).
std::optional<std::map<std::string, std::string>> options(const std::vector<std::string>& args, size_t from,
                                                           const std::vector<std::string>& known) {
    std::map<std::string, std::string> out;
    for (size_t i = from; i < args.size(); i += 2) {
        if (std::find(known.begin(), known.end(), args[i]) == known.end() || i + 1 >= args.size()) return std::nullopt;
        out[args[i].substr(2)] = args[i + 1];
    }
    return out;
}

int audit(db::Database& database, const core::Config& cfg, const std::vector<std::string>& args) {
    auto opts = options(args, 1, {"--actor", "--action", "--after", "--before", "--limit"});
    if (!opts) return usage();
    db::AuditFilter filter;
    if (opts->count("actor")) filter.actor = opts->at("actor");
    if (opts->count("action")) {
        if (!domain::valid_audit_action(opts->at("action"))) return refuse("--action must be an action name such as user.role");
        filter.action = opts->at("action");
    }
    for (const char* name : {"after", "before"}) {
        if (!opts->count(name)) continue;
        auto t = services::audit_filter_time(opts->at(name));
        if (!t) return refuse(std::string("--") + name + " must be an RFC 3339 time, e.g. 2026-11-28T21:09:34Z");
        (std::string(name) == "after" ? filter.after : filter.before) = *t;
    }
    int64_t limit = 100;
    if (opts->count("limit")) {
        const std::string& v = opts->at("limit");
        if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos || std::stoll(v) < 1)
            return refuse("--limit must be a whole number of at least 1");
        limit = std::stoll(v);
    }
    services::AuditService log(database, cfg.integer("audit_retention_days"));
    while (limit > 0) {
        const int n = static_cast<int>(std::min<int64_t>(limit, 500));
        auto events = log.page(filter, n);
        for (const auto& e : events)
            std::cout << e.id << "\t" << e.at << "\t" << e.actor << "\t" << e.action << "\t" << e.target << "\t"
                      << e.detail << "\t" << (e.address.empty() ? "-" : e.address) << "\t"
                      << (e.request_id.empty() ? "-" : e.request_id) << "\n";
        if (events.size() < static_cast<size_t>(n)) break;
        limit -= n;
        filter.below_id = events.back().id;
    }
    return 0;
}

std::string host_name() {
    char name[256] = {};
    if (gethostname(name, sizeof name - 1) != 0) return "";
    return name;
}

int provision(db::Database& database, const core::Config& cfg, const std::vector<std::string>& args) {
    auto opts = options(args, 2, {"--role", "--server-url"});
    if (!opts) return usage();
    const std::string& username = args[1];
    if (!services::valid_username(username)) return refuse(services::kUsernameRule);
    const std::string role = opts->count("role") ? opts->at("role") : "read-write";
    if (role != "read-only" && role != "read-write")
        return refuse("--role must be read-only or read-write (an admin account is never provisioned)");
    std::string url;
    if (opts->count("server-url")) {
        url = opts->at("server-url");
        if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0)
            return refuse("--server-url must start with https:// (or http://)");
    } else {
        url = domain::default_server_url(host_name());
        if (url.empty()) return refuse("this host's name makes no server URL; give --server-url");
    }
    services::AdminService admin(database, services::password_params_from(cfg));
    auto p = admin.provision(username, role, url, services::admin_tool_actor());
    if (p.result == services::UserService::ProvisionResult::is_admin)
        return refuse("'" + username + "' is an admin account; admin accounts are never provisioned on a device");
    std::cout << (p.result == services::UserService::ProvisionResult::created ? "created " : "reset ") << role
              << " device user '" << username << "'"
              << (p.result == services::UserService::ProvisionResult::created ? "" : "; their tokens are revoked") << "\n"
              << "server:   " << url << "\n"
              << "password: " << p.password << "  (shown only now)\n"
              << "frmls:    " << p.frmls << "\n"
              << core::qr_text(core::qr_encode(p.frmls));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::string config_path = getenv("SYNKRONUS_CONFIG") ? getenv("SYNKRONUS_CONFIG") : services::kDefaultConfigPath;
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--config" && i + 1 < argc) config_path = argv[++i];
        else args.push_back(a);
    }
    if (args.empty()) return usage();
    try {
        core::Config cfg = services::load_config(config_path, access(config_path.c_str(), F_OK) == 0, false);
        core::log::set_level(core::log::Level::warn);
        // Changes made here on the server's host (check --repair deactivating or
        // re-publishing a version, attachments delete) move the grant generation link as
        // the workers' do, so that what nginx keeps (core/grant.h; the manifest too)
        // shows them at once. Where this user cannot, a warning says that they show
        // within grant_seconds + 1 s, as from another host.
        core::grant::set_generation_link(cfg.str("grant_generation_link"));
        db::Database database(services::db_settings_from(cfg));
        const std::string& cmd = args[0];
        if (cmd == "migrate" && args.size() == 1) {
            auto r = db::migrate(database, cfg.str("sql_dir"));
            for (const auto& f : r.applied) std::cout << "applied " << f << "\n";
            std::cout << r.applied.size() << " migration(s) applied, " << r.already.size() << " already applied\n";
            return 0;
        }
        if (cmd == "check" && (args.size() == 1 || (args.size() == 2 && args[1] == "--repair")))
            return check_store(database, cfg, args.size() == 2);
        services::UserService users(database, services::password_params_from(cfg));
        if (cmd == "create-user" && args.size() == 3) {
            if (!services::valid_username(args[1])) return refuse(services::kUsernameRule);
            if (!services::valid_role(args[2])) return refuse(services::kRoleRule);
            std::string pw = read_password("Password for " + args[1] + ": ");
            if (auto problem = services::password_problem(pw)) return refuse("the password " + *problem);
            if (!users.create(args[1], pw, args[2], services::admin_tool_actor())) return refuse("user '" + args[1] + "' already exists");
            std::cout << "created " << args[2] << " user '" << args[1] << "'\n";
            return 0;
        }
        if (cmd == "reset-password" && args.size() == 2) {
            std::string pw = read_password("New password for " + args[1] + ": ");
            if (auto problem = services::password_problem(pw)) return refuse("the password " + *problem);
            if (!users.reset_password(args[1], pw, services::admin_tool_actor())) return refuse("no user '" + args[1] + "'");
            std::cout << "password of '" << args[1] << "' reset; their tokens are revoked\n";
            return 0;
        }
        if (cmd == "set-role" && args.size() == 3) {
            if (!services::valid_role(args[2])) return refuse(services::kRoleRule);
            switch (users.set_role(args[1], args[2], services::admin_tool_actor())) {
                case services::RoleResult::not_found: return refuse("no user '" + args[1] + "'");
                case services::RoleResult::last_admin: return refuse("cannot demote the last admin");
                case services::RoleResult::changed: break;
            }
            std::cout << "role of '" << args[1] << "' is now " << args[2] << "; their tokens are revoked\n";
            return 0;
        }
        if (cmd == "delete-user" && args.size() == 2) {
            switch (users.remove(args[1], "", services::admin_tool_actor())) {
                case services::DeleteResult::not_found: return refuse("no user '" + args[1] + "'");
                case services::DeleteResult::last_admin: return refuse("cannot delete the last admin");
                default: break;
            }
            std::cout << "deleted '" << args[1] << "'\n";
            return 0;
        }
        if (cmd == "list-users" && args.size() == 1) {
            for (const auto& u : users.list()) std::cout << u.username << "\t" << u.role << "\t" << u.created_at << "\n";
            return 0;
        }
        if (cmd == "attachments" && args.size() >= 2) return attachments(database, cfg, args);
        if (cmd == "records" && args.size() == 2 && args[1] == "recount") {
            const int64_t n = db::recount_records(database.raw_conn(), cfg.str("sql_dir"));
            std::cout << "record counts rebuilt from " << n << " record(s), attachment totals recounted\n";
            return 0;
        }
        if (cmd == "devices" && args.size() == 1) return devices(database, cfg);
        if (cmd == "audit") return audit(database, cfg, args);
        if (cmd == "provision" && args.size() >= 2) return provision(database, cfg, args);
        return usage();
    } catch (const core::ConfigError& e) {
        std::cerr << "synkronus-admin: " << e.what() << "\n";
        return 78;
    } catch (const std::exception& e) {
        std::cerr << "synkronus-admin: " << e.what() << "\n";
        return 1;
    }
}
