#include "db/user_repository.h"

#include <algorithm>
#include <memory>

#include "core/crypto.h"
#include "core/time_util.h"
#include "db/lease.h"

namespace db {

using RS = std::unique_ptr<sql::ResultSet>;

namespace {

// Locking every admin row serializes concurrent deletes and demotions of admins, so
// two admins removing each other cannot leave none. Call inside a transaction.
// True when `username` is the only admin.
//
// Why two concurrent demotions (or deletions) never leave no admin:
// - One server: both transactions lock every admin row (FOR UPDATE) before they read
//   how many there are. The second waits for the first to commit, then its locking
//   read sees the first's change (a locking read reads the latest committed rows, not
//   its snapshot), finds one admin left and refuses (409).
// - Galera: FOR UPDATE locks are local to a node and never reach another node's
//   certification, and the two demotions write different user rows, so both would
//   commit. Both therefore also write the one admin_guard row first: their write-sets
//   share that key, certification commits the first and fails the second (1213), and
//   Database::transaction reruns the second, whose locking read now sees one admin.
// tests/integration/test_admin.py races two demotions of the last two admins.
bool lock_admins_and_check_last(Database& db, const std::string& username) {
    db.stmt(Stmt::USERS_ADMIN_GUARD_BUMP).executeUpdate();
    std::vector<std::string> admins;
    RS rs(db.stmt(Stmt::USERS_SEL_ADMINS_FOR_UPDATE).executeQuery());
    while (rs->next()) admins.push_back(rs->getString(1));
    bool is_admin = std::find(admins.begin(), admins.end(), username) != admins.end();
    return is_admin && admins.size() <= 1;
}

// A changed password, role or a deleted account ends every login of the user.
void revoke_refresh_tokens(Database& db, const std::string& username) {
    auto& rev = db.stmt(Stmt::REFRESH_REVOKE_USER);
    rev.setString(1, username);
    rev.executeUpdate();
}

}  // namespace

std::optional<UserRow> UserRepository::find_by_username(const std::string& username) {
    std::optional<UserRow> out;
    db_.run([&] {
        auto& ps = db_.stmt(Stmt::USERS_SEL_BY_USERNAME);
        ps.setString(1, username);
        RS rs(ps.executeQuery());
        if (rs->next())
            out = UserRow{rs->getString(1), rs->getString(2), rs->getString(3), rs->getInt64(4), rs->getString(5)};
    });
    return out;
}

std::optional<AuthInfo> UserRepository::auth_info(const std::string& username) {
    std::optional<AuthInfo> out;
    db_.run([&] {
        auto& ps = db_.stmt(Stmt::USERS_SEL_AUTH);
        ps.setString(1, username);
        RS rs(ps.executeQuery());
        out.reset();
        while (rs->next()) {
            if (!out) out = AuthInfo{rs->getString(1), rs->getInt64(2), {}};
            if (!rs->isNull(3)) out->revoked_jtis.push_back(rs->getString(3));
        }
    });
    return out;
}

std::vector<UserRow> UserRepository::list() {
    std::vector<UserRow> out;
    db_.run([&] {
        out.clear();
        auto& ps = db_.stmt(Stmt::USERS_SEL_ALL);
        RS rs(ps.executeQuery());
        while (rs->next()) out.push_back(UserRow{rs->getString(1), "", rs->getString(2), 0, rs->getString(3)});
    });
    return out;
}

int64_t UserRepository::count() {
    int64_t n = 0;
    db_.run([&] {
        RS rs(db_.stmt(Stmt::USERS_COUNT).executeQuery());
        n = rs->next() ? rs->getInt64(1) : 0;
    });
    return n;
}

UserRow UserRepository::create(const std::string& username, const std::string& password_hash,
                               const std::string& role) {
    // A random first token version: tokens of an earlier user of the same name (deleted,
    // then the name created again) never match the new user's version.
    std::string r = core::random_bytes(8);
    int64_t version = 0;
    for (unsigned char c : r) version = (version << 8) | c;
    version &= (int64_t{1} << 52) - 1;  // exact in JSON readers that use doubles
    db_.run([&] {
        auto& ps = db_.stmt(Stmt::USERS_INS);
        ps.setString(1, username);
        ps.setString(2, password_hash);
        ps.setString(3, role);
        ps.setInt64(4, version);
        ps.executeUpdate();
    });
    auto row = find_by_username(username);
    if (!row) throw Error(ErrorKind::other, 0, "user vanished right after insert");
    return *row;
}

DeleteResult UserRepository::remove(const std::string& username, const std::string& caller) {
    DeleteResult result = DeleteResult::deleted;
    db_.transaction([&] {
        if (username == caller) {
            result = DeleteResult::is_caller;
            return;
        }
        if (lock_admins_and_check_last(db_, username)) {
            result = DeleteResult::last_admin;
            return;
        }
        auto& del = db_.stmt(Stmt::USERS_DEL);
        del.setString(1, username);
        if (del.executeUpdate() == 0) {
            result = DeleteResult::not_found;
            return;
        }
        revoke_refresh_tokens(db_, username);
        result = DeleteResult::deleted;
    });
    return result;
}

bool UserRepository::set_password(const std::string& username, const std::string& password_hash) {
    bool found = false;
    db_.transaction([&] {
        auto& up = db_.stmt(Stmt::USERS_UPD_PASSWORD);
        up.setString(1, password_hash);
        up.setString(2, username);
        found = up.executeUpdate() > 0;
        if (!found) return;
        revoke_refresh_tokens(db_, username);
    });
    return found;
}

bool UserRepository::set_password_unless_admin(const std::string& username, const std::string& password_hash) {
    bool found = false;
    db_.transaction([&] {
        auto& up = db_.stmt(Stmt::USERS_UPD_PASSWORD_NON_ADMIN);
        up.setString(1, password_hash);
        up.setString(2, username);
        found = up.executeUpdate() > 0;
        if (found) revoke_refresh_tokens(db_, username);
    });
    return found;
}

UserRepository::RoleResult UserRepository::set_role(const std::string& username, const std::string& role) {
    RoleResult result = RoleResult::changed;
    db_.transaction([&] {
        const bool only_admin = lock_admins_and_check_last(db_, username);
        if (only_admin && role != "admin") {
            result = RoleResult::last_admin;
            return;
        }
        auto& ps = db_.stmt(Stmt::USERS_UPD_ROLE);
        ps.setString(1, role);
        ps.setString(2, username);
        if (ps.executeUpdate() == 0) {
            result = RoleResult::not_found;
            return;
        }
        revoke_refresh_tokens(db_, username);
    });
    return result;
}

void UserRepository::revoke_access_token(const std::string& jti, const std::string& username, int64_t expires_at) {
    db_.run([&] {
        auto& ps = db_.stmt(Stmt::REVOKED_JTI_INS);
        ps.setString(1, jti);
        ps.setString(2, username);
        ps.setInt64(3, expires_at);
        ps.executeUpdate();
    });
}

void UserRepository::delete_expired_revocations() {
    run_job_exclusively(db_, "revoked_access_tokens_expiry", kHousekeepingIntervalS,
                        [&] { db_.run([&] { db_.stmt(Stmt::REVOKED_JTI_DEL_EXPIRED).executeUpdate(); }); });
}

void RefreshTokenRepository::store(const std::string& token_hash, const std::string& family_id,
                                   const std::string& username, int64_t expires_at) {
    db_.run([&] {
        auto& ps = db_.stmt(Stmt::REFRESH_INS);
        ps.setString(1, token_hash);
        ps.setString(2, family_id);
        ps.setString(3, username);
        ps.setInt64(4, expires_at);
        ps.executeUpdate();
    });
}

RotateResult RefreshTokenRepository::rotate(const std::string& token_hash, const std::string& next_hash,
                                            int64_t next_expires_at) {
    RotateResult r{RotateStatus::invalid, "", ""};
    db_.transaction([&] {
        r = {RotateStatus::invalid, "", ""};
        auto& sel = db_.stmt(Stmt::REFRESH_SEL_FOR_UPDATE);
        sel.setString(1, token_hash);
        RS rs(sel.executeQuery());
        if (!rs->next()) return;
        std::string family = rs->getString(1);
        std::string username = rs->getString(2);
        int64_t expires_at = rs->getInt64(3);
        bool used = rs->getInt(4) != 0, revoked = rs->getInt(5) != 0;
        if (revoked) return;
        if (used) {
            // A retired token came back: someone holds a copy. End the whole login.
            auto& rev = db_.stmt(Stmt::REFRESH_REVOKE_FAMILY);
            rev.setString(1, family);
            rev.executeUpdate();
            r = {RotateStatus::reused, username, family};
            return;
        }
        if (expires_at <= core::unix_now()) return;
        auto& mark = db_.stmt(Stmt::REFRESH_MARK_USED);
        mark.setString(1, token_hash);
        mark.executeUpdate();
        auto& ins = db_.stmt(Stmt::REFRESH_INS);
        ins.setString(1, next_hash);
        ins.setString(2, family);
        ins.setString(3, username);
        ins.setInt64(4, next_expires_at);
        ins.executeUpdate();
        r = {RotateStatus::ok, username, family};
    });
    return r;
}

bool RefreshTokenRepository::revoke_family(const std::string& token_hash, const std::string& username) {
    bool done = false;
    db_.transaction([&] {
        done = false;
        auto& sel = db_.stmt(Stmt::REFRESH_SEL_FOR_UPDATE);
        sel.setString(1, token_hash);
        RS rs(sel.executeQuery());
        if (!rs->next() || rs->getString(2) != username) return;
        auto& rev = db_.stmt(Stmt::REFRESH_REVOKE_FAMILY);
        rev.setString(1, rs->getString(1));
        rev.executeUpdate();
        done = true;
    });
    return done;
}

void RefreshTokenRepository::delete_expired() {
    run_job_exclusively(db_, "refresh_tokens_expiry", kHousekeepingIntervalS,
                        [&] { db_.run([&] { db_.stmt(Stmt::REFRESH_DEL_EXPIRED).executeUpdate(); }); });
}

int64_t LoginThrottle::retry_after(const char* scope, const std::string& subject, int64_t max_failures,
                                   int64_t window_s) {
    int64_t wait = 0;
    // Causal: a failure just counted through another host (another Galera node) counts here.
    db_.run_causal([&] {
        auto& ps = db_.stmt(Stmt::LOGIN_FAIL_SEL);
        ps.setString(1, scope);
        ps.setString(2, subject);
        RS rs(ps.executeQuery());
        if (!rs->next()) return;
        int64_t failures = rs->getInt64(1), start = rs->getInt64(2);
        int64_t ends = start + window_s, now = core::unix_now();
        if (failures >= max_failures && ends > now) wait = ends - now;
    });
    return wait;
}

void LoginThrottle::record_failure(const char* scope, const std::string& subject, int64_t window_s) {
    db_.run([&] {
        auto& ps = db_.stmt(Stmt::LOGIN_FAIL_UPSERT);
        ps.setString(1, scope);
        ps.setString(2, subject);
        ps.setInt64(3, window_s);
        ps.setInt64(4, window_s);
        ps.executeUpdate();
    });
}

void LoginThrottle::clear(const char* scope, const std::string& subject) {
    db_.run([&] {
        auto& ps = db_.stmt(Stmt::LOGIN_FAIL_RESET);
        ps.setString(1, scope);
        ps.setString(2, subject);
        ps.executeUpdate();
    });
}

void LoginThrottle::delete_old(int64_t window_s) {
    run_job_exclusively(db_, "login_failures_expiry", kHousekeepingIntervalS, [&] {
        db_.run([&] {
            auto& ps = db_.stmt(Stmt::LOGIN_FAIL_DEL_OLD);
            ps.setInt64(1, window_s);
            ps.executeUpdate();
        });
    });
}

}  // namespace db
