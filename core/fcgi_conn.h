// One FastCGI connection from the web server, spoken directly (FastCGI 1.0, the
// responder role, one request at a time on a connection: nginx never multiplexes).
// Replaces libfcgi's FCGX_Accept_r/FCGX_Finish_r so a worker can keep several
// connections open and serve whichever has a request (core/fcgi_server.cpp), and so
// a small response leaves in one write: the header, the body, the empty STDOUT
// record and END_REQUEST together.
//
// I/O on the socket blocks (a request's records follow its BEGIN_REQUEST at once);
// a peer that stops sending mid-request is bounded by the receive timeout the caller
// sets on the socket.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace core::fcgi {

using Params = std::vector<std::pair<std::string, std::string>>;

class Connection {
public:
    explicit Connection(int fd);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    int fd() const { return fd_; }

    enum class Next { request, closed, error };
    // Reads the next request's BEGIN_REQUEST and its PARAMS. `closed`: the peer
    // closed the connection before a request began; `error`: a broken or
    // unsupported stream. Either way the caller drops the connection.
    Next read_request(Params& params);
    // Whether the web server asked to keep the connection after this request
    // (FCGI_KEEP_CONN in BEGIN_REQUEST).
    bool keep_conn() const { return keep_; }
    // The request body (FCGI_STDIN): up to n bytes; 0 at its end or on an error.
    size_t read_stdin(char* buf, size_t n);
    // Response bytes (FCGI_STDOUT). Buffered: written once 64 KiB are pending and
    // at finish(). False once the peer is gone.
    bool put(std::string_view bytes);
    // Ends the request: reads what is left of the body, then writes the rest of
    // the output, the empty STDOUT record and END_REQUEST in one write. False when
    // the connection can not carry another request.
    bool finish();
    // Ends the request without END_REQUEST: buffered output is dropped and a
    // record nginx cannot parse is written (see abort_request in fcgi_server.cpp).
    // The connection must be dropped afterwards.
    void abort();
    // False once an I/O or protocol error has happened on the connection.
    bool usable() const { return !broken_; }

private:
    struct Header {
        uint8_t type = 0;
        uint16_t id = 0;
        uint16_t length = 0;
        uint8_t padding = 0;
    };
    enum class Got { ok, eof, error };
    Got read_exact(char* dst, size_t n);
    Got read_header(Header& h);
    bool skip(size_t n);
    bool write_all(const char* p, size_t n);
    void frame_output(std::string& wire);
    bool flush_output();
    bool drain_stdin();

    int fd_;
    std::vector<char> in_;
    size_t in_begin_ = 0, in_end_ = 0;
    std::string out_;
    uint16_t id_ = 0;
    bool keep_ = false;
    bool broken_ = false;
    bool stdin_done_ = true;
    size_t stdin_left_ = 0;   // content bytes left in the current STDIN record
    size_t stdin_pad_ = 0;    // its padding, skipped after the content
};

// Parses FastCGI name-value pairs (PARAMS content). False on a malformed stream.
bool parse_params(std::string_view data, Params& out);

}  // namespace core::fcgi
