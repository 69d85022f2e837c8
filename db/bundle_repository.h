// App bundle versions: the record of stored versions and of the active one.
// The files themselves live on disk (services/bundle_store.h); this is what
// every worker and host agrees on.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/database.h"
#include "db/rows.h"

namespace db {

// The one bundle_state row: the last number handed out and the active version.
struct BundleState {
    int64_t last_version = 0;
    std::optional<int64_t> active;
};

// Statements only; the transactions, the push and activation rules and the files
// belong to services::BundleStore.
class BundleRepository {
public:
    explicit BundleRepository(Tx& tx) : tx_(tx) {}

    BundleHeads heads();
    // Newest first.
    std::vector<BundleListEntry> list();
    std::optional<BundleVersionRow> find(int64_t version);
    // The highest stored version below `version`.
    std::optional<int64_t> previous(int64_t version);
    // The archive hash of a stored version (nullopt when there is no such row).
    std::optional<std::string> zip_sha256(int64_t version);

    // The state row, locked until the transaction ends: every push, switch and
    // retention takes this lock first, so they are ordered one after another.
    BundleState lock_state();
    void set_last_version(int64_t version);
    void set_active(std::optional<int64_t> version);
    void insert(const BundleVersionRow& row);
    // Deletes the row of `version` and records it as retired (its files go later).
    void retire(int64_t version);
    // Retired versions whose grace period has passed; forget_retired once their
    // files are gone.
    std::vector<int64_t> retired_due(int64_t grace_seconds);
    void forget_retired(int64_t version);

private:
    Tx& tx_;
};

}  // namespace db
