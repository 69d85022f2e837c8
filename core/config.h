// Settings: each key declared once with its default, help text and check (see
// services/settings.cpp for the declaration). Values come from the defaults, then
// the config file (`key = value`, `#` comments), then SYNKRONUS_<KEY> environment
// variables, so tests can override any key without writing a file.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace core {

class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct SettingDecl {
    std::string key;
    std::string default_value;
    std::string help;
    // Returns an error message for a bad value, or empty when it is fine.
    std::function<std::string(const std::string&)> check;
    bool secret = false;  // never printed by --print-config
};

// Ready-made checks.
std::function<std::string(const std::string&)> check_int(int64_t min, int64_t max);
std::function<std::string(const std::string&)> check_one_of(std::vector<std::string> options);
std::function<std::string(const std::string&)> check_any();

class Config {
public:
    explicit Config(std::vector<SettingDecl> decls);

    // Loads the file (missing file is an error only if `required`), then the environment.
    // Throws ConfigError naming the file, line and key on any problem.
    void load_file(const std::string& path, bool required);
    void load_env();
    void set(const std::string& key, const std::string& value, const std::string& origin = "code");
    // Runs every declared check; throws ConfigError listing all failures.
    void validate() const;

    const std::string& str(const std::string& key) const;
    int64_t integer(const std::string& key) const;
    bool boolean(const std::string& key) const;

    // The commented default config file, generated from the declarations.
    std::string render_defaults() const;
    const std::vector<SettingDecl>& decls() const { return decls_; }

private:
    const SettingDecl* find(const std::string& key) const;
    std::vector<SettingDecl> decls_;
    std::map<std::string, std::string> values_;
};

}  // namespace core
