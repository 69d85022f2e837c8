#include <map>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "domain/push_policy.h"
#include "domain/record_counts.h"

namespace {

domain::PushRecord record(const std::string& id, const std::string& type, bool deleted, const std::string& hash) {
    domain::PushRecord r;
    r.id = id;
    r.schema_type = type;
    r.schema_version = "1";
    r.data_json = "{}";
    r.hash = hash;
    r.deleted = deleted;
    return r;
}

domain::StoredState stored(const std::string& type, bool deleted, const std::string& hash) {
    return {hash, deleted, {}, type};
}

using Stored = std::map<std::string, domain::StoredState>;

// "type/deleted:n" for each change, in the order given.
std::vector<std::string> shown(const std::vector<domain::CountChange>& cs) {
    std::vector<std::string> out;
    for (const auto& c : cs)
        out.push_back(c.form_type + "/" + (c.deleted ? "1" : "0") + ":" + std::to_string(c.records));
    return out;
}

std::vector<std::string> changes_of(const std::vector<domain::PushRecord>& in, const Stored& s) {
    return shown(domain::count_changes(domain::plan_push(in, s).writes, s));
}

using Shown = std::vector<std::string>;

}  // namespace

BOOST_AUTO_TEST_SUITE(record_counts)

BOOST_AUTO_TEST_CASE(new_records_add_to_their_type_and_flag_sorted) {
    const std::vector<domain::PushRecord> in{record("a", "visit", false, "h1"), record("b", "child", false, "h2"),
                                             record("c", "visit", true, "h3"), record("d", "visit", false, "h4")};
    BOOST_TEST(changes_of(in, {}) == (Shown{"child/0:1", "visit/0:2", "visit/1:1"}));
}

BOOST_AUTO_TEST_CASE(an_update_in_place_changes_nothing) {
    const std::vector<domain::PushRecord> in{record("a", "visit", false, "h2")};
    BOOST_TEST(changes_of(in, Stored{{"a", stored("visit", false, "h1")}}).empty());
}

BOOST_AUTO_TEST_CASE(a_tombstone_moves_one_record_to_deleted_and_a_revival_back) {
    const std::vector<domain::PushRecord> in{record("a", "visit", true, "h1"), record("b", "visit", false, "h2")};
    const Stored s{{"a", stored("visit", false, "h1")}, {"b", stored("visit", true, "h2")}};
    BOOST_TEST(changes_of(in, s).empty());  // one each way: the sums cancel
    const std::vector<domain::PushRecord> one{record("a", "visit", true, "h1")};
    BOOST_TEST(changes_of(one, Stored{{"a", stored("visit", false, "h1")}}) == (Shown{"visit/0:-1", "visit/1:1"}));
}

BOOST_AUTO_TEST_CASE(a_record_that_changes_form_type_leaves_the_old_one) {
    const std::vector<domain::PushRecord> in{record("a", "child", false, "h2")};
    BOOST_TEST(changes_of(in, Stored{{"a", stored("visit", false, "h1")}}) == (Shown{"child/0:1", "visit/0:-1"}));
}

BOOST_AUTO_TEST_CASE(noops_and_an_id_pushed_twice_count_once) {
    // "a" is pushed as stored (no write); "b" is new, pushed twice: one record, in the
    // state of its last push.
    const std::vector<domain::PushRecord> in{record("a", "visit", false, "h1"), record("b", "visit", false, "h2"),
                                             record("b", "visit", true, "h3")};
    BOOST_TEST(changes_of(in, Stored{{"a", stored("visit", false, "h1")}}) == (Shown{"visit/1:1"}));
}

BOOST_AUTO_TEST_CASE(a_conflict_replaces_the_stored_record_and_counts_as_an_update) {
    auto r = record("a", "visit", true, "h3");
    r.client_hash = "h0";  // the client had not seen h1
    const std::vector<domain::PushRecord> in{r};
    BOOST_TEST(changes_of(in, Stored{{"a", stored("visit", false, "h1")}}) == (Shown{"visit/0:-1", "visit/1:1"}));
}

BOOST_AUTO_TEST_SUITE_END()
