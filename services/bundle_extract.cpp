// Reading an app bundle ZIP with libzip and writing its files: the I/O around the
// rules of domain/bundle_zip.h, which decide what is refused.
#include "services/bundle_extract.h"

#include "core/crypto.h"
#include "core/files.h"
#include "domain/path_rules.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

namespace services {

using domain::BundleError;
using domain::BundleLimits;
using domain::EntryKind;
using domain::refuse_entry;

namespace {

constexpr size_t kChunk = 64 * 1024;

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

struct Entry {
    zip_uint64_t index;
    std::string name;
    uint64_t size;
    uint64_t comp_size;
    domain::EntryRole role;
};

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
                if (name && !seen.insert(name).second) refuse_entry(name, "appears more than once");
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
    if (zip_stat_index(za, index, ZIP_FL_ENC_RAW, &st) != 0) refuse_entry(name, "cannot be read");
    const zip_uint64_t needed = ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD |
                                ZIP_STAT_ENCRYPTION_METHOD;
    if ((st.valid & needed) != needed) refuse_entry(name, "has an incomplete header");
    return st;
}

// Unix external attributes say symlink, fifo, device...; other systems (DOS, NTFS)
// cannot mark an entry as a link, so the name alone decides there.
void check_file_type(zip_t* za, zip_uint64_t index, const std::string& name) {
    zip_uint8_t opsys = 0;
    zip_uint32_t attr = 0;
    if (zip_file_get_external_attributes(za, index, 0, &opsys, &attr) != 0) refuse_entry(name, "cannot be read");
    if (opsys != ZIP_OPSYS_UNIX) return;
    const mode_t type = static_cast<mode_t>(attr >> 16) & S_IFMT;
    if (type == 0 || type == S_IFREG) {
        return;  // 0: tools that leave the mode out
    } else if (type == S_IFDIR) {
        if (!domain::is_directory_entry(name)) refuse_entry(name, "is a directory whose name does not end in /");
    } else if (type == S_IFLNK) {
        refuse_entry(name, "is a symbolic link");
    } else {
        refuse_entry(name, "is not a regular file or directory");
    }
}

// Streams one entry's decompressed bytes to `sink`, counting what really comes
// out: a header that understates the size must not get past the limits.
template <typename Sink>
void read_entry(zip_t* za, const Entry& e, uint64_t& total, const BundleLimits& limits, Sink&& sink) {
    EntryReader zf(zip_fopen_index(za, e.index, 0));
    if (!zf) {
        int code = zip_error_code_zip(zip_get_error(za));
        if (code == ZIP_ER_COMPNOTSUPP) refuse_entry(e.name, "uses an unsupported compression method");
        if (code == ZIP_ER_NOPASSWD || code == ZIP_ER_ENCRNOTSUPP) refuse_entry(e.name, "is encrypted");
        refuse_entry(e.name, "cannot be read: the archive is corrupt");
    }
    std::string buf(kChunk, '\0');
    uint64_t got = 0;
    while (true) {
        zip_int64_t n = zip_fread(zf.get(), buf.data(), buf.size());
        if (n < 0) {
            int code = zip_error_code_zip(zip_file_get_error(zf.get()));
            if (code == ZIP_ER_CRC) refuse_entry(e.name, "fails its CRC check: the archive is corrupt");
            if (code == ZIP_ER_INCONS) refuse_entry(e.name, "does not match its declared size: the archive is corrupt");
            refuse_entry(e.name, "cannot be decompressed: the archive is corrupt");
        }
        if (n == 0) break;
        got += static_cast<uint64_t>(n);
        total += static_cast<uint64_t>(n);
        if (got > e.size) refuse_entry(e.name, "expands beyond the size its header declares");
        if (total > limits.max_total_uncompressed)
            refuse_entry(e.name, "takes the bundle over " + std::to_string(limits.max_total_uncompressed) +
                               " bytes uncompressed");
        if (domain::exceeds_ratio(got, e.comp_size, limits))
            refuse_entry(e.name, "expands more than " + std::to_string(limits.max_ratio) + "-fold");
        sink(buf.data(), static_cast<size_t>(n));
    }
    if (got != e.size) refuse_entry(e.name, "is shorter than its header declares: the archive is corrupt");
}

std::string read_entry_text(zip_t* za, const Entry& e, uint64_t& total, const BundleLimits& limits) {
    if (e.size > limits.max_json_bytes)
        refuse_entry(e.name, "is larger than " + std::to_string(limits.max_json_bytes) + " bytes");
    std::string text;
    text.reserve(static_cast<size_t>(e.size));
    read_entry(za, e, total, limits, [&](const char* p, size_t n) { text.append(p, n); });
    return text;
}

// Walks from dest_dir to the entry's parent with openat, creating directories on
// the way and never following a symlink, so no name can lead outside dest_dir.
Fd open_parent(int root, const std::string& name) {
    auto segs = domain::split_segments(name);
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
    std::string leaf(domain::split_segments(name).back());
    Fd fd(::openat(parent.get(), leaf.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (fd.get() < 0) core::throw_errno("creating bundle file " + name);
    ::fchmod(fd.get(), 0644);
    return fd;
}

}  // namespace

domain::ExtractedBundle extract_bundle(const std::string& zip_path, const std::string& dest_dir,
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
        domain::check_entry_name(name, limits);
        if (!names.insert(name).second) refuse_entry(name, "appears more than once");
        zip_stat_t st = stat_entry(za.get(), i, name);
        check_file_type(za.get(), i, name);
        if (st.encryption_method != ZIP_EM_NONE) refuse_entry(name, "is encrypted");
        if (st.size > limits.max_total_uncompressed - declared_total)
            refuse_entry(name, "takes the bundle over " + std::to_string(limits.max_total_uncompressed) +
                             " bytes uncompressed");
        declared_total += st.size;
        if (domain::exceeds_ratio(st.size, st.comp_size, limits))
            refuse_entry(name, "expands more than " + std::to_string(limits.max_ratio) + "-fold");

        if (domain::is_ignored_entry(name)) continue;
        if (domain::is_directory_entry(name)) continue;  // implied by the files' paths
        if (!zip_compression_method_supported(static_cast<zip_int32_t>(st.comp_method), 0))
            refuse_entry(name, "uses an unsupported compression method");
        entries.push_back(Entry{i, name, st.size, st.comp_size, domain::classify_entry(name)});
    }
    {
        std::vector<std::pair<std::string, domain::EntryRole>> files;
        for (const auto& e : entries) files.emplace_back(e.name, e.role);
        domain::check_bundle_layout(files);
    }

    domain::ExtractedBundle out;
    std::map<std::string, const Entry*> schemas, uis;
    for (const auto& e : entries) {
        if (e.role.kind == EntryKind::renderer) out.renderers.insert(e.role.owner);
        if (e.role.kind == EntryKind::schema) schemas[e.role.owner] = &e;
        if (e.role.kind == EntryKind::ui) uis[e.role.owner] = &e;
    }

    // Pass 2: the form files are read and checked in memory, still before writing.
    uint64_t total = 0;
    for (const auto& [form, schema_entry] : schemas) {
        const Entry* ui_entry = uis.at(form);
        domain::FormDef def{read_entry_text(za.get(), *schema_entry, total, limits),
                            read_entry_text(za.get(), *ui_entry, total, limits)};
        rapidjson::Document schema = domain::parse_form_entry(schema_entry->name, def.schema_json);
        domain::parse_form_entry(ui_entry->name, def.ui_json);
        domain::check_form_renderers(schema_entry->name, schema, out.renderers);
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
        if (e.role.kind == EntryKind::schema || e.role.kind == EntryKind::ui) {
            const domain::FormDef& def = out.forms.at(e.role.owner);
            const std::string& text = e.role.kind == EntryKind::schema ? def.schema_json : def.ui_json;
            sink(text.data(), text.size());
        } else {
            read_entry(za.get(), e, total, limits, sink);
        }
        out.files.push_back({e.name, e.size, sha.final_hex()});
    }
    // std::string's operator< compares as unsigned char: bytewise, as the manifest needs.
    std::sort(out.files.begin(), out.files.end(),
              [](const domain::BundleFile& a, const domain::BundleFile& b) { return a.path < b.path; });
    return out;
}

namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path.string());
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

std::map<std::string, domain::FormDef> read_forms_from_dir(const std::string& version_dir) {
    std::map<std::string, domain::FormDef> forms;
    const fs::path root = fs::path(version_dir) / "forms";
    std::error_code ec;
    if (!fs::is_directory(fs::symlink_status(root, ec))) return forms;
    for (const auto& entry : fs::directory_iterator(root)) {
        if (!fs::is_directory(entry.symlink_status())) continue;
        const std::string name = entry.path().filename().string();
        forms[name] = domain::FormDef{read_file(entry.path() / "schema.json"), read_file(entry.path() / "ui.json")};
    }
    return forms;
}

}  // namespace services
