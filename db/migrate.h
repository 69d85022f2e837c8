// Forward-only migrations: sql/NNN_name.sql applied in numeric order, each recorded
// in schema_migrations with a checksum. A named lock keeps two migrators (two hosts
// starting at once) from racing; running it again applies nothing.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "db/database.h"

namespace db {

struct MigrationResult {
    std::vector<std::string> applied;   // file names applied by this run
    std::vector<std::string> already;   // file names found applied before
};

MigrationResult migrate(Database& db, const std::string& sql_dir);

// Rebuilds attachment_refs from the stored records (the backfill of migration 007,
// and `synkronus-admin attachments reindex`), in bounded batches, calling
// `between_batches` after each; returns how many records it read. Safe while pushes run.
size_t rebuild_attachment_refs(sql::Connection& c, const std::function<void()>& between_batches);
// Splits a migration file into statements (on `;` at end of line, `--` comments dropped).
std::vector<std::string> split_sql(const std::string& text);

}  // namespace db
