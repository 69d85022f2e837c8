#include "services/bundle_store.h"

#include "services/bundle_extract.h"

#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "core/grant.h"
#include "core/files.h"
#include "core/log.h"
#include "core/time_util.h"
#include "db/bundle_repository.h"
#include "domain/bundle_diff.h"
#include "domain/manifest.h"
#include "domain/path_rules.h"
#include "services/unit_of_work.h"

namespace services {


namespace {

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what + ": " + std::strerror(errno)); }

constexpr size_t kInfoCacheSize = 16;
constexpr size_t kFormsCacheSize = 8;

template <class Map>
void make_room(Map& m, size_t limit) {
    while (m.size() >= limit) m.erase(m.begin());  // the lowest versions go first: the oldest
}

}  // namespace

std::string bundle_version_name(int64_t version) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04lld", static_cast<long long>(version));
    return buf;
}

bool parse_bundle_version(std::string_view text, int64_t& out) {
    if (text.empty()) return false;
    for (char c : text)
        if (c < '0' || c > '9') return false;
    size_t first = text.find_first_not_of('0');
    if (first == std::string_view::npos) {
        out = 0;
        return true;
    }
    std::string_view digits = text.substr(first);
    if (digits.size() > 18) {
        out = LLONG_MAX;  // no stored version is that large
        return true;
    }
    out = std::stoll(std::string(digits));
    return true;
}

// ---- BundleStore ----

BundleStore::BundleStore(db::Database& db, std::string bundle_dir, int64_t retention,
                         std::atomic<uint64_t>* generation, int64_t heads_cache_ms)
    : db_(db), generation_(generation), heads_cache_ms_(generation ? heads_cache_ms : 0),
      files_(std::move(bundle_dir)), versions_dir_(files_.path("versions")), retention_(retention < 1 ? 1 : retention) {}

std::string BundleStore::version_dir(int64_t v) const { return versions_dir_ + "/" + bundle_version_name(v); }
std::string BundleStore::version_zip(int64_t v) const { return versions_dir_ + "/" + bundle_version_name(v) + ".zip"; }

std::unique_ptr<BundleUpload> BundleStore::begin_upload() {
    files_.make_dirs("versions");
    return files_.begin_upload("push-", ".zip");
}

BundlePushResult BundleStore::push(std::unique_ptr<BundleUpload> upload, const Actor& by) {
    const std::string& pushed_by = by.name;
    const std::string zip_sha = upload->sha256_hex();
    const std::string zip_tmp = upload->path();
    const int64_t zip_size = static_cast<int64_t>(upload->size());

    const std::string stage = files_.stage_dir("push-");
    core::TempGuard stage_guard(stage);
    domain::ExtractedBundle extracted = extract_bundle(zip_tmp, stage);
    // The version's bytes are on disk before the database says it exists.
    core::sync_filesystem_of(stage);

    // Whole seconds: the manifest shows the push time to the second.
    const int64_t pushed_at_ms = core::unix_now_ms() / 1000 * 1000;
    bool placed_dir = false, placed_zip = false;
    std::optional<int64_t> placed;  // the version an attempt placed the files of
    bool activated_by_placed = false;  // and whether that attempt activated it
    db::BundleVersionRow row;
    BundlePushResult out;

    auto unpublish = [&](int64_t version) {
        if (placed_zip && ::rename(version_zip(version).c_str(), zip_tmp.c_str()) == 0) placed_zip = false;
        if (placed_dir && ::rename(version_dir(version).c_str(), stage.c_str()) == 0) placed_dir = false;
        if (placed_zip || placed_dir) fail("withdrawing " + version_dir(version));
        placed.reset();
    };

    // Why the files are placed inside the transaction, under the state row lock:
    // the lock hands out the version number, so no other push (on any worker or host)
    // can be placing files under that number, and retention (which takes the lock
    // too) cannot remove them before the row naming them commits. The files are in
    // place (renamed, directory fsynced) before COMMIT, so a version the database
    // names always has its files. Placing them after COMMIT would open a window in
    // which the row is visible and a download 503s on missing files; placing them
    // before the lock would not know the number.
    try {
        db_.transaction([&](db::Tx& tx) {
            db::BundleRepository repo(tx);
            out = {};
            if (placed) {
                // A rerun: after a deadlock the first attempt surely rolled back, but after
                // a connection lost at commit it may have gone through.
                if (repo.zip_sha256(*placed) == zip_sha) {
                    out.version = *placed;
                    out.activated = activated_by_placed;
                    return;  // committed: the result stands
                }
                unpublish(*placed);
            }
            const db::BundleState state = repo.lock_state();
            if (state.active) {
                // Refused: nothing was written, so the commit only releases the lock.
                out.changed_core_fields = domain::changed_core_fields(*forms(*state.active), extracted.forms);
                if (!out.changed_core_fields.empty()) return;
            }
            const int64_t version = state.last_version + 1;
            domain::Manifest m;
            m.version = bundle_version_name(version);
            m.pushed_at_ms = pushed_at_ms;
            m.files = extracted.files;
            m.hash = domain::manifest_hash(m.files, m.version);
            row = {};
            row.version = version;
            row.manifest = domain::manifest_json(m);
            row.manifest_hash = m.hash;
            row.zip_sha256 = zip_sha;
            row.zip_size = zip_size;
            row.pushed_at_ms = pushed_at_ms;
            row.pushed_by = pushed_by;
            // Leftovers of a push whose outcome was unknown (its connection was lost at
            // commit) and which did not commit: no row names this number, and we hold
            // the lock that hands it out.
            files_.remove(version_dir(version));
            files_.remove(version_zip(version));
            placed = version;
            if (::rename(stage.c_str(), version_dir(version).c_str()) != 0) fail("publishing " + version_dir(version));
            placed_dir = true;
            if (::rename(zip_tmp.c_str(), version_zip(version).c_str()) != 0) fail("publishing " + version_zip(version));
            placed_zip = true;
            core::fsync_dir(versions_dir_);
            repo.insert(row);
            repo.set_last_version(version);
            audit(tx, by, "bundle.push", m.version,
                  domain::AuditDetail().add("files", static_cast<int64_t>(m.files.size())).add("zip_size", zip_size));
            // The contract: a push becomes active only when no version is active yet.
            out.version = version;
            out.activated = activated_by_placed = !state.active;
            if (out.activated) repo.set_active(version);
        });
    } catch (const db::Error& e) {
        if (placed && e.kind() == db::ErrorKind::lost_connection) {
            // The commit may have gone through: keep the files. If it did not, the
            // next push that is handed this number removes them.
            core::log::warn("push of version " + bundle_version_name(*placed) +
                            ": database connection lost at commit; outcome unknown");
            throw;
        }
        if (placed) unpublish(*placed);
        throw;
    } catch (...) {
        if (placed) unpublish(*placed);
        throw;
    }
    if (!out.changed_core_fields.empty()) return out;
    changed();
    out.manifest_json = row.manifest;
    core::log::info("app bundle version " + bundle_version_name(out.version) + " pushed by '" + pushed_by +
                    "' (" + std::to_string(extracted.files.size()) + " files" +
                    (out.activated ? ", activated)" : ")"));
    remember(row);

    // The push has committed; housekeeping failures are only logged.
    try {
        apply_retention();
        sweep_tmp();
    } catch (const std::exception& e) {
        core::log::warn(std::string("app bundle retention: ") + e.what());
    }
    return out;
}

db::BundleHeads BundleStore::heads(bool fresh) {
    int64_t now = core::unix_now_ms();
    if (heads_cache_ms_ > 0 && !fresh) {
        uint64_t gen = generation_->load(std::memory_order_acquire);
        if (cached_heads_.valid && cached_heads_.generation == gen && now - cached_heads_.read_at_ms < heads_cache_ms_)
            return cached_heads_.heads;
        // Read the generation before the heads: a change racing this read raises it
        // again, so the entry is never kept past that change.
        cached_heads_ = {read_heads(), gen, now, true};
        return cached_heads_.heads;
    }
    return read_heads();
}

db::BundleHeads BundleStore::read_heads() {
    return run_with<db::BundleRepository>(db_, [](db::BundleRepository& r) { return r.heads(); });
}

std::vector<db::BundleListEntry> BundleStore::list() {
    return run_with<db::BundleRepository>(db_, [](db::BundleRepository& r) { return r.list(); });
}

std::optional<int64_t> BundleStore::previous(int64_t version) {
    return run_with<db::BundleRepository>(db_, [&](db::BundleRepository& r) { return r.previous(version); });
}

SwitchResult BundleStore::activate(int64_t version, const Actor& by) {
    SwitchResult result = SwitchResult::not_found;
    db_.transaction([&](db::Tx& tx) {
        db::BundleRepository repo(tx);
        result = SwitchResult::not_found;
        // The lock orders this against retention, which could otherwise delete the
        // version between the check and the update.
        repo.lock_state();
        if (!repo.zip_sha256(version)) return;
        repo.set_active(version);
        audit(tx, by, "bundle.switch", bundle_version_name(version));
        result = SwitchResult::switched;
    });
    changed();
    return result;
}

bool BundleStore::deactivate(int64_t version) {
    bool done = false;
    db_.transaction([&](db::Tx& tx) {
        db::BundleRepository repo(tx);
        done = repo.lock_state().active == version;
        if (done) repo.set_active(std::nullopt);
    });
    return done;
}

void BundleStore::changed() {
    cached_heads_.valid = false;
    if (generation_) generation_->fetch_add(1, std::memory_order_acq_rel);
    core::grant::new_generation();  // and what nginx keeps (core/grant.h)
}

void BundleStore::apply_retention() {
    // Under the state row lock: the newest `retention_` and the active version stay.
    std::vector<int64_t> retired;
    db_.transaction([&](db::Tx& tx) {
        db::BundleRepository repo(tx);
        retired.clear();
        repo.lock_state();
        const auto all = repo.list();  // newest first
        for (size_t i = static_cast<size_t>(retention_); i < all.size(); ++i) {
            if (all[i].active) continue;
            repo.retire(all[i].version);
            retired.push_back(all[i].version);
        }
    });
    for (int64_t v : retired) {
        core::log::info("app bundle version " + bundle_version_name(v) + " retired (retention " +
                        std::to_string(retention_) + ")");
        info_cache_.erase(v);
        forms_cache_.erase(v);
        present_.erase(v);
    }
    // Files go only after the grace period: a download the worker authorized just
    // before the row was deleted is then long served.
    const auto due = run_with<db::BundleRepository>(
        db_, [](db::BundleRepository& r) { return r.retired_due(core::kRetiredFileGraceSeconds); });
    for (int64_t v : due) {
        files_.remove(version_dir(v));
        files_.remove(version_zip(v));
        db_.run([&](db::Tx& tx) { db::BundleRepository(tx).forget_retired(v); });
    }
}

void BundleStore::sweep_tmp() {
    // Uploads of workers that died mid-push.
    files_.sweep_stale();
}

bool BundleStore::on_disk(const BundleVersionInfo& info, const std::string& path) {
    // A worker that finds files missing raises the host's generation (below), so every
    // worker of the host drops what it remembered and answers the same at once.
    if (generation_) {
        uint64_t g = generation_->load(std::memory_order_acquire);
        if (g != present_generation_) {
            present_.clear();
            present_generation_ = g;
        }
    }
    if (present_.size() > kInfoCacheSize && !present_.count(info.version)) present_.clear();
    Present& seen = present_[info.version];
    const int64_t now = core::unix_now_ms();
    if (seen.manifest_hash != info.manifest_hash || now - seen.since_ms >= heads_cache_ms_ || now < seen.since_ms)
        seen = Present{info.manifest_hash, now, false, {}};
    const std::string dir = version_dir(info.version);
    auto missing = [&] {
        present_.erase(info.version);
        if (generation_) generation_->fetch_add(1, std::memory_order_acq_rel);
        return false;
    };
    if (!seen.tree) {
        if (!core::is_directory(dir) || !core::path_exists(version_zip(info.version))) return missing();
        seen.tree = true;
    }
    if (path.empty() || seen.paths.count(path)) return true;
    if (!core::path_exists(dir + "/" + path)) return missing();
    // Manifest paths only (the callers look the path up in info.files first), so
    // this holds at most the version's file count.
    seen.paths.insert(path);
    return true;
}

void BundleStore::files_missing(const BundleVersionInfo& info) {
    core::log::error("app bundle version " + info.name +
                     " is in the database but not (completely) in bundle_dir; run 'synkronus-admin check'");
    throw BundleUnavailable(BundleUnavailable::Kind::files_missing,
                            "The files of app bundle version " + info.name +
                                " are missing from the bundle store; an administrator must run "
                                "'synkronus-admin check --repair'");
}

std::shared_ptr<const BundleVersionInfo> BundleStore::serving_version(bool preview, bool fresh) {
    using K = BundleUnavailable::Kind;
    const db::BundleHeads h = heads(fresh);
    std::optional<int64_t> v = preview ? h.newest : h.active;
    if (!v) throw BundleUnavailable(K::not_found, preview ? "No app bundle version is stored" : "No app bundle version is active");
    auto info = version_info(*v, preview ? h.newest_manifest_hash : h.active_manifest_hash);
    // Retired between the two reads: as if it had never been there.
    if (!info) throw BundleUnavailable(K::not_found, "No app bundle version is active");
    if (!on_disk(*info)) files_missing(*info);
    return info;
}

BundleManifestReply BundleStore::active_manifest(bool fresh) {
    const db::BundleHeads h = heads(fresh);
    if (!h.active) {
        // No active version: no files, and a hash by the same rule (over nothing and
        // the empty version name). generatedAt is the epoch, a valid time that never
        // changes, so the body matches its ETag.
        static const std::string empty = [] {
            domain::Manifest m;
            m.hash = domain::manifest_hash(m.files, m.version);
            m.pushed_at_ms = 0;
            return domain::manifest_json(m);
        }();
        return {empty, domain::manifest_hash({}, "")};
    }
    auto info = version_info(*h.active, h.active_manifest_hash);
    if (!info) throw BundleUnavailable(BundleUnavailable::Kind::changed, "The active app bundle version changed; try again");
    if (!on_disk(*info)) files_missing(*info);
    return {info->manifest_json, h.active_manifest_hash};
}

BundleServedFile BundleStore::served_file(const std::string& path, bool preview, bool fresh) {
    auto info = serving_version(preview, fresh);
    auto it = info->files.find(path);
    if (it == info->files.end())
        throw BundleUnavailable(BundleUnavailable::Kind::not_found, "No such file in app bundle version " + info->name);
    if (!on_disk(*info, path)) files_missing(*info);
    return {info->name + "/" + domain::accel_encode_path(path), it->second.mime_type, it->second.sha256};
}

BundleServedFile BundleStore::served_zip(bool preview, bool fresh) {
    auto info = serving_version(preview, fresh);
    return {info->name + ".zip", "application/zip", info->zip_sha256};
}

domain::BundleChanges BundleStore::changes(std::optional<int64_t> current, std::optional<int64_t> target) {
    using K = BundleUnavailable::Kind;
    if (!current) {
        current = heads().active;
        if (!current) throw BundleUnavailable(K::not_found, "No app bundle version is active, and no current version was given");
    }
    auto a = version_info(*current);
    if (!a) throw BundleUnavailable(K::not_found, "No app bundle version " + bundle_version_name(*current));
    if (!target) {
        target = previous(*current);
        if (!target)
            throw BundleUnavailable(K::not_found, "App bundle version " + a->name + " has no earlier version to compare with");
    }
    auto b = version_info(*target);
    if (!b) throw BundleUnavailable(K::not_found, "No app bundle version " + bundle_version_name(*target));
    return domain::diff_bundles(a->name, *forms(a->version), b->name, *forms(b->version));
}

std::string BundleStore::active_version_problem() {
    const db::BundleHeads h = heads();
    if (!h.active) return "";
    auto info = version_info(*h.active, h.active_manifest_hash);
    if (!info || on_disk(*info)) return "";
    return "app bundle store: the files of the active version " + info->name + " are missing";
}

std::vector<std::string> BundleStore::problems_of(const BundleVersionInfo& info) {
    std::vector<std::string> out;
    std::string sha;
    uint64_t size = 0;
    if (!core::hash_file(version_zip(info.version), sha, size)) out.push_back("its ZIP is missing");
    else if (sha != info.zip_sha256) out.push_back("its ZIP does not match the hash recorded when it was pushed");
    if (!core::is_directory(version_dir(info.version))) {
        out.push_back("its directory is missing");
        return out;
    }
    size_t missing = 0, altered = 0;
    std::string first;
    for (const auto& [path, f] : info.files) {
        bool ok = core::hash_file(version_dir(info.version) + "/" + path, sha, size);
        if (!ok) ++missing;
        else if (sha != f.sha256 || size != f.size) ++altered;
        if ((!ok || sha != f.sha256 || size != f.size) && first.empty()) first = path;
    }
    if (missing) out.push_back(std::to_string(missing) + " of its " + std::to_string(info.files.size()) +
                               " files missing (first: " + first + ")");
    if (altered) out.push_back(std::to_string(altered) + " of its files altered");
    return out;
}

bool BundleStore::republish(const BundleVersionInfo& info) {
    std::string sha;
    uint64_t size = 0;
    if (!core::hash_file(version_zip(info.version), sha, size) || sha != info.zip_sha256) return false;
    const std::string stage = files_.stage_dir("repair-");
    core::TempGuard guard(stage);
    domain::ExtractedBundle extracted;
    try {
        extracted = extract_bundle(version_zip(info.version), stage);
    } catch (const domain::BundleError& e) {
        core::log::warn("app bundle version " + info.name + ": its ZIP is refused now: " + e.what());
        return false;
    }
    // The same ZIP gives the same files; compare anyway, so what is published is
    // exactly what the manifest names.
    if (extracted.files.size() != info.files.size()) return false;
    for (const auto& f : extracted.files) {
        auto it = info.files.find(f.path);
        if (it == info.files.end() || it->second.sha256 != f.sha256 || it->second.size != f.size) return false;
    }
    core::sync_filesystem_of(stage);
    files_.remove(version_dir(info.version));
    if (::rename(stage.c_str(), version_dir(info.version).c_str()) != 0) fail("republishing " + version_dir(info.version));
    guard.release();
    core::fsync_dir(versions_dir_);
    return true;
}

std::vector<BundleCheck> BundleStore::check(bool repair) {
    std::vector<BundleCheck> out;
    for (const auto& entry : list()) {
        BundleCheck c;
        c.version = entry.version;
        c.active = entry.active;
        auto info = version_info(entry.version);
        if (!info) continue;  // retired meanwhile
        c.problems = problems_of(*info);
        if (!c.problems.empty() && repair) {
            if (republish(*info) && problems_of(*info).empty()) {
                c.repair = BundleCheck::Repair::republished;
                core::log::warn("app bundle version " + info->name + " re-published from its ZIP");
            } else if (c.active && deactivate(entry.version)) {
                c.repair = BundleCheck::Repair::deactivated;
                core::log::warn("app bundle version " + info->name + " deactivated: its files are missing");
            } else {
                c.repair = BundleCheck::Repair::not_repaired;
            }
            if (c.repair != BundleCheck::Repair::not_repaired) changed();
        }
        out.push_back(std::move(c));
    }
    return out;
}

std::shared_ptr<const BundleVersionInfo> BundleStore::remember(const db::BundleVersionRow& row) {
    domain::Manifest m = domain::parse_manifest_json(row.manifest);
    auto info = std::make_shared<BundleVersionInfo>();
    info->version = row.version;
    info->name = bundle_version_name(row.version);
    info->manifest_json = row.manifest;
    info->manifest_hash = row.manifest_hash;
    info->zip_sha256 = row.zip_sha256;
    for (auto& f : m.files) {
        BundleFileInfo fi{f.sha256, f.size, domain::mime_type_for(f.path)};
        info->files.emplace(std::move(f.path), std::move(fi));
    }
    info_cache_.erase(row.version);
    make_room(info_cache_, kInfoCacheSize);
    info_cache_[row.version] = info;
    return info;
}

std::shared_ptr<const BundleVersionInfo> BundleStore::version_info(int64_t version, const std::string& manifest_hash) {
    auto it = info_cache_.find(version);
    if (!manifest_hash.empty() && it != info_cache_.end() && it->second->manifest_hash == manifest_hash)
        return it->second;
    auto row = run_with<db::BundleRepository>(db_, [&](db::BundleRepository& r) { return r.find(version); });
    if (!row) {
        info_cache_.erase(version);
        return nullptr;
    }
    if (it != info_cache_.end() && it->second->manifest_hash == row->manifest_hash) return it->second;
    return remember(*row);
}

std::shared_ptr<const std::map<std::string, domain::FormDef>> BundleStore::forms(int64_t version) {
    auto it = forms_cache_.find(version);
    if (it != forms_cache_.end()) return it->second;
    auto forms = std::make_shared<const std::map<std::string, domain::FormDef>>(
        read_forms_from_dir(version_dir(version)));
    make_room(forms_cache_, kFormsCacheSize);
    forms_cache_[version] = forms;
    return forms;
}

}  // namespace services
