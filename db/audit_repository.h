// The audit log table: append (in the transaction of the change it records), pages
// newest first, retention.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/database.h"
#include "db/rows.h"

namespace db {

class AuditRepository {
public:
    explicit AuditRepository(Tx& tx) : tx_(tx) {}
    // One INSERT, in the unit of work of the change it records.
    void append(const AuditRow& event);
    std::vector<AuditRow> page(const AuditFilter& filter, int limit);
    void delete_older_than(int64_t days);

private:
    Tx& tx_;
};

}  // namespace db
