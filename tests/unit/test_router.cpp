#include <string>

#include <boost/test/unit_test.hpp>

#include "core/api_error.h"
#include "core/router.h"
#include "tests/unit/api_error_support.h"

namespace {

core::Handler named(const std::string& name) {
    return [name](core::Request&) { return core::Response::json(name); };
}

// A table shaped like the real one: literals, parameters, aliases and a tail parameter.
core::Router sample_router() {
    core::Router r;
    r.add({"GET", "/health", named("health"), std::nullopt});
    r.add({"GET", "/users", named("list"), core::Role::admin});
    r.add({"POST", "/users", named("create-alias"), core::Role::admin});
    r.add({"POST", "/users/create", named("create"), core::Role::admin});
    r.add({"DELETE", "/users/delete/{username}", named("delete-alias"), core::Role::admin});
    r.add({"DELETE", "/users/{username}", named("delete"), core::Role::admin});
    r.add({"POST", "/app-bundle/switch/{version}", named("switch"), core::Role::admin});
    r.add({"GET", "/app-bundle/download/{path+}", named("download"), core::Role::read_only});
    return r;
}


std::string header_of(const core::ApiError& e, const std::string& name) {
    for (const auto& [k, v] : e.headers)
        if (k == name) return v;
    return "";
}

std::string run(const core::RouteMatch& m) {
    core::Request req;
    return m.route->handler(req).body;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(router)

BOOST_AUTO_TEST_CASE(literal_routes_match) {
    auto r = sample_router();
    BOOST_TEST(run(r.match("GET", "/health")) == "health");
    BOOST_TEST(run(r.match("GET", "/users")) == "list");
    BOOST_TEST(run(r.match("POST", "/users")) == "create-alias");
    BOOST_TEST(run(r.match("POST", "/users/create")) == "create");
    BOOST_TEST((r.match("GET", "/users").route->role == core::Role::admin));
    BOOST_TEST(!r.match("GET", "/health").route->role.has_value());
}

BOOST_AUTO_TEST_CASE(unknown_path_is_404) {
    auto r = sample_router();
    for (const char* path : {"/", "/nope", "/health/x", "/healthz", "/users/create/x", "/users/a/b",
                             "/app-bundle/download", "/app-bundle/download/", "/HEALTH"}) {
        BOOST_TEST_CONTEXT("path " << path) {
            auto e = expect_api_error([&] { r.match("GET", path); });
            BOOST_TEST(e.status() == 404);
            BOOST_TEST(e.slug() == "not-found");
        }
    }
}

BOOST_AUTO_TEST_CASE(head_is_served_by_the_get_route) {
    core::Router r;
    r.add({"GET", "/files/{path+}", named("get"), std::nullopt});
    r.add({"POST", "/files/{path+}", named("post"), std::nullopt});
    r.add({"POST", "/login", named("login"), std::nullopt});
    auto m = r.match("HEAD", "/files/a/b.js");
    BOOST_TEST(run(m) == "get");
    BOOST_TEST(m.params.at("path") == "a/b.js");
    // Only GET routes take HEAD: a POST-only path still says what it allows.
    auto e = expect_api_error([&] { r.match("HEAD", "/login"); });
    BOOST_TEST(e.status() == 405);
    BOOST_TEST(header_of(e, "Allow") == "POST");
    e = expect_api_error([&] { r.match("HEAD", "/nope"); });
    BOOST_TEST(e.status() == 404);
}

BOOST_AUTO_TEST_CASE(wrong_method_is_405_with_allow) {
    auto r = sample_router();
    auto e = expect_api_error([&] { r.match("PUT", "/users"); });
    BOOST_TEST(e.status() == 405);
    BOOST_TEST(header_of(e, "Allow") == "GET, HEAD, POST");

    e = expect_api_error([&] { r.match("POST", "/health"); });
    BOOST_TEST(e.status() == 405);
    BOOST_TEST(header_of(e, "Allow") == "GET, HEAD");

    // /users/create is both the literal POST route and a DELETE /users/{username} match.
    e = expect_api_error([&] { r.match("GET", "/users/create"); });
    BOOST_TEST(e.status() == 405);
    std::string allow = header_of(e, "Allow");
    BOOST_TEST(allow.find("POST") != std::string::npos);
    BOOST_TEST(allow.find("DELETE") != std::string::npos);
    BOOST_TEST(allow.find("GET") == std::string::npos);

    e = expect_api_error([&] { r.match("GET", "/users/bob"); });
    BOOST_TEST(e.status() == 405);
    BOOST_TEST(header_of(e, "Allow") == "DELETE");

    // A method name is listed once even when several patterns allow it.
    core::Router two;
    two.add({"GET", "/a/b", named("literal"), std::nullopt});
    two.add({"GET", "/a/{x}", named("param"), std::nullopt});
    two.add({"POST", "/a/{x}", named("post"), std::nullopt});
    e = expect_api_error([&] { two.match("PUT", "/a/b"); });
    BOOST_TEST(e.status() == 405);
    BOOST_TEST(header_of(e, "Allow") == "GET, HEAD, POST");
    BOOST_TEST(run(two.match("GET", "/a/b")) == "literal");
    BOOST_TEST(run(two.match("GET", "/a/c")) == "param");
}

BOOST_AUTO_TEST_CASE(parameters_are_decoded) {
    auto r = sample_router();
    auto m = r.match("DELETE", "/users/bob");
    BOOST_TEST(run(m) == "delete");
    BOOST_TEST(m.params.at("username") == "bob");

    m = r.match("DELETE", "/users/a%40b.c");
    BOOST_TEST(m.params.at("username") == "a@b.c");
    m = r.match("DELETE", "/users/with%20space");
    BOOST_TEST(m.params.at("username") == "with space");
    // '+' in a path is a literal plus, not a space.
    m = r.match("DELETE", "/users/a+b");
    BOOST_TEST(m.params.at("username") == "a+b");
    // An encoded slash stays inside one segment.
    m = r.match("DELETE", "/users/a%2Fb");
    BOOST_TEST(run(m) == "delete");
    BOOST_TEST(m.params.at("username") == "a/b");
}

BOOST_AUTO_TEST_CASE(alias_route_wins_by_table_order) {
    auto r = sample_router();
    auto m = r.match("DELETE", "/users/delete/bob");
    BOOST_TEST(run(m) == "delete-alias");
    BOOST_TEST(m.params.at("username") == "bob");
    // A user literally named "delete" is still reachable by the main route.
    m = r.match("DELETE", "/users/delete");
    BOOST_TEST(run(m) == "delete");
    BOOST_TEST(m.params.at("username") == "delete");
}

BOOST_AUTO_TEST_CASE(tail_parameter_takes_the_rest) {
    auto r = sample_router();
    auto m = r.match("GET", "/app-bundle/download/app/index.html");
    BOOST_TEST(run(m) == "download");
    BOOST_TEST(m.params.at("path") == "app/index.html");

    m = r.match("GET", "/app-bundle/download/app%2Fjs%2Fmain.js");
    BOOST_TEST(m.params.at("path") == "app/js/main.js");

    m = r.match("GET", "/app-bundle/download/forms/a%20b/schema.json");
    BOOST_TEST(m.params.at("path") == "forms/a b/schema.json");

    m = r.match("GET", "/app-bundle/download/index.html");
    BOOST_TEST(m.params.at("path") == "index.html");
}

BOOST_AUTO_TEST_CASE(malformed_escape_is_400) {
    auto r = sample_router();
    for (const char* path : {"/users/%zz", "/users/%4", "/users/%", "/users/a%00b"}) {
        BOOST_TEST_CONTEXT("path " << path) {
            auto e = expect_api_error([&] { r.match("DELETE", path); });
            BOOST_TEST(e.status() == 400);
            BOOST_TEST(e.slug() == "bad-request");
        }
    }
    auto e = expect_api_error([&] { r.match("GET", "/app-bundle/download/app/%G1.js"); });
    BOOST_TEST(e.status() == 400);
}

BOOST_AUTO_TEST_CASE(percent_decode_rules) {
    std::string out;
    BOOST_TEST(core::percent_decode("a%20b%2F%41", out));
    BOOST_TEST(out == "a b/A");
    BOOST_TEST(core::percent_decode("a+b", out));
    BOOST_TEST(out == "a+b");
    BOOST_TEST(core::percent_decode("a+b", out, true));
    BOOST_TEST(out == "a b");
    BOOST_TEST(!core::percent_decode("%", out));
    BOOST_TEST(!core::percent_decode("%2", out));
    BOOST_TEST(!core::percent_decode("%g0", out));
    BOOST_TEST(!core::percent_decode("%00", out));
}

BOOST_AUTO_TEST_SUITE_END()
