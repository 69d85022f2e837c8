// The Parquet writer, read back with our own decoder (the integration tests read the
// same files with DuckDB and hyparquet, which share no code with this one).
#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "core/parquet.h"

namespace pq = core::parquet;

namespace {

std::string write(const std::vector<pq::Column>& cols, size_t group_bytes,
                  const std::function<void(pq::Writer&)>& fill) {
    std::string out;
    pq::Writer w([&](std::string_view b) { out.append(b); }, cols, group_bytes);
    fill(w);
    w.finish();
    BOOST_TEST(w.bytes_written() == out.size());
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(parquet)

BOOST_AUTO_TEST_CASE(every_type_and_null_round_trips) {
    std::vector<pq::Column> cols = {{"b", pq::ColumnType::boolean},
                                    {"i", pq::ColumnType::int64},
                                    {"d", pq::ColumnType::float64},
                                    {"s", pq::ColumnType::string}};
    auto file = write(cols, pq::Writer::kDefaultRowGroupBytes, [](pq::Writer& w) {
        for (int r = 0; r < 21; ++r) {
            if (r % 3 != 0) w.set_bool(0, r % 2 == 0);
            if (r % 4 != 0) w.set_int64(1, -1000000000000LL * r);
            if (r % 5 != 0) w.set_double(2, r / 8.0);
            if (r % 2 != 0) w.set_string(3, std::string(r, 'x') + "\"\n\xF0\x9F\x98\x80");
            w.end_row();
        }
    });
    auto info = pq::read_metadata(file);
    BOOST_TEST(info.num_rows == 21);
    BOOST_TEST(info.row_groups.size() == 1u);
    BOOST_TEST(info.columns.size() == 4u);
    BOOST_TEST(info.columns[3].utf8);
    BOOST_TEST(info.created_by == "synkronus-fcgi");
    auto data = pq::read_columns(file, info);
    for (int r = 0; r < 21; ++r) {
        if (r % 3 != 0) BOOST_TEST(std::get<bool>(data[0][r]) == (r % 2 == 0));
        else BOOST_TEST(std::holds_alternative<std::monostate>(data[0][r]));
        if (r % 4 != 0) BOOST_TEST(std::get<int64_t>(data[1][r]) == -1000000000000LL * r);
        else BOOST_TEST(std::holds_alternative<std::monostate>(data[1][r]));
        if (r % 5 != 0) BOOST_TEST(std::get<double>(data[2][r]) == r / 8.0);
        else BOOST_TEST(std::holds_alternative<std::monostate>(data[2][r]));
        if (r % 2 != 0) BOOST_TEST(std::get<std::string>(data[3][r]) == std::string(r, 'x') + "\"\n\xF0\x9F\x98\x80");
        else BOOST_TEST(std::holds_alternative<std::monostate>(data[3][r]));
    }
}

BOOST_AUTO_TEST_CASE(row_groups_are_bounded_by_size) {
    std::vector<pq::Column> cols = {{"s", pq::ColumnType::string}, {"i", pq::ColumnType::int64}};
    auto file = write(cols, 10000, [](pq::Writer& w) {
        for (int r = 0; r < 1000; ++r) {
            w.set_string(0, std::string(100, 'a' + r % 26));
            w.set_int64(1, r);
            w.end_row();
        }
    });
    auto info = pq::read_metadata(file);
    BOOST_TEST(info.row_groups.size() > 9u);
    for (const auto& g : info.row_groups) BOOST_TEST(g.num_rows < 100);
    auto data = pq::read_columns(file, info);
    BOOST_REQUIRE(data[1].size() == 1000u);
    for (int r = 0; r < 1000; ++r) BOOST_TEST(std::get<int64_t>(data[1][r]) == r);
}

BOOST_AUTO_TEST_CASE(empty_file_and_no_columns_are_valid) {
    auto file = write({{"s", pq::ColumnType::string}}, 1000, [](pq::Writer&) {});
    auto info = pq::read_metadata(file);
    BOOST_TEST(info.num_rows == 0);
    BOOST_TEST(info.row_groups.empty());
    auto none = write({}, 1000, [](pq::Writer& w) {
        w.end_row();
        w.end_row();
    });
    BOOST_TEST(pq::read_metadata(none).num_rows == 2);
}

BOOST_AUTO_TEST_CASE(more_than_fifteen_columns_use_the_long_list_header) {
    std::vector<pq::Column> cols;
    for (int c = 0; c < 1200; ++c) cols.push_back({"c" + std::to_string(c), pq::ColumnType::float64});
    auto file = write(cols, 1 << 20, [](pq::Writer& w) {
        for (int r = 0; r < 3; ++r) {
            w.set_double(r * 7, r);
            w.end_row();
        }
    });
    auto info = pq::read_metadata(file);
    BOOST_TEST(info.columns.size() == 1200u);
    auto data = pq::read_columns(file, info);
    BOOST_TEST(std::get<double>(data[14][2]) == 2.0);
    BOOST_TEST(std::holds_alternative<std::monostate>(data[1199][2]));
}

BOOST_AUTO_TEST_CASE(wrong_type_or_double_set_is_refused) {
    std::string out;
    pq::Writer w([&](std::string_view b) { out.append(b); }, {{"i", pq::ColumnType::int64}});
    BOOST_CHECK_THROW(w.set_string(0, "x"), std::logic_error);
    w.set_int64(0, 1);
    BOOST_CHECK_THROW(w.set_int64(0, 2), std::logic_error);
    BOOST_CHECK_THROW(w.set_int64(1, 2), std::logic_error);
}

BOOST_AUTO_TEST_CASE(damaged_files_are_refused) {
    auto file = write({{"s", pq::ColumnType::string}}, 1000, [](pq::Writer& w) {
        w.set_string(0, "hello");
        w.end_row();
    });
    BOOST_CHECK_THROW(pq::read_metadata(file.substr(1)), pq::FormatError);
    BOOST_CHECK_THROW(pq::read_metadata(file.substr(0, file.size() - 9) + file.substr(file.size() - 8)), pq::FormatError);
    for (size_t cut = 4; cut < file.size() - 8; ++cut) {
        std::string bad = file;
        bad[cut] = static_cast<char>(bad[cut] ^ 0x5a);
        try {
            auto info = pq::read_metadata(bad);
            pq::read_columns(bad, info);
        } catch (const pq::FormatError&) {
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
