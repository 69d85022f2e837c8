// The one file store both stores are built on (the app bundle store, the attachment
// store): a root folder on one filesystem, its tmp/ for uploads and extractions in
// progress (every move into place is then an atomic rename), the sweeps that clear
// what dead or stalled uploads left there, and the check of a stored file against
// its recorded hash. The parts it uses are in core/files.h.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/files.h"

namespace services {

// How old an entry of tmp/ must be before sweep_stale() takes it for a leftover: far
// beyond any upload in progress (nginx sends a body within its timeouts).
constexpr int64_t kStaleUploadSeconds = 3600;

class FileStore {
public:
    explicit FileStore(std::string root);

    const std::string& root() const { return root_; }
    const std::string& tmp_dir() const { return tmp_dir_; }
    // root/`relative`
    std::string path(const std::string& relative) const { return root_ + "/" + relative; }

    // Makes the root, tmp/ and root/`folder` if missing.
    void make_dirs(const std::string& folder) const;
    // A file being received into tmp/, hashed as it is written; removed unless published.
    std::unique_ptr<core::TempFile> begin_upload(const std::string& prefix, const std::string& suffix = {}) const;
    // The same with no name in tmp/ until it is linked to its final name (O_TMPFILE
    // where the filesystem has it; core::TempFile::Unnamed).
    std::unique_ptr<core::TempFile> begin_unnamed_upload(const std::string& prefix) const;
    // A fresh directory in tmp/ (the caller guards it with core::TempGuard).
    std::string stage_dir(const std::string& prefix) const;
    // Removes a file or tree of the store (rename into tmp/, then delete).
    void remove(const std::string& path) const { core::remove_tree(path, tmp_dir_); }

    // What dead workers of this host left in tmp/ (a worker starting may be replacing
    // one killed mid-upload).
    void sweep_dead_owners() const;
    // Entries of tmp/ older than kStaleUploadSeconds (other hosts' dead workers).
    void sweep_stale() const;

    // Why the file at `path` is not the one recorded (missing, unreadable, another
    // size or hash), or nullopt when it is.
    static std::optional<std::string> verify(const std::string& path, const std::string& sha256, uint64_t size);

private:
    std::string root_;
    std::string tmp_dir_;
};

}  // namespace services
