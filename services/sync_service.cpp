// How change_id never skips
// -------------------------
// A puller stores the change_cutoff it was given and later asks for change_id > it.
// That is safe only if no transaction can ever commit a change_id at or below a
// value some reader has already seen. A plain AUTO_INCREMENT breaks this: push A
// takes id 10, push B takes 11 and commits first, a pull returns 11 and its cursor
// moves past 10, then A commits 10, which that client never sees.
//
// Here change ids come from one counter row (sync_counter). A push locks that row
// (SELECT ... FOR UPDATE) before it writes records, and the lock is held to
// COMMIT, where the records and the raised counter become visible together. So
// pushes that change records commit one at a time in change_id order, and any
// snapshot that sees counter = C also sees every record with change_id <= C. A
// pull reads the counter first and then only records up to it, so it never
// returns, or advances a cursor past, anything above a committed counter value.
//
// The serialized part is kept to the database work of one push: parsing, JSON
// validation, canonicalization and hashing are done before the transaction starts,
// the transmission row is claimed before the counter lock, and the writes are a
// batched primary-key read and multi-row upserts. Pushes that carry no valid
// records (all records invalid) do not take the lock at all.
//
// On a Galera cluster (several hosts, each writing to its own node)
// ------------------------------------------------------------------
// The counter row's FOR UPDATE lock is local to one node: two pushes on two nodes
// both take it, both read counter = C and both write ids C+1... But both also
// UPDATE the counter row, so their write-sets carry the same key, and certification
// (run by every node in the same global order) commits the first and fails the
// second with errno 1213; db::Database::transaction reruns it (bounded, jittered),
// and the rerun reads C+n from the counter. A push whose write-set was certified
// after another push's therefore read that push's counter value: commit order
// equals counter order, cluster-wide, just as on one server.
//
// Every node applies (and commits) write-sets in that global order, also with
// several applier threads (commit order is enforced), so what a node shows at any
// moment is a prefix of the global order. A pull reads the counter and then the
// records up to it; both reads see prefixes, the second at least as long as the
// first, and every record with change_id <= the counter read is in the first
// prefix. So a pull on any node never returns, or advances a cursor past, a change
// id that could still commit below it: a cursor taken on one host is valid on all.
//
// What a node may lag is the end of the prefix: a push acknowledged by another node
// can be missing from a pull here for the few milliseconds until this node applies
// it; the pull then ends at a lower change_cutoff and the next pull returns it.
// wsrep_sync_wait = 1 (db_wsrep_sync_wait) would make each read wait for the node
// to catch up (read-your-writes across hosts) at a cluster round trip per read. It
// is not needed for the cursor, only for freshness, so the default is 0: a phone
// pulls after it pushes and gets its own records back at the latest on the next
// pull either way, and `make bench-cluster` shows what waiting costs.
//
// A push whose connection is lost during COMMIT has an unknown outcome; the
// transaction is not rerun (db/database.h) and the client gets a 503 and repeats the
// push under the same transmission_id, on any host. The transmission row commits
// atomically with the records: if the first attempt committed, the repeat's INSERT
// of that row meets it (a duplicate key locally, or a certification conflict that is
// retried until this node has applied it and the duplicate shows), and the stored
// response is replayed; if it did not commit, the repeat applies the push. Either
// way the push is applied exactly once.
//
// Later pages of one pull are bounded by the first page's snapshot (carried in the
// page token) AND by the counter of the node serving the page: a token issued on a
// node that is ahead may come back to a node that has not applied everything up to
// the first snapshot yet, and bounding by that node's own counter keeps the page a
// prefix of what it has applied.
#include "services/sync_service.h"

#include <algorithm>
#include <set>

#include "core/crypto.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time_util.h"
#include "db/record_admin_repository.h"
#include "db/sync_repository.h"
#include "domain/attachment_refs.h"
#include "domain/invalid_input.h"
#include "domain/push_policy.h"
#include "services/housekeeping.h"
#include "domain/record_counts.h"

namespace services {

std::string render_push_response(int64_t now_ms, int64_t current_version,
                                 const std::vector<domain::FailedRecord>& failed, int64_t success_count,
                                 const std::vector<domain::PushWarning>& warnings) {
    core::JsonOut o;
    o.begin_object();
    o.key("server_time").str(core::rfc3339_ms(now_ms));
    o.key("current_version").num(current_version);
    o.key("success_count").num(success_count);
    o.key("failed_records").begin_array();
    for (const auto& f : failed)
        o.begin_object().key("id").str(f.id).key("index").num(static_cast<int64_t>(f.index))
            .key("code").str(f.code).key("error").str(f.error).end_object();
    o.end_array();
    o.key("warnings").begin_array();
    for (const auto& w : warnings)
        o.begin_object().key("id").str(w.id).key("code").str(w.code).key("message").str(w.message).end_object();
    o.end_array();
    o.end_object();
    return o.take();
}

SyncService::SyncService(db::Database& db, int64_t idempotency_ttl_s, const std::string& jwt_secret,
                         int64_t history_days, int64_t presence_interval_s, bool presence_on)
    : db_(db),
      ttl_s_(idempotency_ttl_s),
      page_token_key_(core::hmac_sha256(jwt_secret, "synkronus page tokens")),
      history_days_(history_days),
      presence_(db, presence_interval_s, presence_on) {}

// History and references are written in the push's transaction, before the upsert
// overwrites the rows they copy: a version is kept exactly when the change replacing
// it commits (never lost, never half-kept), and a replayed push applies nothing, so it
// keeps nothing twice. The rows were locked FOR UPDATE by lock_records.
void SyncService::keep_history_and_refs(db::Tx& tx, const domain::PushPlan& plan,
                                        const std::map<std::string, domain::StoredState>& stored,
                                        const domain::PushRequest& req, const Refs& refs, int64_t now_ms) {
    std::vector<std::string> existing, replaced_by_push, replaced_by_conflict;
    std::set<std::string> conflicted;
    for (const auto& v : plan.overwritten) conflicted.insert(v.id);
    std::vector<std::pair<std::string, std::vector<std::string>>> new_refs;
    for (const auto& w : plan.writes) {
        const std::string& id = w.record->id;
        const auto& named = refs[static_cast<size_t>(w.record - req.records.data())];
        if (stored.count(id)) {
            existing.push_back(id);
            (conflicted.count(id) ? replaced_by_conflict : replaced_by_push).push_back(id);
        }
        if (!named.empty()) new_refs.emplace_back(id, named);
    }
    db::RecordAdminRepository history(tx);
    if (history_days_ > 0) {
        if (!replaced_by_push.empty()) history.keep_history(replaced_by_push, "push", now_ms);
        if (!replaced_by_conflict.empty()) history.keep_history(replaced_by_conflict, "conflict", now_ms);
    }
    if (!existing.empty() || !new_refs.empty()) history.replace_refs(existing, new_refs);
}

// Runs inside the push transaction; returns the response body to store.
std::string SyncService::apply(db::Tx& tx, const domain::PushRequest& req, const db::PushOrigin& origin,
                               const Refs& refs) {
    db::SyncRepository repo(tx);
    const auto ids = domain::distinct_ids(req.records);
    std::map<std::string, domain::StoredState> stored;
    int64_t counter = 0;
    if (!ids.empty()) {
        // Reading the stored rows with FOR UPDATE after taking the counter lock means
        // no other push can change them before we commit.
        counter = repo.lock_counter();
        stored = repo.lock_records(ids);
    } else {
        // Nothing to write: the transaction's snapshot holds a committed counter value.
        counter = repo.read_counter();
    }
    const auto plan = domain::plan_push(req.records, stored);
    if (!plan.writes.empty()) {
        const int64_t first = counter + 1;
        // Keep the versions about to be overwritten, with the change that replaces them.
        for (const auto& v : plan.overwritten) repo.keep_overwritten(v, origin, first + static_cast<int64_t>(v.write));
        keep_history_and_refs(tx, plan, stored, req, refs, origin.now_ms);
        repo.upsert(plan.writes, first, origin);
        // The record counts the admin overview reads, kept exactly: changed in this
        // transaction, so they commit (or vanish) with the records they count, and a
        // replayed push, which applies nothing, changes nothing.
        //
        // No new contention on one host: these rows are only ever written after the
        // counter lock above (pushes here; the recount of sql/011_record_counts.sql
        // takes the same lock first), and that lock is held to COMMIT. So whoever
        // wrote a record_counts row before us has committed before we got here: the
        // row locks are always free when we ask, and pushes serialize exactly as
        // before, for one more primary-key upsert per (form type, deleted) changed
        // (usually one or two; sorted, so the order is fixed anyway).
        //
        // On Galera no new certification conflicts: every push that changes a count
        // also updates the sync_counter row, so any two pushes whose write-sets share
        // a record_counts key already share the counter's key and were already
        // certified one after the other (the later one rerun, see the top of this
        // file). The counts add to whatever the rows hold, so a rerun adds its change
        // to the row the earlier push left. Pushes that write nothing touch neither.
        repo.add_record_counts(domain::count_changes(plan.writes, stored));
        counter += static_cast<int64_t>(plan.writes.size());
        repo.set_counter(counter);
    }
    return render_push_response(origin.now_ms, counter, req.failed, plan.success_count, plan.warnings);
}

PushReply SyncService::push(const domain::PushRequest& req, const std::string& fingerprint,
                            const std::string& username, int64_t now_ms) {
    PushReply reply = push_once(req, fingerprint, username, now_ms);
    // Expired responses and old history are cleared as pushes come in; no cron job is needed.
    if (core::random_bytes(1)[0] % 64 == 0) {
        run_housekeeping(db_, "sync_transmissions_expiry",
                         [](db::Tx& tx) { db::SyncRepository(tx).delete_expired_transmissions(); });
        run_housekeeping(db_, "record_history_expiry",
                         [&](db::Tx& tx) { db::RecordAdminRepository(tx).delete_old_history(history_days_); });
    }
    // After the push's transaction, never in it (services/presence.h).
    if (reply.kind != PushReply::Kind::transmission_reused) {
        const bool observations =
            std::any_of(req.records.begin(), req.records.end(), [](const auto& r) { return r.observation; });
        presence_.saw_push(req.client_id, username, observations ? "observations" : "records",
                           static_cast<int64_t>(req.records.size() + req.failed.size()), core::unix_now_ms());
    }
    return reply;
}

PushReply SyncService::push_once(const domain::PushRequest& req, const std::string& fingerprint,
                                 const std::string& username, int64_t now_ms) {
    const db::PushOrigin origin{username, req.client_id, now_ms};
    // The attachment ids each record names, found before the transaction (no parsing
    // under the counter lock); a tombstone names none.
    Refs refs(req.records.size());
    for (size_t i = 0; i < req.records.size(); ++i)
        if (!req.records[i].deleted) refs[i] = domain::attachment_refs(req.records[i].data_json);
    for (int attempt = 0; attempt < 3; ++attempt) {
        try {
            std::string body;
            const int runs = db_.transaction([&](db::Tx& tx) {
                db::SyncRepository repo(tx);
                // Claim the transmission first: a concurrent identical push blocks here
                // until this one commits, then finds the stored response.
                repo.claim_transmission(req.transmission_id, fingerprint, now_ms / 1000 + ttl_s_);
                body = apply(tx, req, origin, refs);
                repo.store_response(req.transmission_id, body);
            });
            // Reruns are conflicts (on Galera, certification) or a lost node; make
            // bench-cluster counts these lines.
            if (runs > 1) core::log::debug("push reran " + std::to_string(runs - 1) + " time(s) before it committed");
            return {PushReply::Kind::applied, std::move(body)};
        } catch (const db::Error& e) {
            if (e.kind() != db::ErrorKind::duplicate) throw;
        }
        // The transmission id is taken: replay, refuse, or (expired) clear it and retry.
        std::optional<PushReply> found;
        db_.run([&](db::Tx& tx) {
            db::SyncRepository repo(tx);
            found.reset();
            const auto stored = repo.find_transmission(req.transmission_id);
            if (!stored) return;  // expired and removed meanwhile: try again
            if (stored->expires_at <= core::unix_now()) {
                repo.delete_transmission_if_expired(req.transmission_id);
                return;
            }
            if (stored->fingerprint == fingerprint)
                found = PushReply{PushReply::Kind::replayed, stored->response};
            else
                found = PushReply{PushReply::Kind::transmission_reused, ""};
        });
        if (found) return *found;
    }
    throw db::Error(db::ErrorKind::deadlock, 0, "transmission id kept colliding with expiring rows");
}

PullPage SyncService::pull(const domain::PageCursor& first, const std::optional<std::string>& page_token,
                           const std::string& client_id, const std::string& username) {
    domain::PageCursor cursor = first;
    if (page_token && !page_token->empty()) {
        auto decoded = domain::decode_page_token(*page_token, page_token_key_);
        if (!decoded) throw domain::InvalidInput({domain::FieldProblem{"page_token", "page_token is invalid or was altered"}});
        cursor = *decoded;
    }
    PullPage page;
    // Why autocommit statements and not one snapshot: the counter is read first and
    // the records after it, each statement seeing what has committed by then. Records
    // and the counter commit together (see the top of this file), so every record
    // with change_id <= the counter read here (or by the first page) is committed and
    // visible to the second statement, and nothing above it is read. A record pushed
    // again between the two reads leaves this page (its new change_id is above the
    // counter) and comes with the next pull, so the cursor never passes a change the
    // client did not get. No read view is held open between pages.
    db_.run([&](db::Tx& tx) {
        db::SyncRepository repo(tx);
        page = PullPage{};
        page.snapshot_cutoff = repo.read_counter();
        if (cursor.snapshot_cutoff > 0) page.snapshot_cutoff = std::min(page.snapshot_cutoff, cursor.snapshot_cutoff);
        const size_t limit = static_cast<size_t>(cursor.limit);
        page.records = repo.read_changes(cursor.after_change_id, page.snapshot_cutoff, cursor.schema_types, limit + 1);
        if (page.records.size() > limit) {
            page.records.pop_back();
            page.has_more = true;
        }
    });
    page.shape = cursor.shape;
    page.change_cutoff = page.has_more ? page.records.back().change_id : page.snapshot_cutoff;
    if (page.has_more) {
        domain::PageCursor next = cursor;
        next.after_change_id = page.change_cutoff;
        next.snapshot_cutoff = page.snapshot_cutoff;
        page.next = next;
        page.next_page_token = domain::encode_page_token(next, page_token_key_);
    }
    presence_.saw_pull(client_id, username,
                       cursor.shape == domain::RecordShape::observations ? "observations"
                       : cursor.shape == domain::RecordShape::records    ? "records"
                                                                         : "",
                       cursor.after_change_id, core::unix_now_ms());
    return page;
}


}  // namespace services
