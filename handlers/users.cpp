#include "handlers/users.h"

#include "core/api_error.h"
#include "core/json.h"
#include "core/json_request.h"
#include "core/log.h"
#include "handlers/auth.h"
#include "services/user_service.h"

namespace handlers {

using core::ApiError;

namespace {

void check_password(core::FieldReader& f, const char* field, const std::optional<std::string>& pw) {
    if (!pw) return;
    if (auto problem = services::password_problem(*pw)) f.add_error(field, std::string(field) + " " + *problem);
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
    if (username && !services::valid_username(*username)) f.add_error("username", services::kUsernameRule);
    check_password(f, "password", password);
    if (role && !services::valid_role(*role)) f.add_error("role", services::kRoleRule);
    f.finish();

    auto row = ctx.users().create(*username, *password, *role, actor_of(req));
    if (!row) throw ApiError::conflict("A user named '" + *username + "' already exists");
    core::log::info("user '" + *username + "' created by '" + req.principal->username + "'");
    core::JsonOut o;
    write_user(o, *row);
    return core::Response::json(o.take(), 201);
}

core::Response users_list(Context& ctx, core::Request&) {
    core::JsonOut o;
    o.begin_array();
    for (const auto& u : ctx.users().list()) write_user(o, u);
    o.end_array();
    return core::Response::json(o.take());
}

core::Response users_delete(Context& ctx, core::Request& req) {
    const std::string& username = req.params.at("username");
    if (!services::valid_username(username)) throw ApiError::not_found("No user named '" + username.substr(0, 64) + "'");
    switch (ctx.users().remove(username, req.principal->username, actor_of(req))) {
        case services::DeleteResult::not_found: throw ApiError::not_found("No user named '" + username + "'");
        case services::DeleteResult::is_caller: throw ApiError::conflict("You cannot delete your own account");
        case services::DeleteResult::last_admin: throw ApiError::conflict("The last admin cannot be deleted");
        case services::DeleteResult::deleted: break;
    }
    ctx.auth().forget(username);
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
    if (!ctx.users().reset_password(*username, *password, actor_of(req)))
        throw ApiError::not_found("No user named '" + username->substr(0, 64) + "'");
    ctx.auth().forget(*username);
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
    const std::string& me = req.principal->username;
    bool gone = false;
    auto out = ctx.auth().change_password(me, *current, *password, actor_of(req), gone);
    throw_unless_ok(out, "The current password is wrong");
    if (gone) throw ApiError::unauthorized("The account no longer exists");
    core::JsonOut o;
    o.begin_object();
    o.key("message").str("Password changed successfully");
    write_session(o, out.session);
    o.end_object();
    return core::Response::json(o.take());
}

}  // namespace handlers
