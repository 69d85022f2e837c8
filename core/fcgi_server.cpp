#include "core/fcgi_server.h"

#include <fcgiapp.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <malloc.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <regex>
#include <thread>

#include "core/crypto.h"
#include "core/grant.h"
#include "core/time_util.h"
#include "core/log.h"
#include "core/problem.h"
#include "core/sanitizer.h"

namespace core {

namespace {

volatile sig_atomic_t g_stop = 0;

void on_stop_signal(int) { g_stop = 1; }

void install_handler(int sig, void (*fn)(int)) {
    struct sigaction sa {};
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: a blocked accept() must return so the loop sees g_stop
    sigaction(sig, &sa, nullptr);
}

void check_api_version(const Request& req) {
    const std::string* v = req.header("x-api-version");
    if (!v) return;
    static const std::regex semver(R"(^\d+\.\d+\.\d+$)");
    if (v->size() > 64 || !std::regex_match(*v, semver))
        throw ApiError(400, "bad-request", "x-api-version must look like MAJOR.MINOR.PATCH");
    if (v->substr(0, v->find('.')) != "1")
        throw ApiError(406, "unsupported-api-version",
                       "API version " + *v + " is not supported; this server speaks " + kApiVersion);
}

}  // namespace

bool write_response(const Request& req, const Response& resp, const std::function<bool(std::string_view)>& put) {
    std::string head;
    head.reserve(256);
    // The reason phrase matters beyond looks: with it, nginx does not take a 304 or
    // 204 over HTTP/1.x as header-only and keeps the FastCGI connection
    // (nginx_drops_connection); tests/unit/test_fcgi_pool.cpp holds the phrase.
    head += "Status: " + std::to_string(resp.status) + " " + status_reason(resp.status) + "\r\n";
    bool accel = false;
    for (const auto& [k, v] : resp.headers)
        if (k == "X-Accel-Redirect") accel = true;
    const bool streamed = static_cast<bool>(resp.body_writer);
    if (resp.status != 304 && resp.status != 204 && (!resp.body.empty() || !accel)) {
        head += "Content-Type: " + resp.content_type + "\r\n";
        if (!accel && !streamed) head += "Content-Length: " + std::to_string(resp.body.size()) + "\r\n";
    } else if (accel && !resp.content_type.empty()) {
        head += "Content-Type: " + resp.content_type + "\r\n";
    }
    head += "X-Request-Id: " + req.request_id + "\r\n";
    for (const auto& [k, v] : resp.headers) head += k + ": " + v + "\r\n";
    head += "\r\n";
    if (!put(head)) return !streamed;
    if (req.method == "HEAD" || resp.status == 304) return true;
    if (!streamed) return resp.body.empty() || put(resp.body);
    try {
        resp.body_writer([&put](std::string_view bytes) {
            if (!bytes.empty() && !put(bytes)) throw BodySinkClosed();
        });
        return true;
    } catch (const BodySinkClosed&) {
        log::warn("client went away during a streamed response");
    } catch (const std::exception& e) {
        log::error(std::string("streamed response failed part-way, aborting it: ") + e.what());
    } catch (...) {
        log::error("streamed response failed part-way with a non-standard exception, aborting it");
    }
    return false;
}

namespace {

// The token question (core/grant.h): "yes" for as long as the token and the grant
// setting allow; "no" is kept as long, except when the database could not be asked
// (the worker path then answers 503, and the next request asks again).
Response token_grant(const ServerHooks& hooks, const Request& req) {
    std::optional<int64_t> exp;
    try {
        if (hooks.token_granted) exp = hooks.token_granted(req);
    } catch (const std::exception& e) {
        log::warn(std::string("token grant not given: ") + e.what());
        return grant::token_answer(false, 0);
    }
    if (!exp) return grant::token_answer(false, hooks.token_grant_seconds);
    // Kept until at most exp: nginx may use it one second past what it is told.
    const int64_t left = *exp - unix_now() - 1;
    return grant::token_answer(true, static_cast<int>(std::min<int64_t>(hooks.token_grant_seconds, left)));
}

// The file question: the route's handler answers it (handlers/file_reply.cpp) without a
// principal, since the token was granted and the route needs no more than any valid
// token has. Whatever else it answers, and every other route, is left to a worker.
Response file_grant(const Router& router, const ServerHooks& hooks, Request& req) {
    Response r;
    int keep = hooks.file_grant_seconds;
    try {
        check_api_version(req);
        RouteMatch m = router.match(req.method, req.path);
        if (m.route->grantable) {  // GET routes only (HEAD is served by them)
            req.params = std::move(m.params);
            r = m.route->handler(req);
        }
    } catch (const ApiError&) {
        // a worker answers it (404, 400 ...) as it would without grants
    } catch (const std::exception& e) {
        log::warn(std::string("file grant not given: ") + e.what());
        keep = 0;
    }
    if (!grant::is_file_answer(r)) r = grant::worker_answer();
    grant::keep_for(r, keep);
    return r;
}

}  // namespace

Response dispatch(const Router& router, const ServerHooks& hooks, Request& req) {
    if (req.grant == Grant::token) return token_grant(hooks, req);
    if (req.grant == Grant::file) return file_grant(router, hooks, req);
    Response resp;
    bool keepable = false;
    try {
        try {
            check_api_version(req);
            RouteMatch m = router.match(req.method, req.path);
            req.params = std::move(m.params);
            const Route& route = *m.route;
            keepable = route.keepable;
            if (route.role) {
                Principal p = hooks.authenticate(req);
                if (static_cast<int>(p.role) < static_cast<int>(*route.role)) throw ApiError::forbidden();
                req.principal = std::move(p);
            }
            if (route.body != BodyMode::none && req.content_length > route.body_limit)
                throw ApiError::too_large("The request body exceeds the limit of " +
                                          std::to_string(route.body_limit) + " bytes");
            if (route.body == BodyMode::buffered && req.content_length > 0 && req.read_body) {
                req.body.resize(static_cast<size_t>(req.content_length));
                size_t got = 0;
                while (got < req.body.size()) {
                    size_t n = req.read_body(req.body.data() + got, req.body.size() - got);
                    if (n == 0) break;
                    got += n;
                }
                if (got != req.body.size()) throw ApiError::bad_request("The request body ended early");
            }
            resp = route.handler(req);
        } catch (const ApiError&) {
            throw;
        } catch (...) {
            if (!hooks.translate) throw;
            throw hooks.translate(std::current_exception());
        }
    } catch (const ApiError& e) {
        if (e.status() >= 500) log::warn("answered " + std::to_string(e.status()) + ": " + e.detail());
        resp = problem_response(e);
    } catch (const std::exception& e) {
        log::error(std::string("unhandled exception: ") + e.what());
        resp = problem_response(ApiError::internal());
    } catch (...) {
        log::error("unhandled exception of a non-standard type");
        resp = problem_response(ApiError::internal());
    }
    resp.add_header("x-api-version-used", kApiVersion);
    // A 304 nginx may give again for the same URI and validator to any granted token
    // (the revalidate location of the snippet keys it so).
    if (req.grant == Grant::revalidate && resp.status == 304 && req.method != "HEAD")
        grant::keep_for(resp, hooks.file_grant_seconds);
    // A keepable route's whole answer, kept per URI, validator and API version (the
    // snippet's key): its success only (200, or 304 to the validator), and only for GET,
    // so that a HEAD's bodiless answer is never kept (the key holds the method too).
    // Errors (401, 406, 503 ...) get no X-Accel-Expires: nginx keeps nothing without it.
    if (req.grant == Grant::answer && keepable && req.method == "GET" && (resp.status == 200 || resp.status == 304))
        grant::keep_for(resp, hooks.file_grant_seconds);
    return resp;
}

namespace {

std::string lower_header_name(std::string_view env_name) {
    // HTTP_X_API_VERSION -> x-api-version
    std::string out(env_name.substr(5));
    for (char& c : out) c = (c == '_') ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// The request from nginx's params. Names are compared in place and only the values
// used are copied (about 30 params per request, most of them unused).
Request build_request(FCGX_Request& fr) {
    Request req;
    for (char** e = fr.envp; e && *e; ++e) {
        const std::string_view kv(*e);
        const size_t eq = kv.find('=');
        if (eq == std::string_view::npos) continue;
        const std::string_view name = kv.substr(0, eq);
        const std::string_view value = kv.substr(eq + 1);
        if (name.size() > 5 && name.substr(0, 5) == "HTTP_") req.headers[lower_header_name(name)] = value;
        else if (name == "REQUEST_METHOD") req.method = value;
        else if (name == "REQUEST_URI") {
            auto q = value.find('?');
            req.path = value.substr(0, q);
            if (q != std::string_view::npos) req.query = value.substr(q + 1);
        } else if (name == "REMOTE_ADDR") req.remote_addr = value;
        else if (name == "REQUEST_ID") req.request_id = value;
        else if (name == "REQUEST_HOST") req.host = value;
        else if (name == "SYNKRONUS_GRANT")
            req.grant = value == "token"        ? Grant::token
                        : value == "file"       ? Grant::file
                        : value == "revalidate" ? Grant::revalidate
                        : value == "answer"     ? Grant::answer
                                                : Grant::none;
        else if (name == "CONTENT_LENGTH") req.content_length = value.empty() ? 0 : std::atoll(value.data());
        else if (name == "CONTENT_TYPE") req.headers["content-type"] = value;
    }
    if (req.request_id.empty()) req.request_id = hex_encode(random_bytes(8));
    FCGX_Stream* in = fr.in;
    req.read_body = [in](char* buf, size_t n) -> size_t {
        int r = FCGX_GetStr(buf, static_cast<int>(n > (1 << 30) ? (1 << 30) : n), in);
        return r > 0 ? static_cast<size_t>(r) : 0;
    };
    return req;
}

// An aborted stream must not look finished. nginx takes a FastCGI connection that
// closes without END_REQUEST as the normal end of an unbuffered response of unknown
// length, and would end the chunked body cleanly; a record it cannot parse (version
// 0) makes it drop the client connection without the last chunk instead. Buffered
// output is discarded, so the poison record starts on a record boundary. The write
// may wait while nginx is not reading (a stalled client); nginx's send_timeout
// bounds that, after which the write fails and the connection is closed anyway.
void abort_request(FCGX_Request& fr) {
    static const char kPoison[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    ssize_t n;
    do n = ::write(fr.ipcFd, kPoison, sizeof kPoison);
    while (n < 0 && errno == EINTR);
    FCGX_Free(&fr, 1);
}

void drain_body(Request& req) {
    // Unread body bytes would be left in the connection; read and drop them so
    // nginx never blocks writing a body nobody reads.
    if (!req.read_body) return;
    char buf[65536];
    while (req.read_body(buf, sizeof buf) > 0) {
    }
}

// Lean workers (issue 18). A worker is one thread, and what it allocates for a
// request (a page of 500 records, a response string, Argon2's 19 MiB for a login)
// is freed when the request ends. glibc would keep much of it: after the first
// large block is freed it raises its mmap threshold to that block's size (up to
// 32 MiB) and its trim threshold to twice that, so after one login a worker kept
// 20 MiB and more for good. Fixed thresholds stop that: blocks of 4 MiB and more
// (Argon2's) are mapped and unmapped, a free top of the heap above 8 MiB goes back
// at once, and a page of records (about 1 MiB of strings) still comes from the
// heap, so pulls do not pay for fresh pages on every request (a 256 KiB threshold
// doubled the workers' CPU per pulled record in `make bench`). One arena is all a
// single thread needs. Free space left inside the heap after a request, 4 MiB more
// of it than after the last trim or reuse, is handed back by malloc_trim, which so
// costs a request only when there is something to give back (trimmed pages still
// count as free, hence the baseline rather than a level).
void limit_allocator() {
    mallopt(M_ARENA_MAX, 1);
    mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 8 * 1024 * 1024);
}

void give_back_memory() {
    static size_t free_baseline = 0;
    const size_t free_now = mallinfo2().fordblks;
    if (free_now < free_baseline) free_baseline = free_now;
    else if (free_now > free_baseline + 4 * 1024 * 1024) {
        malloc_trim(64 * 1024);
        free_baseline = mallinfo2().fordblks;
    }
}

// Large answers in large records (issue 18, pulls). libfcgi sends what a request
// writes in FCGI_STDOUT records of its 8 KiB stream buffer, one write() each: a
// pulled page of 500 records (about 600 KiB) was 80 writes by the worker, each
// waking nginx for a readv of its own. A piece of 16 KiB or more is written here
// instead, straight to the connection, in records of the protocol's largest
// content (65,535 bytes; 65,528 keeps them 8-byte aligned, as libfcgi pads its
// own), one writev() each: about 10 for such a page. What libfcgi has buffered
// (the headers) is flushed first, so the bytes stay in order and every record
// starts on a record boundary; libfcgi writes the stream's end and END_REQUEST in
// FCGX_Finish_r as before. FCGX_FFlush of an empty buffer writes nothing (an empty
// FCGI_STDOUT record would end the stream). The socket is blocking (libfcgi's
// accept() does not inherit the listening socket's O_NONBLOCK), so a writev()
// returns short only when a signal interrupts it; the rest is written on. A
// failed write means nginx has gone: false, and the caller aborts the request.
constexpr size_t kDirectWriteFrom = 16 * 1024;
constexpr size_t kRecordContent = 65528;

bool writev_all(int fd, iovec* iov, int n) {
    while (n > 0) {
        const ssize_t w = ::writev(fd, iov, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        size_t done = static_cast<size_t>(w);
        while (n > 0 && done >= iov->iov_len) {
            done -= iov->iov_len;
            ++iov;
            --n;
        }
        if (n > 0) {
            iov->iov_base = static_cast<char*>(iov->iov_base) + done;
            iov->iov_len -= done;
        }
    }
    return true;
}

bool put_stdout(FCGX_Request& fr, std::string_view bytes) {
    if (bytes.size() < kDirectWriteFrom)
        return FCGX_PutStr(bytes.data(), static_cast<int>(bytes.size()), fr.out) == static_cast<int>(bytes.size());
    if (FCGX_FFlush(fr.out) < 0) return false;
    static const char kZeros[8] = {};
    while (!bytes.empty()) {
        const size_t n = std::min(bytes.size(), kRecordContent);
        const size_t pad = (8 - n % 8) % 8;
        unsigned char head[8] = {1 /* FCGI_VERSION_1 */, 6 /* FCGI_STDOUT */,
                                 static_cast<unsigned char>((fr.requestId >> 8) & 0xff),
                                 static_cast<unsigned char>(fr.requestId & 0xff),
                                 static_cast<unsigned char>(n >> 8), static_cast<unsigned char>(n & 0xff),
                                 static_cast<unsigned char>(pad), 0};
        iovec iov[3] = {{head, sizeof head},
                        {const_cast<char*>(bytes.data()), n},
                        {const_cast<char*>(kZeros), pad}};
        if (!writev_all(fr.ipcFd, iov, pad ? 3 : 2)) return false;
        bytes.remove_prefix(n);
    }
    return true;
}

// Whether nginx will close this FastCGI connection after `resp` however it was
// asked to keep it. nginx keeps a connection only once it has read the response's
// END_REQUEST record (ngx_http_fastcgi_module sets u->keepalive in its input
// filter, never while parsing the header), and it stops reading after the header
// of an answer it sends with no body (r->header_only) and of an X-Accel-Redirect,
// which it follows to the file location at once. Which answers are header_only
// depends on the protocol nginx speaks to the client (nginx 1.22, measured: a
// FastCGI responder counting its accepts, issue 18):
// - any answer to HEAD: the request parser sets header_only from the method;
// - a 304 or 204 over HTTP/2: ngx_http_v2_header_filter sets header_only by status;
// - but NOT a 304 or 204 over HTTP/1.x, because write_response sends a reason
//   phrase ("Status: 304 Not Modified"): ngx_http_header_filter sets header_only
//   for 304 and 204 only in the branch taken when the upstream gave no status line,
//   so nginx reads the (empty) rest to END_REQUEST and keeps the connection.
// fastcgi_cache with cache_bypass and no_cache does not change any of this:
// ngx_http_upstream_send_response ends a header_only request right after the
// no_cache predicate has cleared u->cacheable (`if (r->header_only &&
// !u->cacheable && !u->store)`), also measured. The protocol is SERVER_PROTOCOL as
// nginx's fastcgi_params pass it, looked up only for a 304 or 204; an unknown one
// counts as dropped.
bool nginx_drops_connection(const FCGX_Request& fr, const Request& req, const Response& resp) {
    for (const auto& h : resp.headers)
        if (h.first == "X-Accel-Redirect") return true;
    if (req.method == "HEAD") return true;
    if (resp.status != 304 && resp.status != 204) return false;
    const char* protocol = FCGX_GetParam("SERVER_PROTOCOL", fr.envp);
    return !protocol || std::string_view(protocol).substr(0, 7) != "HTTP/1.";
}

// Serves the request FCGX_Accept_r has just read into `fr`, and ends it. Returns
// whether nginx will close the connection anyway (nginx_drops_connection).
bool serve_one(FCGX_Request& fr, const Router& router, const ServerHooks& hooks) {
    Request req = build_request(fr);
    log::set_request_id(req.request_id);
    const auto t0 = std::chrono::steady_clock::now();
    Response resp = dispatch(router, hooks, req);
    drain_body(req);
    const bool complete = write_response(req, resp, [&fr](std::string_view bytes) { return put_stdout(fr, bytes); });
    const bool dropped = complete && nginx_drops_connection(fr, req, resp);
    if (complete) FCGX_Finish_r(&fr);
    else abort_request(fr);
    if (log::enabled(log::Level::debug)) {
        const auto us =
            std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
        log::debug(req.method + " " + req.path + " -> " + std::to_string(resp.status) + " in " + std::to_string(us) + "us");
    }
    log::set_request_id("");
    return dropped;
}

// Kept connections (issue 18). nginx may keep a FastCGI connection open for the
// next request (`fastcgi_keep_conn on` with an upstream `keepalive` cache; the
// snippets do so for GET), which saves both sides a socket, connect, accept,
// shutdown and close per request. libfcgi reads the next request from a kept
// connection when FCGX_Accept_r is called again on the same FCGX_Request (after
// FCGX_Finish_r of a request that had FCGI_KEEP_CONN its ipcFd stays open). A
// worker that called it on one kept connection would wedge the pool (nginx opens
// more connections than there are workers, and a request sent on a connection
// whose worker is blocked elsewhere waits for ever), and one serving its
// connections in turn would put a fast request behind a slow one (an export, a
// push waiting on a lock). So:
//
// 1. A worker holds one FCGX_Request per open connection, waits in epoll on the
//    listening socket and on each one's ipcFd, and serves whichever has a request.
//    An idle worker therefore answers any request sent on any of its connections.
//    A new connection is taken by an idle worker: the listening socket is shared
//    and non-blocking (FCGX_Accept_r on a fresh FCGX_Request returns -EAGAIN when
//    another worker took it), and EPOLLEXCLUSIVE wakes one waiting worker, never a
//    busy one (it is not waiting).
// 2. When a worker begins a request it closes every other connection it holds. So
//    a busy worker holds exactly one connection, the one whose request it serves,
//    on which nginx sends nothing more until the answer is complete: no request is
//    sent to a busy worker, and no request waits behind another. A request nginx
//    had already written to a connection closed this way is not lost: nginx sees
//    the connection fail before any answer and, the connection being a cached one,
//    sends the request again on another (ngx_http_upstream_next counts a failed
//    cached connection as a free try). nginx repeats only idempotent requests once
//    sent (all but POST, LOCK and PATCH), which is why only GET and an attachment
//    upload (a PUT, idempotent by content) use kept connections (the snippets).
// 3. When a wake-up reports both a new connection and a request on a held one,
//    the new connection is served: the wake-up for it went to this worker alone.
// 4. A worker holds at most kMaxHeld connections (the least recently used is
//    closed first), and nginx closes idle ones after its upstream keepalive_timeout.
// 5. A connection nginx will close after this answer anyway (a file sent by
//    X-Accel-Redirect, any answer to HEAD, a 304 or 204 over HTTP/2:
//    nginx_drops_connection) is closed by the worker as soon as the answer is
//    written, not held: holding it cost a second wake-up per request (nginx's close
//    reported on it) and libfcgi's shutdown, poll and read of the end before its
//    close. Closing at once loses nothing: the whole answer, END_REQUEST included,
//    is in nginx's receive queue when FCGX_Finish_r returns, a Unix socket delivers
//    queued bytes before the end of stream, and nothing of nginx's is left unread
//    here (the request's params and its stdin up to the empty record were read:
//    drain_body), so no reset is sent on a TCP socket either. A 304 or 204 over
//    HTTP/1.x is kept like any other answer: nginx reads it to END_REQUEST and sends
//    the next GET on it (until 0.5.0 the worker closed those too, and every 304 of
//    an HTTP/1.1 client cost a new connection). The rule only has to be right for
//    speed, never for correctness: a connection kept here that nginx closes is
//    found closed at the next wake-up (FCGX_Accept_r fails) and freed; one closed
//    here that nginx kept fails under nginx's next GET before any answer, which
//    nginx sends again on another connection, as in step 2. So an older locations
//    snippet (or an nginx whose header filters differ) costs at most what step 5
//    saves, never an answer; the package ships the snippet and the worker together.
//
// The pool therefore never waits for a worker while another is idle: every request
// is either in the shared listen queue (an idle worker is woken for it) or on a
// connection held by an idle worker (which is in epoll_wait on it).
// tests/unit/test_fcgi_pool.cpp holds both properties; without step 2, or with a
// worker reading only its kept connection, it fails.
constexpr size_t kMaxHeld = 32;
constexpr uint64_t kListenTag = ~uint64_t{0};

int worker_main(int listen_fd, const Router& router, const ServerHooks& hooks) {
    limit_allocator();
    install_handler(SIGTERM, on_stop_signal);
    install_handler(SIGINT, on_stop_signal);
    signal(SIGPIPE, SIG_IGN);
    if (hooks.worker_init) hooks.worker_init();
    FCGX_Init();
    const int ep = epoll_create1(EPOLL_CLOEXEC);
    epoll_event lev{};
    lev.events = EPOLLIN | EPOLLEXCLUSIVE;
    lev.data.u64 = kListenTag;
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &lev) < 0) {
        log::error(std::string("cannot wait on the listening socket: ") + strerror(errno));
        return 1;
    }
    // One FCGX_Request per open connection (heap: libfcgi's streams point at it),
    // least recently used first.
    std::vector<std::unique_ptr<FCGX_Request>> held;
    auto find = [&held](int fd) {
        for (size_t i = 0; i < held.size(); ++i)
            if (held[i]->ipcFd == fd) return i;
        return held.size();
    };
    // Closes a held connection without libfcgi's shutdown-and-wait (nothing is owed
    // on an idle connection, nor on one whose answer is written: step 5) and frees
    // the request. close() alone also takes it out of the epoll set: epoll forgets a
    // descriptor when the last descriptor of its open file is closed, and nothing
    // else refers to a connection (a worker neither forks nor dups, nor does libfcgi).
    auto close_held = [&](FCGX_Request& fr) {
        if (fr.ipcFd >= 0) {
            ::close(fr.ipcFd);
            fr.ipcFd = -1;
        }
        FCGX_Free(&fr, 0);
    };
    log::info("worker ready");
    epoll_event events[16];
    while (!g_stop) {
        const int n = epoll_wait(ep, events, 16, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            log::error(std::string("epoll_wait failed: ") + strerror(errno));
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            continue;
        }
        size_t at = held.size();
        bool listen_ready = false;
        for (int i = 0; i < n; ++i) {
            if (events[i].data.u64 == kListenTag) listen_ready = true;
            else if (at == held.size()) at = find(static_cast<int>(events[i].data.u64));
        }
        std::unique_ptr<FCGX_Request> cur;
        bool waited_on = false;  // `cur` is a held connection, already in the epoll set
        if (listen_ready) {  // step 3
            auto fresh = std::make_unique<FCGX_Request>();
            FCGX_InitRequest(fresh.get(), listen_fd, 0);
            const int rc = FCGX_Accept_r(fresh.get());
            if (rc >= 0) {
                cur = std::move(fresh);
            } else if (rc != -EAGAIN && rc != -EWOULDBLOCK && rc != -EINTR) {
                log::error(std::string("accept failed: ") + strerror(-rc));
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
                continue;
            }
        }
        if (!cur && at < held.size()) {
            cur = std::move(held[at]);
            held.erase(held.begin() + static_cast<std::ptrdiff_t>(at));
            // The next request on this connection, and on no other: when nginx has
            // closed it, libfcgi closes it too and then accepts a new connection from
            // its listen_sock, which could get the same descriptor number while being
            // outside the epoll set. With no listening socket that accept fails
            // (EBADF: libfcgi's only way to a new connection is OS_Accept on
            // listen_sock), so a request read here came on the very connection that is
            // in the epoll set, and it need not be added again: that saves the
            // epoll_ctl (EEXIST) every request on a kept connection used to make. A
            // request waiting on the listening socket meanwhile is reported by the
            // next epoll_wait (level-triggered).
            cur->listen_sock = -1;
            if (FCGX_Accept_r(cur.get()) < 0) {
                close_held(*cur);  // libfcgi closed it already (ipcFd -1), or we do
                continue;
            }
            waited_on = true;
        }
        if (!cur) continue;
        // Step 2: from here on this worker holds only `cur`.
        for (auto& other : held) close_held(*other);
        held.clear();
        const bool dropped = serve_one(*cur, router, hooks);
        if (cur->ipcFd >= 0 && dropped) {  // step 5
            close_held(*cur);
        } else if (cur->ipcFd >= 0) {  // nginx asked to keep it (FCGI_KEEP_CONN) and it is sound
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.u64 = static_cast<uint64_t>(cur->ipcFd);
            // A connection just accepted from the listening socket is added; a held one
            // is in the set already.
            if (!waited_on && epoll_ctl(ep, EPOLL_CTL_ADD, cur->ipcFd, &ev) < 0) {
                log::warn(std::string("cannot wait on a FastCGI connection: ") + strerror(errno));
                close_held(*cur);
            } else {
                if (held.size() >= kMaxHeld) {
                    close_held(*held.front());
                    held.erase(held.begin());
                }
                held.push_back(std::move(cur));
            }
        }
        give_back_memory();
    }
    for (auto& fr : held) close_held(*fr);
    close(ep);
    log::info("worker stopping");
    return 0;
}

int open_listen_socket(const PoolOptions& opts, bool& created_unix_socket) {
    created_unix_socket = false;
    // systemd socket activation: our fds start at 3.
    const char* pid = getenv("LISTEN_PID");
    const char* fds = getenv("LISTEN_FDS");
    if (pid && fds && std::atol(pid) == static_cast<long>(getpid()) && std::atoi(fds) >= 1) {
        unsetenv("LISTEN_PID");
        unsetenv("LISTEN_FDS");
        unsetenv("LISTEN_FDNAMES");
        log::info("using the listening socket passed by systemd");
        return 3;
    }
    bool is_unix = !opts.listen.empty() && opts.listen[0] == '/';
    if (is_unix) unlink(opts.listen.c_str());
    int fd = FCGX_OpenSocket(opts.listen.c_str(), opts.backlog);
    if (fd < 0) {
        log::error("cannot listen on " + opts.listen + ": " + strerror(errno));
        return -1;
    }
    if (is_unix) {
        created_unix_socket = true;
        chmod(opts.listen.c_str(), static_cast<mode_t>(opts.socket_mode));
    }
    log::info("listening on " + opts.listen);
    return fd;
}

}  // namespace

int run_pool(const PoolOptions& opts, const Router& router, const ServerHooks& hooks) {
    bool created = false;
    int fd = open_listen_socket(opts, created);
    if (fd < 0) return 1;

    install_handler(SIGTERM, on_stop_signal);
    install_handler(SIGINT, on_stop_signal);
    signal(SIGPIPE, SIG_IGN);
    // Workers wait for connections in epoll and accept without blocking: a worker
    // woken for a connection another worker took gets EAGAIN and waits again.
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);

    std::map<pid_t, std::chrono::steady_clock::time_point> children;
    auto spawn = [&]() {
        pid_t p = fork();
        if (p == 0) {
            int rc = worker_main(fd, router, hooks);
            leak_check_before_exit();
            _exit(rc);
        }
        if (p < 0) {
            log::error(std::string("fork failed: ") + strerror(errno));
            return;
        }
        children[p] = std::chrono::steady_clock::now();
    };
    for (int i = 0; i < opts.workers; ++i) spawn();
    log::info("supervisor started " + std::to_string(opts.workers) + " workers");

    while (!g_stop) {
        int status = 0;
        pid_t p = waitpid(-1, &status, 0);
        if (p < 0) {
            if (errno == EINTR) continue;
            break;
        }
        auto it = children.find(p);
        if (it == children.end()) continue;
        auto lived = std::chrono::steady_clock::now() - it->second;
        children.erase(it);
        if (g_stop) break;
        std::string how = WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status))
                                              : "exit code " + std::to_string(WEXITSTATUS(status));
        log::warn("worker " + std::to_string(p) + " died (" + how + "); starting a new one");
        // A worker that dies at once (bad config, no database library) must not spin.
        if (lived < std::chrono::seconds(1)) std::this_thread::sleep_for(std::chrono::milliseconds(500));
        spawn();
    }

    log::info("supervisor stopping: waiting for workers to finish their requests");
    for (auto& [p, t] : children) kill(p, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!children.empty() && std::chrono::steady_clock::now() < deadline) {
        int status;
        pid_t p = waitpid(-1, &status, WNOHANG);
        if (p > 0) children.erase(p);
        else std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    for (auto& [p, t] : children) kill(p, SIGKILL);
    while (waitpid(-1, nullptr, 0) > 0) {
    }
    if (created) unlink(opts.listen.c_str());
    log::info("supervisor stopped");
    return 0;
}

}  // namespace core
