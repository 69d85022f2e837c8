#include "domain/record_counts.h"

#include <utility>

namespace domain {

std::vector<CountChange> count_changes(const std::vector<PushWrite>& writes,
                                       const std::map<std::string, StoredState>& stored) {
    std::map<std::pair<std::string, bool>, int64_t> sum;
    for (const auto& w : writes) {
        const auto& r = *w.record;
        // A plan writes each id at most once (PushPlan::writes), so the stored state
        // is the state this write replaces.
        const auto it = stored.find(r.id);
        if (it != stored.end()) {
            if (it->second.schema_type == r.schema_type && it->second.deleted == r.deleted) continue;
            --sum[{it->second.schema_type, it->second.deleted}];
        }
        ++sum[{r.schema_type, r.deleted}];
    }
    std::vector<CountChange> out;
    for (const auto& [key, n] : sum)
        if (n != 0) out.push_back({key.first, key.second, n});
    return out;
}

}  // namespace domain
