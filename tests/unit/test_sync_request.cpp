#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <rapidjson/document.h>

#include "domain/canonical_json.h"
#include "domain/invalid_input.h"
#include "domain/record_hash.h"
#include "domain/sync_request.h"

namespace {

rapidjson::Document parse(const std::string& json) {
    rapidjson::Document d;
    d.Parse<rapidjson::kParseFullPrecisionFlag>(json.c_str(), json.size());
    BOOST_REQUIRE_MESSAGE(!d.HasParseError(), "bad test JSON: " << json);
    return d;
}

const std::string kUuid = "3F2504E0-4F89-11D3-9A0C-0305E82C3301";

std::string push_body(const std::string& records, const std::string& extra = "") {
    return R"({"transmission_id":")" + kUuid + R"(","client_id":"tablet-7","records":)" + records + extra + "}";
}

// Fields named by the validation error the call throws; fails the test if it throws
// anything else or nothing.
template <class F>
std::vector<std::string> error_fields(F&& call) {
    try {
        call();
    } catch (const domain::InvalidInput& e) {
        BOOST_TEST(std::string(e.code()) == "VALIDATION");
        std::vector<std::string> fields;
        for (const auto& fe : e.problems()) {
            BOOST_TEST(!fe.message.empty());
            fields.push_back(fe.field);
        }
        return fields;
    }
    BOOST_ERROR("no InvalidInput thrown");
    return {};
}

std::vector<std::string> push_errors(const std::string& body, size_t max = 1000) {
    const auto d = parse(body);
    return error_fields([&] { domain::parse_push_request(d, max); });
}

std::vector<std::string> pull_errors(const std::string& body) {
    const auto d = parse(body);
    return error_fields([&] { domain::parse_pull_request(d); });
}

using Fields = std::vector<std::string>;

// The one failure of a push with a single record, or an empty record if it passed.
domain::FailedRecord failure_of(const std::string& record) {
    const auto req = domain::parse_push_request(parse(push_body("[" + record + "]")), 1000);
    BOOST_REQUIRE_EQUAL(req.failed.size() + req.records.size(), 1u);
    return req.failed.empty() ? domain::FailedRecord{} : req.failed[0];
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sync_push_request)

BOOST_AUTO_TEST_CASE(valid_push) {
    const auto req = domain::parse_push_request(parse(push_body(R"([
        {"id": "r1", "schemaType": "visit", "schemaVersion": "1.2", "data": {"b": 1.0, "a": "x"},
         "hash": "abc", "change_id": 99, "last_modified": "2020-01-01T00:00:00Z",
         "last_modified_by": "mallory", "origin_client_id": "elsewhere", "extra": [1]},
        {"id": "r2", "schemaType": "visit", "schemaVersion": "1", "data": {}, "deleted": true, "hash": 5}
    ])")), 1000);
    BOOST_TEST(req.transmission_id == kUuid);  // as given: case matters (CONTRACT §7)
    BOOST_TEST(req.client_id == "tablet-7");
    BOOST_TEST(req.failed.empty());
    BOOST_REQUIRE_EQUAL(req.records.size(), 2u);

    const auto& r1 = req.records[0];
    BOOST_TEST(r1.index == 0u);
    BOOST_TEST(r1.id == "r1");
    BOOST_TEST(r1.schema_type == "visit");
    BOOST_TEST(r1.schema_version == "1.2");
    BOOST_TEST(r1.data_json == R"({"a":"x","b":1})");
    BOOST_TEST(r1.hash == domain::record_hash(parse(R"({"a":"x","b":1})"), "visit", "1.2"));
    BOOST_REQUIRE(r1.client_hash.has_value());
    BOOST_TEST(*r1.client_hash == "abc");
    BOOST_TEST(!r1.deleted);

    const auto& r2 = req.records[1];
    BOOST_TEST(r2.index == 1u);
    BOOST_TEST(r2.deleted);
    BOOST_TEST(r2.data_json == "{}");
    BOOST_TEST(!r2.client_hash.has_value());  // a non-string hash counts as absent
}

BOOST_AUTO_TEST_CASE(empty_records_is_valid) {
    const auto req = domain::parse_push_request(parse(push_body("[]")), 1000);
    BOOST_TEST(req.records.empty());
    BOOST_TEST(req.failed.empty());
}

BOOST_AUTO_TEST_CASE(body_must_be_object) {
    BOOST_TEST(push_errors("[]") == Fields{"body"});
    BOOST_TEST(push_errors("null") == Fields{"body"});
    BOOST_TEST(push_errors("\"x\"") == Fields{"body"});
}

BOOST_AUTO_TEST_CASE(transmission_id) {
    const auto with = [](const std::string& value) {
        return push_errors(R"({"transmission_id":)" + value + R"(,"client_id":"c","records":[]})");
    };
    BOOST_TEST(push_errors(R"({"client_id":"c","records":[]})") == Fields{"transmission_id"});
    BOOST_TEST(with("null") == Fields{"transmission_id"});
    BOOST_TEST(with("12") == Fields{"transmission_id"});
    BOOST_TEST(with(R"("")") == Fields{"transmission_id"});
    BOOST_TEST(with(R"("{3f2504e0-4f89-11d3-9a0c-0305e82c3301}")") == Fields{"transmission_id"});
    BOOST_TEST(with(R"("3f2504e0-4f89-11d3-9a0c-0305e82c3301 ")") == Fields{"transmission_id"});
    BOOST_TEST(with(R"("a.b")") == Fields{"transmission_id"});
    BOOST_TEST(with(R"("a/b")") == Fields{"transmission_id"});
    BOOST_TEST(with(R"("caf\u00e9")") == Fields{"transmission_id"});
    BOOST_TEST(with("\"" + std::string(65, 'a') + "\"") == Fields{"transmission_id"});
    // 1 to 64 of A-Z a-z 0-9 _ -: the app's 16-character ids, UUIDs of any case, ours.
    for (const std::string& ok : std::vector<std::string>{"a", "Zx9kQ2mN4pL7rT1w", "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
                                                          "not-a-uuid", "3f2504e04f8911d39a0c0305e82c3301",
                                                          "under_score", std::string(64, 'Z')}) {
        const auto req = domain::parse_push_request(
            parse(R"({"transmission_id":")" + ok + R"(","client_id":"c","records":[]})"), 10);
        BOOST_TEST(req.transmission_id == ok);
    }
}

BOOST_AUTO_TEST_CASE(client_id) {
    const auto with = [](const std::string& value) {
        return push_errors(R"({"transmission_id":")" + kUuid + R"(","client_id":)" + value + R"(,"records":[]})");
    };
    BOOST_TEST(push_errors(R"({"transmission_id":")" + kUuid + R"(","records":[]})") == Fields{"client_id"});
    BOOST_TEST(with(R"("")") == Fields{"client_id"});
    BOOST_TEST(with("7") == Fields{"client_id"});
    BOOST_TEST(with("null") == Fields{"client_id"});
    BOOST_TEST(with("\"" + std::string(129, 'c') + "\"") == Fields{"client_id"});
    // 128 characters is the limit, counted in characters, not bytes.
    std::string wide;
    for (int i = 0; i < 128; ++i) wide += "\u00e9";
    const auto req = domain::parse_push_request(
        parse(R"({"transmission_id":")" + kUuid + R"(","client_id":")" + wide + R"(","records":[]})"), 10);
    BOOST_TEST(req.client_id == wide);
    BOOST_TEST(with("\"" + wide + "x\"") == Fields{"client_id"});
}

BOOST_AUTO_TEST_CASE(records_field) {
    const std::string head = R"({"transmission_id":")" + kUuid + R"(","client_id":"c")";
    BOOST_TEST(push_errors(head + "}") == Fields{"records"});
    BOOST_TEST(push_errors(head + R"(,"records":null})") == Fields{"records"});
    BOOST_TEST(push_errors(head + R"(,"records":{}})") == Fields{"records"});
    BOOST_TEST(push_errors(head + R"(,"records":"[]"})") == Fields{"records"});
    const std::string rec = R"({"id":"a","schemaType":"t","schemaVersion":"1","data":{}})";
    BOOST_TEST(push_errors(push_body("[" + rec + "," + rec + "," + rec + "]"), 2) == Fields{"records"});
    BOOST_TEST(domain::parse_push_request(parse(push_body("[" + rec + "," + rec + "]")), 2).records.size() == 2u);
}

BOOST_AUTO_TEST_CASE(every_bad_field_is_reported) {
    BOOST_TEST(push_errors(R"({"transmission_id":1,"client_id":"","records":{}})") ==
               (Fields{"transmission_id", "client_id", "records"}));
}

BOOST_AUTO_TEST_CASE(record_field_checks) {
    const auto rec = [](const std::string& fields) {
        return failure_of(R"({"schemaType":"t","schemaVersion":"1","data":{},"id":"r")" + fields + "}");
    };
    BOOST_TEST(rec("").error.empty());  // the base record is valid
    BOOST_TEST(rec(R"(,"deleted":null)").error.empty());
    BOOST_TEST(rec(R"(,"deleted":false)").error.empty());
    BOOST_TEST(rec(R"(,"hash":null)").error.empty());
    BOOST_TEST(rec(R"(,"change_id":"junk","last_modified":5)").error.empty());

    struct Case {
        std::string record;
        std::string id;
        std::string error;
    };
    const std::string long_id(256, 'i');
    const std::vector<Case> cases = {
        {R"({"schemaType":"t","schemaVersion":"1","data":{}})", "", "id or observation_id is required"},
        {R"({"id":null,"schemaType":"t","schemaVersion":"1","data":{}})", "", "id or observation_id is required"},
        {R"({"id":7,"schemaType":"t","schemaVersion":"1","data":{}})", "", "id must be a string"},
        {R"({"id":"","schemaType":"t","schemaVersion":"1","data":{}})", "", "id must be 1 to 255 characters"},
        {R"({"id":")" + long_id + R"(","schemaType":"t","schemaVersion":"1","data":{}})", long_id,
         "id must be 1 to 255 characters"},
        {R"({"id":"r","schemaVersion":"1","data":{}})", "r", "schemaType is required"},
        {R"({"id":"r","schemaType":"","schemaVersion":"1","data":{}})", "r", "schemaType must be 1 to 255 characters"},
        {R"({"id":"r","schemaType":")" + std::string(256, 't') + R"(","schemaVersion":"1","data":{}})", "r",
         "schemaType must be 1 to 255 characters"},
        {R"({"id":"r","schemaType":["t"],"schemaVersion":"1","data":{}})", "r", "schemaType must be a string"},
        {R"({"id":"r","schemaType":"t","data":{}})", "r", "schemaVersion is required"},
        {R"({"id":"r","schemaType":"t","schemaVersion":1,"data":{}})", "r", "schemaVersion must be a string"},
        {R"({"id":"r","schemaType":"t","schemaVersion":")" + std::string(65, 'v') + R"(","data":{}})", "r",
         "schemaVersion must be 1 to 64 characters"},
        {R"({"id":"r","schemaType":"t","schemaVersion":"1"})", "r", "data is required"},
        {R"({"id":"r","schemaType":"t","schemaVersion":"1","data":null})", "r", "data is required"},
        {R"({"id":"r","schemaType":"t","schemaVersion":"1","data":[]})", "r", "data must be an object"},
        {R"({"id":"r","schemaType":"t","schemaVersion":"1","data":"{}"})", "r", "data must be an object"},
        {R"({"id":"r","schemaType":"t","schemaVersion":"1","data":{},"deleted":"yes"})", "r",
         "deleted must be a boolean"},
        {R"({"id":"r","schemaType":"t","schemaVersion":"1","data":{},"deleted":1})", "r", "deleted must be a boolean"},
        {R"({"id":"r","schemaType":"t","schemaVersion":"1","data":{"a":1,"a":2}})", "r",
         "data cannot be canonicalized (duplicate object key)"},
        {R"(["not", "an", "object"])", "", "record must be an object"},
        {R"(null)", "", "record must be an object"},
        {R"({"id":"r"})", "r", "schemaType is required; schemaVersion is required; data is required"},
    };
    for (const auto& c : cases) {
        const auto f = failure_of(c.record);
        BOOST_TEST(f.code == "VALIDATION", c.record);
        BOOST_TEST(f.id == c.id, c.record);
        BOOST_TEST(f.index == 0u);
        BOOST_TEST(f.error == c.error, c.record);
    }
    // 255 characters of 2-byte UTF-8 are 510 bytes and still allowed.
    std::string wide_id;
    for (int i = 0; i < 255; ++i) wide_id += "\u00e9";
    BOOST_TEST(failure_of(R"({"id":")" + wide_id + R"(","schemaType":"t","schemaVersion":"1","data":{}})").error.empty());
}

BOOST_AUTO_TEST_CASE(partial_failure_keeps_order_and_indexes) {
    const auto req = domain::parse_push_request(parse(push_body(R"([
        {"id": "a", "schemaType": "t", "schemaVersion": "1", "data": {"v": 1}},
        {"id": "b", "schemaType": "t", "schemaVersion": "1", "data": 3},
        {"id": 5, "schemaType": "t", "schemaVersion": "1", "data": {}},
        {"id": "a", "schemaType": "t", "schemaVersion": "1", "data": {"v": 2}},
        "junk",
        {"id": "c", "schemaType": "t", "schemaVersion": "2", "data": {}, "deleted": true}
    ])")), 1000);
    BOOST_REQUIRE_EQUAL(req.records.size(), 3u);
    // The same id twice is kept twice, in order: applied in order, the later one wins.
    BOOST_TEST(req.records[0].id == "a");
    BOOST_TEST(req.records[0].index == 0u);
    BOOST_TEST(req.records[0].data_json == R"({"v":1})");
    BOOST_TEST(req.records[1].id == "a");
    BOOST_TEST(req.records[1].index == 3u);
    BOOST_TEST(req.records[1].data_json == R"({"v":2})");
    BOOST_TEST(req.records[2].id == "c");
    BOOST_TEST(req.records[2].index == 5u);

    BOOST_REQUIRE_EQUAL(req.failed.size(), 3u);
    BOOST_TEST(req.failed[0].id == "b");
    BOOST_TEST(req.failed[0].index == 1u);
    BOOST_TEST(req.failed[0].error == "data must be an object");
    BOOST_TEST(req.failed[1].id == "");
    BOOST_TEST(req.failed[1].index == 2u);
    BOOST_TEST(req.failed[1].error == "id must be a string");
    BOOST_TEST(req.failed[2].id == "");
    BOOST_TEST(req.failed[2].index == 4u);
}

BOOST_AUTO_TEST_CASE(hash_is_over_canonical_data) {
    const auto a = domain::parse_push_request(
        parse(push_body(R"([{"id":"x","schemaType":"t","schemaVersion":"1","data":{"n":1.50,"m":[1e2]}}])")), 10);
    const auto b = domain::parse_push_request(
        parse(push_body(R"([{"data":{"m":[100],"n":1.5},"schemaVersion":"1","schemaType":"t","id":"x"}])")), 10);
    BOOST_TEST(a.records.at(0).data_json == b.records.at(0).data_json);
    BOOST_TEST(a.records.at(0).hash == b.records.at(0).hash);
    BOOST_TEST(a.records.at(0).hash == domain::record_hash_canonical(R"({"m":[100],"n":1.5})", "t", "1"));
}

BOOST_AUTO_TEST_CASE(observations_and_records_mixed) {
    const auto req = domain::parse_push_request(parse(push_body(R"([
        {"observation_id": "obs_1764000000000_1", "form_type": "visit", "form_version": "2", "data": {"n": 1},
         "created_at": "2026-11-28T21:09:34.123Z", "updated_at": "2026-11-28T22:09:34+02:00",
         "geolocation": {"latitude": 47.3769, "longitude": 8.5417, "accuracy": 12.5, "altitude": null,
                         "altitude_accuracy": 3.0}, "deleted": false, "hash": "seen"},
        {"id": "r1", "schemaType": "visit", "schemaVersion": "2", "data": {"n": 1}},
        {"id": "r2", "schemaType": "visit", "schemaVersion": "2", "data": {}, "geolocation": null},
        {"schemaType": "visit", "schemaVersion": "2", "data": {}}
    ])")), 1000);
    BOOST_REQUIRE_EQUAL(req.records.size(), 3u);
    const auto& o = req.records[0];
    BOOST_TEST(o.observation);
    BOOST_TEST(o.id == "obs_1764000000000_1");
    BOOST_TEST(o.schema_type == "visit");
    BOOST_TEST(o.schema_version == "2");
    // The hash is §5's, so the same content hashes alike in both shapes.
    BOOST_TEST(o.hash == req.records[1].hash);
    BOOST_TEST(o.client_hash.value() == "seen");
    BOOST_TEST(o.fields.created_at.value() == "2026-11-28T21:09:34.123Z");
    BOOST_TEST(o.fields.updated_at.value() == "2026-11-28T22:09:34+02:00");  // as given
    BOOST_TEST(o.fields.geolocation.value() ==
               R"({"accuracy":12.5,"altitude":null,"altitude_accuracy":3,"latitude":47.3769,"longitude":8.5417})");
    BOOST_TEST(!o.keeps_fields);
    BOOST_TEST(!req.records[1].observation);
    BOOST_TEST(req.records[1].keeps_fields);  // no observation field: the stored ones stay
    BOOST_TEST(!req.records[2].keeps_fields);  // geolocation given (null): it is set
    BOOST_REQUIRE_EQUAL(req.failed.size(), 1u);
    BOOST_TEST(req.failed[0].index == 3u);
    BOOST_TEST(req.failed[0].error == "id or observation_id is required");
}

BOOST_AUTO_TEST_CASE(observation_field_checks) {
    const auto obs = [](const std::string& fields) {
        return failure_of(R"({"observation_id":"obs_1_1","form_type":"t","form_version":"1","data":{})" + fields +
                          "}");
    };
    BOOST_TEST(obs("").error.empty());
    BOOST_TEST(obs(R"(,"created_at":null,"updated_at":null,"geolocation":null)").error.empty());
    BOOST_TEST(obs(R"(,"geolocation":{"latitude":-90,"longitude":180,"accuracy":0})").error.empty());
    BOOST_TEST(obs(R"(,"created_at":"2024-02-29T23:59:60.5z")").error.empty());
    const std::vector<std::pair<std::string, std::string>> cases = {
        {R"(,"created_at":"yesterday")", "created_at must be an RFC 3339 date-time such as 2026-11-28T21:09:34.123Z"},
        {R"(,"created_at":"2026-02-29T10:00:00Z")", "created_at must be an RFC 3339"},
        {R"(,"created_at":"2026-11-28 21:09:34Z")", "created_at must be an RFC 3339"},
        {R"(,"created_at":"2026-11-28T21:09:34")", "created_at must be an RFC 3339"},
        {R"(,"created_at":"2026-11-28T24:00:00Z")", "created_at must be an RFC 3339"},
        {R"(,"updated_at":1764000000)", "updated_at must be an RFC 3339"},
        {R"(,"geolocation":"47,8")", "geolocation must be null or an object"},
        {R"(,"geolocation":{"latitude":91,"longitude":0,"accuracy":1})", "geolocation.latitude must be a number from -90 to 90"},
        {R"(,"geolocation":{"latitude":0,"longitude":-180.5,"accuracy":1})", "geolocation.longitude must be"},
        {R"(,"geolocation":{"latitude":0,"longitude":0,"accuracy":-1})", "geolocation.accuracy must be a number >= 0"},
        {R"(,"geolocation":{"latitude":"0","longitude":0,"accuracy":1})", "geolocation.latitude must be"},
        {R"(,"geolocation":{"longitude":0,"accuracy":1})", "geolocation.latitude must be"},
        {R"(,"geolocation":{"latitude":0,"longitude":0,"accuracy":1,"altitude":"high"})", "geolocation.altitude must be a number or null"},
        {R"(,"geolocation":{"latitude":0,"longitude":0,"accuracy":1,"altitude_accuracy":-2})", "geolocation.altitude_accuracy must be a number >= 0 or null"},
    };
    for (const auto& [fields, error] : cases) {
        const auto f = obs(fields);
        BOOST_TEST(f.id == "obs_1_1", fields);  // reported with its observation_id
        BOOST_TEST(f.error.rfind(error, 0) == 0u, fields << " -> " << f.error);
    }
    // The observation's own field names in its reasons.
    const auto f = failure_of(R"({"observation_id":"o","data":{}})");
    BOOST_TEST(f.error == "form_type is required; form_version is required");
    BOOST_TEST(failure_of(R"({"observation_id":5,"form_type":"t","form_version":"1","data":{}})").error ==
               "observation_id must be a string");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(sync_pull_request)

BOOST_AUTO_TEST_CASE(valid_pull) {
    const auto req = domain::parse_pull_request(
        parse(R"({"client_id":"c1","after_change_id":42,"schema_types":["visit","household","visit"],"x":1})"));
    BOOST_TEST(req.client_id == "c1");
    BOOST_TEST(req.after_change_id == 42);
    BOOST_TEST(req.schema_types == (std::vector<std::string>{"household", "visit"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(defaults_and_nulls) {
    for (const std::string body : {R"({"client_id":"c"})", R"({"client_id":"c","after_change_id":null,"schema_types":null})",
                                   R"({"client_id":"c","after_change_id":0,"schema_types":[]})"}) {
        const auto req = domain::parse_pull_request(parse(body));
        BOOST_TEST(req.after_change_id == 0);
        BOOST_TEST(req.schema_types.empty());
    }
}

BOOST_AUTO_TEST_CASE(integral_numbers_in_any_spelling) {
    BOOST_TEST(domain::parse_pull_request(parse(R"({"client_id":"c","after_change_id":5.0})")).after_change_id == 5);
    BOOST_TEST(domain::parse_pull_request(parse(R"({"client_id":"c","after_change_id":1e3})")).after_change_id == 1000);
    BOOST_TEST(domain::parse_pull_request(parse(R"({"client_id":"c","after_change_id":9223372036854775807})"))
                   .after_change_id == INT64_MAX);
}

BOOST_AUTO_TEST_CASE(bad_fields) {
    BOOST_TEST(pull_errors("[]") == Fields{"body"});
    BOOST_TEST(pull_errors("{}") == Fields{"client_id"});
    BOOST_TEST(pull_errors(R"({"client_id":""})") == Fields{"client_id"});
    BOOST_TEST(pull_errors(R"({"client_id":3})") == Fields{"client_id"});
    BOOST_TEST(pull_errors(R"({"client_id":")" + std::string(129, 'c') + "\"}") == Fields{"client_id"});
    for (const std::string v : {"-1", "1.5", "\"5\"", "true", "[]", "{}", "9223372036854775808", "18446744073709551615",
                                "1e300", "-0.5"}) {
        BOOST_TEST(pull_errors(R"({"client_id":"c","after_change_id":)" + v + "}") == Fields{"after_change_id"}, v);
    }
    for (const std::string& v : std::vector<std::string>{"\"visit\"", "{}", "[\"\"]", "[1]", "[null]", "[\"ok\",[\"x\"]]",
                                "[\"" + std::string(256, 't') + "\"]", "true"}) {
        BOOST_TEST(pull_errors(R"({"client_id":"c","schema_types":)" + v + "}") == Fields{"schema_types"}, v);
    }
    try {
        domain::parse_pull_request(parse(R"({"client_id":"c","schema_types":["a",""]})"));
        BOOST_ERROR("no InvalidInput thrown");
    } catch (const domain::InvalidInput& e) {
        BOOST_REQUIRE_EQUAL(e.problems().size(), 1u);
        BOOST_TEST(e.problems()[0].message == "schema_types[1] must be 1 to 255 characters");
    }
    BOOST_TEST(pull_errors(R"({"after_change_id":-1,"schema_types":1})") ==
               (Fields{"client_id", "after_change_id", "schema_types"}));
}

BOOST_AUTO_TEST_CASE(cursor_and_shape) {
    using domain::RecordShape;
    auto r = domain::parse_pull_request(parse(R"({"client_id":"c"})"));
    BOOST_TEST((r.shape == RecordShape::both));
    BOOST_TEST(r.after_change_id == 0);
    r = domain::parse_pull_request(parse(R"({"client_id":"c","after_change_id":7})"));
    BOOST_TEST((r.shape == RecordShape::records));
    BOOST_TEST(r.after_change_id == 7);
    r = domain::parse_pull_request(parse(R"({"client_id":"c","since":{"version":0}})"));
    BOOST_TEST((r.shape == RecordShape::observations));
    BOOST_TEST(r.after_change_id == 0);
    r = domain::parse_pull_request(parse(R"({"client_id":"c","since":{"version":9,"id":"obs_1_2"}})"));
    BOOST_TEST((r.shape == RecordShape::observations));
    BOOST_TEST(r.after_change_id == 9);
    r = domain::parse_pull_request(parse(R"({"client_id":"c","since":{}})"));
    BOOST_TEST((r.shape == RecordShape::observations));
    r = domain::parse_pull_request(parse(R"({"client_id":"c","since":null,"after_change_id":null})"));
    BOOST_TEST((r.shape == RecordShape::both));
    r = domain::parse_pull_request(parse(R"({"client_id":"c","since":{"version":4},"after_change_id":4})"));
    BOOST_TEST((r.shape == RecordShape::both));
    BOOST_TEST(r.after_change_id == 4);
    BOOST_TEST(pull_errors(R"({"client_id":"c","since":{"version":4},"after_change_id":5})") == Fields{"since"});
    BOOST_TEST(pull_errors(R"({"client_id":"c","since":4})") == Fields{"since"});
    BOOST_TEST(pull_errors(R"({"client_id":"c","since":{"version":-1}})") == Fields{"since.version"});
    BOOST_TEST(pull_errors(R"({"client_id":"c","since":{"version":"3"}})") == Fields{"since.version"});
    BOOST_TEST(pull_errors(R"({"client_id":"c","since":{"version":1,"id":5}})") == Fields{"since.id"});
}

BOOST_AUTO_TEST_CASE(filter_size_is_bounded) {
    // Each entry costs its bytes plus 2, as in the page token.
    std::string types;
    size_t cost = 0;
    for (int i = 0; cost + 102 <= domain::kMaxPullFilterBytes; ++i) {
        std::string t = std::to_string(i);
        t.resize(100, 'x');
        types += (types.empty() ? "\"" : ",\"") + t + "\"";
        cost += 102;
    }
    const auto req = domain::parse_pull_request(parse(R"({"client_id":"c","schema_types":[)" + types + "]}"));
    BOOST_TEST(req.schema_types.size() == cost / 102);
    // Duplicates cost nothing: the filter is deduplicated first.
    BOOST_TEST(domain::parse_pull_request(parse(R"({"client_id":"c","schema_types":[)" + types + "," + types + "]}"))
                   .schema_types.size() == cost / 102);
    BOOST_TEST(pull_errors(R"({"client_id":"c","schema_types":[)" + types + ",\"" + std::string(200, 'y') + "\"]}") ==
               Fields{"schema_types"});
}

BOOST_AUTO_TEST_SUITE_END()
