#include "domain/export_filter.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>

#include "core/time_util.h"
#include "domain/csv_export.h"
#include "domain/invalid_input.h"

namespace domain {

namespace {

constexpr size_t kMaxFormTypeChars = 255;  // sync_records.schema_type
constexpr size_t kMaxFormTypes = 1000;

// An RFC 3339 date-time (any offset) as UTC DATETIME(3) text; nullopt if not one.
std::optional<std::string> to_datetime(const std::string& given) {
    if (!core::valid_rfc3339(given)) return std::nullopt;
    std::string s = given;
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    int64_t offset_min = 0;
    if (s.back() != 'Z') {  // ...±hh:mm
        const size_t o = s.size() - 6;
        offset_min = ((s[o + 1] - '0') * 10 + (s[o + 2] - '0')) * 60 + (s[o + 4] - '0') * 10 + (s[o + 5] - '0');
        if (s[o] == '-') offset_min = -offset_min;
        s = s.substr(0, o) + "Z";
    }
    auto ms = core::parse_rfc3339_ms(s);
    if (!ms) return std::nullopt;  // a leap second, which no stored time holds
    const int64_t utc_ms = *ms - offset_min * 60000;
    time_t secs = static_cast<time_t>(utc_ms >= 0 ? utc_ms / 1000 : (utc_ms - 999) / 1000);
    struct tm tm {};
    if (!gmtime_r(&secs, &tm) || tm.tm_year + 1900 < 1000 || tm.tm_year + 1900 > 9999) return std::nullopt;
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%03d", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(utc_ms - int64_t(secs) * 1000));
    return std::string(buf);
}

void check_form_types(std::vector<std::string> types, ExportFilter& f, std::vector<FieldProblem>& problems) {
    if (types.size() > kMaxFormTypes) {
        problems.push_back({"form_type", "form_type may be given at most 1000 times"});
        return;
    }
    for (const auto& t : types)
        if (t.empty() || t.size() > kMaxFormTypeChars) {
            problems.push_back({"form_type", "form_type must be 1 to 255 characters"});
            return;
        }
    std::sort(types.begin(), types.end());
    types.erase(std::unique(types.begin(), types.end()), types.end());
    f.form_types = std::move(types);
}

void check_times(const std::optional<std::string>& after, const std::optional<std::string>& before, ExportFilter& f,
                 std::vector<FieldProblem>& problems) {
    if (after) {
        auto t = to_datetime(*after);
        if (t) f.synced_after = *t;
        else problems.push_back({"changed_after", "changed_after must be an RFC 3339 date-time, e.g. 2026-12-01T00:00:00Z"});
    }
    if (before) {
        auto t = to_datetime(*before);
        if (t) f.synced_before = *t;
        else problems.push_back({"changed_before", "changed_before must be an RFC 3339 date-time, e.g. 2026-12-01T00:00:00Z"});
    }
}

}  // namespace

std::string ExportFilter::to_json() const {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("form_type");
    w.StartArray();
    for (const auto& t : form_types) w.String(t.data(), static_cast<rapidjson::SizeType>(t.size()));
    w.EndArray();
    w.Key("synced_after");
    w.String(synced_after.c_str());
    w.Key("synced_before");
    w.String(synced_before.c_str());
    w.Key("deleted");
    w.Bool(include_deleted);
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

ExportFilter parse_export_filter(const ExportFilterInput& in) {
    ExportFilter f;
    std::vector<FieldProblem> problems;
    check_form_types(in.form_types, f, problems);
    check_times(in.changed_after, in.changed_before, f, problems);
    if (in.deleted) {
        if (*in.deleted == "false") f.include_deleted = false;
        else if (*in.deleted != "true") problems.push_back({"deleted", "deleted must be true or false"});
    }
    if (!problems.empty()) throw InvalidInput(std::move(problems));
    return f;
}

const char* format_name(ExportFormat f) { return f == ExportFormat::csv ? "csv" : "parquet"; }

LinkRequest parse_link_request(const rapidjson::Value& body) {
    LinkRequest req{ExportFormat::csv, {}};
    std::vector<FieldProblem> problems;
    auto it = body.FindMember("format");
    if (it == body.MemberEnd()) problems.push_back({"format", "format is required: \"csv\" or \"parquet\""});
    else if (it->value.IsString() && std::string_view(it->value.GetString()) == "csv") req.format = ExportFormat::csv;
    else if (it->value.IsString() && std::string_view(it->value.GetString()) == "parquet") req.format = ExportFormat::parquet;
    else problems.push_back({"format", "format must be \"csv\" or \"parquet\""});

    std::vector<std::string> types;
    it = body.FindMember("form_type");
    if (it != body.MemberEnd() && !it->value.IsNull()) {
        if (it->value.IsString()) types.emplace_back(it->value.GetString(), it->value.GetStringLength());
        else if (it->value.IsArray()) {
            for (const auto& v : it->value.GetArray()) {
                if (!v.IsString()) {
                    problems.push_back({"form_type", "form_type must be a string or an array of strings"});
                    types.clear();
                    break;
                }
                types.emplace_back(v.GetString(), v.GetStringLength());
            }
        } else problems.push_back({"form_type", "form_type must be a string or an array of strings"});
    }
    check_form_types(std::move(types), req.filter, problems);

    std::optional<std::string> times[2];
    const char* names[2] = {"changed_after", "changed_before"};
    for (int i = 0; i < 2; ++i) {
        it = body.FindMember(names[i]);
        if (it == body.MemberEnd() || it->value.IsNull()) continue;
        if (it->value.IsString()) times[i] = std::string(it->value.GetString(), it->value.GetStringLength());
        else problems.push_back({names[i], std::string(names[i]) + " must be an RFC 3339 date-time string"});
    }
    check_times(times[0], times[1], req.filter, problems);

    it = body.FindMember("deleted");
    if (it != body.MemberEnd() && !it->value.IsNull()) {
        if (it->value.IsBool()) req.filter.include_deleted = it->value.GetBool();
        else problems.push_back({"deleted", "deleted must be a boolean"});
    }
    if (!problems.empty()) throw InvalidInput(std::move(problems));
    return req;
}

LinkRequest stored_link(std::string_view format, std::string_view params_json) {
    LinkRequest req{format == "parquet" ? ExportFormat::parquet : ExportFormat::csv, {}};
    rapidjson::Document d;
    d.Parse(params_json.data(), params_json.size());
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("form_type") || !d["form_type"].IsArray() ||
        !d.HasMember("synced_after") || !d["synced_after"].IsString() || !d.HasMember("synced_before") ||
        !d["synced_before"].IsString() || !d.HasMember("deleted") || !d["deleted"].IsBool())
        throw ExportError("a stored export link has unreadable parameters");
    for (const auto& v : d["form_type"].GetArray())
        if (v.IsString()) req.filter.form_types.emplace_back(v.GetString(), v.GetStringLength());
    req.filter.synced_after = d["synced_after"].GetString();
    req.filter.synced_before = d["synced_before"].GetString();
    req.filter.include_deleted = d["deleted"].GetBool();
    return req;
}

}  // namespace domain
