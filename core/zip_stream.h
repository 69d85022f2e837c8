// A ZIP writer for a forward-only byte sink (an HTTP response being sent), where
// libzip needs a seekable file. Every entry is deflated (zlib) and followed by a
// data descriptor (general purpose bit 3), so nothing is held but the current
// deflate window and one central-directory record per entry. ZIP64 records are
// written when a size or offset passes 4 GiB or there are more than 65535 entries.
#pragma once
#include <zlib.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace core {

class ZipStreamWriter {
public:
    using Sink = std::function<void(std::string_view)>;

    // mtime_unix is stamped on every entry (MS-DOS time, UTC, 2-second steps).
    // force_zip64 writes the ZIP64 form for every entry and the end record even
    // when the sizes fit 32 bits (valid, and how the tests reach that code path).
    ZipStreamWriter(Sink sink, int64_t mtime_unix, bool force_zip64 = false);
    ~ZipStreamWriter();
    ZipStreamWriter(const ZipStreamWriter&) = delete;
    ZipStreamWriter& operator=(const ZipStreamWriter&) = delete;

    // The name is stored as given (flagged UTF-8); callers make it safe.
    void begin_entry(const std::string& name);
    void write(std::string_view data);
    void end_entry();
    // Writes the central directory; the archive is complete only after this.
    void finish();

    uint64_t bytes_written() const { return offset_; }

private:
    struct Entry {
        std::string name;
        uint32_t crc;
        uint64_t compressed;
        uint64_t size;
        uint64_t offset;
        bool zip64;
    };
    void emit(std::string_view bytes);
    void deflate_some(int flush);

    Sink sink_;
    uint16_t dos_time_ = 0, dos_date_ = 0;
    bool force_zip64_;
    z_stream z_{};
    bool in_entry_ = false;
    bool finished_ = false;
    Entry current_{};
    uint64_t offset_ = 0;
    std::vector<Entry> entries_;
    std::string out_buf_;
};

}  // namespace core
