#include "db/server_repository.h"
#include "db/sql.h"

#include <memory>

namespace db {

ServerInfo ServerRepository::info() {
    std::unique_ptr<sql::ResultSet> rs(tx_.stmt(Stmt::SERVER_VERSION).executeQuery());
    ServerInfo out;
    if (rs->next()) {
        out.version = rs->getString(1);
        out.database = rs->getString(2);
    }
    return out;
}

}  // namespace db
