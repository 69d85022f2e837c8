#include "domain/push_policy.h"

#include <set>

namespace domain {

namespace {

struct Current {
    StoredState state;
    bool stored;  // the version in the store, not one written earlier in this push
};

bool same_content(const StoredState& s, const PushRecord& r, const ObservationFields& fields) {
    return s.hash == r.hash && s.deleted == r.deleted && s.fields == fields;
}

}  // namespace

std::vector<std::string> distinct_ids(const std::vector<PushRecord>& records) {
    std::vector<std::string> ids;
    std::set<std::string_view> seen;
    for (const auto& r : records)
        if (seen.insert(r.id).second) ids.push_back(r.id);
    return ids;
}

std::string conflict_message(const std::string& id) {
    return "Record " + id +
           " was changed on the server since the client last saw it; "
           "this push overwrote it and the previous version was kept";
}

PushPlan plan_push(const std::vector<PushRecord>& records, const std::map<std::string, StoredState>& stored) {
    PushPlan plan;
    std::map<std::string_view, Current> current;
    for (const auto& [id, s] : stored) current.emplace(id, Current{s, true});
    std::map<std::string_view, size_t> write_of;
    for (const auto& r : records) {
        ++plan.success_count;
        auto it = current.find(r.id);
        const bool exists = it != current.end();
        const ObservationFields& fields = exists && r.keeps_fields ? it->second.state.fields : r.fields;
        if (exists && same_content(it->second.state, r, fields)) continue;
        size_t write;
        if (auto w = write_of.find(r.id); w != write_of.end()) {
            write = w->second;
            plan.writes[write] = PushWrite{&r, fields};
        } else {
            write = plan.writes.size();
            write_of.emplace(r.id, write);
            plan.writes.push_back(PushWrite{&r, fields});
        }
        if (exists && r.client_hash && *r.client_hash != it->second.state.hash) {
            if (it->second.stored) plan.overwritten.push_back({r.id, *r.client_hash, write});
            plan.warnings.push_back({r.id, "CONFLICT", conflict_message(r.id)});
        }
        current.insert_or_assign(r.id, Current{StoredState{r.hash, r.deleted, plan.writes[write].fields, r.schema_type}, false});
    }
    return plan;
}

}  // namespace domain
