// The app bundle store (a service): version files on disk under bundle_dir, their
// record in the database (db/bundle_repository.h). No HTTP here.
//
// Layout (one filesystem, so every move is an atomic rename):
//   bundle_dir/tmp/             uploads and extractions in progress, named after host and
//                               pid: each worker, as it starts, removes those of dead
//                               workers of its host (core::sweep_dead_owners), so a worker
//                               killed mid-push leaves nothing for long
//   bundle_dir/versions/NNNN/   the extracted files of a version, never changed once published
//   bundle_dir/versions/NNNN.zip  the archive as pushed
//
// A version's files are in place before its row commits, and its row is deleted
// before its files are (after a grace period), so any version the database names
// has its files on disk. Only something outside the server breaks that (a purge
// and reinstall that kept the database, a restored backup of one but not the
// other): serving checks that the files it names are there (on_disk) and
// check() finds and repairs the rest.
//
// Concurrency, across workers and hosts:
// - Pushes extract outside any lock, then allocate, check core fields against
//   the active version, move their files into place and insert, all under the
//   lock of the one bundle_state row: two pushes get two numbers, and a number
//   is never handed out twice (nor reused after retention).
// - A switch is one row update under that lock. Every download reads the active
//   version from the database, so the next request after the commit, on any
//   worker or host, serves the new version. A request already answered got the
//   old version's path; that file is immutable and stays, so it is sent whole.
// - Retention deletes rows at once but files only core::kRetiredFileGraceSeconds later
//   (on a later push). A download authorized just before the delete is handed
//   to nginx within milliseconds; once nginx has opened the file, deleting it
//   does not cut the transfer. Only a request stalled between the worker's
//   answer and nginx's open() for longer than the grace period gets a 404, and
//   its retry gets the active version.
// - Versions are immutable, so each worker caches parsed manifests and forms by
//   version number; the active version itself is never cached.
#pragma once
#include <atomic>
#include <stdexcept>
#include <cstdint>
#include <map>
#include <set>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/files.h"
#include "services/file_store.h"
#include "db/database.h"
#include "db/rows.h"
#include "domain/bundle_diff.h"
#include "domain/bundle_zip.h"
#include "services/audit.h"

namespace services {

// "0001"…"9999", then "10000": at least 4 digits, zero-padded.
std::string bundle_version_name(int64_t version);

// A version as a client writes it: digits only, leading zeros allowed ("2" and
// "0002" are the same version). False when not digits; a number too large for any
// stored version parses as one that does not exist.
bool parse_bundle_version(std::string_view text, int64_t& out);

struct BundleFileInfo {
    std::string sha256;
    uint64_t size = 0;
    std::string mime_type;
};

// What serving a version needs, parsed once per worker (versions are immutable).
struct BundleVersionInfo {
    int64_t version = 0;
    std::string name;
    std::string manifest_json;
    std::string manifest_hash;
    std::string zip_sha256;
    std::unordered_map<std::string, BundleFileInfo> files;  // by manifest path
};

// An upload being received into bundle_dir/tmp; the file is removed unless a
// push consumes it.
using BundleUpload = core::TempFile;

// What a push did: refused (changed_core_fields set), or stored as `version`.
struct BundlePushResult {
    // Set when the push was refused because it changes core fields ("form.field", sorted).
    std::vector<std::string> changed_core_fields;
    int64_t version = 0;
    bool activated = false;
    std::string manifest_json;
};

enum class SwitchResult { switched, not_found };

// Why a read of the store cannot be answered, in words for the client: nothing to
// serve (`not_found`); the database names a version whose files are not in the
// store (`files_missing`: not the client's doing, and not over until an
// administrator acts; logged); the active version changed between two reads
// (`changed`: try again).
class BundleUnavailable : public std::runtime_error {
public:
    enum class Kind { not_found, files_missing, changed };
    BundleUnavailable(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
    Kind kind() const { return kind_; }

private:
    Kind kind_;
};

// The active version's manifest (or the empty one when none is active) and its hash.
struct BundleManifestReply {
    std::string json;
    std::string hash;
};

// A stored file to send: where it lies under the store's versions/ folder (the
// nginx internal location's root), its type and the hash that is its ETag.
struct BundleServedFile {
    std::string relative_path;
    std::string content_type;
    std::string sha256;
};

// What check() found for one stored version.
struct BundleCheck {
    int64_t version = 0;
    bool active = false;
    // Empty when the files on disk match the database; else one line per problem.
    std::vector<std::string> problems;
    enum class Repair { none, republished, deactivated, not_repaired } repair = Repair::none;
};

class BundleStore {
public:
    // `generation` is a counter shared by the workers of this host; a push or
    // switch here raises it, so every worker's cached heads are dropped at once. Other
    // hosts see a change when their cache ages out after `heads_cache_ms` (0: no cache).
    BundleStore(db::Database& db, std::string bundle_dir, int64_t retention,
                std::atomic<uint64_t>* generation = nullptr, int64_t heads_cache_ms = 0);

    std::unique_ptr<BundleUpload> begin_upload();
    // Validates and extracts the upload (throws domain::BundleError when refused),
    // then stores it as the next version in one transaction; afterwards applies
    // retention. Whatever fails leaves nothing behind.
    // `by` is the pusher (pushed_by, and the actor of the bundle.push audit event, which
    // commits with the version's row).
    BundlePushResult push(std::unique_ptr<BundleUpload> upload, const Actor& by);

    // The active and newest versions: read from the database, or from a cache no
    // older than heads_cache_ms that no push or switch on this host has invalidated.
    // `fresh`: from the database, whatever the cache holds (for an answer nginx keeps,
    // core/grant.h, whose own delay must not add to the cache's).
    db::BundleHeads heads(bool fresh = false);
    std::vector<db::BundleListEntry> list();
    // Makes `version` the active one: one row update under the state row lock, with
    // a bundle.switch audit event in the same transaction.
    SwitchResult activate(int64_t version, const Actor& by);
    std::optional<int64_t> previous(int64_t version);

    // What the handlers ask, one call each; BundleUnavailable when it cannot be answered.
    // The manifest is read before any 304, so a client told its manifest is current
    // never fetches files that are not there.
    // `fresh` as for heads().
    BundleManifestReply active_manifest(bool fresh = false);
    // A file (a manifest path, already checked by domain::valid_bundle_file_path) of the
    // active version, or of the newest with `preview`.
    BundleServedFile served_file(const std::string& path, bool preview, bool fresh = false);
    // The version's archive as pushed.
    BundleServedFile served_zip(bool preview, bool fresh = false);
    // Compares two versions' forms: `current` defaults to the active version, `target`
    // to the version before `current`.
    domain::BundleChanges changes(std::optional<int64_t> current, std::optional<int64_t> target);

    // The version's serving data, or nullptr when the version is not stored. With
    // `manifest_hash` (from heads(), which proves the row exists) a cached entry
    // with that hash is used without a query; without it the row is read.
    std::shared_ptr<const BundleVersionInfo> version_info(int64_t version, const std::string& manifest_hash = {});
    // The forms of a stored version, read from its directory (cached).
    std::shared_ptr<const std::map<std::string, domain::FormDef>> forms(int64_t version);

    // Whether the files the database names for `info` are on disk: its directory
    // and ZIP, and with `path` that file (a manifest path) too. Checked once per
    // version and file per worker and bundle_cache_ms (issue 18), not on every
    // request: a version's files never change once published and go only with the
    // version (retention, after the grace period), so what can go unseen is damage
    // from outside (a purge and reinstall that kept the database), and that is
    // answered with the 503 within bundle_cache_ms, as a change on another host is;
    // the first worker of a host to find it raises the host's bundle generation, and
    // from then on every worker of the host checks again and answers the same.
    // A failed check is not remembered: the next request checks again, so a
    // repaired version is served at once. Until then nginx answers a file removed
    // after its check with its own 404 problem, as it did for a file removed between
    // a stat() and its open. bundle_cache_ms = 0 checks on every request.
    bool on_disk(const BundleVersionInfo& info, const std::string& path = {});

    // Why the active version cannot be served ("" when it can, or when none is
    // active): its files are missing from the store.
    std::string active_version_problem();

    // Compares every stored version's files with the database (every file's size
    // and hash, the ZIP's hash). With `repair`, a damaged version whose kept ZIP is
    // intact is extracted again into place; an active version that cannot be
    // repaired is deactivated, so clients get no manifest naming missing files.
    std::vector<BundleCheck> check(bool repair);
    // At worker start: what dead workers of this host left in tmp/.
    void sweep_dead_uploads() const { files_.sweep_dead_owners(); }

private:
    std::string version_dir(int64_t version) const;
    std::string version_zip(int64_t version) const;
    void apply_retention();
    // Leaves no version active, if `version` still is (false when it was not).
    bool deactivate(int64_t version);
    void sweep_tmp();
    std::vector<std::string> problems_of(const BundleVersionInfo& info);
    bool republish(const BundleVersionInfo& info);
    std::shared_ptr<const BundleVersionInfo> remember(const db::BundleVersionRow& row);

    void changed();
    db::BundleHeads read_heads();
    // The version a download reads: the active one, or the newest with `preview`; its
    // files checked to be on disk.
    std::shared_ptr<const BundleVersionInfo> serving_version(bool preview, bool fresh = false);
    [[noreturn]] void files_missing(const BundleVersionInfo& info);

    db::Database& db_;
    std::atomic<uint64_t>* generation_;
    int64_t heads_cache_ms_;
    struct CachedHeads {
        db::BundleHeads heads;
        uint64_t generation = 0;
        int64_t read_at_ms = 0;
        bool valid = false;
    } cached_heads_;
    FileStore files_;
    std::string versions_dir_;
    int64_t retention_;
    std::map<int64_t, std::shared_ptr<const BundleVersionInfo>> info_cache_;
    struct Present {
        std::string manifest_hash;  // a version number handed out again names other files
        int64_t since_ms = 0;       // trusted for heads_cache_ms_ from here
        bool tree = false;          // its directory and ZIP
        std::set<std::string> paths;
    };
    std::map<int64_t, Present> present_;  // what on_disk() found, per version
    uint64_t present_generation_ = 0;
    std::map<int64_t, std::shared_ptr<const std::map<std::string, domain::FormDef>>> forms_cache_;
};

}  // namespace services
