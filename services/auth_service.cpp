#include "services/auth_service.h"

#include <algorithm>

#include "core/crypto.h"
#include "core/jwt.h"
#include "core/log.h"
#include "core/time_util.h"
#include "db/user_repository.h"
#include "services/housekeeping.h"
#include "services/settings.h"
#include "services/unit_of_work.h"
#include "services/user_service.h"

namespace services {

namespace {

using Users = db::UserRepository;
using Tokens = db::RefreshTokenRepository;
using Failures = db::LoginFailureRepository;

std::string new_refresh_token() { return core::base64url_encode(core::random_bytes(32)); }

}  // namespace

AuthSettings auth_settings_from(const core::Config& cfg) {
    AuthSettings s;
    s.jwt_secret = cfg.str("jwt_secret");
    s.password_params = password_params_from(cfg);
    s.access_token_ttl_s = cfg.integer("access_token_ttl");
    s.refresh_token_ttl_s = cfg.integer("refresh_token_ttl");
    s.max_failures_user = cfg.integer("login_max_failures_user");
    s.max_failures_addr = cfg.integer("login_max_failures_addr");
    s.failure_window_s = cfg.integer("login_failure_window");
    s.revocation_cache_s = cfg.integer("revocation_cache_seconds");
    s.audit_retention_days = cfg.integer("audit_retention_days");
    return s;
}

AuthService::AuthService(db::Database& db, AuthSettings settings) : db_(db), s_(std::move(settings)) {}

const std::string& AuthService::dummy_hash() {
    if (dummy_hash_.empty())
        dummy_hash_ = core::password_hash(core::hex_encode(core::random_bytes(16)), s_.password_params);
    return dummy_hash_;
}

Session AuthService::token_pair(const std::string& username, const std::string& role, int64_t token_version,
                                const std::string& refresh_token) {
    core::AccessClaims c;
    c.sub = username;
    c.role = role;
    c.iat = core::unix_now();
    c.exp = c.iat + s_.access_token_ttl_s;
    c.ver = token_version;
    // Unique per issuance: two tokens of one user in the same second still differ,
    // and a token quoted in a log line names the one issuance logged here.
    c.jti = core::hex_encode(core::random_bytes(16));
    core::log::info("access token " + c.jti + " issued to '" + username + "'");
    return Session{core::jwt_sign_access(c, s_.jwt_secret), refresh_token, c.exp};
}

// A new login: a new refresh token family.
Session AuthService::new_session(const std::string& username, const std::string& role, int64_t token_version) {
    const std::string refresh = new_refresh_token();
    const std::string family = core::hex_encode(core::random_bytes(16));
    db_.run([&](db::Tx& tx) {
        Tokens(tx).store(core::sha256_hex(refresh), family, username, core::unix_now() + s_.refresh_token_ttl_s);
    });
    // Housekeeping piggybacks on new sessions, so no cron job is needed.
    if (core::random_bytes(1)[0] % 32 == 0) {
        run_housekeeping(db_, "refresh_tokens_expiry", [](db::Tx& tx) { Tokens(tx).delete_expired(); });
        run_housekeeping(db_, "login_failures_expiry",
                         [&](db::Tx& tx) { Failures(tx).delete_older_than(s_.failure_window_s); });
        run_housekeeping(db_, "revoked_access_tokens_expiry",
                         [](db::Tx& tx) { Users(tx).delete_expired_revocations(); });
        AuditService(db_, s_.audit_retention_days).delete_expired();
    }
    return token_pair(username, role, token_version, refresh);
}

GuessOutcome AuthService::guarded(const std::string& username, const Actor& by,
                                  const std::function<bool()>& verify) {
    const std::string& remote_addr = by.address;
    const Actor actor{username.substr(0, 64), by.address, by.request_id};
    const std::string user = username.substr(0, 128);  // the counter's key column
    const int64_t window = s_.failure_window_s;
    int64_t wait = 0;
    // Causal: a failure just counted through another host (another Galera node) counts here.
    db_.run_causal([&](db::Tx& tx) {
        Failures f(tx);
        wait = 0;
        const int64_t now = core::unix_now();
        for (auto [scope, subject, max] : {std::tuple<const char*, const std::string&, int64_t>{"user", user, s_.max_failures_user},
                                           {"addr", remote_addr, s_.max_failures_addr}}) {
            auto row = f.find(scope, subject);
            if (row && row->failures >= max && row->window_start + window > now)
                wait = std::max(wait, row->window_start + window - now);
        }
    });
    GuessOutcome out;
    if (wait > 0) {
        db_.run([&](db::Tx& tx) {
            audit(tx, actor, "login.throttled", actor.name, domain::AuditDetail().add("retry_after_s", wait));
        });
        out.kind = GuessOutcome::Kind::throttled;
        out.retry_after_s = wait;
        return out;
    }
    if (!verify()) {
        db_.run([&](db::Tx& tx) {
            Failures f(tx);
            f.record("user", user, window);
            f.record("addr", remote_addr, window);
            audit(tx, actor, "login.failed", actor.name);
        });
        core::log::info("wrong password for '" + username.substr(0, 64) + "' from " + remote_addr);
        out.kind = GuessOutcome::Kind::wrong;
        return out;
    }
    db_.run([&](db::Tx& tx) { Failures(tx).clear("user", user); });
    out.kind = GuessOutcome::Kind::ok;
    return out;
}

GuessOutcome AuthService::login(const std::string& username, const std::string& password, const Actor& by) {
    std::optional<db::UserRow> user;
    GuessOutcome out = guarded(username, by, [&] {
        if (valid_username(username))
            user = run_with<Users>(db_, [&](Users& r) { return r.find_by_username(username); });
        // Verify against a dummy hash for unknown users: same work, same timing.
        return core::password_verify(password, user ? user->password_hash : dummy_hash()) && user.has_value();
    });
    if (out.kind != GuessOutcome::Kind::ok) return out;
    out.session = new_session(user->username, user->role, user->token_version);
    return out;
}

GuessOutcome AuthService::change_password(const std::string& username, const std::string& current,
                                          const std::string& password, const Actor& by, bool& gone) {
    gone = false;
    UserService users(db_, s_.password_params);
    GuessOutcome out =
        guarded(username, by, [&] { return users.change_password(username, current, password, by); });
    if (out.kind != GuessOutcome::Kind::ok) return out;
    forget(username);
    // Every session of the user was revoked with the change; the caller gets a new
    // one so it stays logged in. Role and token version as the database has them now.
    auto info = run_with<Users>(db_, [&](Users& r) { return r.auth_info(username); });
    if (!info) {
        gone = true;
        return out;
    }
    out.session = new_session(username, info->role, info->token_version);
    return out;
}

RefreshOutcome AuthService::refresh(const std::string& refresh_token, const Actor& by) {
    const std::string hash = core::sha256_hex(refresh_token);
    const std::string next = new_refresh_token();
    RefreshOutcome out;
    std::string username;
    db_.transaction([&](db::Tx& tx) {
        Tokens tokens(tx);
        out.kind = RefreshOutcome::Kind::invalid;
        auto row = tokens.find_for_update(hash);
        if (!row || row->revoked) return;
        if (row->used) {
            // A retired token came back: someone holds a copy. End the whole login.
            tokens.revoke_family(row->family_id);
            username = row->username;
            audit(tx, Actor{username, by.address, by.request_id}, "auth.refresh_reuse", username,
                  domain::AuditDetail().add("effect", "login revoked"));
            out.kind = RefreshOutcome::Kind::reused;
            return;
        }
        if (row->expires_at <= core::unix_now()) return;
        tokens.mark_used(hash);
        tokens.store(core::sha256_hex(next), row->family_id, row->username, core::unix_now() + s_.refresh_token_ttl_s);
        username = row->username;
        out.kind = RefreshOutcome::Kind::ok;
    });
    if (out.kind == RefreshOutcome::Kind::reused)
        core::log::warn("refresh token reused for '" + username + "'; revoked its login");
    if (out.kind != RefreshOutcome::Kind::ok) return out;
    // The role is read afresh: a role changed since login shows in the new token.
    auto info = run_with<Users>(db_, [&](Users& r) { return r.auth_info(username); });
    if (!info) {
        out.kind = RefreshOutcome::Kind::invalid;
        return out;
    }
    out.session = token_pair(username, info->role, info->token_version, next);
    return out;
}

TokenCheck AuthService::check_access_token(const std::string& token, bool fresh_read) {
    TokenCheck out;
    core::AccessClaims c;
    // Signature and claims from the worker's cache of verified tokens (exp is checked
    // on every hit); revocation below is checked on every request as before.
    auto st = verified_.verify(token, s_.jwt_secret, core::unix_now(), c);
    if (st != core::JwtStatus::ok) {
        out.problem = std::string("Invalid token: ") + core::jwt_status_text(st);
        return out;
    }
    auto role = core::parse_role(c.role);
    if (!role) {
        out.problem = "Invalid token: unknown role";
        return out;
    }

    const int64_t now_ms = core::unix_now_ms();
    const int64_t ttl_ms = s_.revocation_cache_s * 1000;
    auto it = cache_.find(c.sub);
    bool fresh = false;
    auto read = [&] {
        auto info = run_with<Users>(db_, [&](Users& r) { return r.auth_info(c.sub); });
        if (cache_.size() > 10000) cache_.clear();
        CacheEntry e{info.has_value(), info ? info->token_version : 0, info ? info->role : "", now_ms,
                     info ? info->revoked_jtis : std::vector<std::string>{}};
        it = cache_.insert_or_assign(c.sub, e).first;
        fresh = true;
    };
    if (fresh_read || it == cache_.end() || now_ms - it->second.read_at_ms >= ttl_ms) read();
    // A token ended by logout() is named by its jti; the list is read with the token
    // version, so it reaches every worker and host within the same delay.
    auto revoked = [&] {
        const auto& e = it->second;
        return !e.exists || e.token_version != c.ver ||
               (!c.jti.empty() && std::find(e.revoked_jtis.begin(), e.revoked_jtis.end(), c.jti) != e.revoked_jtis.end());
    };
    // A cached entry may predate a change made through another worker (a password reset,
    // a new user): the token is only refused on what the database says now.
    if (revoked() && !fresh) read();
    if (revoked()) {
        out.problem = "Invalid token: it has been revoked";
        return out;
    }
    out.ok = true;
    out.username = c.sub;
    out.role = *role;
    out.jti = c.jti;
    out.exp = c.exp;
    return out;
}

void AuthService::logout(const std::string& username, const std::optional<std::string>& refresh_token,
                         const std::string& jti, int64_t jti_exp) {
    db_.transaction([&](db::Tx& tx) {
        if (refresh_token) {
            Tokens tokens(tx);
            auto row = tokens.find_for_update(core::sha256_hex(*refresh_token));
            if (row && row->username == username) tokens.revoke_family(row->family_id);
        }
        if (!jti.empty()) Users(tx).revoke_access_token(jti, username, jti_exp);
    });
    forget(username);
}

}  // namespace services
