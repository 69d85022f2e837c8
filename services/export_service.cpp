#include "services/export_service.h"

#include <set>
#include <vector>

#include "core/crypto.h"
#include "core/log.h"
#include "core/parquet.h"
#include "core/time_util.h"
#include "db/export_repository.h"
#include "services/unit_of_work.h"
#include "domain/csv_export.h"
#include "domain/parquet_export.h"

namespace services {

using Repo = db::ExportRepository;

namespace {

// Rows per query: each page is one buffered result set, so this times the largest
// record bounds the memory a page takes.
constexpr int kPageRows = 500;
// CSV text is handed to the deflater in pieces of about this size.
constexpr size_t kFlushBytes = 64 * 1024;
// A Parquet row group is written out when its buffered values pass this size, so
// one form type's file takes about this much memory (twice, at worst, while the
// buffers grow), whatever its length.
constexpr size_t kRowGroupBytes = 8u << 20;

}  // namespace

DataExport::DataExport(db::Database& db, domain::ExportFormat format, domain::ExportFilter filter, int64_t started_ms)
    : snapshot_(db), format_(format), filter_(std::move(filter)), started_ms_(started_ms) {}

std::string DataExport::export_file_name(domain::ExportFormat format, int64_t started_ms) {
    std::string t = core::rfc3339(started_ms / 1000);  // 2026-12-02T10:45:00Z
    std::string compact;
    for (char c : t)
        if (c != '-' && c != ':') compact += c;
    return "synkronus-export-" + compact + (format == domain::ExportFormat::parquet ? "-parquet" : "") + ".zip";
}

size_t DataExport::first_pass(const std::string& type, const std::function<void(std::string_view)>& fn) {
    size_t rows = 0;
    for (auto after = db::ExportCursor::start(filter_);;) {
        db::ExportPage page;
        snapshot_.read([&](db::Tx& tx) { page = Repo(tx).data_page(type, filter_, after, kPageRows, fn); });
        if (page.rows == 0) break;
        rows += page.rows;
        after = page.last;
    }
    return rows;
}

void DataExport::write_csv(core::ZipStreamWriter& zip, const std::string& type, const std::string& name) {
    std::set<std::string> column_set;
    if (first_pass(type, [&](std::string_view data) { domain::collect_data_columns(data, column_set); }) == 0) return;
    const std::vector<std::string> columns(column_set.begin(), column_set.end());
    column_set.clear();

    zip.begin_entry(name);
    std::string csv;
    domain::append_header_row(csv, columns);
    for (auto after = db::ExportCursor::start(filter_);;) {
        db::ExportPage page;
        snapshot_.read([&](db::Tx& tx) {
            page = Repo(tx).record_page(type, filter_, after, kPageRows, [&](const domain::ExportRecord& r) {
                domain::append_record_row(csv, r, columns);
                if (csv.size() >= kFlushBytes) {
                    zip.write(csv);
                    csv.clear();
                }
            });
        });
        if (page.rows == 0) break;
        after = page.last;
    }
    zip.write(csv);
    zip.end_entry();
}

void DataExport::write_parquet(core::ZipStreamWriter& zip, const std::string& type, const std::string& name) {
    domain::ParquetLayout layout;
    if (first_pass(type, [&](std::string_view data) { layout.observe(data); }) == 0) return;
    zip.begin_entry(name);
    core::parquet::Writer w([&](std::string_view bytes) { zip.write(bytes); }, layout.columns(), kRowGroupBytes);
    for (auto after = db::ExportCursor::start(filter_);;) {
        db::ExportPage page;
        snapshot_.read([&](db::Tx& tx) {
            page = Repo(tx).record_page(type, filter_, after, kPageRows,
                                        [&](const domain::ExportRecord& r) { layout.write_row(w, type, r); });
        });
        if (page.rows == 0) break;
        after = page.last;
    }
    w.finish();
    zip.end_entry();
}

// Why the file is consistent: every read below runs in the one read view that
// the db::Snapshot opened, so the first pass sees exactly the rows the second pass
// writes (no column missing from the header, no row torn by a push that commits
// meanwhile), and the keyset cursor cannot skip or repeat a record that a push moves
// to a higher change_id, because in this view it has not moved. The price: InnoDB
// keeps the undo history of that view until the export ends (the purge waits).
void DataExport::write_zip(const core::ZipStreamWriter::Sink& sink) {
    core::ZipStreamWriter zip(sink, started_ms_ / 1000);
    const bool parquet = format_ == domain::ExportFormat::parquet;
    domain::ExportFileNamer namer(parquet ? ".parquet" : ".csv");
    auto one_type = [&](const std::string& type) {
        // Named even when the filter leaves the type empty, so names do not depend on the filter.
        const std::string name = namer.name_for(type);
        if (parquet) write_parquet(zip, type, name);
        else write_csv(zip, type, name);
    };
    if (!filter_.form_types.empty()) {
        for (const auto& type : filter_.form_types) one_type(type);
    } else {
        std::optional<std::string> type;
        auto next_type = [&] {
            snapshot_.read([&](db::Tx& tx) { type = Repo(tx).next_form_type(type); });
            return type.has_value();
        };
        while (next_type()) one_type(*type);
    }
    // The snapshot ends before the last bytes go out: a failure to end it is still
    // reported as a cut-off archive, never as a complete one.
    snapshot_.end();
    zip.finish();
}

namespace {

// The one place an export is recorded in the audit log.
void audit_export(db::Tx& tx, const Actor& by, domain::ExportFormat format, const domain::ExportFilter& filter) {
    audit(tx, by, std::string("export.") + domain::format_name(format), "",
          domain::AuditDetail().add("filter", filter.to_json()));
}

}  // namespace

std::unique_ptr<DataExport> ExportService::start(domain::ExportFormat format, domain::ExportFilter filter) {
    return std::make_unique<DataExport>(db_, format, std::move(filter), core::unix_now_ms());
}

std::unique_ptr<DataExport> ExportService::begin(domain::ExportFormat format, domain::ExportFilter filter,
                                                 const Actor& by) {
    // Audited before the snapshot opens, in its own commit: the event is that the data
    // was asked for and began to leave (CONTRACT §8, a security event). An export cut off
    // part-way has still sent rows, so it stays in the log; one audited only at its end
    // would leave no trace of a download interrupted on purpose.
    db_.run([&](db::Tx& tx) { audit_export(tx, by, format, filter); });
    return start(format, std::move(filter));
}

ExportLink ExportService::create_link(const domain::LinkRequest& req, const Actor& by) {
    ExportLink link{core::base64url_encode(core::random_bytes(32)), core::unix_now() + kLinkLifetimeS};
    db_.transaction([&](db::Tx& tx) {
        Repo(tx).insert_link(core::sha256_hex(link.token), domain::format_name(req.format), req.filter.to_json(),
                             by.name, link.expires_at);
        audit_export(tx, by, req.format, req.filter);
    });
    return link;
}

namespace {

// Anything but a token of ours is not looked up at all.
bool token_shaped(const std::string& token) {
    return token.size() == 43 &&
           token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == std::string::npos;
}

}  // namespace

std::optional<domain::ExportFormat> ExportService::peek_link(const std::string& token) {
    if (!token_shaped(token)) return std::nullopt;
    auto stored = run_with<Repo>(db_, [&](Repo& repo) { return repo.find_link(core::sha256_hex(token)); });
    if (!stored || !stored->usable) return std::nullopt;
    return domain::stored_link(stored->format, stored->params).format;
}

std::unique_ptr<DataExport> ExportService::begin_from_link(const std::string& token) {
    if (!token_shaped(token)) return nullptr;
    const std::string hash = core::sha256_hex(token);
    // The claim and the read of what it claimed are one transaction: a connection lost
    // before its COMMIT rolled the claim back, so the rerun that Database::transaction
    // makes then is safe; one lost during COMMIT is not rerun (the outcome is unknown,
    // and a claim that may have committed must not be answered as unused twice).
    std::optional<Repo::StoredLink> stored;
    db_.transaction([&](db::Tx& tx) {
        Repo repo(tx);
        stored.reset();
        if (repo.claim_link(hash)) stored = repo.find_link(hash);
    });
    if (!stored) return nullptr;
    auto req = domain::stored_link(stored->format, stored->params);
    return start(req.format, std::move(req.filter));
}


}  // namespace services
