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

std::optional<int64_t> parse_sql_datetime_ms(const std::string& s) {
    int y, mo, d, h, mi, sec;
    if (sscanf(s.c_str(), "%d-%d-%d %d:%d:%d", &y, &mo, &d, &h, &mi, &sec) != 6) return std::nullopt;
    struct tm tm {};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    int64_t ms = static_cast<int64_t>(timegm(&tm)) * 1000;
    auto dot = s.find('.');
    if (dot != std::string::npos) {
        std::string frac = s.substr(dot + 1, 3);
        while (frac.size() < 3) frac += '0';
        ms += std::stoi(frac);
    }
    return ms;
}

}  // namespace core
