// Sync across storage: the push transaction with its idempotency and retry rules,
// and paged pulls from one snapshot. Handlers parse and render; the policy of a push
// is domain/push_policy; the statements are db::SyncRepository.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/database.h"
#include "db/rows.h"
#include "domain/page_token.h"
#include "domain/push_policy.h"
#include "domain/sync_request.h"
#include "services/presence.h"

namespace db {
class SyncRepository;
}

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
    std::string next_page_token;             // `next`, signed, when has_more
    domain::RecordShape shape = domain::RecordShape::records;  // the shape the records come in
};

class SyncService {
public:
    // Page tokens are signed with a key derived from `jwt_secret`, so a token from one
    // purpose can never be replayed as the other. `history_days`: how long replaced
    // versions are kept (record_history_days; 0 keeps none, and a push then writes no
    // history). `presence_interval_s`: see services/presence.h.
    SyncService(db::Database& db, int64_t idempotency_ttl_s, const std::string& jwt_secret, int64_t history_days,
                int64_t presence_interval_s, bool presence_on = true);

    // `fingerprint` identifies the body and user: the same transmission_id with the
    // same fingerprint is a retry.
    PushReply push(const domain::PushRequest& req, const std::string& fingerprint, const std::string& username,
                   int64_t now_ms);

    // One page: from `page_token` when one is given (it carries cursor, filter, limit
    // and snapshot, and continues exactly where its page ended), else from `first`
    // (domain::first_page_cursor). A page token's page reads up to the snapshot of the
    // pull's first page, so a pull ends even while pushes keep coming; what they
    // commit meanwhile is above change_cutoff and comes with the next pull. Throws
    // domain::InvalidInput for a forged or altered token.
    // The device's presence (services/presence.h) is noted after the page is read.
    PullPage pull(const domain::PageCursor& first, const std::optional<std::string>& page_token,
                  const std::string& client_id, const std::string& username);


private:
    using Refs = std::vector<std::vector<std::string>>;  // per pushed record
    PushReply push_once(const domain::PushRequest& req, const std::string& fingerprint, const std::string& username,
                        int64_t now_ms);
    std::string apply(db::Tx& tx, const domain::PushRequest& req, const db::PushOrigin& origin, const Refs& refs);
    void keep_history_and_refs(db::Tx& tx, const domain::PushPlan& plan,
                               const std::map<std::string, domain::StoredState>& stored,
                               const domain::PushRequest& req, const Refs& refs, int64_t now_ms);

    db::Database& db_;
    int64_t ttl_s_;
    std::string page_token_key_;
    int64_t history_days_;
    PresenceTracker presence_;
};

// The response body of a push (stored for replays).
// `current_version` is the counter when the push committed: its own last change, or
// the highest committed change it saw when it changed nothing.
std::string render_push_response(int64_t now_ms, int64_t current_version,
                                 const std::vector<domain::FailedRecord>& failed, int64_t success_count,
                                 const std::vector<domain::PushWarning>& warnings);

}  // namespace services
