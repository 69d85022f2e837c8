#include "services/file_store.h"

namespace services {

FileStore::FileStore(std::string root) : root_(std::move(root)) {
    while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
    tmp_dir_ = root_ + "/tmp";
}

void FileStore::make_dirs(const std::string& folder) const {
    core::make_dir(root_);
    core::make_dir(tmp_dir_);
    core::make_dir(path(folder));
}

std::unique_ptr<core::TempFile> FileStore::begin_upload(const std::string& prefix, const std::string& suffix) const {
    return std::make_unique<core::TempFile>(tmp_dir_, prefix, suffix);
}

std::unique_ptr<core::TempFile> FileStore::begin_unnamed_upload(const std::string& prefix) const {
    return std::make_unique<core::TempFile>(tmp_dir_, prefix, core::TempFile::Unnamed{});
}

std::string FileStore::stage_dir(const std::string& prefix) const {
    core::make_dir(tmp_dir_);
    const std::string dir = core::random_name(tmp_dir_, prefix, ".d");
    core::make_dir(dir);
    return dir;
}

void FileStore::sweep_dead_owners() const { core::sweep_dead_owners(tmp_dir_); }

void FileStore::sweep_stale() const { core::sweep_stale(tmp_dir_, kStaleUploadSeconds); }

std::optional<std::string> FileStore::verify(const std::string& path, const std::string& sha256, uint64_t size) {
    std::string actual;
    uint64_t actual_size = 0;
    if (!core::hash_file(path, actual, actual_size)) return "file " + path + " is missing or unreadable";
    if (actual_size != size)
        return "file " + path + " has " + std::to_string(actual_size) + " bytes, not " + std::to_string(size);
    if (actual != sha256) return "file " + path + " does not have its SHA-256";
    return std::nullopt;
}

}  // namespace services
