#include <string>

#include <boost/test/unit_test.hpp>
#include <rapidjson/document.h>

#include "core/api_error.h"
#include "core/problem.h"

namespace {

rapidjson::Document body_of(const core::Response& r) {
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    BOOST_REQUIRE(!d.HasParseError());
    BOOST_REQUIRE(d.IsObject());
    return d;
}

std::string header_of(const core::Response& r, const std::string& name) {
    for (const auto& [k, v] : r.headers)
        if (k == name) return v;
    return "";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(problem)

BOOST_AUTO_TEST_CASE(required_fields_and_content_type) {
    auto r = core::problem_response(core::ApiError::not_found("No user named 'x'"));
    BOOST_TEST(r.status == 404);
    BOOST_TEST(r.content_type == "application/problem+json");
    auto d = body_of(r);
    BOOST_TEST(std::string(d["type"].GetString()) == "https://synkronus.org/docs/errors/not-found");
    BOOST_TEST(std::string(d["title"].GetString()) == "Not Found");
    BOOST_TEST(d["status"].GetInt() == 404);
    BOOST_TEST(std::string(d["detail"].GetString()) == "No user named 'x'");
    // The current mobile app shows `message`: the same text (CONTRACT §7).
    BOOST_TEST(std::string(d["message"].GetString()) == "No user named 'x'");
    BOOST_TEST(!d.HasMember("instance"));
    BOOST_TEST(!d.HasMember("errors"));  // only validation problems carry errors
}

BOOST_AUTO_TEST_CASE(validation_errors_array) {
    auto r = core::problem_response(core::ApiError::validation(
        {{"username", "username is required"}, {"password", "password must be at least 8 bytes"}}));
    BOOST_TEST(r.status == 400);
    BOOST_TEST(r.content_type == "application/problem+json");
    auto d = body_of(r);
    BOOST_TEST(std::string(d["type"].GetString()) == "https://synkronus.org/docs/errors/validation");
    BOOST_TEST(d["status"].GetInt() == 400);
    BOOST_TEST(d["detail"].IsString());
    BOOST_TEST(std::string(d["message"].GetString()) == d["detail"].GetString());
    BOOST_REQUIRE(d["errors"].IsArray());
    BOOST_REQUIRE(d["errors"].Size() == 2u);
    BOOST_TEST(std::string(d["errors"][0]["field"].GetString()) == "username");
    BOOST_TEST(std::string(d["errors"][0]["message"].GetString()) == "username is required");
    BOOST_TEST(std::string(d["errors"][1]["field"].GetString()) == "password");
    BOOST_TEST(d["errors"][1]["message"].IsString());
}

BOOST_AUTO_TEST_CASE(instance_when_given) {
    auto r = core::problem_response(core::ApiError::conflict("exists"), "/users/create");
    auto d = body_of(r);
    BOOST_TEST(std::string(d["instance"].GetString()) == "/users/create");
    BOOST_TEST(d["status"].GetInt() == 409);
}

BOOST_AUTO_TEST_CASE(every_slug_and_status) {
    struct Case {
        core::ApiError e;
        int status;
        const char* slug;
    };
    const Case cases[] = {
        {core::ApiError::bad_request("x"), 400, "bad-request"},
        {core::ApiError::validation({{"f", "m"}}), 400, "validation"},
        {core::ApiError::unauthorized(), 401, "unauthorized"},
        {core::ApiError::forbidden(), 403, "forbidden"},
        {core::ApiError::not_found(), 404, "not-found"},
        {core::ApiError::conflict("x"), 409, "conflict"},
        {core::ApiError::too_large(), 413, "payload-too-large"},
        {core::ApiError(406, "unsupported-api-version", "x"), 406, "unsupported-api-version"},
        {core::ApiError(429, "rate-limited", "x"), 429, "rate-limited"},
        {core::ApiError::unavailable(), 503, "unavailable"},
        {core::ApiError::internal(), 500, "internal"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.slug) {
            auto r = core::problem_response(c.e);
            BOOST_TEST(r.status == c.status);
            BOOST_TEST(r.content_type == "application/problem+json");
            auto d = body_of(r);
            BOOST_TEST(std::string(d["type"].GetString()) == std::string(core::kProblemTypeBase) + c.slug);
            BOOST_TEST(d["status"].GetInt() == c.status);
            BOOST_TEST(std::string(d["title"].GetString()).size() > 0u);
            BOOST_TEST(std::string(d["detail"].GetString()).size() > 0u);
        }
    }
}

BOOST_AUTO_TEST_CASE(extra_headers_are_carried) {
    auto r = core::problem_response(core::ApiError::unauthorized());
    BOOST_TEST(header_of(r, "WWW-Authenticate") == "Bearer");
    r = core::problem_response(core::ApiError::unavailable());
    BOOST_TEST(!header_of(r, "Retry-After").empty());
    core::ApiError e(405, "bad-request", "no");
    e.headers.emplace_back("Allow", "GET, POST");
    r = core::problem_response(e);
    BOOST_TEST(header_of(r, "Allow") == "GET, POST");
}

BOOST_AUTO_TEST_CASE(detail_is_escaped) {
    auto r = core::problem_response(core::ApiError::not_found("No user named '\"quoted\"\\\n\t'"));
    auto d = body_of(r);
    BOOST_TEST(std::string(d["detail"].GetString()) == "No user named '\"quoted\"\\\n\t'");
}

BOOST_AUTO_TEST_CASE(internal_error_detail_is_neutral) {
    auto d = body_of(core::problem_response(core::ApiError::internal()));
    std::string detail = d["detail"].GetString();
    BOOST_TEST(detail.find("SQL") == std::string::npos);
    BOOST_TEST(detail.find('/') == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
