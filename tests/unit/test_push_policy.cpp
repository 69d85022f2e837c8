#include <map>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "domain/push_policy.h"

namespace {

domain::PushRecord record(const std::string& id, const std::string& hash, bool deleted = false,
                          std::optional<std::string> client_hash = std::nullopt) {
    domain::PushRecord r;
    r.id = id;
    r.schema_type = "visit";
    r.schema_version = "1";
    r.data_json = "{}";
    r.hash = hash;
    r.deleted = deleted;
    r.client_hash = std::move(client_hash);
    return r;
}

domain::StoredState state(const std::string& hash, bool deleted = false, domain::ObservationFields fields = {}) {
    return {hash, deleted, std::move(fields), "visit"};
}

std::vector<std::string> written_ids(const domain::PushPlan& p) {
    std::vector<std::string> ids;
    for (const auto& w : p.writes) ids.push_back(w.record->id);
    return ids;
}

using Ids = std::vector<std::string>;
using Stored = std::map<std::string, domain::StoredState>;

}  // namespace

BOOST_AUTO_TEST_SUITE(push_policy)

BOOST_AUTO_TEST_CASE(new_records_are_written_in_pushed_order) {
    const std::vector<domain::PushRecord> in{record("b", "h1"), record("a", "h2")};
    const auto p = domain::plan_push(in, {});
    BOOST_TEST(p.success_count == 2);
    BOOST_TEST(written_ids(p) == (Ids{"b", "a"}));
    BOOST_TEST(p.warnings.empty());
    BOOST_TEST(p.overwritten.empty());
}

BOOST_AUTO_TEST_CASE(equal_content_and_deleted_flag_is_a_noop) {
    const std::vector<domain::PushRecord> in{record("a", "h1"), record("b", "h2", true)};
    const auto p = domain::plan_push(in, Stored{{"a", state("h1", false)}, {"b", state("h2", true)}});
    BOOST_TEST(p.success_count == 2);  // a no-op still counts as success
    BOOST_TEST(p.writes.empty());
    BOOST_TEST(p.warnings.empty());
}

BOOST_AUTO_TEST_CASE(a_noop_with_a_stale_client_hash_is_still_a_noop) {
    // The content is what is stored: nothing is overwritten, so nothing conflicts.
    const std::vector<domain::PushRecord> in{record("a", "h1", false, "old")};
    const auto p = domain::plan_push(in, Stored{{"a", state("h1", false)}});
    BOOST_TEST(p.writes.empty());
    BOOST_TEST(p.warnings.empty());
}

BOOST_AUTO_TEST_CASE(a_changed_deleted_flag_is_written) {
    const std::vector<domain::PushRecord> in{record("a", "h1", true), record("b", "h2", false)};
    const auto p = domain::plan_push(in, Stored{{"a", state("h1", false)}, {"b", state("h2", true)}});
    BOOST_TEST(written_ids(p) == (Ids{"a", "b"}));
    BOOST_TEST(p.writes[0].record->deleted);
    BOOST_TEST(!p.writes[1].record->deleted);
}

BOOST_AUTO_TEST_CASE(changed_content_is_written) {
    const std::vector<domain::PushRecord> in{record("a", "h2")};
    const auto p = domain::plan_push(in, Stored{{"a", state("h1", false)}});
    BOOST_TEST(written_ids(p) == Ids{"a"});
    BOOST_TEST(p.warnings.empty());  // no client hash: a plain update
}

BOOST_AUTO_TEST_CASE(matching_client_hash_is_no_conflict) {
    const std::vector<domain::PushRecord> in{record("a", "h2", false, "h1")};
    const auto p = domain::plan_push(in, Stored{{"a", state("h1", false)}});
    BOOST_TEST(written_ids(p) == Ids{"a"});
    BOOST_TEST(p.warnings.empty());
    BOOST_TEST(p.overwritten.empty());
}

BOOST_AUTO_TEST_CASE(stale_client_hash_wins_with_a_conflict_warning) {
    const std::vector<domain::PushRecord> in{record("x", "n0"), record("a", "h3", false, "h1")};
    const auto p = domain::plan_push(in, Stored{{"a", state("h2", false)}});
    BOOST_TEST(written_ids(p) == (Ids{"x", "a"}));
    BOOST_REQUIRE_EQUAL(p.warnings.size(), 1u);
    BOOST_TEST(p.warnings[0].id == "a");
    BOOST_TEST(p.warnings[0].code == "CONFLICT");
    BOOST_TEST(p.warnings[0].message ==
               "Record a was changed on the server since the client last saw it; "
               "this push overwrote it and the previous version was kept");
    BOOST_REQUIRE_EQUAL(p.overwritten.size(), 1u);
    BOOST_TEST(p.overwritten[0].id == "a");
    BOOST_TEST(p.overwritten[0].client_hash == "h1");
    BOOST_TEST(p.overwritten[0].write == 1u);  // replaced by the second write
}

BOOST_AUTO_TEST_CASE(a_client_hash_on_a_new_record_is_no_conflict) {
    const std::vector<domain::PushRecord> in{record("a", "h1", false, "whatever")};
    const auto p = domain::plan_push(in, {});
    BOOST_TEST(written_ids(p) == Ids{"a"});
    BOOST_TEST(p.warnings.empty());
}

BOOST_AUTO_TEST_CASE(a_delete_over_an_unseen_version_conflicts) {
    const std::vector<domain::PushRecord> in{record("a", "h1", true, "h0")};
    const auto p = domain::plan_push(in, Stored{{"a", state("h1", false)}});
    BOOST_TEST(written_ids(p) == Ids{"a"});
    BOOST_TEST(p.warnings.size() == 1u);
    BOOST_TEST(p.overwritten.size() == 1u);
}

BOOST_AUTO_TEST_CASE(an_id_pushed_twice_ends_with_the_last_one) {
    const std::vector<domain::PushRecord> in{record("a", "first"), record("b", "other"), record("a", "second")};
    const auto p = domain::plan_push(in, {});
    BOOST_TEST(p.success_count == 3);
    BOOST_TEST(written_ids(p) == (Ids{"a", "b"}));  // one write per id, at its first position
    BOOST_TEST(p.writes[0].record->hash == "second");
}

BOOST_AUTO_TEST_CASE(an_id_pushed_twice_is_applied_as_two_pushes) {
    // The second copy equals the first: a no-op against it, not against the store.
    std::vector<domain::PushRecord> in{record("a", "h2"), record("a", "h2")};
    auto p = domain::plan_push(in, Stored{{"a", state("h1", false)}});
    BOOST_TEST(written_ids(p) == Ids{"a"});
    // Back to the stored content: written, since the first copy changed it.
    in = {record("a", "h2"), record("a", "h1")};
    p = domain::plan_push(in, Stored{{"a", state("h1", false)}});
    BOOST_TEST(written_ids(p) == Ids{"a"});
    BOOST_TEST(p.writes[0].record->hash == "h1");
    // A stale hash on the second copy conflicts with the first copy: warned, but the
    // stored version was replaced by this push itself and is kept only once.
    in = {record("a", "h2", false, "h0"), record("a", "h3", false, "h1")};
    p = domain::plan_push(in, Stored{{"a", state("h1", false)}});
    BOOST_TEST(p.warnings.size() == 2u);
    BOOST_REQUIRE_EQUAL(p.overwritten.size(), 1u);
    BOOST_TEST(p.overwritten[0].client_hash == "h0");
    BOOST_TEST(p.writes[0].record->hash == "h3");
}

BOOST_AUTO_TEST_CASE(observation_fields_are_part_of_the_content) {
    const domain::ObservationFields stored{"2026-01-01T10:00:00Z", "2026-01-01T11:00:00Z",
                                           R"({"accuracy":5,"latitude":1,"longitude":2})"};
    auto same = record("a", "h1");
    same.observation = true;
    same.fields = stored;
    // Everything equal: a no-op.
    std::vector<domain::PushRecord> in{same};
    auto p = domain::plan_push(in, Stored{{"a", state("h1", false, stored)}});
    BOOST_TEST(p.writes.empty());
    // Each field on its own makes a change, with the same hash.
    for (int k = 0; k < 3; ++k) {
        auto changed = same;
        if (k == 0) changed.fields.created_at = "2026-01-01T10:00:00.000Z";  // same instant, other spelling
        if (k == 1) changed.fields.updated_at.reset();
        if (k == 2) changed.fields.geolocation = R"({"accuracy":5,"latitude":1,"longitude":3})";
        in = {changed};
        p = domain::plan_push(in, Stored{{"a", state("h1", false, stored)}});
        BOOST_REQUIRE_EQUAL(p.writes.size(), 1u);
        BOOST_TEST((p.writes[0].fields == changed.fields));
    }
}

BOOST_AUTO_TEST_CASE(a_record_without_observation_fields_keeps_the_stored_ones) {
    const domain::ObservationFields stored{"2026-01-01T10:00:00Z", std::nullopt, R"({"latitude":1})"};
    auto old_client = record("a", "h2");
    old_client.keeps_fields = true;
    std::vector<domain::PushRecord> in{old_client};
    auto p = domain::plan_push(in, Stored{{"a", state("h1", false, stored)}});
    BOOST_REQUIRE_EQUAL(p.writes.size(), 1u);
    BOOST_TEST((p.writes[0].fields == stored));
    // The same content as stored is a no-op, whatever the fields it did not send.
    old_client.hash = "h1";
    in = {old_client};
    p = domain::plan_push(in, Stored{{"a", state("h1", false, stored)}});
    BOOST_TEST(p.writes.empty());
    // A new id has nothing to keep.
    in = {old_client};
    p = domain::plan_push(in, {});
    BOOST_REQUIRE_EQUAL(p.writes.size(), 1u);
    BOOST_TEST((p.writes[0].fields == domain::ObservationFields{}));
}

BOOST_AUTO_TEST_CASE(distinct_ids_keep_pushed_order) {
    const std::vector<domain::PushRecord> in{record("c", "1"), record("a", "2"), record("c", "3"), record("b", "4")};
    BOOST_TEST(domain::distinct_ids(in) == (Ids{"c", "a", "b"}));
    BOOST_TEST(domain::distinct_ids({}).empty());
}

BOOST_AUTO_TEST_SUITE_END()
