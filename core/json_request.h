// JSON readers for request bodies: they report problems as ApiError 400
// `validation`, so they belong to the HTTP edge (handlers), never to domain/.
#pragma once
#include <rapidjson/document.h>

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/api_error.h"
#include "core/json.h"

namespace core {

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

}  // namespace core
