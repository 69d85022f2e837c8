// The served OpenAPI document (handlers/openapi.yaml) against the route table of
// handlers::build_router: every route documented, every documented operation
// routed, and the same minimal role on both sides. The document is read with
// yaml-cpp, so its layout (indents, quoting, flow or block style) does not matter.
#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <yaml-cpp/yaml.h>

#include "core/config.h"
#include "core/fcgi_server.h"
#include "core/http.h"
#include "core/router.h"
#include "handlers/context.h"
#include "handlers/routes.h"
#include "handlers/meta.h"
#include "services/settings.h"

namespace {

using OpKey = std::pair<std::string, std::string>;  // (METHOD, path)

struct DocOperation {
    std::string role;            // x-synkronus-role, "" when absent
    bool public_security = false;  // `security: []` on the operation
    size_t line = 0;
};

struct ParsedDoc {
    std::string openapi;      // top-level `openapi:` value
    std::string info_version; // `info:` -> `version:` value
    bool has_paths = false;
    std::map<OpKey, DocOperation> operations;
    std::vector<std::string> errors;  // what the parser could not make sense of
};

std::string upper(std::string s) {
    for (char& c : s)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return s;
}

std::string scalar_or_empty(const YAML::Node& n) { return n && n.IsScalar() ? n.Scalar() : std::string(); }

ParsedDoc parse_document(std::string_view text) {
    static const std::set<std::string> kMethods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"};
    ParsedDoc doc;
    YAML::Node root;
    try {
        root = YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
        doc.errors.push_back(std::string("not YAML: ") + e.what());
        return doc;
    }
    if (!root.IsMap()) {
        doc.errors.push_back("the document is not a mapping");
        return doc;
    }
    doc.openapi = scalar_or_empty(root["openapi"]);
    if (root["info"] && root["info"].IsMap()) doc.info_version = scalar_or_empty(root["info"]["version"]);
    YAML::Node paths = root["paths"];
    if (!paths) return doc;
    doc.has_paths = true;
    if (!paths.IsMap() || paths.size() == 0) {
        doc.errors.push_back("paths is not a non-empty mapping");
        return doc;
    }
    std::set<std::string> seen_paths;
    for (const auto& p : paths) {
        const std::string path = p.first.as<std::string>();
        const size_t line = static_cast<size_t>(p.first.Mark().line) + 1;
        if (path.empty() || path[0] != '/') doc.errors.push_back("line " + std::to_string(line) + ": not a path: " + path);
        if (!seen_paths.insert(path).second) doc.errors.push_back("line " + std::to_string(line) + ": path listed twice: " + path);
        if (!p.second.IsMap()) {
            doc.errors.push_back("line " + std::to_string(line) + ": path item is not a mapping: " + path);
            continue;
        }
        for (const auto& m : p.second) {
            const std::string method = m.first.as<std::string>();
            if (!kMethods.count(method)) continue;  // summary, parameters, ...
            auto [it, inserted] = doc.operations.emplace(OpKey{upper(method), path}, DocOperation{});
            DocOperation& op = it->second;
            op.line = static_cast<size_t>(m.first.Mark().line) + 1;
            if (!inserted) doc.errors.push_back("line " + std::to_string(op.line) + ": operation listed twice: " + upper(method) + " " + path);
            if (!m.second.IsMap()) continue;
            op.role = scalar_or_empty(m.second["x-synkronus-role"]);
            YAML::Node security = m.second["security"];
            op.public_security = security && security.IsSequence() && security.size() == 0;
        }
    }
    return doc;
}

// The route table's `{name+}` tail parameter is written `{name}` in OpenAPI.
std::string doc_path_of(const std::string& pattern) {
    std::string out = pattern;
    for (size_t p; (p = out.find("+}")) != std::string::npos;) out.erase(p, 1);
    return out;
}

struct RouteInfo {
    std::string role;  // "public" or the role name
};

std::map<OpKey, RouteInfo> code_routes() {
    core::Config cfg(services::setting_decls());
    cfg.set("jwt_secret", "test-secret-that-is-at-least-32-bytes-long");
    handlers::Context ctx(cfg);
    core::Router router = handlers::build_router(ctx);
    std::map<OpKey, RouteInfo> out;
    for (const auto& r : router.routes())
        out[{r.method, doc_path_of(r.pattern)}] = {r.role ? core::role_name(*r.role) : "public"};
    return out;
}

// Lines "  METHOD path" for each key of `a` missing from `b`.
template <class A, class B>
std::string missing_from(const A& a, const B& b) {
    std::string out;
    for (const auto& [k, v] : a)
        if (!b.count(k)) out += "\n  " + k.first + " " + k.second;
    return out;
}

std::string joined(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += "\n  " + s;
    return out;
}

const ParsedDoc& served_doc() {
    static const ParsedDoc doc = parse_document(handlers::openapi_document());
    return doc;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(openapi)

BOOST_AUTO_TEST_CASE(document_parses_and_declares_openapi_3_and_version_1_0_0) {
    std::string_view text = handlers::openapi_document();
    BOOST_REQUIRE(!text.empty());
    BOOST_CHECK(text.find("openapi: 3.") != std::string_view::npos);
    const ParsedDoc& doc = served_doc();
    BOOST_CHECK_MESSAGE(doc.errors.empty(), "the OpenAPI document does not parse:" << joined(doc.errors));
    BOOST_CHECK_MESSAGE(doc.openapi.rfind("3.", 0) == 0, "openapi: is '" << doc.openapi << "'");
    BOOST_CHECK_EQUAL(doc.info_version, "1.0.0");
    // The document's version is the API version the server announces in x-api-version-used.
    BOOST_CHECK_EQUAL(doc.info_version, core::kApiVersion);
    BOOST_REQUIRE(doc.has_paths);
    BOOST_CHECK(!doc.operations.empty());
    // Contract-wide pieces every client relies on.
    BOOST_CHECK(text.find("x-api-version-used") != std::string_view::npos);
    BOOST_CHECK(text.find(R"('^\d+\.\d+\.\d+$')") != std::string_view::npos);
    BOOST_CHECK(text.find("bearerAuth") != std::string_view::npos);
    BOOST_CHECK(text.find("application/problem+json") != std::string_view::npos);
    for (const auto& [k, op] : doc.operations) {
        static const std::set<std::string> kRoles = {"public", "read-only", "read-write", "admin"};
        BOOST_CHECK_MESSAGE(kRoles.count(op.role),
                            k.first << " " << k.second << " (line " << op.line << ") has x-synkronus-role '" << op.role
                                    << "'; expected public, read-only, read-write or admin");
        BOOST_CHECK_MESSAGE((op.role == "public") == op.public_security,
                            k.first << " " << k.second << ": `security: []` must be set exactly on public operations");
    }
}

BOOST_AUTO_TEST_CASE(every_route_is_documented) {
    auto routes = code_routes();
    BOOST_REQUIRE(!routes.empty());
    std::string missing = missing_from(routes, served_doc().operations);
    BOOST_CHECK_MESSAGE(missing.empty(), "routes of handlers::build_router missing from handlers/openapi.yaml:" << missing);
}

BOOST_AUTO_TEST_CASE(every_documented_operation_is_routed) {
    auto routes = code_routes();
    std::string extra = missing_from(served_doc().operations, routes);
    BOOST_CHECK_MESSAGE(extra.empty(), "operations of handlers/openapi.yaml with no route in handlers::build_router:" << extra);
}

BOOST_AUTO_TEST_CASE(documented_roles_match_the_route_table) {
    auto routes = code_routes();
    for (const auto& [k, route] : routes) {
        auto it = served_doc().operations.find(k);
        if (it == served_doc().operations.end()) continue;  // reported by every_route_is_documented
        BOOST_CHECK_MESSAGE(it->second.role == route.role, k.first << " " << k.second << ": route requires '" << route.role
                                                                    << "', document says '" << it->second.role << "'");
    }
}

// The comparison itself catches a difference either way (guards the parser against
// silently finding nothing, which would make the two tests above pass vacuously).
BOOST_AUTO_TEST_CASE(parser_sees_operations_and_differences) {
    const char* yaml =
        "openapi: 3.0.3\n"
        "info:\n"
        "  title: t\n"
        "  version: 1.0.0\n"
        "  description: |\n"
        "    get: not an operation\n"
        "paths:\n"
        "  /a:\n"
        "    get:\n"
        "      description: |\n"
        "        post: not an operation\n"
        "      x-synkronus-role: public\n"
        "      security: []\n"
        "    parameters: []\n"
        "  '/b/{path}':\n"
        "    delete:\n"
        "      x-synkronus-role: admin\n"
        "components:\n"
        "  x:\n"
        "    post: {}\n";
    ParsedDoc doc = parse_document(yaml);
    BOOST_CHECK_MESSAGE(doc.errors.empty(), joined(doc.errors));
    BOOST_CHECK_EQUAL(doc.info_version, "1.0.0");
    BOOST_REQUIRE_EQUAL(doc.operations.size(), 2u);
    BOOST_CHECK(doc.operations.count({"GET", "/a"}));
    BOOST_CHECK(doc.operations.at({"GET", "/a"}).public_security);
    BOOST_CHECK_EQUAL(doc.operations.at({"DELETE", "/b/{path}"}).role, "admin");

    std::map<OpKey, RouteInfo> routes = {{{"GET", "/a"}, {"public"}}, {{"POST", doc_path_of("/c/{rest+}")}, {"admin"}}};
    BOOST_CHECK_EQUAL(missing_from(routes, doc.operations), "\n  POST /c/{rest}");
    BOOST_CHECK_EQUAL(missing_from(doc.operations, routes), "\n  DELETE /b/{path}");

    BOOST_CHECK(!parse_document("openapi: 3.0.3\npaths: {}\n").errors.empty());
    BOOST_CHECK(!parse_document("openapi: 3.0.3\npaths:\n  /a:\n    get: {}\n  /a:\n    post: {}\n").errors.empty());
    BOOST_CHECK(!parse_document("openapi: [3.0.3\n").errors.empty());
    // Flow style and other indents read the same as the block style above.
    ParsedDoc flow = parse_document(
        "openapi: 3.0.3\ninfo: {title: t, version: 1.0.0}\npaths:\n    /a: {get: {x-synkronus-role: public, security: []}}\n");
    BOOST_CHECK_MESSAGE(flow.errors.empty(), joined(flow.errors));
    BOOST_CHECK_EQUAL(flow.info_version, "1.0.0");
    BOOST_REQUIRE_EQUAL(flow.operations.size(), 1u);
    BOOST_CHECK(flow.operations.at({"GET", "/a"}).public_security);
}

BOOST_AUTO_TEST_SUITE_END()
