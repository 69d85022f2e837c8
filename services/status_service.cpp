#include "services/status_service.h"

#include "core/log.h"
#include "db/server_repository.h"
#include "services/unit_of_work.h"

namespace services {

std::string StatusService::health_problem() {
    try {
        db_.ping();
    } catch (const std::exception& e) {
        core::log::warn(std::string("health check: database unavailable: ") + e.what());
        return "database unavailable";
    }
    std::string problem;
    try {
        problem = bundles_.active_version_problem();
    } catch (const std::exception& e) {
        core::log::warn(std::string("health check: app bundle store: ") + e.what());
        return "database unavailable";
    }
    if (!problem.empty()) core::log::warn("health check: " + problem);
    return problem;
}

DatabaseInfo StatusService::database_info() {
    auto info = run_with<db::ServerRepository>(db_, [](db::ServerRepository& r) { return r.info(); });
    // "10.11.6-MariaDB-0+deb12u1-log" -> type mariadb, version 10.11.6
    DatabaseInfo out;
    out.type = info.version.find("MariaDB") != std::string::npos ? "mariadb" : "mysql";
    out.version = info.version.substr(0, info.version.find('-'));
    out.name = info.database;
    return out;
}

}  // namespace services
