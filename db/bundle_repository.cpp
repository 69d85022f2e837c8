#include "db/bundle_repository.h"
#include "db/sql.h"

#include <memory>


namespace db {

using RS = std::unique_ptr<sql::ResultSet>;

BundleHeads BundleRepository::heads() {
    BundleHeads h;
    RS rs(tx_.stmt(Stmt::BUNDLE_HEADS).executeQuery());
    if (!rs->next()) return h;
    h.active = nullable_int(*rs, 1);
    if (h.active) h.active_manifest_hash = rs->getString(2);
    h.newest = nullable_int(*rs, 3);
    if (h.newest) h.newest_manifest_hash = rs->getString(4);
    return h;
}

std::vector<BundleListEntry> BundleRepository::list() {
    std::vector<BundleListEntry> out;
    RS rs(tx_.stmt(Stmt::BUNDLE_SEL_VERSIONS).executeQuery());
    while (rs->next()) out.push_back({rs->getInt64(1), rs->getInt(2) != 0});
    return out;
}

std::optional<BundleVersionRow> BundleRepository::find(int64_t version) {
    auto& ps = tx_.stmt(Stmt::BUNDLE_SEL_ONE);
    ps.setInt64(1, version);
    RS rs(ps.executeQuery());
    if (!rs->next()) return std::nullopt;
    BundleVersionRow r;
    r.version = rs->getInt64(1);
    r.manifest = rs->getString(2);
    r.manifest_hash = rs->getString(3);
    r.zip_sha256 = rs->getString(4);
    r.zip_size = rs->getInt64(5);
    r.pushed_by = rs->getString(7);
    return r;
}

std::optional<int64_t> BundleRepository::previous(int64_t version) {
    auto& ps = tx_.stmt(Stmt::BUNDLE_SEL_PREVIOUS);
    ps.setInt64(1, version);
    RS rs(ps.executeQuery());
    return rs->next() ? nullable_int(*rs, 1) : std::nullopt;
}

std::optional<std::string> BundleRepository::zip_sha256(int64_t version) {
    auto& ps = tx_.stmt(Stmt::BUNDLE_SEL_ZIP_SHA);
    ps.setInt64(1, version);
    RS rs(ps.executeQuery());
    if (!rs->next()) return std::nullopt;
    return std::string(rs->getString(1));
}

BundleState BundleRepository::lock_state() {
    RS rs(tx_.stmt(Stmt::BUNDLE_STATE_LOCK).executeQuery());
    if (!rs->next()) throw Error(ErrorKind::other, 0, "bundle_state has no row");
    return BundleState{rs->getInt64(1), nullable_int(*rs, 2)};
}

void BundleRepository::set_last_version(int64_t version) {
    auto& ps = tx_.stmt(Stmt::BUNDLE_STATE_SET_LAST);
    ps.setInt64(1, version);
    ps.executeUpdate();
}

void BundleRepository::set_active(std::optional<int64_t> version) {
    auto& ps = tx_.stmt(Stmt::BUNDLE_STATE_SET_ACTIVE);
    if (version) ps.setInt64(1, *version);
    else ps.setNull(1, sql::DataType::INTEGER);
    ps.executeUpdate();
}

void BundleRepository::insert(const BundleVersionRow& row) {
    auto& ins = tx_.stmt(Stmt::BUNDLE_INS);
    ins.setInt64(1, row.version);
    ins.setString(2, row.manifest);
    ins.setString(3, row.manifest_hash);
    ins.setString(4, row.zip_sha256);
    ins.setInt64(5, row.zip_size);
    ins.setInt64(6, row.pushed_at_ms);
    ins.setString(7, row.pushed_by);
    ins.executeUpdate();
}

void BundleRepository::retire(int64_t version) {
    auto& del = tx_.stmt(Stmt::BUNDLE_DEL);
    del.setInt64(1, version);
    del.executeUpdate();
    auto& ins = tx_.stmt(Stmt::BUNDLE_RETIRED_INS);
    ins.setInt64(1, version);
    ins.executeUpdate();
}

std::vector<int64_t> BundleRepository::retired_due(int64_t grace_seconds) {
    std::vector<int64_t> out;
    auto& ps = tx_.stmt(Stmt::BUNDLE_RETIRED_SEL_DUE);
    ps.setInt64(1, grace_seconds);
    RS rs(ps.executeQuery());
    while (rs->next()) out.push_back(rs->getInt64(1));
    return out;
}

void BundleRepository::forget_retired(int64_t version) {
    auto& ps = tx_.stmt(Stmt::BUNDLE_RETIRED_DEL);
    ps.setInt64(1, version);
    ps.executeUpdate();
}

}  // namespace db
