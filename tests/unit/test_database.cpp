#include <string>

#include <boost/test/unit_test.hpp>

#include "db/database.h"
#include "services/settings.h"

BOOST_AUTO_TEST_SUITE(database)

BOOST_AUTO_TEST_CASE(db_hosts_are_parsed_in_order_with_default_port) {
    auto nodes = db::parse_endpoints("10.0.0.11:3307, db2 ,127.0.0.1:31021");
    BOOST_TEST_REQUIRE(nodes.size() == 3u);
    BOOST_TEST(nodes[0].host == "10.0.0.11");
    BOOST_TEST(nodes[0].port == 3307);
    BOOST_TEST(nodes[1].host == "db2");
    BOOST_TEST(nodes[1].port == 3306);
    BOOST_TEST(nodes[2].name() == "127.0.0.1:31021");
}

BOOST_AUTO_TEST_CASE(bad_db_hosts_are_refused_naming_the_entry) {
    for (const char* bad : {"", "a,,b", "host:", "host:0", "host:65536", "host:12x", ":3306", "a b:1", "/tmp/sock"}) {
        try {
            db::parse_endpoints(bad);
            BOOST_ERROR("accepted " << bad);
        } catch (const db::Error& e) {
            BOOST_TEST(std::string(e.what()).find("is not host or host:port") != std::string::npos, e.what());
        }
    }
    // The setting's check uses the same parser; empty means "use db_host/db_socket".
    for (const auto& d : services::setting_decls())
        if (d.key == "db_hosts") {
            BOOST_TEST(d.check("").empty());
            BOOST_TEST(d.check("a:1,b:2").empty());
            BOOST_TEST(!d.check("a:1,").empty());
        }
}

BOOST_AUTO_TEST_CASE(galera_errors_are_classified_for_retry_and_failover) {
    BOOST_TEST(static_cast<int>(db::classify_errno(1213)) == static_cast<int>(db::ErrorKind::deadlock));
    BOOST_TEST(static_cast<int>(db::classify_errno(1047)) == static_cast<int>(db::ErrorKind::node_unavailable));
    BOOST_TEST(static_cast<int>(db::classify_errno(2013)) == static_cast<int>(db::ErrorKind::lost_connection));
}

BOOST_AUTO_TEST_SUITE_END()
