// The parts every file store is built from (the app bundle store, the attachment
// store): a temporary file that is hashed as it is written and published by
// fsync + rename, directories whose mode the umask does not decide, removal by
// rename-then-delete. Errors are std::runtime_error with the path and errno text,
// for the log only (never for a client).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "core/crypto.h"

namespace core {

// The filesystem is full (ENOSPC, EDQUOT): nothing the client did wrong, nothing it
// can fix; the store stays as it was and the request may be retried once an
// administrator has freed space.
class StorageFull : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Throws StorageFull when errno says the disk is full, else std::runtime_error;
// either names `what` and errno's text.
[[noreturn]] void throw_errno(const std::string& what);

// How long a store keeps a file after no record names it any more: a download the
// server authorized just before is handed to nginx within milliseconds, and once
// nginx has opened the file, removing it does not cut the transfer.
constexpr int64_t kRetiredFileGraceSeconds = 30;

// Writes all n bytes, across short writes and EINTR.
void write_all(int fd, const char* data, size_t n, const std::string& what);

// Creates a directory (0755 whatever the umask, so nginx can read it); an existing
// one is fine.
void make_dir(const std::string& path);
// fsync of a directory, so a rename into it survives a crash.
void fsync_dir(const std::string& path);
// Flushes everything written on the filesystem of `path` (one call for a whole tree).
void sync_filesystem_of(const std::string& path);
bool path_exists(const std::string& path);
bool is_directory(const std::string& path);
// The SHA-256 (lowercase hex) and size of a regular file; false when it is missing,
// not a regular file or unreadable.
bool hash_file(const std::string& path, std::string& sha256_hex, uint64_t& size);
// dir + "/" + prefix + owner_tag() + 16 random hex digits + suffix. The owner tag
// lets sweep_dead_owners() tell a dead process's leftovers from live uploads.
std::string random_name(const std::string& dir, const std::string& prefix, const std::string& suffix = {});
// "<host>.<pid>." of the calling process.
std::string owner_tag();
// Removes a file or tree: first renamed into tmp_dir so it vanishes from its place at
// once (another process may be doing the same: a missing path is fine), then deleted.
void remove_tree(const std::string& path, const std::string& tmp_dir);
// Removes entries of `dir` not modified for `older_than_s` seconds (leftovers of
// processes that died mid-upload).
void sweep_stale(const std::string& dir, int64_t older_than_s);
// Removes entries of `dir` (named by random_name) whose owner was a process of this
// host that no longer runs: what a worker killed mid-upload left behind. Entries of
// live processes and of other hosts (a shared store) are left alone; sweep_stale
// bounds those. Returns how many were removed.
int sweep_dead_owners(const std::string& dir);

// Deletes a path (file or tree) on scope exit unless released.
class TempGuard {
public:
    explicit TempGuard(std::string path) : path_(std::move(path)) {}
    ~TempGuard();
    TempGuard(const TempGuard&) = delete;
    TempGuard& operator=(const TempGuard&) = delete;
    void release() { path_.clear(); }

private:
    std::string path_;
};

// Whether a file created 0644 under `umask` lacks a bit of 0644, so needs fchmod to
// be readable by nginx; true for an unknown umask (-1).
bool umask_takes_from_0644(int umask);

// Which file a path names (device, inode and the inode's change time): tells the
// file one made from another put at the same path since.
struct FileId {
    uint64_t dev = 0, ino = 0;
    int64_t ctime_ns = 0;
    bool operator==(const FileId& o) const { return dev == o.dev && ino == o.ino && ctime_ns == o.ctime_ns; }
    bool operator!=(const FileId& o) const { return !(*this == o); }
};
// nullopt when nothing is at `path`.
std::optional<FileId> file_id(const std::string& path);

// A file being received into a temporary directory on the store's filesystem,
// hashed (SHA-256) and counted as it is written. Removed on destruction unless
// publish() moved it into place.
class TempFile {
public:
    TempFile(const std::string& tmp_dir, const std::string& prefix, const std::string& suffix = {});
    // A file with no name at all (O_TMPFILE in tmp_dir) until link_durably() gives it
    // its final one (issue 18): no name to make (no owner tag, no random digits), none
    // to remove afterwards, and nothing left in tmp_dir when the process dies. Where
    // the filesystem has no O_TMPFILE (or /proc is not mounted, whose
    // /proc/self/fd/N linkat needs), a named file as above. The rare paths that need
    // a name (publish(), a second link after the first name was removed) copy the
    // bytes into a named file in tmp_dir first.
    struct Unnamed {};
    TempFile(const std::string& tmp_dir, const std::string& prefix, Unnamed);
    ~TempFile();
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;

    void write(const char* data, size_t n);
    uint64_t size() const { return size_; }
    // Empty while the file has no name (unnamed()).
    const std::string& path() const { return path_; }
    bool unnamed() const { return unnamed_; }
    // The hash of everything written; no more writes (a named file is closed, an
    // unnamed one stays open until it is linked).
    const std::string& sha256_hex();
    void close();
    // fsync of everything written (reopening the file when closed), so that a later
    // publish() only renames: a caller about to take a lock does the slow part first.
    void sync();
    // fsync (unless sync() did), then rename to `dest` and fsync dest's directory: the bytes are durable
    // before the name appears, and the name before this returns. rename replaces an
    // existing `dest` atomically.
    void publish(const std::string& dest);
    // Gives the synced file a second name `dest` (a hard link; the temporary name
    // goes with this object) and fsyncs dest's directory, so `dest` is durable when
    // this returns. An existing `dest` is kept as it is (for content-addressed names
    // it holds the same bytes) and made durable the same way. Returns what `dest`
    // names then; nullopt when the filesystem has no hard links (publish() instead).
    // `existed` (when given) tells whether `dest` was there before.
    std::optional<FileId> link_durably(const std::string& dest, bool* existed = nullptr);
    // The file is someone else's now (moved away by the caller); do not remove it.
    void release() { path_.clear(); }

private:
    void open_named(const std::string& tmp_dir, const std::string& prefix, const std::string& suffix);
    // An unnamed file becomes a named one in tmp_dir with the same bytes, fsynced.
    void take_a_name();
    std::string what() const;  // for error messages

    std::string path_;
    std::string tmp_dir_, prefix_;
    bool unnamed_ = false;
    bool finished_ = false;  // sha256_hex() was called
    int fd_ = -1;
    uint64_t size_ = 0;
    bool synced_ = false;
    Sha256 sha_;
    std::string hex_;
};

}  // namespace core
