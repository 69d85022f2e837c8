#include "domain/sync_request.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string_view>
#include <variant>

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

bool is_uuid(std::string_view s) {
    if (s.size() != 36) return false;
    for (size_t i = 0; i < s.size(); ++i) {
        const bool dash_pos = i == 8 || i == 13 || i == 18 || i == 23;
        const char c = s[i];
        const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (dash_pos ? c != '-' : !hex) return false;
    }
    return true;
}

std::string lowercase(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

void require_object(const rapidjson::Document& body) {
    if (!body.IsObject()) throw InvalidInput({FieldProblem{"body", "must be a JSON object"}});
}

// Validates one pushed record; on failure returns the FailedRecord instead.
std::variant<PushRecord, FailedRecord> parse_record(const Value& v, size_t index) {
    if (!v.IsObject()) return FailedRecord{"", index, InvalidInput::kCode, "record must be an object"};

    std::vector<std::string> problems;
    const auto check = [&](std::optional<std::string> e) {
        if (e) problems.push_back(std::move(*e));
    };
    const Value* id = member(v, "id");
    const Value* schema_type = member(v, "schemaType");
    const Value* schema_version = member(v, "schemaVersion");
    const Value* data = member(v, "data");
    const Value* deleted = member(v, "deleted");
    const Value* hash = member(v, "hash");
    check(text_error(id, "id", kMaxRecordIdChars));
    check(text_error(schema_type, "schemaType", kMaxSchemaTypeChars));
    check(text_error(schema_version, "schemaVersion", kMaxSchemaVersionChars));
    if (data == nullptr || data->IsNull()) {
        problems.emplace_back("data is required");
    } else if (!data->IsObject()) {
        problems.emplace_back("data must be an object");
    }
    if (deleted != nullptr && !deleted->IsNull() && !deleted->IsBool()) {
        problems.emplace_back("deleted must be a boolean");
    }

    PushRecord rec;
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
    rec.id.assign(view_of(*id));
    rec.schema_type.assign(view_of(*schema_type));
    rec.schema_version.assign(view_of(*schema_version));
    rec.hash = record_hash_canonical(rec.data_json, rec.schema_type, rec.schema_version);
    // A non-string hash is not a hash the server ever gave out: treat it as absent.
    if (hash != nullptr && hash->IsString()) rec.client_hash.emplace(view_of(*hash));
    rec.deleted = deleted != nullptr && deleted->IsBool() && deleted->GetBool();
    return rec;
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
    } else if (!transmission_id->IsString() || !is_uuid(view_of(*transmission_id))) {
        errors.push_back({"transmission_id", "transmission_id must be a UUID"});
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
    req.transmission_id = lowercase(view_of(*transmission_id));
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

    const Value* after = member(body, "after_change_id");
    if (after != nullptr && !after->IsNull()) {
        // JSON has one number type, so 5.0 or 5e0 is accepted as 5; only integral,
        // non-negative values that fit a change_id pass.
        constexpr double kTwoTo63 = 9223372036854775808.0;
        if (after->IsInt64() && after->GetInt64() >= 0) {
            req.after_change_id = after->GetInt64();
        } else if (after->IsDouble() && std::isfinite(after->GetDouble()) && after->GetDouble() >= 0 &&
                   after->GetDouble() < kTwoTo63 && std::trunc(after->GetDouble()) == after->GetDouble()) {
            req.after_change_id = static_cast<int64_t>(after->GetDouble());
        } else {
            errors.push_back({"after_change_id", "after_change_id must be a non-negative integer"});
        }
    }

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
