// The changes a push makes to the record counts the admin overview reads (the
// record_counts table, sql/011_record_counts.sql): how many records each
// (form type, deleted flag) gains or loses.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "domain/push_policy.h"

namespace domain {

struct CountChange {
    std::string form_type;
    bool deleted = false;
    int64_t records = 0;  // may be negative
};

// For the writes of one push plan over the stored state it was planned against:
// a new id adds one to its (type, deleted); an existing id moves from its stored
// (type, deleted) to its written one (nothing when they are the same). Changes that
// sum to zero are left out; the result is sorted by (form_type, deleted), so every
// push updates the rows in one order.
std::vector<CountChange> count_changes(const std::vector<PushWrite>& writes,
                                       const std::map<std::string, StoredState>& stored);

}  // namespace domain
