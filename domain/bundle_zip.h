// App bundle ZIPs (contract section 4): validation of an uploaded archive and its
// extraction into a version directory. No HTTP, no SQL: the push handler maps
// BundleError to a 400 problem and deletes dest_dir.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <rapidjson/document.h>

#include "domain/content_type.h"

namespace domain {

struct BundleLimits {
    uint64_t max_entries = 10000;
    uint64_t max_total_uncompressed = 512ull << 20;
    uint64_t max_ratio = 200;
    size_t max_name_bytes = 255;
    // Entries up to this size are exempt from the ratio rule: a few KiB of JSON
    // whitespace deflates well over 200-fold yet cannot hurt anyone, while every
    // real bomb is far larger (and the total limit still counts these bytes).
    uint64_t ratio_floor = 64ull << 10;
    // schema.json and ui.json are parsed in memory before anything is written;
    // this keeps a hostile form file from holding hundreds of MiB in a worker.
    uint64_t max_json_bytes = 16ull << 20;
};

// A refused bundle. what() is for the client: it names the entry, never a path
// on the server.
class BundleError : public std::runtime_error {
public:
    explicit BundleError(const std::string& message, std::string entry = {})
        : std::runtime_error(message), entry_(std::move(entry)) {}
    // The offending entry name; empty when the archive as a whole is at fault.
    const std::string& entry() const { return entry_; }

private:
    std::string entry_;
};

struct BundleFile {
    std::string path;  // relative to the version directory, e.g. "app/index.html"
    uint64_t size = 0;
    std::string sha256;  // lowercase hex
};

// Raw text of one form's files, as pushed.
struct FormDef {
    std::string schema_json;
    std::string ui_json;
};

struct ExtractedBundle {
    std::vector<BundleFile> files;  // every extracted file, sorted bytewise by path
    std::map<std::string, FormDef> forms;
    std::set<std::string> renderers;
};

// Validates the ZIP at zip_path against every rule of contract section 4 and only
// then extracts its regular files into dest_dir, which the caller created empty
// and removes again when this throws. Throws BundleError for anything refused.
ExtractedBundle extract_bundle(const std::string& zip_path, const std::string& dest_dir,
                               const BundleLimits& limits = {});

// Parses form JSON (schema.json / ui.json) with a nesting limit (128), since
// comparing RapidJSON values recurses and a hostile file must not overflow the stack.
// A leading UTF-8 byte order mark is skipped. nullopt when the text is not valid
// JSON or too deep; the root may be any type.
std::optional<rapidjson::Document> parse_form_json(std::string_view text);

}  // namespace domain
