#include "db/bundle_repository.h"

#include <memory>

#include <cppconn/datatype.h>

namespace db {

using RS = std::unique_ptr<sql::ResultSet>;

namespace {

std::optional<int64_t> nullable_int(sql::ResultSet& rs, int col) {
    if (rs.isNull(col)) return std::nullopt;
    return rs.getInt64(col);
}

}  // namespace

BundleHeads BundleRepository::heads() {
    BundleHeads h;
    db_.run([&] {
        h = {};
        RS rs(db_.stmt(Stmt::BUNDLE_HEADS).executeQuery());
        if (!rs->next()) return;
        h.active = nullable_int(*rs, 1);
        if (h.active) h.active_manifest_hash = rs->getString(2);
        h.newest = nullable_int(*rs, 3);
        if (h.newest) h.newest_manifest_hash = rs->getString(4);
    });
    return h;
}

std::vector<BundleListEntry> BundleRepository::list() {
    std::vector<BundleListEntry> out;
    db_.run([&] {
        out.clear();
        RS rs(db_.stmt(Stmt::BUNDLE_SEL_VERSIONS).executeQuery());
        while (rs->next()) out.push_back({rs->getInt64(1), rs->getInt(2) != 0});
    });
    return out;
}

std::optional<BundleVersionRow> BundleRepository::find(int64_t version) {
    std::optional<BundleVersionRow> out;
    db_.run([&] {
        out.reset();
        auto& ps = db_.stmt(Stmt::BUNDLE_SEL_ONE);
        ps.setInt64(1, version);
        RS rs(ps.executeQuery());
        if (!rs->next()) return;
        BundleVersionRow r;
        r.version = rs->getInt64(1);
        r.manifest = rs->getString(2);
        r.manifest_hash = rs->getString(3);
        r.zip_sha256 = rs->getString(4);
        r.zip_size = rs->getInt64(5);
        r.pushed_by = rs->getString(7);
        out = std::move(r);
    });
    return out;
}

std::optional<int64_t> BundleRepository::previous(int64_t version) {
    std::optional<int64_t> out;
    db_.run([&] {
        auto& ps = db_.stmt(Stmt::BUNDLE_SEL_PREVIOUS);
        ps.setInt64(1, version);
        RS rs(ps.executeQuery());
        out = rs->next() ? nullable_int(*rs, 1) : std::nullopt;
    });
    return out;
}

BundleRepository::PushResult BundleRepository::push(const std::string& zip_sha256, const Publish& publish,
                                                    const Unpublish& unpublish) {
    PushResult result{0, false};
    std::optional<int64_t> tried;  // the version an earlier attempt published
    db_.transaction([&] {
        if (tried) {
            // A rerun: after a deadlock the first attempt surely rolled back, but after
            // a connection lost at commit it may have gone through.
            auto& ps = db_.stmt(Stmt::BUNDLE_SEL_ZIP_SHA);
            ps.setInt64(1, *tried);
            RS rs(ps.executeQuery());
            if (rs->next() && rs->getString(1) == zip_sha256) return;  // committed: result stands
            unpublish(*tried);
            tried.reset();
        }
        int64_t last = 0;
        std::optional<int64_t> active;
        {
            RS rs(db_.stmt(Stmt::BUNDLE_STATE_LOCK).executeQuery());
            if (!rs->next()) throw Error(ErrorKind::other, 0, "bundle_state has no row");
            last = rs->getInt64(1);
            active = nullable_int(*rs, 2);
        }
        const int64_t version = last + 1;
        tried = version;
        BundleVersionRow row = publish(version, active);
        auto& ins = db_.stmt(Stmt::BUNDLE_INS);
        ins.setInt64(1, version);
        ins.setString(2, row.manifest);
        ins.setString(3, row.manifest_hash);
        ins.setString(4, row.zip_sha256);
        ins.setInt64(5, row.zip_size);
        ins.setInt64(6, row.pushed_at_ms);
        ins.setString(7, row.pushed_by);
        ins.executeUpdate();
        auto& last_up = db_.stmt(Stmt::BUNDLE_STATE_SET_LAST);
        last_up.setInt64(1, version);
        last_up.executeUpdate();
        result = {version, false};
        if (!active) {
            auto& act = db_.stmt(Stmt::BUNDLE_STATE_SET_ACTIVE);
            act.setInt64(1, version);
            act.executeUpdate();
            result.activated = true;
        }
    });
    return result;
}

SwitchResult BundleRepository::activate(int64_t version) {
    SwitchResult result = SwitchResult::not_found;
    db_.transaction([&] {
        result = SwitchResult::not_found;
        // The lock orders this against retention, which could otherwise delete the
        // version between the check and the update.
        RS lock(db_.stmt(Stmt::BUNDLE_STATE_LOCK).executeQuery());
        auto& sel = db_.stmt(Stmt::BUNDLE_SEL_ZIP_SHA);
        sel.setInt64(1, version);
        RS rs(sel.executeQuery());
        if (!rs->next()) return;
        auto& up = db_.stmt(Stmt::BUNDLE_STATE_SET_ACTIVE);
        up.setInt64(1, version);
        up.executeUpdate();
        result = SwitchResult::switched;
    });
    return result;
}

bool BundleRepository::deactivate(int64_t version) {
    bool done = false;
    db_.transaction([&] {
        RS rs(db_.stmt(Stmt::BUNDLE_STATE_LOCK).executeQuery());
        done = rs->next() && !rs->isNull(2) && rs->getInt64(2) == version;
        if (!done) return;
        auto& up = db_.stmt(Stmt::BUNDLE_STATE_SET_ACTIVE);
        up.setNull(1, sql::DataType::INTEGER);
        up.executeUpdate();
    });
    return done;
}

std::vector<int64_t> BundleRepository::retire_beyond(int64_t keep) {
    std::vector<int64_t> retired;
    db_.transaction([&] {
        retired.clear();
        RS lock(db_.stmt(Stmt::BUNDLE_STATE_LOCK).executeQuery());
        std::vector<BundleListEntry> all;
        {
            RS rs(db_.stmt(Stmt::BUNDLE_SEL_VERSIONS).executeQuery());
            while (rs->next()) all.push_back({rs->getInt64(1), rs->getInt(2) != 0});
        }
        for (size_t i = static_cast<size_t>(keep); i < all.size(); ++i) {
            if (all[i].active) continue;
            auto& del = db_.stmt(Stmt::BUNDLE_DEL);
            del.setInt64(1, all[i].version);
            del.executeUpdate();
            auto& ins = db_.stmt(Stmt::BUNDLE_RETIRED_INS);
            ins.setInt64(1, all[i].version);
            ins.executeUpdate();
            retired.push_back(all[i].version);
        }
    });
    return retired;
}

std::vector<int64_t> BundleRepository::retired_due(int64_t grace_seconds) {
    std::vector<int64_t> out;
    db_.run([&] {
        out.clear();
        auto& ps = db_.stmt(Stmt::BUNDLE_RETIRED_SEL_DUE);
        ps.setInt64(1, grace_seconds);
        RS rs(ps.executeQuery());
        while (rs->next()) out.push_back(rs->getInt64(1));
    });
    return out;
}

void BundleRepository::forget_retired(int64_t version) {
    db_.run([&] {
        auto& ps = db_.stmt(Stmt::BUNDLE_RETIRED_DEL);
        ps.setInt64(1, version);
        ps.executeUpdate();
    });
}

}  // namespace db
