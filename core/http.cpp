#include "core/http.h"

#include "core/api_error.h"

namespace core {

const std::string* Request::header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? nullptr : &it->second;
}

std::optional<std::string> Request::query_param(std::string_view name) const {
    auto all = query_params(name);
    if (all.empty()) return std::nullopt;
    return all.front();
}

std::vector<std::string> Request::query_params(std::string_view name) const {
    std::vector<std::string> found;
    std::string_view q = query;
    while (!q.empty()) {
        auto amp = q.find('&');
        std::string_view pair = q.substr(0, amp);
        q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
        auto eq = pair.find('=');
        std::string key, value;
        // A malformed escape (or an encoded NUL) is the client's error, not an absent parameter.
        if (!percent_decode(pair.substr(0, eq), key, true) ||
            (eq != std::string_view::npos && !percent_decode(pair.substr(eq + 1), value, true)))
            throw ApiError::bad_request("The query string contains a malformed percent-escape");
        if (key == name) found.push_back(std::move(value));
    }
    return found;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool percent_decode(std::string_view in, std::string& out, bool plus_as_space) {
    out.clear();
    out.reserve(in.size());
    for (size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c == '%') {
            if (i + 2 >= in.size()) return false;
            int h = hexval(in[i + 1]), l = hexval(in[i + 2]);
            if (h < 0 || l < 0) return false;
            char d = static_cast<char>(h * 16 + l);
            if (d == '\0') return false;
            out.push_back(d);
            i += 2;
        } else if (c == '\0') {
            return false;  // a raw NUL is refused like an encoded one
        } else if (c == '+' && plus_as_space) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return true;
}

const char* status_reason(int s) {
    switch (s) {
        case 200: return "OK";
        case 201: return "Created";
        case 204: return "No Content";
        case 206: return "Partial Content";
        case 304: return "Not Modified";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 406: return "Not Acceptable";
        case 409: return "Conflict";
        case 413: return "Payload Too Large";
        case 415: return "Unsupported Media Type";
        case 429: return "Too Many Requests";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        case 504: return "Gateway Timeout";
    }
    return "Unknown";
}

}  // namespace core
