#include "domain/audit_event.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "core/json.h"

namespace domain {

namespace {
constexpr size_t kMaxValueBytes = 256;

// Cuts to at most n bytes without splitting a UTF-8 sequence.
std::string_view cut_utf8(std::string_view s, size_t n) {
    if (s.size() <= n) return s;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    return s.substr(0, n);
}
}  // namespace

bool valid_audit_action(std::string_view a) {
    if (a.empty() || a.size() > 64) return false;
    return std::all_of(a.begin(), a.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_';
    });
}

bool secret_audit_key(std::string_view key) {
    std::string k(key);
    std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return std::tolower(c); });
    for (const char* bad : {"password", "token", "hash", "secret", "jti"})
        if (k.find(bad) != std::string::npos) return true;
    return false;
}

AuditDetail& AuditDetail::add(std::string_view key, std::string_view value) {
    if (secret_audit_key(key)) throw std::invalid_argument("audit detail key names a secret: " + std::string(key));
    fields_.push_back({std::string(key), std::string(cut_utf8(value, kMaxValueBytes)), 0, false});
    return *this;
}

AuditDetail& AuditDetail::add(std::string_view key, int64_t value) {
    if (secret_audit_key(key)) throw std::invalid_argument("audit detail key names a secret: " + std::string(key));
    fields_.push_back({std::string(key), "", value, true});
    return *this;
}

std::string AuditDetail::json() const {
    core::JsonOut o;
    o.begin_object();
    for (const auto& f : fields_) {
        o.key(f.key);
        if (f.is_number) o.num(f.number);
        else o.str(f.text);
    }
    o.end_object();
    return o.take();
}

}  // namespace domain
