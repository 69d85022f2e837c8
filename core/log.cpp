#include "core/log.h"

#include <pthread.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

namespace core::log {

namespace {
Level g_level = Level::info;
std::string g_request_id;
const char* kNames[] = {"debug", "info", "warn", "error"};

// The pid for the line, asked of the kernel once per process, not once per line
// (issue 18: a syscall costs this VM a few microseconds, and an upload logs a line).
// A fork clears it in the child (the supervisor forks the workers after logging).
pid_t g_pid = 0;
void forget_pid() { g_pid = 0; }
pid_t line_pid() {
    static const bool registered = (::pthread_atfork(nullptr, nullptr, forget_pid), true);
    (void)registered;
    if (g_pid == 0) g_pid = ::getpid();
    return g_pid;
}
}  // namespace

void set_level(Level l) { g_level = l; }

bool parse_level(std::string_view s, Level& out) {
    for (int i = 0; i < 4; ++i)
        if (s == kNames[i]) {
            out = static_cast<Level>(i);
            return true;
        }
    return false;
}

void set_request_id(std::string id) { g_request_id = std::move(id); }

bool enabled(Level l) { return l >= g_level; }

void write(Level l, std::string_view msg) {
    if (l < g_level) return;
    char ts[32];
    time_t now = time(nullptr);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    std::string line;
    line.reserve(msg.size() + 64);
    line += ts;
    line += " [";
    line += kNames[static_cast<int>(l)];
    line += "] pid=";
    line += std::to_string(line_pid());
    if (!g_request_id.empty()) {
        line += " req=";
        line += g_request_id;
    }
    line += ' ';
    for (char c : msg) line += (c == '\n' || c == '\r') ? ' ' : c;
    line += '\n';
    // One write(2) per line keeps lines from different workers from interleaving.
    ssize_t r = ::write(2, line.data(), line.size());
    (void)r;
}

}  // namespace core::log
