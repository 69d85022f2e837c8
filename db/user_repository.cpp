#include "db/user_repository.h"
#include "db/sql.h"

#include <memory>

namespace db {

using RS = std::unique_ptr<sql::ResultSet>;

std::optional<UserRow> UserRepository::find_by_username(const std::string& username) {
    auto& ps = tx_.stmt(Stmt::USERS_SEL_BY_USERNAME);
    ps.setString(1, username);
    RS rs(ps.executeQuery());
    if (!rs->next()) return std::nullopt;
    return UserRow{rs->getString(1), rs->getString(2), rs->getString(3), rs->getInt64(4), rs->getString(5)};
}

std::optional<AuthInfo> UserRepository::auth_info(const std::string& username) {
    auto& ps = tx_.stmt(Stmt::USERS_SEL_AUTH);
    ps.setString(1, username);
    RS rs(ps.executeQuery());
    std::optional<AuthInfo> out;
    while (rs->next()) {  // one row per revoked access token (at least one: LEFT JOIN)
        if (!out) out = AuthInfo{rs->getString(1), rs->getInt64(2), {}};
        if (!rs->isNull(3)) out->revoked_jtis.push_back(rs->getString(3));
    }
    return out;
}

std::vector<UserRow> UserRepository::list() {
    std::vector<UserRow> out;
    RS rs(tx_.stmt(Stmt::USERS_SEL_ALL).executeQuery());
    while (rs->next()) out.push_back(UserRow{rs->getString(1), "", rs->getString(2), 0, rs->getString(3)});
    return out;
}

int64_t UserRepository::count() {
    RS rs(tx_.stmt(Stmt::USERS_COUNT).executeQuery());
    return rs->next() ? rs->getInt64(1) : 0;
}

void UserRepository::insert(const std::string& username, const std::string& password_hash, const std::string& role,
                            int64_t token_version) {
    auto& ps = tx_.stmt(Stmt::USERS_INS);
    ps.setString(1, username);
    ps.setString(2, password_hash);
    ps.setString(3, role);
    ps.setInt64(4, token_version);
    ps.executeUpdate();
}

std::vector<std::string> UserRepository::lock_admins() {
    std::vector<std::string> admins;
    RS rs(tx_.stmt(Stmt::USERS_SEL_ADMINS_FOR_UPDATE).executeQuery());
    while (rs->next()) admins.push_back(rs->getString(1));
    return admins;
}

bool UserRepository::remove(const std::string& username) {
    auto& del = tx_.stmt(Stmt::USERS_DEL);
    del.setString(1, username);
    return del.executeUpdate() > 0;
}

bool UserRepository::set_password(const std::string& username, const std::string& password_hash) {
    auto& up = tx_.stmt(Stmt::USERS_UPD_PASSWORD);
    up.setString(1, password_hash);
    up.setString(2, username);
    return up.executeUpdate() > 0;
}

bool UserRepository::set_password_unless_admin(const std::string& username, const std::string& password_hash) {
    auto& up = tx_.stmt(Stmt::USERS_UPD_PASSWORD_NON_ADMIN);
    up.setString(1, password_hash);
    up.setString(2, username);
    return up.executeUpdate() > 0;
}

void UserRepository::revoke_access_token(const std::string& jti, const std::string& username, int64_t expires_at) {
    auto& ps = tx_.stmt(Stmt::REVOKED_JTI_INS);
    ps.setString(1, jti);
    ps.setString(2, username);
    ps.setInt64(3, expires_at);
    ps.executeUpdate();
}

void UserRepository::delete_expired_revocations() { tx_.stmt(Stmt::REVOKED_JTI_DEL_EXPIRED).executeUpdate(); }

bool UserRepository::set_role(const std::string& username, const std::string& role) {
    auto& ps = tx_.stmt(Stmt::USERS_UPD_ROLE);
    ps.setString(1, role);
    ps.setString(2, username);
    return ps.executeUpdate() > 0;
}

void RefreshTokenRepository::store(const std::string& token_hash, const std::string& family_id,
                                   const std::string& username, int64_t expires_at) {
    auto& ps = tx_.stmt(Stmt::REFRESH_INS);
    ps.setString(1, token_hash);
    ps.setString(2, family_id);
    ps.setString(3, username);
    ps.setInt64(4, expires_at);
    ps.executeUpdate();
}

std::optional<RefreshTokenRow> RefreshTokenRepository::find_for_update(const std::string& token_hash) {
    auto& sel = tx_.stmt(Stmt::REFRESH_SEL_FOR_UPDATE);
    sel.setString(1, token_hash);
    RS rs(sel.executeQuery());
    if (!rs->next()) return std::nullopt;
    return RefreshTokenRow{rs->getString(1), rs->getString(2), rs->getInt64(3), rs->getInt(4) != 0,
                           rs->getInt(5) != 0};
}

void RefreshTokenRepository::mark_used(const std::string& token_hash) {
    auto& ps = tx_.stmt(Stmt::REFRESH_MARK_USED);
    ps.setString(1, token_hash);
    ps.executeUpdate();
}

void RefreshTokenRepository::revoke_family(const std::string& family_id) {
    auto& ps = tx_.stmt(Stmt::REFRESH_REVOKE_FAMILY);
    ps.setString(1, family_id);
    ps.executeUpdate();
}

void RefreshTokenRepository::revoke_user(const std::string& username) {
    auto& ps = tx_.stmt(Stmt::REFRESH_REVOKE_USER);
    ps.setString(1, username);
    ps.executeUpdate();
}

void RefreshTokenRepository::delete_expired() { tx_.stmt(Stmt::REFRESH_DEL_EXPIRED).executeUpdate(); }

std::optional<LoginFailures> LoginFailureRepository::find(const char* scope, const std::string& subject) {
    auto& ps = tx_.stmt(Stmt::LOGIN_FAIL_SEL);
    ps.setString(1, scope);
    ps.setString(2, subject);
    RS rs(ps.executeQuery());
    if (!rs->next()) return std::nullopt;
    return LoginFailures{rs->getInt64(1), rs->getInt64(2)};
}

void LoginFailureRepository::record(const char* scope, const std::string& subject, int64_t window_s) {
    auto& ps = tx_.stmt(Stmt::LOGIN_FAIL_UPSERT);
    ps.setString(1, scope);
    ps.setString(2, subject);
    ps.setInt64(3, window_s);
    ps.setInt64(4, window_s);
    ps.executeUpdate();
}

void LoginFailureRepository::clear(const char* scope, const std::string& subject) {
    auto& ps = tx_.stmt(Stmt::LOGIN_FAIL_RESET);
    ps.setString(1, scope);
    ps.setString(2, subject);
    ps.executeUpdate();
}

void LoginFailureRepository::delete_older_than(int64_t window_s) {
    auto& ps = tx_.stmt(Stmt::LOGIN_FAIL_DEL_OLD);
    ps.setInt64(1, window_s);
    ps.executeUpdate();
}

}  // namespace db
