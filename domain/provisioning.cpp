#include "domain/provisioning.h"

#include <cctype>
#include <stdexcept>

#include "core/crypto.h"

namespace domain {

std::string provision_password(std::string_view random) {
    if (random.size() != kProvisionRandomBytes) throw std::invalid_argument("provision_password needs 15 random bytes");
    static_assert(kPasswordAlphabet.size() == 32);
    std::string out;
    uint32_t acc = 0;
    int bits = 0;
    size_t chars = 0;
    for (unsigned char b : random) {
        acc = (acc << 8) | b;
        bits += 8;
        while (bits >= 5) {
            if (chars > 0 && chars % 4 == 0) out += '-';
            out += kPasswordAlphabet[(acc >> (bits - 5)) & 31];
            bits -= 5;
            ++chars;
        }
    }
    return out;
}

std::string frmls_string(std::string_view server_url, std::string_view username, std::string_view password) {
    return "FRMLS:v:" + core::base64_encode("1") + ";s:" + core::base64_encode(server_url) +
           ";u:" + core::base64_encode(username) + ";p:" + core::base64_encode(password) + ";;";
}

std::string default_server_url(std::string_view host) {
    if (host.empty() || host.size() > 255) return "";
    for (char c : host)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']'))
            return "";
    return "https://" + std::string(host);
}

}  // namespace domain
