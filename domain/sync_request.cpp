#include "domain/sync_request.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string_view>
#include <variant>

#include "core/time_util.h"
#include "core/utf8.h"
#include "domain/canonical_json.h"
#include "domain/invalid_input.h"
#include "domain/record_hash.h"

namespace domain {

namespace {

using rapidjson::Value;

const Value* member(const Value& obj, const char* name) {
    const auto it = obj.FindMember(name);
    return it == obj.MemberEnd() ? nullptr : &it->value;
}

std::string_view view_of(const Value& s) { return {s.GetString(), s.GetStringLength()}; }

// Checks a required string of 1..max characters; returns the reason it is not one.
std::optional<std::string> text_error(const Value* v, const std::string& name, size_t max_chars) {
    if (v == nullptr || v->IsNull()) return name + " is required";
    if (!v->IsString()) return name + " must be a string";
    const auto n = core::utf8_length(view_of(*v));
    if (!n) return name + " must be valid UTF-8";
    if (*n < 1 || *n > max_chars) return name + " must be 1 to " + std::to_string(max_chars) + " characters";
    return std::nullopt;
}

// CONTRACT §7: 1 to 64 of A-Z a-z 0-9 _ - (UUIDs included); case matters.
bool is_transmission_id(std::string_view s) {
    if (s.empty() || s.size() > kMaxTransmissionIdChars) return false;
    for (char c : s) {
        const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                        c == '-';
        if (!ok) return false;
    }
    return true;
}

void require_object(const rapidjson::Document& body) {
    if (!body.IsObject()) throw InvalidInput({FieldProblem{"body", "must be a JSON object"}});
}

// A client time: absent or null, else an RFC 3339 date-time stored as given.
std::optional<std::string> time_error(const Value* v, const std::string& name, std::optional<std::string>& out) {
    if (v == nullptr || v->IsNull()) return std::nullopt;
    if (!v->IsString() || v->GetStringLength() > kMaxClientTimeChars || !core::valid_rfc3339(view_of(*v)))
        return name + " must be an RFC 3339 date-time such as 2026-11-28T21:09:34.123Z";
    out.emplace(view_of(*v));
    return std::nullopt;
}

// geolocation: absent or null, else the object of §7 with its ranges; kept as the
// canonical JSON of the object, so every number reads back as the same double.
std::optional<std::string> geolocation_error(const Value* v, std::optional<std::string>& out) {
    if (v == nullptr || v->IsNull()) return std::nullopt;
    if (!v->IsObject()) return "geolocation must be null or an object";
    struct Field {
        const char* name;
        bool required;
        double min, max;
        const char* range;
    };
    static const Field kFields[] = {
        {"latitude", true, -90, 90, "a number from -90 to 90"},
        {"longitude", true, -180, 180, "a number from -180 to 180"},
        {"accuracy", true, 0, HUGE_VAL, "a number >= 0"},
        {"altitude", false, -HUGE_VAL, HUGE_VAL, "a number or null"},
        {"altitude_accuracy", false, 0, HUGE_VAL, "a number >= 0 or null"},
    };
    std::string problems;
    for (const auto& f : kFields) {
        const Value* x = member(*v, f.name);
        const bool absent = x == nullptr || x->IsNull();
        if (absent && !f.required) continue;
        if (absent || !x->IsNumber() || x->GetDouble() < f.min || x->GetDouble() > f.max)
            problems.append(problems.empty() ? "" : "; ").append("geolocation.").append(f.name)
                .append(" must be ").append(f.range);
    }
    if (!problems.empty()) return problems;
    std::string json;
    try {
        canonical_json(*v, json);
    } catch (const std::invalid_argument& e) {
        return std::string("geolocation cannot be canonicalized (") + e.what() + ")";
    }
    out = std::move(json);
    return std::nullopt;
}

// Validates one pushed item of either shape; on failure returns the FailedRecord.
std::variant<PushRecord, FailedRecord> parse_record(const Value& v, size_t index) {
    if (!v.IsObject()) return FailedRecord{"", index, InvalidInput::kCode, "record must be an object"};

    const Value* observation_id = member(v, "observation_id");
    const bool observation = observation_id != nullptr && !observation_id->IsNull();
    const ShapeNames& names = observation ? kObservationNames : kRecordNames;
    std::vector<std::string> problems;
    const auto check = [&](std::optional<std::string> e) {
        if (e) problems.push_back(std::move(*e));
    };
    const Value* id = member(v, names.id);
    const Value* schema_type = member(v, names.type);
    const Value* schema_version = member(v, names.version);
    const Value* data = member(v, "data");
    const Value* deleted = member(v, "deleted");
    const Value* hash = member(v, "hash");
    if (!observation && (id == nullptr || id->IsNull())) {
        problems.emplace_back("id or observation_id is required");
    } else {
        check(text_error(id, names.id, kMaxRecordIdChars));
    }
    check(text_error(schema_type, names.type, kMaxSchemaTypeChars));
    check(text_error(schema_version, names.version, kMaxSchemaVersionChars));
    if (data == nullptr || data->IsNull()) {
        problems.emplace_back("data is required");
    } else if (!data->IsObject()) {
        problems.emplace_back("data must be an object");
    }
    if (deleted != nullptr && !deleted->IsNull() && !deleted->IsBool()) {
        problems.emplace_back("deleted must be a boolean");
    }

    PushRecord rec;
    const Value* created_at = member(v, "created_at");
    const Value* updated_at = member(v, "updated_at");
    const Value* geolocation = member(v, "geolocation");
    check(time_error(created_at, "created_at", rec.fields.created_at));
    check(time_error(updated_at, "updated_at", rec.fields.updated_at));
    check(geolocation_error(geolocation, rec.fields.geolocation));
    if (problems.empty()) {
        try {
            canonical_json(*data, rec.data_json);
        } catch (const std::invalid_argument& e) {
            problems.push_back(std::string("data cannot be canonicalized (") + e.what() + ")");
        }
    }
    if (!problems.empty()) {
        std::string error = problems[0];
        for (size_t i = 1; i < problems.size(); ++i) error.append("; ").append(problems[i]);
        std::string failed_id = id != nullptr && id->IsString() ? std::string(view_of(*id)) : "";
        return FailedRecord{std::move(failed_id), index, InvalidInput::kCode, std::move(error)};
    }

    rec.index = index;
    rec.observation = observation;
    rec.id.assign(view_of(*id));
    rec.schema_type.assign(view_of(*schema_type));
    rec.schema_version.assign(view_of(*schema_version));
    rec.hash = record_hash_canonical(rec.data_json, rec.schema_type, rec.schema_version);
    // A non-string hash is not a hash the server ever gave out: treat it as absent.
    if (hash != nullptr && hash->IsString()) rec.client_hash.emplace(view_of(*hash));
    rec.deleted = deleted != nullptr && deleted->IsBool() && deleted->GetBool();
    // A record-shape client that knows nothing of the observation fields must not
    // wipe them when it edits an observation.
    rec.keeps_fields = !observation && created_at == nullptr && updated_at == nullptr && geolocation == nullptr;
    return rec;
}

// A cursor value: JSON has one number type, so 5.0 or 5e0 is accepted as 5; only
// integral, non-negative values that fit a change_id pass.
std::optional<int64_t> cursor_value(const Value& v) {
    constexpr double kTwoTo63 = 9223372036854775808.0;
    if (v.IsInt64() && v.GetInt64() >= 0) return v.GetInt64();
    if (v.IsDouble() && std::isfinite(v.GetDouble()) && v.GetDouble() >= 0 && v.GetDouble() < kTwoTo63 &&
        std::trunc(v.GetDouble()) == v.GetDouble())
        return static_cast<int64_t>(v.GetDouble());
    return std::nullopt;
}

}  // namespace

void normalize_schema_types(std::vector<std::string>& types) {
    std::sort(types.begin(), types.end());
    types.erase(std::unique(types.begin(), types.end()), types.end());
}

PushRequest parse_push_request(const rapidjson::Document& body, size_t max_records) {
    require_object(body);
    std::vector<FieldProblem> errors;

    const Value* transmission_id = member(body, "transmission_id");
    if (transmission_id == nullptr || transmission_id->IsNull()) {
        errors.push_back({"transmission_id", "transmission_id is required"});
    } else if (!transmission_id->IsString() || !is_transmission_id(view_of(*transmission_id))) {
        errors.push_back({"transmission_id", "transmission_id must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -"});
    }
    const Value* client_id = member(body, "client_id");
    if (auto e = text_error(client_id, "client_id", kMaxClientIdChars)) errors.push_back({"client_id", *e});
    const Value* records = member(body, "records");
    if (records == nullptr || records->IsNull()) {
        errors.push_back({"records", "records is required"});
    } else if (!records->IsArray()) {
        errors.push_back({"records", "records must be an array"});
    } else if (records->Size() > max_records) {
        errors.push_back({"records", "records must hold at most " + std::to_string(max_records) + " records"});
    }
    if (!errors.empty()) throw InvalidInput(std::move(errors));

    PushRequest req;
    req.transmission_id.assign(view_of(*transmission_id));
    req.client_id.assign(view_of(*client_id));
    req.records.reserve(records->Size());
    for (rapidjson::SizeType i = 0; i < records->Size(); ++i) {
        auto parsed = parse_record((*records)[i], i);
        if (auto* rec = std::get_if<PushRecord>(&parsed)) {
            req.records.push_back(std::move(*rec));
        } else {
            req.failed.push_back(std::move(std::get<FailedRecord>(parsed)));
        }
    }
    return req;
}

PullRequest parse_pull_request(const rapidjson::Document& body) {
    require_object(body);
    std::vector<FieldProblem> errors;
    PullRequest req;

    const Value* client_id = member(body, "client_id");
    if (auto e = text_error(client_id, "client_id", kMaxClientIdChars)) {
        errors.push_back({"client_id", *e});
    } else {
        req.client_id.assign(view_of(*client_id));
    }

    // The cursor: after_change_id (§5) or since.version (§7); the one used says which
    // shape the records come back in.
    std::optional<int64_t> after, since;
    const Value* after_v = member(body, "after_change_id");
    if (after_v != nullptr && !after_v->IsNull()) {
        after = cursor_value(*after_v);
        if (!after) errors.push_back({"after_change_id", "after_change_id must be a non-negative integer"});
    }
    const Value* since_v = member(body, "since");
    if (since_v != nullptr && !since_v->IsNull()) {
        if (!since_v->IsObject()) {
            errors.push_back({"since", "since must be an object {version, id}"});
        } else {
            const Value* version = member(*since_v, "version");
            const Value* id = member(*since_v, "id");
            since = 0;
            if (version != nullptr && !version->IsNull()) {
                since = cursor_value(*version);
                if (!since) errors.push_back({"since.version", "since.version must be a non-negative integer"});
            }
            if (id != nullptr && !id->IsNull() && !id->IsString())
                errors.push_back({"since.id", "since.id must be a string"});
        }
    }
    if (after && since && *after != *since)
        errors.push_back({"since", "since.version and after_change_id differ; give one cursor"});
    req.after_change_id = after ? *after : since ? *since : 0;
    req.shape = since && !after ? RecordShape::observations : after && !since ? RecordShape::records : RecordShape::both;

    const Value* types = member(body, "schema_types");
    if (types != nullptr && !types->IsNull()) {
        if (!types->IsArray()) {
            errors.push_back({"schema_types", "schema_types must be an array of strings"});
        } else {
            std::optional<std::string> problem;
            for (rapidjson::SizeType i = 0; i < types->Size() && !problem; ++i) {
                problem = text_error(&(*types)[i], "schema_types[" + std::to_string(i) + "]", kMaxSchemaTypeChars);
                if (!problem) req.schema_types.emplace_back(view_of((*types)[i]));
            }
            normalize_schema_types(req.schema_types);
            size_t filter_bytes = 0;  // counted as the page token stores them
            for (const auto& t : req.schema_types) filter_bytes += t.size() + 2;
            if (problem) {
                errors.push_back({"schema_types", *problem});
            } else if (filter_bytes > kMaxPullFilterBytes) {
                errors.push_back({"schema_types", "schema_types is too long (at most " +
                                                      std::to_string(kMaxPullFilterBytes) + " bytes in total)"});
            }
        }
    }

    if (!errors.empty()) throw InvalidInput(std::move(errors));
    return req;
}

}  // namespace domain
