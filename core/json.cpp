#include "core/json.h"

#include <rapidjson/encodedstream.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

namespace core {

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

namespace {

// RapidJSON 1.1.0 (Debian 12) reads a number whose digits are all zeros, but too many
// for its fast path, as garbage under kParseFullPrecisionFlag: 0.000000000000000000000000
// became -2.19e-193 with gcc -O2, so a pushed record changed value (DiyFp::Normalize(0)
// is undefined; found by fuzzing under UBSan, fixed upstream after 1.1.0). So numbers
// arrive here as text: such zeros become ±0.0, every other number is converted by
// RapidJSON exactly as before, the rest of the events go straight to the document.
class ZeroSafeNumbers {
public:
    using Ch = char;
    explicit ZeroSafeNumbers(rapidjson::Document& doc) : doc_(doc) {}

    bool Null() { return doc_.Null(); }
    bool Bool(bool b) { return doc_.Bool(b); }
    bool Int(int i) { return doc_.Int(i); }
    bool Uint(unsigned u) { return doc_.Uint(u); }
    bool Int64(int64_t i) { return doc_.Int64(i); }
    bool Uint64(uint64_t u) { return doc_.Uint64(u); }
    bool Double(double d) { return doc_.Double(d); }
    bool String(const Ch* s, rapidjson::SizeType n, bool copy) { return doc_.String(s, n, copy); }
    bool StartObject() { return doc_.StartObject(); }
    bool Key(const Ch* s, rapidjson::SizeType n, bool copy) { return doc_.Key(s, n, copy); }
    bool EndObject(rapidjson::SizeType n) { return doc_.EndObject(n); }
    bool StartArray() { return doc_.StartArray(); }
    bool EndArray(rapidjson::SizeType n) { return doc_.EndArray(n); }

    bool RawNumber(const Ch* s, rapidjson::SizeType n, bool) {
        const std::string_view text(s, n);
        const std::string_view significand = text.substr(0, text.find_first_of("eE"));
        const bool integral = significand.size() == text.size() && significand.find('.') == std::string_view::npos;
        if (!integral && significand.find_first_not_of("-0.") == std::string_view::npos)
            return doc_.Double(text.front() == '-' ? -0.0 : 0.0);
        rapidjson::MemoryStream ms(s, n);
        rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> is(ms);
        rapidjson::Reader reader;
        number_error = reader.Parse<rapidjson::kParseFullPrecisionFlag>(is, doc_).Code();
        return number_error == rapidjson::kParseErrorNone;
    }

    rapidjson::ParseErrorCode number_error = rapidjson::kParseErrorNone;

private:
    rapidjson::Document& doc_;
};

}  // namespace

rapidjson::Document parse_json_object(std::string_view body, size_t max_depth) {
    if (json_depth(body) > max_depth)
        throw ApiError::validation({{"body", "JSON nesting is deeper than " + std::to_string(max_depth)}},
                                   "The request body is not acceptable JSON");
    rapidjson::Document doc;
    rapidjson::ParseResult result;
    ZeroSafeNumbers handler(doc);
    auto parse = [&](rapidjson::Document&) {
        rapidjson::MemoryStream ms(body.data(), body.size());
        rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> is(ms);
        rapidjson::Reader reader;
        result = reader.Parse<rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseValidateEncodingFlag>(is, handler);
        return !result.IsError();
    };
    doc.Populate(parse);
    if (result.IsError()) {
        auto code = handler.number_error != rapidjson::kParseErrorNone ? handler.number_error : result.Code();
        std::string msg = std::string("malformed JSON: ") + rapidjson::GetParseError_En(code) + " at offset " +
                          std::to_string(result.Offset());
        throw ApiError::validation({{"body", msg}}, "The request body is not valid JSON");
    }
    if (!doc.IsObject())
        throw ApiError::validation({{"body", "must be a JSON object"}}, "The request body must be a JSON object");
    return doc;
}

size_t utf8_length(std::string_view s) {
    size_t n = 0;
    for (unsigned char c : s)
        if ((c & 0xC0) != 0x80) ++n;
    return n;
}

bool valid_utf8(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (len == 0 || i + len > s.size()) return false;
        for (size_t k = 1; k < len; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        i += len;
    }
    return true;
}

std::optional<std::string> FieldReader::check_string(const char* name, const rapidjson::Value& v,
                                                     size_t min_chars, size_t max_chars) {
    if (!v.IsString()) {
        add_error(name, std::string(name) + " must be a string");
        return std::nullopt;
    }
    std::string s(v.GetString(), v.GetStringLength());
    size_t n = utf8_length(s);
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
