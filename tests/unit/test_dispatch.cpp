#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <boost/test/unit_test.hpp>
#include <rapidjson/document.h>

#include "core/api_error.h"
#include "core/fcgi_server.h"

namespace {

// A small router and hooks that record what dispatch did with them.
struct Fixture {
    core::Router router;
    core::ServerHooks hooks;
    int auth_calls = 0;
    int handler_calls = 0;
    int translate_calls = 0;
    std::string seen_body;
    std::optional<core::Principal> seen_principal;

    Fixture() {
        auto record = [this](core::Request& r) {
            ++handler_calls;
            seen_body = r.body;
            seen_principal = r.principal;
            return core::Response::json(R"({"ok":true})");
        };
        router.add({"GET", "/public", record, std::nullopt});
        router.add({"GET", "/reader", record, core::Role::read_only});
        router.add({"GET", "/admin", record, core::Role::admin});
        router.add({"POST", "/upload", record, core::Role::read_write, core::BodyMode::buffered, 16});
        router.add({"POST", "/open-upload", record, std::nullopt, core::BodyMode::buffered, 16});
        router.add({"GET", "/boom", [](core::Request&) -> core::Response { throw std::runtime_error("SELECT secret FROM /etc/x"); },
                    std::nullopt});
        router.add({"GET", "/api-error", [](core::Request&) -> core::Response { throw core::ApiError::conflict("taken"); },
                    std::nullopt});
        router.add({"GET", "/int", [](core::Request&) -> core::Response { throw 42; }, std::nullopt});

        // Tokens: "admin", "rw", "ro"; anything else is 401.
        hooks.authenticate = [this](const core::Request& r) {
            ++auth_calls;
            const std::string* h = r.header("authorization");
            if (!h) throw core::ApiError::unauthorized("Missing bearer token");
            if (*h == "Bearer admin") return core::Principal{"root", core::Role::admin, "", 0};
            if (*h == "Bearer rw") return core::Principal{"writer", core::Role::read_write, "", 0};
            if (*h == "Bearer ro") return core::Principal{"reader", core::Role::read_only, "", 0};
            throw core::ApiError::unauthorized("Invalid token");
        };
        hooks.translate = [this](std::exception_ptr ep) -> core::ApiError {
            ++translate_calls;
            try {
                std::rethrow_exception(ep);
            } catch (const std::runtime_error&) {
                return core::ApiError::unavailable("The database is unavailable");
            } catch (...) {
                return core::ApiError::internal();
            }
        };
    }

    core::Response call(const std::string& method, const std::string& path,
                        std::map<std::string, std::string> headers = {}, std::string body = "") {
        core::Request req;
        req.method = method;
        req.path = path;
        req.headers = std::move(headers);
        req.content_length = static_cast<int64_t>(body.size());
        auto pos = std::make_shared<size_t>(0);
        req.read_body = [body, pos](char* buf, size_t n) -> size_t {
            size_t k = std::min({n, body.size() - *pos, size_t{5}});  // small reads, like a socket
            std::copy_n(body.data() + *pos, k, buf);
            *pos += k;
            return k;
        };
        return core::dispatch(router, hooks, req);
    }
};

std::string header_of(const core::Response& r, const std::string& name) {
    for (const auto& [k, v] : r.headers)
        if (k == name) return v;
    return "";
}

std::string slug_of(const core::Response& r) {
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("type")) return "";
    std::string type = d["type"].GetString();
    return type.substr(type.rfind('/') + 1);
}

void expect_problem(const core::Response& r, int status, const std::string& slug) {
    BOOST_TEST(r.status == status);
    BOOST_TEST(r.content_type == "application/problem+json");
    BOOST_TEST(slug_of(r) == slug);
    BOOST_TEST(header_of(r, "x-api-version-used") == core::kApiVersion);
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(dispatch, Fixture)

BOOST_AUTO_TEST_CASE(public_route_without_version_header) {
    auto r = call("GET", "/public");
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.body == R"({"ok":true})");
    BOOST_TEST(header_of(r, "x-api-version-used") == core::kApiVersion);
    BOOST_TEST(auth_calls == 0);  // public routes never look at tokens
}

BOOST_AUTO_TEST_CASE(valid_version_headers) {
    for (const char* v : {"1.0.0", "1.2.3", "1.10.200"}) {
        BOOST_TEST_CONTEXT("x-api-version " << v) {
            auto r = call("GET", "/public", {{"x-api-version", v}});
            BOOST_TEST(r.status == 200);
            BOOST_TEST(header_of(r, "x-api-version-used") == core::kApiVersion);
        }
    }
}

BOOST_AUTO_TEST_CASE(malformed_version_is_400) {
    for (const char* v : {"", "1", "1.0", "v1.0.0", "1.0.0-beta", "1.0.0.0", "a.b.c", " 1.0.0", "1..0", "1.0.x"}) {
        BOOST_TEST_CONTEXT("x-api-version '" << v << "'") {
            auto r = call("GET", "/public", {{"x-api-version", v}});
            expect_problem(r, 400, "bad-request");
            BOOST_TEST(handler_calls == 0);
        }
    }
}

BOOST_AUTO_TEST_CASE(other_major_is_406) {
    for (const char* v : {"2.0.0", "0.9.0", "10.0.0"}) {
        BOOST_TEST_CONTEXT("x-api-version " << v) {
            auto r = call("GET", "/public", {{"x-api-version", v}});
            expect_problem(r, 406, "unsupported-api-version");
        }
    }
    BOOST_TEST(handler_calls == 0);
}

BOOST_AUTO_TEST_CASE(version_is_checked_before_authentication) {
    auto r = call("GET", "/admin", {{"x-api-version", "2.0.0"}});
    expect_problem(r, 406, "unsupported-api-version");
    BOOST_TEST(auth_calls == 0);
}

BOOST_AUTO_TEST_CASE(router_errors_carry_the_version_header) {
    expect_problem(call("GET", "/nope"), 404, "not-found");
    auto r = call("DELETE", "/public");
    BOOST_TEST(r.status == 405);
    BOOST_TEST(r.content_type == "application/problem+json");
    BOOST_TEST(header_of(r, "Allow") == "GET, HEAD");
    BOOST_TEST(header_of(r, "x-api-version-used") == core::kApiVersion);
}

BOOST_AUTO_TEST_CASE(authenticate_hook_401) {
    auto r = call("GET", "/reader");
    expect_problem(r, 401, "unauthorized");
    BOOST_TEST(header_of(r, "WWW-Authenticate") == "Bearer");
    r = call("GET", "/reader", {{"authorization", "Bearer forged"}});
    expect_problem(r, 401, "unauthorized");
    BOOST_TEST(header_of(r, "WWW-Authenticate") == "Bearer");
    BOOST_TEST(auth_calls == 2);
    BOOST_TEST(handler_calls == 0);
}

BOOST_AUTO_TEST_CASE(roles_are_ordered) {
    auto r = call("GET", "/admin", {{"authorization", "Bearer rw"}});
    expect_problem(r, 403, "forbidden");
    r = call("GET", "/admin", {{"authorization", "Bearer ro"}});
    expect_problem(r, 403, "forbidden");
    BOOST_TEST(handler_calls == 0);

    r = call("GET", "/admin", {{"authorization", "Bearer admin"}});
    BOOST_TEST(r.status == 200);
    // admin includes read-write includes read-only.
    for (const char* t : {"Bearer admin", "Bearer rw", "Bearer ro"}) {
        r = call("GET", "/reader", {{"authorization", t}});
        BOOST_TEST(r.status == 200, t);
    }
    r = call("POST", "/upload", {{"authorization", "Bearer ro"}}, "{}");
    expect_problem(r, 403, "forbidden");
    r = call("POST", "/upload", {{"authorization", "Bearer rw"}}, "{}");
    BOOST_TEST(r.status == 200);
}

BOOST_AUTO_TEST_CASE(principal_reaches_the_handler) {
    call("GET", "/reader", {{"authorization", "Bearer rw"}});
    BOOST_REQUIRE(seen_principal.has_value());
    BOOST_TEST(seen_principal->username == "writer");
    BOOST_TEST(std::string(core::role_name(seen_principal->role)) == "read-write");
    call("GET", "/public");
    BOOST_TEST(!seen_principal.has_value());
}

BOOST_AUTO_TEST_CASE(body_is_read_for_buffered_routes) {
    auto r = call("POST", "/upload", {{"authorization", "Bearer rw"}}, R"({"a":"0123456"})");  // 15 bytes
    BOOST_TEST(r.status == 200);
    BOOST_TEST(seen_body == R"({"a":"0123456"})");
    r = call("POST", "/upload", {{"authorization", "Bearer rw"}}, std::string(16, 'x'));  // exactly the limit
    BOOST_TEST(r.status == 200);
    BOOST_TEST(seen_body == std::string(16, 'x'));
}

BOOST_AUTO_TEST_CASE(body_over_the_limit_is_413) {
    auto r = call("POST", "/upload", {{"authorization", "Bearer rw"}}, std::string(17, 'x'));
    expect_problem(r, 413, "payload-too-large");
    r = call("POST", "/open-upload", {}, std::string(100000, 'x'));
    expect_problem(r, 413, "payload-too-large");
    BOOST_TEST(handler_calls == 0);
}

BOOST_AUTO_TEST_CASE(declared_length_larger_than_body_is_400) {
    core::Request req;
    req.method = "POST";
    req.path = "/open-upload";
    req.content_length = 10;
    bool once = false;
    req.read_body = [&once](char* buf, size_t) -> size_t {
        if (once) return 0;
        once = true;
        buf[0] = '{';
        return 1;
    };
    auto r = core::dispatch(router, hooks, req);
    expect_problem(r, 400, "bad-request");
    BOOST_TEST(handler_calls == 0);
}

BOOST_AUTO_TEST_CASE(api_errors_from_handlers_pass_through) {
    auto r = call("GET", "/api-error");
    expect_problem(r, 409, "conflict");
    BOOST_TEST(translate_calls == 0);
}

BOOST_AUTO_TEST_CASE(translate_hook_maps_other_exceptions) {
    auto r = call("GET", "/boom");
    expect_problem(r, 503, "unavailable");
    BOOST_TEST(translate_calls == 1);
    // The exception's text never reaches the client.
    BOOST_TEST(r.body.find("SELECT") == std::string::npos);
    BOOST_TEST(r.body.find("/etc/x") == std::string::npos);
    r = call("GET", "/int");
    expect_problem(r, 500, "internal");
    BOOST_TEST(translate_calls == 2);
}

BOOST_AUTO_TEST_CASE(without_translate_hook_errors_are_500) {
    hooks.translate = nullptr;
    auto r = call("GET", "/boom");
    expect_problem(r, 500, "internal");
    BOOST_TEST(r.body.find("SELECT") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(non_standard_exceptions_never_escape) {
    // dispatch is the one boundary: whatever is thrown, the client gets a problem.
    hooks.translate = nullptr;
    expect_problem(call("GET", "/int"), 500, "internal");
    hooks.translate = [](std::exception_ptr ep) -> core::ApiError { std::rethrow_exception(ep); };
    expect_problem(call("GET", "/int"), 500, "internal");
    expect_problem(call("GET", "/boom"), 500, "internal");
}

BOOST_AUTO_TEST_CASE(authenticate_hook_throwing_other_errors_is_translated) {
    hooks.authenticate = [](const core::Request&) -> core::Principal { throw std::runtime_error("db down"); };
    auto r = call("GET", "/reader", {{"authorization", "Bearer admin"}});
    expect_problem(r, 503, "unavailable");
    BOOST_TEST(r.body.find("db down") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
