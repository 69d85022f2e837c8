// The FastCGI worker pool. One supervisor process owns the listening socket
// (inherited from systemd, or bound from the config) and keeps `workers` identical
// single-threaded worker processes accepting on it, replacing any that die.
// SIGTERM/SIGINT: each worker finishes its current request and exits; the
// supervisor waits for them and removes the socket it created.
#pragma once
#include <exception>
#include <functional>
#include <optional>
#include <string_view>
#include <string>

#include "core/api_error.h"
#include "core/router.h"

namespace core {

constexpr const char* kApiVersion = "1.0.0";

struct ServerHooks {
    // Verifies the bearer token of a request to a protected route; throws ApiError 401.
    std::function<Principal(const Request&)> authenticate;
    // Maps an exception from a lower layer (database, I/O) to the ApiError the client
    // sees; the hook logs the details, the client only sees a neutral detail.
    std::function<ApiError(std::exception_ptr)> translate;
    // Grants (core/grant.h): the exp of a request's bearer token when it is valid, its
    // user read afresh from the database (nullopt: not valid; unset: never granted); how
    // long nginx may keep a token answer and a file or 304 answer (0: not at all).
    std::function<std::optional<int64_t>(const Request&)> token_granted;
    int token_grant_seconds = 0;
    int file_grant_seconds = 0;
    // Runs in each worker right after fork (open per-process resources lazily there).
    std::function<void()> worker_init;
};

struct PoolOptions {
    std::string listen;   // unix socket path, or host:port
    int socket_mode = 0660;
    int workers = 2;
    int backlog = 1024;
};

// Serves one parsed request through the router: the single boundary where every
// error becomes problem+json. Usable without FastCGI (tests, benchmarks).
Response dispatch(const Router& router, const ServerHooks& hooks, Request& req);

// Writes the status line, headers and body of `resp` through `put` (false: the
// client is gone). Returns false when a body could not be written whole (a
// streamed one, Response::body_writer, stopped part-way, or `put` failed on a
// held one): the caller must then abort the FastCGI request rather than end it,
// so nginx drops the client connection without the final chunk.
bool write_response(const Request& req, const Response& resp, const std::function<bool(std::string_view)>& put);

// Runs the supervisor and workers in the foreground until SIGTERM/SIGINT; returns
// the process exit code.
int run_pool(const PoolOptions& opts, const Router& router, const ServerHooks& hooks);

}  // namespace core
