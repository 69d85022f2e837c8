// The data export (CONTRACT §7): every record, as one ZIP of per-form-type CSV
// files, from one consistent snapshot, in memory bounded by the number of data
// columns of one form type (never by the number of records).
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "core/zip_stream.h"
#include "db/database.h"

namespace services {

// One export. Made by ExportService::begin_csv, which starts the snapshot, so a
// database error still becomes a problem+json before any byte is sent; the ZIP is
// written later, while the response is being sent.
class CsvExport {
public:
    CsvExport(db::Database& db, int64_t started_ms);
    CsvExport(const CsvExport&) = delete;
    CsvExport& operator=(const CsvExport&) = delete;

    // Writes the whole archive to `sink` and ends the snapshot. Each form type's
    // file is made in two passes over the same snapshot: the data columns first,
    // then the rows. Throws on any error; the caller must then not present what
    // was written as a complete archive.
    void write_zip(const core::ZipStreamWriter::Sink& sink);
    // "synkronus-export-20261202T104500Z.zip"
    std::string file_name() const;

private:
    // Abandoned (rolled back) when the export is dropped unfinished.
    db::Snapshot snapshot_;
    int64_t started_ms_;
};

class ExportService {
public:
    explicit ExportService(db::Database& db) : db_(db) {}
    std::unique_ptr<CsvExport> begin_csv();

private:
    db::Database& db_;
};

}  // namespace services
