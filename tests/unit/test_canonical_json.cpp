#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <rapidjson/document.h>

#include "core/crypto.h"
#include "domain/canonical_json.h"
#include "domain/record_hash.h"
#include "core/utf8.h"

namespace {

std::string canon(const std::string& json) {
    rapidjson::Document d;
    d.Parse<rapidjson::kParseFullPrecisionFlag>(json.c_str(), json.size());
    BOOST_REQUIRE_MESSAGE(!d.HasParseError(), "bad test JSON: " << json);
    return domain::canonical_json(d);
}

std::string number(double v) {
    std::string out;
    domain::canonical_json_number(v, out);
    return out;
}

double from_bits(uint64_t bits) { return std::bit_cast<double>(bits); }

}  // namespace

BOOST_AUTO_TEST_SUITE(canonical_json)

BOOST_AUTO_TEST_CASE(rfc8785_example) {
    // RFC 8785 section 3.2.2's input and output.
    const std::string in = R"({
        "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
        "literals": [null, true, false]
    })";
    BOOST_TEST(canon(in) ==
               "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
               "\"string\":\"\u20ac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
}

BOOST_AUTO_TEST_CASE(keys_sort_by_utf16_code_units) {
    // RFC 8785 section 3.2.3's sorting example.
    const std::string in = R"({"\u20ac": 1, "\r": 2, "\ufb33": 3, "1": 4, "\ud83d\ude00": 5, "\u0080": 6, "\u00f6": 7})";
    BOOST_TEST(canon(in) == "{\"\\r\":2,\"1\":4,\"\u0080\":6,\"\u00f6\":7,\"\u20ac\":1,\"\U0001F600\":5,\"\ufb33\":3}");
}

BOOST_AUTO_TEST_CASE(supplementary_sorts_before_upper_bmp) {
    // In UTF-8 bytes U+E000 (EE 80 80) sorts before U+1F600 (F0 9F 98 80); in UTF-16 the
    // emoji's high surrogate 0xD83D sorts before 0xE000.
    BOOST_TEST(canon(R"({"\ue000": 1, "\ud83d\ude00": 2})") == "{\"\U0001F600\":2,\"\ue000\":1}");
    BOOST_TEST(canon(R"({"\ud83d\ude00": 2, "\ue000": 1})") == "{\"\U0001F600\":2,\"\ue000\":1}");
    BOOST_TEST(canon(R"({"a\uffff": 1, "a\ud800\udc00": 2, "a": 3})") == "{\"a\":3,\"a\U00010000\":2,\"a\uffff\":1}");
    // Below U+D800 the BMP still sorts first.
    BOOST_TEST(canon(R"({"\ud83d\ude00": 2, "\ud7ff": 1})") == "{\"\ud7ff\":1,\"\U0001F600\":2}");
}

BOOST_AUTO_TEST_CASE(key_order_matches_utf16_reference) {
    // Cross-check the byte-level comparator against sorting transcoded UTF-16 keys.
    std::mt19937 rng(42);
    const std::vector<std::pair<uint32_t, uint32_t>> ranges = {
        {0x20, 0x7E}, {0x80, 0x7FF}, {0x800, 0xD7FF}, {0xE000, 0xFFFF}, {0x10000, 0x10FFFF}};
    const auto encode = [](uint32_t cp, std::string& s) {
        if (cp < 0x80) {
            s.push_back(static_cast<char>(cp));
        } else if (cp < 0x800) {
            s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
            s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
            s.push_back(static_cast<char>(0xE0 | (cp >> 12)));
            s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else {
            s.push_back(static_cast<char>(0xF0 | (cp >> 18)));
            s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
            s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        }
    };
    for (int round = 0; round < 200; ++round) {
        rapidjson::Document d(rapidjson::kObjectType);
        std::vector<std::pair<std::u16string, std::string>> keys;
        for (int i = 0; i < 12; ++i) {
            std::string key = "k";  // shared prefix, so differences come mid-key
            const int len = static_cast<int>(rng() % 3) + 1;
            for (int c = 0; c < len; ++c) {
                const auto& r = ranges[rng() % ranges.size()];
                encode(r.first + static_cast<uint32_t>(rng() % (r.second - r.first + 1)), key);
            }
            std::u16string k16;
            BOOST_REQUIRE(core::utf8_to_utf16(key, k16));
            if (d.HasMember(key)) continue;
            keys.emplace_back(k16, key);
            d.AddMember(rapidjson::Value(key, d.GetAllocator()), rapidjson::Value(i), d.GetAllocator());
        }
        std::sort(keys.begin(), keys.end());
        std::string expected = "{";
        for (const auto& [k16, key] : keys) {
            if (expected.size() > 1) expected += ",";
            domain::canonical_json_string(key, expected);
            expected += ":" + std::to_string(d[key].GetInt());
        }
        expected += "}";
        BOOST_TEST(domain::canonical_json(d) == expected);
    }
}

BOOST_AUTO_TEST_CASE(nested_structures_and_no_whitespace) {
    BOOST_TEST(canon(R"( { "b" : [ 1 , { "y" : [ ] , "x" : { } } , [ [ null ] ] ] , "a" : { "d" : true , "c" : "s" } } )") ==
               R"({"a":{"c":"s","d":true},"b":[1,{"x":{},"y":[]},[[null]]]})");
    BOOST_TEST(canon("[]") == "[]");
    BOOST_TEST(canon("{}") == "{}");
    BOOST_TEST(canon("\"top\"") == "\"top\"");
    BOOST_TEST(canon("null") == "null");
}

BOOST_AUTO_TEST_CASE(unicode_passes_through) {
    BOOST_TEST(canon(R"(["\u00e9", "\u20ac", "\ud83d\ude00", "\u2028\u2029", "\/", "\u007f", "日本"])") ==
               "[\"\u00e9\",\"\u20ac\",\"\U0001F600\",\"\u2028\u2029\",\"/\",\"\x7f\",\"日本\"]");
}

BOOST_AUTO_TEST_CASE(control_characters_are_escaped) {
    BOOST_TEST(canon(R"(["\u0000\u0001\u001f\b\f\n\r\t\"\\", "\u000B\u001A"])") ==
               R"(["\u0000\u0001\u001f\b\f\n\r\t\"\\","\u000b\u001a"])");
    // Keys are escaped the same way, embedded NUL included.
    BOOST_TEST(canon(R"({"a\u0000b": 1, "\n": 2})") == R"({"\n":2,"a\u0000b":1})");
}

BOOST_AUTO_TEST_CASE(numbers_as_ecmascript_prints_them) {
    BOOST_TEST(canon("0") == "0");
    BOOST_TEST(canon("-0") == "0");
    BOOST_TEST(canon("-0.0") == "0");
    BOOST_TEST(canon("0.0e5") == "0");
    BOOST_TEST(canon("1") == "1");
    BOOST_TEST(canon("1.0") == "1");
    BOOST_TEST(canon("-1") == "-1");
    BOOST_TEST(canon("1.5") == "1.5");
    BOOST_TEST(canon("-1.50") == "-1.5");
    BOOST_TEST(canon("100") == "100");
    BOOST_TEST(canon("1e2") == "100");
    BOOST_TEST(canon("1e20") == "100000000000000000000");
    BOOST_TEST(canon("1e21") == "1e+21");
    BOOST_TEST(canon("1E21") == "1e+21");
    BOOST_TEST(canon("1.5e300") == "1.5e+300");
    BOOST_TEST(canon("0.000001") == "0.000001");
    BOOST_TEST(canon("1e-7") == "1e-7");
    BOOST_TEST(canon("1.23e-18") == "1.23e-18");
    BOOST_TEST(canon("0.1") == "0.1");
    BOOST_TEST(canon("0.30000000000000004") == "0.30000000000000004");
    BOOST_TEST(canon("1.0000000000000002") == "1.0000000000000002");
    BOOST_TEST(canon("5e-324") == "5e-324");
    BOOST_TEST(canon("1.7976931348623157e308") == "1.7976931348623157e+308");
    // Integers are IEEE doubles in JCS: exact up to 2^53, rounded beyond.
    BOOST_TEST(canon("9007199254740992") == "9007199254740992");
    BOOST_TEST(canon("9007199254740993") == "9007199254740992");
    BOOST_TEST(canon("123456789012345678") == "123456789012345680");
    BOOST_TEST(canon("12345678901234567890") == "12345678901234567000");
    BOOST_TEST(canon("-9223372036854775808") == "-9223372036854776000");
    BOOST_TEST(canon("2147483647") == "2147483647");
    BOOST_TEST(canon("4294967295") == "4294967295");
}

BOOST_AUTO_TEST_CASE(rfc8785_appendix_b_numbers) {
    const std::vector<std::pair<uint64_t, std::string>> cases = {
        {0x0000000000000000, "0"},
        {0x8000000000000000, "0"},
        {0x0000000000000001, "5e-324"},
        {0x8000000000000001, "-5e-324"},
        {0x7fefffffffffffff, "1.7976931348623157e+308"},
        {0xffefffffffffffff, "-1.7976931348623157e+308"},
        {0x4340000000000000, "9007199254740992"},
        {0xc340000000000000, "-9007199254740992"},
        {0x4430000000000000, "295147905179352830000"},
        {0x44b52d02c7e14af5, "9.999999999999997e+22"},
        {0x44b52d02c7e14af6, "1e+23"},
        {0x44b52d02c7e14af7, "1.0000000000000001e+23"},
        {0x444b1ae4d6e2ef4e, "999999999999999700000"},
        {0x444b1ae4d6e2ef4f, "999999999999999900000"},
        {0x444b1ae4d6e2ef50, "1e+21"},
        {0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"},
        {0x3eb0c6f7a0b5ed8d, "0.000001"},
        {0x41b3de4355555553, "333333333.3333332"},
        {0x41b3de4355555554, "333333333.33333325"},
        {0x41b3de4355555555, "333333333.3333333"},
        {0x41b3de4355555556, "333333333.3333334"},
        {0x41b3de4355555557, "333333333.33333343"},
        {0xbecbf647612f3696, "-0.0000033333333333333333"},
        {0x43143ff3c1cb0959, "1424953923781206.2"},
    };
    for (const auto& [bits, expected] : cases) {
        BOOST_TEST(number(from_bits(bits)) == expected, "bits " << std::hex << bits);
        BOOST_TEST(domain::canonical_json(rapidjson::Value(from_bits(bits))) == expected);
    }
}

BOOST_AUTO_TEST_CASE(unrepresentable_input_is_refused) {
    BOOST_CHECK_THROW(number(std::numeric_limits<double>::quiet_NaN()), std::invalid_argument);
    BOOST_CHECK_THROW(number(std::numeric_limits<double>::infinity()), std::invalid_argument);
    BOOST_CHECK_THROW(domain::canonical_json(rapidjson::Value(-std::numeric_limits<double>::infinity())),
                      std::invalid_argument);
    // rapidjson keeps duplicate keys; which one counts would be reader-dependent.
    BOOST_CHECK_THROW(canon(R"({"a": 1, "b": 2, "a": 1})"), std::invalid_argument);
    BOOST_CHECK_THROW(canon(R"({"x": {"a": 1, "a": 2}})"), std::invalid_argument);

    rapidjson::Document d(rapidjson::kObjectType);
    const std::string bad = "\xC3\x28";  // invalid continuation byte
    const std::string overlong = "\xC0\xAF";
    const std::string surrogate = "\xED\xA0\x80";
    for (const auto& s : {bad, overlong, surrogate}) {
        BOOST_CHECK_THROW(domain::canonical_json(rapidjson::Value(s, d.GetAllocator())), std::invalid_argument);
        rapidjson::Document o(rapidjson::kObjectType);
        o.AddMember(rapidjson::Value(s, o.GetAllocator()), rapidjson::Value(1), o.GetAllocator());
        BOOST_CHECK_THROW(domain::canonical_json(o), std::invalid_argument);
    }
}

BOOST_AUTO_TEST_CASE(appends_to_existing_output) {
    std::string out = "prefix:";
    rapidjson::Document d;
    d.Parse(R"({"b":1,"a":2})");
    domain::canonical_json(d, out);
    BOOST_TEST(out == R"(prefix:{"a":2,"b":1})");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(record_hash)

namespace {

rapidjson::Document parse(const std::string& json) {
    rapidjson::Document d;
    d.Parse<rapidjson::kParseFullPrecisionFlag>(json.c_str(), json.size());
    BOOST_REQUIRE(!d.HasParseError());
    return d;
}

// What record_hash must equal by definition: the hash of the canonical wrapper object.
std::string hash_of_full_object(const rapidjson::Value& data, const std::string& type, const std::string& version) {
    rapidjson::Document wrapper(rapidjson::kObjectType);
    auto& a = wrapper.GetAllocator();
    // Inserted out of order on purpose: canonicalization must sort them.
    wrapper.AddMember("schemaVersion", rapidjson::Value(version, a), a);
    wrapper.AddMember("schemaType", rapidjson::Value(type, a), a);
    wrapper.AddMember("data", rapidjson::Value(data, a), a);
    return core::sha256_hex(domain::canonical_json(wrapper));
}

}  // namespace

BOOST_AUTO_TEST_CASE(equals_hash_of_canonical_wrapper) {
    const std::vector<std::string> datas = {
        R"({})",
        R"({"b": [1, 2.50, {"\ue000": null, "\ud83d\ude00": "x"}], "a": "\u0001\"q\""})",
        R"({"n": 12345678901234567890, "f": 1e-7, "z": -0})",
    };
    const std::vector<std::pair<std::string, std::string>> schemas = {
        {"survey", "1.0"}, {"weird \"type\"\n", "v\u00e9"}, {"\U0001F600", "\ue000"}};
    for (const auto& data_json : datas) {
        const auto data = parse(data_json);
        for (const auto& [type, version] : schemas) {
            BOOST_TEST(domain::record_hash(data, type, version) == hash_of_full_object(data, type, version));
            BOOST_TEST(domain::record_hash_canonical(domain::canonical_json(data), type, version) ==
                       domain::record_hash(data, type, version));
        }
    }
}

BOOST_AUTO_TEST_CASE(known_values) {
    // Computed independently with Python:
    //   json.dumps({"data": …, "schemaType": …, "schemaVersion": …}, sort_keys=True,
    //              separators=(",", ":"), ensure_ascii=False), then hashlib.sha256.
    const auto data = parse(R"({"name": "Ada", "tags": ["a", "b"], "age": 36, "nested": {"z": 1, "a": null}})");
    BOOST_TEST(domain::record_hash(data, "survey", "1.0") ==
               "561fbaa7816b49334fe23be0b374e8ca3a8e378a101dbeb0476322712e074607");
    BOOST_TEST(domain::record_hash(parse("{}"), "x", "1") ==
               "b7e94b8f457ba42cf8512141b7ce9f73d9e5654057d040d7d0bf28f6b4db4153");
}

BOOST_AUTO_TEST_CASE(independent_of_spelling) {
    const auto a = parse(R"({"b": 1.0, "a": [1e2, "x"]})");
    const auto b = parse(R"( {"a":[100,"x"],"b":1} )");
    BOOST_TEST(domain::record_hash(a, "t", "1") == domain::record_hash(b, "t", "1"));
    BOOST_TEST(domain::record_hash(a, "t", "1") != domain::record_hash(a, "t", "2"));
    BOOST_TEST(domain::record_hash(a, "t", "1") != domain::record_hash(a, "u", "1"));
    BOOST_TEST(domain::record_hash(a, "t", "1").size() == 64u);
}

BOOST_AUTO_TEST_SUITE_END()
