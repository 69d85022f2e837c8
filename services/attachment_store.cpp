#include "services/attachment_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "core/crypto.h"
#include "core/log.h"

namespace services {

namespace {
constexpr int64_t kStaleTmpSeconds = 3600;
}

AttachmentStore::AttachmentStore(db::Database& db, std::string attachment_dir)
    : db_(db), repo_(db), dir_(std::move(attachment_dir)) {
    while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
    tmp_dir_ = dir_ + "/tmp";
    files_dir_ = dir_ + "/files";
}

std::string AttachmentStore::relative_path(const std::string& sha256) { return sha256.substr(0, 2) + "/" + sha256; }

std::string AttachmentStore::file_path(const std::string& sha256) const {
    return files_dir_ + "/" + relative_path(sha256);
}

std::unique_ptr<AttachmentUpload> AttachmentStore::begin_upload() {
    core::make_dir(dir_);
    core::make_dir(tmp_dir_);
    core::make_dir(files_dir_);
    return std::make_unique<AttachmentUpload>(tmp_dir_, "upload-");
}

AttachmentStore::PutResult AttachmentStore::put(const std::string& id, std::unique_ptr<AttachmentUpload> upload,
                                                const std::string& content_type, const std::string& by) {
    db::AttachmentRow row;
    row.attachment_id = id;
    row.sha256 = upload->sha256_hex();
    row.size = static_cast<int64_t>(upload->size());
    row.content_type = content_type;
    // The usual retry of a finished upload is answered without the counter lock.
    if (auto existing = repo_.find(id); existing && !existing->deleted)
        return existing->sha256 == row.sha256 ? PutResult::unchanged : PutResult::conflict;

    core::make_dir(files_dir_ + "/" + row.sha256.substr(0, 2));
    bool placed = false;
    auto place = [&] {
        if (placed) return;  // a retried transaction: the file is already there
        upload->publish(file_path(row.sha256));
        placed = true;
    };
    PutResult result = repo_.put(row, by, place);
    if (result == PutResult::stored)
        core::log::info("attachment '" + id + "' stored (" + std::to_string(row.size) + " bytes) by '" + by + "'");
    try {
        apply_retention();
    } catch (const std::exception& e) {
        core::log::warn(std::string("attachment retention: ") + e.what());
    }
    return result;
}

std::optional<db::AttachmentRow> AttachmentStore::find(const std::string& id) {
    auto row = repo_.find(id);
    if (!row || row->deleted) return std::nullopt;
    return row;
}

bool AttachmentStore::remove(const std::string& id, const Actor& by) {
    bool removed = false;
    db_.transaction([&] {
        removed = repo_.remove(id, by.name);
        if (removed) audit(db_, by, "attachment.delete", id);
    });
    if (!removed) return false;
    core::log::info("attachment '" + id + "' deleted by '" + by.name + "'");
    try {
        apply_retention();
    } catch (const std::exception& e) {
        core::log::warn(std::string("attachment retention: ") + e.what());
    }
    return true;
}

void AttachmentStore::apply_retention() {
    for (const std::string& sha : repo_.retired_due(core::kRetiredFileGraceSeconds)) {
        repo_.retire_file(sha, [&] {
            const std::string path = file_path(sha);
            if (::unlink(path.c_str()) != 0 && errno != ENOENT)
                throw std::runtime_error("removing " + path + ": " + std::strerror(errno));
        });
    }
    core::sweep_stale(tmp_dir_, kStaleTmpSeconds);
}

std::vector<AttachmentStore::Problem> AttachmentStore::check() {
    std::vector<Problem> problems;
    std::string buf(1 << 16, '\0');
    for (const auto& row : repo_.live()) {
        const std::string path = file_path(row.sha256);
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            problems.push_back({row.attachment_id, "file " + path + " is missing: " + std::strerror(errno)});
            continue;
        }
        core::Sha256 sha;
        int64_t size = 0;
        ssize_t n;
        while ((n = ::read(fd, buf.data(), buf.size())) > 0 || (n < 0 && errno == EINTR)) {
            if (n < 0) continue;
            sha.update(buf.data(), static_cast<size_t>(n));
            size += n;
        }
        ::close(fd);
        if (n < 0) problems.push_back({row.attachment_id, "file " + path + " cannot be read: " + std::strerror(errno)});
        else if (size != row.size)
            problems.push_back({row.attachment_id, "file " + path + " has " + std::to_string(size) + " bytes, not " +
                                                       std::to_string(row.size)});
        else if (sha.final_hex() != row.sha256)
            problems.push_back({row.attachment_id, "file " + path + " does not have its SHA-256"});
    }
    return problems;
}

}  // namespace services
