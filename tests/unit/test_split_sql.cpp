#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "db/error.h"
#include "db/migrate.h"

BOOST_AUTO_TEST_SUITE(split_sql)

BOOST_AUTO_TEST_CASE(statements_end_at_a_semicolon_at_end_of_line_and_comments_are_dropped) {
    const auto out = db::split_sql("-- a comment\nCREATE TABLE t (a INT);\nINSERT INTO t\n  VALUES (1);  \n\n");
    BOOST_TEST_REQUIRE(out.size() == 2u);
    BOOST_TEST(out[0] == "CREATE TABLE t (a INT)");
    BOOST_TEST(out[1] == "INSERT INTO t\n  VALUES (1)");
}

BOOST_AUTO_TEST_CASE(a_delimiter_line_keeps_a_procedure_body_in_one_statement) {
    // As the mariadb client reads it: the body's `;` lines stay in the CREATE, and
    // `DELIMITER ;` brings the usual end back.
    const auto out = db::split_sql(
        "DROP PROCEDURE IF EXISTS p;\n"
        "DELIMITER //\n"
        "CREATE PROCEDURE p()\n"
        "BEGIN\n"
        "    -- inside\n"
        "    UPDATE t SET a = a + 1;\n"
        "    SELECT 1;\n"
        "END //\n"
        "DELIMITER ;\n"
        "SELECT 2;\n");
    BOOST_TEST_REQUIRE(out.size() == 3u);
    BOOST_TEST(out[0] == "DROP PROCEDURE IF EXISTS p");
    BOOST_TEST(out[1] == "CREATE PROCEDURE p()\nBEGIN\n    UPDATE t SET a = a + 1;\n    SELECT 1;\nEND ");
    BOOST_TEST(out[2] == "SELECT 2");
    BOOST_CHECK_THROW(db::split_sql("DELIMITER   \nSELECT 1;\n"), db::Error);
}

BOOST_AUTO_TEST_SUITE_END()
