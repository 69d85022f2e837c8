#include "services/housekeeping.h"

#include "core/log.h"
#include "db/lease.h"

namespace services {

void run_housekeeping(db::Database& db, const std::string& name, const db::Work& job) {
    if (!db::take_job_turn(db, name, db::kHousekeepingIntervalS)) return;
    try {
        db.run(job);
    } catch (const std::exception& e) {
        core::log::warn("housekeeping job " + name + ": " + e.what());
    }
}

}  // namespace services
