#include "core/router.h"

#include "core/api_error.h"

namespace core {

static std::vector<std::string> split_path(const std::string& path) {
    std::vector<std::string> out;
    size_t i = 0;
    if (!path.empty() && path[0] == '/') i = 1;
    while (true) {
        size_t j = path.find('/', i);
        out.push_back(path.substr(i, j == std::string::npos ? std::string::npos : j - i));
        if (j == std::string::npos) break;
        i = j + 1;
    }
    return out;
}

void Router::add(Route r) {
    compiled_.push_back({split_path(r.pattern)});
    routes_.push_back(std::move(r));
}

bool Router::match_one(const Compiled& c, const std::vector<std::string>& raw,
                       std::map<std::string, std::string>& params, bool& bad_escape) const {
    params.clear();
    for (size_t i = 0; i < c.segments.size(); ++i) {
        const std::string& seg = c.segments[i];
        bool is_param = seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
        bool is_tail = is_param && seg[seg.size() - 2] == '+';
        if (is_tail) {
            if (i >= raw.size()) return false;
            std::string joined;
            for (size_t k = i; k < raw.size(); ++k) joined += (k > i ? "/" : "") + raw[k];
            if (joined.empty()) return false;
            std::string decoded;
            if (!percent_decode(joined, decoded)) {
                bad_escape = true;
                return false;
            }
            params[seg.substr(1, seg.size() - 3)] = decoded;
            return true;
        }
        if (i >= raw.size()) return false;
        if (is_param) {
            if (raw[i].empty()) return false;
            std::string decoded;
            if (!percent_decode(raw[i], decoded)) {
                bad_escape = true;
                return false;
            }
            params[seg.substr(1, seg.size() - 2)] = decoded;
        } else if (seg != raw[i]) {
            return false;
        }
    }
    return raw.size() == c.segments.size();
}

RouteMatch Router::match(const std::string& method, const std::string& raw_path) const {
    auto raw = split_path(raw_path);
    std::string allow;
    bool bad_escape = false;
    std::map<std::string, std::string> params;
    // HEAD is GET without the body (write_response drops it, nginx sends only the
    // headers of a file it serves after X-Accel-Redirect), so every GET route takes it.
    const std::string wanted = method == "HEAD" ? "GET" : method;
    auto allow_method = [&allow](const std::string& m) {
        if (allow.find(m) == std::string::npos) allow += (allow.empty() ? "" : ", ") + m;
    };
    for (size_t i = 0; i < routes_.size(); ++i) {
        if (!match_one(compiled_[i], raw, params, bad_escape)) continue;
        if (routes_[i].method == wanted) return {&routes_[i], params};
        allow_method(routes_[i].method);
        if (routes_[i].method == "GET") allow_method("HEAD");
    }
    if (!allow.empty()) {
        ApiError e(405, "bad-request", "Method " + method + " is not allowed on this path");
        e.headers.emplace_back("Allow", allow);
        throw e;
    }
    if (bad_escape) throw ApiError::bad_request("The path contains a malformed percent-escape");
    throw ApiError::not_found("No route matches " + method + " " + raw_path);
}

}  // namespace core
