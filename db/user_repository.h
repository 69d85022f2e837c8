// Users, refresh tokens and failed-login counters.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/database.h"

namespace db {

struct UserRow {
    std::string username;
    std::string password_hash;
    std::string role;
    int64_t token_version = 0;
    std::string created_at;  // RFC 3339
};

struct AuthInfo {
    std::string role;
    int64_t token_version;
    // jtis of the user's access tokens ended before their exp (POST /auth/logout).
    std::vector<std::string> revoked_jtis;
};

enum class DeleteResult { deleted, not_found, is_caller, last_admin };

class UserRepository {
public:
    explicit UserRepository(Database& db) : db_(db) {}

    std::optional<UserRow> find_by_username(const std::string& username);
    std::optional<AuthInfo> auth_info(const std::string& username);
    std::vector<UserRow> list();
    int64_t count();
    // Throws db::Error{duplicate} when the name exists (also when two creates race).
    UserRow create(const std::string& username, const std::string& password_hash, const std::string& role);
    DeleteResult remove(const std::string& username, const std::string& caller);
    // Sets the hash, raises token_version and revokes refresh tokens; false if no such user.
    bool set_password(const std::string& username, const std::string& password_hash);
    // Changes the role (refusing to demote the last admin); same revocation as above.
    enum class RoleResult { changed, not_found, last_admin };
    RoleResult set_role(const std::string& username, const std::string& role);
    // As set_password, but only for a user who is not an admin (provisioning); false
    // when there is no such non-admin user.
    bool set_password_unless_admin(const std::string& username, const std::string& password_hash);
    // Ends one access token before its exp: every worker refuses it once it reads the
    // user's auth info again (within revocation_cache_seconds).
    void revoke_access_token(const std::string& jti, const std::string& username, int64_t expires_at);
    // Housekeeping: at most once a minute cluster-wide; never throws.
    void delete_expired_revocations();

private:
    Database& db_;
};

enum class RotateStatus { ok, invalid, reused };

struct RotateResult {
    RotateStatus status;
    std::string username;
    std::string family_id;
};

class RefreshTokenRepository {
public:
    explicit RefreshTokenRepository(Database& db) : db_(db) {}
    // Stores the hash of `token` for the family (a new family per login).
    void store(const std::string& token_hash, const std::string& family_id, const std::string& username,
               int64_t expires_at);
    // Single use: marks the token used and stores `next_hash` in the same family, in one
    // transaction. A token presented a second time revokes its whole family.
    RotateResult rotate(const std::string& token_hash, const std::string& next_hash, int64_t next_expires_at);
    // Revokes the whole login of `token_hash` if it belongs to `username`; false otherwise.
    bool revoke_family(const std::string& token_hash, const std::string& username);
    // Housekeeping: at most once a minute cluster-wide, never twice at once; never throws.
    void delete_expired();

private:
    Database& db_;
};

class LoginThrottle {
public:
    explicit LoginThrottle(Database& db) : db_(db) {}
    // Seconds until the subject may try again, or 0 when not blocked.
    int64_t retry_after(const char* scope, const std::string& subject, int64_t max_failures, int64_t window_s);
    void record_failure(const char* scope, const std::string& subject, int64_t window_s);
    void clear(const char* scope, const std::string& subject);
    // Housekeeping: at most once a minute cluster-wide, never twice at once; never throws.
    void delete_old(int64_t window_s);

private:
    Database& db_;
};

}  // namespace db
