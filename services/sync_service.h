// Sync across storage: the push transaction with its idempotency and retry rules,
// and paged pulls from one snapshot. Handlers parse and render; the policy of a push
// is domain/push_policy; the statements are db::SyncRepository.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/database.h"
#include "db/record_admin_repository.h"
#include "db/sync_repository.h"
#include "domain/page_token.h"
#include "domain/sync_request.h"

namespace services {

// The answer to a push: applied now, a replay of the stored response of the same
// transmission, or a transmission id already used for another body.
struct PushReply {
    enum class Kind { applied, replayed, transmission_reused } kind;
    std::string body;  // the response body, byte for byte what is stored for replays
};

struct PullPage {
    std::vector<db::StoredRecord> records;
    bool has_more = false;
    // The cursor the client stores: the last record's change_id when has_more, else the
    // snapshot's counter.
    int64_t change_cutoff = 0;
    // The counter of the pull's snapshot: read by its first page, carried in the
    // page tokens, and the upper bound of every later page.
    int64_t snapshot_cutoff = 0;
    std::optional<domain::PageCursor> next;  // when has_more
};

class SyncService {
public:
    // `history_days`: how long replaced versions are kept (record_history_days; 0
    // keeps none, and a push then writes no history).
    SyncService(db::Database& db, int64_t idempotency_ttl_s, int64_t history_days)
        : db_(db), repo_(db), history_(db), ttl_s_(idempotency_ttl_s), history_days_(history_days) {}

    // `fingerprint` identifies the body and user: the same transmission_id with the
    // same fingerprint is a retry.
    PushReply push(const domain::PushRequest& req, const std::string& fingerprint, const std::string& username,
                   int64_t now_ms);

    // One page from `cursor`. A cursor from a page token reads up to the snapshot of
    // the pull's first page, so a pull ends even while pushes keep coming; what they
    // commit meanwhile is above change_cutoff and comes with the next pull.
    PullPage pull(const domain::PageCursor& cursor);

    void delete_expired_transmissions();
    // Deletes history older than record_history_days; at most once a minute cluster-wide.
    void expire_history();

private:
    using Refs = std::vector<std::vector<std::string>>;  // per pushed record
    std::string apply(const domain::PushRequest& req, const db::PushOrigin& origin, const Refs& refs);
    void keep_history_and_refs(const domain::PushPlan& plan, const std::map<std::string, domain::StoredState>& stored,
                               const domain::PushRequest& req, const Refs& refs, int64_t now_ms);

    db::Database& db_;
    db::SyncRepository repo_;
    db::RecordAdminRepository history_;
    int64_t ttl_s_;
    int64_t history_days_;
};

// The response body of a push (stored for replays).
// `current_version` is the counter when the push committed: its own last change, or
// the highest committed change it saw when it changed nothing.
std::string render_push_response(int64_t now_ms, int64_t current_version,
                                 const std::vector<domain::FailedRecord>& failed, int64_t success_count,
                                 const std::vector<domain::PushWarning>& warnings);

}  // namespace services
