// /sync/push and /sync/pull bodies, read as the handlers read them (the JSON reader,
// then the request parser). The same body is offered to both parsers. A push
// accounts for every pushed record exactly once, in order, and stores data only in
// its canonical form; a pull's filter always fits a page token, even with the
// longest schemaType a query may add.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/api_error.h"
#include "core/json.h"
#include "core/json_request.h"
#include "domain/canonical_json.h"
#include "domain/page_token.h"
#include "domain/sync_request.h"
#include "domain/invalid_input.h"
#include "fuzz/fuzz_support.h"

namespace {

constexpr size_t kMaxRecords = 1000;  // the sync_max_records default

void check_push(const rapidjson::Document& body, const domain::PushRequest& push) {
    // 1 to 64 characters of A-Z a-z 0-9 _ - (CONTRACT section 7).
    FUZZ_CHECK(!push.transmission_id.empty() && push.transmission_id.size() <= 64);
    FUZZ_CHECK(std::all_of(push.transmission_id.begin(), push.transmission_id.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    }));
    const auto& records = body["records"];
    FUZZ_CHECK(push.records.size() + push.failed.size() == records.Size());
    size_t r = 0, f = 0;
    for (size_t i = 0; i < records.Size(); ++i) {
        if (r < push.records.size() && push.records[r].index == i) {
            const auto& rec = push.records[r++];
            FUZZ_CHECK(!rec.id.empty() && !rec.schema_type.empty() && !rec.schema_version.empty());
            FUZZ_CHECK(!rec.hash.empty());
            rapidjson::Document data = core::parse_json_object(rec.data_json);
            FUZZ_CHECK(domain::canonical_json(data) == rec.data_json);
        } else {
            FUZZ_CHECK(f < push.failed.size() && push.failed[f].index == i);
            FUZZ_CHECK(!push.failed[f++].error.empty());
        }
    }
    FUZZ_CHECK(r == push.records.size() && f == push.failed.size());
}

void check_pull(const domain::PullRequest& pull) {
    FUZZ_CHECK(pull.after_change_id >= 0);
    FUZZ_CHECK(std::is_sorted(pull.schema_types.begin(), pull.schema_types.end()));
    FUZZ_CHECK(std::adjacent_find(pull.schema_types.begin(), pull.schema_types.end()) == pull.schema_types.end());
    domain::PageCursor c;
    c.after_change_id = pull.after_change_id;
    c.schema_types = pull.schema_types;
    c.limit = domain::kMaxPullLimit;
    c.snapshot_cutoff = INT64_MAX;
    std::string longest_query_type;  // kMaxSchemaTypeChars characters of 4 UTF-8 bytes each
    for (size_t i = 0; i < domain::kMaxSchemaTypeChars; ++i) longest_query_type += "\xF0\x9F\x98\x80";
    c.schema_types.push_back(longest_query_type);
    const std::string token = domain::encode_page_token(c, "key");  // must not throw
    FUZZ_CHECK(token.size() <= domain::kMaxPageTokenLength);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    rapidjson::Document body;
    try {
        body = core::parse_json_object(std::string_view(reinterpret_cast<const char*>(data), size));
    } catch (const core::ApiError& e) {
        FUZZ_CHECK(e.status() == 400);
        return 0;
    }
    try {
        check_push(body, domain::parse_push_request(body, kMaxRecords));
    } catch (const domain::InvalidInput& e) {
        FUZZ_CHECK(!e.problems().empty());
    }
    try {
        check_pull(domain::parse_pull_request(body));
    } catch (const domain::InvalidInput& e) {
        FUZZ_CHECK(!e.problems().empty());
    }
    return 0;
}
