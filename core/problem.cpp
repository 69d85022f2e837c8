#include "core/problem.h"

#include "core/json.h"

namespace core {

std::string problem_title(int status) {
    switch (status) {
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 406: return "Unsupported API Version";
        case 409: return "Conflict";
        case 413: return "Payload Too Large";
        case 429: return "Too Many Requests";
        case 503: return "Service Unavailable";
        default: return status_reason(status);
    }
}

Response problem_response(const ApiError& e, const std::string& instance) {
    JsonOut o;
    o.begin_object();
    o.key("type").str(std::string(kProblemTypeBase) + e.slug());
    o.key("title").str(e.status() == 400 && e.slug() == "validation" ? "Validation Failed" : problem_title(e.status()));
    o.key("status").num(e.status());
    o.key("detail").str(e.detail());
    // The current mobile app shows `message` (CONTRACT §7); the same text as detail.
    o.key("message").str(e.detail());
    if (!instance.empty()) o.key("instance").str(instance);
    if (!e.errors().empty()) {
        o.key("errors").begin_array();
        for (const auto& fe : e.errors()) o.begin_object().key("field").str(fe.field).key("message").str(fe.message).end_object();
        o.end_array();
    }
    o.end_object();
    Response r;
    r.status = e.status();
    r.content_type = "application/problem+json";
    r.body = o.take();
    r.headers = e.headers;
    return r;
}

}  // namespace core
