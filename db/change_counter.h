// The one change counter (sync_counter) that records and attachments both take
// their change ids / versions from; why that keeps every cursor from skipping is
// written in services/sync_service.cpp and db/attachment_repository.cpp.
#pragma once
#include <cstdint>

#include "db/database.h"

namespace db {

// The highest change id committed, with the row locked until the transaction ends.
int64_t lock_change_counter(Tx& tx);
// The highest change id committed, as the current snapshot sees it (no lock).
int64_t read_change_counter(Tx& tx);
// Raises the counter to `last_change_id` (under the lock taken above).
void set_change_counter(Tx& tx, int64_t last_change_id);

}  // namespace db
