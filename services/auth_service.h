// Authentication: login, refresh-token rotation, the failed-password budget and
// the per-worker revocation cache of access tokens. Beside services::UserService
// (the accounts themselves). Speaks in its own types; the handlers make HTTP of them.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/jwt.h"
#include "core/password.h"
#include "core/role.h"
#include "db/database.h"
#include "services/audit.h"

namespace services {

struct AuthSettings {
    std::string jwt_secret;
    core::PasswordParams password_params;
    int64_t access_token_ttl_s = 3600;
    int64_t refresh_token_ttl_s = 30 * 86400;
    int64_t max_failures_user = 10;
    int64_t max_failures_addr = 100;
    int64_t failure_window_s = 900;
    int64_t revocation_cache_s = 2;
    int64_t audit_retention_days = 365;  // housekeeping of the audit log rides on new sessions
};
AuthSettings auth_settings_from(const core::Config& cfg);

// A new pair of tokens: {token, refreshToken, expiresAt} of the contract.
struct Session {
    std::string access_token;
    std::string refresh_token;
    int64_t expires_at = 0;  // the access token's exp, unix seconds
};

// The outcome of a password check under the failed-password budget.
struct GuessOutcome {
    enum class Kind { ok, wrong, throttled } kind = Kind::ok;
    int64_t retry_after_s = 0;  // when throttled
    Session session;            // when ok
};

struct RefreshOutcome {
    enum class Kind { ok, invalid, reused } kind = Kind::invalid;
    Session session;  // when ok
};

// Who a verified access token speaks for, or why it is refused.
struct TokenCheck {
    bool ok = false;
    std::string username;
    core::Role role = core::Role::read_only;
    std::string jti;      // the token's id ("" for tokens issued before ids existed)
    int64_t exp = 0;      // the token's expiry, unix seconds
    std::string problem;  // when refused: "Invalid token: ..."
};

class AuthService {
public:
    AuthService(db::Database& db, AuthSettings settings);

    // One budget of failed password checks per username and per client address, kept
    // in the database so it holds across workers and hosts. Logins and
    // change-password spend the same budget: both are guesses at the same password.
    // A refused guess is audited (login.failed, login.throttled) with `by` as actor.
    GuessOutcome login(const std::string& username, const std::string& password, const Actor& by);
    // Changes the caller's password (revoking every session of the user) and opens a
    // new session, so the caller stays logged in. `gone` is set when the account
    // vanished meanwhile.
    GuessOutcome change_password(const std::string& username, const std::string& current,
                                 const std::string& password, const Actor& by, bool& gone);
    // Single use: a token presented a second time revokes its whole login (audited as
    // auth.refresh_reuse in the same transaction).
    RefreshOutcome refresh(const std::string& refresh_token, const Actor& by);
    // POST /auth/logout: revokes the login chain of `refresh_token` (when given and the
    // caller's) and the access token `jti` until `jti_exp`, in one transaction. Every
    // worker and host refuses the token once it reads the user's auth info again
    // (within revocation_cache_s).
    void logout(const std::string& username, const std::optional<std::string>& refresh_token,
                const std::string& jti, int64_t jti_exp);

    // Verifies the access token and that the user still exists with the token's
    // version (cached in this worker for revocation_cache_s).
    // `fresh`: the user read from the database whatever the cache holds (for an answer
    // nginx keeps, core/grant.h, whose own delay must not add to the cache's).
    TokenCheck check_access_token(const std::string& token, bool fresh = false);
    // Forgets this worker's cached token version of `username` (after changing it).
    void forget(const std::string& username) { cache_.erase(username); }

    // A hash of a random password, verified for unknown users so that a login for an
    // unknown user costs the same as one with a wrong password. Made before fork.
    const std::string& dummy_hash();
    void set_dummy_hash(std::string hash) { dummy_hash_ = std::move(hash); }

private:
    GuessOutcome guarded(const std::string& username, const Actor& by,
                         const std::function<bool()>& verify);
    Session new_session(const std::string& username, const std::string& role, int64_t token_version);
    Session token_pair(const std::string& username, const std::string& role, int64_t token_version,
                       const std::string& refresh_token);

    db::Database& db_;
    AuthSettings s_;
    std::string dummy_hash_;
    struct CacheEntry {
        bool exists;
        int64_t token_version;
        std::string role;
        int64_t read_at_ms;
        std::vector<std::string> revoked_jtis;  // access tokens ended by a logout
    };
    std::map<std::string, CacheEntry> cache_;  // username -> what the database said
    core::VerifiedTokenCache verified_;         // tokens whose signature this worker checked
};

}  // namespace services
