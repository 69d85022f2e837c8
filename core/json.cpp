#include "core/json.h"
#include "core/json_request.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <system_error>

#include <rapidjson/encodedstream.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

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

namespace {

// RapidJSON 1.1.0 (Debian 12) converts some numbers to garbage under
// kParseFullPrecisionFlag: a zero with many digits (0.000000000000000000000000 became
// -2.19e-193 with gcc -O2) and a long significand whose value is beyond double range
// though its exponent is at most 308 (10000000000000000000000e300 became -3.09e-295),
// so a pushed record would silently change value (RapidJSON 1.1.0's clz(0) and an
// out-of-bounds power table index, fixed upstream after that release). So RapidJSON only
// checks the grammar and hands numbers over as text: integers keep RapidJSON's types,
// everything else is converted by std::from_chars, which rounds correctly as full
// precision means to; beyond range is "Number too big", below it is a signed zero.
class ExactNumbers {
public:
    using Ch = char;
    explicit ExactNumbers(rapidjson::Document& doc) : doc_(doc) {}

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
        const char* end = s + n;
        if (text.find_first_of(".eE") == std::string_view::npos) {  // an integer, if it fits
            if (text.front() == '-') {
                int64_t v;
                if (auto r = std::from_chars(s, end, v); r.ec == std::errc() && r.ptr == end) return doc_.Int64(v);
            } else {
                uint64_t v;
                if (auto r = std::from_chars(s, end, v); r.ec == std::errc() && r.ptr == end) return doc_.Uint64(v);
            }
        }
        double d = 0;
        const auto r = std::from_chars(s, end, d);
        if (r.ec == std::errc::result_out_of_range) {
            if (decimal_exponent(text) >= 0) {
                number_error = rapidjson::kParseErrorNumberTooBig;
                return false;
            }
            d = text.front() == '-' ? -0.0 : 0.0;
        } else if (r.ec != std::errc() || r.ptr != end) {
            number_error = rapidjson::kParseErrorValueInvalid;  // the reader checked the grammar already
            return false;
        }
        return doc_.Double(d);
    }

    rapidjson::ParseErrorCode number_error = rapidjson::kParseErrorNone;

private:
    rapidjson::Document& doc_;

    // The power of ten of the first non-zero digit of a JSON number that has one; only
    // its sign is used, to tell a value beyond range from one below it.
    static long decimal_exponent(std::string_view t) {
        const size_t e = t.find_first_of("eE");
        long exp = 0;
        if (e != std::string_view::npos) {
            size_t j = e + 1;
            const bool negative = t[j] == '-';
            if (t[j] == '-' || t[j] == '+') ++j;
            for (; j < t.size(); ++j) exp = std::min(exp * 10 + (t[j] - '0'), 1000000L);
            if (negative) exp = -exp;
        }
        const size_t begin = t.front() == '-' ? 1 : 0;
        const std::string_view significand = t.substr(begin, e == std::string_view::npos ? t.npos : e - begin);
        const size_t dot = significand.find('.');
        const std::string_view integral = significand.substr(0, dot);
        if (const size_t nz = integral.find_first_not_of('0'); nz != std::string_view::npos)
            return static_cast<long>(integral.size() - nz - 1) + exp;
        const std::string_view fraction = dot == std::string_view::npos ? std::string_view() : significand.substr(dot + 1);
        return exp - static_cast<long>(fraction.find_first_not_of('0') + 1);
    }
};

}  // namespace

rapidjson::Document parse_json_object(std::string_view body, size_t max_depth) {
    if (json_depth(body) > max_depth)
        throw ApiError::validation({{"body", "JSON nesting is deeper than " + std::to_string(max_depth)}},
                                   "The request body is not acceptable JSON");
    rapidjson::Document doc;
    rapidjson::ParseResult result;
    ExactNumbers handler(doc);
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
