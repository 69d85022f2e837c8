// The data export (CONTRACT §9): the records a filter takes, as one ZIP of
// per-form-type CSV or Parquet files, from one consistent snapshot, in memory
// bounded by one page of rows (CSV) or one row group (Parquet) of one form type,
// never by the number of records; and the one-time download links to it.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/zip_stream.h"
#include "db/database.h"
#include "domain/export_filter.h"
#include "services/audit.h"

namespace services {

// One export. Made by ExportService::begin, which starts the snapshot, so a
// database error still becomes a problem+json before any byte is sent; the ZIP is
// written later, while the response is being sent.
class DataExport {
public:
    DataExport(db::Database& db, domain::ExportFormat format, domain::ExportFilter filter, int64_t started_ms);
    DataExport(const DataExport&) = delete;
    DataExport& operator=(const DataExport&) = delete;

    // Writes the whole archive to `sink` and ends the snapshot. Each form type's
    // file is made in two passes over the same snapshot: the columns (and, for
    // Parquet, their types) first, then the rows. Throws on any error; the caller
    // must then not present what was written as a complete archive.
    void write_zip(const core::ZipStreamWriter::Sink& sink);
    // "synkronus-export-20261202T104500Z.zip" (CSV), "...Z-parquet.zip" (Parquet)
    std::string file_name() const { return export_file_name(format_, started_ms_); }
    static std::string export_file_name(domain::ExportFormat format, int64_t started_ms);

private:
    void write_csv(core::ZipStreamWriter& zip, const std::string& type, const std::string& name);
    void write_parquet(core::ZipStreamWriter& zip, const std::string& type, const std::string& name);
    // Runs the first pass; returns the number of rows the filter takes.
    size_t first_pass(const std::string& type, const std::function<void(std::string_view)>& fn);

    db::Snapshot snapshot_;  // rolled back by its destructor unless write_zip ended it
    domain::ExportFormat format_;
    domain::ExportFilter filter_;
    int64_t started_ms_;
};

struct ExportLink {
    std::string token;  // the secret part of the URL (base64url of 32 random bytes)
    int64_t expires_at;  // unix seconds
};

class ExportService {
public:
    static constexpr int64_t kLinkLifetimeS = 60;

    explicit ExportService(db::Database& db) : db_(db) {}
    // Records the export in the audit log (export.csv or export.parquet, with the
    // filter), then starts it.
    std::unique_ptr<DataExport> begin(domain::ExportFormat format, domain::ExportFilter filter, const Actor& by);

    // Stores a link (only the SHA-256 of its token) valid for kLinkLifetimeS, with its
    // audit event in the same transaction: the download itself carries no user.
    ExportLink create_link(const domain::LinkRequest& req, const Actor& by);
    // Claims the link and starts its export; nullopt for a token never issued,
    // already used or expired (all three look alike to the caller).
    std::unique_ptr<DataExport> begin_from_link(const std::string& token);
    // Whether the link could be used now, and for which format, without using it
    // (a HEAD request, which link previewers send, must not burn the link).
    std::optional<domain::ExportFormat> peek_link(const std::string& token);

private:
    std::unique_ptr<DataExport> start(domain::ExportFormat format, domain::ExportFilter filter);
    db::Database& db_;
};

}  // namespace services
