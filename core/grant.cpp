#include "core/grant.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "core/crypto.h"
#include "core/log.h"

namespace core::grant {

namespace {

std::string& link_path() {
    static std::string path;
    return path;
}

// A generation directory no longer named by the link is removed only this long after
// it was made: nginx may be resolving the link to it at the moment it is replaced.
constexpr time_t kOldGenerationSeconds = 60;

std::string base_name(const std::string& p) {
    auto slash = p.rfind('/');
    return slash == std::string::npos ? p : p.substr(slash + 1);
}

void remove_old_generations(const std::string& dir, const std::string& prefix, const std::string& keep) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return;
    const time_t now = ::time(nullptr);
    while (dirent* e = ::readdir(d)) {
        const std::string name = e->d_name;
        if (name.compare(0, prefix.size(), prefix) != 0 || name == keep) continue;
        const std::string p = dir + "/" + name;
        struct stat st {};
        if (::lstat(p.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
        if (now - st.st_mtime < kOldGenerationSeconds) continue;
        ::rmdir(p.c_str());  // another worker's rmdir or a newer link may win: either is fine
    }
    ::closedir(d);
}

}  // namespace

Response token_answer(bool valid, int seconds) {
    Response r;
    r.status = 200;
    r.content_type = "text/plain";
    r.add_header(kGrantHeader, valid ? "yes" : "no");
    keep_for(r, seconds);
    return r;
}

Response file_answer(const std::string& internal_uri, const std::string& etag) {
    Response r;
    r.status = 200;
    r.content_type = "text/plain";
    r.add_header(kNextHeader, internal_uri);
    r.add_header(kEtagHeader, etag);
    return r;
}

Response worker_answer() {
    Response r;
    r.status = 200;
    r.content_type = "text/plain";
    return r;
}

bool is_file_answer(const Response& r) {
    for (const auto& [k, v] : r.headers)
        if (k == kNextHeader) return true;
    return false;
}

void keep_for(Response& r, int seconds) {
    r.add_header("X-Accel-Expires", std::to_string(seconds > 0 ? seconds : 0));
}

void set_generation_link(const std::string& path) { link_path() = path; }

void new_generation() {
    const std::string& link = link_path();
    if (link.empty()) return;
    // The generations are directories beside the link, named after it: nginx's realpath
    // of the link then reads four names (/run, the directory, the link, its target).
    const auto slash = link.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : link.substr(0, slash);
    const std::string prefix = base_name(link) + "-";
    const std::string name = prefix + hex_encode(random_bytes(8));
    const std::string tmp = link + ".new-" + name;
    auto fail = [&](const char* what) {
        log::warn(std::string("grant generation: ") + what + " failed (" + std::strerror(errno) +
                  "); nginx may keep answers given before the last change for up to grant_seconds + 1 s");
    };
    if (::mkdir((dir + "/" + name).c_str(), 0755) != 0) return fail("mkdir of a generation");
    // A relative target, so the link keeps working when its directory is moved or
    // bind-mounted elsewhere; rename() replaces the link in one step.
    if (::symlink(name.c_str(), tmp.c_str()) != 0) return fail("symlink");
    if (::rename(tmp.c_str(), link.c_str()) != 0) {
        const int e = errno;
        ::unlink(tmp.c_str());
        errno = e;
        return fail("rename over the generation link");
    }
    remove_old_generations(dir, prefix, name);
}

}  // namespace core::grant
