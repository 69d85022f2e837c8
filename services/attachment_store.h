// The attachment store (a service, beside the bundle store and built from the
// same parts in core/files.h): immutable files named by the client, stored once
// per content under attachment_dir, their record in the database
// (db/attachment_repository.h). No HTTP here.
//
// Layout (one filesystem, so publishing is an atomic rename):
//   attachment_dir/tmp/              uploads in progress
//   attachment_dir/files/ab/abcd…    the file whose SHA-256 is abcd…, never changed
//
// A file is in place (fsynced, named, directory fsynced) before the row naming it
// commits; an upload does that before taking the change counter lock and checks
// under the lock that the name still holds its file (services/attachment_store.cpp
// says why), and retention removes a file only under that lock: a file that a live
// row names is never removed. A deletion marks the row and retires the file (unless another
// id has the same bytes); the file goes kRetiredFileGraceSeconds later, on a
// later upload or deletion, so a download authorized just before the deletion is
// handed to nginx, which opens the file long before then.
//
// Metadata cache (issue 18): an attachment's row never changes while it is live
// (a new upload to a live id is refused), so find() keeps live rows per worker for
// `cache_ms` (attachment_cache_ms) and at most kMetaCacheEntries of them. A deletion
// is the only change a cached row can miss: on this host it raises a generation
// counter in memory shared by the pool (as bundle pushes do), which makes every
// worker drop its cache before its next lookup; on other hosts a worker may still
// serve the deleted id for at most cache_ms after it last read the row. Absence is
// never cached, so a new upload is found at once everywhere.
#pragma once
#include <atomic>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/files.h"
#include "core/ttl_cache.h"
#include "services/file_store.h"
#include "db/database.h"
#include "db/rows.h"
#include "services/audit.h"

namespace services {

using AttachmentUpload = core::TempFile;

// Every attachment whose latest change is after a client's since_version, and the
// counter they are bounded by, read in one snapshot.
struct AttachmentChanges {
    int64_t current_version = 0;
    std::vector<db::AttachmentRow> rows;  // ascending version
};

class AttachmentStore {
public:
    // `generation`: shared by the workers of this host (nullptr: no cache across
    // workers, as in synkronus-admin); `cache_ms` 0 turns the metadata cache off.
    AttachmentStore(db::Database& db, std::string attachment_dir, std::atomic<uint64_t>* generation = nullptr,
                    int64_t cache_ms = 0);
    static constexpr size_t kMetaCacheEntries = 4096;

    std::unique_ptr<AttachmentUpload> begin_upload();

    enum class PutResult { stored, unchanged, conflict };
    // Stores the upload under `id` as the id's next change, unless the id already
    // names a live file: the same bytes are `unchanged`, others a `conflict`. Then
    // runs retention. Whatever is not stored leaves nothing behind.
    PutResult put(const std::string& id, std::unique_ptr<AttachmentUpload> upload, const std::string& content_type,
                  const std::string& by);
    // The live attachment `id`, or nullopt (never uploaded, or deleted).
    // `fresh`: read from the database even when the cache holds the row (for an answer
    // nginx keeps, core/grant.h, whose own delay must not add to the cache's).
    std::optional<db::AttachmentRow> find(const std::string& id, bool fresh = false);
    // False when there is no live attachment `id`.
    // With an attachment.delete audit event in the same transaction.
    bool remove(const std::string& id, const Actor& by);
    AttachmentChanges changes_since(int64_t since);

    // Where a file lives, relative to attachment_dir/files: "ab/abcd…".
    static std::string relative_path(const std::string& sha256);
    std::string file_path(const std::string& sha256) const;

    // synkronus-admin.
    std::vector<db::AttachmentRow> live();
    bool referenced(const std::string& id);
    struct Problem {
        std::string attachment_id;
        std::string what;
    };
    // Every live attachment's file exists with its size and hash.
    std::vector<Problem> check();

    // Removes retired files whose grace period has passed, and stale uploads; runs
    // after an upload or a deletion, at most once per kRetentionIntervalMs per worker.
    void apply_retention();
    static constexpr int64_t kRetentionIntervalMs = 1000;
    // At worker start: what dead workers of this host left in tmp/.
    void sweep_dead_uploads() const { files_.sweep_dead_owners(); }

private:
    db::Database& db_;
    FileStore files_;
    std::atomic<uint64_t>* generation_;
    uint64_t seen_generation_ = 0;
    core::TtlCache<std::string, db::AttachmentRow> meta_cache_;
    int64_t next_sweep_ms_ = 0;
    int64_t next_retention_ms_ = 0;
    bool dirs_made_ = false;
    std::set<std::string> prefix_dirs_made_;  // files/ab/, at most 256
    // put() runs the procedure attachment_put (sql/013) until it is found missing (a
    // database restored from a dump made without --routines): then, for the rest of
    // this worker's life, the statements it stands for, with a warning once.
    bool put_procedure_ = true;
    void make_dirs_once(const std::string& prefix);
    void forget_made_dirs();
    // The live row of `id` if this worker's metadata cache holds it (no query); find()
    // asks it first.
    std::optional<db::AttachmentRow> cached(const std::string& id, int64_t now_ms);
    // Drops the cache when a worker of this host deleted an attachment since.
    void follow_generation();
    void changed();
};

}  // namespace services
