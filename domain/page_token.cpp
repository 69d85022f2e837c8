#include "domain/page_token.h"

#include <algorithm>
#include <stdexcept>

#include "core/crypto.h"
#include "domain/sync_request.h"
#include "core/utf8.h"
#include "domain/invalid_input.h"

namespace domain {

PageCursor first_page_cursor(const PullRequest& body, const std::optional<std::string>& limit,
                             const std::optional<std::string>& schema_type) {
    PageCursor cursor;
    if (limit) {
        const bool digits = !limit->empty() && limit->size() <= 4 &&
                            std::all_of(limit->begin(), limit->end(), [](char c) { return c >= '0' && c <= '9'; });
        const int n = digits ? std::stoi(*limit) : 0;
        if (n < kMinPullLimit || n > kMaxPullLimit)
            throw InvalidInput({FieldProblem{"limit", "limit must be an integer from " + std::to_string(kMinPullLimit) + " to " +
                                              std::to_string(kMaxPullLimit)}});
        cursor.limit = n;
    }
    cursor.after_change_id = body.after_change_id;
    cursor.schema_types = body.schema_types;
    cursor.shape = body.shape;
    if (schema_type) {
        // Counted in characters, as the body's schema_types are; invalid UTF-8 is refused
        // here, since it could neither match a stored type nor go into a page token.
        const auto chars = core::utf8_length(*schema_type);
        if (!chars || *chars < 1 || *chars > kMaxSchemaTypeChars)
            throw InvalidInput({FieldProblem{"schemaType", "schemaType must be 1 to " + std::to_string(kMaxSchemaTypeChars) +
                                                   " characters of valid UTF-8"}});
        cursor.schema_types.push_back(*schema_type);
    }
    normalize_schema_types(cursor.schema_types);
    return cursor;
}

namespace {

// The MAC input is prefixed with a purpose and version so a MAC made for anything else
// with the same key, or for a later token format, never verifies here.
constexpr std::string_view kMacContext = "synkronus-page-v1.";
constexpr size_t kMacBytes = 32;

std::string mac_of(std::string_view key, std::string_view payload) {
    std::string input;
    input.reserve(kMacContext.size() + payload.size());
    input.append(kMacContext).append(payload);
    return core::hmac_sha256(key, input);
}

bool schema_type_ok(std::string_view s) {
    const auto n = core::utf8_length(s);
    return n && *n >= 1 && *n <= kMaxSchemaTypeChars;
}

bool cursor_ok(const PageCursor& c) {
    if (c.after_change_id < 0 || c.snapshot_cutoff < 0) return false;
    // A later page starts at or below the snapshot its first page read.
    if (c.snapshot_cutoff > 0 && c.after_change_id > c.snapshot_cutoff) return false;
    if (c.limit < kMinPullLimit || c.limit > kMaxPullLimit) return false;
    return std::all_of(c.schema_types.begin(), c.schema_types.end(), schema_type_ok);
}

// The payload is binary, big-endian and length-prefixed: more compact than JSON (the
// token rides in a URL) and with no escaping whose size depends on the content.
//   i64 after_change_id | i64 snapshot_cutoff | u16 limit | u16 count | count × (u16 len, bytes) | u8 shape
// Tokens issued before the shape existed end after the types; they come from record
// pulls and continue as such.
void put_u64(std::string& out, uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xFF));
}

void put_u16(std::string& out, size_t v) {
    out.push_back(static_cast<char>((v >> 8) & 0xFF));
    out.push_back(static_cast<char>(v & 0xFF));
}

class Reader {
public:
    explicit Reader(std::string_view in) : in_(in) {}

    bool u64(uint64_t& v) {
        if (in_.size() - pos_ < 8) return false;
        v = 0;
        for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(in_[pos_++]);
        return true;
    }
    bool u16(size_t& v) {
        if (in_.size() - pos_ < 2) return false;
        v = (static_cast<size_t>(static_cast<unsigned char>(in_[pos_])) << 8) |
            static_cast<unsigned char>(in_[pos_ + 1]);
        pos_ += 2;
        return true;
    }
    bool bytes(size_t n, std::string& out) {
        if (in_.size() - pos_ < n) return false;
        out.assign(in_.substr(pos_, n));
        pos_ += n;
        return true;
    }
    bool at_end() const { return pos_ == in_.size(); }

private:
    std::string_view in_;
    size_t pos_ = 0;
};

}  // namespace

std::string encode_page_token(const PageCursor& cursor, std::string_view key) {
    if (key.empty()) throw std::invalid_argument("page token key is empty");
    if (!cursor_ok(cursor)) throw std::invalid_argument("page cursor out of range");
    std::vector<std::string> types = cursor.schema_types;
    normalize_schema_types(types);

    std::string payload;
    put_u64(payload, static_cast<uint64_t>(cursor.after_change_id));
    put_u64(payload, static_cast<uint64_t>(cursor.snapshot_cutoff));
    put_u16(payload, static_cast<size_t>(cursor.limit));
    if (types.size() > 0xFFFF) throw std::length_error("page token filter too large");
    put_u16(payload, types.size());
    for (const auto& t : types) {
        put_u16(payload, t.size());  // at most 255 × 4 bytes, checked by cursor_ok
        payload.append(t);
    }
    payload.push_back(static_cast<char>(cursor.shape));

    std::string token = core::base64url_encode(payload);
    token.push_back('.');
    token.append(core::base64url_encode(mac_of(key, payload)));
    if (token.size() > kMaxPageTokenLength) throw std::length_error("page token filter too large");
    return token;
}

std::optional<PageCursor> decode_page_token(std::string_view token, std::string_view key) {
    if (key.empty() || token.empty() || token.size() > kMaxPageTokenLength) return std::nullopt;
    const size_t dot = token.find('.');
    if (dot == std::string_view::npos) return std::nullopt;
    std::string payload, mac;
    if (!core::base64url_decode(token.substr(0, dot), payload) ||
        !core::base64url_decode(token.substr(dot + 1), mac)) {  // a second '.' fails here
        return std::nullopt;
    }
    if (mac.size() != kMacBytes || !core::constant_time_equal(mac, mac_of(key, payload))) {
        return std::nullopt;
    }

    // Past the MAC the payload is ours; it is still checked in full, so a key leaked
    // or reused elsewhere cannot smuggle in values the pull would not accept.
    Reader r(payload);
    PageCursor c;
    uint64_t after = 0, cutoff = 0;
    size_t limit = 0, count = 0;
    if (!r.u64(after) || !r.u64(cutoff) || !r.u16(limit) || !r.u16(count)) return std::nullopt;
    c.after_change_id = static_cast<int64_t>(after);
    c.snapshot_cutoff = static_cast<int64_t>(cutoff);
    c.limit = static_cast<int>(limit);
    c.schema_types.reserve(std::min<size_t>(count, 256));
    for (size_t i = 0; i < count; ++i) {
        size_t len = 0;
        std::string t;
        if (!r.u16(len) || !r.bytes(len, t)) return std::nullopt;
        // Encoded sorted and unique; anything else was not made by encode_page_token.
        if (!c.schema_types.empty() && !(c.schema_types.back() < t)) return std::nullopt;
        c.schema_types.push_back(std::move(t));
    }
    if (!r.at_end()) {
        std::string shape;
        if (!r.bytes(1, shape) || !r.at_end() || static_cast<unsigned char>(shape[0]) > 2) return std::nullopt;
        c.shape = static_cast<RecordShape>(shape[0]);
    }
    if (!cursor_ok(c)) return std::nullopt;
    return c;
}

}  // namespace domain
