// The mapping of records to Parquet columns (domain/parquet_export) and the export
// filters (domain/export_filter), read back with core/parquet's decoder.
#include <boost/test/unit_test.hpp>
#include <rapidjson/document.h>

#include <ostream>

#include "core/parquet.h"
#include "domain/export_filter.h"
#include "domain/invalid_input.h"
#include "domain/parquet_export.h"

namespace pq = core::parquet;

namespace core::parquet {
inline std::ostream& operator<<(std::ostream& o, ColumnType t) { return o << static_cast<int>(t); }
}  // namespace core::parquet

namespace {

struct Exported {
    std::vector<pq::Column> cols;
    std::vector<std::vector<pq::Value>> values;
    size_t col(const std::string& name) const {
        for (size_t i = 0; i < cols.size(); ++i)
            if (cols[i].name == name) return i;
        BOOST_FAIL("no column " << name);
        return 0;
    }
};

Exported export_of(const std::vector<std::string>& datas) {
    domain::ParquetLayout layout;
    for (const auto& d : datas) layout.observe(d);
    Exported e;
    e.cols = layout.columns();
    std::string file;
    pq::Writer w([&](std::string_view b) { file.append(b); }, e.cols);
    domain::ExportRecord r;
    for (size_t i = 0; i < datas.size(); ++i) {
        r.change_id = 100 + static_cast<int64_t>(i);
        r.observation_id = "r" + std::to_string(i);
        r.form_version = "1";
        r.synced_at = "2026-12-06T10:00:00.000Z";
        r.deleted = i == 1;
        r.geolocation = i == 0 ? std::optional<std::string>("{\"latitude\":1}") : std::nullopt;
        r.data = datas[i];
        layout.write_row(w, "survey", r);
    }
    w.finish();
    e.values = pq::read_columns(file, pq::read_metadata(file));
    return e;
}

std::vector<domain::FieldProblem> problems_of(const domain::ExportFilterInput& in) {
    try {
        domain::parse_export_filter(in);
    } catch (const domain::InvalidInput& e) {
        return e.problems();
    }
    return {};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(parquet_export)

BOOST_AUTO_TEST_CASE(fixed_columns_come_first_with_the_types_of_section_9) {
    auto e = export_of({"{\"x\":1}", "{}"});
    std::vector<std::string> names;
    for (const auto& c : e.cols) names.push_back(c.name);
    BOOST_TEST(names == (std::vector<std::string>{"observation_id", "form_type", "form_version", "created_at",
                                                  "updated_at", "synced_at", "deleted", "version", "geolocation",
                                                  "data_x"}),
               boost::test_tools::per_element());
    BOOST_TEST(e.cols[6].type == pq::ColumnType::boolean);
    BOOST_TEST(e.cols[7].type == pq::ColumnType::int64);
    BOOST_TEST(std::get<std::string>(e.values[1][0]) == "survey");
    BOOST_TEST(std::get<bool>(e.values[6][1]) == true);
    BOOST_TEST(std::get<int64_t>(e.values[7][1]) == 101);
    BOOST_TEST(std::get<std::string>(e.values[8][0]) == "{\"latitude\":1}");
    BOOST_TEST(std::holds_alternative<std::monostate>(e.values[8][1]));
    BOOST_TEST(std::holds_alternative<std::monostate>(e.values[3][0]));  // created_at absent
}

BOOST_AUTO_TEST_CASE(leaf_types_come_from_every_value_of_the_form_type) {
    auto e = export_of({"{\"n\":1.5,\"b\":true,\"s\":\"x\",\"m\":1,\"a\":[1,{\"k\":null}],\"z\":null,\"o\":{}}",
                        "{\"n\":-2,\"b\":false,\"s\":\"\",\"m\":\"one\"}",
                        "{\"n\":null,\"m\":true}"});
    BOOST_TEST(e.cols[e.col("data_n")].type == pq::ColumnType::float64);
    BOOST_TEST(e.cols[e.col("data_b")].type == pq::ColumnType::boolean);
    BOOST_TEST(e.cols[e.col("data_s")].type == pq::ColumnType::string);
    BOOST_TEST(e.cols[e.col("data_m")].type == pq::ColumnType::string);
    BOOST_TEST(e.cols[e.col("data_z")].type == pq::ColumnType::string);
    auto v = [&](const char* c, size_t row) { return e.values[e.col(c)][row]; };
    BOOST_TEST(std::get<double>(v("data_n", 0)) == 1.5);
    BOOST_TEST(std::holds_alternative<std::monostate>(v("data_n", 2)));
    BOOST_TEST(std::get<bool>(v("data_b", 1)) == false);
    BOOST_TEST(std::get<std::string>(v("data_s", 1)) == "");
    // Mixed: JSON text of each value, so 1 and "1" stay apart.
    BOOST_TEST(std::get<std::string>(v("data_m", 0)) == "1");
    BOOST_TEST(std::get<std::string>(v("data_m", 1)) == "\"one\"");
    BOOST_TEST(std::get<std::string>(v("data_m", 2)) == "true");
    BOOST_TEST(std::get<std::string>(v("data_a", 0)) == "[1,{\"k\":null}]");
    BOOST_TEST(std::get<std::string>(v("data_o", 0)) == "{}");
    BOOST_TEST(std::holds_alternative<std::monostate>(v("data_z", 0)));
}

BOOST_AUTO_TEST_CASE(a_leaf_the_first_pass_missed_is_an_error_not_a_wrong_file) {
    domain::ParquetLayout layout;
    layout.observe("{\"a\":1}");
    std::string file;
    pq::Writer w([&](std::string_view b) { file.append(b); }, layout.columns());
    domain::ExportRecord r;
    r.data = "{\"b\":1}";
    BOOST_CHECK_THROW(layout.write_row(w, "t", r), domain::ExportError);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(export_filter)

BOOST_AUTO_TEST_CASE(defaults_take_everything) {
    auto f = domain::parse_export_filter({});
    BOOST_TEST(f.form_types.empty());
    BOOST_TEST(f.include_deleted);
    BOOST_TEST(f.synced_after == "1000-01-01 00:00:00.000");
}

BOOST_AUTO_TEST_CASE(times_with_offsets_become_utc) {
    auto f = domain::parse_export_filter({{"b", "a", "b"}, "2026-12-06T12:30:00.1234+02:00", "2026-12-06t10:00:00z", "false"});
    BOOST_TEST(f.form_types == (std::vector<std::string>{"a", "b"}), boost::test_tools::per_element());
    BOOST_TEST(f.synced_after == "2026-12-06 10:30:00.123");
    BOOST_TEST(f.synced_before == "2026-12-06 10:00:00.000");
    BOOST_TEST(!f.include_deleted);
}

BOOST_AUTO_TEST_CASE(bad_values_name_their_field) {
    auto p = problems_of({{""}, "yesterday", "2026-02-30T00:00:00Z", "0"});
    std::vector<std::string> fields;
    for (const auto& x : p) fields.push_back(x.field);
    BOOST_TEST(fields == (std::vector<std::string>{"form_type", "changed_after", "changed_before", "deleted"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_link_request_round_trips_through_its_stored_form) {
    rapidjson::Document d;
    d.Parse(R"({"format":"parquet","form_type":["x","a"],"changed_after":"2026-01-01T00:00:00Z","deleted":false})");
    auto req = domain::parse_link_request(d);
    BOOST_TEST((req.format == domain::ExportFormat::parquet));
    auto back = domain::stored_link("parquet", req.filter.to_json());
    BOOST_TEST(back.filter.to_json() == req.filter.to_json());
    BOOST_TEST(back.filter.form_types == (std::vector<std::string>{"a", "x"}), boost::test_tools::per_element());
    BOOST_TEST(!back.filter.include_deleted);
    d.Parse(R"({"format":"xml","form_type":[1],"deleted":"no","changed_before":5})");
    try {
        domain::parse_link_request(d);
        BOOST_FAIL("accepted");
    } catch (const domain::InvalidInput& e) {
        BOOST_TEST(e.problems().size() == 4u);
    }
}

BOOST_AUTO_TEST_SUITE_END()
