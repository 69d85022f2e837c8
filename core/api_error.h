// The one error type of the HTTP layer. Thrown by handlers and core's HTTP parts
// (request readers, router) and by the handlers' translation of the lower layers'
// errors (handlers/routes.cpp), never by domain/, db/ or services/; rendered as
// problem+json at a single boundary (core/fcgi_server.cpp).
#pragma once
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace core {

struct FieldError {
    std::string field;
    std::string message;
};

class ApiError : public std::runtime_error {
public:
    // slug is one of the contract's: bad-request, validation, unauthorized, forbidden,
    // not-found, conflict, payload-too-large, unsupported-api-version, rate-limited,
    // unavailable, internal, not-implemented. detail is shown to the client: never SQL, paths or what().
    ApiError(int status, std::string slug, std::string detail, std::vector<FieldError> errors = {})
        : std::runtime_error(detail), status_(status), slug_(std::move(slug)),
          detail_(std::move(detail)), errors_(std::move(errors)) {}

    int status() const { return status_; }
    const std::string& slug() const { return slug_; }
    const std::string& detail() const { return detail_; }
    const std::vector<FieldError>& errors() const { return errors_; }
    // Extra response headers (Retry-After, Allow, WWW-Authenticate).
    std::vector<std::pair<std::string, std::string>> headers;

    static ApiError bad_request(std::string d) { return {400, "bad-request", std::move(d)}; }
    static ApiError validation(std::vector<FieldError> e, std::string d = "The request is invalid") {
        return {400, "validation", std::move(d), std::move(e)};
    }
    static ApiError unauthorized(std::string d = "Authentication required") {
        ApiError e{401, "unauthorized", std::move(d)};
        e.headers.emplace_back("WWW-Authenticate", "Bearer");
        return e;
    }
    static ApiError forbidden(std::string d = "Insufficient role") { return {403, "forbidden", std::move(d)}; }
    static ApiError not_found(std::string d = "Not found") { return {404, "not-found", std::move(d)}; }
    static ApiError conflict(std::string d) { return {409, "conflict", std::move(d)}; }
    static ApiError too_large(std::string d = "The request body is too large") {
        return {413, "payload-too-large", std::move(d)};
    }
    static ApiError unavailable(std::string d = "The service is temporarily unavailable") {
        ApiError e{503, "unavailable", std::move(d)};
        e.headers.emplace_back("Retry-After", "2");
        return e;
    }
    static ApiError not_implemented(std::string d) { return {501, "not-implemented", std::move(d)}; }
    static ApiError internal() { return {500, "internal", "An internal error occurred"}; }

private:
    int status_;
    std::string slug_;
    std::string detail_;
    std::vector<FieldError> errors_;
};

}  // namespace core
