// Forward-only migrations: sql/NNN_name.sql applied in numeric order, each recorded
// in schema_migrations with a checksum. A named lock keeps two migrators (two hosts
// starting at once) from racing; running it again applies nothing.
#pragma once
#include <cstdint>
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
// Counts the stored records into record_counts afresh, with the statements of
// migration 011's fill, read from sql_dir (one transaction behind the change counter's lock; pushes wait
// for it and are counted exactly once): `synkronus-admin records recount`, after a
// rolling upgrade during which hosts still on an older version pushed. In the same
// transaction, the live attachments' count and bytes afresh (migration 012's fill),
// for uploads and deletions those hosts made (012's fill, read from the same place).
// Returns the number of records counted.
int64_t recount_records(sql::Connection& c, const std::string& sql_dir);
// Splits a migration file into statements (on `;` at end of line, `--` comments dropped;
// a `DELIMITER x` line makes `x` at end of line end a statement instead, as in the
// mariadb client, for a stored procedure's body).
std::vector<std::string> split_sql(const std::string& text);

// migrate() refuses (db::Error naming them, before applying anything) when
// schema_migrations holds versions that sql_dir has no file for: a newer release
// migrated this database. This is the refusal's text: the unknown migrations by
// name, the newest known file, what to do.
std::string unknown_migrations_message(const std::vector<std::string>& applied_unknown,
                                       const std::vector<std::string>& known_files);

}  // namespace db
