#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <boost/test/unit_test.hpp>

#include "core/config.h"
#include "services/settings.h"

namespace {

// A file in a private temporary directory, removed with the fixture.
struct TempDir {
    std::filesystem::path dir;
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "synkronus-config-XXXXXX").string();
        BOOST_REQUIRE(mkdtemp(tmpl.data()) != nullptr);
        dir = tmpl;
    }
    ~TempDir() { std::filesystem::remove_all(dir); }
    std::string write(const std::string& name, const std::string& text) {
        auto p = dir / name;
        std::ofstream(p) << text;
        return p.string();
    }
};

// Sets an environment variable for the lifetime of the object.
struct EnvVar {
    std::string name;
    EnvVar(std::string n, const std::string& value) : name(std::move(n)) { setenv(name.c_str(), value.c_str(), 1); }
    ~EnvVar() { unsetenv(name.c_str()); }
};

std::vector<core::SettingDecl> sample_decls() {
    return {
        {"listen", "/run/x.sock", "Where to listen.", core::check_any()},
        {"workers", "4", "How many workers.\nSecond help line.", core::check_int(1, 64)},
        {"log_level", "info", "Log level.", core::check_one_of({"debug", "info", "warn"})},
        {"db_password", "", "Database password.", core::check_any(), true},
        {"flag", "no", "A boolean.", core::check_any()},
    };
}

template <typename Fn>
std::string config_error(Fn fn) {
    try {
        fn();
    } catch (const core::ConfigError& e) {
        return e.what();
    }
    BOOST_FAIL("expected a ConfigError");
    return "";
}

const std::string kGoodSecret = "0123456789abcdef0123456789abcdef";  // 32 bytes

// The variables load_config reads that a developer's shell might have set.
struct CleanEnv {
    CleanEnv() {
        for (const auto& d : services::setting_decls()) {
            std::string name = "SYNKRONUS_";
            for (char c : d.key) name += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            unsetenv(name.c_str());
        }
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(config)

BOOST_AUTO_TEST_CASE(defaults_apply_without_a_file) {
    core::Config c(sample_decls());
    c.load_file("/nonexistent/synkronus.conf", false);
    BOOST_TEST(c.str("listen") == "/run/x.sock");
    BOOST_TEST(c.integer("workers") == 4);
    BOOST_TEST(!c.boolean("flag"));
    BOOST_CHECK_NO_THROW(c.validate());
}

BOOST_AUTO_TEST_CASE(missing_required_file_is_an_error) {
    core::Config c(sample_decls());
    std::string msg = config_error([&] { c.load_file("/nonexistent/synkronus.conf", true); });
    BOOST_TEST(msg.find("/nonexistent/synkronus.conf") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(file_is_parsed) {
    TempDir t;
    std::string path = t.write("a.conf",
                               "# a comment\n"
                               "\n"
                               "   listen   =   127.0.0.1:9000   \n"
                               "workers=8\n"
                               "  # indented comment\n"
                               "db_password = \"pa ss = word\"\n"
                               "flag = yes\n"
                               "log_level =\n");
    core::Config c(sample_decls());
    c.load_file(path, true);
    BOOST_TEST(c.str("listen") == "127.0.0.1:9000");
    BOOST_TEST(c.integer("workers") == 8);
    BOOST_TEST(c.str("db_password") == "pa ss = word");
    BOOST_TEST(c.boolean("flag"));
    BOOST_TEST(c.str("log_level") == "");
}

BOOST_AUTO_TEST_CASE(unknown_key_is_an_error_naming_file_line_and_key) {
    TempDir t;
    std::string path = t.write("b.conf", "workers = 2\nwrokers = 3\n");
    core::Config c(sample_decls());
    std::string msg = config_error([&] { c.load_file(path, true); });
    BOOST_TEST(msg.find(path + ":2") != std::string::npos);
    BOOST_TEST(msg.find("wrokers") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(line_without_equals_is_an_error) {
    TempDir t;
    std::string path = t.write("c.conf", "\n\nworkers 2\n");
    core::Config c(sample_decls());
    std::string msg = config_error([&] { c.load_file(path, true); });
    BOOST_TEST(msg.find(path + ":3") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(environment_overrides_file) {
    TempDir t;
    std::string path = t.write("d.conf", "workers = 8\nlisten = /from/file\n");
    EnvVar w("SYNKRONUS_WORKERS", "16");
    EnvVar l("SYNKRONUS_LOG_LEVEL", "debug");
    core::Config c(sample_decls());
    c.load_file(path, true);
    c.load_env();
    BOOST_TEST(c.integer("workers") == 16);       // env beats the file
    BOOST_TEST(c.str("log_level") == "debug");    // env beats the default
    BOOST_TEST(c.str("listen") == "/from/file");  // untouched keys keep the file's value
}

BOOST_AUTO_TEST_CASE(set_rejects_unknown_keys) {
    core::Config c(sample_decls());
    BOOST_CHECK_NO_THROW(c.set("workers", "2"));
    BOOST_TEST(c.integer("workers") == 2);
    std::string msg = config_error([&] { c.set("nope", "1"); });
    BOOST_TEST(msg.find("nope") != std::string::npos);
    BOOST_CHECK_THROW(c.str("nope"), core::ConfigError);
}

BOOST_AUTO_TEST_CASE(validate_lists_every_failure) {
    core::Config c(sample_decls());
    c.set("workers", "0");
    c.set("log_level", "loud");
    std::string msg = config_error([&] { c.validate(); });
    BOOST_TEST(msg.find("workers") != std::string::npos);
    BOOST_TEST(msg.find("between 1 and 64") != std::string::npos);
    BOOST_TEST(msg.find("log_level") != std::string::npos);
    BOOST_TEST(msg.find("debug, info, warn") != std::string::npos);
    BOOST_TEST(msg.find("listen") == std::string::npos);  // valid keys are not listed
}

BOOST_AUTO_TEST_CASE(checks) {
    auto i = core::check_int(-5, 10);
    BOOST_TEST(i("0").empty());
    BOOST_TEST(i("-5").empty());
    BOOST_TEST(i("10").empty());
    BOOST_TEST(!i("11").empty());
    BOOST_TEST(!i("-6").empty());
    BOOST_TEST(!i("").empty());
    BOOST_TEST(!i("-").empty());
    BOOST_TEST(!i("1.5").empty());
    BOOST_TEST(!i("5x").empty());
    BOOST_TEST(!i(" 5").empty());
    BOOST_TEST(!i("99999999999999999999999").empty());
    auto o = core::check_one_of({"a", "b"});
    BOOST_TEST(o("a").empty());
    BOOST_TEST(!o("A").empty());
    BOOST_TEST(!o("").empty());
    BOOST_TEST(core::check_any()("anything").empty());
}

BOOST_AUTO_TEST_CASE(integer_and_boolean_readers) {
    core::Config c(sample_decls());
    c.set("listen", "not-a-number");
    BOOST_CHECK_THROW(c.integer("listen"), core::ConfigError);
    for (const char* yes : {"true", "yes", "1", "on"}) {
        c.set("flag", yes);
        BOOST_TEST(c.boolean("flag"));
    }
    for (const char* no : {"false", "no", "0", "off", ""}) {
        c.set("flag", no);
        BOOST_TEST(!c.boolean("flag"));
    }
}

BOOST_AUTO_TEST_CASE(render_defaults_lists_every_key_with_help) {
    core::Config c(sample_decls());
    std::string out = c.render_defaults();
    BOOST_TEST(out.find("# Where to listen.\nlisten = /run/x.sock\n") != std::string::npos);
    BOOST_TEST(out.find("# How many workers.\n# Second help line.\nworkers = 4\n") != std::string::npos);
    // A key without a default is shown commented out, so the file loads as is.
    BOOST_TEST(out.find("# db_password = \n") != std::string::npos);
    // Every line is a comment, blank or key = value.
    std::istringstream in(out);
    std::string line;
    while (std::getline(in, line))
        BOOST_TEST((line.empty() || line[0] == '#' || line.find(" = ") != std::string::npos), line);
}

BOOST_AUTO_TEST_CASE(shipped_defaults_load_back_unchanged) {
    CleanEnv clean;
    TempDir t;
    core::Config defaults(services::setting_decls());
    BOOST_CHECK_NO_THROW(defaults.validate());  // every default passes its own check
    std::string path = t.write("default.conf", defaults.render_defaults());
    core::Config loaded(services::setting_decls());
    loaded.load_file(path, true);
    BOOST_CHECK_NO_THROW(loaded.validate());
    for (const auto& d : services::setting_decls()) BOOST_TEST(loaded.str(d.key) == d.default_value, d.key);
}

BOOST_AUTO_TEST_CASE(every_setting_has_help_and_a_check) {
    std::set<std::string> keys;
    for (const auto& d : services::setting_decls()) {
        BOOST_TEST(!d.help.empty(), d.key);
        BOOST_TEST(static_cast<bool>(d.check), d.key);
        BOOST_TEST(keys.insert(d.key).second, "duplicate key " << d.key);
    }
    for (const char* secret : {"jwt_secret", "db_password", "admin_password"}) {
        bool found = false;
        for (const auto& d : services::setting_decls())
            if (d.key == secret) found = d.secret;
        BOOST_TEST(found, secret << " must be marked secret");
    }
}

BOOST_AUTO_TEST_CASE(load_config_refuses_a_missing_secret) {
    CleanEnv clean;
    TempDir t;
    std::string path = t.write("s.conf", "jwt_secret_file = " + (t.dir / "absent").string() + "\n");
    std::string msg = config_error([&] { services::load_config(path, true); });
    BOOST_TEST(msg.find("jwt_secret") != std::string::npos);
    BOOST_TEST(msg.find("32") != std::string::npos);
    // The admin tool may run without one (it signs nothing).
    BOOST_CHECK_NO_THROW(services::load_config(path, true, false));
}

BOOST_AUTO_TEST_CASE(load_config_refuses_a_short_secret) {
    CleanEnv clean;
    TempDir t;
    std::string path = t.write("s.conf", "jwt_secret = " + kGoodSecret.substr(0, 31) + "\n");
    BOOST_CHECK_THROW(services::load_config(path, true), core::ConfigError);

    // A short secret file is refused too; trailing newlines do not count as length.
    std::string secret_file = t.write("secret", std::string(31, 'k') + "\n\n");
    path = t.write("f.conf", "jwt_secret_file = " + secret_file + "\n");
    BOOST_CHECK_THROW(services::load_config(path, true), core::ConfigError);
}

BOOST_AUTO_TEST_CASE(load_config_accepts_a_good_secret) {
    CleanEnv clean;
    TempDir t;
    std::string path = t.write("s.conf", "jwt_secret = " + kGoodSecret + "\n");
    BOOST_TEST(services::load_config(path, true).str("jwt_secret") == kGoodSecret);

    std::string secret_file = t.write("secret", kGoodSecret + "\n");
    path = t.write("f.conf", "jwt_secret_file = " + secret_file + "\n");
    BOOST_TEST(services::load_config(path, true).str("jwt_secret") == kGoodSecret);

    // The environment can supply the secret and override file settings.
    path = t.write("e.conf", "jwt_secret_file = " + (t.dir / "absent").string() + "\nworkers = 3\n");
    EnvVar s("SYNKRONUS_JWT_SECRET", kGoodSecret);
    EnvVar w("SYNKRONUS_WORKERS", "5");
    auto cfg = services::load_config(path, true);
    BOOST_TEST(cfg.str("jwt_secret") == kGoodSecret);
    BOOST_TEST(cfg.integer("workers") == 5);
}

BOOST_AUTO_TEST_CASE(db_password_comes_from_its_own_file_unless_set) {
    CleanEnv clean;
    TempDir t;
    std::string pw_file = t.write("db-password", "generated-at-install\n");
    // The package's layout: the admin's file names no password, the generated file holds it.
    std::string path = t.write("p.conf", "jwt_secret = " + kGoodSecret + "\ndb_password_file = " + pw_file + "\n");
    BOOST_TEST(services::load_config(path, true).str("db_password") == "generated-at-install");
    // A 0.1.0 config kept through the upgrade has db_password itself: that value wins.
    path = t.write("q.conf", "jwt_secret = " + kGoodSecret + "\ndb_password = from-the-admin\ndb_password_file = " +
                                 pw_file + "\n");
    BOOST_TEST(services::load_config(path, true).str("db_password") == "from-the-admin");
    // No file: no password (a socket login may need none), not an error.
    path = t.write("r.conf", "jwt_secret = " + kGoodSecret + "\ndb_password_file = " + (t.dir / "absent").string() + "\n");
    BOOST_TEST(services::load_config(path, true).str("db_password") == "");
}

BOOST_AUTO_TEST_CASE(load_config_validates) {
    CleanEnv clean;
    TempDir t;
    std::string path = t.write("v.conf", "jwt_secret = " + kGoodSecret + "\naccess_token_ttl = 5\n");
    std::string msg = config_error([&] { services::load_config(path, true); });
    BOOST_TEST(msg.find("access_token_ttl") != std::string::npos);
    path = t.write("u.conf", "jwt_secret = " + kGoodSecret + "\nno_such_key = 1\n");
    msg = config_error([&] { services::load_config(path, true); });
    BOOST_TEST(msg.find("no_such_key") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
