// The push policy of §5: what a push writes, what is a no-op, and what becomes a
// CONFLICT warning, decided from the stored state of the pushed ids. Plain code, no
// storage: the sync service reads the state, asks this, and has the plan written.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "domain/sync_request.h"

namespace domain {

// What the store holds for one id, as far as the policy needs it.
struct StoredState {
    std::string hash;
    bool deleted = false;
    ObservationFields fields;
    std::string schema_type;  // for the record counts (domain/record_counts.h)
};

struct PushWarning {
    std::string id;
    std::string code;  // "CONFLICT"
    std::string message;
};

// A stored version this push overwrites although the client had not seen it: it is
// kept (in the conflicts table) with the change that replaces it.
struct OverwrittenVersion {
    std::string id;
    std::string client_hash;  // the hash the client said it last saw
    size_t write = 0;         // index into PushPlan::writes of the replacing record
};

// One row to write: the pushed record with the observation fields it ends with (its
// own, or the stored ones it keeps).
struct PushWrite {
    const PushRecord* record;
    ObservationFields fields;
};

struct PushPlan {
    int64_t success_count = 0;  // every valid record, no-ops included
    std::vector<PushWarning> warnings;
    // One record per changed id: the last one pushed for it (an id pushed twice ends as
    // if pushed in two pushes, the later winning), in the order each id first changed.
    // The i-th write takes change id first + i.
    std::vector<PushWrite> writes;
    std::vector<OverwrittenVersion> overwritten;
};

// Distinct ids of `records` in pushed order: the ids whose stored state the plan needs.
std::vector<std::string> distinct_ids(const std::vector<PushRecord>& records);

// Applies `records` in pushed order to `stored` (ids absent from it are new):
// - a record equal to the current state (hash, deleted flag, created_at, updated_at,
//   geolocation: everything the client owns) is a no-op;
// - a record carrying a client hash that differs from the current hash still wins,
//   with a CONFLICT warning; the stored version is kept once per id;
// - otherwise it is written.
// The result points into `records`, which must outlive it.
PushPlan plan_push(const std::vector<PushRecord>& records, const std::map<std::string, StoredState>& stored);

// The user-facing text of a CONFLICT warning.
std::string conflict_message(const std::string& id);

}  // namespace domain
