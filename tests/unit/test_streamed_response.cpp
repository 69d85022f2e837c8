// core::write_response with a streamed body (Response::body_writer): headers
// without Content-Length, the body as the writer makes it, and an abort (false)
// whenever the writer fails part-way or the client is gone.
#include <stdexcept>
#include <string>

#include <boost/test/unit_test.hpp>

#include "core/fcgi_server.h"

namespace {

struct Out {
    std::string bytes;
    size_t fail_after = std::string::npos;  // put() fails once this many bytes are out
    bool put(std::string_view b) {
        if (bytes.size() + b.size() > fail_after) return false;
        bytes.append(b);
        return true;
    }
};

core::Request get_request(const char* method = "GET") {
    core::Request r;
    r.method = method;
    r.request_id = "rid";
    return r;
}

core::Response streamed(int pieces, bool fail_at_end = false) {
    core::Response r;
    r.content_type = "application/zip";
    r.body_writer = [pieces, fail_at_end](const core::BodySink& sink) {
        for (int i = 0; i < pieces; ++i) sink("piece" + std::to_string(i) + ";");
        if (fail_at_end) throw std::runtime_error("database gone");
    };
    return r;
}

bool write(Out& out, const core::Request& req, const core::Response& resp) {
    return core::write_response(req, resp, [&out](std::string_view b) { return out.put(b); });
}

std::string body_of(const std::string& bytes) { return bytes.substr(bytes.find("\r\n\r\n") + 4); }

}  // namespace

BOOST_AUTO_TEST_SUITE(streamed_response)

BOOST_AUTO_TEST_CASE(a_streamed_body_follows_headers_without_content_length) {
    Out out;
    BOOST_TEST(write(out, get_request(), streamed(3)));
    BOOST_TEST(out.bytes.rfind("Status: 200 OK\r\n", 0) == 0);
    BOOST_TEST(out.bytes.find("Content-Type: application/zip\r\n") != std::string::npos);
    BOOST_TEST(out.bytes.find("Content-Length") == std::string::npos);
    BOOST_TEST(body_of(out.bytes) == "piece0;piece1;piece2;");
}

BOOST_AUTO_TEST_CASE(a_buffered_body_keeps_its_content_length) {
    Out out;
    BOOST_TEST(write(out, get_request(), core::Response::json("{}")));
    BOOST_TEST(out.bytes.find("Content-Length: 2\r\n") != std::string::npos);
    BOOST_TEST(body_of(out.bytes) == "{}");
}

// A held body that cannot be written (nginx gone after the headers) is an abort too:
// the worker then closes the connection instead of ending the request on it.
BOOST_AUTO_TEST_CASE(a_buffered_body_that_cannot_be_written_aborts_the_response) {
    Out probe;
    write(probe, get_request(), core::Response::json("{}"));
    Out out;
    out.fail_after = probe.bytes.size() - 1;  // the headers fit, the body not
    BOOST_TEST(!write(out, get_request(), core::Response::json("{}")));
    Out head_only;
    BOOST_TEST(write(head_only, get_request("HEAD"), core::Response::json("{}")));
}

BOOST_AUTO_TEST_CASE(a_writer_failing_part_way_aborts_the_response) {
    Out out;
    BOOST_TEST(!write(out, get_request(), streamed(2, true)));
    BOOST_TEST(body_of(out.bytes) == "piece0;piece1;");  // what was sent stays sent; the caller cuts it off
}

BOOST_AUTO_TEST_CASE(a_client_gone_part_way_aborts_the_response_and_stops_the_writer) {
    Out probe;
    write(probe, get_request(), streamed(0));
    Out out;
    out.fail_after = probe.bytes.size() + 8;  // the headers and the first piece fit, the second not
    int made = 0;
    core::Response r = streamed(0);
    r.body_writer = [&made](const core::BodySink& sink) {
        for (int i = 0; i < 100; ++i) {
            sink("piece" + std::to_string(i) + ";");
            ++made;
        }
    };
    BOOST_TEST(!write(out, get_request(), r));
    BOOST_TEST(made == 1);
}

BOOST_AUTO_TEST_CASE(head_does_not_run_the_writer) {
    Out out;
    bool ran = false;
    core::Response r = streamed(0);
    r.body_writer = [&ran](const core::BodySink&) { ran = true; };
    BOOST_TEST(write(out, get_request("HEAD"), r));
    BOOST_TEST(!ran);
}

BOOST_AUTO_TEST_SUITE_END()
