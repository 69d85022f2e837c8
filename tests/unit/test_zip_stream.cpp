// The streaming ZIP writer, read back with libzip (the reader the bundle code trusts).
#include <zip.h>

#include <boost/test/unit_test.hpp>
#include <cstring>
#include <string>
#include <vector>

#include "core/crypto.h"
#include "core/zip_stream.h"

namespace {

struct Archive {
    zip_t* za = nullptr;
    explicit Archive(const std::string& bytes) {
        zip_error_t err;
        zip_error_init(&err);
        zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &err);
        BOOST_REQUIRE(src);
        za = zip_open_from_source(src, ZIP_CHECKCONS | ZIP_RDONLY, &err);
        if (!za) zip_source_free(src);
        BOOST_REQUIRE_MESSAGE(za, "libzip refused the archive: " << zip_error_strerror(&err));
    }
    ~Archive() {
        if (za) zip_discard(za);
    }
    std::string read(zip_int64_t i) {
        zip_stat_t st;
        BOOST_REQUIRE(zip_stat_index(za, i, 0, &st) == 0);
        zip_file_t* f = zip_fopen_index(za, i, 0);
        BOOST_REQUIRE(f);
        std::string out(st.size, '\0');
        zip_int64_t n = st.size ? zip_fread(f, out.data(), st.size) : 0;
        zip_fclose(f);
        BOOST_REQUIRE(n == static_cast<zip_int64_t>(st.size));
        return out;
    }
    std::string name(zip_int64_t i) { return zip_get_name(za, i, 0); }
};

std::string build(const std::vector<std::pair<std::string, std::string>>& files, bool force_zip64,
                  size_t chunk = 7) {
    std::string out;
    core::ZipStreamWriter w([&](std::string_view b) { out.append(b); }, 1764672000, force_zip64);
    for (const auto& [name, data] : files) {
        w.begin_entry(name);
        for (size_t i = 0; i < data.size(); i += chunk) w.write(std::string_view(data).substr(i, chunk));
        w.end_entry();
    }
    w.finish();
    BOOST_TEST(w.bytes_written() == out.size());
    return out;
}

void check_round_trip(bool force_zip64) {
    std::string big;
    for (int i = 0; i < 20000; ++i) big += "row " + std::to_string(i) + ",\"x\"\r\n";
    std::string random = core::random_bytes(200000);
    std::vector<std::pair<std::string, std::string>> files = {
        {"a.csv", "observation_id\r\n1\r\n"}, {"empty.csv", ""}, {"big.csv", big}, {"random.bin", random}};
    std::string zip = build(files, force_zip64, 4093);
    Archive a(zip);
    BOOST_REQUIRE(zip_get_num_entries(a.za, 0) == static_cast<zip_int64_t>(files.size()));
    for (size_t i = 0; i < files.size(); ++i) {
        BOOST_TEST(a.name(i) == files[i].first);
        BOOST_TEST(a.read(i) == files[i].second);  // libzip checks the CRC on read
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(zip_stream)

BOOST_AUTO_TEST_CASE(entries_round_trip_through_libzip) { check_round_trip(false); }

BOOST_AUTO_TEST_CASE(zip64_records_round_trip_through_libzip) { check_round_trip(true); }

BOOST_AUTO_TEST_CASE(an_empty_archive_is_valid) {
    std::string zip = build({}, false);
    BOOST_TEST(zip.size() == 22u);  // just the end record
    Archive a(zip);
    BOOST_TEST(zip_get_num_entries(a.za, 0) == 0);
}

BOOST_AUTO_TEST_CASE(compresses_repetitive_data) {
    std::string zip = build({{"z.csv", std::string(1 << 20, 'a')}}, false, 65536);
    BOOST_TEST(zip.size() < 10000u);
}

BOOST_AUTO_TEST_CASE(more_than_65535_entries_use_the_zip64_end_record) {
    std::vector<std::pair<std::string, std::string>> files;
    for (int i = 0; i < 65540; ++i) files.push_back({"f" + std::to_string(i) + ".csv", i % 1000 ? "" : "x"});
    std::string zip = build(files, false);
    // The classic end record says 0xFFFF; the ZIP64 one holds the count.
    BOOST_TEST(zip.find(std::string("\x50\x4b\x06\x06", 4)) != std::string::npos);
    Archive a(zip);
    BOOST_REQUIRE(zip_get_num_entries(a.za, 0) == 65540);
    BOOST_TEST(a.name(65539) == "f65539.csv");
    BOOST_TEST(a.read(65000) == "x");
}

BOOST_AUTO_TEST_CASE(the_sink_sees_every_byte_as_it_is_made) {
    // Nothing is held back until finish(): after a big entry most bytes are out.
    size_t seen = 0;
    core::ZipStreamWriter w([&](std::string_view b) { seen += b.size(); }, 0);
    w.begin_entry("r.bin");
    std::string random = core::random_bytes(1 << 20);
    w.write(random);
    BOOST_TEST(seen > (1u << 20) - 128 * 1024);
    w.end_entry();
    w.finish();
}

BOOST_AUTO_TEST_CASE(misuse_is_refused) {
    core::ZipStreamWriter w([](std::string_view) {}, 0);
    BOOST_CHECK_THROW(w.write("x"), std::logic_error);
    BOOST_CHECK_THROW(w.end_entry(), std::logic_error);
    w.begin_entry("a");
    BOOST_CHECK_THROW(w.begin_entry("b"), std::logic_error);
    BOOST_CHECK_THROW(w.finish(), std::logic_error);
}

BOOST_AUTO_TEST_SUITE_END()
