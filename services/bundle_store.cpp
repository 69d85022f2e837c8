#include "services/bundle_store.h"

#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "core/files.h"
#include "core/log.h"
#include "core/time_util.h"
#include "domain/bundle_diff.h"
#include "domain/manifest.h"

namespace services {

using core::make_dir;
using core::random_name;
using core::remove_tree;

namespace {

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what + ": " + std::strerror(errno)); }

struct CoreFieldConflict {
    std::vector<std::string> fields;
};

constexpr size_t kInfoCacheSize = 16;
constexpr size_t kFormsCacheSize = 8;
constexpr int64_t kStaleTmpSeconds = 3600;

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
    : db_(db), repo_(db), generation_(generation), heads_cache_ms_(generation ? heads_cache_ms : 0),
      dir_(std::move(bundle_dir)), retention_(retention < 1 ? 1 : retention) {
    while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
    tmp_dir_ = dir_ + "/tmp";
    versions_dir_ = dir_ + "/versions";
}

std::string BundleStore::version_dir(int64_t v) const { return versions_dir_ + "/" + bundle_version_name(v); }
std::string BundleStore::version_zip(int64_t v) const { return versions_dir_ + "/" + bundle_version_name(v) + ".zip"; }

std::unique_ptr<BundleUpload> BundleStore::begin_upload() {
    make_dir(dir_);
    make_dir(tmp_dir_);
    make_dir(versions_dir_);
    return std::make_unique<BundleUpload>(tmp_dir_, "push-", ".zip");
}

BundlePushResult BundleStore::push(std::unique_ptr<BundleUpload> upload, const Actor& by) {
    const std::string& pushed_by = by.name;
    const std::string zip_sha = upload->sha256_hex();
    const std::string zip_tmp = upload->path();
    const int64_t zip_size = static_cast<int64_t>(upload->size());

    const std::string stage = random_name(tmp_dir_, "push-", ".d");
    make_dir(stage);
    core::TempGuard stage_guard(stage);
    domain::ExtractedBundle extracted = domain::extract_bundle(zip_tmp, stage);
    // The version's bytes are on disk before the database says it exists.
    core::sync_filesystem_of(stage);

    // Whole seconds: the manifest shows the push time to the second.
    const int64_t pushed_at_ms = core::unix_now_ms() / 1000 * 1000;
    bool placed_dir = false, placed_zip = false;
    int64_t placed_version = 0;
    db::BundleVersionRow row;

    auto publish = [&](int64_t version, std::optional<int64_t> active) -> db::BundleVersionRow {
        if (active) {
            auto changed = domain::changed_core_fields(*forms(*active), extracted.forms);
            if (!changed.empty()) throw CoreFieldConflict{std::move(changed)};
        }
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
        remove_tree(version_dir(version), tmp_dir_);
        remove_tree(version_zip(version), tmp_dir_);
        placed_version = version;
        if (::rename(stage.c_str(), version_dir(version).c_str()) != 0) fail("publishing " + version_dir(version));
        placed_dir = true;
        if (::rename(zip_tmp.c_str(), version_zip(version).c_str()) != 0) fail("publishing " + version_zip(version));
        placed_zip = true;
        core::fsync_dir(versions_dir_);
        // publish runs inside the push's transaction: the event commits with the row.
        audit(db_, by, "bundle.push", m.version,
              domain::AuditDetail().add("files", static_cast<int64_t>(m.files.size())).add("zip_size", zip_size));
        return row;
    };
    auto unpublish = [&](int64_t version) {
        if (placed_zip && ::rename(version_zip(version).c_str(), zip_tmp.c_str()) == 0) placed_zip = false;
        if (placed_dir && ::rename(version_dir(version).c_str(), stage.c_str()) == 0) placed_dir = false;
        if (placed_zip || placed_dir) fail("withdrawing " + version_dir(version));
    };

    BundlePushResult out;
    db::BundleRepository::PushResult result{};
    try {
        result = repo_.push(zip_sha, publish, unpublish);
    } catch (const CoreFieldConflict& c) {
        out.changed_core_fields = c.fields;
        return out;
    } catch (const db::Error& e) {
        if ((placed_dir || placed_zip) && e.kind() == db::ErrorKind::lost_connection) {
            // The commit may have gone through: keep the files. If it did not, the
            // next push that is handed this number removes them.
            core::log::warn("push of version " + bundle_version_name(placed_version) +
                            ": database connection lost at commit; outcome unknown");
            throw;
        }
        if (placed_dir || placed_zip) unpublish(placed_version);
        throw;
    } catch (...) {
        if (placed_dir || placed_zip) unpublish(placed_version);
        throw;
    }
    changed();
    out.version = result.version;
    out.activated = result.activated;
    out.manifest_json = row.manifest;
    core::log::info("app bundle version " + bundle_version_name(result.version) + " pushed by '" + pushed_by +
                    "' (" + std::to_string(extracted.files.size()) + " files" +
                    (result.activated ? ", activated)" : ")"));
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

db::BundleHeads BundleStore::heads() {
    int64_t now = core::unix_now_ms();
    if (heads_cache_ms_ > 0) {
        uint64_t gen = generation_->load(std::memory_order_acquire);
        if (cached_heads_.valid && cached_heads_.generation == gen && now - cached_heads_.read_at_ms < heads_cache_ms_)
            return cached_heads_.heads;
        // Read the generation before the heads: a change racing this read raises it
        // again, so the entry is never kept past that change.
        cached_heads_ = {repo_.heads(), gen, now, true};
        return cached_heads_.heads;
    }
    return repo_.heads();
}

db::SwitchResult BundleStore::activate(int64_t version, const Actor& by) {
    auto r = db::SwitchResult::not_found;
    db_.transaction([&] {
        r = repo_.activate(version);
        if (r == db::SwitchResult::switched) audit(db_, by, "bundle.switch", bundle_version_name(version));
    });
    changed();
    return r;
}

void BundleStore::changed() {
    cached_heads_.valid = false;
    if (generation_) generation_->fetch_add(1, std::memory_order_acq_rel);
}

void BundleStore::apply_retention() {
    for (int64_t v : repo_.retire_beyond(retention_)) {
        core::log::info("app bundle version " + bundle_version_name(v) + " retired (retention " +
                        std::to_string(retention_) + ")");
        info_cache_.erase(v);
        forms_cache_.erase(v);
    }
    // Files go only after the grace period: a download the worker authorized just
    // before the row was deleted is then long served.
    for (int64_t v : repo_.retired_due(core::kRetiredFileGraceSeconds)) {
        remove_tree(version_dir(v), tmp_dir_);
        remove_tree(version_zip(v), tmp_dir_);
        repo_.forget_retired(v);
    }
}

void BundleStore::sweep_tmp() {
    // Uploads of workers that died mid-push.
    core::sweep_stale(tmp_dir_, kStaleTmpSeconds);
}

bool BundleStore::on_disk(const BundleVersionInfo& info, const std::string& path) const {
    const std::string dir = version_dir(info.version);
    if (!core::is_directory(dir) || !core::path_exists(version_zip(info.version))) return false;
    return path.empty() || core::path_exists(dir + "/" + path);
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
    make_dir(tmp_dir_);
    const std::string stage = random_name(tmp_dir_, "repair-", ".d");
    make_dir(stage);
    core::TempGuard guard(stage);
    domain::ExtractedBundle extracted;
    try {
        extracted = domain::extract_bundle(version_zip(info.version), stage);
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
    remove_tree(version_dir(info.version), tmp_dir_);
    if (::rename(stage.c_str(), version_dir(info.version).c_str()) != 0) fail("republishing " + version_dir(info.version));
    guard.release();
    core::fsync_dir(versions_dir_);
    return true;
}

std::vector<BundleCheck> BundleStore::check(bool repair) {
    std::vector<BundleCheck> out;
    for (const auto& entry : repo_.list()) {
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
            } else if (c.active && repo_.deactivate(entry.version)) {
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
    auto row = repo_.find(version);
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
        domain::read_forms_from_dir(version_dir(version)));
    make_room(forms_cache_, kFormsCacheSize);
    forms_cache_[version] = forms;
    return forms;
}

}  // namespace services
