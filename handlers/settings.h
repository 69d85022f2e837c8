// Every setting of the server, declared once (default, help, check). The shipped
// config file is generated from this list (`synkronus-fcgi --print-default-config`).
#pragma once
#include <string>
#include <vector>

#include "core/config.h"

namespace handlers {

std::vector<core::SettingDecl> setting_decls();

// Loads defaults, the file (SYNKRONUS_CONFIG or `path`), the environment; validates,
// reads jwt_secret_file when jwt_secret is empty and enforces the secret's length.
// Throws core::ConfigError.
core::Config load_config(const std::string& path, bool file_required, bool require_secret = true);

constexpr const char* kDefaultConfigPath = "/etc/synkronus/synkronus.conf";

}  // namespace handlers
