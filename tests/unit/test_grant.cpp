// Grants (core/grant.h): the answers a worker gives nginx's grant cache, how long
// nginx may keep them, the generation link, and the types table nginx shares with
// the workers.
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>

#include <boost/test/unit_test.hpp>

#include "core/api_error.h"
#include "core/etag.h"
#include "core/fcgi_server.h"
#include "core/grant.h"
#include "core/time_util.h"
#include "domain/content_type.h"
#include "handlers/file_reply.h"

namespace fs = std::filesystem;

namespace {

std::string header(const core::Response& r, const std::string& name) {
    for (const auto& [k, v] : r.headers)
        if (k == name) return v;
    return "<none>";
}

struct Fixture {
    core::Router router;
    core::ServerHooks hooks;
    int handler_calls = 0;
    Fixture() {
        auto file = [this](core::Request& r) {
            ++handler_calls;
            return handlers::file_reply(r, "/_synkronus_attachment", "ab/abcd", r.params.count("t") ? r.params["t"] : "image/png",
                                        std::string(64, 'a'), false, true);
        };
        router.add({"GET", "/files/{t}", file, core::Role::read_only, core::BodyMode::none, 0, true});
        router.add({"GET", "/ungranted", file, core::Role::read_only});
        router.add({"GET", "/gone", [](core::Request&) -> core::Response { throw core::ApiError::not_found("no"); },
                    core::Role::read_only, core::BodyMode::none, 0, true});
        router.add({"GET", "/down", [](core::Request&) -> core::Response { throw std::runtime_error("db down"); },
                    core::Role::read_only, core::BodyMode::none, 0, true});
        hooks.file_grant_seconds = 3;
        hooks.token_grant_seconds = 2;
    }
    core::Response ask(core::Grant g, const std::string& path, const std::string& method = "GET") {
        core::Request req;
        req.method = method;
        req.path = path;
        req.grant = g;
        return core::dispatch(router, hooks, req);
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(grants, Fixture)

BOOST_AUTO_TEST_CASE(a_file_answer_names_the_internal_uri_and_is_kept_for_grant_seconds) {
    auto r = ask(core::Grant::file, "/files/image%2Fpng");
    BOOST_TEST(r.status == 200);
    // image/png is what "ab/abcd" is not typed as by name: the suffix types it.
    BOOST_TEST(header(r, "X-Synkronus-Next") == "/_synkronus_attachment/ab/abcd.png");
    BOOST_TEST(header(r, "X-Synkronus-Etag") == "\"" + std::string(64, 'a') + "\"");
    BOOST_TEST(header(r, "X-Accel-Expires") == "3");
    // No principal was needed: the handler ran, nobody authenticated.
    BOOST_TEST(handler_calls == 1);
}

BOOST_AUTO_TEST_CASE(a_type_by_name_needs_no_suffix_and_a_type_without_extension_stays_with_a_worker) {
    BOOST_TEST(header(ask(core::Grant::file, "/files/application%2Foctet-stream"), "X-Synkronus-Next") ==
               "/_synkronus_attachment/ab/abcd");
    auto r = ask(core::Grant::file, "/files/audio%2Fx-unheard-of");
    BOOST_TEST(header(r, "X-Synkronus-Next") == "<none>");
    BOOST_TEST(header(r, "X-Accel-Expires") == "3");
}

BOOST_AUTO_TEST_CASE(other_routes_errors_and_methods_are_left_to_a_worker) {
    for (const char* path : {"/ungranted", "/gone", "/nowhere"}) {
        auto r = ask(core::Grant::file, path);
        BOOST_TEST(r.status == 200, path);
        BOOST_TEST(header(r, "X-Synkronus-Next") == "<none>", path);
        BOOST_TEST(header(r, "X-Accel-Expires") == "3", path);
    }
    BOOST_TEST(header(ask(core::Grant::file, "/files/image%2Fpng", "DELETE"), "X-Synkronus-Next") == "<none>");
    // HEAD is served by the GET route, and so is its grant.
    BOOST_TEST(header(ask(core::Grant::file, "/files/image%2Fpng", "HEAD"), "X-Synkronus-Next") != "<none>");
}

BOOST_AUTO_TEST_CASE(a_failure_is_never_kept) {
    auto r = ask(core::Grant::file, "/down");
    BOOST_TEST(header(r, "X-Synkronus-Next") == "<none>");
    BOOST_TEST(header(r, "X-Accel-Expires") == "0");
}

BOOST_AUTO_TEST_CASE(a_token_answer_is_kept_at_most_until_a_second_before_exp) {
    const int64_t now = core::unix_now();
    int64_t exp = now + 3600;
    hooks.token_granted = [&](const core::Request&) -> std::optional<int64_t> { return exp; };
    auto r = ask(core::Grant::token, "/anything");
    BOOST_TEST(header(r, "X-Synkronus-Grant") == "yes");
    BOOST_TEST(header(r, "X-Accel-Expires") == "2");
    exp = now + 2;  // nginx may use an answer one second longer than it is told
    BOOST_TEST(header(ask(core::Grant::token, "/x"), "X-Accel-Expires") == "1");
    exp = now + 1;
    BOOST_TEST(header(ask(core::Grant::token, "/x"), "X-Accel-Expires") == "0");
    hooks.token_granted = [](const core::Request&) -> std::optional<int64_t> { return std::nullopt; };
    r = ask(core::Grant::token, "/x");
    BOOST_TEST(header(r, "X-Synkronus-Grant") == "no");
    BOOST_TEST(header(r, "X-Accel-Expires") == "2");
    hooks.token_granted = [](const core::Request&) -> std::optional<int64_t> { throw std::runtime_error("db down"); };
    r = ask(core::Grant::token, "/x");
    BOOST_TEST(header(r, "X-Synkronus-Grant") == "no");
    BOOST_TEST(header(r, "X-Accel-Expires") == "0");
}

BOOST_AUTO_TEST_CASE(a_revalidation_keeps_its_304_only) {
    hooks.authenticate = [](const core::Request&) { return core::Principal{"u", core::Role::read_only, "", 0}; };
    core::Request req;
    req.method = "GET";
    req.path = "/files/image%2Fpng";
    req.grant = core::Grant::revalidate;
    req.headers["if-none-match"] = "\"" + std::string(64, 'a') + "\"";
    auto r = core::dispatch(router, hooks, req);
    BOOST_TEST(r.status == 304);
    BOOST_TEST(header(r, "X-Accel-Expires") == "3");
    req.headers["if-none-match"] = "\"other\"";
    r = core::dispatch(router, hooks, req);
    BOOST_TEST(r.status == 200);
    BOOST_TEST(header(r, "X-Accel-Redirect") == "/_synkronus_attachment/ab/abcd");
    BOOST_TEST(header(r, "X-Accel-Expires") == "<none>");
}

// A keepable route (the manifest) asked with Grant::answer: its whole success is kept
// for grant_seconds (a 200 and a 304), nothing else is: errors, HEAD, routes that are
// not keepable, and the same route asked without a grant.
BOOST_AUTO_TEST_CASE(an_answer_keeps_a_keepable_routes_success_only) {
    bool valid = true;
    hooks.authenticate = [&](const core::Request&) {
        if (!valid) throw core::ApiError::unauthorized("bad token");
        return core::Principal{"u", core::Role::read_only, "", 0};
    };
    int fresh_reads = 0;
    auto manifest = [&](core::Request& r) {
        if (r.grant != core::Grant::none) ++fresh_reads;
        if (auto nm = core::not_modified(r, "h1")) return *nm;
        auto resp = core::Response::json("{}");
        resp.add_header("ETag", core::strong_etag("h1"));
        return resp;
    };
    router.add({"GET", "/kept", manifest, core::Role::read_only, core::BodyMode::none, 0, false, true});
    router.add({"GET", "/not-kept", manifest, core::Role::read_only});
    router.add({"GET", "/kept-fails", [](core::Request&) -> core::Response { throw core::ApiError::not_found("no"); },
                core::Role::read_only, core::BodyMode::none, 0, false, true});
    auto asked = [&](const std::string& path, const std::string& method = "GET", const char* inm = nullptr,
                     core::Grant g = core::Grant::answer) {
        core::Request req;
        req.method = method;
        req.path = path;
        req.grant = g;
        if (inm) req.headers["if-none-match"] = inm;
        return core::dispatch(router, hooks, req);
    };
    auto r = asked("/kept");
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.body == "{}");
    BOOST_TEST(header(r, "X-Accel-Expires") == "3");
    BOOST_TEST(header(r, "x-api-version-used") == "1.0.0");
    r = asked("/kept", "GET", "\"h1\"");
    BOOST_TEST(r.status == 304);
    BOOST_TEST(header(r, "X-Accel-Expires") == "3");
    BOOST_TEST(fresh_reads == 2);  // the handler is told it is asked under a grant
    // HEAD (its answer has no body), other routes, no grant, errors: nothing kept.
    BOOST_TEST(header(asked("/kept", "HEAD"), "X-Accel-Expires") == "<none>");
    BOOST_TEST(header(asked("/not-kept"), "X-Accel-Expires") == "<none>");
    BOOST_TEST(header(asked("/kept", "GET", nullptr, core::Grant::none), "X-Accel-Expires") == "<none>");
    r = asked("/kept-fails");
    BOOST_TEST(r.status == 404);
    BOOST_TEST(header(r, "X-Accel-Expires") == "<none>");
    core::Request unsupported;
    unsupported.method = "GET";
    unsupported.path = "/kept";
    unsupported.grant = core::Grant::answer;
    unsupported.headers["x-api-version"] = "9.0.0";
    r = core::dispatch(router, hooks, unsupported);
    BOOST_TEST(r.status == 406);
    BOOST_TEST(header(r, "X-Accel-Expires") == "<none>");
    valid = false;
    r = asked("/kept");
    BOOST_TEST(r.status == 401);
    BOOST_TEST(header(r, "X-Accel-Expires") == "<none>");
    // grant_seconds = 0: kept for nothing (nginx keeps no answer that says 0).
    valid = true;
    hooks.file_grant_seconds = 0;
    BOOST_TEST(header(asked("/kept"), "X-Accel-Expires") == "0");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(grant_generation)

BOOST_AUTO_TEST_CASE(each_generation_is_a_new_target_and_old_ones_go_after_a_minute) {
    char tmpl[] = "/tmp/grant-gen-XXXXXX";
    const fs::path dir = mkdtemp(tmpl);
    const std::string link = (dir / "generation").string();
    core::grant::set_generation_link(link);
    core::grant::new_generation();
    const fs::path first = fs::canonical(link);
    BOOST_TEST(fs::is_directory(first));
    core::grant::new_generation();
    const fs::path second = fs::canonical(link);
    BOOST_TEST(second != first);
    BOOST_TEST(fs::is_directory(first));  // still resolvable for a moment
    // Made over a minute ago: the next generation removes it, never the current one.
    struct timeval old[2] = {{::time(nullptr) - 120, 0}, {::time(nullptr) - 120, 0}};
    BOOST_TEST(::utimes(first.c_str(), old) == 0);
    BOOST_TEST(::utimes(second.c_str(), old) == 0);
    core::grant::new_generation();
    BOOST_TEST(!fs::exists(first));
    BOOST_TEST(!fs::exists(second));
    BOOST_TEST(fs::is_directory(fs::canonical(link)));
    BOOST_TEST(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 2);  // the link and its target
    BOOST_TEST(fs::read_symlink(link).string().rfind("generation-", 0) == 0);
    core::grant::set_generation_link("");
    core::grant::new_generation();  // no link: nothing happens
    fs::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()

// The types nginx gives a file it sends on a grant are the workers' (domain::mime_types):
// nginx/synkronus-types.conf, parsed.
BOOST_AUTO_TEST_CASE(nginx_types_block_is_the_workers_table) {
    std::ifstream in("nginx/synkronus-types.conf");  // the unit tests run in the source tree
    BOOST_REQUIRE_MESSAGE(in, "nginx/synkronus-types.conf not found: run from the source tree");
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    auto open = text.find("types {");
    auto close = text.find('}', open);
    BOOST_REQUIRE(open != std::string::npos && close != std::string::npos);
    std::map<std::string, std::string> nginx;
    std::istringstream body(text.substr(open + 7, close - open - 7));
    std::string line;
    while (std::getline(body, line, ';')) {
        std::istringstream words(line);
        std::string type, ext;
        if (!(words >> type)) continue;
        while (words >> ext) BOOST_TEST(nginx.emplace(ext, type).second, "extension listed twice: " << ext);
    }
    std::map<std::string, std::string> ours(domain::mime_types().begin(), domain::mime_types().end());
    BOOST_TEST(nginx == ours);
    BOOST_TEST(text.find("default_type application/octet-stream;") != std::string::npos);
    BOOST_TEST(domain::mime_type_for("x.unknown") == "application/octet-stream");
    for (const auto& [ext, type] : ours) BOOST_TEST(domain::mime_types().at(*domain::extension_for_type(type)) == type);
}
