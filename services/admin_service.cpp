#include "services/admin_service.h"

#include "core/crypto.h"
#include "core/json.h"
#include "core/qr.h"
#include "core/time_util.h"
#include "core/log.h"
#include "db/overview_repository.h"
#include "db/change_counter.h"
#include "domain/provisioning.h"
#include "db/device_repository.h"
#include "services/bundle_store.h"
#include "services/unit_of_work.h"

namespace services {

std::string AdminService::compute_overview() {
    db::OverviewFigures f;
    db_.transaction([&](db::Tx& tx) { f = db::OverviewRepository(tx).compute(); });
    core::JsonOut o;
    o.begin_object();
    o.key("nodes").begin_array();
    for (const auto& n : db_.node_states())
        o.begin_object().key("address").str(n.address).key("state").str(n.state).end_object();
    o.end_array();
    o.end_object();
    std::string nodes = o.take();

    core::JsonOut m;
    m.begin_object();
    m.key("active_bundle_version");
    if (f.active_bundle_version) m.str(bundle_version_name(*f.active_bundle_version));
    else m.w().Null();
    m.key("current_version").num(f.current_version);
    int64_t records = 0, deleted = 0;
    for (const auto& t : f.form_types) records += t.records, deleted += t.deleted;
    m.key("counts").begin_object()
        .key("users").num(f.users)
        .key("devices").num(f.devices)
        .key("devices_seen_24h").num(f.devices_seen_24h)
        .key("records").num(records)
        .key("deleted_records").num(deleted)
        .key("attachments").num(f.attachments)
        .key("attachment_bytes").num(f.attachment_bytes)
        .end_object();
    m.key("form_types").begin_array();
    for (const auto& t : f.form_types)
        m.begin_object().key("form_type").str(t.form_type).key("records").num(t.records).key("deleted").num(t.deleted)
            .key("last_synced_at").str(t.last_synced_at).end_object();
    m.end_array();
    m.end_object();
    std::string members = m.take();
    // {"database":{"nodes":[...]}, then the figures' members without their braces.
    return "\"database\":" + nodes + "," + members.substr(1, members.size() - 2);
}

std::string AdminService::overview_members() {
    using Repo = db::OverviewRepository;
    const int64_t now = core::unix_now_ms();
    auto cached = run_with<Repo>(db_, [](Repo& r) { return r.cached(); });
    if (cached && now - cached->computed_at_ms < kOverviewMaxAgeMs) return cached->body;
    // Computing is cheap (no scan of the records), so whoever finds the row old
    // computes and stores it; two doing so at once both answer fresh figures and the
    // later row stays.
    std::string fresh = compute_overview();
    try {
        db_.run([&](db::Tx& tx) { Repo(tx).store(fresh, core::unix_now_ms()); });
    } catch (const std::exception& e) {
        core::log::warn(std::string("overview figures not stored: ") + e.what());  // answered all the same
    }
    return fresh;
}

DevicePage AdminService::devices(const std::optional<std::pair<std::string, std::string>>& after, int limit) {
    DevicePage p;
    db_.run([&](db::Tx& tx) {
        p.devices = db::DeviceRepository(tx).page(after, limit);
        p.current_version = db::read_change_counter(tx);
    });
    return p;
}

Provisioned AdminService::provision(const std::string& username, const std::string& role,
                                    const std::string& server_url, const Actor& by) {
    Provisioned p;
    p.password = domain::provision_password(core::random_bytes(domain::kProvisionRandomBytes));
    p.result = UserService(db_, params_).provision(username, role, p.password, by);
    if (p.result == UserService::ProvisionResult::is_admin) return p;
    p.frmls = domain::frmls_string(server_url, username, p.password);
    p.qr_svg = core::qr_svg(core::qr_encode(p.frmls));
    return p;
}

}  // namespace services
