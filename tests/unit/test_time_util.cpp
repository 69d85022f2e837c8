#include <string>

#include <boost/test/unit_test.hpp>

#include "core/time_util.h"

BOOST_AUTO_TEST_SUITE(time_util)

// One reader serves both: the strict check of client times and the parse of the
// times this server writes (manifests).
BOOST_AUTO_TEST_CASE(parse_reads_what_rfc3339_ms_writes) {
    for (int64_t ms : {int64_t{0}, int64_t{1764364174123}, int64_t{1764364174000}, int64_t{951782400999}})
        BOOST_TEST(core::parse_rfc3339_ms(core::rfc3339_ms(ms)).value_or(-1) == ms);
    BOOST_TEST(core::parse_rfc3339_ms("2026-11-28T21:09:34Z").value_or(-1) == 1795900174000);
    BOOST_TEST(core::parse_rfc3339_ms("2026-11-28T21:09:34.1239Z").value_or(-1) == 1795900174123);
    BOOST_TEST(core::parse_rfc3339_ms("2026-11-28T21:09:34.5Z").value_or(-1) == 1795900174500);
}

BOOST_AUTO_TEST_CASE(parse_takes_only_utc_in_the_servers_own_form) {
    for (const char* bad : {"2026-11-28T21:09:34+01:00", "2026-11-28t21:09:34Z", "2026-11-28T21:09:34z",
                            "2026-02-30T00:00:00Z", "2026-11-28T21:09:34.Z", "2026-11-28T21:09:34", "",
                            "2026-11-28T21:09:34Zx"})
        BOOST_TEST(!core::parse_rfc3339_ms(bad).has_value(), bad);
}

BOOST_AUTO_TEST_CASE(valid_takes_what_a_client_may_write) {
    for (const char* ok : {"2026-11-28T21:09:34Z", "2026-11-28t21:09:34.123456z", "2026-11-28T21:09:34+05:30",
                           "2026-11-28T21:09:34-00:00", "2024-02-29T23:59:60Z"})
        BOOST_TEST(core::valid_rfc3339(ok), ok);
    for (const char* bad : {"2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-28T24:00:00Z",
                            "2026-11-28T21:09:34", "2026-11-28 21:09:34Z", "2026-11-28T21:09:34+5:30",
                            "2026-11-28T21:09:34.Z"})
        BOOST_TEST(!core::valid_rfc3339(bad), bad);
}

BOOST_AUTO_TEST_SUITE_END()
