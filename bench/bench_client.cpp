// The load generator of `make bench` (bench/run.sh drives it, one measurement per
// invocation). One client for both sides of every ratio: the API through nginx over
// HTTPS, and the ceiling (MariaDB directly, or a static nginx location), so the
// client's own cost is the same on both sides.
//
//   bench-client push      --batch N      records/s through POST /sync/push (--update: each push
//                                         rewrites the same N records of its client)
//   bench-client db-insert --batch N      records/s of multi-row INSERTs (ceiling)
//   bench-client pull      --limit N      records/s through POST /sync/pull, pages followed
//   bench-client db-select --limit N      records/s of change_id range pages (ceiling)
//   bench-client get       --path P       requests/s of a GET (bundles, attachments, static files)
//   bench-client upload    --size N       uploads/s of PUT /attachments/{new id}, N bytes each
//   bench-client disk-write --size N --dir D  the same bytes written to D, fsynced and renamed (ceiling);
//                                         with --db-row, plus a one-row INSERT committed into --table
//   bench-client seed      --count N      rows like pushed ones, straight into sync_records
//
// push and pull with --observations speak the current mobile app's generation
// (CONTRACT §7): observation items with 16-character transmission ids, and pulls
// with `since`, whose records come back as observations.
//
// db-insert and db-select with --server-sql replay the statements the server itself
// runs for a push or a pull, straight against MariaDB: the database's share of the gap.
//
// Each run prints one line of key=value pairs: rate, the errors seen, and the CPU
// the client, nginx, the workers and MariaDB used in the measured window, so a
// reader can tell whether the client or the machine was the bottleneck.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <cppconn/datatype.h>
#include <cppconn/driver.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <mysql_driver.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <rapidjson/document.h>

#include "core/crypto.h"
#include "core/files.h"
#include "db/statements.h"
#include "domain/canonical_json.h"
#include "domain/record_hash.h"

namespace {

using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------- options

struct Options {
    std::string mode;
    std::string host = "127.0.0.1";
    int port = 29443;
    std::string token;
    int clients = 1;
    double seconds = 5;
    double warmup = 1;
    int batch = 100;
    int limit = 500;
    int64_t count = 100000;
    std::string path;
    std::vector<std::string> headers;
    int expect = 200;
    bool gzip = false;
    bool observations = false;  // push / pull: the observation shape (CONTRACT §7)
    bool update = false;        // push: every push rewrites the same `batch` records of its client
    bool server_sql = false;  // db-insert / db-select: replay the server's statements instead
    std::string db_socket, db_user = "root", db_password, db_name = "synkronus";
    std::string table = "sync_records";
    std::vector<std::pair<std::string, int>> watch;  // name, pid (pid and its children)
    std::string user = "admin";
    int64_t size = 5 << 20;  // upload, disk-write
    std::string dir;         // disk-write
    bool db_row = false;     // disk-write: also commit one row per file (the upload ceiling)
    bool distinct = false;   // upload: other bytes in every upload (a new file each time)
};

[[noreturn]] void die(const std::string& m) {
    fprintf(stderr, "bench-client: %s\n", m.c_str());
    exit(2);
}

std::string read_file(const std::string& p) {
    std::ifstream f(p);
    if (!f) die("cannot read " + p);
    std::stringstream s;
    s << f.rdbuf();
    std::string v = s.str();
    while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
    return v;
}

Options parse_args(int argc, char** argv) {
    Options o;
    if (argc < 2) die("usage: bench-client MODE [--option value]...");
    o.mode = argv[1];
    for (int i = 2; i < argc; ++i) {
        std::string k = argv[i];
        if (k == "--gzip" || k == "--server-sql" || k == "--observations") {
            (k == "--gzip" ? o.gzip : k == "--server-sql" ? o.server_sql : o.observations) = true;
            continue;
        }
        if (k == "--update" || k == "--db-row" || k == "--distinct") {
            (k == "--update" ? o.update : k == "--db-row" ? o.db_row : o.distinct) = true;
            continue;
        }
        if (i + 1 >= argc) die("missing value for " + k);
        std::string v = argv[++i];
        if (k == "--host") o.host = v;
        else if (k == "--port") o.port = std::stoi(v);
        else if (k == "--token-file") o.token = read_file(v);
        else if (k == "--clients") o.clients = std::stoi(v);
        else if (k == "--seconds") o.seconds = std::stod(v);
        else if (k == "--warmup") o.warmup = std::stod(v);
        else if (k == "--batch") o.batch = std::stoi(v);
        else if (k == "--limit") o.limit = std::stoi(v);
        else if (k == "--count") o.count = std::stoll(v);
        else if (k == "--path") o.path = v;
        else if (k == "--header") o.headers.push_back(v);
        else if (k == "--expect") o.expect = std::stoi(v);
        else if (k == "--db-socket") o.db_socket = v;
        else if (k == "--db-user") o.db_user = v;
        else if (k == "--db-password-file") o.db_password = read_file(v);
        else if (k == "--db-name") o.db_name = v;
        else if (k == "--table") o.table = v;
        else if (k == "--user") o.user = v;
        else if (k == "--size") o.size = std::stoll(v);
        else if (k == "--dir") o.dir = v;
        else if (k == "--watch") {  // name=pid,name=pid
            std::stringstream ss(v);
            std::string item;
            while (std::getline(ss, item, ',')) {
                auto eq = item.find('=');
                if (eq == std::string::npos) die("bad --watch item " + item);
                o.watch.emplace_back(item.substr(0, eq), std::stoi(item.substr(eq + 1)));
            }
        } else die("unknown option " + k);
    }
    return o;
}

// ---------------------------------------------------------------- CPU accounting

int64_t proc_ticks(int pid, int* ppid = nullptr) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string s;
    if (!std::getline(f, s)) return -1;
    auto rp = s.rfind(')');
    if (rp == std::string::npos) return -1;
    std::stringstream ss(s.substr(rp + 2));
    std::string field;
    std::vector<std::string> fs;
    while (ss >> field) fs.push_back(field);
    // fields after ")": state(3) ppid(4) ... utime(14) stime(15); index = n - 3
    if (fs.size() < 13) return -1;
    if (ppid) *ppid = std::stoi(fs[1]);
    return std::stoll(fs[11]) + std::stoll(fs[12]);
}

// Ticks of each watched pid plus its direct children (nginx and fcgi workers).
std::vector<int64_t> group_ticks(const Options& o) {
    std::vector<int64_t> out(o.watch.size(), 0);
    std::map<int, int64_t> ticks;
    std::map<int, int> parent;
    if (DIR* d = opendir("/proc")) {
        while (dirent* e = readdir(d)) {
            if (!isdigit(static_cast<unsigned char>(e->d_name[0]))) continue;
            int pid = atoi(e->d_name), pp = 0;
            int64_t t = proc_ticks(pid, &pp);
            if (t < 0) continue;
            ticks[pid] = t;
            parent[pid] = pp;
        }
        closedir(d);
    }
    for (size_t i = 0; i < o.watch.size(); ++i) {
        int root = o.watch[i].second;
        for (auto& [pid, t] : ticks)
            if (pid == root || parent[pid] == root) out[i] += t;
    }
    return out;
}

double self_cpu_seconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// Busy and total jiffies of the whole machine.
std::pair<int64_t, int64_t> machine_ticks() {
    std::ifstream f("/proc/stat");
    std::string cpu;
    int64_t v, total = 0, idle = 0;
    f >> cpu;
    for (int i = 0; i < 10 && (f >> v); ++i) {
        total += v;
        if (i == 3 || i == 4) idle += v;  // idle, iowait
    }
    return {total - idle, total};
}

struct CpuSample {
    Clock::time_point at;
    double self;
    std::vector<int64_t> groups;
    std::pair<int64_t, int64_t> machine;
};

CpuSample cpu_sample(const Options& o) { return {Clock::now(), self_cpu_seconds(), group_ticks(o), machine_ticks()}; }

// "cpu_client=57 cpu_nginx=30 ...": percent of one core over the window.
std::string cpu_report(const Options& o, const CpuSample& a, const CpuSample& b) {
    double wall = std::chrono::duration<double>(b.at - a.at).count();
    double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
    char buf[128];
    std::string s;
    snprintf(buf, sizeof buf, "cpu_client=%.0f", 100.0 * (b.self - a.self) / wall);
    s += buf;
    for (size_t i = 0; i < o.watch.size(); ++i) {
        snprintf(buf, sizeof buf, " cpu_%s=%.0f", o.watch[i].first.c_str(),
                 100.0 * static_cast<double>(b.groups[i] - a.groups[i]) / hz / wall);
        s += buf;
    }
    int64_t busy = b.machine.first - a.machine.first, total = b.machine.second - a.machine.second;
    snprintf(buf, sizeof buf, " cpu_machine_busy=%.0f", total > 0 ? 100.0 * busy / total : 0.0);
    s += buf;
    return s;
}

// ---------------------------------------------------------------- record content

// Fast unique ids: these need to be distinct, not unpredictable.
struct Rng {
    std::mt19937_64 g;
    explicit Rng(uint64_t seed) : g(seed) {}
    uint64_t next() { return g(); }
    std::string uuid() {
        uint64_t a = next(), b = next();
        a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
        b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
        char s[37];
        snprintf(s, sizeof s, "%08x-%04x-%04x-%04x-%012" PRIx64, static_cast<unsigned>(a >> 32),
                 static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
                 static_cast<unsigned>(b >> 48), static_cast<uint64_t>(b & 0xffffffffffffULL));
        return s;
    }
};

uint64_t seed_from_time(int salt) {
    return static_cast<uint64_t>(Clock::now().time_since_epoch().count()) * 1000003ULL + static_cast<uint64_t>(salt) * 7919ULL +
           static_cast<uint64_t>(getpid());
}

const char* const kSchemaType = "household_survey";
const char* const kSchemaVersion = "3";

// About 1 KB of form data, already in RFC 8785 canonical form (keys sorted, no
// spaces), so what the server stores is exactly this text and the ceiling can insert
// the same bytes without canonicalizing. check_canonical() proves it at start.
std::string record_data(Rng& rng, int64_t seq) {
    static const char* const names[] = {"Amina Njeri", "Baraka Otieno", "Chiara Rossi", "Dawit Bekele",
                                        "Esi Mensah", "Farah Haddad", "Goran Petrovic", "Hana Sato"};
    static const char* const villages[] = {"Kibera", "Ngong", "Kisumu Ndogo", "Mathare", "Ruiru", "Limuru"};
    uint64_t r = rng.next();
    char tok[17];
    snprintf(tok, sizeof tok, "%016" PRIx64, rng.next());
    std::string s;
    s.reserve(1100);
    s += "{\"answers\":[";
    for (int i = 0; i < 8; ++i) {
        if (i) s += ",";
        s += "{\"code\":\"Q" + std::to_string(i + 1) + "\",\"value\":" + std::to_string((r >> (i * 4)) & 0xf) + "}";
    }
    s += "],\"consent\":true,\"enumerator\":\"";
    s += names[r % 8];
    s += "\",\"household\":{\"head\":\"";
    s += names[(r >> 8) % 8];
    s += "\",\"members\":" + std::to_string(1 + (r >> 16) % 9) + ",\"village\":\"";
    s += villages[(r >> 24) % 6];
    s += "\"},\"location\":{\"accuracy\":4.5,\"lat\":-1.2921,\"lon\":36.8219},\"notes\":\"";
    s += "Visit ";
    s += tok;
    s += ": the household was interviewed at home; water is fetched from a borehole about two "
         "kilometres away, and the family keeps goats and chickens. The respondent asked about the "
         "next vaccination campaign and the school feeding programme. Follow-up is needed on the "
         "malaria nets distributed last season; two of three are torn. Crops: maize, beans, kale. "
         "Livestock were vaccinated in January. The nearest clinic is a forty minute walk; the "
         "respondent would like a mobile clinic visit before the long rains start in April.\",";
    s += "\"score\":" + std::to_string((r >> 32) % 100) + ",\"seq\":" + std::to_string(seq) +
         ",\"started_at\":\"2026-03-14T09:26:53Z\",\"visit\":" + std::to_string(1 + (r >> 40) % 4) + "}";
    return s;
}

void check_canonical() {
    Rng rng(1);
    for (int i = 0; i < 3; ++i) {
        std::string d = record_data(rng, 123456789 + i);
        rapidjson::Document doc;
        doc.Parse(d.c_str(), d.size());
        if (doc.HasParseError() || domain::canonical_json(doc) != d) die("record_data is not canonical JSON: " + d);
    }
}

std::string sql_now() {
    time_t t = time(nullptr);
    tm g{};
    gmtime_r(&t, &g);
    char b[32];
    strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S.000", &g);
    return b;
}

// ---------------------------------------------------------------- HTTPS client

SSL_CTX* g_ssl_ctx = nullptr;

struct HttpResponse {
    int status = 0;
    std::string headers;  // lower-cased
    std::string body;
};

class HttpsConn {
public:
    HttpsConn(std::string host, int port) : host_(std::move(host)), port_(port) {}
    ~HttpsConn() { close(); }

    // One request; reconnects once when the kept-alive connection turned out closed.
    bool request(const std::string& head, const std::string& body, HttpResponse& out, std::string& err) {
        for (int attempt = 0; attempt < 2; ++attempt) {
            bool fresh = ssl_ == nullptr;
            if (!ssl_ && !connect(err)) return false;
            if (write_all(head) && (body.empty() || write_all(body)) && read_response(out, err)) {
                if (out.headers.find("\nconnection: close") != std::string::npos) close();
                return true;
            }
            close();
            if (fresh) {
                if (err.empty()) err = "connection failed";
                return false;
            }
            err.clear();
        }
        return false;
    }

    void close() {
        if (ssl_) {
            SSL_free(ssl_);
            ssl_ = nullptr;
        }
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
        buf_.clear();
        pos_ = 0;
    }

private:
    bool connect(std::string& err) {
        fd_ = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<uint16_t>(port_));
        inet_pton(AF_INET, host_.c_str(), &a.sin_addr);
        int one = 1;
        setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            err = std::string("connect: ") + strerror(errno);
            close();
            return false;
        }
        ssl_ = SSL_new(g_ssl_ctx);
        SSL_set_fd(ssl_, fd_);
        SSL_set_tlsext_host_name(ssl_, "localhost");
        if (SSL_connect(ssl_) != 1) {
            err = "TLS handshake failed";
            close();
            return false;
        }
        return true;
    }

    bool write_all(const std::string& s) {
        size_t off = 0;
        while (off < s.size()) {
            int n = SSL_write(ssl_, s.data() + off, static_cast<int>(std::min<size_t>(s.size() - off, 1 << 20)));
            if (n <= 0) return false;
            off += static_cast<size_t>(n);
        }
        return true;
    }

    bool fill() {
        if (pos_ > 0 && pos_ == buf_.size()) {
            buf_.clear();
            pos_ = 0;
        }
        char tmp[65536];
        int n = SSL_read(ssl_, tmp, sizeof tmp);
        if (n <= 0) return false;
        buf_.append(tmp, static_cast<size_t>(n));
        return true;
    }

    bool read_line(std::string& line) {
        for (;;) {
            auto e = buf_.find("\r\n", pos_);
            if (e != std::string::npos) {
                line.assign(buf_, pos_, e - pos_);
                pos_ = e + 2;
                return true;
            }
            if (!fill()) return false;
        }
    }

    bool read_bytes(size_t n, std::string& out) {
        while (buf_.size() - pos_ < n)
            if (!fill()) return false;
        out.append(buf_, pos_, n);
        pos_ += n;
        if (pos_ > (1 << 20)) {
            buf_.erase(0, pos_);
            pos_ = 0;
        }
        return true;
    }

    bool read_response(HttpResponse& out, std::string& err) {
        out = HttpResponse{};
        std::string line;
        if (!read_line(line)) return false;
        if (line.size() < 12 || line.compare(0, 5, "HTTP/") != 0) {
            err = "bad status line";
            return false;
        }
        out.status = atoi(line.c_str() + 9);
        out.headers = "\n";
        for (;;) {
            if (!read_line(line)) return false;
            if (line.empty()) break;
            std::transform(line.begin(), line.end(), line.begin(), ::tolower);
            out.headers += line + "\n";
        }
        if (out.status == 304 || out.status == 204 || out.status < 200) return true;
        if (out.headers.find("\ntransfer-encoding: chunked") != std::string::npos) {
            for (;;) {
                if (!read_line(line)) return false;
                size_t n = strtoul(line.c_str(), nullptr, 16);
                if (n == 0) {
                    do {
                        if (!read_line(line)) return false;
                    } while (!line.empty());
                    return true;
                }
                if (!read_bytes(n, out.body) || !read_line(line)) return false;
            }
        }
        auto cl = out.headers.find("\ncontent-length: ");
        if (cl == std::string::npos) {
            err = "response without length";
            return false;
        }
        return read_bytes(strtoull(out.headers.c_str() + cl + 17, nullptr, 10), out.body);
    }

    std::string host_;
    int port_;
    int fd_ = -1;
    SSL* ssl_ = nullptr;
    std::string buf_;
    size_t pos_ = 0;
};

void init_tls() {
    g_ssl_ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(g_ssl_ctx, SSL_VERIFY_NONE, nullptr);  // our own self-signed stack
}

std::string header_value(const HttpResponse& r, const std::string& name) {
    auto p = r.headers.find("\n" + name + ": ");
    if (p == std::string::npos) return "";
    p += name.size() + 3;
    return r.headers.substr(p, r.headers.find('\n', p) - p);
}

bool gunzip(const std::string& in, std::string& out) {
    z_stream z{};
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return false;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    out.clear();
    char tmp[1 << 16];
    int rc;
    do {
        z.next_out = reinterpret_cast<Bytef*>(tmp);
        z.avail_out = sizeof tmp;
        rc = inflate(&z, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) {
            inflateEnd(&z);
            return false;
        }
        out.append(tmp, sizeof tmp - z.avail_out);
    } while (rc != Z_STREAM_END);
    inflateEnd(&z);
    return true;
}

// ---------------------------------------------------------------- MariaDB

std::unique_ptr<sql::Connection> db_connect(const Options& o) {
    sql::ConnectOptionsMap opts;
    opts["hostName"] = sql::SQLString("unix://" + o.db_socket);
    opts["userName"] = sql::SQLString(o.db_user);
    opts["password"] = sql::SQLString(o.db_password);
    opts["schema"] = sql::SQLString(o.db_name);
    opts["OPT_CHARSET_NAME"] = sql::SQLString("utf8mb4");
    std::unique_ptr<sql::Connection> c(sql::mysql::get_mysql_driver_instance()->connect(opts));
    std::unique_ptr<sql::Statement> st(c->createStatement());
    st->execute("SET time_zone = '+00:00'");
    return c;
}

std::string placeholders(int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += i ? ",(?,?,?,?,?,?,?,?,?,?)" : "(?,?,?,?,?,?,?,?,?,?)";
    return s;
}

const char* const kPullCols =
    "SELECT id, schema_type, schema_version, data, hash, deleted, change_id, "
    "DATE_FORMAT(last_modified, '%Y-%m-%dT%H:%i:%s.%fZ'), last_modified_by, origin_client_id FROM ";

// ---------------------------------------------------------------- the timed loop

struct Tally {
    std::atomic<int64_t> ops{0}, items{0}, bytes{0}, errors{0};
    std::mutex mu;
    std::string first_error;
    std::vector<double> latencies_ms;  // of counted operations
    void error(const std::string& e) {
        errors++;
        std::lock_guard<std::mutex> g(mu);
        if (first_error.empty()) first_error = e.substr(0, 400);
    }
};

struct Window {
    Clock::time_point start, measure_from, stop;
};

// Runs `op` in `clients` threads until the window closes. An operation counts when it
// finishes inside [measure_from, stop]; op returns its item count (-1 = error).
template <typename MakeWorker>
void run_timed(const Options& o, const std::string& unit, MakeWorker make_worker) {
    Tally tally;
    Window w;
    w.start = Clock::now() + std::chrono::milliseconds(200);  // all threads connected by then
    w.measure_from = w.start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.warmup));
    w.stop = w.measure_from + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
    std::vector<std::thread> threads;
    std::mutex lat_mu;
    for (int t = 0; t < o.clients; ++t) {
        threads.emplace_back([&, t] {
            std::vector<double> lat;
            try {
                auto op = make_worker(t, tally);  // connects, prepares
                std::this_thread::sleep_until(w.start);
                while (Clock::now() < w.stop) {
                    auto t0 = Clock::now();
                    int64_t bytes = 0;
                    int64_t n = op(bytes);
                    auto t1 = Clock::now();
                    if (t1 < w.measure_from || t1 > w.stop) continue;
                    if (n < 0) continue;
                    tally.ops++;
                    tally.items += n;
                    tally.bytes += bytes;
                    lat.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
                }
            } catch (const std::exception& e) {
                tally.error(std::string("client thread: ") + e.what());
            }
            std::lock_guard<std::mutex> g(lat_mu);
            tally.latencies_ms.insert(tally.latencies_ms.end(), lat.begin(), lat.end());
        });
    }
    std::this_thread::sleep_until(w.measure_from);
    CpuSample a = cpu_sample(o);
    std::this_thread::sleep_until(w.stop);
    CpuSample b = cpu_sample(o);
    for (auto& th : threads) th.join();
    double secs = std::chrono::duration<double>(b.at - a.at).count();
    auto& l = tally.latencies_ms;
    std::sort(l.begin(), l.end());
    auto pct = [&](double p) { return l.empty() ? 0.0 : l[std::min(l.size() - 1, static_cast<size_t>(p * l.size()))]; };
    printf("rate=%.1f unit=%s ops=%" PRId64 " items=%" PRId64 " mb_s=%.1f errors=%" PRId64
           " seconds=%.2f p50_ms=%.2f p99_ms=%.2f %s\n",
           static_cast<double>(tally.items) / secs, unit.c_str(), tally.ops.load(), tally.items.load(),
           static_cast<double>(tally.bytes) / secs / 1e6, tally.errors.load(), secs, pct(0.5), pct(0.99),
           cpu_report(o, a, b).c_str());
    if (!tally.first_error.empty()) fprintf(stderr, "bench-client: first error: %s\n", tally.first_error.c_str());
    fflush(stdout);
}

std::string request_head(const Options& o, const char* method, const std::string& path, size_t body_len,
                         const std::vector<std::string>& extra = {}) {
    std::string h = std::string(method) + " " + path + " HTTP/1.1\r\nHost: localhost\r\n";
    if (!o.token.empty()) h += "Authorization: Bearer " + o.token + "\r\n";
    if (o.gzip) h += "Accept-Encoding: gzip\r\n";
    for (const auto& x : extra) h += x + "\r\n";
    if (body_len || std::string(method) == "POST")
        h += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body_len) + "\r\n";
    return h + "\r\n";
}

// ---------------------------------------------------------------- modes

void mode_push(const Options& o) {
    run_timed(o, "records/s", [&](int t, Tally& tally) {
        auto conn = std::make_shared<HttpsConn>(o.host, o.port);
        auto rng = std::make_shared<Rng>(seed_from_time(t));
        std::string client_id = "bench-push-" + std::to_string(t);
        auto seq = std::make_shared<int64_t>(0);
        // Ids of --update pushes are fresh per run (a first push inserts them, in the warmup).
        const std::string run_tag = rng->uuid().substr(0, 8);
        return [&, conn, rng, client_id, seq, run_tag](int64_t& bytes) -> int64_t {
            std::string body;
            body.reserve(static_cast<size_t>(o.batch) * 1300 + 200);
            // The app's transmission ids are 16 characters, its observation ids obs_<ms>_<n>.
            const std::string tid = o.observations ? rng->uuid().substr(24) + "abcd" : rng->uuid();
            body += "{\"transmission_id\":\"" + tid + "\",\"client_id\":\"" + client_id + "\",\"records\":[";
            for (int i = 0; i < o.batch; ++i) {
                if (i) body += ",";
                if (o.observations) {
                    body += "{\"observation_id\":\"obs_" + rng->uuid() + "_" + std::to_string(i) + "\",\"form_type\":\"" +
                            kSchemaType + "\",\"form_version\":\"" + kSchemaVersion + "\",\"data\":" +
                            record_data(*rng, ++*seq) +
                            ",\"deleted\":false,\"created_at\":\"2026-03-14T09:26:53.120Z\","
                            "\"updated_at\":\"2026-03-14T09:41:07.004Z\",\"geolocation\":{\"latitude\":-1.292066,"
                            "\"longitude\":36.821945,\"accuracy\":4.5,\"altitude\":1661.2,\"altitude_accuracy\":null}}";
                } else {
                    // --update: the client's own ids again (new data each time), so every
                    // record of the push replaces a stored version (history, references).
                    const std::string id = o.update ? client_id + "-" + run_tag + "-" + std::to_string(i) : rng->uuid();
                    body += "{\"id\":\"" + id + "\",\"schemaType\":\"" + kSchemaType + "\",\"schemaVersion\":\"" +
                            kSchemaVersion + "\",\"data\":" + record_data(*rng, ++*seq) + ",\"deleted\":false}";
                }
            }
            body += "]}";
            HttpResponse r;
            std::string err;
            if (!conn->request(request_head(o, "POST", "/sync/push", body.size()), body, r, err)) {
                tally.error("push: " + err);
                return -1;
            }
            auto want = "\"success_count\":" + std::to_string(o.batch) + ",\"failed_records\":[]";
            if (r.status != 200 || r.body.find(want) == std::string::npos) {
                tally.error("push: HTTP " + std::to_string(r.status) + " " + r.body);
                return -1;
            }
            bytes = static_cast<int64_t>(body.size());
            return o.batch;
        };
    });
}

// Highest change_id in the table, to spread the pullers over it.
int64_t max_change_id(const Options& o) {
    auto c = db_connect(o);
    std::unique_ptr<sql::Statement> st(c->createStatement());
    std::unique_ptr<sql::ResultSet> rs(st->executeQuery("SELECT COALESCE(MAX(change_id), 0) FROM " + o.table));
    rs->next();
    return rs->getInt64(1);
}

void mode_pull(const Options& o) {
    int64_t top = max_change_id(o);
    run_timed(o, "records/s", [&](int t, Tally& tally) {
        auto conn = std::make_shared<HttpsConn>(o.host, o.port);
        std::string body0 = "{\"client_id\":\"bench-pull-" + std::to_string(t) +
                            (o.observations ? "\",\"since\":{\"version\":" : "\",\"after_change_id\":");
        // Each client starts at its own place in the table, then walks it page by page.
        auto after = std::make_shared<int64_t>(top * t / o.clients);
        auto token = std::make_shared<std::string>();
        auto last_seen = std::make_shared<int64_t>(*after);
        auto pages = std::make_shared<int64_t>(0);
        return [&, conn, body0, after, token, last_seen, pages](int64_t& bytes) -> int64_t {
            std::string path = "/sync/pull?limit=" + std::to_string(o.limit);
            if (!token->empty()) path += "&page_token=" + *token;
            std::string body = body0 + std::to_string(*after) + (o.observations ? "}}" : "}");
            HttpResponse r;
            std::string err;
            if (!conn->request(request_head(o, "POST", path, body.size()), body, r, err)) {
                tally.error("pull: " + err);
                return -1;
            }
            if (r.status != 200) {
                tally.error("pull: HTTP " + std::to_string(r.status) + " " + r.body);
                return -1;
            }
            bytes = static_cast<int64_t>(r.body.size());
            std::string plain;
            const std::string* json = &r.body;
            if (header_value(r, "content-encoding") == "gzip") {
                if (!gunzip(r.body, plain)) {
                    tally.error("pull: bad gzip");
                    return -1;
                }
                json = &plain;
            } else if (o.gzip) {
                tally.error("pull: asked for gzip, got identity");
            }
            // A full parse of every client's first page proves the shape; after that a scan
            // finds the few fields needed, so the client stays cheap next to the server.
            if (*pages == 0) {
                rapidjson::Document d;
                d.Parse(json->c_str(), json->size());
                if (d.HasParseError() || !d.IsObject() || !d["records"].IsArray() || !d["has_more"].IsBool()) {
                    tally.error("pull: bad JSON: " + json->substr(0, 200));
                    return -1;
                }
            }
            ++*pages;
            int64_t n = 0;
            // An observation's change_id is its "version" ("form_version" and
            // "current_version" do not match the quoted key).
            const std::string kCid = o.observations ? "\"version\":" : "\"change_id\":";
            // memmem, not std::string::find: find() stops at every '"' of the page (a
            // memchr for the first byte, then a compare), about 60,000 times a page,
            // which made the client a noticeable share of one client's page time.
            const char* const end = json->data() + json->size();
            for (const char* p = json->data();
                 (p = static_cast<const char*>(memmem(p, static_cast<size_t>(end - p), kCid.data(), kCid.size())));
                 p += kCid.size()) {
                int64_t cid = strtoll(p + kCid.size(), nullptr, 10);
                if (cid <= *last_seen) tally.error("pull: change_id went backwards");  // pages must continue exactly
                *last_seen = cid;
                ++n;
            }
            auto field = [&](const std::string& k) {
                auto p = json->rfind("\"" + k + "\":");
                return p == std::string::npos ? std::string() : json->substr(p + k.size() + 3, 64);
            };
            if (field("has_more").rfind("true", 0) == 0) {
                std::string t = field("next_page_token");
                auto p = json->rfind("\"next_page_token\":\"");
                if (t.empty() || p == std::string::npos) {
                    tally.error("pull: has_more without next_page_token");
                    return -1;
                }
                p += 19;
                *token = json->substr(p, json->find('"', p) - p);
                *after = strtoll(field("change_cutoff").c_str(), nullptr, 10);
            } else {  // end of the table: start over
                token->clear();
                *after = 0;
                *last_seen = 0;
            }
            return n;
        };
    });
}

// The statements POST /sync/pull runs (db/sync_repository.cpp), replayed directly:
// what the database part of a pull costs, without HTTP, FastCGI or JSON.
void mode_db_select_server_sql(const Options& o) {
    int64_t top = max_change_id(o);
    run_timed(o, "records/s", [&](int t, Tally&) {
        auto c = std::shared_ptr<sql::Connection>(db_connect(o));
        auto counter = std::shared_ptr<sql::PreparedStatement>(
            c->prepareStatement("SELECT last_change_id FROM sync_counter WHERE id = 1"));
        auto ps = std::shared_ptr<sql::PreparedStatement>(c->prepareStatement(
            std::string(kPullCols) + "sync_records WHERE change_id > ? AND change_id <= ? ORDER BY change_id LIMIT ?"));
        auto after = std::make_shared<int64_t>(top * t / o.clients);
        return [&, c, counter, ps, after](int64_t& bytes) -> int64_t {
            std::unique_ptr<sql::Statement> st(c->createStatement());
            st->execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY");
            int64_t cutoff;
            {
                std::unique_ptr<sql::ResultSet> rs(counter->executeQuery());
                rs->next();
                cutoff = rs->getInt64(1);
            }
            ps->setInt64(1, *after);
            ps->setInt64(2, cutoff);
            ps->setInt(3, o.limit + 1);
            std::unique_ptr<sql::ResultSet> rs(ps->executeQuery());
            int64_t n = 0;
            while (rs->next() && n < o.limit) {
                std::string s[10];
                for (int i = 0; i < 10; ++i) s[i] = rs->getString(i + 1);
                bytes += static_cast<int64_t>(s[3].size());
                *after = rs->getInt64(7);
                ++n;
            }
            rs.reset();
            st->execute("COMMIT");
            if (n < o.limit) *after = 0;
            return n;
        };
    });
}

void mode_db_select(const Options& o) {
    if (o.server_sql) return mode_db_select_server_sql(o);
    int64_t top = max_change_id(o);
    run_timed(o, "records/s", [&](int t, Tally&) {
        auto c = std::shared_ptr<sql::Connection>(db_connect(o));
        auto ps = std::shared_ptr<sql::PreparedStatement>(c->prepareStatement(
            std::string(kPullCols) + o.table + " WHERE change_id > ? ORDER BY change_id LIMIT ?"));
        auto after = std::make_shared<int64_t>(top * t / o.clients);
        return [&, c, ps, after](int64_t& bytes) -> int64_t {
            ps->setInt64(1, *after);
            ps->setInt(2, o.limit);
            std::unique_ptr<sql::ResultSet> rs(ps->executeQuery());
            int64_t n = 0;
            while (rs->next()) {  // read every column, as the server does
                std::string s[10];
                for (int i = 0; i < 10; ++i) s[i] = rs->getString(i + 1);
                bytes += static_cast<int64_t>(s[3].size());
                *after = rs->getInt64(7);
                ++n;
            }
            if (n < o.limit) *after = 0;
            return n;
        };
    });
}

// The statements POST /sync/push runs for a batch of new records (db/sync_repository.cpp),
// replayed directly into sync_records: what the database part of a push costs,
// without HTTP, FastCGI, JSON parsing or hashing.
void mode_db_insert_server_sql(const Options& o) {
    // The server's own statements (db/statements.cpp): its FOR UPDATE lookup is the
    // smallest size that holds the batch, padded.
    size_t chunk = db::kSyncLockSizes[std::size(db::kSyncLockSizes) - 1];
    for (size_t n : db::kSyncLockSizes)
        if (n >= static_cast<size_t>(o.batch)) {
            chunk = n;
            break;
        }
    run_timed(o, "records/s", [&](int t, Tally&) {
        auto c = std::shared_ptr<sql::Connection>(db_connect(o));
        c->setAutoCommit(false);
        std::unique_ptr<sql::Statement> st(c->createStatement());
        st->execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ");
        auto prep = [&](const std::string& q) { return std::shared_ptr<sql::PreparedStatement>(c->prepareStatement(q)); };
        const auto server = [&](db::Stmt id) { return prep(db::statement_sql(id)); };
        auto tx_ins = server(db::Stmt::SYNC_TX_INS);
        auto lock = server(db::Stmt::SYNC_COUNTER_LOCK);
        auto sel = server(db::sync_stmt(db::SyncBatch::lock, chunk));
        std::map<int, std::shared_ptr<sql::PreparedStatement>> upsert;
        for (size_t b : db::kSyncUpsertSizes) upsert[static_cast<int>(b)] = server(db::sync_stmt(db::SyncBatch::upsert, b));
        auto add = server(db::Stmt::SYNC_COUNTER_ADD);
        auto counts = server(db::Stmt::RECORD_COUNTS_ADD);
        auto set = server(db::Stmt::SYNC_TX_SET_RESPONSE);
        auto rng = std::make_shared<Rng>(seed_from_time(200 + t));
        std::string client_id = "bench-sql-" + std::to_string(t);
        auto seq = std::make_shared<int64_t>(0);
        return [&, c, tx_ins, lock, sel, upsert, add, counts, set, rng, client_id, seq](int64_t& bytes) -> int64_t {
            std::vector<std::string> rid(static_cast<size_t>(o.batch)), data(rid.size()), hash(rid.size());
            for (size_t i = 0; i < rid.size(); ++i) {  // prepared before the transaction, as the server does
                rid[i] = rng->uuid();
                data[i] = record_data(*rng, ++*seq);
                hash[i] = domain::record_hash_canonical(data[i], kSchemaType, kSchemaVersion);
                bytes += static_cast<int64_t>(data[i].size());
            }
            std::string txid = rng->uuid(), now = sql_now();
            tx_ins->setString(1, txid);
            tx_ins->setString(2, std::string(64, 'f'));
            tx_ins->setInt64(3, time(nullptr) + 86400);
            tx_ins->executeUpdate();
            int64_t counter;
            {
                std::unique_ptr<sql::ResultSet> rs(lock->executeQuery());
                rs->next();
                counter = rs->getInt64(1);
            }
            for (size_t off = 0; off < rid.size(); off += chunk) {
                size_t n = std::min<size_t>(chunk, rid.size() - off);
                for (size_t i = 0; i < static_cast<size_t>(chunk); ++i)
                    sel->setString(static_cast<unsigned>(i + 1), i < n ? rid[off + i] : "");
                std::unique_ptr<sql::ResultSet> rs(sel->executeQuery());
                while (rs->next()) {
                }
            }
            size_t done = 0;
            for (int b : {100, 25, 5, 1}) {  // db::kSyncUpsertSizes, largest first, as the server splits
                while (rid.size() - done >= static_cast<size_t>(b)) {
                    auto& ps = *upsert.at(b);
                    unsigned p = 1;
                    for (int i = 0; i < b; ++i, ++done) {
                        ps.setString(p++, rid[done]);
                        ps.setString(p++, kSchemaType);
                        ps.setString(p++, kSchemaVersion);
                        ps.setString(p++, data[done]);
                        ps.setString(p++, hash[done]);
                        ps.setInt(p++, 0);
                        ps.setInt64(p++, ++counter);
                        ps.setString(p++, now);
                        ps.setString(p++, o.user);
                        ps.setString(p++, client_id);
                        for (int k = 0; k < 3; ++k) ps.setNull(p++, sql::DataType::VARCHAR);  // observation fields
                    }
                    ps.executeUpdate();
                }
            }
            counts->setString(1, kSchemaType);  // the overview's record counts (domain/record_counts.h)
            counts->setInt(2, 0);
            counts->setInt64(3, o.batch);
            counts->executeUpdate();
            add->setInt64(1, counter);
            add->executeUpdate();
            set->setString(1, "{\"server_time\":\"2026-11-28T21:09:34.000Z\",\"current_version\":" + std::to_string(counter) +
                                  ",\"success_count\":" +
                                  std::to_string(o.batch) + ",\"failed_records\":[],\"warnings\":[]}");
            set->setString(2, txid);
            set->executeUpdate();
            c->commit();
            return o.batch;
        };
    });
}

void mode_db_insert(const Options& o) {
    if (o.server_sql) return mode_db_insert_server_sql(o);
    std::atomic<int64_t> next_change{max_change_id(o)};
    run_timed(o, "records/s", [&](int t, Tally&) {
        auto c = std::shared_ptr<sql::Connection>(db_connect(o));
        auto ps = std::shared_ptr<sql::PreparedStatement>(c->prepareStatement(
            "INSERT INTO " + o.table +
            " (id, schema_type, schema_version, data, hash, deleted, change_id, last_modified, last_modified_by, "
            "origin_client_id) VALUES " + placeholders(o.batch)));
        auto rng = std::make_shared<Rng>(seed_from_time(100 + t));
        std::string client_id = "bench-db-" + std::to_string(t);
        auto seq = std::make_shared<int64_t>(0);
        return [&, c, ps, rng, client_id, seq](int64_t& bytes) -> int64_t {
            std::string now = sql_now();
            int64_t first = next_change.fetch_add(o.batch) + 1;
            unsigned p = 1;
            for (int i = 0; i < o.batch; ++i) {
                std::string data = record_data(*rng, ++*seq);
                bytes += static_cast<int64_t>(data.size());
                ps->setString(p++, rng->uuid());
                ps->setString(p++, kSchemaType);
                ps->setString(p++, kSchemaVersion);
                ps->setString(p++, data);
                ps->setString(p++, domain::record_hash_canonical(data, kSchemaType, kSchemaVersion));
                ps->setInt(p++, 0);
                ps->setInt64(p++, first + i);
                ps->setString(p++, now);
                ps->setString(p++, o.user);
                ps->setString(p++, client_id);
            }
            ps->executeUpdate();  // autocommit: one transaction per batch, as one push is
            return o.batch;
        };
    });
}

void mode_get(const Options& o) {
    run_timed(o, "requests/s", [&](int, Tally& tally) {
        auto conn = std::make_shared<HttpsConn>(o.host, o.port);
        std::string head = request_head(o, "GET", o.path, 0, o.headers);
        return [&, conn, head](int64_t& bytes) -> int64_t {
            HttpResponse r;
            std::string err;
            if (!conn->request(head, "", r, err)) {
                tally.error("get: " + err);
                return -1;
            }
            if (r.status != o.expect) {
                tally.error("get " + o.path + ": HTTP " + std::to_string(r.status) + " (expected " +
                            std::to_string(o.expect) + ") " + r.body.substr(0, 300));
                return -1;
            }
            bytes = static_cast<int64_t>(r.body.size());
            return 1;
        };
    });
}

std::string random_payload(int64_t size) {
    Rng rng(seed_from_time(99));
    std::string p(static_cast<size_t>(size), '\0');
    for (size_t i = 0; i + 8 <= p.size(); i += 8) {
        uint64_t v = rng.next();
        memcpy(&p[i], &v, 8);
    }
    return p;
}

// The same bytes under a new id each time: the server receives, hashes, writes,
// fsyncs and renames the whole file on every request (its content-addressed file is
// replaced, so the disk does not fill up).
void mode_upload(const Options& o) {
    const std::string boundary = "bench7d0c1a0e0b7e4c39";
    const std::string body = "--" + boundary +
                             "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"b.bin\"\r\n"
                             "Content-Type: application/octet-stream\r\n\r\n" +
                             random_payload(o.size) + "\r\n--" + boundary + "--\r\n";
    run_timed(o, "uploads/s", [&](int t, Tally& tally) {
        auto conn = std::make_shared<HttpsConn>(o.host, o.port);
        auto rng = std::make_shared<Rng>(seed_from_time(t));
        auto own = std::make_shared<std::string>(body);
        const size_t payload_at = body.find("\r\n\r\n") + 4;
        return [&, conn, rng, own, payload_at](int64_t& bytes) -> int64_t {
            if (o.distinct) {  // the first 16 bytes of the file differ from upload to upload
                uint64_t a = rng->next(), b = rng->next();
                memcpy(&(*own)[payload_at], &a, 8);
                memcpy(&(*own)[payload_at + 8], &b, 8);
            }
            const std::string& body = *own;
            std::string head = "PUT /attachments/bench-" + rng->uuid() + ".bin HTTP/1.1\r\nHost: localhost\r\n"
                               "Authorization: Bearer " + o.token + "\r\n"
                               "Content-Type: multipart/form-data; boundary=" + boundary + "\r\n"
                               "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
            HttpResponse r;
            std::string err;
            if (!conn->request(head, body, r, err)) {
                tally.error("upload: " + err);
                return -1;
            }
            if (r.status != 200) {
                tally.error("upload: HTTP " + std::to_string(r.status) + " " + r.body.substr(0, 300));
                return -1;
            }
            bytes = static_cast<int64_t>(body.size());
            return 1;
        };
    });
}

// What storing an upload costs the disk alone: the bytes written in 64 KiB chunks
// (as the server receives them) to a new file, fsynced, renamed into place, the
// directory fsynced. With --db-row, also what recording it costs the database alone:
// one row (id, hash, size, type) INSERTed and committed on the client's own
// connection, after the file is durable, as the server orders the two.
void mode_disk_write(const Options& o) {
    if (o.dir.empty()) die("disk-write needs --dir");
    const std::string payload = random_payload(o.size);
    run_timed(o, "uploads/s", [&](int t, Tally& tally) {
        std::shared_ptr<sql::Connection> c;
        std::shared_ptr<sql::PreparedStatement> ins;
        if (o.db_row) {
            c.reset(db_connect(o).release());
            ins.reset(c->prepareStatement("INSERT INTO " + o.table +
                                          " (id, sha256, size, content_type) VALUES (?, ?, ?, 'application/octet-stream')"));
        }
        auto rng = std::make_shared<Rng>(seed_from_time(300 + t));
        return [&, t, c, ins, rng](int64_t& bytes) -> int64_t {
            const std::string tmp = o.dir + "/tmp-" + std::to_string(t), dest = o.dir + "/file-" + std::to_string(t);
            int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (fd < 0) {
                tally.error("disk-write: open " + tmp + ": " + strerror(errno));
                return -1;
            }
            try {
                for (size_t off = 0; off < payload.size(); off += 65536)
                    core::write_all(fd, payload.data() + off, std::min<size_t>(65536, payload.size() - off), tmp);
            } catch (const std::exception& e) {
                ::close(fd);
                tally.error(std::string("disk-write: ") + e.what());
                return -1;
            }
            bool ok = ::fsync(fd) == 0;
            ::close(fd);
            ok = ok && ::rename(tmp.c_str(), dest.c_str()) == 0;
            if (!ok) {
                tally.error("disk-write: " + std::string(strerror(errno)));
                return -1;
            }
            core::fsync_dir(o.dir);
            if (ins) {
                ins->setString(1, "bench-" + rng->uuid());
                ins->setString(2, std::string(64, 'a'));
                ins->setInt64(3, static_cast<int64_t>(payload.size()));
                ins->executeUpdate();  // autocommit: one committed transaction per file
            }
            bytes = static_cast<int64_t>(payload.size());
            return 1;
        };
    });
}

// Rows exactly like pushed ones (canonical data, the record hash, the counter raised
// in the same transaction), inserted in large multi-row statements.
void mode_seed(const Options& o) {
    auto c = db_connect(o);
    c->setAutoCommit(false);
    std::unique_ptr<sql::Statement> st(c->createStatement());
    int64_t base;
    {
        std::unique_ptr<sql::ResultSet> rs(
            st->executeQuery("SELECT last_change_id FROM sync_counter WHERE id = 1 FOR UPDATE"));
        if (!rs->next()) die("sync_counter has no row");
        base = rs->getInt64(1);
    }
    const int batch = 500;
    std::unique_ptr<sql::PreparedStatement> ps(c->prepareStatement(
        "INSERT INTO sync_records (id, schema_type, schema_version, data, hash, deleted, change_id, last_modified, "
        "last_modified_by, origin_client_id) VALUES " + placeholders(batch)));
    Rng rng(seed_from_time(999));
    std::string now = sql_now();
    auto t0 = Clock::now();
    int64_t done = 0;
    while (done < o.count) {
        unsigned p = 1;
        for (int i = 0; i < batch; ++i) {
            int64_t n = done + i;
            std::string data = record_data(rng, n);
            ps->setString(p++, rng.uuid());
            ps->setString(p++, kSchemaType);
            ps->setString(p++, kSchemaVersion);
            ps->setString(p++, data);
            ps->setString(p++, domain::record_hash_canonical(data, kSchemaType, kSchemaVersion));
            ps->setInt(p++, 0);
            ps->setInt64(p++, base + n + 1);
            ps->setString(p++, now);
            ps->setString(p++, o.user);
            ps->setString(p++, "bench-seed");
        }
        ps->executeUpdate();
        done += batch;
        if (done % 20000 == 0) c->commit();
    }
    std::unique_ptr<sql::PreparedStatement> up(
        c->prepareStatement("UPDATE sync_counter SET last_change_id = ? WHERE id = 1"));
    up->setInt64(1, base + done);
    up->executeUpdate();
    c->commit();
    printf("seeded=%" PRId64 " seconds=%.1f last_change_id=%" PRId64 "\n", done,
           std::chrono::duration<double>(Clock::now() - t0).count(), base + done);
}

}  // namespace

int main(int argc, char** argv) {
    Options o = parse_args(argc, argv);
    if (o.clients < 1 || o.batch < 1 || o.limit < 1) die("clients, batch and limit must be positive");
    check_canonical();
    init_tls();
    try {
        if (o.mode == "push") mode_push(o);
        else if (o.mode == "pull") mode_pull(o);
        else if (o.mode == "db-insert") mode_db_insert(o);
        else if (o.mode == "db-select") mode_db_select(o);
        else if (o.mode == "get") mode_get(o);
        else if (o.mode == "upload") mode_upload(o);
        else if (o.mode == "disk-write") mode_disk_write(o);
        else if (o.mode == "seed") mode_seed(o);
        else die("unknown mode " + o.mode);
    } catch (const sql::SQLException& e) {
        die(std::string("database: ") + e.what());
    }
    return 0;
}
