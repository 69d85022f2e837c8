#include "core/json.h"

#include <rapidjson/error/en.h>

#include "core/utf8.h"

namespace core {

namespace {

// RapidJSON validates raw bytes strictly and refuses an unpaired high surrogate
// escape, but decodes a lone "\udc00" into the (invalid) bytes ED B0 80. Only a text
// holding such an escape needs its decoded strings checked again.
bool may_hold_lone_surrogate(std::string_view text) {
    for (size_t i = text.find("\\u"); i != std::string_view::npos; i = text.find("\\u", i + 2)) {
        if (i + 3 < text.size() && (text[i + 2] == 'd' || text[i + 2] == 'D')) {
            const char c = text[i + 3];
            if ((c >= 'c' && c <= 'f') || (c >= 'C' && c <= 'F')) return true;
        }
    }
    return false;
}

bool strings_valid(const rapidjson::Value& v) {
    if (v.IsString()) return utf8_valid({v.GetString(), v.GetStringLength()});
    if (v.IsArray()) {
        for (const auto& e : v.GetArray())
            if (!strings_valid(e)) return false;
    } else if (v.IsObject()) {
        for (const auto& m : v.GetObject())
            if (!strings_valid(m.name) || !strings_valid(m.value)) return false;
    }
    return true;
}

}  // namespace

size_t json_depth(std::string_view text) {
    size_t depth = 0, max_depth = 0;
    bool in_string = false, escaped = false;
    for (char c : text) {
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == '"') in_string = true;
        else if (c == '{' || c == '[') {
            if (++depth > max_depth) max_depth = depth;
        } else if ((c == '}' || c == ']') && depth > 0) --depth;
    }
    return max_depth;
}

rapidjson::Document parse_json_object(std::string_view body, size_t max_depth) {
    if (json_depth(body) > max_depth)
        throw ApiError::validation({{"body", "JSON nesting is deeper than " + std::to_string(max_depth)}},
                                   "The request body is not acceptable JSON");
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseFullPrecisionFlag | rapidjson::kParseValidateEncodingFlag>(body.data(), body.size());
    if (doc.HasParseError()) {
        std::string msg = std::string("malformed JSON: ") + rapidjson::GetParseError_En(doc.GetParseError()) +
                          " at offset " + std::to_string(doc.GetErrorOffset());
        throw ApiError::validation({{"body", msg}}, "The request body is not valid JSON");
    }
    if (may_hold_lone_surrogate(body) && !strings_valid(doc))
        throw ApiError::validation({{"body", "malformed JSON: a string holds an unpaired surrogate escape"}},
                                   "The request body is not valid JSON");
    if (!doc.IsObject())
        throw ApiError::validation({{"body", "must be a JSON object"}}, "The request body must be a JSON object");
    return doc;
}

std::optional<std::string> FieldReader::check_string(const char* name, const rapidjson::Value& v,
                                                     size_t min_chars, size_t max_chars) {
    if (!v.IsString()) {
        add_error(name, std::string(name) + " must be a string");
        return std::nullopt;
    }
    std::string s(v.GetString(), v.GetStringLength());
    const auto chars = utf8_length(s);
    if (!chars) {
        add_error(name, std::string(name) + " must be valid UTF-8");
        return std::nullopt;
    }
    const size_t n = *chars;
    if (n < min_chars) {
        add_error(name, min_chars == 1 ? std::string(name) + " must not be empty"
                                       : std::string(name) + " must be at least " + std::to_string(min_chars) +
                                             " characters");
        return std::nullopt;
    }
    if (n > max_chars) {
        add_error(name, std::string(name) + " must be at most " + std::to_string(max_chars) + " characters");
        return std::nullopt;
    }
    return s;
}

std::optional<std::string> FieldReader::required_string(const char* name, size_t min_chars, size_t max_chars) {
    auto it = obj_.FindMember(name);
    if (it == obj_.MemberEnd() || it->value.IsNull()) {
        add_error(name, std::string(name) + " is required");
        return std::nullopt;
    }
    return check_string(name, it->value, min_chars, max_chars);
}

std::optional<std::string> FieldReader::optional_string(const char* name, size_t min_chars, size_t max_chars) {
    auto it = obj_.FindMember(name);
    if (it == obj_.MemberEnd() || it->value.IsNull()) return std::nullopt;
    return check_string(name, it->value, min_chars, max_chars);
}

std::optional<std::string> FieldReader::required_string_any(std::initializer_list<const char*> names,
                                                            size_t min_chars, size_t max_chars) {
    for (const char* n : names) {
        auto it = obj_.FindMember(n);
        if (it != obj_.MemberEnd() && !it->value.IsNull()) return check_string(n, it->value, min_chars, max_chars);
    }
    add_error(*names.begin(), std::string(*names.begin()) + " is required");
    return std::nullopt;
}

void FieldReader::add_error(std::string field, std::string message) {
    errors_.push_back({std::move(field), std::move(message)});
}

void FieldReader::finish() const {
    if (!errors_.empty()) throw ApiError::validation(errors_);
}

std::string message_json(std::string_view message) {
    JsonOut o;
    o.begin_object().key("message").str(message).end_object();
    return o.take();
}

}  // namespace core
