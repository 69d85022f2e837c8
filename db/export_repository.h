// Reads sync_records for the data export inside one read-only consistent snapshot,
// in bounded pages: Connector/C++ buffers a whole result set, so no query here ever
// returns more than `limit` rows, and the next page starts after the last
// (schema_type, change_id) seen (keyset paging on sync_records_by_type_change).
#pragma once
#include <cstdint>
#include <climits>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "db/database.h"
#include "domain/csv_export.h"
#include "domain/export_filter.h"

namespace db {

// The keyset cursor: a page starts after (synced, change_id). The first page starts
// after the filter's synced_after, with change_id past every id (the bound is exclusive).
struct ExportCursor {
    std::string synced;  // DATETIME(3) text
    int64_t change_id = 0;
    static ExportCursor start(const domain::ExportFilter& f) { return {f.synced_after, INT64_MAX}; }
};

struct ExportPage {
    size_t rows = 0;
    ExportCursor last;  // the cursor for the next page
};

class ExportRepository {
public:
    // Made inside a db::Snapshot (Snapshot::read), which the service holds.
    explicit ExportRepository(Tx& tx) : tx_(tx) {}

    // Form types in bytewise order: the first, then the one after `after`.
    std::optional<std::string> next_form_type(const std::optional<std::string>& after);

    // Records of one form type that `filter` takes, after `after`, at most `limit`,
    // in (synced_at, change_id) order.
    ExportPage data_page(const std::string& form_type, const domain::ExportFilter& filter, const ExportCursor& after,
                         int limit, const std::function<void(std::string_view data)>& fn);
    ExportPage record_page(const std::string& form_type, const domain::ExportFilter& filter, const ExportCursor& after,
                           int limit, const std::function<void(const domain::ExportRecord&)>& fn);

    // Download links (sql/008): stores one; claims one (true for exactly one caller,
    // and only before expires_at); reads one's format and params, and whether it
    // can still be claimed.
    void insert_link(const std::string& token_hash, const std::string& format, const std::string& params,
                     const std::string& created_by, int64_t expires_at);
    bool claim_link(const std::string& token_hash);
    struct StoredLink {
        std::string format, params;
        bool usable;
    };
    std::optional<StoredLink> find_link(const std::string& token_hash);

private:
    // One page of `which` (change_id first, the cursor time last) for `form_type`;
    // `row` reads the rest of each row.
    ExportPage page(Stmt which, const std::string& form_type, const domain::ExportFilter& filter,
                    const ExportCursor& after, int limit, const std::function<void(sql::ResultSet&)>& row);

    Tx& tx_;
};

}  // namespace db
