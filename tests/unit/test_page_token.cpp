#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "core/crypto.h"
#include "domain/invalid_input.h"
#include "domain/page_token.h"
#include "domain/sync_request.h"

namespace {

const std::string kKey = "0123456789abcdef0123456789abcdef";

domain::PageCursor sample() {
    domain::PageCursor c;
    c.after_change_id = 1234567890123;
    c.schema_types = {"visit", "household", "visit", "\u00e9tude"};
    c.limit = 200;
    c.snapshot_cutoff = 1234567899999;
    return c;
}

// Builds a correctly signed token around an arbitrary payload, to test the checks that
// run after the MAC. Mirrors the format documented in page_token.cpp.
std::string signed_token(const std::string& payload, const std::string& key = kKey) {
    return core::base64url_encode(payload) + "." +
           core::base64url_encode(core::hmac_sha256(key, "synkronus-page-v1." + payload));
}

std::string payload(int64_t after, int64_t cutoff, unsigned limit, const std::vector<std::string>& types) {
    std::string p;
    for (int s = 56; s >= 0; s -= 8) p.push_back(static_cast<char>((static_cast<uint64_t>(after) >> s) & 0xFF));
    for (int s = 56; s >= 0; s -= 8) p.push_back(static_cast<char>((static_cast<uint64_t>(cutoff) >> s) & 0xFF));
    p.push_back(static_cast<char>(limit >> 8));
    p.push_back(static_cast<char>(limit & 0xFF));
    p.push_back(static_cast<char>(types.size() >> 8));
    p.push_back(static_cast<char>(types.size() & 0xFF));
    for (const auto& t : types) {
        p.push_back(static_cast<char>(t.size() >> 8));
        p.push_back(static_cast<char>(t.size() & 0xFF));
        p += t;
    }
    return p;
}

// Replaces the base64url character at `pos` with a different one.
std::string flip(std::string token, size_t pos) {
    token[pos] = token[pos] == 'A' ? 'B' : 'A';
    return token;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(page_token)

// The one place a pull's first cursor is made (body, ?limit, ?schemaType).
BOOST_AUTO_TEST_CASE(first_page_cursor_takes_the_body_and_the_query) {
    domain::PullRequest body;
    body.after_change_id = 42;
    body.schema_types = {"visit"};
    body.shape = domain::RecordShape::observations;
    auto c = domain::first_page_cursor(body, std::nullopt, std::nullopt);
    BOOST_TEST(c.limit == 50);
    BOOST_TEST(c.after_change_id == 42);
    BOOST_TEST((c.shape == domain::RecordShape::observations));
    BOOST_TEST(c.snapshot_cutoff == 0);
    c = domain::first_page_cursor(body, std::string("500"), std::string("household"));
    BOOST_TEST(c.limit == 500);
    BOOST_TEST((c.schema_types == std::vector<std::string>{"household", "visit"}));
    c = domain::first_page_cursor(body, std::string("1"), std::string("visit"));
    BOOST_TEST(c.limit == 1);
    BOOST_TEST((c.schema_types == std::vector<std::string>{"visit"}));
}

BOOST_AUTO_TEST_CASE(first_page_cursor_refuses_bad_query_values_naming_them) {
    const domain::PullRequest body;
    auto problem = [&](std::optional<std::string> limit, std::optional<std::string> type) -> std::string {
        try {
            domain::first_page_cursor(body, limit, type);
        } catch (const domain::InvalidInput& e) {
            return e.problems().at(0).field + ": " + e.problems().at(0).message;
        }
        return "";
    };
    for (const char* bad : {"0", "501", "", "abc", "-1", "10000", "1e2"})
        BOOST_TEST(problem(std::string(bad), std::nullopt) == "limit: limit must be an integer from 1 to 500", bad);
    BOOST_TEST(problem(std::nullopt, std::string("")) ==
               "schemaType: schemaType must be 1 to 255 characters of valid UTF-8");
    BOOST_TEST(problem(std::nullopt, std::string("\xff")) ==
               "schemaType: schemaType must be 1 to 255 characters of valid UTF-8");
    BOOST_TEST(problem(std::nullopt, std::string(256, 'a')) ==
               "schemaType: schemaType must be 1 to 255 characters of valid UTF-8");
    BOOST_TEST(problem(std::nullopt, std::string(255, 'a')) == "");
}

BOOST_AUTO_TEST_CASE(round_trip) {
    const std::string token = domain::encode_page_token(sample(), kKey);
    const auto c = domain::decode_page_token(token, kKey);
    BOOST_REQUIRE(c.has_value());
    BOOST_TEST(c->after_change_id == 1234567890123);
    BOOST_TEST(c->limit == 200);
    BOOST_TEST(c->snapshot_cutoff == 1234567899999);
    // Sorted and deduplicated on the way in.
    const std::vector<std::string> expected = {"household", "visit", "\u00e9tude"};
    BOOST_TEST(c->schema_types == expected, boost::test_tools::per_element());
    // URL-safe: no characters that need percent-encoding.
    BOOST_TEST(token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") ==
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_shape_travels_with_the_token) {
    for (auto shape : {domain::RecordShape::records, domain::RecordShape::observations, domain::RecordShape::both}) {
        auto c = sample();
        c.shape = shape;
        const auto d = domain::decode_page_token(domain::encode_page_token(c, kKey), kKey);
        BOOST_REQUIRE(d.has_value());
        BOOST_TEST((d->shape == shape));
    }
}

BOOST_AUTO_TEST_CASE(tokens_without_a_shape_continue_as_record_pulls) {
    // The layout issued before observations: no shape byte after the types.
    const auto token_of = [](const std::string& payload) {
        return core::base64url_encode(payload) + "." +
               core::base64url_encode(core::hmac_sha256(kKey, "synkronus-page-v1." + payload));
    };
    std::string payload = std::string(8, '\0') + std::string(7, '\0') + '\x05' + std::string("\0\x32\0\0", 4);
    auto d = domain::decode_page_token(token_of(payload), kKey);
    BOOST_REQUIRE(d.has_value());
    BOOST_TEST((d->shape == domain::RecordShape::records));
    BOOST_TEST(d->snapshot_cutoff == 5);
    BOOST_TEST(d->limit == 50);
    BOOST_TEST(domain::decode_page_token(token_of(payload + '\x02'), kKey).has_value());
    BOOST_TEST(!domain::decode_page_token(token_of(payload + '\x03'), kKey).has_value());  // no such shape
    BOOST_TEST(!domain::decode_page_token(token_of(payload + "\x01\x01"), kKey).has_value());
}

BOOST_AUTO_TEST_CASE(round_trip_edges) {
    domain::PageCursor c;
    c.after_change_id = 0;
    c.limit = 1;
    auto d = domain::decode_page_token(domain::encode_page_token(c, kKey), kKey);
    BOOST_REQUIRE(d.has_value());
    BOOST_TEST(d->schema_types.empty());
    BOOST_TEST(d->limit == 1);
    BOOST_TEST(d->after_change_id == 0);
    BOOST_TEST(d->snapshot_cutoff == 0);

    c.after_change_id = INT64_MAX;
    c.snapshot_cutoff = INT64_MAX;
    c.limit = 500;
    d = domain::decode_page_token(domain::encode_page_token(c, kKey), kKey);
    BOOST_REQUIRE(d.has_value());
    BOOST_TEST(d->after_change_id == INT64_MAX);
    BOOST_TEST(d->limit == 500);
}

BOOST_AUTO_TEST_CASE(largest_filter_fits) {
    // The most parse_pull_request lets through, plus a 255-character query schemaType of
    // 4-byte characters, must still make a token decode accepts.
    domain::PageCursor c;
    c.limit = 500;
    c.after_change_id = INT64_MAX;
    size_t budget = domain::kMaxPullFilterBytes;
    for (int i = 0; budget >= 2 + 3; ++i) {
        std::string t = "t" + std::to_string(i);
        t.resize(std::min<size_t>(budget - 2, 255), 'x');
        budget -= t.size() + 2;
        c.schema_types.push_back(t);
    }
    std::string query_type;
    for (int i = 0; i < 255; ++i) query_type += "\U0001F600";
    c.schema_types.push_back(query_type);
    const std::string token = domain::encode_page_token(c, kKey);
    BOOST_TEST(token.size() <= domain::kMaxPageTokenLength);
    BOOST_TEST(domain::decode_page_token(token, kKey).has_value());
}

BOOST_AUTO_TEST_CASE(encode_refuses_bad_input) {
    BOOST_CHECK_THROW(domain::encode_page_token(sample(), ""), std::invalid_argument);
    auto c = sample();
    c.limit = 0;
    BOOST_CHECK_THROW(domain::encode_page_token(c, kKey), std::invalid_argument);
    c.limit = 501;
    BOOST_CHECK_THROW(domain::encode_page_token(c, kKey), std::invalid_argument);
    c = sample();
    c.after_change_id = -1;
    BOOST_CHECK_THROW(domain::encode_page_token(c, kKey), std::invalid_argument);
    c = sample();
    c.schema_types.push_back("");
    BOOST_CHECK_THROW(domain::encode_page_token(c, kKey), std::invalid_argument);
    // A page never starts above the snapshot its first page read.
    c = sample();
    c.after_change_id = c.snapshot_cutoff + 1;
    BOOST_CHECK_THROW(domain::encode_page_token(c, kKey), std::invalid_argument);
    c = sample();
    for (int i = 0; i < 100; ++i) c.schema_types.push_back(std::to_string(i) + std::string(200, 'x'));
    BOOST_CHECK_THROW(domain::encode_page_token(c, kKey), std::length_error);
}

BOOST_AUTO_TEST_CASE(tampered_tokens_are_refused) {
    const std::string token = domain::encode_page_token(sample(), kKey);
    const size_t dot = token.find('.');
    BOOST_REQUIRE(dot != std::string::npos);
    for (size_t pos = 0; pos < dot; ++pos) {
        BOOST_TEST(!domain::decode_page_token(flip(token, pos), kKey).has_value(), "payload char " << pos);
    }
    for (size_t pos = dot + 1; pos < token.size(); ++pos) {
        BOOST_TEST(!domain::decode_page_token(flip(token, pos), kKey).has_value(), "mac char " << pos);
    }
}

BOOST_AUTO_TEST_CASE(truncated_tokens_are_refused) {
    const std::string token = domain::encode_page_token(sample(), kKey);
    for (size_t len = 0; len < token.size(); ++len) {
        BOOST_TEST(!domain::decode_page_token(token.substr(0, len), kKey).has_value(), "length " << len);
    }
    const size_t dot = token.find('.');
    BOOST_TEST(!domain::decode_page_token(token.substr(1), kKey).has_value());
    BOOST_TEST(!domain::decode_page_token(token.substr(dot), kKey).has_value());
    BOOST_TEST(!domain::decode_page_token(token.substr(0, dot), kKey).has_value());
}

BOOST_AUTO_TEST_CASE(foreign_key_is_refused) {
    const std::string token = domain::encode_page_token(sample(), kKey);
    BOOST_TEST(!domain::decode_page_token(token, "another key of at least 32 bytes!").has_value());
    BOOST_TEST(!domain::decode_page_token(token, kKey + "x").has_value());
    BOOST_TEST(!domain::decode_page_token(token, "").has_value());
    // A MAC made without the purpose prefix does not verify.
    const std::string p = payload(5, 5, 50, {});
    const std::string bare = core::base64url_encode(p) + "." + core::base64url_encode(core::hmac_sha256(kKey, p));
    BOOST_TEST(!domain::decode_page_token(bare, kKey).has_value());
}

BOOST_AUTO_TEST_CASE(garbage_is_refused) {
    const std::string token = domain::encode_page_token(sample(), kKey);
    for (const std::string g : {"", ".", "..", "abc", "abc.def", "a.b.c", "!!!!.????", "====.====", " ",
                                "eyJhbGciOiJIUzI1NiJ9.e30.c2ln"}) {
        BOOST_TEST(!domain::decode_page_token(g, kKey).has_value(), "token '" << g << "'");
    }
    BOOST_TEST(!domain::decode_page_token(token + ".", kKey).has_value());
    BOOST_TEST(!domain::decode_page_token(token + "=", kKey).has_value());
    BOOST_TEST(!domain::decode_page_token(token + "A", kKey).has_value());
    BOOST_TEST(!domain::decode_page_token(" " + token, kKey).has_value());
    BOOST_TEST(!domain::decode_page_token(std::string(domain::kMaxPageTokenLength + 1, 'A'), kKey).has_value());
}

BOOST_AUTO_TEST_CASE(signed_but_absurd_payloads_are_refused) {
    // Sanity: the test's own builder makes tokens the decoder accepts.
    BOOST_TEST(domain::decode_page_token(signed_token(payload(7, 9, 50, {"a", "b"})), kKey).has_value());

    BOOST_TEST(!domain::decode_page_token(signed_token(payload(7, 9, 0, {})), kKey).has_value());
    BOOST_TEST(!domain::decode_page_token(signed_token(payload(7, 9, 501, {})), kKey).has_value());
    BOOST_TEST(!domain::decode_page_token(signed_token(payload(-1, 9, 50, {})), kKey).has_value());
    BOOST_TEST(!domain::decode_page_token(signed_token(payload(7, -9, 50, {})), kKey).has_value());
    BOOST_TEST(!domain::decode_page_token(signed_token(payload(7, 9, 50, {"b", "a"})), kKey).has_value());
    BOOST_TEST(!domain::decode_page_token(signed_token(payload(7, 9, 50, {"a", "a"})), kKey).has_value());
    BOOST_TEST(!domain::decode_page_token(signed_token(payload(7, 9, 50, {""})), kKey).has_value());
    BOOST_TEST(!domain::decode_page_token(signed_token(payload(7, 9, 50, {"\xff"})), kKey).has_value());
    BOOST_TEST(!domain::decode_page_token(signed_token(payload(7, 9, 50, {std::string(256, 'x')})), kKey).has_value());
    BOOST_TEST(!domain::decode_page_token(signed_token(payload(7, 9, 50, {}) + "x"), kKey).has_value());
    BOOST_TEST(!domain::decode_page_token(signed_token(payload(7, 9, 50, {"abc"}).substr(0, 24)), kKey).has_value());
    BOOST_TEST(!domain::decode_page_token(signed_token(""), kKey).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
