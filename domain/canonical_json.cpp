#include "domain/canonical_json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <vector>

#include "core/utf8.h"

namespace domain {

namespace {

using Member = rapidjson::Value::ConstMemberIterator::value_type;

std::string_view view_of(const rapidjson::Value& s) { return {s.GetString(), s.GetStringLength()}; }

// Orders valid UTF-8 strings as RFC 8785 wants: by UTF-16 code units. UTF-8 byte order
// equals code point order, and that equals UTF-16 order except where the first differing
// code points are one in U+E000..U+FFFF (lead byte 0xEE/0xEF) and one above U+FFFF
// (lead byte 0xF0..0xF4): the latter's high surrogate (0xD800..0xDBFF) sorts first.
// Comparing this way needs no transcoding of every key.
bool utf16_less(std::string_view a, std::string_view b) {
    const auto [ia, ib] = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
    if (ia == a.end()) return ib != b.end();
    if (ib == b.end()) return false;
    const auto x = static_cast<unsigned char>(*ia);
    const auto y = static_cast<unsigned char>(*ib);
    const bool x_upper_bmp = x == 0xEE || x == 0xEF;
    const bool y_upper_bmp = y == 0xEE || y == 0xEF;
    if (x_upper_bmp && y >= 0xF0) return false;
    if (y_upper_bmp && x >= 0xF0) return true;
    return x < y;
}

void require_utf8(std::string_view s) {
    if (!core::utf8_valid(s)) throw std::invalid_argument("string is not valid UTF-8");
}

// canonical_json_string without the UTF-8 check, for keys already checked.
void append_escaped(std::string_view s, std::string& out) {
    static constexpr char hex[] = "0123456789abcdef";
    out.push_back('"');
    size_t run = 0;  // start of the pending run of bytes that need no escaping
    for (size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        out.append(s.data() + run, i - run);
        run = i + 1;
        out.push_back('\\');
        switch (c) {
            case '"': out.push_back('"'); break;
            case '\\': out.push_back('\\'); break;
            case '\b': out.push_back('b'); break;
            case '\f': out.push_back('f'); break;
            case '\n': out.push_back('n'); break;
            case '\r': out.push_back('r'); break;
            case '\t': out.push_back('t'); break;
            default:
                out.append("u00");
                out.push_back(hex[c >> 4]);
                out.push_back(hex[c & 0xF]);
        }
    }
    out.append(s.data() + run, s.size() - run);
    out.push_back('"');
}

}  // namespace

void canonical_json_string(std::string_view s, std::string& out) {
    require_utf8(s);
    append_escaped(s, out);
}

void canonical_json_number(double v, std::string& out) {
    if (!std::isfinite(v)) throw std::invalid_argument("non-finite number");
    if (v == 0) {  // also -0, which ECMAScript prints as "0"
        out.push_back('0');
        return;
    }
    if (v < 0) {
        out.push_back('-');
        v = -v;
    }
    // to_chars without a precision gives the shortest digits that round-trip, choosing
    // the closest when several qualify: the same digits ECMAScript requires.
    char buf[32];
    const auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
    const std::string_view sci(buf, static_cast<size_t>(res.ptr - buf));  // "d[.ddd]e±XX"
    const size_t e_pos = sci.find('e');
    std::string digits;
    for (char c : sci.substr(0, e_pos)) {
        if (c != '.') digits.push_back(c);
    }
    int exp10 = 0;
    std::from_chars(sci.data() + e_pos + (sci[e_pos + 1] == '+' ? 2 : 1), sci.data() + sci.size(), exp10);

    // ECMAScript's terms: value = 0.digits × 10^n with k digits.
    const int k = static_cast<int>(digits.size());
    const int n = exp10 + 1;
    if (k <= n && n <= 21) {
        out.append(digits);
        out.append(static_cast<size_t>(n - k), '0');
    } else if (0 < n && n <= 21) {
        out.append(digits, 0, static_cast<size_t>(n));
        out.push_back('.');
        out.append(digits, static_cast<size_t>(n));
    } else if (-6 < n && n <= 0) {
        out.append("0.");
        out.append(static_cast<size_t>(-n), '0');
        out.append(digits);
    } else {
        out.push_back(digits[0]);
        if (k > 1) {
            out.push_back('.');
            out.append(digits, 1);
        }
        out.push_back('e');
        out.push_back(n - 1 < 0 ? '-' : '+');
        out.append(std::to_string(std::abs(n - 1)));
    }
}

void canonical_json(const rapidjson::Value& value, std::string& out) {
    switch (value.GetType()) {
        case rapidjson::kNullType: out.append("null"); return;
        case rapidjson::kFalseType: out.append("false"); return;
        case rapidjson::kTrueType: out.append("true"); return;
        case rapidjson::kStringType: canonical_json_string(view_of(value), out); return;
        case rapidjson::kNumberType:
            // JCS numbers are IEEE doubles: an integer beyond 2^53 is written as the
            // double it rounds to, exactly as a JavaScript client would write it.
            canonical_json_number(value.GetDouble(), out);
            return;
        case rapidjson::kArrayType: {
            out.push_back('[');
            bool first = true;
            for (const auto& item : value.GetArray()) {
                if (!first) out.push_back(',');
                first = false;
                canonical_json(item, out);
            }
            out.push_back(']');
            return;
        }
        case rapidjson::kObjectType: {
            std::vector<const Member*> members;
            members.reserve(value.MemberCount());
            for (const auto& m : value.GetObject()) {
                require_utf8(view_of(m.name));  // utf16_less relies on valid UTF-8
                members.push_back(&m);
            }
            std::sort(members.begin(), members.end(), [](const Member* a, const Member* b) {
                return utf16_less(view_of(a->name), view_of(b->name));
            });
            out.push_back('{');
            for (size_t i = 0; i < members.size(); ++i) {
                if (i > 0) {
                    if (view_of(members[i - 1]->name) == view_of(members[i]->name)) {
                        throw std::invalid_argument("duplicate object key");
                    }
                    out.push_back(',');
                }
                append_escaped(view_of(members[i]->name), out);
                out.push_back(':');
                canonical_json(members[i]->value, out);
            }
            out.push_back('}');
            return;
        }
    }
}

std::string canonical_json(const rapidjson::Value& value) {
    std::string out;
    canonical_json(value, out);
    return out;
}

}  // namespace domain
