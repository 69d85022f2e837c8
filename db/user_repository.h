// Users, refresh tokens and failed-login counters. Statements only: the
// transactions and the rules (last admin, token rotation, the failed-login
// budget) belong to services::UserService and services::AuthService.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/database.h"
#include "db/rows.h"

namespace db {

class UserRepository {
public:
    explicit UserRepository(Tx& tx) : tx_(tx) {}

    std::optional<UserRow> find_by_username(const std::string& username);
    std::optional<AuthInfo> auth_info(const std::string& username);
    std::vector<UserRow> list();
    int64_t count();
    // Throws db::Error{duplicate} when the name exists (also when two creates race).
    void insert(const std::string& username, const std::string& password_hash, const std::string& role,
                int64_t token_version);
    // The admins' names, every admin row locked until the transaction ends.
    std::vector<std::string> lock_admins();
    // False when there is no such user.
    bool remove(const std::string& username);
    // Sets the hash and raises token_version; false when there is no such user.
    bool set_password(const std::string& username, const std::string& password_hash);
    // Sets the role and raises token_version; false when there is no such user.
    bool set_role(const std::string& username, const std::string& role);
    // As set_password, but only for a user who is not an admin (provisioning); false
    // when there is no such non-admin user.
    bool set_password_unless_admin(const std::string& username, const std::string& password_hash);
    // Ends one access token before its exp: every worker refuses it once it reads the
    // user's auth info again (within revocation_cache_seconds).
    void revoke_access_token(const std::string& jti, const std::string& username, int64_t expires_at);
    void delete_expired_revocations();

private:
    Tx& tx_;
};

struct RefreshTokenRow {
    std::string family_id;
    std::string username;
    int64_t expires_at = 0;
    bool used = false;
    bool revoked = false;
};

class RefreshTokenRepository {
public:
    explicit RefreshTokenRepository(Tx& tx) : tx_(tx) {}
    // Stores the hash of a token for the family (a new family per login).
    void store(const std::string& token_hash, const std::string& family_id, const std::string& username,
               int64_t expires_at);
    // The token's row, locked until the transaction ends.
    std::optional<RefreshTokenRow> find_for_update(const std::string& token_hash);
    void mark_used(const std::string& token_hash);
    void revoke_family(const std::string& family_id);
    void revoke_user(const std::string& username);
    void delete_expired();

private:
    Tx& tx_;
};

struct LoginFailures {
    int64_t failures = 0;
    int64_t window_start = 0;  // unix seconds
};

class LoginFailureRepository {
public:
    explicit LoginFailureRepository(Tx& tx) : tx_(tx) {}
    std::optional<LoginFailures> find(const char* scope, const std::string& subject);
    // Counts one failure, starting a new window when the last one is older than `window_s`.
    void record(const char* scope, const std::string& subject, int64_t window_s);
    void clear(const char* scope, const std::string& subject);
    void delete_older_than(int64_t window_s);

private:
    Tx& tx_;
};

}  // namespace db
