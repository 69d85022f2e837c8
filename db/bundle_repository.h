// App bundle versions: the record of stored versions and of the active one.
// The files themselves live on disk (services/bundle_store.h); this is what
// every worker and host agrees on.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "db/database.h"

namespace db {

struct BundleVersionRow {
    int64_t version = 0;
    std::string manifest;       // the manifest JSON, as served
    std::string manifest_hash;  // lowercase hex
    std::string zip_sha256;     // lowercase hex of the archive as pushed
    int64_t zip_size = 0;
    int64_t pushed_at_ms = 0;   // for inserts; reads leave it 0
    std::string pushed_by;
};

// The active and the newest stored version, read in one statement.
struct BundleHeads {
    std::optional<int64_t> active;
    std::string active_manifest_hash;
    std::optional<int64_t> newest;
    std::string newest_manifest_hash;
};

struct BundleListEntry {
    int64_t version;
    bool active;
};

enum class SwitchResult { switched, not_found };

class BundleRepository {
public:
    explicit BundleRepository(Database& db) : db_(db) {}

    BundleHeads heads();
    // Newest first.
    std::vector<BundleListEntry> list();
    std::optional<BundleVersionRow> find(int64_t version);
    // The highest stored version below `version`.
    std::optional<int64_t> previous(int64_t version);

    // What a push does inside its transaction, between allocating the version and
    // inserting the row: place the files and return the row. `active` is the
    // version active at that moment (locked: no switch can interleave). Throwing
    // aborts the push and rolls back.
    using Publish = std::function<BundleVersionRow(int64_t version, std::optional<int64_t> active)>;
    // Undoes a Publish whose transaction did not commit (before a retry).
    using Unpublish = std::function<void(int64_t version)>;
    struct PushResult {
        int64_t version;
        bool activated;
    };
    // One transaction holding the state row lock: allocates last_version + 1 (so
    // concurrent pushes in any worker or host get distinct, never reused numbers),
    // publishes, inserts the row and activates it only when no version is active.
    // `zip_sha256` recognizes a commit that went through although the connection
    // was lost before its acknowledgement.
    PushResult push(const std::string& zip_sha256, const Publish& publish, const Unpublish& unpublish);

    // Makes `version` the active one: one row update under the state row lock.
    SwitchResult activate(int64_t version);
    // Leaves no version active, if `version` still is (false when it was not).
    bool deactivate(int64_t version);

    // Retention: deletes the rows of every version beyond the newest `keep`, except
    // the active one, and records them as retired. Returns the retired versions.
    std::vector<int64_t> retire_beyond(int64_t keep);
    // Retired versions whose grace period has passed; forget_retired once their
    // files are gone.
    std::vector<int64_t> retired_due(int64_t grace_seconds);
    void forget_retired(int64_t version);

private:
    Database& db_;
};

}  // namespace db
