#include "handlers/users.h"

#include "core/api_error.h"
#include "core/json.h"
#include "core/log.h"
#include "db/user_repository.h"
#include "handlers/auth.h"

namespace handlers {

using core::ApiError;

namespace {

constexpr size_t kMinPassword = 8, kMaxPassword = 1024;

// Passwords are limited in bytes (the hash input), not characters.
void check_password(core::FieldReader& f, const char* field, const std::optional<std::string>& pw) {
    if (!pw) return;
    if (pw->size() < kMinPassword) f.add_error(field, std::string(field) + " must be at least 8 bytes");
    else if (pw->size() > kMaxPassword) f.add_error(field, std::string(field) + " must be at most 1024 bytes");
}

void check_username(core::FieldReader& f, const std::optional<std::string>& u) {
    if (u && !valid_username(*u))
        f.add_error("username", "username must be 1 to 64 characters of A-Z a-z 0-9 . _ @ -");
}

void write_user(core::JsonOut& o, const db::UserRow& u) {
    o.begin_object().key("username").str(u.username).key("role").str(u.role).key("createdAt").str(u.created_at).end_object();
}

}  // namespace

core::Response users_create(Context& ctx, core::Request& req) {
    auto body = core::parse_json_object(req.body);
    core::FieldReader f(body);
    auto username = f.required_string("username", 1, 1024);
    auto password = f.required_string("password", 0, SIZE_MAX);
    auto role = f.required_string("role", 1, 64);
    check_username(f, username);
    check_password(f, "password", password);
    if (role && !core::parse_role(*role)) f.add_error("role", "role must be read-only, read-write or admin");
    f.finish();

    db::UserRepository users(ctx.database());
    try {
        auto row = users.create(*username, core::password_hash(*password, ctx.password_params), *role);
        core::log::info("user '" + *username + "' created by '" + req.principal->username + "'");
        core::JsonOut o;
        write_user(o, row);
        return core::Response::json(o.take(), 201);
    } catch (const db::Error& e) {
        if (e.kind() == db::ErrorKind::duplicate) throw ApiError::conflict("A user named '" + *username + "' already exists");
        throw;
    }
}

core::Response users_list(Context& ctx, core::Request&) {
    db::UserRepository users(ctx.database());
    core::JsonOut o;
    o.begin_array();
    for (const auto& u : users.list()) write_user(o, u);
    o.end_array();
    return core::Response::json(o.take());
}

core::Response users_delete(Context& ctx, core::Request& req) {
    const std::string& username = req.params.at("username");
    if (!valid_username(username)) throw ApiError::not_found("No user named '" + username.substr(0, 64) + "'");
    db::UserRepository users(ctx.database());
    switch (users.remove(username, req.principal->username)) {
        case db::DeleteResult::not_found: throw ApiError::not_found("No user named '" + username + "'");
        case db::DeleteResult::is_caller: throw ApiError::conflict("You cannot delete your own account");
        case db::DeleteResult::last_admin: throw ApiError::conflict("The last admin cannot be deleted");
        case db::DeleteResult::deleted: break;
    }
    forget_auth_cache(ctx, username);
    core::log::info("user '" + username + "' deleted by '" + req.principal->username + "'");
    return core::Response::json(core::message_json("User deleted successfully"));
}

core::Response users_reset_password(Context& ctx, core::Request& req) {
    auto body = core::parse_json_object(req.body);
    core::FieldReader f(body);
    auto username = f.required_string("username", 1, 1024);
    auto password = f.required_string("newPassword", 0, SIZE_MAX);
    check_password(f, "newPassword", password);
    f.finish();
    db::UserRepository users(ctx.database());
    if (!valid_username(*username) ||
        !users.set_password(*username, core::password_hash(*password, ctx.password_params)))
        throw ApiError::not_found("No user named '" + username->substr(0, 64) + "'");
    forget_auth_cache(ctx, *username);
    core::log::info("password of '" + *username + "' reset by '" + req.principal->username + "'");
    return core::Response::json(core::message_json("Password reset successfully"));
}

core::Response users_change_password(Context& ctx, core::Request& req) {
    auto body = core::parse_json_object(req.body);
    core::FieldReader f(body);
    // `oldPassword` is what the older command line client sends.
    auto current = f.required_string_any({"currentPassword", "oldPassword"}, 1, SIZE_MAX);
    auto password = f.required_string("newPassword", 0, SIZE_MAX);
    check_password(f, "newPassword", password);
    f.finish();
    db::UserRepository users(ctx.database());
    auto user = users.find_by_username(req.principal->username);
    if (!user || !core::password_verify(*current, user->password_hash))
        throw ApiError::unauthorized("The current password is wrong");
    users.set_password(user->username, core::password_hash(*password, ctx.password_params));
    forget_auth_cache(ctx, user->username);
    return core::Response::json(core::message_json("Password changed successfully"));
}

}  // namespace handlers
