// Reads sync_records for the data export inside one read-only consistent snapshot,
// in bounded pages: Connector/C++ buffers a whole result set, so no query here ever
// returns more than `limit` rows, and the next page starts after the last
// (schema_type, change_id) seen (keyset paging on sync_records_by_type_change).
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "db/database.h"
#include "domain/csv_export.h"

namespace db {

struct ExportPage {
    size_t rows = 0;
    int64_t last_change_id = 0;  // the keyset cursor for the next page
};

class ExportRepository {
public:
    // Made inside a db::Snapshot (Snapshot::read), which the service holds.
    explicit ExportRepository(Tx& tx) : tx_(tx) {}

    // Form types in bytewise order: the first, then the one after `after`.
    std::optional<std::string> next_form_type(const std::optional<std::string>& after);

    // Records of one form type with change_id > after, at most `limit`, in change_id order.
    ExportPage data_page(const std::string& form_type, int64_t after, int limit,
                         const std::function<void(std::string_view data)>& fn);
    ExportPage record_page(const std::string& form_type, int64_t after, int limit,
                           const std::function<void(const domain::ExportRecord&)>& fn);

private:
    // One page of `which` (change_id first) for `form_type` after `after`; `row`
    // reads the rest of each row.
    ExportPage page(Stmt which, const std::string& form_type, int64_t after, int limit,
                    const std::function<void(sql::ResultSet&)>& row);

    Tx& tx_;
};

}  // namespace db
