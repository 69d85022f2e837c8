// Named leases in the database: at most one process, on any host, holds a lease at a
// time. They replace GET_LOCK, which is local to one Galera node and so serializes
// nothing between two hosts on two nodes.
//
// Why a lease row serializes across a Galera cluster: taking it is one autocommit
// UPDATE of the row, conditioned on the lease being free. On one server the row lock
// orders two takers and the second finds the lease held (0 rows). On Galera the row
// lock is node-local, but both takers write the same row, so their write-sets carry
// the same key and certification lets only the first in the global order commit; the
// other fails with a deadlock error (1213), which counts as "not taken". A taker that
// saw a stale row on a lagging node fails the same way. So exactly one takes it.
#pragma once
#include <string>

#include "db/database.h"

namespace db {

// The lease table comes from sql/010_job_leases.sql, which the migration runner runs
// before it takes its own lease (db/migrate.cpp).
constexpr const char* kLeaseMigration = "010_job_leases.sql";

class Lease {
public:
    // `holder` names this process in the row (host, pid), for the operator.
    Lease(Database& db, std::string name, std::string holder);
    // One attempt: true when this process now holds the lease for `seconds` (taking it
    // again, while held, extends it).
    bool try_take(int seconds);
    // Waits (polling) until taken or `wait_s` passed; throws db::Error naming the holder.
    void take(int seconds, int wait_s);
    // Frees the lease if this process holds it.
    void release();

private:
    Database& db_;
    std::string name_;
    std::string holder_;
};

// A name for this process: hostname:pid.
std::string lease_holder_name();

// How often each housekeeping job (deleting expired rows) may run, cluster-wide.
constexpr int kHousekeepingIntervalS = 60;

// Whether this process runs the housekeeping job `name` now: false when it ran (on
// any host) within the last `interval_s` seconds or is running now (the lease is
// taken for the interval and not released). Never throws: housekeeping failing must
// not fail the request that triggered it. The caller (a service) runs the job.
bool take_job_turn(Database& db, const std::string& name, int interval_s);

}  // namespace db
