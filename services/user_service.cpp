#include "services/user_service.h"

#include <cctype>

#include "core/http.h"

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

std::optional<db::UserRow> UserService::create(const std::string& username, const std::string& password,
                                               const std::string& role, const Actor& by) {
    const std::string hash = core::password_hash(password, params_);
    std::optional<db::UserRow> row;
    try {
        db_.transaction([&] {
            row = repo_.create(username, hash, role);
            audit(db_, by, "user.create", username, domain::AuditDetail().add("role", role));
        });
    } catch (const db::Error& e) {
        if (e.kind() == db::ErrorKind::duplicate) return std::nullopt;
        throw;
    }
    return row;
}

bool UserService::reset_password(const std::string& username, const std::string& password, const Actor& by) {
    if (!valid_username(username)) return false;
    const std::string hash = core::password_hash(password, params_);
    bool found = false;
    db_.transaction([&] {
        found = repo_.set_password(username, hash);
        if (found) audit(db_, by, "user.reset_password", username);
    });
    return found;
}

bool UserService::change_password(const std::string& username, const std::string& current,
                                  const std::string& password, const Actor& by) {
    auto user = repo_.find_by_username(username);
    if (!user || !core::password_verify(current, user->password_hash)) return false;
    const std::string hash = core::password_hash(password, params_);
    bool found = false;
    db_.transaction([&] {
        found = repo_.set_password(user->username, hash);
        if (found) audit(db_, by, "user.change_password", user->username);
    });
    return found;
}

db::DeleteResult UserService::remove(const std::string& username, const std::string& caller, const Actor& by) {
    db::DeleteResult result = db::DeleteResult::not_found;
    db_.transaction([&] {
        result = repo_.remove(username, caller);
        if (result == db::DeleteResult::deleted) audit(db_, by, "user.delete", username);
    });
    return result;
}

db::UserRepository::RoleResult UserService::set_role(const std::string& username, const std::string& role,
                                                     const Actor& by) {
    auto result = db::UserRepository::RoleResult::not_found;
    db_.transaction([&] {
        result = repo_.set_role(username, role);
        if (result == db::UserRepository::RoleResult::changed)
            audit(db_, by, "user.role", username, domain::AuditDetail().add("role", role));
    });
    return result;
}

bool UserService::bootstrap_admin(const std::string& password) {
    if (password.empty() || repo_.count() != 0) return false;
    return create("admin", password, "admin", Actor{"admin_password setting", "", ""}).has_value();
}

UserService::ProvisionResult UserService::provision(const std::string& username, const std::string& role,
                                                    const std::string& password, const Actor& by) {
    const std::string hash = core::password_hash(password, params_);
    for (int attempt = 0; attempt < 2; ++attempt) {
        std::optional<ProvisionResult> result;
        try {
            db_.transaction([&] {
                result.reset();
                // Only a non-admin's password is replaced (one conditional UPDATE, so a
                // concurrent promotion cannot slip between a check and the write).
                if (repo_.set_password_unless_admin(username, hash)) {
                    result = ProvisionResult::reset;
                } else if (!repo_.find_by_username(username)) {
                    repo_.create(username, hash, role);
                    result = ProvisionResult::created;
                } else {
                    result = ProvisionResult::is_admin;
                    return;
                }
                audit(db_, by, "device.provision", username,
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

db::RotateResult UserService::refresh(const std::string& token_hash, const std::string& next_hash,
                                      int64_t next_expires_at, const Actor& by) {
    db::RefreshTokenRepository tokens(db_);
    db::RotateResult r{db::RotateStatus::invalid, "", ""};
    db_.transaction([&] {
        r = tokens.rotate(token_hash, next_hash, next_expires_at);
        if (r.status == db::RotateStatus::reused)
            audit(db_, Actor{r.username, by.address, by.request_id}, "auth.refresh_reuse", r.username,
                  domain::AuditDetail().add("effect", "login revoked"));
    });
    return r;
}

void UserService::logout(const std::string& username, const std::optional<std::string>& refresh_hash,
                         const std::string& jti, int64_t jti_expires_at) {
    db_.transaction([&] {
        if (refresh_hash) db::RefreshTokenRepository(db_).revoke_family(*refresh_hash, username);
        if (!jti.empty()) repo_.revoke_access_token(jti, username, jti_expires_at);
    });
}

}  // namespace services
