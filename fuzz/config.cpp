// The config file parser with the server's own declarations: any file loads or is
// refused with a ConfigError (never another exception), and every value it yields
// can be written back quoted and reads back the same.
#include <cstdint>
#include <string>

#include "core/config.h"
#include "fuzz/fuzz_support.h"
#include "services/settings.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string path = fuzz::write_scratch_file("synkronus.conf", data, size);
    core::Config cfg(services::setting_decls());
    try {
        cfg.load_file(path, true);
    } catch (const core::ConfigError&) {
        return 0;
    }
    bool valid = true;
    try {
        cfg.validate();
    } catch (const core::ConfigError&) {
        valid = false;
    }

    std::string rewritten;
    for (const auto& d : cfg.decls()) rewritten += d.key + " = \"" + cfg.str(d.key) + "\"\n";
    std::string path2 = fuzz::write_scratch_file("rewritten.conf", reinterpret_cast<const uint8_t*>(rewritten.data()),
                                                 rewritten.size());
    core::Config again(services::setting_decls());
    again.load_file(path2, true);
    for (const auto& d : cfg.decls()) FUZZ_CHECK(again.str(d.key) == cfg.str(d.key));
    if (valid) {
        again.validate();
        for (const auto& d : cfg.decls()) {
            // A declared integer that validated must read as one.
            if (d.check && d.check("not-a-number") == "must be an integer") (void)cfg.integer(d.key);
        }
    }
    return 0;
}
