#include "services/export_service.h"

#include <set>
#include <vector>

#include "core/time_util.h"
#include "db/export_repository.h"
#include "core/zip_stream.h"
#include "domain/csv_export.h"

namespace services {

namespace {

// Rows per query: each page is one buffered result set, so this times the largest
// record bounds the memory a page takes.
constexpr int kPageRows = 500;
// CSV text is handed to the deflater in pieces of about this size.
constexpr size_t kFlushBytes = 64 * 1024;

}  // namespace

CsvExport::CsvExport(db::Database& db, int64_t started_ms) : snapshot_(db), started_ms_(started_ms) {}

std::string CsvExport::file_name() const {
    std::string t = core::rfc3339(started_ms_ / 1000);  // 2026-12-02T10:45:00Z
    std::string compact;
    for (char c : t)
        if (c != '-' && c != ':') compact += c;
    return "synkronus-export-" + compact + ".zip";
}

// Why the file is consistent: every read below runs in the one read view that
// begin_snapshot() opened, so the first pass sees exactly the rows the second pass
// writes (no column missing from the header, no row torn by a push that commits
// meanwhile), and the keyset cursor cannot skip or repeat a record that a push moves
// to a higher change_id, because in this view it has not moved. The price: InnoDB
// keeps the undo history of that view until the export ends (the purge waits).
void CsvExport::write_zip(const core::ZipStreamWriter::Sink& sink) {
    using Repo = db::ExportRepository;
    core::ZipStreamWriter zip(sink, started_ms_ / 1000);
    domain::ExportFileNamer namer;
    std::string csv;
    std::optional<std::string> type;
    auto next_type = [&] {
        snapshot_.read([&](db::Tx& tx) { type = Repo(tx).next_form_type(type); });
        return type.has_value();
    };
    while (next_type()) {
        std::set<std::string> column_set;
        for (int64_t after = 0;;) {
            db::ExportPage page;
            snapshot_.read([&](db::Tx& tx) {
                page = Repo(tx).data_page(*type, after, kPageRows,
                                          [&](std::string_view data) { domain::collect_data_columns(data, column_set); });
            });
            if (page.rows == 0) break;
            after = page.last_change_id;
        }
        const std::vector<std::string> columns(column_set.begin(), column_set.end());
        column_set.clear();

        zip.begin_entry(namer.name_for(*type));
        csv.clear();
        domain::append_header_row(csv, columns);
        for (int64_t after = 0;;) {
            db::ExportPage page;
            snapshot_.read([&](db::Tx& tx) {
                page = Repo(tx).record_page(*type, after, kPageRows, [&](const domain::ExportRecord& r) {
                    domain::append_record_row(csv, r, columns);
                    if (csv.size() >= kFlushBytes) {
                        zip.write(csv);
                        csv.clear();
                    }
                });
            });
            if (page.rows == 0) break;
            after = page.last_change_id;
        }
        zip.write(csv);
        zip.end_entry();
    }
    // The snapshot ends before the last bytes go out: a failure to end it is still
    // reported as a cut-off archive, never as a complete one.
    snapshot_.end();
    zip.finish();
}

std::unique_ptr<CsvExport> ExportService::begin_csv() {
    return std::make_unique<CsvExport>(db_, core::unix_now_ms());
}

}  // namespace services
