// Line-oriented logging to stderr. Every line carries the worker pid and, while a
// request is being served, its request id, so one request's lines can be found.
#pragma once
#include <string>
#include <string_view>

namespace core::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

void set_level(Level);
bool parse_level(std::string_view s, Level& out);
// The request id printed on every line until cleared; empty outside a request.
void set_request_id(std::string id);

void write(Level, std::string_view msg);
// Whether lines of this level are written (to skip building a message that is not).
bool enabled(Level);
inline void debug(std::string_view m) { write(Level::debug, m); }
inline void info(std::string_view m) { write(Level::info, m); }
inline void warn(std::string_view m) { write(Level::warn, m); }
inline void error(std::string_view m) { write(Level::error, m); }

}  // namespace core::log
