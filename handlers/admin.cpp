#include "handlers/admin.h"

#include "core/api_error.h"
#include "core/json.h"
#include "core/json_request.h"
#include "core/log.h"
#include "core/time_util.h"
#include "domain/audit_event.h"
#include "domain/invalid_input.h"
#include "domain/list_cursor.h"
#include "domain/provisioning.h"
#include "handlers/auth.h"
#include "services/admin_service.h"
#include "services/audit.h"
#include "services/user_service.h"

namespace handlers {

using core::ApiError;

namespace {

void write_opt_str(core::JsonOut& o, const char* key, const std::optional<std::string>& v) {
    o.key(key);
    if (v) o.str(*v);
    else o.w().Null();
}

// An RFC 3339 time filter as MariaDB DATETIME(3) text in UTC, or a 400 naming it.
std::optional<std::string> time_filter(const core::Request& req, const char* name) {
    auto v = req.query_param(name);
    if (!v) return std::nullopt;
    auto s = services::audit_filter_time(*v);
    if (!s) throw ApiError::validation({{name, std::string(name) + " must be an RFC 3339 time, e.g. 2026-11-28T21:09:34Z"}});
    return s;
}

}  // namespace

core::Response admin_overview(Context& ctx, core::Request&) {
    auto& admin = ctx.admin();
    std::string members = admin.overview_members();
    core::JsonOut s;
    write_server_facts(s);
    // members starts with "database":{"nodes":[...]}: status goes in front of nodes.
    const std::string head = "\"database\":{";
    if (members.rfind(head, 0) == 0) members.insert(head.size(), "\"status\":\"ok\",");
    auto r = core::Response::json("{\"server\":" + s.take() + "," + members + "}");
    r.add_header("Cache-Control", "no-store");
    return r;
}

core::Response admin_users_role(Context& ctx, core::Request& req) {
    auto body = core::parse_json_object(req.body);
    core::FieldReader f(body);
    auto username = f.required_string("username", 1, 1024);
    auto role = f.required_string("role", 1, 64);
    if (username && !services::valid_username(*username)) f.add_error("username", services::kUsernameRule);
    if (role && !services::valid_role(*role)) f.add_error("role", services::kRoleRule);
    f.finish();
    switch (ctx.users().set_role(*username, *role, actor_of(req))) {
        case services::RoleResult::not_found: throw ApiError::not_found("No user named '" + *username + "'");
        case services::RoleResult::last_admin:
            throw ApiError::conflict("The last admin cannot be demoted; make another admin first");
        case services::RoleResult::changed: break;
    }
    ctx.auth().forget(*username);
    core::log::info("role of '" + *username + "' set to " + *role + " by '" + req.principal->username + "'");
    core::JsonOut o;
    o.begin_object().key("username").str(*username).key("role").str(*role).end_object();
    return core::Response::json(o.take());
}

core::Response admin_devices(Context& ctx, core::Request& req) {
    const domain::ListScope scope("/admin/devices");
    auto page = domain::parse_list_page(req.query_param("limit"), req.query_param("cursor"), scope, ctx.list_cursor_key(), 2);
    std::optional<std::pair<std::string, std::string>> after;
    if (page.after) after = std::make_pair((*page.after)[0], (*page.after)[1]);
    auto& admin = ctx.admin();
    // One row more than the page tells whether another page follows.
    auto found = admin.devices(after, page.limit + 1);
    const bool more = found.devices.size() > static_cast<size_t>(page.limit);
    if (more) found.devices.pop_back();
    core::JsonOut o;
    o.begin_object().key("devices").begin_array();
    for (const auto& d : found.devices) {
        o.begin_object();
        o.key("client_id").str(d.client_id).key("username").str(d.username).key("generation").str(d.generation);
        o.key("first_seen").str(d.first_seen).key("last_seen").str(d.last_seen);
        write_opt_str(o, "last_push_at", d.last_push_at);
        write_opt_str(o, "last_pull_at", d.last_pull_at);
        o.key("cursor");
        if (d.cursor) o.num(*d.cursor);
        else o.w().Null();
        o.key("behind");
        if (auto behind = found.behind(d)) o.num(*behind);
        else o.w().Null();
        o.key("pushes").num(d.pushes).key("records_pushed").num(d.records_pushed);
        o.end_object();
    }
    o.end_array();
    if (more) {
        const auto& last = found.devices.back();
        o.key("next_cursor").str(domain::encode_list_cursor({last.sort_key, last.client_id}, scope, ctx.list_cursor_key()));
    }
    o.end_object();
    auto r = core::Response::json(o.take());
    r.add_header("Cache-Control", "no-store");
    return r;
}

core::Response admin_devices_provision(Context& ctx, core::Request& req) {
    auto body = core::parse_json_object(req.body);
    core::FieldReader f(body);
    auto username = f.required_string("username", 1, 1024);
    auto role = f.optional_string("role", 1, 64);
    auto server_url = f.optional_string("server_url", 1, 2048);
    if (username && !services::valid_username(*username)) f.add_error("username", services::kUsernameRule);
    if (role && *role != "read-only" && *role != "read-write")
        f.add_error("role", "role must be read-only or read-write (an admin account is never provisioned)");
    if (server_url && server_url->rfind("https://", 0) != 0 && server_url->rfind("http://", 0) != 0)
        f.add_error("server_url", "server_url must start with https:// (or http://)");
    std::string url = server_url ? *server_url : domain::default_server_url(req.host);
    if (!server_url && url.empty()) f.add_error("server_url", "server_url is required: the request named no usable Host");
    f.finish();

    auto& admin = ctx.admin();
    auto p = admin.provision(*username, role.value_or("read-write"), url, actor_of(req));
    if (p.result == services::UserService::ProvisionResult::is_admin)
        throw ApiError::forbidden("'" + *username + "' is an admin account; admin accounts are never provisioned on a device");
    ctx.auth().forget(*username);
    core::log::info("device user '" + *username + "' provisioned by '" + req.principal->username + "'");
    core::JsonOut o;
    o.begin_object();
    o.key("username").str(*username).key("password").str(p.password).key("server_url").str(url);
    o.key("frmls").str(p.frmls).key("qr_svg").str(p.qr_svg);
    o.end_object();
    auto r = core::Response::json(o.take());
    r.add_header("Cache-Control", "no-store");
    return r;
}

core::Response admin_audit(Context& ctx, core::Request& req) {
    db::AuditFilter filter;
    std::vector<core::FieldError> bad;
    filter.actor = req.query_param("actor");
    filter.action = req.query_param("action");
    if (filter.actor && (filter.actor->empty() || filter.actor->size() > 64))
        bad.push_back({"actor", "actor must be 1 to 64 characters"});
    if (filter.action && !domain::valid_audit_action(*filter.action))
        bad.push_back({"action", "action must be an action name such as user.role"});
    std::optional<std::string> after, before;
    try {
        after = time_filter(req, "after");
    } catch (const ApiError& e) {
        bad.insert(bad.end(), e.errors().begin(), e.errors().end());
    }
    try {
        before = time_filter(req, "before");
    } catch (const ApiError& e) {
        bad.insert(bad.end(), e.errors().begin(), e.errors().end());
    }
    if (!bad.empty()) throw ApiError::validation(std::move(bad));
    if (after) filter.after = *after;
    if (before) filter.before = *before;

    domain::ListScope scope("/admin/audit");
    scope.filter("actor", filter.actor).filter("action", filter.action).filter("after", after).filter("before", before);
    auto page = domain::parse_list_page(req.query_param("limit"), req.query_param("cursor"), scope, ctx.list_cursor_key(), 1);
    if (page.after) filter.below_id = domain::position_int((*page.after)[0]).value_or(0);

    auto& audit = ctx.audit_log();
    auto events = audit.page(filter, page.limit + 1);
    const bool more = events.size() > static_cast<size_t>(page.limit);
    if (more) events.pop_back();
    core::JsonOut o;
    o.begin_object().key("events").begin_array();
    for (const auto& e : events) {
        o.begin_object();
        o.key("id").num(e.id).key("at").str(e.at).key("actor").str(e.actor).key("action").str(e.action);
        o.key("target").str(e.target).key("detail").raw(e.detail);
        o.key("address").str(e.address).key("request_id").str(e.request_id);
        o.end_object();
    }
    o.end_array();
    if (more) o.key("next_cursor").str(domain::encode_list_cursor({std::to_string(events.back().id)}, scope, ctx.list_cursor_key()));
    o.end_object();
    auto r = core::Response::json(o.take());
    r.add_header("Cache-Control", "no-store");
    return r;
}

}  // namespace handlers
