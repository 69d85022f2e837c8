// Pure helpers of the app bundle endpoints: version names and their parsing, the
// download path rule and the X-Accel-Redirect encoding.
#include <climits>
#include <string>

#include <boost/test/unit_test.hpp>

#include "domain/path_rules.h"
#include "services/bundle_store.h"

BOOST_AUTO_TEST_SUITE(app_bundle)

BOOST_AUTO_TEST_CASE(version_names_have_at_least_four_digits) {
    BOOST_CHECK_EQUAL(services::bundle_version_name(1), "0001");
    BOOST_CHECK_EQUAL(services::bundle_version_name(42), "0042");
    BOOST_CHECK_EQUAL(services::bundle_version_name(9999), "9999");
    BOOST_CHECK_EQUAL(services::bundle_version_name(10000), "10000");
}

BOOST_AUTO_TEST_CASE(versions_parse_with_or_without_leading_zeros) {
    int64_t v = -1;
    BOOST_CHECK(services::parse_bundle_version("2", v) && v == 2);
    BOOST_CHECK(services::parse_bundle_version("0002", v) && v == 2);
    BOOST_CHECK(services::parse_bundle_version("10000", v) && v == 10000);
    BOOST_CHECK(services::parse_bundle_version("0000", v) && v == 0);
    BOOST_CHECK(services::parse_bundle_version("99999999999999999999999", v) && v == LLONG_MAX);
    for (const char* bad : {"", "-1", "+1", "1.0", "0x1", " 1", "1 ", "abc", "١"})
        BOOST_CHECK_MESSAGE(!services::parse_bundle_version(bad, v), bad);
}

BOOST_AUTO_TEST_CASE(download_paths_stay_inside_the_version) {
    for (const char* ok : {"app/index.html", "app/a b/c%d.txt", "app/.well-known/x", "forms/f/schema.json", "a",
                           "app/..x", "app/x..", "app/\xc3\xa9.txt"})
        BOOST_CHECK_MESSAGE(domain::valid_bundle_file_path(ok), ok);
    for (const char* bad : {"", "/etc/passwd", "../x", "app/../x", "app/..", "..", ".", "./app/x", "app/./x",
                            "app//x", "app/", "app\\x", "app/\x01x", "app/x\x7f"})
        BOOST_CHECK_MESSAGE(!domain::valid_bundle_file_path(bad), bad);
    BOOST_CHECK(!domain::valid_bundle_file_path(std::string("app/x\0y", 7)));
    BOOST_CHECK(!domain::valid_bundle_file_path("app/" + std::string(5000, 'x')));
}

BOOST_AUTO_TEST_CASE(accel_paths_are_percent_encoded_but_slashes) {
    BOOST_CHECK_EQUAL(domain::accel_encode_path("app/js/main-1.2_x~.js"), "app/js/main-1.2_x~.js");
    BOOST_CHECK_EQUAL(domain::accel_encode_path("app/a b/100%?#.txt"), "app/a%20b/100%25%3F%23.txt");
    BOOST_CHECK_EQUAL(domain::accel_encode_path("app/\xc3\xa9"), "app/%C3%A9");
}

BOOST_AUTO_TEST_SUITE_END()
