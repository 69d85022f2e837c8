// The two ways a service reaches storage: a transaction it opens itself
// (db::Database::transaction, handing the db::Tx to the repositories it builds on
// it), or, for a read or write that stands alone, run_with below.
#pragma once
#include <optional>
#include <utility>

#include "db/database.h"

namespace services {

// Runs `fn(repository)` as one autocommit unit of work (reconnects and conflict
// retries as db::Database::run) and returns what it returns. `fn` may run again.
template <class Repo, class Fn>
auto run_with(db::Database& db, Fn&& fn) {
    std::optional<decltype(fn(std::declval<Repo&>()))> out;
    db.run([&](db::Tx& tx) {
        Repo repo(tx);
        out.emplace(fn(repo));
    });
    return std::move(*out);
}

}  // namespace services
