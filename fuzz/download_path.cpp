// URL-decoding of bundle download paths, as a request reaches the handler: the
// router decodes the `{path+}` tail of /app-bundle/download/, the handler admits
// only valid_bundle_file_path() paths and re-encodes them for X-Accel-Redirect.
// A path that passes has no empty, "." or ".." segment and no control byte; its
// re-encoded form holds only unreserved bytes, "/" and %XX escapes, and nginx's
// one decoding of it gives the path back (so nginx opens exactly the file meant).
#include <cstdint>
#include <string>
#include <string_view>

#include "core/api_error.h"
#include "core/http.h"
#include "core/router.h"
#include "fuzz/fuzz_support.h"
#include "domain/path_rules.h"

namespace {

const core::Router& router() {
    static const core::Router r = [] {
        core::Router r;
        r.add({"GET", "/app-bundle/download/{path+}", nullptr, core::Role::read_only});
        return r;
    }();
    return r;
}

bool unreserved_or_slash(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~' || c == '/';
}

bool hex_digit(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string raw_path = "/app-bundle/download/" + std::string(reinterpret_cast<const char*>(data), size);
    std::string path;
    try {
        path = router().match("GET", raw_path).params.at("path");
    } catch (const core::ApiError& e) {
        FUZZ_CHECK(e.status() == 400 || e.status() == 404);
        return 0;
    }
    FUZZ_CHECK(!path.empty());
    FUZZ_CHECK(path.find('\0') == std::string::npos);
    if (!domain::valid_bundle_file_path(path)) return 0;

    FUZZ_CHECK(path.front() != '/' && path.back() != '/');
    FUZZ_CHECK(path.find("//") == std::string::npos);
    for (size_t start = 0;;) {
        size_t slash = path.find('/', start);
        std::string_view seg(path.data() + start, (slash == std::string::npos ? path.size() : slash) - start);
        FUZZ_CHECK(seg != "." && seg != "..");
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
    for (unsigned char c : path) FUZZ_CHECK(c >= 0x20 && c != 0x7f && c != '\\');

    std::string accel = domain::accel_encode_path(path);
    for (size_t i = 0; i < accel.size(); ++i) {
        if (accel[i] == '%') {
            FUZZ_CHECK(i + 2 < accel.size() && hex_digit(accel[i + 1]) && hex_digit(accel[i + 2]));
            i += 2;
        } else {
            FUZZ_CHECK(unreserved_or_slash(static_cast<unsigned char>(accel[i])));
        }
    }
    std::string decoded;
    FUZZ_CHECK(core::percent_decode(accel, decoded));
    FUZZ_CHECK(decoded == path);
    return 0;
}
