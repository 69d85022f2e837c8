// Every setting of the server, declared once (default, help, check). The shipped
// config file is generated from this list (`synkronus-fcgi --print-default-config`).
#pragma once
#include <string>
#include <vector>

#include "core/config.h"
#include "core/password.h"
#include "db/database.h"

namespace services {

std::vector<core::SettingDecl> setting_decls();

// Loads defaults, the file (SYNKRONUS_CONFIG or `path`), the environment; validates,
// reads jwt_secret_file when jwt_secret is empty and enforces the secret's length.
// Throws core::ConfigError.
core::Config load_config(const std::string& path, bool file_required, bool require_secret = true);

// The database connection and password hashing parameters a config names.
db::Settings db_settings_from(const core::Config& cfg);
core::PasswordParams password_params_from(const core::Config& cfg);

constexpr const char* kDefaultConfigPath = "/etc/synkronus/synkronus.conf";

}  // namespace services
