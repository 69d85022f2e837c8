#include "core/role.h"

namespace core {

std::optional<Role> parse_role(std::string_view s) {
    if (s == "read-only") return Role::read_only;
    if (s == "read-write") return Role::read_write;
    if (s == "admin") return Role::admin;
    return std::nullopt;
}

const char* role_name(Role r) {
    switch (r) {
        case Role::read_only: return "read-only";
        case Role::read_write: return "read-write";
        case Role::admin: return "admin";
    }
    return "read-only";
}

}  // namespace core
