// The opaque cursor of every admin list route (CONTRACT §8): the sort key of the last
// row a page served, signed so that a client can hand it back but not forge it, and
// bound to the route and its filters so that a cursor of one list is refused by
// another (or by the same list under other filters).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace domain {

inline constexpr int kMinListLimit = 1;
inline constexpr int kMaxListLimit = 500;
inline constexpr int kDefaultListLimit = 100;
// Cursors ride in the query string; none is issued or read beyond this.
inline constexpr size_t kMaxListCursorLength = 2048;

// What a cursor is bound to: the route and the filters the request gave. Filters are
// compared by name and value after sorting by name; an absent filter differs from any
// given value, the empty string included.
class ListScope {
public:
    explicit ListScope(std::string_view route) : route_(route) {}
    ListScope& filter(std::string_view name, const std::optional<std::string>& value);
    // An unambiguous byte string of route and filters (length-prefixed parts).
    std::string canonical() const;

private:
    std::string route_;
    std::vector<std::pair<std::string, std::string>> filters_;
};

// The sort key of the last row served, one string per key column (a change_id in
// decimal, a time, an id...). What the strings mean is the route's business.
using ListPosition = std::vector<std::string>;

// The key cursors are signed with, derived from the server's secret for this purpose
// only (a MAC made for tokens or page tokens never verifies as a cursor).
std::string derive_list_cursor_key(std::string_view server_secret);

// base64url(payload) "." base64url(HMAC-SHA256(key, "synkronus-list-v1." scope payload)).
// Throws std::invalid_argument for an empty key or position, std::length_error when the
// cursor would exceed kMaxListCursorLength.
std::string encode_list_cursor(const ListPosition& position, const ListScope& scope, std::string_view key);

// nullopt for anything encode_list_cursor did not make with this key and this scope
// (forged, altered, truncated, from another route or other filters), or whose position
// does not have `arity` parts.
std::optional<ListPosition> decode_list_cursor(std::string_view cursor, const ListScope& scope,
                                               std::string_view key, size_t arity);

struct ListPage {
    int limit = kDefaultListLimit;
    std::optional<ListPosition> after;  // nullopt: the first page
};

// Reads a list request's `limit` and `cursor` query values (nullopt: not given; an
// empty cursor is the first page). Throws InvalidInput naming `limit` (not an integer
// from 1 to 500) or `cursor` (not a cursor of this list under these filters).
ListPage parse_list_page(const std::optional<std::string>& limit, const std::optional<std::string>& cursor,
                         const ListScope& scope, std::string_view key, size_t arity);

// A position part written as a decimal integer >= 0 (change ids, event ids). nullopt
// for anything else.
std::optional<int64_t> position_int(std::string_view part);

}  // namespace domain
