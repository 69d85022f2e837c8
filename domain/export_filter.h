// Which records an export holds (CONTRACT §9): form_type (repeatable), changed_after,
// changed_before (RFC 3339, on synced_at, both exclusive), deleted=false (leave
// tombstones out). The same filter comes from a query string, from the body of
// POST /dataexport/links, and from a stored link; each refuses bad values with an
// InvalidInput naming the field. No HTTP and no SQL here.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

namespace domain {

struct ExportFilter {
    std::vector<std::string> form_types;  // sorted, unique; empty: every form type
    // Bounds as MariaDB DATETIME(3) text in UTC ("2026-12-06 10:00:00.123"), the
    // first is exclusive; the defaults take in every stored time.
    std::string synced_after = "1000-01-01 00:00:00.000";
    std::string synced_before = "9999-12-31 23:59:59.999";
    bool include_deleted = true;

    // The filter's own JSON (stored with a link; read back by filter_from_json).
    std::string to_json() const;
};

struct ExportFilterInput {
    std::vector<std::string> form_types;
    std::optional<std::string> changed_after, changed_before, deleted;  // as given
};

// Throws InvalidInput naming form_type, changed_after, changed_before or deleted.
ExportFilter parse_export_filter(const ExportFilterInput& in);

enum class ExportFormat { csv, parquet };
const char* format_name(ExportFormat f);

struct LinkRequest {
    ExportFormat format;
    ExportFilter filter;
};
// The body of POST /dataexport/links: {format ("csv"|"parquet"), form_type (a
// string or an array of strings), changed_after, changed_before (strings),
// deleted (boolean)}. Throws InvalidInput naming each bad field.
LinkRequest parse_link_request(const rapidjson::Value& body);
// A stored link's format and params (written by this code; throws ExportError if not).
LinkRequest stored_link(std::string_view format, std::string_view params_json);

}  // namespace domain
