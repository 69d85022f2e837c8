#include <optional>
#include <stdexcept>
#include <string>

#include <boost/test/unit_test.hpp>

#include "core/crypto.h"
#include "domain/invalid_input.h"
#include "domain/list_cursor.h"

namespace {

const std::string kKey = domain::derive_list_cursor_key("0123456789abcdef0123456789abcdef");

domain::ListScope records_scope(std::optional<std::string> form_type = "visit") {
    domain::ListScope s("/admin/records");
    s.filter("form_type", form_type).filter("deleted", std::string("false"));
    return s;
}

std::string field_of(const domain::InvalidInput& e) { return e.problems().at(0).field; }

}  // namespace

BOOST_AUTO_TEST_SUITE(list_cursor)

BOOST_AUTO_TEST_CASE(round_trip_keeps_the_position) {
    const domain::ListPosition pos{"1234567890", "2026-11-28T21:09:34.123Z", "client/7\x01"};
    const auto c = domain::encode_list_cursor(pos, records_scope(), kKey);
    const auto back = domain::decode_list_cursor(c, records_scope(), kKey, 3);
    BOOST_REQUIRE(back);
    BOOST_TEST(*back == pos);
    // URL-safe: base64url and one dot, nothing to escape in a query string.
    for (char ch : c) BOOST_TEST((isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.'));
}

BOOST_AUTO_TEST_CASE(filter_order_does_not_matter) {
    domain::ListScope a("/admin/records"), b("/admin/records");
    a.filter("form_type", std::string("visit")).filter("deleted", std::string("true"));
    b.filter("deleted", std::string("true")).filter("form_type", std::string("visit"));
    const auto c = domain::encode_list_cursor({"5"}, a, kKey);
    BOOST_TEST(domain::decode_list_cursor(c, b, kKey, 1).has_value());
}

BOOST_AUTO_TEST_CASE(foreign_cursors_are_refused) {
    const auto c = domain::encode_list_cursor({"5"}, records_scope(), kKey);
    // another route
    domain::ListScope audit("/admin/audit");
    audit.filter("form_type", std::string("visit")).filter("deleted", std::string("false"));
    BOOST_TEST(!domain::decode_list_cursor(c, audit, kKey, 1));
    // other filter values, a filter dropped, a filter added, absent vs empty
    BOOST_TEST(!domain::decode_list_cursor(c, records_scope("household"), kKey, 1));
    BOOST_TEST(!domain::decode_list_cursor(c, records_scope(std::nullopt), kKey, 1));
    BOOST_TEST(!domain::decode_list_cursor(c, records_scope(std::string()), kKey, 1));
    auto more = records_scope();
    more.filter("client_id", std::string("tablet-1"));
    BOOST_TEST(!domain::decode_list_cursor(c, more, kKey, 1));
    // another key (another server secret), another arity
    BOOST_TEST(!domain::decode_list_cursor(c, records_scope(), domain::derive_list_cursor_key("x"), 1));
    BOOST_TEST(!domain::decode_list_cursor(c, records_scope(), kKey, 2));
}

BOOST_AUTO_TEST_CASE(scope_parts_cannot_be_shifted) {
    // Without length prefixes "ab"+"c" and "a"+"bc" would sign the same bytes.
    domain::ListScope a("/r"), b("/r");
    a.filter("ab", std::string("c"));
    b.filter("a", std::string("bc"));
    const auto c = domain::encode_list_cursor({"1"}, a, kKey);
    BOOST_TEST(!domain::decode_list_cursor(c, b, kKey, 1));
}

BOOST_AUTO_TEST_CASE(forged_and_altered_cursors_are_refused) {
    const auto c = domain::encode_list_cursor({"42"}, records_scope(), kKey);
    for (size_t i = 0; i < c.size(); ++i) {
        if (c[i] == '.') continue;
        std::string t = c;
        t[i] = t[i] == 'A' ? 'B' : 'A';
        BOOST_TEST(!domain::decode_list_cursor(t, records_scope(), kKey, 1), "flip at " << i);
    }
    BOOST_TEST(!domain::decode_list_cursor(c.substr(0, c.size() - 1), records_scope(), kKey, 1));
    BOOST_TEST(!domain::decode_list_cursor(c + "A", records_scope(), kKey, 1));
    BOOST_TEST(!domain::decode_list_cursor(c + ".x", records_scope(), kKey, 1));
    BOOST_TEST(!domain::decode_list_cursor("", records_scope(), kKey, 1));
    BOOST_TEST(!domain::decode_list_cursor("42", records_scope(), kKey, 1));
    BOOST_TEST(!domain::decode_list_cursor(std::string(5000, 'A'), records_scope(), kKey, 1));
    // A payload of our own making signed with the page-token purpose does not pass.
    const std::string payload = std::string("\x01\x00\x00\x00\x01", 5) + "9";
    const std::string page_mac = core::hmac_sha256(kKey, "synkronus-page-v1." + payload);
    BOOST_TEST(!domain::decode_list_cursor(core::base64url_encode(payload) + "." + core::base64url_encode(page_mac),
                                           records_scope(), kKey, 1));
}

BOOST_AUTO_TEST_CASE(limits_and_errors_name_the_field) {
    const auto scope = records_scope();
    BOOST_TEST(domain::parse_list_page(std::nullopt, std::nullopt, scope, kKey, 1).limit == 100);
    BOOST_TEST(domain::parse_list_page(std::string("1"), std::nullopt, scope, kKey, 1).limit == 1);
    BOOST_TEST(domain::parse_list_page(std::string("500"), std::nullopt, scope, kKey, 1).limit == 500);
    BOOST_TEST(!domain::parse_list_page(std::nullopt, std::string(""), scope, kKey, 1).after);
    for (const char* bad : {"0", "501", "", "-1", "1e2", "abc", "10000", " 5", "5 "}) {
        try {
            domain::parse_list_page(std::string(bad), std::nullopt, scope, kKey, 1);
            BOOST_ERROR("limit '" << bad << "' accepted");
        } catch (const domain::InvalidInput& e) {
            BOOST_TEST(field_of(e) == "limit");
        }
    }
    try {
        domain::parse_list_page(std::nullopt, std::string("nonsense"), scope, kKey, 1);
        BOOST_ERROR("forged cursor accepted");
    } catch (const domain::InvalidInput& e) {
        BOOST_TEST(field_of(e) == "cursor");
    }
    const auto c = domain::encode_list_cursor({"7"}, scope, kKey);
    const auto page = domain::parse_list_page(std::string("20"), c, scope, kKey, 1);
    BOOST_REQUIRE(page.after);
    BOOST_TEST(domain::position_int(page.after->at(0)).value() == 7);
}

BOOST_AUTO_TEST_CASE(position_int_reads_only_decimals) {
    BOOST_TEST(domain::position_int("0").value() == 0);
    BOOST_TEST(domain::position_int("123456789012345678").value() == 123456789012345678LL);
    for (const char* bad : {"", "-1", "1.5", "x", "1234567890123456789"}) BOOST_TEST(!domain::position_int(bad));
}

BOOST_AUTO_TEST_CASE(encode_refuses_what_decode_would) {
    BOOST_CHECK_THROW(domain::encode_list_cursor({}, records_scope(), kKey), std::invalid_argument);
    BOOST_CHECK_THROW(domain::encode_list_cursor({"1"}, records_scope(), ""), std::invalid_argument);
    BOOST_CHECK_THROW(domain::encode_list_cursor({std::string(3000, 'x')}, records_scope(), kKey), std::length_error);
}

BOOST_AUTO_TEST_SUITE_END()
