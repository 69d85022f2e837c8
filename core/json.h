// JSON readers for request bodies and a thin writer for responses (RapidJSON).
#pragma once
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/api_error.h"

namespace core {

// Deepest nesting a request body may have; deeper bodies are refused before parsing
// so no recursive walk over them can exhaust the stack.
constexpr size_t kMaxJsonDepth = 64;

// Returns the nesting depth of a JSON text (brackets inside strings ignored).
size_t json_depth(std::string_view text);

// Parses a request body that must be a JSON object. Throws ApiError 400 `validation`
// for malformed JSON, text that is not strict UTF-8 (raw bytes or a lone surrogate
// escape such as "\udc00"), excessive depth or a non-object top level.
rapidjson::Document parse_json_object(std::string_view body, size_t max_depth = kMaxJsonDepth);

// Reads fields of one JSON object, collecting one FieldError per bad field so a
// client sees every problem at once. Call finish() to throw when any were found.
class FieldReader {
public:
    explicit FieldReader(const rapidjson::Value& obj) : obj_(obj) {}

    std::optional<std::string> required_string(const char* name, size_t min_chars, size_t max_chars);
    std::optional<std::string> optional_string(const char* name, size_t min_chars, size_t max_chars);
    // Reads the first of `names` present (aliases such as oldPassword/currentPassword).
    std::optional<std::string> required_string_any(std::initializer_list<const char*> names,
                                                   size_t min_chars, size_t max_chars);
    void add_error(std::string field, std::string message);
    bool ok() const { return errors_.empty(); }
    void finish() const;

private:
    std::optional<std::string> check_string(const char* name, const rapidjson::Value& v,
                                            size_t min_chars, size_t max_chars);
    const rapidjson::Value& obj_;
    std::vector<FieldError> errors_;
};

// A writer that splices pre-serialized JSON with one memcpy; RapidJSON's RawValue
// copies byte by byte, which was a fifth of a 500-record pull's CPU.
class SplicingWriter : public rapidjson::Writer<rapidjson::StringBuffer> {
public:
    using rapidjson::Writer<rapidjson::StringBuffer>::Writer;
    void splice(std::string_view json) {
        Prefix(rapidjson::kObjectType);
        if (!json.empty()) std::memcpy(os_->Push(json.size()), json.data(), json.size());
        EndValue(true);
    }
};

// Builds JSON responses.
class JsonOut {
public:
    JsonOut() : w_(buf_) {}
    rapidjson::Writer<rapidjson::StringBuffer>& w() { return w_; }
    JsonOut& key(std::string_view k) { w_.Key(k.data(), static_cast<rapidjson::SizeType>(k.size())); return *this; }
    JsonOut& str(std::string_view v) { w_.String(v.data(), static_cast<rapidjson::SizeType>(v.size())); return *this; }
    JsonOut& num(int64_t v) { w_.Int64(v); return *this; }
    JsonOut& boolean(bool v) { w_.Bool(v); return *this; }
    JsonOut& begin_object() { w_.StartObject(); return *this; }
    JsonOut& end_object() { w_.EndObject(); return *this; }
    JsonOut& begin_array() { w_.StartArray(); return *this; }
    JsonOut& end_array() { w_.EndArray(); return *this; }
    // Splices pre-serialized JSON (must be valid) as the next value.
    JsonOut& raw(std::string_view json) {
        w_.splice(json);
        return *this;
    }
    std::string take() { return std::string(buf_.GetString(), buf_.GetSize()); }

private:
    rapidjson::StringBuffer buf_;
    SplicingWriter w_;
};

// {"message": "..."}
std::string message_json(std::string_view message);

}  // namespace core
