#include "domain/bundle_zip.h"

#include "core/json.h"

#include "core/crypto.h"
#include "core/files.h"
#include "core/utf8.h"
#include "domain/path_rules.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>

#include <rapidjson/error/en.h>

namespace domain {

namespace {

constexpr size_t kMaxFormJsonDepth = 128;
constexpr size_t kChunk = 64 * 1024;

const std::set<std::string, std::less<>> kBuiltinRenderers = {
    "text", "number", "integer", "boolean", "date", "time", "datetime", "range", "select",
    "combo", "radio", "checkbox", "toggle", "group", "categorization", "category",
    "multiselect", "textarea", "slider", "rating", "builtin-text", "image", "signature",
    "audio", "video", "file", "qrcode",
};

struct ArchiveCloser {
    void operator()(zip_t* za) const { zip_discard(za); }
};
using Archive = std::unique_ptr<zip_t, ArchiveCloser>;

struct EntryCloser {
    void operator()(zip_file_t* zf) const { zip_fclose(zf); }
};
using EntryReader = std::unique_ptr<zip_file_t, EntryCloser>;

class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    Fd& operator=(Fd&& o) noexcept {
        std::swap(fd_, o.fd_);
        return *this;
    }
    int get() const { return fd_; }

private:
    int fd_;
};

// Names go into a problem+json detail, so the bytes that cannot appear there
// readably (controls, and anything of a name that is not UTF-8) become '?'.
std::string printable(std::string_view name) {
    const bool utf8 = core::utf8_valid(name);
    std::string out;
    out.reserve(name.size());
    for (unsigned char c : name) {
        if (c < 0x20 || c == 0x7f || (!utf8 && c >= 0x80))
            out += '?';
        else
            out += static_cast<char>(c);
    }
    return out;
}

[[noreturn]] void refuse(std::string_view name, const std::string& reason) {
    std::string shown = printable(name);
    throw BundleError("Bundle entry \"" + shown + "\" " + reason, shown);
}

bool is_directory_name(std::string_view name) { return !name.empty() && name.back() == '/'; }

// The name rules that keep extraction inside dest_dir and the name usable as a URL
// path and a JSON string. Applied to every entry, ignored ones included, so a
// refusal never depends on which entries happen to be skipped.
void check_name(std::string_view name, const BundleLimits& limits) {
    if (name.empty()) refuse(name, "has an empty name");
    if (has_control_character(name)) refuse(name, "has a control character in its name");
    if (name.size() > limits.max_name_bytes)
        refuse(name, "has a name longer than " + std::to_string(limits.max_name_bytes) + " bytes");
    if (!core::utf8_valid(name)) refuse(name, "has a name that is not valid UTF-8");
    if (name.find('\\') != std::string_view::npos) refuse(name, "has a backslash in its name");
    if (name.front() == '/') refuse(name, "has an absolute name");
    if (name.size() >= 2 && name[1] == ':' &&
        ((name[0] >= 'A' && name[0] <= 'Z') || (name[0] >= 'a' && name[0] <= 'z')))
        refuse(name, "has a drive letter in its name");
    std::string_view body = is_directory_name(name) ? name.substr(0, name.size() - 1) : name;
    if (auto seg = bad_segment(body)) {
        if (seg->empty()) refuse(name, "has an empty path segment");
        refuse(name, "has a \"" + std::string(*seg) + "\" path segment");
    }
}

enum class Kind { app, schema, ui, renderer };

struct Entry {
    zip_uint64_t index;
    std::string name;
    uint64_t size;
    uint64_t comp_size;
    Kind kind;
    std::string owner;  // form or renderer name
};

// Classifies a regular, non-ignored entry by the contract's layout rules.
Entry classify(zip_uint64_t index, const std::string& name, const zip_stat_t& st) {
    auto segs = split_segments(name);
    Entry e{index, name, st.size, st.comp_size, Kind::app, {}};
    if (segs[0] == "app" && segs.size() >= 2) return e;
    if (segs[0] == "forms") {
        if (segs.size() == 3 && (segs[2] == "schema.json" || segs[2] == "ui.json")) {
            e.kind = segs[2] == "schema.json" ? Kind::schema : Kind::ui;
            e.owner = std::string(segs[1]);
            return e;
        }
        refuse(name, "is not allowed: forms/ holds only forms/<name>/schema.json and forms/<name>/ui.json");
    }
    if (segs[0] == "renderers") {
        if (segs.size() == 3 && segs[2] == "renderer.jsx") {
            e.kind = Kind::renderer;
            e.owner = std::string(segs[1]);
            return e;
        }
        refuse(name, "is not allowed: renderers/ holds only renderers/<name>/renderer.jsx");
    }
    refuse(name, "lies outside app/, forms/ and renderers/");
}

bool exceeds_ratio(uint64_t size, uint64_t comp_size, const BundleLimits& limits) {
    if (size <= limits.ratio_floor) return false;
    uint64_t comp = std::max<uint64_t>(comp_size, 1);
    if (comp > std::numeric_limits<uint64_t>::max() / limits.max_ratio) return false;
    return size > comp * limits.max_ratio;
}

// Opens with consistency checks. libzip refuses duplicate names at open time under
// ZIP_CHECKCONS without saying which; a second, lenient open finds the name so the
// client is told which entry to fix.
Archive open_archive(const std::string& zip_path) {
    struct stat sb;
    if (::stat(zip_path.c_str(), &sb) != 0)
        throw std::runtime_error("cannot stat uploaded bundle: " + std::string(std::strerror(errno)));
    if (sb.st_size == 0) throw BundleError("The upload is empty, not a ZIP archive");

    int err = 0;
    zip_t* za = zip_open(zip_path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &err);
    if (za) return Archive(za);

    if (err == ZIP_ER_EXISTS || err == ZIP_ER_INCONS) {
        int err2 = 0;
        Archive loose(zip_open(zip_path.c_str(), ZIP_RDONLY, &err2));
        if (loose) {
            std::set<std::string> seen;
            zip_int64_t n = zip_get_num_entries(loose.get(), 0);
            for (zip_int64_t i = 0; i < n; ++i) {
                const char* name = zip_get_name(loose.get(), static_cast<zip_uint64_t>(i), ZIP_FL_ENC_RAW);
                if (name && !seen.insert(name).second) refuse(name, "appears more than once");
            }
        }
    }
    switch (err) {
    case ZIP_ER_OPEN:
    case ZIP_ER_MEMORY:
    case ZIP_ER_TMPOPEN: {
        zip_error_t ze;
        zip_error_init_with_code(&ze, err);
        std::string text = zip_error_strerror(&ze);
        zip_error_fini(&ze);
        throw std::runtime_error("cannot open uploaded bundle: " + text);
    }
    case ZIP_ER_NOZIP:
        throw BundleError("The upload is not a ZIP archive, or it is truncated");
    case ZIP_ER_MULTIDISK:
        throw BundleError("Split (multi-disk) ZIP archives are not supported");
    default:
        throw BundleError("The ZIP archive is corrupt or truncated");
    }
}

zip_stat_t stat_entry(zip_t* za, zip_uint64_t index, const std::string& name) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(za, index, ZIP_FL_ENC_RAW, &st) != 0) refuse(name, "cannot be read");
    const zip_uint64_t needed = ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD |
                                ZIP_STAT_ENCRYPTION_METHOD;
    if ((st.valid & needed) != needed) refuse(name, "has an incomplete header");
    return st;
}

// Unix external attributes say symlink, fifo, device...; other systems (DOS, NTFS)
// cannot mark an entry as a link, so the name alone decides there.
void check_file_type(zip_t* za, zip_uint64_t index, const std::string& name) {
    zip_uint8_t opsys = 0;
    zip_uint32_t attr = 0;
    if (zip_file_get_external_attributes(za, index, 0, &opsys, &attr) != 0) refuse(name, "cannot be read");
    if (opsys != ZIP_OPSYS_UNIX) return;
    const mode_t type = static_cast<mode_t>(attr >> 16) & S_IFMT;
    if (type == 0 || type == S_IFREG) {
        return;  // 0: tools that leave the mode out
    } else if (type == S_IFDIR) {
        if (!is_directory_name(name)) refuse(name, "is a directory whose name does not end in /");
    } else if (type == S_IFLNK) {
        refuse(name, "is a symbolic link");
    } else {
        refuse(name, "is not a regular file or directory");
    }
}

// Streams one entry's decompressed bytes to `sink`, counting what really comes
// out: a header that understates the size must not get past the limits.
template <typename Sink>
void read_entry(zip_t* za, const Entry& e, uint64_t& total, const BundleLimits& limits, Sink&& sink) {
    EntryReader zf(zip_fopen_index(za, e.index, 0));
    if (!zf) {
        int code = zip_error_code_zip(zip_get_error(za));
        if (code == ZIP_ER_COMPNOTSUPP) refuse(e.name, "uses an unsupported compression method");
        if (code == ZIP_ER_NOPASSWD || code == ZIP_ER_ENCRNOTSUPP) refuse(e.name, "is encrypted");
        refuse(e.name, "cannot be read: the archive is corrupt");
    }
    std::string buf(kChunk, '\0');
    uint64_t got = 0;
    while (true) {
        zip_int64_t n = zip_fread(zf.get(), buf.data(), buf.size());
        if (n < 0) {
            int code = zip_error_code_zip(zip_file_get_error(zf.get()));
            if (code == ZIP_ER_CRC) refuse(e.name, "fails its CRC check: the archive is corrupt");
            if (code == ZIP_ER_INCONS) refuse(e.name, "does not match its declared size: the archive is corrupt");
            refuse(e.name, "cannot be decompressed: the archive is corrupt");
        }
        if (n == 0) break;
        got += static_cast<uint64_t>(n);
        total += static_cast<uint64_t>(n);
        if (got > e.size) refuse(e.name, "expands beyond the size its header declares");
        if (total > limits.max_total_uncompressed)
            refuse(e.name, "takes the bundle over " + std::to_string(limits.max_total_uncompressed) +
                               " bytes uncompressed");
        if (exceeds_ratio(got, e.comp_size, limits))
            refuse(e.name, "expands more than " + std::to_string(limits.max_ratio) + "-fold");
        sink(buf.data(), static_cast<size_t>(n));
    }
    if (got != e.size) refuse(e.name, "is shorter than its header declares: the archive is corrupt");
}

std::string read_entry_text(zip_t* za, const Entry& e, uint64_t& total, const BundleLimits& limits) {
    if (e.size > limits.max_json_bytes)
        refuse(e.name, "is larger than " + std::to_string(limits.max_json_bytes) + " bytes");
    std::string text;
    text.reserve(static_cast<size_t>(e.size));
    read_entry(za, e, total, limits, [&](const char* p, size_t n) { text.append(p, n); });
    return text;
}

void check_renderers(const Entry& schema_entry, const rapidjson::Value& schema,
                     const std::set<std::string>& bundled) {
    std::vector<const rapidjson::Value*> todo{&schema};
    while (!todo.empty()) {
        const rapidjson::Value* v = todo.back();
        todo.pop_back();
        if (v->IsArray()) {
            for (const auto& item : v->GetArray()) todo.push_back(&item);
        } else if (v->IsObject()) {
            for (const auto& m : v->GetObject()) {
                std::string_view key(m.name.GetString(), m.name.GetStringLength());
                if ((key == "x-renderer" || key == "rendererType") && m.value.IsString()) {
                    std::string ref(m.value.GetString(), m.value.GetStringLength());
                    if (!bundled.count(ref) && !kBuiltinRenderers.count(ref))
                        refuse(schema_entry.name, "refers to renderer \"" + printable(ref) +
                                                      "\", which is neither bundled nor built in");
                }
                todo.push_back(&m.value);
            }
        }
    }
}

std::string_view strip_bom(std::string_view text) {
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
    return text;
}

// Counted on the text, so nothing too deep is ever built.
bool nesting_within_limit(std::string_view text) { return core::json_depth(text) <= kMaxFormJsonDepth; }

constexpr unsigned kJsonFlags = rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag;

// parse_form_json with reasons for the client.
rapidjson::Document parse_object_entry(const Entry& e, std::string_view text) {
    text = strip_bom(text);
    if (!nesting_within_limit(text))
        refuse(e.name, "nests deeper than " + std::to_string(kMaxFormJsonDepth) + " levels");
    rapidjson::Document doc;
    doc.Parse<kJsonFlags>(text.data(), text.size());
    if (doc.HasParseError())
        refuse(e.name, "is not valid JSON (at byte " + std::to_string(doc.GetErrorOffset()) + ": " +
                           rapidjson::GetParseError_En(doc.GetParseError()) + ")");
    if (!doc.IsObject()) refuse(e.name, "must be a JSON object");
    return doc;
}

// Walks from dest_dir to the entry's parent with openat, creating directories on
// the way and never following a symlink, so no name can lead outside dest_dir.
Fd open_parent(int root, const std::string& name) {
    auto segs = split_segments(name);
    Fd dir(::dup(root));
    if (dir.get() < 0) throw std::runtime_error(std::string("dup: ") + std::strerror(errno));
    for (size_t i = 0; i + 1 < segs.size(); ++i) {
        std::string seg(segs[i]);
        bool created = ::mkdirat(dir.get(), seg.c_str(), 0755) == 0;
        if (!created && errno != EEXIST)
            core::throw_errno("creating directory for " + name);
        Fd next(::openat(dir.get(), seg.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (next.get() < 0)
            throw std::runtime_error("opening directory for " + name + ": " + std::strerror(errno));
        if (created) ::fchmod(next.get(), 0755);  // the umask must not decide what nginx can read
        dir = std::move(next);
    }
    return dir;
}

Fd create_file(int root, const std::string& name) {
    Fd parent = open_parent(root, name);
    std::string leaf(split_segments(name).back());
    Fd fd(::openat(parent.get(), leaf.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (fd.get() < 0) core::throw_errno("creating bundle file " + name);
    ::fchmod(fd.get(), 0644);
    return fd;
}

}  // namespace

std::optional<rapidjson::Document> parse_form_json(std::string_view text) {
    text = strip_bom(text);
    if (!nesting_within_limit(text)) return std::nullopt;
    rapidjson::Document doc;
    doc.Parse<kJsonFlags>(text.data(), text.size());
    if (doc.HasParseError()) return std::nullopt;
    return doc;
}

ExtractedBundle extract_bundle(const std::string& zip_path, const std::string& dest_dir,
                               const BundleLimits& limits) {
    Archive za = open_archive(zip_path);
    const zip_int64_t count = zip_get_num_entries(za.get(), 0);
    if (count < 0) throw BundleError("The ZIP archive is corrupt or truncated");
    if (static_cast<uint64_t>(count) > limits.max_entries)
        throw BundleError("The bundle has " + std::to_string(count) + " entries; at most " +
                          std::to_string(limits.max_entries) + " are allowed");

    // Pass 1: every entry's metadata, before a single byte is decompressed or written.
    std::vector<Entry> entries;
    std::set<std::string> names;
    uint64_t declared_total = 0;
    for (zip_uint64_t i = 0; i < static_cast<zip_uint64_t>(count); ++i) {
        const char* raw = zip_get_name(za.get(), i, ZIP_FL_ENC_RAW);
        if (!raw) throw BundleError("The ZIP archive is corrupt or truncated");
        // Raw bytes, held to strict UTF-8, instead of libzip's CP437 guess: a guessed
        // name would not match the references in the app's own code. A NUL inside a
        // name never reaches us as such (libzip 1.7 turns it into a space; names are
        // C strings), and the name checked here is the name written.
        std::string name = raw;
        check_name(name, limits);
        if (!names.insert(name).second) refuse(name, "appears more than once");
        zip_stat_t st = stat_entry(za.get(), i, name);
        check_file_type(za.get(), i, name);
        if (st.encryption_method != ZIP_EM_NONE) refuse(name, "is encrypted");
        if (st.size > limits.max_total_uncompressed - declared_total)
            refuse(name, "takes the bundle over " + std::to_string(limits.max_total_uncompressed) +
                             " bytes uncompressed");
        declared_total += st.size;
        if (exceeds_ratio(st.size, st.comp_size, limits))
            refuse(name, "expands more than " + std::to_string(limits.max_ratio) + "-fold");

        auto segs = split_segments(name);
        if (segs.front() == "__MACOSX" || segs.back() == ".DS_Store") continue;  // Finder litter
        if (is_directory_name(name)) continue;  // implied by the files' paths
        if (!zip_compression_method_supported(static_cast<zip_int32_t>(st.comp_method), 0))
            refuse(name, "uses an unsupported compression method");
        entries.push_back(classify(i, name, st));
    }

    // A file that is also another file's directory could not be extracted.
    std::set<std::string> files;
    for (const auto& e : entries) files.insert(e.name);
    for (const auto& e : entries)
        for (size_t slash = e.name.find('/'); slash != std::string::npos; slash = e.name.find('/', slash + 1))
            if (files.count(e.name.substr(0, slash)))
                refuse(e.name, "lies under \"" + e.name.substr(0, slash) + "\", which is a file");

    if (!files.count("app/index.html")) refuse("app/index.html", "is missing: every bundle needs one");

    ExtractedBundle out;
    std::map<std::string, const Entry*> schemas, uis;
    for (const auto& e : entries) {
        if (e.kind == Kind::renderer) out.renderers.insert(e.owner);
        if (e.kind == Kind::schema) schemas[e.owner] = &e;
        if (e.kind == Kind::ui) uis[e.owner] = &e;
    }
    const std::string pair_rule = "is missing: every form needs schema.json and ui.json";
    for (const auto& [form, e] : schemas)
        if (!uis.count(form)) refuse("forms/" + form + "/ui.json", pair_rule);
    for (const auto& [form, e] : uis)
        if (!schemas.count(form)) refuse("forms/" + form + "/schema.json", pair_rule);

    // Pass 2: the form files are read and checked in memory, still before writing.
    uint64_t total = 0;
    for (const auto& [form, schema_entry] : schemas) {
        const Entry* ui_entry = uis.at(form);
        FormDef def{read_entry_text(za.get(), *schema_entry, total, limits),
                    read_entry_text(za.get(), *ui_entry, total, limits)};
        rapidjson::Document schema = parse_object_entry(*schema_entry, def.schema_json);
        parse_object_entry(*ui_entry, def.ui_json);
        check_renderers(*schema_entry, schema, out.renderers);
        out.forms.emplace(form, std::move(def));
    }

    // Pass 3: extraction.
    Fd root(::open(dest_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (root.get() < 0)
        throw std::runtime_error("opening bundle directory: " + std::string(std::strerror(errno)));
    for (const auto& e : entries) {
        Fd fd = create_file(root.get(), e.name);
        core::Sha256 sha;
        auto sink = [&](const char* p, size_t n) {
            sha.update(p, n);
            core::write_all(fd.get(), p, n, "bundle file " + e.name);
        };
        if (e.kind == Kind::schema || e.kind == Kind::ui) {
            const FormDef& def = out.forms.at(e.owner);
            const std::string& text = e.kind == Kind::schema ? def.schema_json : def.ui_json;
            sink(text.data(), text.size());
        } else {
            read_entry(za.get(), e, total, limits, sink);
        }
        out.files.push_back({e.name, e.size, sha.final_hex()});
    }
    // std::string's operator< compares as unsigned char: bytewise, as the manifest needs.
    std::sort(out.files.begin(), out.files.end(),
              [](const BundleFile& a, const BundleFile& b) { return a.path < b.path; });
    return out;
}

}  // namespace domain
