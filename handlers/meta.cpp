#include "handlers/meta.h"

#include "handlers/admin.h"

#include <sys/utsname.h>
#include <unistd.h>

#include "core/fcgi_server.h"
#include "core/json.h"
#include "core/time_util.h"

#ifndef SYNKRONUS_VERSION
#define SYNKRONUS_VERSION "0.0.0"
#endif
#ifndef SYNKRONUS_COMMIT
#define SYNKRONUS_COMMIT "unknown"
#endif
#ifndef SYNKRONUS_BUILD_TIME
#define SYNKRONUS_BUILD_TIME "unknown"
#endif

// The YAML file is linked in verbatim, so what is served is exactly what is in the repo.
__asm__(
    ".section .rodata\n"
    ".global synkronus_openapi_start\n"
    "synkronus_openapi_start:\n"
    ".incbin \"handlers/openapi.yaml\"\n"
    ".global synkronus_openapi_end\n"
    "synkronus_openapi_end:\n"
    ".byte 0\n"
    ".previous\n");
extern "C" const char synkronus_openapi_start[];
extern "C" const char synkronus_openapi_end[];

namespace handlers {

std::string_view openapi_document() {
    return std::string_view(synkronus_openapi_start, static_cast<size_t>(synkronus_openapi_end - synkronus_openapi_start));
}

namespace {

core::Response unhealthy(const std::string& now, const std::string& error) {
    core::JsonOut o;
    o.begin_object().key("status").str("error").key("error").str(error).key("timestamp").str(now).end_object();
    auto r = core::Response::json(o.take(), 503);
    r.add_header("Retry-After", "5");
    r.add_header("Cache-Control", "no-store");
    return r;
}

}  // namespace

core::Response health(Context& ctx, core::Request&) {
    std::string now = core::rfc3339(core::unix_now());
    const std::string problem = ctx.status().health_problem();
    if (!problem.empty()) return unhealthy(now, problem);
    core::JsonOut o;
    o.begin_object().key("status").str("ok").key("timestamp").str(now).key("version").str(SYNKRONUS_VERSION).end_object();
    auto r = core::Response::json(o.take());
    r.add_header("Cache-Control", "no-store");
    return r;
}

void write_server_facts(core::JsonOut& o) {
    o.begin_object().key("version").str(SYNKRONUS_VERSION);
    o.key("build").begin_object().key("commit").str(SYNKRONUS_COMMIT).key("build_time").str(SYNKRONUS_BUILD_TIME)
        .key("compiler").str(std::string("g++ ") + __VERSION__).end_object();
    o.end_object();
}

core::Response version(Context& ctx, core::Request&) {
    const auto db = ctx.status().database_info();
    struct utsname u {};
    uname(&u);
    core::JsonOut o;
    o.begin_object();
    o.key("server").begin_object().key("version").str(SYNKRONUS_VERSION).end_object();
    o.key("database").begin_object().key("type").str(db.type).key("version").str(db.version)
        .key("database_name").str(db.name).end_object();
    o.key("system").begin_object().key("os").str("linux").key("architecture").str(u.machine)
        .key("cpus").num(sysconf(_SC_NPROCESSORS_ONLN)).end_object();
    o.key("build").begin_object().key("commit").str(SYNKRONUS_COMMIT).key("build_time").str(SYNKRONUS_BUILD_TIME)
        .key("compiler").str(std::string("g++ ") + __VERSION__).end_object();
    o.end_object();
    return core::Response::json(o.take());
}

core::Response openapi(Context&, core::Request&) {
    core::Response r;
    r.content_type = "application/yaml";
    r.body = std::string(openapi_document());
    return r;
}

}  // namespace handlers
