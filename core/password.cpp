#include "core/password.h"

#include <argon2.h>

#include <stdexcept>
#include <vector>

#include "core/crypto.h"

namespace core {

std::string password_hash(std::string_view password, const PasswordParams& p) {
    std::string salt = random_bytes(16);
    size_t len = argon2_encodedlen(p.time_cost, p.memory_kib, p.parallelism, salt.size(), 32, Argon2_id);
    std::vector<char> encoded(len);
    int rc = argon2id_hash_encoded(p.time_cost, p.memory_kib, p.parallelism, password.data(), password.size(),
                                   salt.data(), salt.size(), 32, encoded.data(), encoded.size());
    if (rc != ARGON2_OK) throw std::runtime_error(std::string("argon2: ") + argon2_error_message(rc));
    return std::string(encoded.data());
}

bool password_verify(std::string_view password, const std::string& encoded) {
    if (encoded.rfind("$argon2id$", 0) != 0) return false;
    return argon2id_verify(encoded.c_str(), password.data(), password.size()) == ARGON2_OK;
}

}  // namespace core
