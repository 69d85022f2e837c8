#include "core/fcgi_conn.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace core::fcgi {

namespace {

constexpr uint8_t kVersion = 1;
constexpr uint8_t kBeginRequest = 1;
constexpr uint8_t kAbortRequest = 2;
constexpr uint8_t kEndRequest = 3;
constexpr uint8_t kParams = 4;
constexpr uint8_t kStdin = 5;
constexpr uint8_t kStdout = 6;
constexpr uint8_t kGetValues = 9;
constexpr uint8_t kGetValuesResult = 10;
constexpr uint8_t kUnknownType = 11;
constexpr uint16_t kResponder = 1;
constexpr uint8_t kKeepConn = 1;
constexpr uint8_t kRequestComplete = 0;
constexpr uint8_t kUnknownRole = 3;
constexpr size_t kMaxParamsBytes = 1 << 20;
constexpr size_t kFlushAt = 64 * 1024;
constexpr size_t kMaxRecord = 65535;

void put_header(std::string& wire, uint8_t type, uint16_t id, uint16_t length) {
    const char h[8] = {static_cast<char>(kVersion), static_cast<char>(type),
                       static_cast<char>(id >> 8),  static_cast<char>(id & 0xff),
                       static_cast<char>(length >> 8), static_cast<char>(length & 0xff), 0, 0};
    wire.append(h, 8);
}

void put_end_request(std::string& wire, uint16_t id, uint8_t protocol_status) {
    put_header(wire, kEndRequest, id, 8);
    const char body[8] = {0, 0, 0, 0, static_cast<char>(protocol_status), 0, 0, 0};
    wire.append(body, 8);
}

bool read_length(std::string_view data, size_t& pos, size_t& len) {
    if (pos >= data.size()) return false;
    const auto b0 = static_cast<unsigned char>(data[pos]);
    if (b0 < 0x80) {
        len = b0;
        pos += 1;
        return true;
    }
    if (pos + 4 > data.size()) return false;
    len = (static_cast<size_t>(b0 & 0x7f) << 24) | (static_cast<size_t>(static_cast<unsigned char>(data[pos + 1])) << 16) |
          (static_cast<size_t>(static_cast<unsigned char>(data[pos + 2])) << 8) |
          static_cast<size_t>(static_cast<unsigned char>(data[pos + 3]));
    pos += 4;
    return true;
}

}  // namespace

bool parse_params(std::string_view data, Params& out) {
    size_t pos = 0;
    while (pos < data.size()) {
        size_t nl = 0, vl = 0;
        if (!read_length(data, pos, nl) || !read_length(data, pos, vl)) return false;
        if (nl > data.size() - pos || vl > data.size() - pos - nl) return false;
        out.emplace_back(std::string(data.substr(pos, nl)), std::string(data.substr(pos + nl, vl)));
        pos += nl + vl;
    }
    return true;
}

Connection::Connection(int fd) : fd_(fd), in_(16 * 1024) {}

Connection::~Connection() {
    if (fd_ >= 0) ::close(fd_);
}

Connection::Got Connection::read_exact(char* dst, size_t n) {
    size_t got = 0;
    while (got < n) {
        if (in_begin_ == in_end_) {
            ssize_t r = ::read(fd_, in_.data(), in_.size());
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) {
                broken_ = true;
                return (r == 0 && got == 0) ? Got::eof : Got::error;
            }
            in_begin_ = 0;
            in_end_ = static_cast<size_t>(r);
        }
        const size_t take = std::min(n - got, in_end_ - in_begin_);
        if (dst) std::memcpy(dst + got, in_.data() + in_begin_, take);
        in_begin_ += take;
        got += take;
    }
    return Got::ok;
}

bool Connection::skip(size_t n) { return n == 0 || read_exact(nullptr, n) == Got::ok; }

Connection::Got Connection::read_header(Header& h) {
    unsigned char b[8];
    Got g = read_exact(reinterpret_cast<char*>(b), 8);
    if (g != Got::ok) return g;
    if (b[0] != kVersion) {
        broken_ = true;
        return Got::error;
    }
    h.type = b[1];
    h.id = static_cast<uint16_t>((b[2] << 8) | b[3]);
    h.length = static_cast<uint16_t>((b[4] << 8) | b[5]);
    h.padding = b[6];
    return Got::ok;
}

bool Connection::write_all(const char* p, size_t n) {
    while (n > 0) {
        ssize_t w = ::send(fd_, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            broken_ = true;
            return false;
        }
        p += w;
        n -= static_cast<size_t>(w);
    }
    return true;
}

Connection::Next Connection::read_request(Params& params) {
    params.clear();
    Header h;
    std::string content;
    for (;;) {
        Got g = read_header(h);
        if (g == Got::eof) return Next::closed;
        if (g != Got::ok) return Next::error;
        content.resize(h.length);
        if (read_exact(content.data(), h.length) != Got::ok || !skip(h.padding)) return Next::error;
        if (h.id == 0) {
            // A management record: no values to report; any other type is unknown.
            std::string wire;
            if (h.type == kGetValues) {
                put_header(wire, kGetValuesResult, 0, 0);
            } else {
                put_header(wire, kUnknownType, 0, 8);
                const char body[8] = {static_cast<char>(h.type), 0, 0, 0, 0, 0, 0, 0};
                wire.append(body, 8);
            }
            if (!write_all(wire.data(), wire.size())) return Next::error;
            continue;
        }
        if (h.type != kBeginRequest) continue;  // a record of an earlier request (an ABORT_REQUEST)
        if (h.length < 8) {
            broken_ = true;
            return Next::error;
        }
        const auto role = static_cast<uint16_t>((static_cast<unsigned char>(content[0]) << 8) |
                                                static_cast<unsigned char>(content[1]));
        id_ = h.id;
        keep_ = (static_cast<unsigned char>(content[2]) & kKeepConn) != 0;
        if (role != kResponder) {
            std::string wire;
            put_end_request(wire, id_, kUnknownRole);
            if (!write_all(wire.data(), wire.size())) return Next::error;
            if (!keep_) return Next::closed;
            continue;
        }
        break;
    }
    std::string raw;
    for (;;) {
        if (read_header(h) != Got::ok) return Next::error;
        if (h.id != id_ || h.type != kParams) {
            broken_ = true;  // nginx sends all PARAMS before STDIN; anything else is not ours to guess
            return Next::error;
        }
        if (h.length == 0) {
            if (!skip(h.padding)) return Next::error;
            break;
        }
        if (raw.size() + h.length > kMaxParamsBytes) {
            broken_ = true;
            return Next::error;
        }
        const size_t at = raw.size();
        raw.resize(at + h.length);
        if (read_exact(raw.data() + at, h.length) != Got::ok || !skip(h.padding)) return Next::error;
    }
    if (!parse_params(raw, params)) {
        broken_ = true;
        return Next::error;
    }
    stdin_done_ = false;
    stdin_left_ = 0;
    stdin_pad_ = 0;
    out_.clear();
    return Next::request;
}

size_t Connection::read_stdin(char* buf, size_t n) {
    while (!stdin_done_ && !broken_) {
        if (stdin_left_ > 0) {
            const size_t take = std::min(n, stdin_left_);
            if (read_exact(buf, take) != Got::ok) return 0;
            stdin_left_ -= take;
            return take;
        }
        if (!skip(stdin_pad_)) return 0;
        stdin_pad_ = 0;
        Header h;
        if (read_header(h) != Got::ok) return 0;
        if (h.id != id_) {
            if (!skip(static_cast<size_t>(h.length) + h.padding)) return 0;
            continue;
        }
        if (h.type == kAbortRequest) {
            broken_ = true;  // the web server gave up on this request; drop the connection after it
            return 0;
        }
        if (h.type != kStdin) {
            if (!skip(static_cast<size_t>(h.length) + h.padding)) return 0;
            continue;
        }
        if (h.length == 0) {
            stdin_done_ = true;
            if (!skip(h.padding)) return 0;
            return 0;
        }
        stdin_left_ = h.length;
        stdin_pad_ = h.padding;
    }
    return 0;
}

bool Connection::drain_stdin() {
    char buf[16384];
    while (read_stdin(buf, sizeof buf) > 0) {
    }
    return stdin_done_ && !broken_;
}

void Connection::frame_output(std::string& wire) {
    size_t pos = 0;
    while (pos < out_.size()) {
        const size_t len = std::min(kMaxRecord, out_.size() - pos);
        put_header(wire, kStdout, id_, static_cast<uint16_t>(len));
        wire.append(out_, pos, len);
        pos += len;
    }
    out_.clear();
}

bool Connection::flush_output() {
    std::string wire;
    wire.reserve(out_.size() + 64);
    frame_output(wire);
    return write_all(wire.data(), wire.size());
}

bool Connection::put(std::string_view bytes) {
    if (broken_) return false;
    out_.append(bytes.data(), bytes.size());
    if (out_.size() >= kFlushAt) return flush_output();
    return true;
}

bool Connection::finish() {
    // Whatever body the handler did not read is read now: nginx must never block
    // writing a body nobody reads, and the next request starts after it.
    const bool drained = drain_stdin();
    if (broken_) return false;
    std::string wire;
    wire.reserve(out_.size() + 48);
    frame_output(wire);
    put_header(wire, kStdout, id_, 0);
    put_end_request(wire, id_, kRequestComplete);
    return write_all(wire.data(), wire.size()) && drained;
}

void Connection::abort() {
    // Everything written so far went out in whole records, so the poison record
    // starts on a record boundary.
    out_.clear();
    static const char kPoison[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    write_all(kPoison, sizeof kPoison);
    broken_ = true;
}

}  // namespace core::fcgi
