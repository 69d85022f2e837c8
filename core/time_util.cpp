#include "core/time_util.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace core {

int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

int64_t unix_now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string rfc3339(int64_t t) {
    time_t tt = static_cast<time_t>(t);
    struct tm tm;
    gmtime_r(&tt, &tm);
    char buf[32];
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string rfc3339_ms(int64_t ms) {
    int64_t secs = ms / 1000;
    int millis = static_cast<int>(ms % 1000);
    if (millis < 0) { millis += 1000; --secs; }
    time_t tt = static_cast<time_t>(secs);
    struct tm tm;
    gmtime_r(&tt, &tm);
    char buf[40];
    size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, sizeof buf - n, ".%03dZ", millis);
    return buf;
}

namespace {

// Reads exactly n digits at s[i..]; advances i.
bool digits(std::string_view s, size_t& i, size_t n, int& out) {
    if (s.size() - i < n) return false;
    out = 0;
    for (size_t k = 0; k < n; ++k, ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        out = out * 10 + (s[i] - '0');
    }
    return true;
}

// One RFC 3339 date-time, as scan() read it.
struct DateTime {
    int y, mo, d, h, mi, sec;
    int millis = 0;     // the fraction, truncated to milliseconds
    bool utc = false;   // 'Z' or 'z' (else an offset)
    bool upper = true;  // 'T' and 'Z' in upper case, as this server writes them
};

// The one RFC 3339 reader (section 5.6): any offset, any number of fraction digits,
// 'T' or 't', leap second 60, real calendar dates only.
std::optional<DateTime> scan(std::string_view s) {
    size_t i = 0;
    DateTime t{};
    if (!digits(s, i, 4, t.y) || i >= s.size() || s[i++] != '-' || !digits(s, i, 2, t.mo) || i >= s.size() ||
        s[i++] != '-' || !digits(s, i, 2, t.d) || i >= s.size() || (s[i] != 'T' && s[i] != 't'))
        return std::nullopt;
    t.upper = s[i] == 'T';
    ++i;
    if (!digits(s, i, 2, t.h) || i >= s.size() || s[i++] != ':' || !digits(s, i, 2, t.mi) || i >= s.size() ||
        s[i++] != ':' || !digits(s, i, 2, t.sec))
        return std::nullopt;
    static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (t.mo < 1 || t.mo > 12 || t.d < 1) return std::nullopt;
    const bool leap = (t.y % 4 == 0 && t.y % 100 != 0) || t.y % 400 == 0;
    if (t.d > kDays[t.mo - 1] + (t.mo == 2 && leap ? 1 : 0)) return std::nullopt;
    if (t.h > 23 || t.mi > 59 || t.sec > 60) return std::nullopt;
    if (i < s.size() && s[i] == '.') {
        const size_t start = ++i;
        for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i)
            if (i - start < 3) t.millis = t.millis * 10 + (s[i] - '0');
        if (i == start) return std::nullopt;
        for (size_t k = i - start; k < 3; ++k) t.millis *= 10;
    }
    if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
        t.utc = true;
        t.upper = t.upper && s[i] == 'Z';
        if (i + 1 != s.size()) return std::nullopt;
        return t;
    }
    int oh, om;
    if (i >= s.size() || (s[i] != '+' && s[i] != '-')) return std::nullopt;
    ++i;
    if (!digits(s, i, 2, oh) || i >= s.size() || s[i++] != ':' || !digits(s, i, 2, om)) return std::nullopt;
    if (oh > 23 || om > 59 || i != s.size()) return std::nullopt;
    return t;
}

}  // namespace

std::optional<int64_t> parse_rfc3339_ms(const std::string& s) {
    const auto t = scan(s);
    if (!t || !t->utc || !t->upper) return std::nullopt;
    struct tm tm {};
    tm.tm_year = t->y - 1900;
    tm.tm_mon = t->mo - 1;
    tm.tm_mday = t->d;
    tm.tm_hour = t->h;
    tm.tm_min = t->mi;
    tm.tm_sec = t->sec;
    return static_cast<int64_t>(timegm(&tm)) * 1000 + t->millis;
}

bool valid_rfc3339(std::string_view s) { return scan(s).has_value(); }

}  // namespace core
