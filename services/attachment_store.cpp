// Why the manifest's since_version cursor never skips
// ----------------------------------------------------
// An upload or a deletion takes its version from the same counter row as record
// pushes (sync_counter, db/change_counter.h; the argument for records is at the
// top of services/sync_service.cpp). In one transaction it locks that row (SELECT ... FOR
// UPDATE), writes the attachment row with version = counter + 1, raises the
// counter and commits: the row and the raised counter become visible together,
// and writers commit one at a time in version order. A manifest reads the counter
// and then the rows with version <= that counter in one transaction, i.e. one
// snapshot: if it sees counter C it sees every row whose version is <= C, so the
// current_version C it hands out never passes a change it did not list. A version
// taken in its own autocommit statement before the row is written would break
// this: a manifest could see the raised counter without the row, and the client
// would store a cursor past it.
//
// Why the file is placed inside the upload's transaction, after the counter lock
// and the id check: retention removes a retired file only under the same counter
// lock and only when no live row names its bytes (apply_retention), so while an
// upload holds the lock no file it may be about to name can go, and once its row
// commits the file is named by a live row. Placed before the lock, retention could
// remove a file of the same bytes between the placement and the row; placed after
// COMMIT, a manifest could list an attachment whose file is not there yet. A
// rerun of the transaction finds the file already placed (same bytes, same name).
#include "services/attachment_store.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "core/log.h"
#include "db/attachment_repository.h"
#include "db/change_counter.h"
#include "services/unit_of_work.h"

namespace services {

namespace {
using Repo = db::AttachmentRepository;

// The one rule for an upload to an id that already names a live file.
std::optional<AttachmentStore::PutResult> outcome_for_existing(const std::optional<db::AttachmentRow>& existing,
                                                               const std::string& sha256) {
    if (!existing || existing->deleted) return std::nullopt;
    return existing->sha256 == sha256 ? AttachmentStore::PutResult::unchanged : AttachmentStore::PutResult::conflict;
}
}

AttachmentStore::AttachmentStore(db::Database& db, std::string attachment_dir)
    : db_(db), files_(std::move(attachment_dir)) {}

std::string AttachmentStore::relative_path(const std::string& sha256) { return sha256.substr(0, 2) + "/" + sha256; }

std::string AttachmentStore::file_path(const std::string& sha256) const {
    return files_.path("files/" + relative_path(sha256));
}

std::unique_ptr<AttachmentUpload> AttachmentStore::begin_upload() {
    files_.make_dirs("files");
    return files_.begin_upload("upload-");
}

AttachmentStore::PutResult AttachmentStore::put(const std::string& id, std::unique_ptr<AttachmentUpload> upload,
                                                const std::string& content_type, const std::string& by) {
    db::AttachmentRow row;
    row.attachment_id = id;
    row.sha256 = upload->sha256_hex();
    row.size = static_cast<int64_t>(upload->size());
    row.content_type = content_type;
    // The usual retry of a finished upload is answered without the counter lock.
    if (auto done = outcome_for_existing(run_with<Repo>(db_, [&](Repo& r) { return r.find(id); }), row.sha256))
        return *done;

    core::make_dir(files_.path("files/" + row.sha256.substr(0, 2)));
    bool placed = false;
    PutResult result = PutResult::stored;
    db_.transaction([&](db::Tx& tx) {
        Repo repo(tx);
        const int64_t version = db::lock_change_counter(tx) + 1;
        if (auto done = outcome_for_existing(repo.find_for_update(id), row.sha256)) {
            result = *done;
            return;
        }
        if (!placed) {  // a rerun finds the file already there
            upload->publish(file_path(row.sha256));
            placed = true;
        }
        repo.upsert(row, version, by);
        db::set_change_counter(tx, version);
        // The bytes are live again: a pending removal of the same file is void.
        repo.forget_retired_file(row.sha256);
        result = PutResult::stored;
    });
    if (result == PutResult::stored)
        core::log::info("attachment '" + id + "' stored (" + std::to_string(row.size) + " bytes) by '" + by + "'");
    try {
        apply_retention();
    } catch (const std::exception& e) {
        core::log::warn(std::string("attachment retention: ") + e.what());
    }
    return result;
}

std::optional<db::AttachmentRow> AttachmentStore::find(const std::string& id) {
    auto row = run_with<Repo>(db_, [&](Repo& r) { return r.find(id); });
    if (!row || row->deleted) return std::nullopt;
    return row;
}

bool AttachmentStore::remove(const std::string& id, const Actor& by) {
    bool removed = false;
    db_.transaction([&](db::Tx& tx) {
        Repo repo(tx);
        removed = false;
        const int64_t version = db::lock_change_counter(tx) + 1;
        auto existing = repo.find_for_update(id);
        if (!existing || existing->deleted) return;
        repo.mark_deleted(id, version, by.name);
        db::set_change_counter(tx, version);
        // When no other live attachment has its bytes, the file is retired.
        if (!repo.sha_is_live(existing->sha256)) repo.retire_file(existing->sha256);
        audit(tx, by, "attachment.delete", id);
        removed = true;
    });
    if (!removed) return false;
    core::log::info("attachment '" + id + "' deleted by '" + by.name + "'");
    try {
        apply_retention();
    } catch (const std::exception& e) {
        core::log::warn(std::string("attachment retention: ") + e.what());
    }
    return true;
}

AttachmentChanges AttachmentStore::changes_since(int64_t since) {
    AttachmentChanges out;
    // A transaction only for its snapshot: the counter and the rows are read in one.
    db_.transaction([&](db::Tx& tx) {
        out.current_version = db::read_change_counter(tx);
        out.rows = Repo(tx).changes(since, out.current_version);
    });
    return out;
}

std::vector<db::AttachmentRow> AttachmentStore::live() {
    return run_with<Repo>(db_, [](Repo& r) { return r.live(); });
}

bool AttachmentStore::referenced(const std::string& id) {
    return run_with<Repo>(db_, [&](Repo& r) { return r.referenced(id); });
}

void AttachmentStore::apply_retention() {
    const auto due = run_with<Repo>(db_, [](Repo& r) { return r.retired_due(core::kRetiredFileGraceSeconds); });
    for (const std::string& sha : due) {
        db_.transaction([&](db::Tx& tx) {
            Repo repo(tx);
            db::lock_change_counter(tx);  // only the lock: uploads place files under it
            // An upload of the same bytes since makes the file live again: it stays.
            if (!repo.sha_is_live(sha)) {
                const std::string path = file_path(sha);
                if (::unlink(path.c_str()) != 0 && errno != ENOENT)
                    throw std::runtime_error("removing " + path + ": " + std::strerror(errno));
            }
            repo.forget_retired_file(sha);
        });
    }
    files_.sweep_stale();
}

std::vector<AttachmentStore::Problem> AttachmentStore::check() {
    std::vector<Problem> problems;
    for (const auto& row : live())
        if (auto problem = FileStore::verify(file_path(row.sha256), row.sha256, static_cast<uint64_t>(row.size)))
            problems.push_back({row.attachment_id, *problem});
    return problems;
}

}  // namespace services
