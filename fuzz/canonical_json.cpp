// RFC 8785 canonical JSON of request bodies, read as the server reads them: the
// canonical form must itself parse, and canonicalizing it again must change nothing
// (a record's hash is taken over this form, so any drift would change hashes).
// Numbers alone: the spelling must read back as the same double.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

#include "core/api_error.h"
#include "core/json.h"
#include "core/json_request.h"
#include "domain/canonical_json.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size >= sizeof(double)) {
        double v;
        std::memcpy(&v, data, sizeof v);
        if (std::isfinite(v)) {
            std::string s;
            domain::canonical_json_number(v, s);
            double back = std::strtod(s.c_str(), nullptr);
            FUZZ_CHECK(back == v);  // -0 prints as "0", which compares equal
        }
    }

    std::string_view text(reinterpret_cast<const char*>(data), size);
    rapidjson::Document doc;
    try {
        doc = core::parse_json_object(text);
    } catch (const core::ApiError&) {
        return 0;
    }
    std::string canon;
    try {
        canon = domain::canonical_json(doc);
    } catch (const std::invalid_argument&) {
        return 0;  // duplicate keys, non-finite numbers: refused, which is the contract
    }
    rapidjson::Document again;
    try {
        again = core::parse_json_object(canon);
    } catch (const core::ApiError&) {
        FUZZ_CHECK(!"the canonical form of an accepted body does not parse");
    }
    FUZZ_CHECK(domain::canonical_json(again) == canon);
    return 0;
}
