#include <cmath>
#include <cstdint>
#include <string>

#include <boost/test/unit_test.hpp>
#include <rapidjson/document.h>

#include "core/api_error.h"
#include "core/json.h"
#include "core/json_request.h"
#include "core/utf8.h"
#include "tests/unit/api_error_support.h"

namespace {

std::string nested(size_t depth, char open = '[', char close = ']') {
    return std::string(depth, open) + std::string(depth, close);
}

bool has_error_for(const core::ApiError& e, const std::string& field) {
    for (const auto& fe : e.errors())
        if (fe.field == field) return true;
    return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(json)

BOOST_AUTO_TEST_CASE(parses_an_object) {
    auto doc = core::parse_json_object(R"({"a": 1, "b": "x", "c": [true, null]})");
    BOOST_TEST(doc.IsObject());
    BOOST_TEST(doc["a"].GetInt() == 1);
    BOOST_TEST(std::string(doc["b"].GetString()) == "x");
}

BOOST_AUTO_TEST_CASE(malformed_json_is_a_validation_error_naming_the_body) {
    for (const std::string& body : {std::string(""), std::string("{"), std::string("{\"a\":}"),
                                    std::string("{\"a\":1,}"), std::string("{'a':1}"), std::string("nul"),
                                    std::string("{\"a\":1} trailing")}) {
        BOOST_TEST_CONTEXT("body '" << body << "'") {
            auto e = expect_api_error([&] { core::parse_json_object(body); });
            BOOST_TEST(e.status() == 400);
            BOOST_TEST(e.slug() == "validation");
            BOOST_TEST(has_error_for(e, "body"));
        }
    }
}

// RapidJSON 1.1.0 read "a" and "b" as tiny non-zero numbers of either sign (found by fuzzing).
BOOST_AUTO_TEST_CASE(long_zeros_read_as_zero) {
    auto doc = core::parse_json_object(
        R"({"a": 0.000000000000000000000000, "b": -0.00000000000000000000000000e5, "c": 0.0,)"
        R"( "e": 1e-400, "f": 0, "g": -0, "h": 0.0000000000000000000000001, "i": 18446744073709551616,)"
        R"( "j": -9223372036854775808, "k": 333333333.33333329})");
    for (const char* k : {"a", "b", "c", "e"}) {
        BOOST_TEST_CONTEXT(k) {
            BOOST_TEST(doc[k].IsDouble());
            BOOST_TEST(doc[k].GetDouble() == 0.0);
        }
    }
    BOOST_TEST(!std::signbit(doc["a"].GetDouble()));
    BOOST_TEST(std::signbit(doc["b"].GetDouble()));
    // Every other number keeps the type and value RapidJSON gives it.
    BOOST_TEST(doc["f"].IsUint64());
    BOOST_TEST(doc["g"].IsInt());
    BOOST_TEST(doc["g"].GetInt() == 0);
    BOOST_TEST(doc["h"].GetDouble() == 1e-25);
    BOOST_TEST(doc["i"].IsDouble());
    BOOST_TEST(doc["i"].GetDouble() == 18446744073709551616.0);
    BOOST_TEST(doc["j"].IsInt64());
    BOOST_TEST(doc["j"].GetInt64() == INT64_MIN);
    BOOST_TEST(doc["k"].GetDouble() == 333333333.33333329);
}

// RapidJSON 1.1.0 read the last two as -3.09e-295 and 1.33e30 (found by fuzzing).
BOOST_AUTO_TEST_CASE(numbers_too_big_are_named) {
    for (const char* body : {R"({"a": [1, 1e400]})", R"({"a": 1.8e308})", R"({"a": 10000000000000000000000e300})",
                             R"({"a": 12345611111111111111111111111111111111111110000000000076931348623157e308})"}) {
        BOOST_TEST_CONTEXT(body) {
            auto e = expect_api_error([&] { core::parse_json_object(body); });
            BOOST_TEST(e.errors().at(0).message.find("Number too big") != std::string::npos, e.errors().at(0).message);
        }
    }
    BOOST_TEST(core::parse_json_object(R"({"a": 1.7976931348623157e308})")["a"].GetDouble() == 1.7976931348623157e308);
}

BOOST_AUTO_TEST_CASE(top_level_must_be_an_object) {
    for (const std::string& body : {std::string("[]"), std::string("\"s\""), std::string("1"), std::string("null"),
                                    std::string("true")}) {
        BOOST_TEST_CONTEXT("body " << body) {
            auto e = expect_api_error([&] { core::parse_json_object(body); });
            BOOST_TEST(e.status() == 400);
            BOOST_TEST(e.slug() == "validation");
            BOOST_TEST(has_error_for(e, "body"));
        }
    }
}

BOOST_AUTO_TEST_CASE(invalid_utf8_is_refused) {
    std::string body = "{\"a\":\"\xff\xfe\"}";
    auto e = expect_api_error([&] { core::parse_json_object(body); });
    BOOST_TEST(e.status() == 400);
    BOOST_TEST(e.slug() == "validation");
}

BOOST_AUTO_TEST_CASE(depth_limit) {
    // Object at depth 1 holding arrays nested to exactly the limit is fine.
    std::string ok = "{\"a\":" + nested(core::kMaxJsonDepth - 1) + "}";
    BOOST_TEST(core::json_depth(ok) == core::kMaxJsonDepth);
    BOOST_CHECK_NO_THROW(core::parse_json_object(ok));

    std::string deep = "{\"a\":" + nested(core::kMaxJsonDepth) + "}";
    BOOST_TEST(core::json_depth(deep) == core::kMaxJsonDepth + 1);
    auto e = expect_api_error([&] { core::parse_json_object(deep); });
    BOOST_TEST(e.status() == 400);
    BOOST_TEST(e.slug() == "validation");
    BOOST_TEST(has_error_for(e, "body"));

    // Very deep input is refused without blowing the stack.
    std::string huge = "{\"a\":" + nested(200000) + "}";
    BOOST_TEST(expect_api_error([&] { core::parse_json_object(huge); }).status() == 400);

    // A custom limit.
    BOOST_CHECK_NO_THROW(core::parse_json_object("{\"a\":{\"b\":1}}", 2));
    BOOST_TEST(expect_api_error([&] { core::parse_json_object("{\"a\":{\"b\":[1]}}", 2); }).status() == 400);
}

BOOST_AUTO_TEST_CASE(depth_ignores_brackets_in_strings) {
    BOOST_TEST(core::json_depth(R"({"a":"[[[[{{{{"})") == 1);
    BOOST_TEST(core::json_depth(R"({"a":"\"[[[["})") == 1);
    BOOST_TEST(core::json_depth(R"({"a":"\\","b":[[1]]})") == 3);
    BOOST_TEST(core::json_depth("") == 0);
    std::string in_string = "{\"a\":\"" + nested(core::kMaxJsonDepth * 2) + "\"}";
    BOOST_CHECK_NO_THROW(core::parse_json_object(in_string));
}

BOOST_AUTO_TEST_CASE(required_string) {
    auto doc = core::parse_json_object(R"({"name":"bob","empty":"","num":5,"nul":null,"obj":{}})");
    core::FieldReader f(doc);
    BOOST_TEST(f.required_string("name", 1, 64).value() == "bob");
    BOOST_TEST(f.ok());
    BOOST_TEST(!f.required_string("missing", 1, 64).has_value());
    BOOST_TEST(!f.required_string("empty", 1, 64).has_value());
    BOOST_TEST(!f.required_string("num", 1, 64).has_value());
    BOOST_TEST(!f.required_string("nul", 1, 64).has_value());  // null counts as missing
    BOOST_TEST(!f.required_string("obj", 1, 64).has_value());
    BOOST_TEST(!f.ok());
    // Every problem is reported at once, each naming its field.
    auto e = expect_api_error([&] { f.finish(); });
    BOOST_TEST(e.status() == 400);
    BOOST_TEST(e.slug() == "validation");
    BOOST_REQUIRE(e.errors().size() == 5u);
    BOOST_TEST(e.errors()[0].field == "missing");
    BOOST_TEST(e.errors()[1].field == "empty");
    BOOST_TEST(e.errors()[2].field == "num");
    BOOST_TEST(e.errors()[3].field == "nul");
    BOOST_TEST(e.errors()[4].field == "obj");
    for (const auto& fe : e.errors()) BOOST_TEST(!fe.message.empty());
}

BOOST_AUTO_TEST_CASE(length_limits_count_characters) {
    // "héllo" is 6 bytes but 5 characters; "👍👍" is 8 bytes, 2 characters.
    auto doc = core::parse_json_object("{\"a\":\"h\xc3\xa9llo\",\"b\":\"\xf0\x9f\x91\x8d\xf0\x9f\x91\x8d\"}");
    core::FieldReader f(doc);
    BOOST_TEST(f.required_string("a", 5, 5).has_value());
    BOOST_TEST(f.required_string("b", 2, 2).has_value());
    BOOST_TEST(f.ok());
    BOOST_TEST(!f.required_string("a", 1, 4).has_value());
    BOOST_TEST(!f.required_string("a", 6, 10).has_value());
    auto e = expect_api_error([&] { f.finish(); });
    BOOST_TEST(e.errors().size() == 2u);
}

BOOST_AUTO_TEST_CASE(optional_string) {
    auto doc = core::parse_json_object(R"({"a":"x","n":null,"bad":[]})");
    core::FieldReader f(doc);
    BOOST_TEST(f.optional_string("a", 1, 10).value() == "x");
    BOOST_TEST(!f.optional_string("absent", 1, 10).has_value());
    BOOST_TEST(!f.optional_string("n", 1, 10).has_value());
    BOOST_TEST(f.ok());  // absent and null optional fields are not errors
    BOOST_CHECK_NO_THROW(f.finish());
    BOOST_TEST(!f.optional_string("bad", 1, 10).has_value());
    BOOST_TEST(!f.ok());
    auto e = expect_api_error([&] { f.finish(); });
    BOOST_REQUIRE(e.errors().size() == 1u);
    BOOST_TEST(e.errors()[0].field == "bad");
}

BOOST_AUTO_TEST_CASE(aliases) {
    {
        auto doc = core::parse_json_object(R"({"currentPassword":"one","oldPassword":"two"})");
        core::FieldReader f(doc);
        BOOST_TEST(f.required_string_any({"currentPassword", "oldPassword"}, 1, 100).value() == "one");
        BOOST_TEST(f.ok());
    }
    {
        auto doc = core::parse_json_object(R"({"oldPassword":"two"})");
        core::FieldReader f(doc);
        BOOST_TEST(f.required_string_any({"currentPassword", "oldPassword"}, 1, 100).value() == "two");
        BOOST_TEST(f.ok());
    }
    {
        auto doc = core::parse_json_object(R"({"currentPassword":null,"oldPassword":"two"})");
        core::FieldReader f(doc);
        BOOST_TEST(f.required_string_any({"currentPassword", "oldPassword"}, 1, 100).value() == "two");
    }
    {
        // Neither present: the error names the primary field.
        auto doc = core::parse_json_object(R"({"other":"x"})");
        core::FieldReader f(doc);
        BOOST_TEST(!f.required_string_any({"currentPassword", "oldPassword"}, 1, 100).has_value());
        auto e = expect_api_error([&] { f.finish(); });
        BOOST_REQUIRE(e.errors().size() == 1u);
        BOOST_TEST(e.errors()[0].field == "currentPassword");
    }
    {
        // The alias present but of the wrong type: the error names the alias used.
        auto doc = core::parse_json_object(R"({"oldPassword":12})");
        core::FieldReader f(doc);
        BOOST_TEST(!f.required_string_any({"currentPassword", "oldPassword"}, 1, 100).has_value());
        auto e = expect_api_error([&] { f.finish(); });
        BOOST_REQUIRE(e.errors().size() == 1u);
        BOOST_TEST(e.errors()[0].field == "oldPassword");
    }
}

BOOST_AUTO_TEST_CASE(add_error_and_finish) {
    auto doc = core::parse_json_object("{}");
    core::FieldReader f(doc);
    BOOST_CHECK_NO_THROW(f.finish());
    f.add_error("role", "role must be read-only, read-write or admin");
    auto e = expect_api_error([&] { f.finish(); });
    BOOST_REQUIRE(e.errors().size() == 1u);
    BOOST_TEST(e.errors()[0].field == "role");
    BOOST_TEST(e.errors()[0].message == "role must be read-only, read-write or admin");
}

BOOST_AUTO_TEST_CASE(unknown_fields_are_ignored) {
    auto doc = core::parse_json_object(R"({"username":"bob","extra":{"deep":[1,2]},"more":1})");
    core::FieldReader f(doc);
    BOOST_TEST(f.required_string("username", 1, 64).value() == "bob");
    BOOST_CHECK_NO_THROW(f.finish());
}

BOOST_AUTO_TEST_CASE(utf8_length_counts_code_points) {
    BOOST_TEST(core::utf8_length("").value() == 0u);
    BOOST_TEST(core::utf8_length("abc").value() == 3u);
    BOOST_TEST(core::utf8_length("h\xc3\xa9llo").value() == 5u);           // é: 2 bytes
    BOOST_TEST(core::utf8_length("\xe2\x82\xac").value() == 1u);           // €: 3 bytes
    BOOST_TEST(core::utf8_length("\xf0\x9f\x91\x8d!").value() == 2u);      // 👍: 4 bytes
    BOOST_TEST(core::utf8_length(std::string(64, 'a')).value() == 64u);
}

BOOST_AUTO_TEST_CASE(utf8_valid_is_strict) {
    BOOST_TEST(core::utf8_valid(""));
    BOOST_TEST(core::utf8_valid("plain"));
    BOOST_TEST(core::utf8_valid("h\xc3\xa9llo \xf0\x9f\x91\x8d"));
    BOOST_TEST(core::utf8_valid("\xf4\x8f\xbf\xbf"));   // U+10FFFF
    BOOST_TEST(!core::utf8_valid("\xff"));
    BOOST_TEST(!core::utf8_valid("\xc3"));          // truncated
    BOOST_TEST(!core::utf8_valid("\xe2\x82"));      // truncated
    BOOST_TEST(!core::utf8_valid("\x80"));          // lone continuation byte
    BOOST_TEST(!core::utf8_valid("a\xc3(b"));       // bad continuation
    BOOST_TEST(!core::utf8_valid("\xc0\xaf"));      // overlong '/'
    BOOST_TEST(!core::utf8_valid("\xe0\x80\xaf"));  // overlong '/', 3 bytes
    BOOST_TEST(!core::utf8_valid("\xed\xa0\x80"));  // U+D800, a surrogate
    BOOST_TEST(!core::utf8_valid("\xed\xb0\x80"));  // U+DC00, a surrogate
    BOOST_TEST(!core::utf8_valid("\xf4\x90\x80\x80"));  // above U+10FFFF
}

BOOST_AUTO_TEST_CASE(json_input_that_is_not_strict_utf8_is_refused) {
    // Raw bytes: overlong forms, encoded surrogates, beyond U+10FFFF, in values and keys.
    for (const std::string bad : {"\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xed\xb0\x80", "\xf4\x90\x80\x80"}) {
        for (const std::string& body : {"{\"a\":\"" + bad + "\"}", "{\"" + bad + "\":1}"}) {
            auto e = expect_api_error([&] { core::parse_json_object(body); });
            BOOST_TEST(e.status() == 400);
            BOOST_TEST(has_error_for(e, "body"));
        }
    }
    // Escapes: an unpaired surrogate, high or low, anywhere in the document.
    for (const std::string body : {R"({"a":"\udc00"})", R"({"a":"x\uDFFFy"})", R"({"a":"\ud800"})",
                                   R"({"a":["\ud83d"]})", R"({"a":{"\udc4d":1}})", R"({"a":"\udc4d\ud83d"})"}) {
        auto e = expect_api_error([&] { core::parse_json_object(body); });
        BOOST_TEST(e.status() == 400, body);
        BOOST_TEST(has_error_for(e, "body"), body);
    }
    // A proper pair, and an escaped backslash before "udc00", are fine.
    auto doc = core::parse_json_object(R"({"a":"\ud83d\udc4d","b":"\\udc00"})");
    BOOST_TEST(std::string(doc["a"].GetString()) == "\xf0\x9f\x91\x8d");
    BOOST_TEST(std::string(doc["b"].GetString()) == "\\udc00");
}

BOOST_AUTO_TEST_CASE(writer_and_message_json) {
    BOOST_TEST(core::message_json("User deleted successfully") == R"({"message":"User deleted successfully"})");
    BOOST_TEST(core::message_json("say \"hi\"\n") == R"({"message":"say \"hi\"\n"})");
    core::JsonOut o;
    o.begin_array().end_array();
    BOOST_TEST(o.take() == "[]");  // empty lists are [], never null
    core::JsonOut p;
    p.begin_object().key("n").num(-5).key("b").boolean(true).key("r").raw(R"({"x":1})").end_object();
    BOOST_TEST(p.take() == R"({"n":-5,"b":true,"r":{"x":1}})");
}

BOOST_AUTO_TEST_CASE(raw_values_are_spliced_with_separators) {
    core::JsonOut o;
    o.begin_array();
    o.raw(R"({"a":1})").raw("[]").begin_object().key("d").raw(R"({"x":"\u00e9"})").key("n").num(2).end_object();
    o.end_array();
    BOOST_TEST(o.take() == R"([{"a":1},[],{"d":{"x":"\u00e9"},"n":2}])");
}

BOOST_AUTO_TEST_SUITE_END()
