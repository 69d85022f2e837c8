// synkronus-admin: migrations and user administration from the command line.
// This is how the first admin is made; there is no default account.
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include <string>
#include <vector>

#include "core/log.h"
#include "db/database.h"
#include "db/migrate.h"
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
        if (!store.remove(args[2], "synkronus-admin")) return refuse("no attachment '" + args[2] + "'");
        std::cout << "deleted attachment '" << args[2] << "'\n";
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
            if (!users.create(args[1], pw, args[2])) return refuse("user '" + args[1] + "' already exists");
            std::cout << "created " << args[2] << " user '" << args[1] << "'\n";
            return 0;
        }
        if (cmd == "reset-password" && args.size() == 2) {
            std::string pw = read_password("New password for " + args[1] + ": ");
            if (auto problem = services::password_problem(pw)) return refuse("the password " + *problem);
            if (!users.reset_password(args[1], pw)) return refuse("no user '" + args[1] + "'");
            std::cout << "password of '" << args[1] << "' reset; their tokens are revoked\n";
            return 0;
        }
        if (cmd == "set-role" && args.size() == 3) {
            if (!services::valid_role(args[2])) return refuse(services::kRoleRule);
            switch (users.set_role(args[1], args[2])) {
                case services::RoleResult::not_found: return refuse("no user '" + args[1] + "'");
                case services::RoleResult::last_admin: return refuse("cannot demote the last admin");
                case services::RoleResult::changed: break;
            }
            std::cout << "role of '" << args[1] << "' is now " << args[2] << "; their tokens are revoked\n";
            return 0;
        }
        if (cmd == "delete-user" && args.size() == 2) {
            switch (users.remove(args[1], "")) {
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
        return usage();
    } catch (const core::ConfigError& e) {
        std::cerr << "synkronus-admin: " << e.what() << "\n";
        return 78;
    } catch (const std::exception& e) {
        std::cerr << "synkronus-admin: " << e.what() << "\n";
        return 1;
    }
}
