// Users: the contract's rules for names, passwords and roles, and the operations
// on accounts, shared by the HTTP API (handlers/users.cpp, handlers/auth.cpp) and
// synkronus-admin, so both refuse the same things with the same words.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/password.h"
#include "db/database.h"
#include "db/user_repository.h"
#include "services/audit.h"

namespace services {

// 1 to 64 characters of A-Z a-z 0-9 . _ @ -
bool valid_username(std::string_view username);
constexpr const char* kUsernameRule = "username must be 1 to 64 characters of A-Z a-z 0-9 . _ @ -";

// Passwords are limited in bytes (the hash input), not characters. What is wrong
// with `password`, said after the field's name ("must be at least 8 bytes"), or
// nullopt when it is acceptable.
std::optional<std::string> password_problem(std::string_view password);

bool valid_role(std::string_view role);
constexpr const char* kRoleRule = "role must be read-only, read-write or admin";

// Every change here appends its audit event (services/audit.h) in the transaction of
// the change, with `by` as the actor.
class UserService {
public:
    UserService(db::Database& db, core::PasswordParams params) : db_(db), repo_(db), params_(params) {}

    // The caller checked the rules above. nullopt when the name is taken (also when
    // two creates race).
    std::optional<db::UserRow> create(const std::string& username, const std::string& password, const std::string& role,
                                      const Actor& by);
    // Sets the password and revokes the user's tokens; false when there is no such user.
    bool reset_password(const std::string& username, const std::string& password, const Actor& by);
    // As reset_password, after verifying `current`; false when it is wrong.
    bool change_password(const std::string& username, const std::string& current, const std::string& password,
                         const Actor& by);
    // `caller` is the signed-in user ("" for synkronus-admin), who may not delete itself.
    db::DeleteResult remove(const std::string& username, const std::string& caller, const Actor& by);
    // Never demotes the last admin (see db::UserRepository::set_role for why two
    // concurrent demotions cannot leave none).
    db::UserRepository::RoleResult set_role(const std::string& username, const std::string& role, const Actor& by);
    std::vector<db::UserRow> list() { return repo_.list(); }
    // The first start: with `password` set and no users at all, creates 'admin'. True
    // when it did.
    bool bootstrap_admin(const std::string& password);

    // Provisioning a device (CONTRACT §8): creates `username` with `role`, or gives an
    // existing non-admin user a new password (revoking its sessions); never touches an
    // admin. The password is the caller's (random, see domain/provisioning.h).
    enum class ProvisionResult { created, reset, is_admin };
    ProvisionResult provision(const std::string& username, const std::string& role, const std::string& password,
                              const Actor& by);

    // POST /auth/refresh: rotates the refresh token; a retired token presented again
    // revokes its login and is audited (auth.refresh_reuse).
    db::RotateResult refresh(const std::string& token_hash, const std::string& next_hash, int64_t next_expires_at,
                             const Actor& by);
    // POST /auth/logout: revokes the login chain of `refresh_hash` (when given and the
    // caller's) and the access token `jti` until `jti_expires_at`.
    void logout(const std::string& username, const std::optional<std::string>& refresh_hash, const std::string& jti,
                int64_t jti_expires_at);

private:
    db::Database& db_;
    db::UserRepository repo_;
    core::PasswordParams params_;
};

}  // namespace services
