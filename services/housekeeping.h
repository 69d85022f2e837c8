// Housekeeping (deleting expired rows) piggybacks on requests, so no cron job is
// needed; a lease (db/lease.h) keeps each job to one run per interval cluster-wide.
#pragma once
#include <string>

#include "db/database.h"

namespace services {

// Runs `job` as one autocommit unit of work unless it ran (on any host) within the
// last db::kHousekeepingIntervalS seconds or is running now. Never throws: a failing
// job is logged and must not fail the request that triggered it.
void run_housekeeping(db::Database& db, const std::string& name, const db::Work& job);

}  // namespace services
