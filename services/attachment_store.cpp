// Why the manifest's since_version cursor never skips
// ----------------------------------------------------
// An upload or a deletion takes its version from the same counter row as record
// pushes (sync_counter, db/change_counter.h; the argument for records is at the
// top of services/sync_service.cpp). In one transaction it locks that row (a deletion
// by SELECT ... FOR UPDATE; an upload by the UPDATE that raises it, issue 18), writes
// the attachment row with version = counter + 1 (an upload's INSERT reads the raised
// counter, which its own transaction holds locked), raises the counter and commits: the row and the raised counter become visible together,
// and writers commit one at a time in version order. A manifest reads the counter
// and then the rows with version <= that counter in one transaction, i.e. one
// snapshot: if it sees counter C it sees every row whose version is <= C, so the
// current_version C it hands out never passes a change it did not list. A version
// taken in its own autocommit statement before the row is written would break
// this: a manifest could see the raised counter without the row, and the client
// would store a cursor past it.
//
// Why the overview's attachment totals stay exact
// -----------------------------------------------
// attachment_totals (sql/012_attachment_totals.sql) holds the live attachments'
// count and bytes. Only two statements change which rows are live: the upsert of an
// upload, which runs only when the id is absent or deleted (a live id is answered
// before it), and the deletion of a live row. Each adds its (1, size) or (-1, -size)
// to the totals in the transaction that changes the row, after the counter lock, so
// the totals commit with the change or vanish with it (a rollback, a MariaDB crash)
// and no two writers interleave. The counter lock is already held to COMMIT, so the
// totals row adds no lock wait on one host; on Galera every such transaction also
// writes the counter row, so the totals row adds no certification conflict that
// was not there already.
//
// Why the file is made durable before the counter lock (issue 18)
// -----------------------------------------------------------------
// Every upload, deletion and record push waits for the counter lock, so whatever an
// upload does while holding it is paid once per upload by all of them in turn. The
// slow parts of storing a file are two fsyncs (its bytes, then its directory after
// the new name): both are done first, outside the lock, and many uploads' fsyncs
// then overlap in the disk's queue instead of following one another. The file is
// received with no name at all (O_TMPFILE in tmp/; core::TempFile::Unnamed), gets
// its final name by linkat once its bytes are fsynced, and its directory is fsynced
// once for that name, which a later rename would have needed again. No temporary
// name is made or removed, and a worker killed mid-upload leaves nothing in tmp/.
// The order that makes a 200 mean "durable" does not lean on any filesystem's
// journal: fsync of the file (bytes and inode) before the name exists, fsync of the
// directory after, the row's COMMIT after both. Where O_TMPFILE is missing, a named
// temporary file is used as before (its name stays until the upload ends).
// What the lock protected still holds: retention removes a file only under the
// counter lock and only when no live row names its bytes (apply_retention). Under
// the lock the upload checks that its final name still names the file it made
// durable (same device, inode and change time). If so, nothing can remove it until
// the row commits, and then a live row names it. If not (retention removed it in
// between, and maybe another upload of the same bytes put a new one there), it links
// and fsyncs again, under the lock, as every upload used to: the rare case pays the
// old price (an unnamed file whose only name was removed can not be linked again:
// its bytes are first copied into a named file in tmp/ and fsynced, link_durably).
// Placing after COMMIT would let a manifest list an attachment whose file is not
// there yet. A 200 therefore still means: the bytes and their name are on
// disk, the row is committed. Bytes placed for an upload that is then not stored (a
// 409, or a concurrent upload of the same id won) are retired like a deleted
// attachment's, so retention removes them unless a live row names the same bytes.
// On a filesystem without hard links the file is published (fsync, rename, directory
// fsync) under the lock, as before.
//
// What an upload runs (issue 18): START TRANSACTION; one UPDATE that locks and raises
// the counter and adds to the totals; an INSERT that leaves a live row untouched (0
// rows affected: the row is read for the 409/200 and everything rolls back); the
// name check above; the retired-file DELETE only when the name was already there
// (only such a name can have a pending removal; a retired row that outlived its
// file is harmless, since retention removes nothing a live row names, and forgets
// it); COMMIT. No SELECT before the lock, and retention's query at most once a
// second per worker. The first three go in one round trip: CALL attachment_put
// (sql/013_attachment_put.sql) runs them in this order on the server, so an upload
// of a new id waits for the database twice (the CALL, the COMMIT), not four times;
// nothing about the lock changes (the counter row is locked by the CALL's UPDATE and
// held to the COMMIT, which still follows the name check), and a rerun after a
// deadlock or a Galera conflict runs the CALL again from the start of a new
// transaction. Where the procedure is missing (a dump restored without its
// routines), the worker says so once and sends the statements one by one.
#include "services/attachment_store.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "core/grant.h"
#include "core/log.h"
#include "core/time_util.h"
#include "db/attachment_repository.h"
#include "db/change_counter.h"
#include "services/unit_of_work.h"

namespace services {

namespace {
using Repo = db::AttachmentRepository;
constexpr int kNoSuchProcedure = 1305;  // ER_SP_DOES_NOT_EXIST

// The one rule for an upload to an id that already names a live file.
std::optional<AttachmentStore::PutResult> outcome_for_existing(const std::optional<db::AttachmentRow>& existing,
                                                               const std::string& sha256) {
    if (!existing || existing->deleted) return std::nullopt;
    return existing->sha256 == sha256 ? AttachmentStore::PutResult::unchanged : AttachmentStore::PutResult::conflict;
}
}

AttachmentStore::AttachmentStore(db::Database& db, std::string attachment_dir, std::atomic<uint64_t>* generation,
                                 int64_t cache_ms)
    : db_(db), files_(std::move(attachment_dir)), generation_(generation),
      meta_cache_(generation ? kMetaCacheEntries : 0, cache_ms) {}

std::string AttachmentStore::relative_path(const std::string& sha256) { return sha256.substr(0, 2) + "/" + sha256; }

std::string AttachmentStore::file_path(const std::string& sha256) const {
    return files_.path("files/" + relative_path(sha256));
}

// The store's directories are made (mkdir + chmod) once per worker, not on every
// upload; if one has gone since (removed by hand), the failure forgets what was made,
// so the next upload makes them again.
void AttachmentStore::make_dirs_once(const std::string& prefix) {
    if (!dirs_made_) {
        files_.make_dirs("files");
        dirs_made_ = true;
    }
    if (!prefix.empty() && !prefix_dirs_made_.count(prefix)) {
        core::make_dir(files_.path("files/" + prefix));
        prefix_dirs_made_.insert(prefix);
    }
}

void AttachmentStore::forget_made_dirs() {
    dirs_made_ = false;
    prefix_dirs_made_.clear();
}

std::unique_ptr<AttachmentUpload> AttachmentStore::begin_upload() {
    make_dirs_once({});
    try {
        return files_.begin_unnamed_upload("upload-");
    } catch (...) {
        forget_made_dirs();
        throw;
    }
}

AttachmentStore::PutResult AttachmentStore::put(const std::string& id, std::unique_ptr<AttachmentUpload> upload,
                                                const std::string& content_type, const std::string& by) {
    upload->sync();  // before sha256_hex(), which closes a named file
    db::AttachmentRow row;
    row.attachment_id = id;
    row.sha256 = upload->sha256_hex();
    row.size = static_cast<int64_t>(upload->size());
    row.content_type = content_type;
    // A retry of a finished upload that this worker knows is answered from the metadata
    // cache (a live row never changes); otherwise the transaction below finds out. No
    // query here: absence is not cached, and a new id is the usual case.
    if (auto done = outcome_for_existing(cached(id, core::unix_now_ms()), row.sha256)) return *done;

    struct IdIsLive {};  // aborts (rolls back) the transaction below
    PutResult result = PutResult::stored;
    bool linked = false;
    bool existed = false;  // the name was there before this upload linked it
    const std::string dest = file_path(row.sha256);
    try {
        make_dirs_once(row.sha256.substr(0, 2));
        std::optional<core::FileId> made = upload->link_durably(dest, &existed);  // nullopt: no hard links here
        linked = made.has_value();
        bool placed = false;
        bool by_procedure = put_procedure_;
        const db::Work unit = [&](db::Tx& tx) {
            Repo repo(tx);
            // The counter row is locked by the first statement, until COMMIT.
            bool inserted;
            if (by_procedure) {  // START TRANSACTION, the UPDATE and the INSERT below, in one CALL
                inserted = repo.put_if_not_live(row, by, tx.must_begin());
            } else {
                if (!repo.raise_counter_and_totals(1, row.size)) {  // no totals row yet: as before issue 18
                    const int64_t version = db::lock_change_counter(tx) + 1;
                    repo.add_to_totals(1, row.size);
                    db::set_change_counter(tx, version);
                }
                inserted = repo.insert_if_not_live(row, by);
            }
            if (!inserted) {
                // Live: the counter and totals just raised are rolled back with IdIsLive.
                result = outcome_for_existing(repo.find(id), row.sha256).value_or(PutResult::conflict);
                throw IdIsLive{};
            }
            if (made) {
                if (core::file_id(dest) != made) {  // retention took it meanwhile
                    made = upload->link_durably(dest, &existed);
                    existed = true;  // what was there may have been retired: forget it below
                }
            } else if (!placed) {  // a rerun finds the file already there
                upload->publish(dest);
                placed = true;
                existed = true;  // rename does not say whether it replaced a name
            }
            // The bytes are live again: a pending removal of the same file is void. Only a
            // file that was already there can have one (retire_file names a file that
            // exists, and retention forgets the row when it removes the file); a row that
            // outlived its file (a retention that removed it and then failed to commit)
            // is harmless: retention removes nothing a live row names.
            if (existed) repo.forget_retired_file(row.sha256);
            result = PutResult::stored;
        };
        try {
            if (by_procedure) db_.transaction_opened_by_work(unit);
            else db_.transaction(unit);
        } catch (const db::Error& e) {
            if (!by_procedure || e.code() != kNoSuchProcedure) throw;
            // Nothing ran: the CALL failed before its START TRANSACTION.
            core::log::warn(std::string("attachment uploads: ") + e.what() +
                            "; running its statements one by one (restore the routines: mariadb-dump --routines, "
                            "or apply sql/013_attachment_put.sql again)");
            put_procedure_ = by_procedure = false;
            db_.transaction(unit);
        }
    } catch (const IdIsLive&) {
        // result says which; nothing was written.
    } catch (...) {
        forget_made_dirs();
        throw;
    }
    if (result == PutResult::stored) {
        core::log::info("attachment '" + id + "' stored (" + std::to_string(row.size) + " bytes) by '" + by + "'");
    } else if (linked && result == PutResult::conflict) {
        // Placed, then not stored (unchanged needs nothing: a live row names these very
        // bytes). Under the counter lock, as retention removes files, and only when no
        // live row names the bytes: a name this upload made, which no row has named, is
        // removed at once (nobody can have been handed it for download; an upload of
        // the same bytes that found it links its own again under the lock); a name
        // that was there before is retired as a deletion retires it.
        db_.transaction([&](db::Tx& tx) {
            Repo repo(tx);
            db::lock_change_counter(tx);
            if (repo.sha_is_live(row.sha256)) return;
            if (existed) {
                repo.retire_file(row.sha256);
            } else if (::unlink(dest.c_str()) != 0 && errno != ENOENT) {
                throw std::runtime_error("removing " + dest + ": " + std::strerror(errno));
            }
        });
    }
    try {
        apply_retention();
    } catch (const std::exception& e) {
        core::log::warn(std::string("attachment retention: ") + e.what());
    }
    return result;
}

void AttachmentStore::follow_generation() {
    if (!generation_) return;
    uint64_t g = generation_->load(std::memory_order_acquire);
    if (g != seen_generation_) {
        meta_cache_.clear();
        seen_generation_ = g;
    }
}

void AttachmentStore::changed() {
    if (generation_) generation_->fetch_add(1, std::memory_order_acq_rel);
    core::grant::new_generation();  // and what nginx keeps (core/grant.h)
}

std::optional<db::AttachmentRow> AttachmentStore::cached(const std::string& id, int64_t now_ms) {
    follow_generation();
    return meta_cache_.find(id, now_ms);
}

std::optional<db::AttachmentRow> AttachmentStore::find(const std::string& id, bool fresh) {
    // The generation is read (by cached) before the row: a deletion committed after
    // this read raises it again, so the row stored below is dropped before the next lookup.
    const int64_t now = core::unix_now_ms();
    if (auto hit = cached(id, now); hit && !fresh) return hit;
    auto row = run_with<Repo>(db_, [&](Repo& r) { return r.find(id); });
    if (!row || row->deleted) return std::nullopt;
    meta_cache_.put(id, *row, now);
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
        repo.add_to_totals(-1, -existing->size);
        db::set_change_counter(tx, version);
        // When no other live attachment has its bytes, the file is retired.
        if (!repo.sha_is_live(existing->sha256)) repo.retire_file(existing->sha256);
        audit(tx, by, "attachment.delete", id);
        removed = true;
    });
    if (!removed) return false;
    meta_cache_.erase(id);
    changed();
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
    // At most once per kRetentionIntervalMs per worker (issue 18: not a query after
    // every upload). A retired file waits kRetiredFileGraceSeconds anyway; this adds at
    // most the interval to that, and retention stays where it was: after a change.
    const int64_t now = core::unix_now_ms();
    if (now < next_retention_ms_) return;
    next_retention_ms_ = now + kRetentionIntervalMs;
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
    // Uploads left by a dead worker are an hour old before they count as stale, so a
    // look at most once a minute per worker (not a directory read per upload) removes
    // them as soon.
    if (now >= next_sweep_ms_) {
        files_.sweep_stale();
        next_sweep_ms_ = now + 60 * 1000;
    }
}

std::vector<AttachmentStore::Problem> AttachmentStore::check() {
    std::vector<Problem> problems;
    for (const auto& row : live())
        if (auto problem = FileStore::verify(file_path(row.sha256), row.sha256, static_cast<uint64_t>(row.size)))
            problems.push_back({row.attachment_id, *problem});
    return problems;
}

}  // namespace services
