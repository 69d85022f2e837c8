#include "core/files.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include "core/log.h"
#include "core/time_util.h"

namespace core {

namespace fs = std::filesystem;

void throw_errno(const std::string& what) {
    const int e = errno;
    std::string text = what + ": " + std::strerror(e);
    if (e == ENOSPC || e == EDQUOT) throw StorageFull(text);
    throw std::runtime_error(text);
}

namespace {

[[noreturn]] void fail(const std::string& what) { throw_errno(what); }

std::string parent_of(const std::string& path) {
    size_t slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

void write_all(int fd, const char* data, size_t n, const std::string& what) {
    while (n > 0) {
        ssize_t w = ::write(fd, data, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            fail("writing " + what);
        }
        data += w;
        n -= static_cast<size_t>(w);
    }
}

void make_dir(const std::string& path) {
    if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) fail("creating " + path);
    ::chmod(path.c_str(), 0755);
}

namespace {

void sync_directory(const std::string& path, int (*sync)(int)) {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) fail("opening " + path);
    int rc = sync(fd);
    ::close(fd);
    if (rc != 0) fail("syncing " + path);
}

}  // namespace

void fsync_dir(const std::string& path) { sync_directory(path, ::fsync); }

void sync_filesystem_of(const std::string& path) { sync_directory(path, ::syncfs); }

bool path_exists(const std::string& path) {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
}

bool is_directory(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool hash_file(const std::string& path, std::string& sha256_hex, uint64_t& size) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return false;
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return false;
    }
    Sha256 sha;
    std::vector<char> buf(64 * 1024);
    size = 0;
    for (;;) {
        ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            ::close(fd);
            return false;
        }
        if (n == 0) break;
        sha.update(buf.data(), static_cast<size_t>(n));
        size += static_cast<uint64_t>(n);
    }
    ::close(fd);
    sha256_hex = sha.final_hex();
    return true;
}

std::string owner_tag() {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0 || !host[0]) std::strcpy(host, "localhost");
    // Dots separate the fields; a host name's own dots would make it ambiguous.
    std::string h = host;
    for (char& c : h)
        if (c == '.' || c == '/') c = '_';
    return h + "." + std::to_string(::getpid()) + ".";
}

std::string random_name(const std::string& dir, const std::string& prefix, const std::string& suffix) {
    return dir + "/" + prefix + owner_tag() + hex_encode(random_bytes(8)) + suffix;
}

void remove_tree(const std::string& path, const std::string& tmp_dir) {
    if (!path_exists(path)) return;
    std::string doomed = random_name(tmp_dir, "gone-");
    if (::rename(path.c_str(), doomed.c_str()) != 0) {
        if (errno == ENOENT) return;  // another worker got there first
        fail("moving away " + path);
    }
    std::error_code ec;
    fs::remove_all(doomed, ec);
    if (ec) log::warn("could not remove " + doomed + ": " + ec.message());
}

void sweep_stale(const std::string& dir, int64_t older_than_s) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return;
    const int64_t cutoff = unix_now() - older_than_s;
    std::vector<std::string> stale;
    while (dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n == "." || n == "..") continue;
        struct stat st;
        if (::lstat((dir + "/" + n).c_str(), &st) == 0 && st.st_mtime < cutoff) stale.push_back(n);
    }
    ::closedir(d);
    for (const auto& n : stale) {
        std::error_code ec;
        fs::remove_all(dir + "/" + n, ec);
    }
}

int sweep_dead_owners(const std::string& dir) {
    std::string mine = owner_tag();
    const std::string host = mine.substr(0, mine.find('.') + 1);  // "<host>."
    DIR* d = ::opendir(dir.c_str());
    if (!d) return 0;
    std::vector<std::string> dead;
    while (dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        // "<prefix><host>.<pid>.<hex>[suffix]"; the prefix has no dot.
        size_t at = n.find(host);
        if (at == std::string::npos || n.find('.') < at) continue;
        size_t pid_start = at + host.size(), pid_end = n.find('.', pid_start);
        if (pid_end == std::string::npos || pid_end == pid_start) continue;
        std::string pid_text = n.substr(pid_start, pid_end - pid_start);
        if (pid_text.find_first_not_of("0123456789") != std::string::npos || pid_text.size() > 9) continue;
        pid_t pid = static_cast<pid_t>(std::stol(pid_text));
        if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
        dead.push_back(n);
    }
    ::closedir(d);
    for (const auto& n : dead) {
        std::error_code ec;
        fs::remove_all(dir + "/" + n, ec);
        if (ec) log::warn("could not remove " + dir + "/" + n + ": " + ec.message());
    }
    if (!dead.empty()) log::info("removed " + std::to_string(dead.size()) + " leftover(s) of dead workers from " + dir);
    return static_cast<int>(dead.size());
}

TempGuard::~TempGuard() {
    if (path_.empty()) return;
    std::error_code ec;
    fs::remove_all(path_, ec);
}

namespace {

// The umask of this process, read once from /proc (umask(2) can only read it by
// setting it, which is not safe beside other threads); -1 when unknown. Nothing in
// this program changes its umask after start, and a fork inherits it.
int process_umask() {
    static const int mask = [] {
        int m = -1;
        if (FILE* f = std::fopen("/proc/self/status", "re")) {
            char line[256];
            while (std::fgets(line, sizeof line, f))
                if (std::strncmp(line, "Umask:", 6) == 0) {
                    m = static_cast<int>(std::strtol(line + 6, nullptr, 8));
                    break;
                }
            std::fclose(f);
        }
        return m;
    }();
    return mask;
}

// nginx reads published files, so they are 0644 whatever the umask: fchmod only when
// the umask took a bit of 0644 away (or is unknown), not on every file (issue 18).
void make_world_readable(int fd) {
    if (umask_takes_from_0644(process_umask())) ::fchmod(fd, 0644);
}

// linkat() of an unnamed file names it through /proc/self/fd/N (AT_EMPTY_PATH would
// need CAP_DAC_READ_SEARCH).
bool proc_fd_usable() {
    static const bool ok = ::access("/proc/self/fd", X_OK) == 0;
    return ok;
}

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

// An upload that loses the unnamed file's path still works, at the old price: each
// such fallback is said once per process (`said` is its own flag), so an admin (and
// the systemd test) sees that the hardening or the filesystem took it away.
void warn_once(bool& said, const std::string& what) {
    if (said) return;
    said = true;
    log::warn(what);
}
bool g_said_named = false, g_said_renamed = false;

}  // namespace

bool umask_takes_from_0644(int umask) { return umask < 0 || (umask & 0644) != 0; }

TempFile::TempFile(const std::string& tmp_dir, const std::string& prefix, const std::string& suffix) {
    open_named(tmp_dir, prefix, suffix);
}

TempFile::TempFile(const std::string& tmp_dir, const std::string& prefix, Unnamed) : tmp_dir_(tmp_dir), prefix_(prefix) {
    if (proc_fd_usable()) {
        // O_RDWR: take_a_name() reads the bytes back. Without O_EXCL, so linkat may name it.
        fd_ = ::open(tmp_dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
        if (fd_ >= 0) {
            unnamed_ = true;
            make_world_readable(fd_);
            return;
        }
        // No O_TMPFILE on this filesystem (or kernel): a named file.
        const int err = errno;
        if (err != EOPNOTSUPP && err != EISDIR && err != EINVAL) fail("creating a file in " + tmp_dir);
        warn_once(g_said_named, "uploads use named temporary files (O_TMPFILE in " + tmp_dir + ": " +
                                    std::strerror(err) + ")");
    } else {
        warn_once(g_said_named, "uploads use named temporary files (/proc/self/fd is not readable)");
    }
    open_named(tmp_dir, prefix, {});
}

void TempFile::open_named(const std::string& tmp_dir, const std::string& prefix, const std::string& suffix) {
    tmp_dir_ = tmp_dir;
    prefix_ = prefix;
    path_ = random_name(tmp_dir, prefix, suffix);
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0) {
        std::string p = path_;
        path_.clear();
        fail("creating " + p);
    }
    make_world_readable(fd_);
}

std::string TempFile::what() const { return unnamed_ ? "an unnamed file in " + tmp_dir_ : path_; }

TempFile::~TempFile() {
    close();
    if (!path_.empty()) ::unlink(path_.c_str());
}

void TempFile::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

void TempFile::write(const char* data, size_t n) {
    if (fd_ < 0 || finished_) throw std::logic_error("write to a closed temporary file");
    synced_ = false;
    sha_.update(data, n);
    size_ += n;
    write_all(fd_, data, n, what());
}

const std::string& TempFile::sha256_hex() {
    if (!finished_) {
        finished_ = true;
        if (!unnamed_) close();  // an unnamed file is only reachable through its descriptor
        hex_ = sha_.final_hex();
    }
    return hex_;
}

void TempFile::sync() {
    if (synced_) return;
    if (fd_ >= 0) {
        if (::fsync(fd_) != 0) fail("syncing " + what());
    } else {
        int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) fail("opening " + path_);
        int rc = ::fsync(fd);
        ::close(fd);
        if (rc != 0) fail("syncing " + path_);
    }
    synced_ = true;
}

void TempFile::take_a_name() {
    const std::string p = random_name(tmp_dir_, prefix_);
    int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) fail("creating " + p);
    try {
        make_world_readable(fd);
        std::vector<char> buf(64 * 1024);
        for (off_t off = 0;;) {
            ssize_t n = ::pread(fd_, buf.data(), buf.size(), off);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) fail("reading " + what());
            if (n == 0) break;
            write_all(fd, buf.data(), static_cast<size_t>(n), p);
            off += n;
        }
        if (::fsync(fd) != 0) fail("syncing " + p);
    } catch (...) {
        ::close(fd);
        ::unlink(p.c_str());
        throw;
    }
    close();  // the unnamed file goes with its descriptor
    fd_ = fd;
    path_ = p;
    unnamed_ = false;
    synced_ = true;
    if (finished_) close();  // as a named file would be after sha256_hex()
}

std::optional<FileId> file_id(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return std::nullopt;
        fail("reading " + path);
    }
    return FileId{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                  static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec};
}

std::optional<FileId> TempFile::link_durably(const std::string& dest, bool* existed) {
    sync();
    // The name may be gone by the time it is read: retention removed it (a retired file
    // past its grace period, whether the name was there before, EEXIST, or just made by
    // this link) between the link and the stat; it does so under the counter lock, which
    // this upload does not hold yet. This upload's bytes are still here (its descriptor),
    // so it links again; retention removes a name once per retirement, which needs the
    // lock and 30 s of grace, so a few tries always do.
    for (int attempt = 1;; ++attempt) {
        if (existed) *existed = false;
        int rc;
        if (unnamed_) {
            rc = ::linkat(AT_FDCWD, fd_path(fd_).c_str(), AT_FDCWD, dest.c_str(), AT_SYMLINK_FOLLOW);
            // Linked before, and that name removed since (retention): an inode that had a
            // name and has none can not be linked again (ENOENT). Its bytes are still
            // here: into a named file, and that is linked.
            struct stat st;
            if (rc != 0 && errno == ENOENT && ::fstat(fd_, &st) == 0 && st.st_nlink == 0) {
                take_a_name();
                rc = ::link(path_.c_str(), dest.c_str());
            }
        } else {
            rc = ::link(path_.c_str(), dest.c_str());
        }
        if (rc != 0) {
            if (errno == EPERM || errno == ENOTSUP || errno == EOPNOTSUPP || errno == EMLINK || errno == EXDEV) {
                const int err = errno;
                warn_once(g_said_renamed, "uploads are renamed into place under the lock (linking " + dest + ": " +
                                              std::strerror(err) + ")");
                return std::nullopt;
            }
            if (errno != EEXIST) fail("linking " + dest);
            if (existed) *existed = true;
        }
        // Read at once, then made durable: a name removed after this read is the
        // caller's to notice (AttachmentStore::put compares it under the lock).
        if (auto id = file_id(dest)) {
            fsync_dir(parent_of(dest));
            return id;
        }
        if (attempt == 5) {
            errno = ENOENT;
            fail("linking " + dest + ": gone at once");
        }
    }
}

void TempFile::publish(const std::string& dest) {
    if (unnamed_) take_a_name();  // rename needs a name (a filesystem without hard links)
    sync();
    close();
    if (::rename(path_.c_str(), dest.c_str()) != 0) fail("publishing " + dest);
    path_.clear();
    fsync_dir(parent_of(dest));
}

}  // namespace core
