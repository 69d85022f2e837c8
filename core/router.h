// Routes as one table of {method, path pattern, handler, required role, body}.
// Patterns are literal segments and `{name}` parameters; a final `{name+}` takes
// the rest of the path, slashes included. Unknown paths give 404; a known path
// with another method gives 405 with `Allow`. HEAD is served by the GET route.
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/http.h"

namespace core {

using Handler = std::function<Response(Request&)>;

enum class BodyMode { none, buffered, streamed };

struct Route {
    std::string method;
    std::string pattern;
    Handler handler;
    std::optional<Role> role;  // nullopt: public
    BodyMode body = BodyMode::none;
    int64_t body_limit = 0;    // bytes, for buffered and streamed bodies
    // nginx may keep this GET route's file answer for any granted token (core/grant.h):
    // it needs only read_only, and neither its handler nor its answer depends on who asks.
    bool grantable = false;
    // nginx may keep this GET route's whole answer (a 200 or a 304) for grant_seconds,
    // per URI, validator and API version, for any granted token (core/grant.h, asked
    // with Grant::answer): it needs only read_only, its answer does not depend on who
    // asks, and its handler reads afresh when asked under a grant.
    bool keepable = false;
};

struct RouteMatch {
    const Route* route;
    std::map<std::string, std::string> params;
};

class Router {
public:
    void add(Route r);
    // Throws ApiError: 404 for an unknown path, 405 (with Allow) for a wrong method,
    // 400 for a path with malformed percent-escapes.
    RouteMatch match(const std::string& method, const std::string& raw_path) const;
    const std::vector<Route>& routes() const { return routes_; }

private:
    struct Compiled {
        std::vector<std::string> segments;  // "{x}" and "{x+}" are parameters
    };
    bool match_one(const Compiled& c, const std::vector<std::string>& raw_segments,
                   std::map<std::string, std::string>& params, bool& bad_escape) const;
    std::vector<Route> routes_;
    std::vector<Compiled> compiled_;
};

}  // namespace core
