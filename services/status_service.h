// The service's own state, for GET /health and GET /version.
#pragma once
#include <string>

#include "db/database.h"
#include "services/bundle_store.h"

namespace services {

struct DatabaseInfo {
    std::string type;     // "mariadb" or "mysql"
    std::string version;  // e.g. "10.11.6"
    std::string name;     // the database in use
};

class StatusService {
public:
    StatusService(db::Database& db, BundleStore& bundles) : db_(db), bundles_(bundles) {}

    // Why the service cannot serve now ("" when it can): no usable database node
    // (Synced, primary component), or the active app bundle version's files missing.
    // The details go to the log; the answer is for the health check's body.
    std::string health_problem();
    DatabaseInfo database_info();

private:
    db::Database& db_;
    BundleStore& bundles_;
};

}  // namespace services
