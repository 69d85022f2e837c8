// The attachment store (a service, beside the bundle store and built from the
// same parts in core/files.h): immutable files named by the client, stored once
// per content under attachment_dir, their record in the database
// (db/attachment_repository.h). No HTTP here.
//
// Layout (one filesystem, so publishing is an atomic rename):
//   attachment_dir/tmp/              uploads in progress
//   attachment_dir/files/ab/abcd…    the file whose SHA-256 is abcd…, never changed
//
// A file is in place (fsynced, renamed, directory fsynced) before the row naming
// it commits, and uploads place files under the change counter lock, which
// retention also takes before it removes a file: a file that a live row names is
// never removed. A deletion marks the row and retires the file (unless another
// id has the same bytes); the file goes kRetiredFileGraceSeconds later, on a
// later upload or deletion, so a download authorized just before the deletion is
// handed to nginx, which opens the file long before then.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/files.h"
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
    AttachmentStore(db::Database& db, std::string attachment_dir);

    std::unique_ptr<AttachmentUpload> begin_upload();

    enum class PutResult { stored, unchanged, conflict };
    // Stores the upload under `id` as the id's next change, unless the id already
    // names a live file: the same bytes are `unchanged`, others a `conflict`. Then
    // runs retention. Whatever is not stored leaves nothing behind.
    PutResult put(const std::string& id, std::unique_ptr<AttachmentUpload> upload, const std::string& content_type,
                  const std::string& by);
    // The live attachment `id`, or nullopt (never uploaded, or deleted).
    std::optional<db::AttachmentRow> find(const std::string& id);
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

    // Removes retired files whose grace period has passed, and stale uploads.
    void apply_retention();
    // At worker start: what dead workers of this host left in tmp/.
    void sweep_dead_uploads() const { files_.sweep_dead_owners(); }

private:
    db::Database& db_;
    FileStore files_;
};

}  // namespace services
