#include "domain/list_cursor.h"

#include <algorithm>
#include <stdexcept>

#include "core/crypto.h"
#include "domain/invalid_input.h"

namespace domain {

namespace {

constexpr std::string_view kMacContext = "synkronus-list-v1.";
constexpr size_t kMacBytes = 32;
constexpr size_t kMaxParts = 8;

void put_len(std::string& out, size_t n) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((n >> shift) & 0xFF));
}

void put_part(std::string& out, std::string_view s) {
    put_len(out, s.size());
    out.append(s);
}

// The scope goes into the MAC, not into the cursor: a cursor stays short, and one
// presented under another route or other filters fails verification like a forgery.
std::string mac_of(std::string_view key, const ListScope& scope, std::string_view payload) {
    std::string input(kMacContext);
    put_part(input, scope.canonical());
    input.append(payload);
    return core::hmac_sha256(key, input);
}

}  // namespace

ListScope& ListScope::filter(std::string_view name, const std::optional<std::string>& value) {
    if (value) filters_.emplace_back(std::string(name), *value);
    return *this;
}

std::string ListScope::canonical() const {
    auto sorted = filters_;
    std::sort(sorted.begin(), sorted.end());
    std::string out;
    put_part(out, route_);
    put_len(out, sorted.size());
    for (const auto& [name, value] : sorted) {
        put_part(out, name);
        put_part(out, value);
    }
    return out;
}

std::string derive_list_cursor_key(std::string_view server_secret) {
    return core::hmac_sha256(server_secret, "synkronus list cursors");
}

// payload: u8 count | count × (u32 length, bytes)
std::string encode_list_cursor(const ListPosition& position, const ListScope& scope, std::string_view key) {
    if (key.empty()) throw std::invalid_argument("list cursor key is empty");
    if (position.empty() || position.size() > kMaxParts) throw std::invalid_argument("list position size");
    std::string payload;
    payload.push_back(static_cast<char>(position.size()));
    for (const auto& p : position) put_part(payload, p);
    std::string cursor = core::base64url_encode(payload);
    cursor.push_back('.');
    cursor.append(core::base64url_encode(mac_of(key, scope, payload)));
    if (cursor.size() > kMaxListCursorLength) throw std::length_error("list cursor too long");
    return cursor;
}

std::optional<ListPosition> decode_list_cursor(std::string_view cursor, const ListScope& scope,
                                               std::string_view key, size_t arity) {
    if (key.empty() || cursor.empty() || cursor.size() > kMaxListCursorLength) return std::nullopt;
    const size_t dot = cursor.find('.');
    if (dot == std::string_view::npos) return std::nullopt;
    std::string payload, mac;
    if (!core::base64url_decode(cursor.substr(0, dot), payload) ||
        !core::base64url_decode(cursor.substr(dot + 1), mac)) {
        return std::nullopt;
    }
    if (mac.size() != kMacBytes || !core::constant_time_equal(mac, mac_of(key, scope, payload))) {
        return std::nullopt;
    }
    // Past the MAC the payload is ours; it is still read strictly.
    if (payload.empty()) return std::nullopt;
    const size_t count = static_cast<unsigned char>(payload[0]);
    if (count != arity || count == 0) return std::nullopt;
    ListPosition position;
    size_t pos = 1;
    for (size_t i = 0; i < count; ++i) {
        if (payload.size() - pos < 4) return std::nullopt;
        size_t len = 0;
        for (int b = 0; b < 4; ++b) len = (len << 8) | static_cast<unsigned char>(payload[pos++]);
        if (payload.size() - pos < len) return std::nullopt;
        position.emplace_back(payload.substr(pos, len));
        pos += len;
    }
    if (pos != payload.size()) return std::nullopt;
    return position;
}

ListPage parse_list_page(const std::optional<std::string>& limit, const std::optional<std::string>& cursor,
                         const ListScope& scope, std::string_view key, size_t arity) {
    ListPage page;
    if (limit) {
        const bool digits = !limit->empty() && limit->size() <= 3 &&
                            std::all_of(limit->begin(), limit->end(), [](char c) { return c >= '0' && c <= '9'; });
        const int n = digits ? std::stoi(*limit) : 0;
        if (n < kMinListLimit || n > kMaxListLimit)
            throw InvalidInput({FieldProblem{"limit", "limit must be an integer from 1 to 500"}});
        page.limit = n;
    }
    if (cursor && !cursor->empty()) {
        page.after = decode_list_cursor(*cursor, scope, key, arity);
        if (!page.after)
            throw InvalidInput({FieldProblem{"cursor", "cursor is invalid, altered, or belongs to another list or other filters"}});
    }
    return page;
}

std::optional<int64_t> position_int(std::string_view part) {
    if (part.empty() || part.size() > 18) return std::nullopt;
    int64_t v = 0;
    for (char c : part) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + (c - '0');
    }
    return v;
}

}  // namespace domain
