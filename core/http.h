// Request and response as a handler sees them, independent of FastCGI.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/role.h"

namespace core {

// Who made the request, once the bearer token is verified.
struct Principal {
    std::string username;
    Role role;
    std::string token_id;    // the access token's jti ("" for tokens issued without one)
    int64_t token_exp = 0;   // and its exp (unix seconds): how long a revocation must last
};

// A question from nginx's grant cache (core/grant.h) rather than a request to answer:
// the FastCGI param SYNKRONUS_GRANT, which nginx sets only in the snippet's internal
// grant locations (a client's headers arrive as HTTP_*, so no client can set it).
// `answer`: the request itself, whose whole answer (200 or 304) nginx may keep when
// its route is Route::keepable.
enum class Grant { none, token, file, revalidate, answer };

struct Request {
    std::string method;
    std::string path;         // raw (still percent-encoded) path, no query
    std::string query;        // raw query string
    std::string remote_addr;
    // The Host header as the client sent it, port included (REQUEST_HOST, which the
    // nginx snippet sets to $http_host where a route needs it; Debian's
    // fastcgi_params passes HTTP_HOST without the port). "" when not passed.
    std::string host;
    std::string request_id;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;                            // buffered body (routes with BodyMode::buffered)
    // Streams the body for routes with BodyMode::streamed: reads up to n bytes, 0 at end.
    std::function<size_t(char*, size_t)> read_body;
    int64_t content_length = 0;
    std::map<std::string, std::string> params;   // decoded path parameters
    std::optional<Principal> principal;
    Grant grant = Grant::none;
    // Asked by nginx's grant cache, which may keep the answer (core/grant.h): what the
    // handler reads must come from the database, not from a worker's own caches, so
    // that a kept answer is never older than grant_seconds + 1 s.
    bool answer_kept() const { return grant != Grant::none; }

    const std::string* header(const std::string& lower_name) const;
    // First value of a query parameter, percent-decoded ('+' as space). Throws ApiError
    // 400 when the query string holds a malformed escape.
    std::optional<std::string> query_param(std::string_view name) const;
    // Every value of a repeatable query parameter, in order (same decoding and errors).
    std::vector<std::string> query_params(std::string_view name) const;
};

// Receives a streamed body piece by piece; throws BodySinkClosed when the client is gone.
using BodySink = std::function<void(std::string_view)>;

struct BodySinkClosed : std::runtime_error {
    BodySinkClosed() : std::runtime_error("the client connection is gone") {}
};

struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    // A body made while it is sent (the data export, too big to hold; a pulled page,
    // sent while the rest is rendered):
    // when set, `body` is ignored, no Content-Length is sent and the server calls
    // this with a sink after the headers. Once a byte is out an error cannot become
    // a problem+json: an exception from the writer makes the server abort the
    // request instead of ending it, so the client sees a cut-off body, never a
    // complete-looking one (see abort_request in core/fcgi_server.cpp).
    std::function<void(const BodySink&)> body_writer;

    static Response json(std::string body, int status = 200) {
        Response r;
        r.status = status;
        r.body = std::move(body);
        return r;
    }
    void add_header(std::string name, std::string value) { headers.emplace_back(std::move(name), std::move(value)); }
};

const char* status_reason(int status);

// Strict percent-decoding: false on a malformed escape or a NUL, encoded or raw.
bool percent_decode(std::string_view in, std::string& out, bool plus_as_space = false);

}  // namespace core
