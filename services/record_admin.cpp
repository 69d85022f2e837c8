#include "services/record_admin.h"

#include "db/record_admin_repository.h"
#include "db/sync_repository.h"

#include "core/time_util.h"
#include "db/sync_repository.h"
#include "domain/attachment_refs.h"
#include "domain/invalid_input.h"

namespace services {

using Repo = db::RecordAdminRepository;

namespace {

[[noreturn]] void bad_cursor() {
    throw domain::InvalidInput({domain::FieldProblem{"cursor", "cursor is invalid"}});
}

}  // namespace

RecordPage RecordAdmin::records(const RecordQuery& q, const domain::ListPage& page) {
    db::RecordFilter f;
    f.form_type = q.form_type;
    f.client_id = q.client_id;
    f.username = q.username;
    f.deleted = q.deleted;
    if (q.changed_after_ms) f.changed_after = db::sql_datetime_ms(*q.changed_after_ms);
    if (q.changed_before_ms) f.changed_before = db::sql_datetime_ms(*q.changed_before_ms);
    db::RecordCursor cursor;
    if (page.after) {
        const auto change_id = domain::position_int(page.after->at(0));
        const auto synced_ms = core::parse_rfc3339_ms(page.after->at(1));
        if (!change_id || !synced_ms) bad_cursor();
        cursor.change_id = *change_id;
        cursor.synced_at = db::sql_datetime_ms(*synced_ms);
    }
    RecordPage out;
    // One row more than the page tells whether another page follows.
    db_.run([&](db::Tx& tx) { out.records = Repo(tx).records(f, cursor, page.limit + 1); });
    if (out.records.size() > static_cast<size_t>(page.limit)) {
        out.records.pop_back();
        const auto& last = out.records.back();
        out.next = domain::ListPosition{std::to_string(last.change_id), last.last_modified};
    }
    return out;
}

std::optional<RecordDetail> RecordAdmin::record(const std::string& id) {
    std::optional<RecordDetail> out;
    // One transaction: the record and its history come from one snapshot, so a push
    // committing meanwhile shows in both or in neither.
    db_.transaction([&](db::Tx& tx) {
        Repo repo(tx);
        out.reset();
        auto r = repo.record(id);
        if (!r) return;
        RecordDetail d;
        d.history = repo.history(id, kMaxHistoryRows);
        for (auto& a : domain::attachment_refs(r->data)) {
            const auto present = repo.attachment_present(a);
            d.attachments.push_back({std::move(a), present.value_or(false)});
        }
        d.record = std::move(*r);
        out = std::move(d);
    });
    return out;
}

AttachmentPage RecordAdmin::attachments(bool unreferenced_only, const domain::ListPage& page) {
    int64_t before = INT64_MAX;
    if (page.after) {
        const auto v = domain::position_int(page.after->at(0));
        if (!v) bad_cursor();
        before = *v;
    }
    AttachmentPage out;
    db_.run([&](db::Tx& tx) {
        Repo repo(tx);
        out.attachments.clear();
        auto rows = repo.attachments(unreferenced_only, before, page.limit + 1);
        for (auto& row : rows) {
            AdminAttachment a;
            if (row.references > 0) a.referenced_by = repo.referencing_records(row.attachment_id, kMaxReferencedBy);
            a.row = std::move(row);
            out.attachments.push_back(std::move(a));
        }
    });
    if (out.attachments.size() > static_cast<size_t>(page.limit)) {
        out.attachments.pop_back();
        out.next = domain::ListPosition{std::to_string(out.attachments.back().row.version)};
    }
    return out;
}

}  // namespace services
