// The bundle ZIP corpus is built here, by libzip's writer or by patching its
// output where libzip will not write the hostile thing itself (duplicate names,
// lying sizes, encryption flags).
#include <sys/stat.h>
#include <zip.h>

#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "core/crypto.h"
#include "domain/bundle_zip.h"
#include "services/bundle_extract.h"

namespace fs = std::filesystem;
using domain::BundleError;
using domain::BundleLimits;
using services::extract_bundle;

namespace {

const std::string kIndex = "<!doctype html><title>app</title>";
const std::string kSchema = R"({"type":"object","properties":{"name":{"type":"string"}}})";
const std::string kUi = R"({"type":"VerticalLayout","elements":[]})";

struct TempDir {
    fs::path path;
    TempDir() {
        char tmpl[] = "/tmp/synkronus-bundle-test-XXXXXX";
        BOOST_REQUIRE(::mkdtemp(tmpl));
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

// An in-memory ZIP written with libzip.
class ZipBuilder {
public:
    ZipBuilder() {
        zip_error_t err;
        zip_error_init(&err);
        src_ = zip_source_buffer_create(nullptr, 0, 0, &err);
        BOOST_REQUIRE(src_);
        za_ = zip_open_from_source(src_, ZIP_TRUNCATE, &err);
        BOOST_REQUIRE(za_);
        zip_source_keep(src_);
        zip_error_fini(&err);
    }
    ~ZipBuilder() {
        if (za_) zip_discard(za_);
        zip_source_free(src_);
    }
    ZipBuilder(const ZipBuilder&) = delete;
    ZipBuilder& operator=(const ZipBuilder&) = delete;

    zip_uint64_t add(const std::string& name, const std::string& content, bool store = false) {
        const std::string& kept = contents_.emplace_back(content);  // libzip reads it at zip_close
        zip_source_t* s = zip_source_buffer(za_, kept.data(), kept.size(), 0);
        BOOST_REQUIRE(s);
        zip_int64_t idx = zip_file_add(za_, name.c_str(), s, ZIP_FL_ENC_RAW);
        BOOST_REQUIRE_MESSAGE(idx >= 0, "libzip refused to add " << name << ": " << zip_strerror(za_));
        if (store) zip_set_file_compression(za_, static_cast<zip_uint64_t>(idx), ZIP_CM_STORE, 0);
        return static_cast<zip_uint64_t>(idx);
    }
    ZipBuilder& file(const std::string& name, const std::string& content) {
        add(name, content);
        return *this;
    }
    ZipBuilder& dir(const std::string& name) {
        BOOST_REQUIRE(zip_dir_add(za_, name.c_str(), ZIP_FL_ENC_RAW) >= 0);
        return *this;
    }
    ZipBuilder& form(const std::string& name, const std::string& schema = kSchema, const std::string& ui = kUi) {
        return file("forms/" + name + "/schema.json", schema).file("forms/" + name + "/ui.json", ui);
    }
    void set_unix_mode(zip_uint64_t idx, uint32_t mode) {
        BOOST_REQUIRE(zip_file_set_external_attributes(za_, idx, 0, ZIP_OPSYS_UNIX, mode << 16) == 0);
    }

    std::string bytes() {
        BOOST_REQUIRE_MESSAGE(zip_close(za_) == 0, zip_strerror(za_));
        za_ = nullptr;
        zip_stat_t st;
        BOOST_REQUIRE(zip_source_stat(src_, &st) == 0);
        std::string out(st.size, '\0');
        BOOST_REQUIRE(zip_source_open(src_) == 0);
        BOOST_REQUIRE(zip_source_read(src_, out.data(), out.size()) == static_cast<zip_int64_t>(out.size()));
        zip_source_close(src_);
        return out;
    }

private:
    std::deque<std::string> contents_;
    zip_source_t* src_ = nullptr;
    zip_t* za_ = nullptr;
};

ZipBuilder& with_index(ZipBuilder& z) { return z.file("app/index.html", kIndex); }

void put_u32(std::string& b, size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) b[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
uint16_t get_u16(const std::string& b, size_t at) {
    return static_cast<uint16_t>(static_cast<unsigned char>(b[at]) | static_cast<unsigned char>(b[at + 1]) << 8);
}

// Applies `patch(bytes, header_offset, is_central)` to the local and the central
// header of entry `name`; libzip's consistency check wants both to agree.
template <typename Patch>
void patch_headers(std::string& b, const std::string& name, Patch patch) {
    int patched = 0;
    for (size_t at = 0; at + 46 <= b.size(); ++at) {
        if (b.compare(at, 4, "PK\x03\x04") == 0 && b.compare(at + 30, name.size(), name) == 0 &&
            get_u16(b, at + 26) == name.size()) {
            patch(b, at, false);
            ++patched;
        } else if (b.compare(at, 4, "PK\x01\x02") == 0 && b.compare(at + 46, name.size(), name) == 0 &&
                   get_u16(b, at + 28) == name.size()) {
            patch(b, at, true);
            ++patched;
        }
    }
    BOOST_REQUIRE_EQUAL(patched, 2);
}

// Renames entry `from` to the same-length `to` in both headers.
void rename_entry(std::string& b, const std::string& from, const std::string& to) {
    BOOST_REQUIRE_EQUAL(from.size(), to.size());
    patch_headers(b, from, [&](std::string& bytes, size_t at, bool central) {
        bytes.replace(at + (central ? 46 : 30), to.size(), to);
    });
}

struct Fixture {
    TempDir tmp;
    fs::path zip = tmp.path / "bundle.zip";
    fs::path dest = tmp.path / "out";

    Fixture() { fs::create_directory(dest); }

    domain::ExtractedBundle extract(const std::string& bytes, const BundleLimits& limits = {}) {
        std::ofstream(zip, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        return extract_bundle(zip.string(), dest.string(), limits);
    }

    // Expects a refusal naming `entry`. Unless the data itself lies (which only
    // shows while it is extracted), nothing may have been written yet.
    std::string refused(const std::string& bytes, const std::string& entry, const BundleLimits& limits = {},
                        bool dest_untouched = true) {
        std::string message;
        try {
            extract(bytes, limits);
            BOOST_ERROR("bundle accepted, expected refusal of \"" << entry << "\"");
        } catch (const BundleError& e) {
            message = e.what();
            BOOST_TEST_MESSAGE("refused: " << message);
            BOOST_CHECK_EQUAL(e.entry(), entry);
            if (!entry.empty()) BOOST_CHECK_NE(message.find(entry), std::string::npos);
            BOOST_CHECK_EQUAL(message.find(tmp.path.string()), std::string::npos);
        }
        if (dest_untouched) BOOST_CHECK(fs::is_empty(dest));
        return message;
    }

    // For a second extraction in the same test.
    void reset() {
        fs::remove_all(dest);
        fs::create_directory(dest);
    }

    std::string read(const std::string& rel) {
        std::ifstream in(dest / rel, std::ios::binary);
        std::ostringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
};

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

// Incompressible bytes, so sizes and ratios stay predictable.
std::string noise(size_t n, uint32_t seed = 1) {
    std::string out(n, '\0');
    uint32_t x = seed;
    for (auto& c : out) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        c = static_cast<char>(x);
    }
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(bundle_zip)

BOOST_FIXTURE_TEST_CASE(minimal_bundle_is_extracted, Fixture) {
    ZipBuilder z;
    auto b = extract(with_index(z).bytes());
    BOOST_REQUIRE_EQUAL(b.files.size(), 1u);
    BOOST_CHECK_EQUAL(b.files[0].path, "app/index.html");
    BOOST_CHECK_EQUAL(b.files[0].size, kIndex.size());
    BOOST_CHECK_EQUAL(b.files[0].sha256, core::sha256_hex(kIndex));
    BOOST_CHECK(b.forms.empty());
    BOOST_CHECK(b.renderers.empty());
    BOOST_CHECK_EQUAL(read("app/index.html"), kIndex);
    BOOST_CHECK((fs::status(dest / "app/index.html").permissions() & fs::perms::all) ==
                (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read));
}

BOOST_FIXTURE_TEST_CASE(full_bundle_with_forms_renderers_and_nested_app_files, Fixture) {
    const std::string js = "console.log('hi');";
    const std::string png = noise(3000);
    const std::string jsx = "export default function Map() { return null; }";
    const std::string visit_schema =
        R"({"type":"object","properties":{"where":{"type":"string","x-renderer":"map"}}})";
    ZipBuilder z;
    z.dir("app/").dir("app/js/").dir("forms/").dir("forms/person/");
    with_index(z)
        .file("app/js/main.js", js)
        .file("app/assets/img/Logo.png", png)
        .form("person")
        .form("visit", visit_schema)
        .file("renderers/map/renderer.jsx", jsx);
    auto b = extract(z.bytes());

    std::vector<std::string> paths;
    for (const auto& f : b.files) paths.push_back(f.path);
    const std::vector<std::string> expected = {
        "app/assets/img/Logo.png", "app/index.html", "app/js/main.js",
        "forms/person/schema.json", "forms/person/ui.json", "forms/visit/schema.json",
        "forms/visit/ui.json", "renderers/map/renderer.jsx"};
    BOOST_CHECK_EQUAL_COLLECTIONS(paths.begin(), paths.end(), expected.begin(), expected.end());
    for (const auto& f : b.files) {
        BOOST_CHECK_EQUAL(f.sha256, core::sha256_hex(read(f.path)));
        BOOST_CHECK_EQUAL(f.size, fs::file_size(dest / f.path));
    }
    BOOST_CHECK_EQUAL(read("app/assets/img/Logo.png"), png);
    BOOST_REQUIRE_EQUAL(b.forms.size(), 2u);
    BOOST_CHECK_EQUAL(b.forms.at("person").schema_json, kSchema);
    BOOST_CHECK_EQUAL(b.forms.at("person").ui_json, kUi);
    BOOST_CHECK_EQUAL(b.forms.at("visit").schema_json, visit_schema);
    BOOST_CHECK(b.renderers == std::set<std::string>{"map"});
    BOOST_CHECK((fs::status(dest / "app/assets/img").permissions() & fs::perms::all) ==
                (fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                 fs::perms::others_read | fs::perms::others_exec));
}

BOOST_FIXTURE_TEST_CASE(macos_litter_is_ignored, Fixture) {
    ZipBuilder z;
    with_index(z)
        .file("__MACOSX/app/._index.html", "resource fork")
        .file("__MACOSX/._whatever", "x")
        .file(".DS_Store", "ds")
        .file("app/.DS_Store", "ds")
        .file("forms/x/.DS_Store", "ds")
        .form("x");
    auto b = extract(z.bytes());
    BOOST_CHECK_EQUAL(b.files.size(), 3u);
    BOOST_CHECK(!fs::exists(dest / "__MACOSX"));
    BOOST_CHECK(!fs::exists(dest / ".DS_Store"));
    BOOST_CHECK(!fs::exists(dest / "app/.DS_Store"));
    BOOST_CHECK(!fs::exists(dest / "forms/x/.DS_Store"));
}

BOOST_FIXTURE_TEST_CASE(missing_index_html, Fixture) {
    ZipBuilder z;
    z.file("app/main.js", "x").file("app/sub/index.html", "x");
    refused(z.bytes(), "app/index.html");
}

BOOST_FIXTURE_TEST_CASE(file_outside_the_three_roots, Fixture) {
    ZipBuilder z;
    with_index(z).file("docs/readme.txt", "x");
    refused(z.bytes(), "docs/readme.txt");
    ZipBuilder z2;
    with_index(z2).file("app", "not a directory");
    refused(z2.bytes(), "app");
}

BOOST_FIXTURE_TEST_CASE(schema_without_ui, Fixture) {
    ZipBuilder z;
    with_index(z).file("forms/x/schema.json", kSchema);
    refused(z.bytes(), "forms/x/ui.json");
}

BOOST_FIXTURE_TEST_CASE(ui_without_schema, Fixture) {
    ZipBuilder z;
    with_index(z).file("forms/x/ui.json", kUi);
    refused(z.bytes(), "forms/x/schema.json");
}

BOOST_FIXTURE_TEST_CASE(extra_files_under_forms, Fixture) {
    ZipBuilder z;
    with_index(z).form("x").file("forms/x/notes.txt", "x");
    refused(z.bytes(), "forms/x/notes.txt");
    ZipBuilder z2;
    with_index(z2).form("x").file("forms/readme.md", "x");
    refused(z2.bytes(), "forms/readme.md");
    ZipBuilder z3;
    with_index(z3).form("x").file("forms/x/sub/schema.json", kSchema);
    refused(z3.bytes(), "forms/x/sub/schema.json");
}

BOOST_FIXTURE_TEST_CASE(invalid_json_schema, Fixture) {
    ZipBuilder z;
    with_index(z).form("x", R"({"type":"object",)");
    auto msg = refused(z.bytes(), "forms/x/schema.json");
    BOOST_CHECK(contains(msg, "not valid JSON"));
}

BOOST_FIXTURE_TEST_CASE(schema_or_ui_that_is_not_an_object, Fixture) {
    ZipBuilder z;
    with_index(z).form("x", R"([{"type":"object"}])");
    auto msg = refused(z.bytes(), "forms/x/schema.json");
    BOOST_CHECK(contains(msg, "object"));
    ZipBuilder z2;
    with_index(z2).form("x", kSchema, R"("VerticalLayout")");
    refused(z2.bytes(), "forms/x/ui.json");
}

BOOST_FIXTURE_TEST_CASE(json_nested_too_deep_is_refused_not_crashed_on, Fixture) {
    ZipBuilder z;
    with_index(z).form("x", R"({"a":)" + std::string(200, '[') + std::string(200, ']') + "}");
    auto msg = refused(z.bytes(), "forms/x/schema.json");
    BOOST_CHECK(contains(msg, "deeper"));
}

BOOST_FIXTURE_TEST_CASE(json_with_byte_order_mark_is_accepted, Fixture) {
    ZipBuilder z;
    with_index(z).form("x", "\xEF\xBB\xBF" + kSchema);
    auto b = extract(z.bytes());
    BOOST_CHECK_EQUAL(b.forms.at("x").schema_json, "\xEF\xBB\xBF" + kSchema);
}

BOOST_FIXTURE_TEST_CASE(renderer_file_with_wrong_name, Fixture) {
    ZipBuilder z;
    with_index(z).file("renderers/map/index.jsx", "x");
    refused(z.bytes(), "renderers/map/index.jsx");
    ZipBuilder z2;
    with_index(z2).file("renderers/renderer.jsx", "x");
    refused(z2.bytes(), "renderers/renderer.jsx");
}

BOOST_FIXTURE_TEST_CASE(unknown_renderer_reference, Fixture) {
    ZipBuilder z;
    with_index(z).form("x", R"({"type":"object","properties":{"a":{"type":"string","x-renderer":"nope"}}})");
    auto msg = refused(z.bytes(), "forms/x/schema.json");
    BOOST_CHECK(contains(msg, "\"nope\""));

    // A renderer directory without renderer.jsx is not a bundled renderer.
    ZipBuilder z2;
    with_index(z2).dir("renderers/map/").form("x", R"({"properties":{"a":{"rendererType":"map"}}})");
    refused(z2.bytes(), "forms/x/schema.json");
}

BOOST_FIXTURE_TEST_CASE(builtin_and_bundled_renderers_are_accepted_at_any_depth, Fixture) {
    const std::string schema = R"({
      "type": "object", "x-renderer": "group",
      "properties": {
        "photo": {"type": "string", "x-renderer": "image"},
        "where": {"type": "object", "properties": {
          "deep": {"allOf": [{"items": [{"rendererType": "map"}, {"x-renderer": "qrcode"}]}]}}},
        "other": {"x-renderer": 5, "rendererType": null, "renderer": "not checked"}
      }})";
    ZipBuilder z;
    with_index(z).form("x", schema).file("renderers/map/renderer.jsx", "x");
    auto b = extract(z.bytes());
    BOOST_CHECK(b.renderers.count("map"));

    // The same deep reference without the bundled renderer is refused.
    reset();
    ZipBuilder z2;
    with_index(z2).form("x", schema);
    auto msg = refused(z2.bytes(), "forms/x/schema.json");
    BOOST_CHECK(contains(msg, "\"map\""));
}

BOOST_FIXTURE_TEST_CASE(zip_slip_and_unsafe_names, Fixture) {
    // libzip writes these names as given; each must be refused by name.
    for (const std::string name :
         {"../evil", "app/../../evil", "/etc/passwd", "app\\evil.js", "..\\..\\evil", "C:/evil",
          "app//evil.js", "app/./evil.js", "app/..", "./app/index.html", "app/sub/../../../evil"}) {
        BOOST_TEST_CONTEXT("name " << name) {
            ZipBuilder z;
            with_index(z).file(name, "x");
            refused(z.bytes(), name);
        }
    }
    // Directory entries get the same checks.
    ZipBuilder z;
    with_index(z).dir("../up/");
    refused(z.bytes(), "../up/");
}

BOOST_FIXTURE_TEST_CASE(control_characters_and_bad_utf8_in_names, Fixture) {
    ZipBuilder z;
    with_index(z).file("app/a\x01" "b.js", "x");
    refused(z.bytes(), "app/a?b.js");  // shown with '?' so it can go into a JSON response
    ZipBuilder z2;
    with_index(z2).file("app/\xff.js", "x");
    refused(z2.bytes(), "app/?.js");
    ZipBuilder z3;  // valid UTF-8 is fine
    with_index(z3).file("app/caf\xc3\xa9.js", "x");
    auto b = extract(z3.bytes());
    BOOST_CHECK(fs::exists(dest / "app/caf\xc3\xa9.js"));
}

BOOST_FIXTURE_TEST_CASE(nul_in_a_name_cannot_smuggle_a_path, Fixture) {
    ZipBuilder z;
    with_index(z).file("app/x.jsX../../evil", "x");
    std::string bytes = z.bytes();
    rename_entry(bytes, "app/x.jsX../../evil", std::string("app/x.js\0../../evil", 19));
    try {
        extract(bytes);  // libzip may cut the name at the NUL: then it is just app/x.js
    } catch (const BundleError& e) {
        BOOST_TEST_MESSAGE("refused: " << e.what());
    }
    BOOST_CHECK(!fs::exists(tmp.path / "evil"));
    for (const auto& f : fs::recursive_directory_iterator(dest))
        BOOST_CHECK_EQUAL(f.path().string().find('\0'), std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(symlink_entry, Fixture) {
    ZipBuilder z;
    with_index(z);
    auto idx = z.add("app/link", "/etc/passwd");
    z.set_unix_mode(idx, S_IFLNK | 0777);
    auto msg = refused(z.bytes(), "app/link");
    BOOST_CHECK(contains(msg, "symbolic link"));
}

BOOST_FIXTURE_TEST_CASE(fifo_and_mismatched_directory_entries, Fixture) {
    ZipBuilder z;
    with_index(z);
    z.set_unix_mode(z.add("app/fifo", ""), S_IFIFO | 0644);
    refused(z.bytes(), "app/fifo");
    ZipBuilder z2;
    with_index(z2);
    z2.set_unix_mode(z2.add("app/dir", ""), S_IFDIR | 0755);
    refused(z2.bytes(), "app/dir");
}

BOOST_FIXTURE_TEST_CASE(unix_mode_of_regular_files_is_accepted, Fixture) {
    ZipBuilder z;
    with_index(z);
    z.set_unix_mode(z.add("app/run.sh", "#!/bin/sh"), S_IFREG | 0755);
    z.set_unix_mode(z.add("app/nomode.txt", "x"), 0);
    auto b = extract(z.bytes());
    BOOST_CHECK_EQUAL(b.files.size(), 3u);
    // Modes in the ZIP are not carried over.
    BOOST_CHECK((fs::status(dest / "app/run.sh").permissions() & fs::perms::owner_exec) == fs::perms::none);
}

BOOST_FIXTURE_TEST_CASE(duplicate_names, Fixture) {
    ZipBuilder z;
    with_index(z).file("app/dup.js", "one").file("app/dux.js", "two");
    std::string bytes = z.bytes();
    rename_entry(bytes, "app/dux.js", "app/dup.js");
    auto msg = refused(bytes, "app/dup.js");
    BOOST_CHECK(contains(msg, "more than once"));
}

BOOST_FIXTURE_TEST_CASE(file_that_is_also_a_directory, Fixture) {
    ZipBuilder z;
    with_index(z).file("app/a", "file").file("app/a/b.js", "x");
    refused(z.bytes(), "app/a/b.js");
}

BOOST_FIXTURE_TEST_CASE(name_length_limit, Fixture) {
    const std::string longest = "app/" + std::string(251, 'a');  // 255 bytes
    ZipBuilder z;
    with_index(z).file(longest, "x");
    extract(z.bytes());
    BOOST_CHECK(fs::exists(dest / longest));

    reset();
    const std::string too_long = "app/" + std::string(252, 'a');  // 256 bytes
    ZipBuilder z2;
    with_index(z2).file(too_long, "x");
    refused(z2.bytes(), too_long);
}

BOOST_FIXTURE_TEST_CASE(more_than_10000_entries, Fixture) {
    ZipBuilder z;
    with_index(z);
    for (int i = 0; i < 10000; ++i) z.add("app/f" + std::to_string(i), "", true);
    auto msg = refused(z.bytes(), "");
    BOOST_CHECK(contains(msg, "10001"));
    BOOST_CHECK(contains(msg, "10000"));
}

BOOST_FIXTURE_TEST_CASE(entry_limit_boundary, Fixture) {
    BundleLimits limits;
    limits.max_entries = 3;
    ZipBuilder z;
    with_index(z).file("app/a", "a").file("app/b", "b");
    BOOST_CHECK_EQUAL(extract(z.bytes(), limits).files.size(), 3u);
    reset();
    ZipBuilder z2;
    with_index(z2).file("app/a", "a").file("app/b", "b").file("app/c", "c");
    refused(z2.bytes(), "", limits);
}

BOOST_FIXTURE_TEST_CASE(zip_bomb_is_refused_before_decompression, Fixture) {
    // 32 MiB of zeros deflates about 1000-fold.
    ZipBuilder z;
    with_index(z).file("app/bomb.bin", std::string(32u << 20, '\0'));
    auto msg = refused(z.bytes(), "app/bomb.bin");
    BOOST_CHECK(contains(msg, "200-fold"));
}

BOOST_FIXTURE_TEST_CASE(bomb_inside_ignored_entries_is_refused_too, Fixture) {
    ZipBuilder z;
    with_index(z).file("__MACOSX/app/._bomb", std::string(8u << 20, '\0'));
    refused(z.bytes(), "__MACOSX/app/._bomb");
}

BOOST_FIXTURE_TEST_CASE(small_compressible_files_are_under_the_ratio_floor, Fixture) {
    ZipBuilder z;
    with_index(z).file("app/blank.json", std::string(60u << 10, ' ')).file("app/empty.txt", "");
    auto b = extract(z.bytes());
    BOOST_CHECK_EQUAL(b.files.size(), 3u);
}

BOOST_FIXTURE_TEST_CASE(total_uncompressed_limit, Fixture) {
    BundleLimits limits;
    limits.max_total_uncompressed = 1u << 20;
    ZipBuilder z;
    with_index(z).file("app/one.bin", noise(600u << 10, 1)).file("app/two.bin", noise(600u << 10, 2));
    auto msg = refused(z.bytes(), "app/two.bin", limits);
    BOOST_CHECK(contains(msg, "uncompressed"));
}

BOOST_FIXTURE_TEST_CASE(default_total_limit_counts_declared_sizes, Fixture) {
    // Two 300 MiB entries whose headers are patched down to look small would be
    // caught while extracting; here the headers tell the truth and pass 1 refuses.
    ZipBuilder z;
    with_index(z).file("app/a.bin", std::string(1u << 20, 'a'));
    std::string bytes = z.bytes();
    patch_headers(bytes, "app/a.bin", [](std::string& b, size_t at, bool central) {
        put_u32(b, at + (central ? 24 : 22), 513u << 20);
    });
    refused(bytes, "app/a.bin");
}

BOOST_FIXTURE_TEST_CASE(lying_header_cannot_bypass_the_limits, Fixture) {
    // 4 MiB of zeros, declared as 100 KiB: an innocent 25-fold ratio on paper.
    ZipBuilder z;
    with_index(z).file("app/liar.bin", std::string(4u << 20, '\0'));
    std::string bytes = z.bytes();
    patch_headers(bytes, "app/liar.bin", [](std::string& b, size_t at, bool central) {
        put_u32(b, at + (central ? 24 : 22), 100u << 10);
    });
    auto msg = refused(bytes, "app/liar.bin", {}, false);
    BOOST_CHECK(contains(msg, "declares"));
    BOOST_CHECK(!fs::exists(dest / "app/liar.bin") || fs::file_size(dest / "app/liar.bin") <= (100u << 10));
}

BOOST_FIXTURE_TEST_CASE(lying_header_in_a_form_file, Fixture) {
    const std::string big = R"({"type":"object","description":")" + std::string(1u << 20, ' ') + "\"}";
    ZipBuilder z;
    with_index(z).form("x", big);
    std::string bytes = z.bytes();
    patch_headers(bytes, "forms/x/schema.json", [](std::string& b, size_t at, bool central) {
        put_u32(b, at + (central ? 24 : 22), 1000);
    });
    refused(bytes, "forms/x/schema.json");  // forms are read before anything is written
}

BOOST_FIXTURE_TEST_CASE(corrupt_data_fails_the_crc, Fixture) {
    ZipBuilder z;
    with_index(z);
    z.add("app/data.txt", "0123456789abcdef", true);
    std::string bytes = z.bytes();
    auto at = bytes.find("0123456789abcdef");
    BOOST_REQUIRE(at != std::string::npos);
    bytes[at + 3] = 'X';
    refused(bytes, "app/data.txt", {}, false);
}

BOOST_FIXTURE_TEST_CASE(encrypted_entry, Fixture) {
    ZipBuilder z;
    with_index(z).file("app/secret.js", "x");
    std::string bytes = z.bytes();
    patch_headers(bytes, "app/secret.js", [](std::string& b, size_t at, bool central) {
        b[at + (central ? 8 : 6)] |= 1;  // general purpose flag bit 0: encrypted
    });
    auto msg = refused(bytes, "app/secret.js");
    BOOST_CHECK(contains(msg, "encrypted"));
}

BOOST_FIXTURE_TEST_CASE(truncated_zip, Fixture) {
    ZipBuilder z;
    with_index(z).file("app/main.js", noise(5000));
    std::string bytes = z.bytes();
    refused(bytes.substr(0, bytes.size() / 2), "");
    refused(bytes.substr(0, bytes.size() - 10), "");
}

BOOST_FIXTURE_TEST_CASE(damaged_local_header, Fixture) {
    ZipBuilder z;
    with_index(z).file("app/main.js", noise(5000));
    std::string bytes = z.bytes();
    BOOST_REQUIRE(bytes.compare(0, 4, "PK\x03\x04") == 0);
    bytes[2] = 'X';
    refused(bytes, "");  // libzip's consistency check finds it at open time
}

BOOST_FIXTURE_TEST_CASE(not_a_zip_and_empty_file, Fixture) {
    auto msg = refused("this is a text file, not an archive\n", "");
    BOOST_CHECK(contains(msg, "not a ZIP"));
    msg = refused("", "");
    BOOST_CHECK(contains(msg, "empty"));
    // A well-formed archive with no entries: just the end-of-central-directory record.
    refused(std::string("PK\x05\x06", 4) + std::string(18, '\0'), "app/index.html");
}

BOOST_AUTO_TEST_CASE(form_json_parser_limits_nesting) {
    auto nested = [](int depth) { return std::string(depth, '[') + std::string(depth, ']'); };
    BOOST_CHECK(domain::parse_form_json(nested(128)).has_value());
    BOOST_CHECK(!domain::parse_form_json(nested(129)).has_value());
    // Brackets inside strings (escaped quotes included) do not count.
    BOOST_CHECK(domain::parse_form_json(R"({"a":"\"[[[[)" + std::string(500, '[') + R"("})").has_value());
    BOOST_CHECK(domain::parse_form_json("\xEF\xBB\xBF{}").has_value());
    BOOST_CHECK(!domain::parse_form_json("{} x").has_value());
    BOOST_CHECK(!domain::parse_form_json("\"\xff\"").has_value());  // not UTF-8
}

BOOST_AUTO_TEST_CASE(mime_types) {
    using domain::mime_type_for;
    BOOST_CHECK_EQUAL(mime_type_for("app/index.html"), "text/html");
    BOOST_CHECK_EQUAL(mime_type_for("app/INDEX.HTM"), "text/html");
    BOOST_CHECK_EQUAL(mime_type_for("app/a.css"), "text/css");
    BOOST_CHECK_EQUAL(mime_type_for("app/a.js"), "application/javascript");
    BOOST_CHECK_EQUAL(mime_type_for("app/a.mjs"), "application/javascript");
    BOOST_CHECK_EQUAL(mime_type_for("renderers/m/renderer.jsx"), "application/javascript");
    BOOST_CHECK_EQUAL(mime_type_for("forms/x/schema.json"), "application/json");
    BOOST_CHECK_EQUAL(mime_type_for("app/a.js.map"), "application/json");
    BOOST_CHECK_EQUAL(mime_type_for("app/a.PNG"), "image/png");
    BOOST_CHECK_EQUAL(mime_type_for("app/a.jpeg"), "image/jpeg");
    BOOST_CHECK_EQUAL(mime_type_for("app/a.svg"), "image/svg+xml");
    BOOST_CHECK_EQUAL(mime_type_for("app/favicon.ico"), "image/x-icon");
    BOOST_CHECK_EQUAL(mime_type_for("app/f.woff2"), "font/woff2");
    BOOST_CHECK_EQUAL(mime_type_for("app/a.wasm"), "application/wasm");
    BOOST_CHECK_EQUAL(mime_type_for("app/README"), "application/octet-stream");
    BOOST_CHECK_EQUAL(mime_type_for("app/.htaccess"), "application/octet-stream");
    BOOST_CHECK_EQUAL(mime_type_for("app.d/noext"), "application/octet-stream");
    BOOST_CHECK_EQUAL(mime_type_for("app/a.bin"), "application/octet-stream");
}

BOOST_AUTO_TEST_SUITE_END()
