#include <boost/test/unit_test.hpp>

#include "domain/csv_export.h"

using domain::CsvCell;
using domain::ExportRecord;

namespace {

std::string row(const std::vector<CsvCell>& cells) {
    std::string out;
    domain::append_csv_row(out, cells);
    return out;
}

std::string flat(const std::string& json) {
    std::string out;
    for (const auto& l : domain::flatten_data(json)) out += l.path + "=" + (l.value ? *l.value : "<null>") + ";";
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(csv_export)

BOOST_AUTO_TEST_CASE(fields_are_quoted_only_when_rfc4180_needs_it) {
    BOOST_TEST(row({std::string("plain"), std::string("a,b"), std::string("say \"hi\""), std::string("l1\r\nl2"),
                    std::string("cr\ronly"), std::string("lf\nonly")}) ==
               "plain,\"a,b\",\"say \"\"hi\"\"\",\"l1\r\nl2\",\"cr\ronly\",\"lf\nonly\"\r\n");
}

BOOST_AUTO_TEST_CASE(null_is_an_empty_field_and_the_empty_string_is_quoted) {
    BOOST_TEST(row({std::nullopt, std::string(""), std::nullopt}) == ",\"\",\r\n");
}

BOOST_AUTO_TEST_CASE(unicode_and_spaces_pass_through_unquoted) {
    BOOST_TEST(row({std::string("Zürich ☃ 日本"), std::string(" lead"), std::string("=1+1")}) ==
               "Zürich ☃ 日本, lead,=1+1\r\n");
}

BOOST_AUTO_TEST_CASE(nested_objects_flatten_in_dot_notation) {
    BOOST_TEST(flat(R"({"a":{"b":{"c":1}},"d":"x"})") == "a.b.c=1;d=x;");
}

BOOST_AUTO_TEST_CASE(numbers_keep_their_stored_text) {
    BOOST_TEST(flat(R"({"big":12345678901234567890123,"f":1.5e-7,"neg":-0.10,"i":7})") ==
               "big=12345678901234567890123;f=1.5e-7;neg=-0.10;i=7;");
}

BOOST_AUTO_TEST_CASE(arrays_become_canonical_json_text) {
    BOOST_TEST(flat(R"({"tags":["a","b\"c",1.50,null,true,{"k":[1,{}],"z":"\u0001"}],"e":[]})") ==
               "tags=[\"a\",\"b\\\"c\",1.50,null,true,{\"k\":[1,{}],\"z\":\"\\u0001\"}];e=[];");
}

BOOST_AUTO_TEST_CASE(null_booleans_and_empty_objects_are_leaves) {
    BOOST_TEST(flat(R"({"n":null,"t":true,"f":false,"o":{},"p":{"q":{}}})") ==
               "n=<null>;t=true;f=false;o={};p.q={};");
    BOOST_TEST(flat("{}") == "");
}

BOOST_AUTO_TEST_CASE(keys_with_dots_are_escaped_so_paths_never_collide) {
    BOOST_TEST(flat(R"({"a.b":1,"a":{"b":2},"c\\d":3})") == "a\\.b=1;a.b=2;c\\\\d=3;");
}

BOOST_AUTO_TEST_CASE(non_objects_are_refused) {
    BOOST_CHECK_THROW(domain::flatten_data("[1,2]"), domain::ExportError);
    BOOST_CHECK_THROW(domain::flatten_data("5"), domain::ExportError);
    // Invalid UTF-8 inside a string (found by fuzz/parquet_writer) is the same ExportError.
    BOOST_CHECK_THROW(domain::flatten_data("{\"b\":[1,\"x\xde\xd9\"]}"), domain::ExportError);
    BOOST_CHECK_THROW(domain::flatten_data("{\"b\":\"\xff\"}"), domain::ExportError);
    // Valid bytes whose \u escapes decode to a lone surrogate (fuzz/parquet_writer), as
    // a leaf, inside an array and as a key.
    BOOST_CHECK_THROW(domain::flatten_data("{\"b\":\"x\\ude00\"}"), domain::ExportError);
    BOOST_CHECK_THROW(domain::flatten_data("{\"b\":[1,\"x\\ud66d\\ude00\"]}"), domain::ExportError);
    BOOST_CHECK_THROW(domain::flatten_data("{\"\\ude00\":1}"), domain::ExportError);
    BOOST_CHECK_THROW(domain::flatten_data("{\"b\":[{\"\\ude00\":1}]}"), domain::ExportError);
    BOOST_CHECK_THROW(domain::flatten_data("{\"a\":"), domain::ExportError);
    BOOST_CHECK_THROW(domain::flatten_data(""), domain::ExportError);
}

BOOST_AUTO_TEST_CASE(columns_are_the_sorted_union_of_all_records) {
    std::set<std::string> cols;
    domain::collect_data_columns(R"({"b":1,"a":{"y":1}})", cols);
    domain::collect_data_columns(R"({"a":{"x":1},"c":[1]})", cols);
    BOOST_TEST((std::vector<std::string>(cols.begin(), cols.end()) == std::vector<std::string>{"a.x", "a.y", "b", "c"}));
}

BOOST_AUTO_TEST_CASE(header_and_record_rows) {
    std::vector<std::string> cols = {"a.x", "b", "c,d"};
    std::string out;
    domain::append_header_row(out, cols);
    BOOST_TEST(out ==
               "observation_id,form_version,created_at,updated_at,synced_at,deleted,latitude,longitude,accuracy,"
               "altitude,altitude_accuracy,last_modified_by,a.x,b,\"c,d\"\r\n");
    ExportRecord r;
    r.observation_id = "obs-1";
    r.form_version = "2";
    r.created_at = "2026-01-02T03:04:05+01:00";
    r.synced_at = "2026-01-02T02:04:06.123000Z";
    r.deleted = true;
    r.geolocation = R"({"latitude":47.3769,"longitude":8.5417,"accuracy":5,"altitude":null})";
    r.last_modified_by = "alice";
    r.data = R"({"b":"x\"y","a":{"x":1.0},"zz":1})";
    out.clear();
    domain::append_record_row(out, r, cols);
    BOOST_TEST(out == "obs-1,2,2026-01-02T03:04:05+01:00,,2026-01-02T02:04:06.123000Z,true,47.3769,8.5417,5,,,alice,"
                      "1.0,\"x\"\"y\",\r\n");
}

BOOST_AUTO_TEST_CASE(records_without_geolocation_have_empty_geo_fields) {
    ExportRecord r;
    r.observation_id = "o";
    r.form_version = "1";
    r.synced_at = "t";
    r.last_modified_by = "u";
    r.data = "{}";
    std::string out;
    domain::append_record_row(out, r, {});
    BOOST_TEST(out == "o,1,,,t,false,,,,,,u\r\n");
}

BOOST_AUTO_TEST_CASE(file_names_are_safe_and_unique) {
    domain::ExportFileNamer namer;
    BOOST_TEST(namer.name_for("household_survey-2") == "household_survey-2.csv");
    std::string traversal = namer.name_for("../../etc/passwd");
    BOOST_TEST(traversal.find('/') == std::string::npos);
    BOOST_TEST(traversal.find("..") == std::string::npos);
    BOOST_TEST(traversal.rfind("______etc_passwd-", 0) == 0);
    std::string ctl = namer.name_for(std::string("a\nb\0c", 5));
    for (char c : ctl) BOOST_TEST((c >= 0x20 && c != 0x7f));
    // "a/b" and "a:b" sanitize alike but are two types: two files.
    std::string n1 = namer.name_for("a/b"), n2 = namer.name_for("a:b");
    BOOST_TEST(n1 != n2);
    // A type spelled exactly like another's sanitized name still gets its own file.
    std::string stem = n1.substr(0, n1.size() - 4);
    BOOST_TEST(namer.name_for(stem) != n1);
    BOOST_TEST(namer.name_for("CON") != "CON.csv");
    BOOST_TEST(namer.name_for("") != ".csv");
    BOOST_TEST(namer.name_for(std::string(300, 'x')).size() < 130);
}

BOOST_AUTO_TEST_SUITE_END()
