// The app bundle ZIP validator and extractor with the server's limits. Any archive
// is refused with a BundleError or extracted; an extracted bundle's files all lie
// inside the version directory with the size and SHA-256 reported, and nothing else
// is there. The form JSON reader also sees every input as text.
#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>

#include "core/crypto.h"
#include "domain/bundle_zip.h"
#include "services/bundle_extract.h"
#include "fuzz/fuzz_support.h"

namespace fs = std::filesystem;

namespace {

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void check_extracted(const domain::ExtractedBundle& b, const fs::path& dest) {
    std::set<std::string> listed;
    for (const auto& f : b.files) {
        FUZZ_CHECK(!f.path.empty() && f.path.front() != '/' && f.path.find("..") != 0);
        fs::path p = dest / f.path;
        FUZZ_CHECK(fs::is_regular_file(fs::symlink_status(p)));
        std::string bytes = read_file(p);
        FUZZ_CHECK(bytes.size() == f.size);
        FUZZ_CHECK(core::sha256_hex(bytes) == f.sha256);
        FUZZ_CHECK(listed.insert(f.path).second);
    }
    // Every regular file on disk is one the bundle lists (nothing written elsewhere).
    for (const auto& e : fs::recursive_directory_iterator(dest)) {
        if (e.is_directory()) continue;
        FUZZ_CHECK(e.is_regular_file() && !e.is_symlink());
        FUZZ_CHECK(listed.count(fs::relative(e.path(), dest).string()) == 1);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    (void)domain::parse_form_json(std::string_view(reinterpret_cast<const char*>(data), size));

    const fs::path dir = fuzz::scratch_dir();
    const fs::path dest = dir / "version";
    fs::remove_all(dest);
    fs::create_directory(dest);
    std::string zip = fuzz::write_scratch_file("bundle.zip", data, size);
    try {
        check_extracted(services::extract_bundle(zip, dest.string()), dest);
    } catch (const domain::BundleError& e) {
        FUZZ_CHECK(std::string_view(e.what()).find(dir.string()) == std::string_view::npos);
    }
    // Nothing may appear beside the version directory.
    for (const auto& e : fs::directory_iterator(dir))
        FUZZ_CHECK(e.path() == dest || e.path().filename() == "bundle.zip");
    return 0;
}
