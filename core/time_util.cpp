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

std::optional<int64_t> parse_rfc3339_ms(const std::string& s) {
    int y, mo, d, h, mi, sec, used = 0;
    if (sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &used) != 6) return std::nullopt;
    struct tm tm {};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    int64_t ms = static_cast<int64_t>(timegm(&tm)) * 1000;
    size_t i = static_cast<size_t>(used);
    if (i < s.size() && s[i] == '.') {
        int digits = 0, frac = 0;
        for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++digits)
            if (digits < 3) frac = frac * 10 + (s[i] - '0');
        for (int k = digits; k < 3; ++k) frac *= 10;
        ms += frac;
    }
    if (i + 1 != s.size() || s[i] != 'Z') return std::nullopt;
    return ms;
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

}  // namespace

bool valid_rfc3339(std::string_view s) {
    size_t i = 0;
    int y, mo, d, h, mi, sec;
    if (!digits(s, i, 4, y) || i >= s.size() || s[i++] != '-' || !digits(s, i, 2, mo) || i >= s.size() ||
        s[i++] != '-' || !digits(s, i, 2, d) || i >= s.size() || (s[i] != 'T' && s[i] != 't'))
        return false;
    ++i;
    if (!digits(s, i, 2, h) || i >= s.size() || s[i++] != ':' || !digits(s, i, 2, mi) || i >= s.size() ||
        s[i++] != ':' || !digits(s, i, 2, sec))
        return false;
    static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1) return false;
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > kDays[mo - 1] + (mo == 2 && leap ? 1 : 0)) return false;
    if (h > 23 || mi > 59 || sec > 60) return false;
    if (i < s.size() && s[i] == '.') {
        const size_t start = ++i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
        if (i == start) return false;
    }
    if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) return i + 1 == s.size();
    int oh, om;
    if (i >= s.size() || (s[i] != '+' && s[i] != '-')) return false;
    ++i;
    if (!digits(s, i, 2, oh) || i >= s.size() || s[i++] != ':' || !digits(s, i, 2, om)) return false;
    return oh <= 23 && om <= 59 && i == s.size();
}

}  // namespace core
