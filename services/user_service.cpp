#include "services/user_service.h"

#include <algorithm>
#include <cctype>

#include "core/crypto.h"
#include "core/log.h"

#include "core/role.h"
#include "db/user_repository.h"
#include "services/unit_of_work.h"

namespace services {

namespace {
constexpr size_t kMinPassword = 8, kMaxPassword = 1024;
}

bool valid_username(std::string_view u) {
    if (u.empty() || u.size() > 64) return false;
    for (char c : u)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '@' || c == '-')) return false;
    return true;
}

std::optional<std::string> password_problem(std::string_view pw) {
    if (pw.size() < kMinPassword) return "must be at least " + std::to_string(kMinPassword) + " bytes";
    if (pw.size() > kMaxPassword) return "must be at most " + std::to_string(kMaxPassword) + " bytes";
    return std::nullopt;
}

bool valid_role(std::string_view role) { return core::parse_role(role).has_value(); }

namespace {

using Repo = db::UserRepository;

// Locking every admin row serializes concurrent deletes and demotions of admins, so
// two admins removing each other cannot leave none. True when `username` is the
// only admin.
bool lock_admins_and_check_last(Repo& repo, const std::string& username) {
    const auto admins = repo.lock_admins();
    const bool is_admin = std::find(admins.begin(), admins.end(), username) != admins.end();
    return is_admin && admins.size() <= 1;
}

// A random first token version: tokens of an earlier user of the same name (deleted,
// then the name created again) never match the new user's version.
int64_t first_token_version() {
    std::string r = core::random_bytes(8);
    int64_t version = 0;
    for (unsigned char c : r) version = (version << 8) | c;
    return version & ((int64_t{1} << 52) - 1);  // exact in JSON readers that use doubles
}

}  // namespace

std::optional<db::UserRow> UserService::create(const std::string& username, const std::string& password,
                                               const std::string& role, const Actor& by) {
    const std::string hash = core::password_hash(password, params_);
    const int64_t version = first_token_version();
    std::optional<db::UserRow> row;
    try {
        db_.transaction([&](db::Tx& tx) {
            Repo repo(tx);
            repo.insert(username, hash, role, version);
            row = repo.find_by_username(username);
            audit(tx, by, "user.create", username, domain::AuditDetail().add("role", role));
        });
    } catch (const db::Error& e) {
        if (e.kind() == db::ErrorKind::duplicate) return std::nullopt;
        throw;
    }
    if (!row) throw db::Error(db::ErrorKind::other, 0, "user vanished right after insert");
    return row;
}

namespace {

// Sets the password and revokes the user's refresh tokens, with `action`'s audit event.
bool store_password(db::Tx& tx, const std::string& username, const std::string& password_hash, const Actor& by,
                    const char* action) {
    if (!Repo(tx).set_password(username, password_hash)) return false;
    db::RefreshTokenRepository(tx).revoke_user(username);
    audit(tx, by, action, username);
    return true;
}

}  // namespace

bool UserService::reset_password(const std::string& username, const std::string& password, const Actor& by) {
    if (!valid_username(username)) return false;
    const std::string hash = core::password_hash(password, params_);
    bool found = false;
    db_.transaction([&](db::Tx& tx) { found = store_password(tx, username, hash, by, "user.reset_password"); });
    return found;
}

bool UserService::change_password(const std::string& username, const std::string& current,
                                  const std::string& password, const Actor& by) {
    auto user = run_with<Repo>(db_, [&](Repo& r) { return r.find_by_username(username); });
    if (!user || !core::password_verify(current, user->password_hash)) return false;
    const std::string hash = core::password_hash(password, params_);
    bool found = false;
    db_.transaction([&](db::Tx& tx) { found = store_password(tx, user->username, hash, by, "user.change_password"); });
    return found;
}

DeleteResult UserService::remove(const std::string& username, const std::string& caller, const Actor& by) {
    if (username == caller) return DeleteResult::is_caller;
    DeleteResult result = DeleteResult::deleted;
    db_.transaction([&](db::Tx& tx) {
        Repo repo(tx);
        if (lock_admins_and_check_last(repo, username)) result = DeleteResult::last_admin;
        else if (!repo.remove(username)) result = DeleteResult::not_found;
        else {
            db::RefreshTokenRepository(tx).revoke_user(username);
            audit(tx, by, "user.delete", username);
            result = DeleteResult::deleted;
        }
    });
    return result;
}

RoleResult UserService::set_role(const std::string& username, const std::string& role, const Actor& by) {
    RoleResult result = RoleResult::changed;
    const int runs = db_.transaction([&](db::Tx& tx) {
        Repo repo(tx);
        if (lock_admins_and_check_last(repo, username) && role != "admin") result = RoleResult::last_admin;
        else if (!repo.set_role(username, role)) result = RoleResult::not_found;
        else {
            db::RefreshTokenRepository(tx).revoke_user(username);
            audit(tx, by, "user.role", username, domain::AuditDetail().add("role", role));
            result = RoleResult::changed;
        }
    });
    // An admin transaction with an audit event; make bench-cluster counts these lines
    // beside the pushes' reruns.
    if (runs > 1) core::log::debug("role change reran " + std::to_string(runs - 1) + " time(s)");
    return result;
}

std::vector<db::UserRow> UserService::list() {
    return run_with<Repo>(db_, [](Repo& r) { return r.list(); });
}

bool UserService::bootstrap_admin(const std::string& password) {
    if (password.empty() || run_with<Repo>(db_, [](Repo& r) { return r.count(); }) != 0) return false;
    return create("admin", password, "admin", Actor{"admin_password setting", "", ""}).has_value();
}

UserService::ProvisionResult UserService::provision(const std::string& username, const std::string& role,
                                                    const std::string& password, const Actor& by) {
    const std::string hash = core::password_hash(password, params_);
    for (int attempt = 0; attempt < 2; ++attempt) {
        std::optional<ProvisionResult> result;
        try {
            db_.transaction([&](db::Tx& tx) {
                Repo repo(tx);
                result.reset();
                // Only a non-admin's password is replaced (one conditional UPDATE, so a
                // concurrent promotion cannot slip between a check and the write).
                if (repo.set_password_unless_admin(username, hash)) {
                    db::RefreshTokenRepository(tx).revoke_user(username);
                    result = ProvisionResult::reset;
                } else if (!repo.find_by_username(username)) {
                    repo.insert(username, hash, role, first_token_version());
                    result = ProvisionResult::created;
                } else {
                    result = ProvisionResult::is_admin;
                    return;
                }
                audit(tx, by, "device.provision", username,
                      domain::AuditDetail()
                          .add("role", role)
                          .add("account", *result == ProvisionResult::created ? "created" : "new password"));
            });
        } catch (const db::Error& e) {
            // Created by someone else between the two statements: look again.
            if (e.kind() == db::ErrorKind::duplicate) continue;
            throw;
        }
        return *result;
    }
    return ProvisionResult::is_admin;
}

}  // namespace services
