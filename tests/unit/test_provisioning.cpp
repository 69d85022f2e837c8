// Device provisioning and the audit detail rules: the FRMLS string, the password, the
// QR code as SVG and text, and that no secret can enter an audit event.
#include <boost/test/unit_test.hpp>

#include <regex>
#include <set>
#include <stdexcept>
#include <string>

#include "core/crypto.h"
#include "core/qr.h"
#include "domain/audit_event.h"
#include "domain/provisioning.h"

BOOST_AUTO_TEST_SUITE(provisioning)

BOOST_AUTO_TEST_CASE(base64_is_standard_and_padded) {
    BOOST_TEST(core::base64_encode("") == "");
    BOOST_TEST(core::base64_encode("1") == "MQ==");
    BOOST_TEST(core::base64_encode("ab") == "YWI=");
    BOOST_TEST(core::base64_encode("abc") == "YWJj");
    BOOST_TEST(core::base64_encode("\xfb\xff") == "+/8=");  // + and /, not - and _
}

BOOST_AUTO_TEST_CASE(frmls_string_is_exactly_the_contracts) {
    // FRMLS:v:<b64("1")>;s:<b64(server_url)>;u:<b64(username)>;p:<b64(password)>;;
    BOOST_TEST(domain::frmls_string("https://sync.example.org", "tablet-7", "abcd-efgh") ==
               "FRMLS:v:MQ==;s:aHR0cHM6Ly9zeW5jLmV4YW1wbGUub3Jn;u:dGFibGV0LTc=;p:YWJjZC1lZmdo;;");
}

BOOST_AUTO_TEST_CASE(password_is_typeable_and_carries_120_bits) {
    const std::string pw = domain::provision_password(std::string(15, '\0'));
    BOOST_TEST(pw == "aaaa-aaaa-aaaa-aaaa-aaaa-aaaa");
    const std::string all = domain::provision_password(std::string(15, '\xff'));
    BOOST_TEST(all == "9999-9999-9999-9999-9999-9999");
    std::set<std::string> seen;
    const std::regex shape("^([a-km-np-z2-9]{4}-){5}[a-km-np-z2-9]{4}$");
    for (int i = 0; i < 200; ++i) {
        std::string p = domain::provision_password(core::random_bytes(domain::kProvisionRandomBytes));
        BOOST_TEST(std::regex_match(p, shape), p);
        seen.insert(p);
    }
    BOOST_TEST(seen.size() == 200u);
    // 24 characters of a 32-letter alphabet: 120 bits, above the contract's 96.
    BOOST_TEST(domain::kPasswordAlphabet.size() == 32u);
    BOOST_TEST(domain::kProvisionPasswordChars * 5 >= 96u);
    BOOST_CHECK_THROW(domain::provision_password("short"), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(default_server_url_comes_from_the_host) {
    BOOST_TEST(domain::default_server_url("sync.example.org:8443") == "https://sync.example.org:8443");
    BOOST_TEST(domain::default_server_url("") == "");
    BOOST_TEST(domain::default_server_url("evil/host") == "");
}

namespace {
// A finder pattern: 7x7 dark ring, light ring, 3x3 dark core, at (x, y).
bool finder_at(const core::QrMatrix& m, int x0, int y0) {
    for (int y = 0; y < 7; ++y)
        for (int x = 0; x < 7; ++x) {
            bool ring = x == 0 || y == 0 || x == 6 || y == 6;
            bool core = x >= 2 && x <= 4 && y >= 2 && y <= 4;
            if (m.at(x0 + x, y0 + y) != (ring || core)) return false;
        }
    return true;
}
}  // namespace

BOOST_AUTO_TEST_CASE(qr_matrix_has_the_finder_patterns_and_error_correction_m_size) {
    const std::string text = domain::frmls_string("https://sync.example.org", "tablet-7", "abcd-efgh-ijkm-npqr-stuv-wxyz");
    auto m = core::qr_encode(text);
    // 8-bit bytes per version: level M holds 106 in version 6 and 122 in version 7;
    // level L would fit this in version 6 (134), level Q would need version 8 (7 holds 86).
    BOOST_TEST(text.size() > 106u);
    BOOST_TEST(text.size() <= 122u);
    BOOST_TEST(m.width == 45);  // version 7 = 17 + 4 * 7: level M
    BOOST_TEST(finder_at(m, 0, 0));
    BOOST_TEST(finder_at(m, m.width - 7, 0));
    BOOST_TEST(finder_at(m, 0, m.width - 7));
}

BOOST_AUTO_TEST_CASE(svg_draws_every_dark_module_and_only_those) {
    auto m = core::qr_encode("FRMLS:v:MQ==;;");
    const std::string svg = core::qr_svg(m);
    const int n = m.width + 8;
    BOOST_TEST(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + std::to_string(n) + " " +
                             std::to_string(n) + "\"", 0) == 0u);
    // Replay the path: each "Mx yhNv1h-Nz" paints N modules of row y from x.
    std::vector<bool> painted(m.dark.size(), false);
    std::regex run("M(\\d+) (\\d+)h(\\d+)v1h-(\\d+)z");
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), run); it != std::sregex_iterator(); ++it) {
        int x = std::stoi((*it)[1]) - 4, y = std::stoi((*it)[2]) - 4, len = std::stoi((*it)[3]);
        BOOST_TEST(len == std::stoi((*it)[4]));
        for (int i = 0; i < len; ++i) painted[static_cast<size_t>(y) * m.width + x + i] = true;
    }
    BOOST_TEST((painted == m.dark));
    BOOST_TEST(svg.find("<script") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(terminal_text_has_two_module_rows_per_line) {
    auto m = core::qr_encode("x");
    const std::string t = core::qr_text(m);
    size_t lines = 0;
    for (char c : t) lines += c == '\n';
    BOOST_TEST(lines == static_cast<size_t>((m.width + 4 + 1) / 2));
}

BOOST_AUTO_TEST_CASE(audit_detail_refuses_secrets) {
    domain::AuditDetail d;
    d.add("role", "read-write").add("files", int64_t{3});
    BOOST_TEST(d.json() == "{\"role\":\"read-write\",\"files\":3}");
    for (const char* key : {"password", "newPassword", "refreshToken", "token", "password_hash", "jwt_secret", "jti"})
        BOOST_CHECK_THROW(domain::AuditDetail().add(key, "x"), std::invalid_argument);
    BOOST_TEST(domain::AuditDetail().json() == "{}");
    BOOST_TEST(domain::valid_audit_action("user.reset_password"));
    BOOST_TEST(!domain::valid_audit_action("User.Role"));
    BOOST_TEST(!domain::valid_audit_action(""));
}

BOOST_AUTO_TEST_SUITE_END()
