// The streaming multipart/form-data parser (core/multipart.h): every body is fed in
// chunks of every size from 1 byte up to the whole body, so boundaries, CRLFs and
// header blocks split across reads are all exercised.
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "core/etag.h"
#include "core/multipart.h"

namespace {

struct Part {
    std::string name;
    std::string filename;  // "<none>" when absent
    std::string content_type;
    std::string data;
    bool ended = false;
};

// Parses `body` fed in chunks of `chunk` bytes; throws what the parser throws.
std::vector<Part> parse(const std::string& boundary, const std::string& body, size_t chunk,
                        size_t max_header_bytes = 16 * 1024) {
    std::vector<Part> parts;
    core::MultipartParser p(boundary, {
        [&](const core::MultipartPart& h) {
            parts.push_back({h.name, h.filename ? *h.filename : "<none>", h.content_type, "", false});
        },
        [&](const char* d, size_t n) {
            BOOST_REQUIRE(!parts.empty());
            BOOST_REQUIRE(!parts.back().ended);
            parts.back().data.append(d, n);
        },
        [&] { parts.back().ended = true; },
    }, max_header_bytes);
    for (size_t i = 0; i < body.size(); i += chunk) p.feed(body.data() + i, std::min(chunk, body.size() - i));
    p.finish();
    return parts;
}

// Every chunk size gives the same parts.
std::vector<Part> parse_all_chunkings(const std::string& boundary, const std::string& body) {
    std::vector<Part> first = parse(boundary, body, body.size());
    for (size_t chunk = 1; chunk < body.size(); ++chunk) {
        auto parts = parse(boundary, body, chunk);
        BOOST_REQUIRE_EQUAL(parts.size(), first.size());
        for (size_t i = 0; i < parts.size(); ++i) {
            BOOST_CHECK_EQUAL(parts[i].name, first[i].name);
            BOOST_CHECK_EQUAL(parts[i].filename, first[i].filename);
            BOOST_CHECK_EQUAL(parts[i].content_type, first[i].content_type);
            BOOST_CHECK(parts[i].data == first[i].data);
            BOOST_CHECK(parts[i].ended);
        }
    }
    return first;
}

void expect_error_at_every_chunking(const std::string& boundary, const std::string& body) {
    for (size_t chunk = 1; chunk <= body.size(); ++chunk)
        BOOST_CHECK_THROW(parse(boundary, body, chunk), core::MultipartError);
}

const std::string B = "----b0undary";

}  // namespace

BOOST_AUTO_TEST_SUITE(multipart)

BOOST_AUTO_TEST_CASE(boundary_from_content_type) {
    BOOST_CHECK_EQUAL(*core::multipart_boundary("multipart/form-data; boundary=abc"), "abc");
    BOOST_CHECK_EQUAL(*core::multipart_boundary("Multipart/Form-Data;BOUNDARY=\"a b;c\""), "a b;c");
    BOOST_CHECK_EQUAL(*core::multipart_boundary("multipart/form-data; charset=utf-8; boundary=x-y"), "x-y");
    BOOST_CHECK(!core::multipart_boundary("multipart/form-data"));
    BOOST_CHECK(!core::multipart_boundary("multipart/form-data; boundary="));
    BOOST_CHECK(!core::multipart_boundary("multipart/mixed; boundary=abc"));
    BOOST_CHECK(!core::multipart_boundary("application/zip"));
    BOOST_CHECK(!core::multipart_boundary(std::string("multipart/form-data; boundary=a\rb")));
    BOOST_CHECK(!core::multipart_boundary("multipart/form-data; boundary=" + std::string(201, 'x')));
}

BOOST_AUTO_TEST_CASE(file_and_fields_at_every_chunk_size) {
    // The file holds near-delimiters: CRLF, "--", the boundary after a lone LF or CR,
    // a delimiter prefix cut short and one dash short, all of which are data.
    std::string file = "PK\x03\x04\r\n--" + B.substr(0, 5) + "\r\n\n--" + B + "x\r--" + B + std::string("\0\r\n-", 4) +
                       "\r\n-" + B + "end\r";
    std::string body = "preamble to ignore\r\n"
                       "--" + B + "\r\n"
                       "Content-Disposition: form-data; name=\"comment\"\r\n"
                       "\r\n"
                       "hello\r\n"
                       "--" + B + "\r\n"
                       "content-disposition: form-data; name=\"bundle\"; filename=\"my bundle.zip\"\r\n"
                       "Content-Type: application/zip\r\n"
                       "\r\n" + file + "\r\n"
                       "--" + B + "  \r\n"  // transport padding
                       "Content-Disposition: form-data; name=\"empty\"\r\n"
                       "\r\n"
                       "\r\n"
                       "--" + B + "--\r\n"
                       "epilogue --" + B + " ignored";
    auto parts = parse_all_chunkings(B, body);
    BOOST_REQUIRE_EQUAL(parts.size(), 3u);
    BOOST_CHECK_EQUAL(parts[0].name, "comment");
    BOOST_CHECK_EQUAL(parts[0].filename, "<none>");
    BOOST_CHECK_EQUAL(parts[0].data, "hello");
    BOOST_CHECK_EQUAL(parts[1].name, "bundle");
    BOOST_CHECK_EQUAL(parts[1].filename, "my bundle.zip");
    BOOST_CHECK_EQUAL(parts[1].content_type, "application/zip");
    BOOST_CHECK(parts[1].data == file);
    BOOST_CHECK_EQUAL(parts[2].name, "empty");
    BOOST_CHECK_EQUAL(parts[2].data, "");
}

BOOST_AUTO_TEST_CASE(body_may_open_with_the_boundary_and_large_data_streams_through) {
    std::string file;
    for (int i = 0; i < 5000; ++i) file += static_cast<char>((i * 7919) % 251);
    std::string body = "--" + B + "\r\nContent-Disposition: form-data; name=\"bundle\"\r\n\r\n" + file + "\r\n--" + B + "--";
    for (size_t chunk : {1u, 2u, 3u, 7u, 13u, 64u, 4096u, 100000u}) {
        auto parts = parse(B, body, chunk);
        BOOST_REQUIRE_EQUAL(parts.size(), 1u);
        BOOST_CHECK(parts[0].data == file);
    }
}

BOOST_AUTO_TEST_CASE(data_is_emitted_before_the_end_so_memory_stays_bounded) {
    std::string head = "--" + B + "\r\nContent-Disposition: form-data; name=\"bundle\"\r\n\r\n";
    size_t emitted = 0;
    core::MultipartParser p(B, {nullptr, [&](const char*, size_t n) { emitted += n; }, nullptr});
    p.feed(head);
    std::string block(65536, 'z');
    for (int i = 0; i < 16; ++i) p.feed(block);
    // All but at most a delimiter's length has come out already.
    BOOST_CHECK_GE(emitted + B.size() + 4, 16u * 65536u);
    p.feed("\r\n--" + B + "--\r\n");
    p.finish();
    BOOST_CHECK_EQUAL(emitted, 16u * 65536u);
}

BOOST_AUTO_TEST_CASE(malformed_bodies_are_refused) {
    // No closing boundary.
    expect_error_at_every_chunking(B, "--" + B + "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nxyz");
    // Not even an opening boundary.
    expect_error_at_every_chunking(B, "just some bytes");
    // Junk after the boundary on its line.
    expect_error_at_every_chunking(B, "--" + B + "junk\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--" + B + "--");
    // A part without Content-Disposition.
    expect_error_at_every_chunking(B, "--" + B + "\r\nContent-Type: text/plain\r\n\r\nx\r\n--" + B + "--");
    // A header line without a colon.
    expect_error_at_every_chunking(B, "--" + B + "\r\nContent-Disposition form-data\r\n\r\nx\r\n--" + B + "--");
    // Not form-data.
    expect_error_at_every_chunking(B, "--" + B + "\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--" + B + "--");
    // An endless header block.
    std::string endless = "--" + B + "\r\nContent-Disposition: form-data; name=\"a\"\r\nX: " + std::string(20000, 'h');
    BOOST_CHECK_THROW(parse(B, endless, 1000), core::MultipartError);
}

// A header block of exactly the limit was refused when the body arrived in pieces
// that ended inside its closing CRLFCRLF, and accepted when it came whole.
BOOST_AUTO_TEST_CASE(header_limit_holds_at_every_chunk_size) {
    const std::string block = "Content-Disposition: form-data; name=\"a\"";
    const std::string body = "--" + B + "\r\n" + block + "\r\n\r\nxyz\r\n--" + B + "--";
    for (size_t chunk = 1; chunk <= body.size(); ++chunk) {
        auto parts = parse(B, body, chunk, block.size());
        BOOST_REQUIRE_EQUAL(parts.size(), 1u);
        BOOST_CHECK_EQUAL(parts[0].data, "xyz");
        BOOST_CHECK_THROW(parse(B, body, chunk, block.size() - 1), core::MultipartError);
    }
}

BOOST_AUTO_TEST_CASE(empty_body_is_refused) {
    core::MultipartParser p(B, {});
    BOOST_CHECK_THROW(p.finish(), core::MultipartError);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(etag)

BOOST_AUTO_TEST_CASE(if_none_match_forms) {
    const std::string h = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    BOOST_CHECK_EQUAL(core::strong_etag(h), "\"" + h + "\"");
    BOOST_CHECK(core::if_none_match_matches("\"" + h + "\"", h));
    BOOST_CHECK(core::if_none_match_matches("W/\"" + h + "\"", h));
    BOOST_CHECK(core::if_none_match_matches("\"other\", W/\"" + h + "\"", h));
    BOOST_CHECK(core::if_none_match_matches("\"other\" ,\"" + h + "\" ", h));
    BOOST_CHECK(core::if_none_match_matches("*", h));
    BOOST_CHECK(core::if_none_match_matches(h, h));  // quotes dropped by a sloppy client
    BOOST_CHECK(!core::if_none_match_matches("\"other\"", h));
    BOOST_CHECK(!core::if_none_match_matches("\"" + h.substr(1) + "\"", h));
    BOOST_CHECK(!core::if_none_match_matches("\"" + h + "x\"", h));
    BOOST_CHECK(!core::if_none_match_matches("", h));
    BOOST_CHECK(!core::if_none_match_matches("\"\"", h));
    BOOST_CHECK(!core::if_none_match_matches("\"" + h, h));  // unterminated
}

BOOST_AUTO_TEST_SUITE_END()
