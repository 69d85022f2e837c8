#include <string>

#include <boost/test/unit_test.hpp>

#include "core/ttl_cache.h"

BOOST_AUTO_TEST_SUITE(ttl_cache)

BOOST_AUTO_TEST_CASE(an_entry_is_trusted_for_less_than_its_ttl_then_forgotten) {
    core::TtlCache<std::string, int> c(10, 2000);
    c.put("a", 1, 1000);
    BOOST_TEST(c.find("a", 1000).value() == 1);
    BOOST_TEST(c.find("a", 2999).value() == 1);
    BOOST_TEST(!c.find("a", 3000).has_value());  // exactly ttl_ms later: read again
    BOOST_TEST(c.size() == 0u);
}

BOOST_AUTO_TEST_CASE(a_clock_that_went_back_does_not_stretch_the_bound) {
    core::TtlCache<std::string, int> c(10, 2000);
    c.put("a", 1, 5000);
    BOOST_TEST(!c.find("a", 4000).has_value());
}

BOOST_AUTO_TEST_CASE(the_size_bound_drops_the_oldest_read) {
    core::TtlCache<std::string, int> c(3, 60000);
    c.put("a", 1, 1);
    c.put("b", 2, 2);
    c.put("c", 3, 3);
    c.put("d", 4, 4);
    BOOST_TEST(c.size() == 3u);
    BOOST_TEST(!c.find("a", 5).has_value());
    BOOST_TEST(c.find("d", 5).value() == 4);
    c.put("b", 20, 6);  // a newer read of b moves it to the back
    c.put("e", 5, 7);
    BOOST_TEST(!c.find("c", 8).has_value());
    BOOST_TEST(c.find("b", 8).value() == 20);
}

BOOST_AUTO_TEST_CASE(expired_entries_go_when_new_ones_come) {
    core::TtlCache<std::string, int> c(100, 1000);
    for (int i = 0; i < 50; ++i) c.put("k" + std::to_string(i), i, 0);
    c.put("late", 1, 1000);
    BOOST_TEST(c.size() == 1u);
}

BOOST_AUTO_TEST_CASE(erase_and_clear_forget_at_once) {
    core::TtlCache<std::string, int> c(10, 60000);
    c.put("a", 1, 0);
    c.put("b", 2, 0);
    c.erase("a");
    BOOST_TEST(!c.find("a", 1).has_value());
    BOOST_TEST(c.find("b", 1).has_value());
    c.clear();
    BOOST_TEST(!c.find("b", 1).has_value());
    BOOST_TEST(c.size() == 0u);
}

BOOST_AUTO_TEST_CASE(a_zero_ttl_or_size_caches_nothing) {
    core::TtlCache<std::string, int> off(10, 0), none(0, 1000);
    off.put("a", 1, 0);
    none.put("a", 1, 0);
    BOOST_TEST(!off.find("a", 0).has_value());
    BOOST_TEST(!none.find("a", 0).has_value());
    BOOST_TEST(!off.enabled());
}

BOOST_AUTO_TEST_SUITE_END()
