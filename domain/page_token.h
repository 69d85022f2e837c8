// The opaque pull page token: the cursor, filter and limit of a pull, signed so a
// client can hand it back but not forge or alter it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/sync_request.h"

namespace domain {

// Tokens travel in the query string, and nginx refuses request lines over its 8 KiB
// header buffer, so no token is issued or read beyond this.
inline constexpr size_t kMaxPageTokenLength = 8192;
inline constexpr int kMinPullLimit = 1;
inline constexpr int kMaxPullLimit = 500;

struct PageCursor {
    int64_t after_change_id = 0;
    std::vector<std::string> schema_types;  // sorted, deduplicated; empty = all types
    int limit = 50;
    // The change counter the pull's first page read (0 before it): later pages read
    // nothing above it, so a pull ends even while pushes keep coming.
    int64_t snapshot_cutoff = 0;
    // The shape the pull's records come in, kept for its later pages.
    RecordShape shape = RecordShape::records;
};

// The cursor of a pull's first page: the body's cursor, filter and shape, plus the
// query's `limit` (default 50, kMinPullLimit to kMaxPullLimit) and `schemaType` (one
// more type for the filter, 1 to kMaxSchemaTypeChars characters of valid UTF-8).
// Throws InvalidInput naming the query parameter.
PageCursor first_page_cursor(const PullRequest& body, const std::optional<std::string>& limit,
                             const std::optional<std::string>& schema_type);

// base64url(payload) "." base64url(HMAC-SHA256(key, "synkronus-page-v1." payload)).
// schema_types are sorted and deduplicated on the way in. Throws std::invalid_argument
// for an empty key or a cursor decode would refuse, and std::length_error when the
// filter is too large for a token (parse_pull_request bounds it so this cannot happen).
std::string encode_page_token(const PageCursor& cursor, std::string_view key);

// nullopt for anything not made by encode_page_token with this key: forged, altered,
// truncated, wrong key, malformed, or carrying values outside the pull limits.
std::optional<PageCursor> decode_page_token(std::string_view token, std::string_view key);

}  // namespace domain
