// Pull page tokens. Any string decodes to nothing or to a cursor within the pull
// limits, and re-encoding that cursor gives a token that decodes to the same one.
// The input is also signed as a payload with the token's MAC (format v1, as in
// domain/page_token.cpp), so the reader behind the MAC is fuzzed as well: the
// decoder promises to check a correctly signed payload in full. Any cursor built
// from the input either is refused by encode or survives decode(encode(c)) == c
// (schema types sorted and deduplicated).
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "core/crypto.h"
#include "domain/page_token.h"
#include "fuzz/fuzz_support.h"

namespace {

constexpr std::string_view kKey = "fuzz-page-token-key";

bool same(const domain::PageCursor& a, const domain::PageCursor& b) {
    return a.after_change_id == b.after_change_id && a.schema_types == b.schema_types && a.limit == b.limit &&
           a.snapshot_cutoff == b.snapshot_cutoff;
}

void check_cursor(const domain::PageCursor& c) {
    FUZZ_CHECK(c.limit >= domain::kMinPullLimit && c.limit <= domain::kMaxPullLimit);
    FUZZ_CHECK(c.after_change_id >= 0 && c.snapshot_cutoff >= 0);
    FUZZ_CHECK(std::is_sorted(c.schema_types.begin(), c.schema_types.end()));
    FUZZ_CHECK(std::adjacent_find(c.schema_types.begin(), c.schema_types.end()) == c.schema_types.end());
}

void check_decoded(std::string_view token) {
    if (auto c = domain::decode_page_token(token, kKey)) {
        check_cursor(*c);
        std::string again = domain::encode_page_token(*c, kKey);
        auto back = domain::decode_page_token(again, kKey);
        FUZZ_CHECK(back && same(*back, *c));
        FUZZ_CHECK(!domain::decode_page_token(token, "another-key"));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    check_decoded(input);
    check_decoded(core::base64url_encode(input) + "." +
                  core::base64url_encode(core::hmac_sha256(kKey, "synkronus-page-v1." + std::string(input))));

    FuzzedDataProvider in(data, size);
    domain::PageCursor c;
    c.after_change_id = in.ConsumeIntegral<int64_t>();
    c.limit = in.ConsumeIntegralInRange<int>(domain::kMinPullLimit - 1, domain::kMaxPullLimit + 1);
    c.snapshot_cutoff = in.ConsumeIntegral<int64_t>();
    while (in.remaining_bytes() > 0 && c.schema_types.size() < 64) c.schema_types.push_back(in.ConsumeRandomLengthString(300));
    std::string encoded;
    try {
        encoded = domain::encode_page_token(c, kKey);
    } catch (const std::invalid_argument&) {
        return 0;
    } catch (const std::length_error&) {
        return 0;
    }
    FUZZ_CHECK(encoded.size() <= domain::kMaxPageTokenLength);
    std::sort(c.schema_types.begin(), c.schema_types.end());
    c.schema_types.erase(std::unique(c.schema_types.begin(), c.schema_types.end()), c.schema_types.end());
    auto back = domain::decode_page_token(encoded, kKey);
    FUZZ_CHECK(back && same(*back, c));
    check_cursor(*back);
    return 0;
}
