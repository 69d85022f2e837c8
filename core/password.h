// Password hashing with Argon2id (libargon2), in the PHC string format so the
// parameters travel with each hash and can be raised later.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace core {

struct PasswordParams {
    uint32_t memory_kib = 19456;
    uint32_t time_cost = 2;
    uint32_t parallelism = 1;
};

std::string password_hash(std::string_view password, const PasswordParams& p);
// False for a wrong password or a hash that is not Argon2id.
bool password_verify(std::string_view password, const std::string& encoded);

}  // namespace core
