// What the database server says about itself (GET /version).
#pragma once
#include <string>

#include "db/database.h"

namespace db {

struct ServerInfo {
    std::string version;   // as the server reports it, e.g. "10.11.6-MariaDB-0+deb12u1-log"
    std::string database;  // the schema in use
};

class ServerRepository {
public:
    explicit ServerRepository(Tx& tx) : tx_(tx) {}
    ServerInfo info();

private:
    Tx& tx_;
};

}  // namespace db
