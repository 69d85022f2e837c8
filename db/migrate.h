// Forward-only migrations: sql/NNN_name.sql applied in numeric order, each recorded
// in schema_migrations with a checksum. A named lock keeps two migrators (two hosts
// starting at once) from racing; running it again applies nothing.
#pragma once
#include <string>
#include <vector>

#include "db/database.h"

namespace db {

struct MigrationResult {
    std::vector<std::string> applied;   // file names applied by this run
    std::vector<std::string> already;   // file names found applied before
};

MigrationResult migrate(Database& db, const std::string& sql_dir);
// Splits a migration file into statements (on `;` at end of line, `--` comments dropped).
std::vector<std::string> split_sql(const std::string& text);

}  // namespace db
