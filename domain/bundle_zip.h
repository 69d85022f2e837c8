// App bundle ZIPs (contract section 4): the rules an uploaded archive is held to.
// No I/O: services/bundle_extract.h reads the archive and writes the files, asking
// these rules at each step; the push handler maps BundleError to a 400 problem.
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

// ---- The rules, applied entry by entry by services::extract_bundle. ----

// An entry name as a problem+json detail may show it: controls (and every byte of
// a name that is not UTF-8) become '?'.
std::string printable_entry_name(std::string_view name);
// Throws BundleError naming the entry.
[[noreturn]] void refuse_entry(std::string_view name, const std::string& reason);
bool is_directory_entry(std::string_view name);
// Finder litter (__MACOSX/..., .DS_Store), skipped once its name passed the checks.
bool is_ignored_entry(std::string_view name);
// The name rules that keep extraction inside the version directory and the name
// usable as a URL path and a JSON string. Applied to every entry, ignored ones
// included, so a refusal never depends on which entries happen to be skipped.
void check_entry_name(std::string_view name, const BundleLimits& limits);
// Whether `size` bytes from `comp_size` compressed ones is a bomb by the limits.
bool exceeds_ratio(uint64_t size, uint64_t comp_size, const BundleLimits& limits);

enum class EntryKind { app, schema, ui, renderer };
struct EntryRole {
    EntryKind kind = EntryKind::app;
    std::string owner;  // the form or renderer name
};
// A regular, non-ignored entry's place in the contract's layout; refuses any other.
EntryRole classify_entry(const std::string& name);
// Once every file is classified: no file is another's directory, app/index.html is
// there, and every form has both its files.
void check_bundle_layout(const std::vector<std::pair<std::string, EntryRole>>& files);
// A form file (schema.json, ui.json): a JSON object within the nesting limit, with
// the reason for the client when it is not.
rapidjson::Document parse_form_entry(const std::string& name, std::string_view text);
// Every renderer the schema names is bundled or built in.
void check_form_renderers(const std::string& schema_name, const rapidjson::Value& schema,
                          const std::set<std::string>& bundled);

// Parses form JSON (schema.json / ui.json) with a nesting limit (128), since
// comparing RapidJSON values recurses and a hostile file must not overflow the stack.
// A leading UTF-8 byte order mark is skipped. nullopt when the text is not valid
// JSON or too deep; the root may be any type.
std::optional<rapidjson::Document> parse_form_json(std::string_view text);

}  // namespace domain
