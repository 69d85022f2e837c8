// What the admin console reads beyond users and sync (CONTRACT §8): the overview,
// devices and provisioning. The audit log is services/audit.h.
#pragma once
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/password.h"
#include "db/database.h"
#include "db/rows.h"
#include "services/audit.h"
#include "services/user_service.h"

namespace services {

// How old the overview's figures may be.
constexpr int64_t kOverviewMaxAgeMs = 10000;

struct DevicePage {
    std::vector<db::DeviceRow> devices;
    int64_t current_version = 0;  // the change counter, for each device's `behind`
    // Changes committed after the device's cursor (the change counter counts every
    // record change and attachment change, one id each); nullopt when it never pulled.
    std::optional<int64_t> behind(const db::DeviceRow& d) const {
        if (!d.cursor) return std::nullopt;
        return std::max<int64_t>(0, current_version - *d.cursor);
    }
};

struct Provisioned {
    UserService::ProvisionResult result;
    std::string password;  // shown once; stored only as its hash
    std::string frmls;
    std::string qr_svg;
};

class AdminService {
public:
    AdminService(db::Database& db, core::PasswordParams params) : db_(db), params_(params) {}

    // The overview's JSON members after "server": `"database":{"nodes":[...]},
    // "active_bundle_version":...,"current_version":...,"counts":{...},"form_types":[...]`.
    //
    // How the figures are kept: the record counts are rows that every push updates in
    // its own transaction (record_counts, sql/011_record_counts.sql; the argument is in
    // SyncService::apply), so they are exact at every commit and reading them costs
    // one row per (form type, deleted), whatever the size of the store; a form type's
    // last_synced_at is one index dive. The other figures are counts of small tables
    // (users, device_presence, live attachments). The last computation is one row
    // (overview_cache) that every worker and host reads; when it is older than
    // kOverviewMaxAgeMs, the request that notices recomputes and stores it
    // (milliseconds at a million records: README, "The admin overview's figures").
    // So the figures are at most 10 s old, and the database computes them at most
    // about once per 10 s however often the console asks.
    std::string overview_members();

    DevicePage devices(const std::optional<std::pair<std::string, std::string>>& after, int limit);

    // Creates the device user or gives it a new password; is_admin: nothing changed.
    Provisioned provision(const std::string& username, const std::string& role, const std::string& server_url,
                          const Actor& by);

private:
    std::string compute_overview();
    db::Database& db_;
    core::PasswordParams params_;
};

}  // namespace services
