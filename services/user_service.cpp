#include "services/user_service.h"

#include <cctype>

#include "core/http.h"

namespace services {

namespace {
constexpr size_t kMinPassword = 8, kMaxPassword = 1024;
}

bool valid_username(std::string_view u) {
    if (u.empty() || u.size() > 64) return false;
    for (char c : u)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '@' || c == '-')) return false;
    return true;
}

std::optional<std::string> password_problem(std::string_view pw) {
    if (pw.size() < kMinPassword) return "must be at least " + std::to_string(kMinPassword) + " bytes";
    if (pw.size() > kMaxPassword) return "must be at most " + std::to_string(kMaxPassword) + " bytes";
    return std::nullopt;
}

bool valid_role(std::string_view role) { return core::parse_role(role).has_value(); }

std::optional<db::UserRow> UserService::create(const std::string& username, const std::string& password,
                                               const std::string& role) {
    try {
        return repo_.create(username, core::password_hash(password, params_), role);
    } catch (const db::Error& e) {
        if (e.kind() == db::ErrorKind::duplicate) return std::nullopt;
        throw;
    }
}

bool UserService::reset_password(const std::string& username, const std::string& password) {
    return valid_username(username) && repo_.set_password(username, core::password_hash(password, params_));
}

bool UserService::change_password(const std::string& username, const std::string& current,
                                  const std::string& password) {
    auto user = repo_.find_by_username(username);
    if (!user || !core::password_verify(current, user->password_hash)) return false;
    return repo_.set_password(user->username, core::password_hash(password, params_));
}

bool UserService::bootstrap_admin(const std::string& password) {
    if (password.empty() || repo_.count() != 0) return false;
    return create("admin", password, "admin").has_value();
}

}  // namespace services
