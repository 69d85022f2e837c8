#include "core/config.h"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace core {

namespace {
std::string trim(const std::string& s) {
    size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
    return s.substr(b, e - b);
}

bool parse_int(const std::string& s, int64_t& out) {
    if (s.empty()) return false;
    size_t i = (s[0] == '-') ? 1 : 0;
    if (i == s.size()) return false;
    for (size_t j = i; j < s.size(); ++j)
        if (!std::isdigit(static_cast<unsigned char>(s[j]))) return false;
    try {
        out = std::stoll(s);
    } catch (...) {
        return false;
    }
    return true;
}
}  // namespace

std::function<std::string(const std::string&)> check_int(int64_t min, int64_t max) {
    return [min, max](const std::string& v) -> std::string {
        int64_t n;
        if (!parse_int(v, n)) return "must be an integer";
        if (n < min || n > max)
            return "must be between " + std::to_string(min) + " and " + std::to_string(max);
        return "";
    };
}

std::function<std::string(const std::string&)> check_one_of(std::vector<std::string> options) {
    return [options](const std::string& v) -> std::string {
        for (const auto& o : options)
            if (o == v) return "";
        std::string all;
        for (const auto& o : options) all += (all.empty() ? "" : ", ") + o;
        return "must be one of: " + all;
    };
}

std::function<std::string(const std::string&)> check_any() {
    return [](const std::string&) { return std::string(); };
}

Config::Config(std::vector<SettingDecl> decls) : decls_(std::move(decls)) {
    for (const auto& d : decls_) values_[d.key] = d.default_value;
}

const SettingDecl* Config::find(const std::string& key) const {
    for (const auto& d : decls_)
        if (d.key == key) return &d;
    return nullptr;
}

void Config::set(const std::string& key, const std::string& value, const std::string& origin) {
    if (!find(key)) throw ConfigError(origin + ": unknown setting '" + key + "'");
    values_[key] = value;
}

void Config::load_file(const std::string& path, bool required) {
    std::ifstream in(path);
    if (!in) {
        if (required) throw ConfigError("cannot read config file " + path);
        return;
    }
    std::string line;
    int lineno = 0;
    while (std::getline(in, line)) {
        ++lineno;
        std::string t = trim(line);
        if (t.empty() || t[0] == '#') continue;
        auto eq = t.find('=');
        std::string where = path + ":" + std::to_string(lineno);
        if (eq == std::string::npos) throw ConfigError(where + ": expected 'key = value'");
        std::string key = trim(t.substr(0, eq));
        std::string value = trim(t.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
            value = value.substr(1, value.size() - 2);
        set(key, value, where);
    }
}

void Config::load_env() {
    for (const auto& d : decls_) {
        std::string name = "SYNKRONUS_";
        for (char c : d.key) name += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (const char* v = std::getenv(name.c_str())) values_[d.key] = v;
    }
}

void Config::validate() const {
    std::string problems;
    for (const auto& d : decls_) {
        if (!d.check) continue;
        std::string err = d.check(values_.at(d.key));
        if (!err.empty()) problems += "\n  " + d.key + ": " + err;
    }
    if (!problems.empty()) throw ConfigError("invalid configuration:" + problems);
}

const std::string& Config::str(const std::string& key) const {
    auto it = values_.find(key);
    if (it == values_.end()) throw ConfigError("undeclared setting '" + key + "'");
    return it->second;
}

int64_t Config::integer(const std::string& key) const {
    int64_t n;
    if (!parse_int(str(key), n)) throw ConfigError(key + ": must be an integer");
    return n;
}

bool Config::boolean(const std::string& key) const {
    const auto& v = str(key);
    return v == "true" || v == "yes" || v == "1" || v == "on";
}

std::string Config::render_defaults() const {
    std::ostringstream out;
    out << "# synkronus-fcgi configuration. Every key is listed with its default.\n"
        << "# Any key can also be set with the environment variable SYNKRONUS_<KEY>.\n";
    for (const auto& d : decls_) {
        out << "\n";
        std::istringstream help(d.help);
        std::string l;
        while (std::getline(help, l)) out << "# " << l << "\n";
        out << (d.default_value.empty() ? "# " : "") << d.key << " = " << d.default_value << "\n";
    }
    return out.str();
}

}  // namespace core
