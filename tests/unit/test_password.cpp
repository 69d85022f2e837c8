#include <string>

#include <boost/test/unit_test.hpp>

#include "core/password.h"

namespace {

// Small parameters keep the suite fast; the code path is the production one.
core::PasswordParams fast() {
    core::PasswordParams p;
    p.memory_kib = 1024;
    p.time_cost = 1;
    p.parallelism = 1;
    return p;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(password)

BOOST_AUTO_TEST_CASE(hash_then_verify) {
    std::string h = core::password_hash("correct horse battery", fast());
    BOOST_TEST(h.rfind("$argon2id$", 0) == 0u);
    BOOST_TEST(h.find("m=1024,t=1,p=1") != std::string::npos);  // parameters travel with the hash
    BOOST_TEST(h.find("correct horse") == std::string::npos);
    BOOST_TEST(core::password_verify("correct horse battery", h));
}

BOOST_AUTO_TEST_CASE(wrong_password_fails) {
    std::string h = core::password_hash("correct horse battery", fast());
    BOOST_TEST(!core::password_verify("correct horse batterY", h));
    BOOST_TEST(!core::password_verify("correct horse battery ", h));
    BOOST_TEST(!core::password_verify("", h));
}

BOOST_AUTO_TEST_CASE(salt_differs_per_hash) {
    std::string a = core::password_hash("same password", fast());
    std::string b = core::password_hash("same password", fast());
    BOOST_TEST(a != b);
    BOOST_TEST(core::password_verify("same password", a));
    BOOST_TEST(core::password_verify("same password", b));
}

BOOST_AUTO_TEST_CASE(hash_made_with_other_parameters_verifies) {
    core::PasswordParams p = fast();
    p.memory_kib = 2048;
    p.time_cost = 2;
    std::string h = core::password_hash("raised cost", p);
    BOOST_TEST(h.find("m=2048,t=2,p=1") != std::string::npos);
    BOOST_TEST(core::password_verify("raised cost", h));
}

BOOST_AUTO_TEST_CASE(binary_and_long_passwords) {
    // Every byte counts: an embedded NUL must not truncate the password.
    std::string with_nul("abc\0defgh", 9);
    std::string h = core::password_hash(with_nul, fast());
    BOOST_TEST(core::password_verify(with_nul, h));
    BOOST_TEST(!core::password_verify("abc", h));
    std::string long_pw(1024, 'x');
    h = core::password_hash(long_pw, fast());
    BOOST_TEST(core::password_verify(long_pw, h));
    BOOST_TEST(!core::password_verify(std::string(1023, 'x'), h));
    std::string utf8 = "p\xc3\xa4ssw\xc3\xb6rd";
    h = core::password_hash(utf8, fast());
    BOOST_TEST(core::password_verify(utf8, h));
}

BOOST_AUTO_TEST_CASE(non_argon2id_strings_never_verify) {
    for (const std::string& stored :
         {std::string(""), std::string("password"), std::string("5f4dcc3b5aa765d61d8327deb882cf99"),
          std::string("$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"),
          std::string("$argon2i$v=19$m=1024,t=1,p=1$c29tZXNhbHQ$abc"), std::string("$argon2id$garbage")}) {
        BOOST_TEST_CONTEXT("stored '" << stored << "'") {
            BOOST_TEST(!core::password_verify("password", stored));
            BOOST_TEST(!core::password_verify("", stored));
        }
    }
    // A real hash with its digest cut short does not verify.
    std::string h = core::password_hash("password", fast());
    BOOST_TEST(!core::password_verify("password", h.substr(0, h.size() - 4)));
}

BOOST_AUTO_TEST_SUITE_END()
