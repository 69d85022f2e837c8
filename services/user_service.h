// Users: the contract's rules for names, passwords and roles, and the operations
// on accounts, shared by the HTTP API (handlers/users.cpp, handlers/auth.cpp,
// handlers/admin.cpp) and synkronus-admin, so both refuse the same things with the
// same words.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/password.h"
#include "db/database.h"
#include "db/rows.h"
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

enum class DeleteResult { deleted, not_found, is_caller, last_admin };
enum class RoleResult { changed, not_found, last_admin };

// Account operations; each is one transaction, with its audit event (services/audit.h,
// actor `by`) in the same transaction. Changing a password or role, or deleting a
// user, revokes the user's refresh tokens in the same transaction (and raises
// token_version, which ends access tokens: services::AuthService).
class UserService {
public:
    UserService(db::Database& db, core::PasswordParams params) : db_(db), params_(params) {}

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
    DeleteResult remove(const std::string& username, const std::string& caller, const Actor& by);
    // Changes the role; never demotes the last admin (every admin row is locked first,
    // so two concurrent demotions cannot leave none).
    RoleResult set_role(const std::string& username, const std::string& role, const Actor& by);
    std::vector<db::UserRow> list();
    // The first start: with `password` set and no users at all, creates 'admin'. True
    // when it did.
    bool bootstrap_admin(const std::string& password);

    // Provisioning a device (CONTRACT §8): creates `username` with `role`, or gives an
    // existing non-admin user a new password (revoking its sessions); never touches an
    // admin. The password is the caller's (random, see domain/provisioning.h).
    enum class ProvisionResult { created, reset, is_admin };
    ProvisionResult provision(const std::string& username, const std::string& role, const std::string& password,
                              const Actor& by);

private:
    db::Database& db_;
    core::PasswordParams params_;
};

}  // namespace services
