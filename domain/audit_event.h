// An audit event's content, without storage: who did what to what, and a detail object
// that can never carry a secret. The audit log (CONTRACT §8) is read by people who
// must not learn a password, token or hash from it, so the rule is enforced where a
// detail is built, not left to each caller.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace domain {

// The actions CONTRACT §8 names (and any later ones: an action is 1 to 64 characters
// of a-z 0-9 . _).
bool valid_audit_action(std::string_view action);

// True for a detail key that names a secret (contains password, token, hash, secret
// or jti, in any case): such a key is refused by AuditDetail::add.
bool secret_audit_key(std::string_view key);

// The detail object of one event: string and integer fields, in the order added.
class AuditDetail {
public:
    AuditDetail() = default;
    // Throw std::invalid_argument for a key secret_audit_key refuses.
    AuditDetail& add(std::string_view key, std::string_view value);
    AuditDetail& add(std::string_view key, int64_t value);
    AuditDetail& add(std::string_view key, const char* value) { return add(key, std::string_view(value)); }
    // A JSON object ("{}" when empty); strings are cut to 256 bytes (valid UTF-8 kept).
    std::string json() const;
    bool empty() const { return fields_.empty(); }

private:
    struct Field {
        std::string key;
        std::string text;
        int64_t number = 0;
        bool is_number = false;
    };
    std::vector<Field> fields_;
};

}  // namespace domain
