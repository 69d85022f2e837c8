// The worker pool over kept FastCGI connections (core/fcgi_server.cpp, issue 18):
// a real pool (core::run_pool, forked) on a private unix socket, spoken to by a
// small FastCGI client here that behaves as nginx does: requests with
// FCGI_KEEP_CONN, connections reused, and a request that meets a closed cached
// connection sent again on a new one.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "core/fcgi_server.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

void append_len(std::string& out, size_t n) {
    if (n < 128) {
        out += static_cast<char>(n);
    } else {
        out += static_cast<char>(0x80 | ((n >> 24) & 0x7f));
        out += static_cast<char>((n >> 16) & 0xff);
        out += static_cast<char>((n >> 8) & 0xff);
        out += static_cast<char>(n & 0xff);
    }
}

void append_record(std::string& out, uint8_t type, std::string_view content) {
    const char h[8] = {1, static_cast<char>(type), 0, 1, static_cast<char>(content.size() >> 8),
                       static_cast<char>(content.size() & 0xff), 0, 0};
    out.append(h, 8);
    out.append(content);
}

// A running pool on its own socket; stopped (SIGTERM, as systemd does) at the end.
struct Pool {
    std::string path;
    pid_t pid = -1;

    explicit Pool(int workers) {
        char dir[] = "/tmp/fcgi-pool-test-XXXXXX";
        BOOST_REQUIRE(mkdtemp(dir));
        path = std::string(dir) + "/fcgi.sock";
        pid = fork();
        BOOST_REQUIRE(pid >= 0);
        if (pid == 0) {
            core::Router router;
            auto text = [](std::string body) {
                core::Response r;
                r.content_type = "text/plain";
                r.body = std::move(body);
                return r;
            };
            router.add({"GET", "/pid", [text](core::Request&) { return text(std::to_string(getpid())); }, std::nullopt});
            router.add({"GET", "/sleep/{ms}",
                        [text](core::Request& r) {
                            std::this_thread::sleep_for(std::chrono::milliseconds(std::atoi(r.params["ms"].c_str())));
                            return text(std::to_string(getpid()));
                        },
                        std::nullopt});
            router.add({"GET", "/big/{n}",
                        [text](core::Request& r) { return text(std::string(std::atoi(r.params["n"].c_str()), 'x')); },
                        std::nullopt});
            router.add({"GET", "/not-modified",
                        [](core::Request&) {
                            core::Response r;
                            r.status = 304;
                            r.add_header("ETag", "\"e\"");
                            return r;
                        },
                        std::nullopt});
            router.add({"GET", "/accel",
                        [](core::Request&) {
                            core::Response r;
                            r.content_type = "application/octet-stream";
                            r.add_header("X-Accel-Redirect", "/_files/ab/abcdef");
                            return r;
                        },
                        std::nullopt});
            router.add({"POST", "/echo", [text](core::Request& r) { return text(r.body); }, std::nullopt,
                        core::BodyMode::buffered, 1 << 20});
            core::PoolOptions opts;
            opts.listen = path;
            opts.workers = workers;
            _exit(core::run_pool(opts, router, core::ServerHooks{}));
        }
        // Ready once every worker runs (each logs "worker ready"); a request answered
        // by each of them is simpler to wait for: poll until a connection succeeds.
        for (int i = 0; i < 200; ++i) {
            int fd = try_connect();
            if (fd >= 0) {
                ::close(fd);
                std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the other workers
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        BOOST_FAIL("the pool did not start");
    }
    ~Pool() {
        kill(pid, SIGTERM);
        int status = 0;
        waitpid(pid, &status, 0);
        ::unlink(path.c_str());
        ::rmdir(path.substr(0, path.rfind('/')).c_str());
    }
    int try_connect() const {
        int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) {
            ::close(fd);
            return -1;
        }
        return fd;
    }
    int connect() const {
        int fd = try_connect();
        BOOST_REQUIRE(fd >= 0);
        return fd;
    }
};

bool send_request(int fd, const std::string& method, const std::string& uri, const std::string& body = "",
                  const std::string& protocol = "HTTP/1.1") {
    std::string wire;
    const char begin[8] = {0, 1, 1 /* FCGI_KEEP_CONN */, 0, 0, 0, 0, 0};
    append_record(wire, 1, std::string_view(begin, 8));
    std::string params;
    auto param = [&params](const std::string& n, const std::string& v) {
        append_len(params, n.size());
        append_len(params, v.size());
        params += n;
        params += v;
    };
    param("REQUEST_METHOD", method);
    param("REQUEST_URI", uri);
    if (!protocol.empty()) param("SERVER_PROTOCOL", protocol);
    param("CONTENT_LENGTH", std::to_string(body.size()));
    param("HTTP_X_LONG_HEADER", std::string(300, 'h'));  // a 4-byte length
    append_record(wire, 4, params);
    append_record(wire, 4, "");
    for (size_t at = 0; at < body.size(); at += 40000) append_record(wire, 5, std::string_view(body).substr(at, 40000));
    append_record(wire, 5, "");
    return ::send(fd, wire.data(), wire.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(wire.size());
}

struct Answer {
    enum { ok, closed, timeout } how = timeout;
    std::string stdout_bytes;
    int stdout_records = 0;  // non-empty FCGI_STDOUT records
    std::string body() const {
        auto at = stdout_bytes.find("\r\n\r\n");
        return at == std::string::npos ? "" : stdout_bytes.substr(at + 4);
    }
};

// Reads records up to END_REQUEST, waiting at most `limit` seconds in all.
Answer read_answer(int fd, double limit) {
    Answer a;
    std::string in;
    const auto t0 = Clock::now();
    for (;;) {
        // Whole records in `in`?
        while (in.size() >= 8) {
            const size_t len = (static_cast<unsigned char>(in[4]) << 8) | static_cast<unsigned char>(in[5]);
            const size_t pad = static_cast<unsigned char>(in[6]);
            if (in.size() < 8 + len + pad) break;
            const int type = in[1];
            if (type == 6) a.stdout_bytes.append(in, 8, len);
            if (type == 6 && len > 0) ++a.stdout_records;
            in.erase(0, 8 + len + pad);
            if (type == 3) {
                a.how = Answer::ok;
                return a;
            }
        }
        const double left = limit - seconds_since(t0);
        if (left <= 0) return a;
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left * 1000) + 1) <= 0) continue;
        char buf[65536];
        ssize_t r = ::read(fd, buf, sizeof buf);
        if (r <= 0) {
            a.how = Answer::closed;
            return a;
        }
        in.append(buf, static_cast<size_t>(r));
    }
}

// As nginx: a request on a cached connection that fails before any answer is sent
// again on a new connection (which replaces the cached one).
Answer request_like_nginx(const Pool& pool, int& fd, const std::string& uri, double limit) {
    const auto t0 = Clock::now();
    Answer a;
    if (send_request(fd, "GET", uri)) a = read_answer(fd, limit);
    else a.how = Answer::closed;
    if (a.how == Answer::closed && a.stdout_bytes.empty()) {
        ::close(fd);
        fd = pool.connect();
        BOOST_REQUIRE(send_request(fd, "GET", uri));
        a = read_answer(fd, limit - seconds_since(t0));
    }
    return a;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(fcgi_pool)

// libfcgi's loop (a worker reads its kept connection until it closes) wedges here:
// with 2 workers each holding one idle kept connection, a third connection's
// request is never read.
BOOST_AUTO_TEST_CASE(more_kept_connections_than_workers_all_get_answers) {
    Pool pool(2);
    std::vector<int> fds;
    for (int i = 0; i < 5; ++i) fds.push_back(pool.connect());
    for (int round = 0; round < 3; ++round) {
        for (size_t i = 0; i < fds.size(); ++i) {
            const auto t0 = Clock::now();
            Answer a = request_like_nginx(pool, fds[i], "/pid", 3.0);
            BOOST_TEST_INFO("round " << round << ", connection " << i);
            BOOST_TEST((a.how == Answer::ok));
            BOOST_TEST(seconds_since(t0) < 1.0);
        }
    }
    for (int fd : fds) ::close(fd);
}

// A worker that kept its idle connections while it served a slow request would
// make a fast request sent on one of them wait for the slow one, while the other
// worker is idle. Worker X is made to hold c1 and then take a 2 s request on a new
// connection c3 while Y is busy; once Y is idle again, a request on c1 must be
// answered at once (by Y, after c1 is found closed, as nginx would resend it).
BOOST_AUTO_TEST_CASE(a_slow_request_never_delays_a_fast_one_while_a_worker_is_idle) {
    Pool pool(2);
    // c1 to one worker (X) and, while X is busy with it, c2 to the other (Y).
    int c1 = pool.connect();
    BOOST_REQUIRE(send_request(c1, "GET", "/sleep/300"));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    int c2 = pool.connect();
    BOOST_REQUIRE(send_request(c2, "GET", "/sleep/300"));
    Answer x = read_answer(c1, 2.0), y = read_answer(c2, 2.0);
    BOOST_REQUIRE((x.how == Answer::ok && y.how == Answer::ok));
    const std::string x_pid = x.body(), y_pid = y.body();
    BOOST_REQUIRE(x_pid != y_pid);
    // Y busy on c2; a new connection c3 can only be taken by X, which then runs 2 s.
    BOOST_REQUIRE(send_request(c2, "GET", "/sleep/300"));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    int c3 = pool.connect();
    BOOST_REQUIRE(send_request(c3, "GET", "/sleep/2000"));
    Answer y_done = read_answer(c2, 2.0);
    BOOST_REQUIRE((y_done.how == Answer::ok));
    BOOST_REQUIRE(y_done.body() == y_pid);
    // Y idle, X busy with c3 for about 1.7 s more. A fast request on c1:
    const auto t0 = Clock::now();
    Answer fast = request_like_nginx(pool, c1, "/pid", 3.0);
    const double took = seconds_since(t0);
    BOOST_TEST((fast.how == Answer::ok));
    BOOST_TEST(took < 0.5, "the fast request took " << took << " s behind the slow one");
    BOOST_TEST(fast.body() == y_pid);
    Answer slow = read_answer(c3, 3.0);
    BOOST_TEST((slow.how == Answer::ok));
    BOOST_TEST(slow.body() == x_pid);
    ::close(c1);
    ::close(c2);
    ::close(c3);
}

// Bodies over several STDIN records, answers over several STDOUT records, long
// parameter lengths, and the same connection carrying request after request.
BOOST_AUTO_TEST_CASE(bodies_and_answers_of_several_records_on_one_kept_connection) {
    Pool pool(1);
    int fd = pool.connect();
    std::string body;
    for (int i = 0; i < 100000; ++i) body += static_cast<char>('a' + i % 26);
    for (int round = 0; round < 3; ++round) {
        BOOST_REQUIRE(send_request(fd, "POST", "/echo", body));
        Answer echo = read_answer(fd, 3.0);
        BOOST_REQUIRE((echo.how == Answer::ok));
        BOOST_TEST(echo.body() == body);
        BOOST_REQUIRE(send_request(fd, "GET", "/big/200000"));
        Answer big = read_answer(fd, 3.0);
        BOOST_REQUIRE((big.how == Answer::ok));
        BOOST_TEST(big.body() == std::string(200000, 'x'));
        BOOST_TEST(big.stdout_bytes.find("Content-Length: 200000\r\n") != std::string::npos);
    }
    ::close(fd);
}

// Step 5: nginx keeps no FastCGI connection after an answer it reads only the
// header of (an X-Accel-Redirect, which it follows to the file; any answer to HEAD;
// a 304 over HTTP/2), so the worker closes it itself as soon as the answer is
// written: the answer whole, END_REQUEST included, then the end of the stream at
// once, with nginx's side still open. A worker that held it leaves it open: the
// read times out.
BOOST_AUTO_TEST_CASE(a_connection_nginx_will_drop_is_closed_by_the_worker_after_its_answer) {
    Pool pool(1);
    struct Case {
        std::string method, uri, protocol;
    };
    for (const Case& c : {Case{"GET", "/not-modified", "HTTP/2.0"}, Case{"GET", "/not-modified", ""},
                          Case{"GET", "/accel", "HTTP/1.1"}, Case{"HEAD", "/pid", "HTTP/1.1"}}) {
        BOOST_TEST_INFO(c.method << " " << c.uri << " " << c.protocol);
        int fd = pool.connect();
        BOOST_REQUIRE(send_request(fd, c.method, c.uri, "", c.protocol));
        Answer a = read_answer(fd, 3.0);
        BOOST_REQUIRE((a.how == Answer::ok));
        if (c.uri == "/accel")
            BOOST_TEST(a.stdout_bytes.find("X-Accel-Redirect: /_files/ab/abcdef\r\n") != std::string::npos);
        else if (c.uri == "/not-modified")
            BOOST_TEST(a.stdout_bytes.find("Status: 304 Not Modified\r\n") == 0);
        const auto t0 = Clock::now();
        Answer after = read_answer(fd, 1.0);
        BOOST_TEST((after.how == Answer::closed), "the worker held the connection");
        BOOST_TEST(after.stdout_bytes.empty());
        BOOST_TEST(seconds_since(t0) < 0.5);
        ::close(fd);
    }
}

// ... but a 304 over HTTP/1.x is kept, as a 200 with a body is: nginx reads it to
// END_REQUEST (the worker's "Status: 304 Not Modified" has a reason phrase, so
// nginx's HTTP/1 header filter does not make it header-only) and sends the next GET
// on the same connection. A worker closing it (as until 0.5.0) fails here.
BOOST_AUTO_TEST_CASE(a_304_over_http1_keeps_its_connection_for_the_next_request) {
    Pool pool(1);
    int fd = pool.connect();
    for (const std::string protocol : {"HTTP/1.1", "HTTP/1.0"}) {
        BOOST_TEST_INFO(protocol);
        for (int i = 0; i < 3; ++i) {
            BOOST_REQUIRE(send_request(fd, "GET", "/not-modified", "", protocol));
            Answer a = read_answer(fd, 3.0);
            BOOST_REQUIRE((a.how == Answer::ok));
            BOOST_TEST(a.stdout_bytes.find("Status: 304 Not Modified\r\n") == 0);
        }
    }
    BOOST_REQUIRE(send_request(fd, "GET", "/pid"));
    BOOST_TEST((read_answer(fd, 3.0).how == Answer::ok));
    // A 304 over HTTP/2 on the same connection ends it.
    BOOST_REQUIRE(send_request(fd, "GET", "/not-modified", "", "HTTP/2.0"));
    BOOST_TEST((read_answer(fd, 3.0).how == Answer::ok));
    BOOST_TEST((read_answer(fd, 1.0).how == Answer::closed));
    ::close(fd);
}

// A held connection that nginx closes, then a new connection: the worker frees the
// held one and serves the new one, and keeps serving it. The new connection often
// gets the closed one's descriptor number. (A smoke test of the path, not a proof:
// the unsafe variant, libfcgi accepting the new connection while reading the closed
// one and the worker taking it for the held one already waited on, needs the new
// connection to arrive within microseconds of the worker's wake-up; the argument
// is in worker_main.)
BOOST_AUTO_TEST_CASE(a_new_connection_after_a_held_one_closes_is_waited_on) {
    Pool pool(1);
    for (int round = 0; round < 20; ++round) {
        BOOST_TEST_INFO("round " << round);
        int held = pool.connect();
        BOOST_REQUIRE(send_request(held, "GET", "/pid"));
        BOOST_REQUIRE((read_answer(held, 3.0).how == Answer::ok));
        ::close(held);
        int fresh = pool.connect();
        for (int i = 0; i < 3; ++i) {
            BOOST_REQUIRE(send_request(fresh, "GET", "/pid"));
            BOOST_REQUIRE((read_answer(fresh, 3.0).how == Answer::ok));
        }
        ::close(fresh);
    }
}

// A large answer (a pulled page of 500 records is about 600 KiB) goes out in records
// of up to 64 KiB, not in libfcgi's 8 KiB ones: 10 records here where libfcgi's
// buffer made 74, each a write() of the worker and a wake-up of nginx. The bytes
// arrive whole and in order, after the headers, on a connection that stays usable;
// a small answer after it still comes through libfcgi's buffer.
BOOST_AUTO_TEST_CASE(a_large_answer_goes_out_in_large_records) {
    Pool pool(1);
    int fd = pool.connect();
    for (int round = 0; round < 2; ++round) {
        BOOST_REQUIRE(send_request(fd, "GET", "/big/600000"));
        Answer big = read_answer(fd, 3.0);
        BOOST_REQUIRE((big.how == Answer::ok));
        BOOST_TEST(big.body() == std::string(600000, 'x'));
        BOOST_TEST(big.stdout_bytes.find("Content-Length: 600000\r\n") != std::string::npos);
        // The headers (one record), then ceil(600000 / 65528) = 10 records.
        BOOST_TEST(big.stdout_records <= 11, big.stdout_records << " records for 600,000 bytes");
        BOOST_REQUIRE(send_request(fd, "POST", "/echo", "short"));
        Answer echo = read_answer(fd, 3.0);
        BOOST_REQUIRE((echo.how == Answer::ok));
        BOOST_TEST(echo.body() == "short");
    }
    ::close(fd);
}

BOOST_AUTO_TEST_SUITE_END()
