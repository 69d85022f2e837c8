// synkronus-fcgi: the FastCGI worker pool serving the Synkronus API.
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>

#include "core/fcgi_server.h"
#include "core/grant.h"
#include "core/log.h"
#include "handlers/context.h"
#include "handlers/routes.h"
#include "services/settings.h"

namespace {

void usage() {
    std::cout << "usage: synkronus-fcgi [--config FILE] [--check-config | --print-default-config]\n"
                 "Runs the FastCGI worker pool in the foreground until SIGTERM or SIGINT.\n"
                 "The config file defaults to $SYNKRONUS_CONFIG or /etc/synkronus/synkronus.conf;\n"
                 "every key can be overridden with SYNKRONUS_<KEY>.\n";
}

// First start: with admin_password set and no users at all, create 'admin'.
void bootstrap_admin(handlers::Context& ctx) {
    const std::string& pw = ctx.cfg.str("admin_password");
    if (pw.empty()) return;
    try {
        if (ctx.users().bootstrap_admin(pw)) core::log::info("created the first admin user 'admin' from admin_password");
    } catch (const std::exception& e) {
        core::log::warn(std::string("could not check for the first admin: ") + e.what());
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::string config_path = getenv("SYNKRONUS_CONFIG") ? getenv("SYNKRONUS_CONFIG") : services::kDefaultConfigPath;
    bool check_only = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--config" && i + 1 < argc) config_path = argv[++i];
        else if (a == "--check-config") check_only = true;
        else if (a == "--print-default-config") {
            core::Config c(services::setting_decls());
            std::cout << c.render_defaults();
            return 0;
        } else if (a == "--help" || a == "-h") {
            usage();
            return 0;
        } else {
            std::cerr << "unknown argument: " << a << "\n";
            usage();
            return 2;
        }
    }
    try {
        core::Config cfg = services::load_config(config_path, check_only || access(config_path.c_str(), F_OK) == 0);
        if (check_only) {
            std::cout << "configuration OK\n";
            return 0;
        }
        core::log::Level level;
        if (core::log::parse_level(cfg.str("log_level"), level)) core::log::set_level(level);
        handlers::Context ctx(std::move(cfg));
        // A new generation at every start: nginx forgets what it kept from before (a
        // changed jwt_secret or store, a database restored while the pool was down).
        core::grant::set_generation_link(ctx.cfg.str("grant_generation_link"));
        core::grant::new_generation();
        bootstrap_admin(ctx);
        ctx.auth().dummy_hash();  // made once before fork, so no worker's first unknown-user login is slower
        ctx.drop_connections();  // never share a connection across fork
        core::Router router = handlers::build_router(ctx);
        core::ServerHooks hooks = handlers::build_hooks(ctx);
        hooks.worker_init = [&ctx] {
            ctx.drop_connections();
            // A worker that starts may be replacing one killed mid-upload: what it was
            // receiving or extracting must not stay in the stores.
            ctx.bundle_store().sweep_dead_uploads();
            ctx.attachment_store().sweep_dead_uploads();
        };
        core::PoolOptions opts;
        opts.listen = ctx.cfg.str("listen");
        opts.socket_mode = static_cast<int>(std::strtol(ctx.cfg.str("socket_mode").c_str(), nullptr, 8));
        opts.workers = static_cast<int>(ctx.cfg.integer("workers"));
        if (opts.workers == 0) opts.workers = 2 * static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
        opts.backlog = static_cast<int>(ctx.cfg.integer("backlog"));
        return core::run_pool(opts, router, hooks);
    } catch (const core::ConfigError& e) {
        std::cerr << "synkronus-fcgi: " << e.what() << "\n";
        return 78;  // EX_CONFIG
    }
}
