// The roles of the contract, ordered: admin includes read-write, which includes read-only.
#pragma once
#include <optional>
#include <string_view>

namespace core {

enum class Role { read_only = 0, read_write = 1, admin = 2 };
std::optional<Role> parse_role(std::string_view s);
const char* role_name(Role r);

}  // namespace core
