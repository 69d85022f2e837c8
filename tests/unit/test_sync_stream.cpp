// A pulled page sent while it is rendered (handlers/sync.cpp, issue 18 0.7.0): the
// pieces together are the whole page, each cut after a record once it holds the
// piece size, and a piece that cannot be written stops the rendering and aborts the
// response (core::write_response returns false), so no complete-looking page is sent.
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <rapidjson/document.h>

#include "core/fcgi_server.h"
#include "handlers/sync.h"

namespace {

services::PullPage page_of(int n, bool has_more) {
    services::PullPage p;
    for (int i = 1; i <= n; ++i) {
        db::StoredRecord r;
        r.id = "rec-" + std::to_string(i);
        r.schema_type = "T";
        r.schema_version = "1";
        r.data = "{\"blob\":\"" + std::string(900, 'x') + "\",\"q\":\"a\\\"b\"}";
        r.hash = std::string(64, 'a');
        r.change_id = 100 + i;
        r.last_modified = "2026-12-07T10:00:00.123Z";
        r.last_modified_by = "alice";
        r.origin_client_id = "device \"1\"";  // escaped on the way out
        p.records.push_back(r);
    }
    p.has_more = has_more;
    p.snapshot_cutoff = 1000;
    p.change_cutoff = has_more ? 100 + n : 1000;
    if (has_more) p.next_page_token = "tok.en";
    return p;
}

std::vector<std::string> pieces_of(const services::PullPage& p, size_t piece) {
    std::vector<std::string> out;
    handlers::render_pull_page(p, piece, [&out](std::string_view b) { out.emplace_back(b); });
    return out;
}

std::string joined(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += x;
    return s;
}

// The page without its server_time (the only field that differs between two renderings).
std::string without_time(std::string s) {
    const auto a = s.find("\"server_time\":\"");
    const auto b = s.find('"', a + 15);
    return s.erase(a, b + 1 - a);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sync_stream)

BOOST_AUTO_TEST_CASE(pieces_make_the_whole_page_and_are_cut_after_records) {
    const auto p = page_of(300, true);
    const auto one = pieces_of(p, size_t(1) << 30);  // everything in one piece: the page held whole
    BOOST_TEST(one.size() == 1u);
    const auto many = pieces_of(p, 16 * 1024);
    BOOST_TEST(many.size() > 10u);
    BOOST_TEST(without_time(joined(many)) == without_time(one[0]));
    for (size_t i = 0; i + 1 < many.size(); ++i) {
        BOOST_TEST(many[i].size() >= 16 * 1024u);
        BOOST_TEST(many[i].back() == '}');  // a record's end
    }
    rapidjson::Document d;
    d.Parse(one[0].c_str());
    BOOST_REQUIRE(!d.HasParseError());
    BOOST_TEST(d["records"].Size() == 300u);
    BOOST_TEST(d["records"][299]["change_id"].GetInt64() == 400);
    BOOST_TEST(std::string(d["records"][0]["origin_client_id"].GetString()) == "device \"1\"");
    BOOST_TEST(d["has_more"].GetBool());
    BOOST_TEST(d["change_cutoff"].GetInt64() == 400);
    BOOST_TEST(std::string(d["next_page_token"].GetString()) == "tok.en");
    BOOST_TEST(std::string(d["sync_format_version"].GetString()) == "1.0");
}

BOOST_AUTO_TEST_CASE(a_small_or_empty_page_is_one_piece) {
    for (int n : {0, 1, 5}) {
        const auto v = pieces_of(page_of(n, false), handlers::kPullPiece);
        BOOST_TEST(v.size() == 1u);
        rapidjson::Document d;
        d.Parse(v[0].c_str());
        BOOST_REQUIRE(!d.HasParseError());
        BOOST_TEST(d["records"].Size() == static_cast<unsigned>(n));
        BOOST_TEST(!d["has_more"].GetBool());
        BOOST_TEST(!d.HasMember("next_page_token"));
    }
}

// nginx gone after the first piece: the rendering stops there and the response is
// aborted (the worker then poisons the FastCGI connection instead of ending it).
BOOST_AUTO_TEST_CASE(a_piece_that_cannot_be_written_aborts_the_pull) {
    const auto p = page_of(300, true);
    core::Response resp;
    resp.body_writer = [&p](const core::BodySink& sink) { handlers::render_pull_page(p, 16 * 1024, sink); };
    core::Request req;
    req.method = "POST";
    req.request_id = "rid";
    std::string out;
    int puts = 0;
    const bool complete = core::write_response(req, resp, [&](std::string_view b) {
        if (++puts > 2) return false;  // the headers and one piece go out, then nginx is gone
        out.append(b);
        return true;
    });
    BOOST_TEST(!complete);
    BOOST_TEST(puts == 3);  // nothing was tried after the failed piece
    BOOST_TEST(out.find("Content-Length") == std::string::npos);
    BOOST_TEST(out.find("\"has_more\"") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
