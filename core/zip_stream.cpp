#include "core/zip_stream.h"

#include <ctime>
#include <stdexcept>

namespace core {

namespace {

constexpr uint32_t kLocalSig = 0x04034b50, kDescriptorSig = 0x08074b50, kCentralSig = 0x02014b50;
constexpr uint32_t kEndSig = 0x06054b50, kEnd64Sig = 0x06064b50, kEnd64LocatorSig = 0x07064b50;
// Bit 3: sizes and CRC follow the data; bit 11: the name is UTF-8.
constexpr uint16_t kFlags = (1u << 3) | (1u << 11);
constexpr uint16_t kDeflate = 8;
constexpr uint16_t kVersion20 = 20, kVersion45 = 45;  // 4.5: ZIP64
constexpr uint64_t kMax32 = 0xFFFFFFFFu;
constexpr uint64_t kMax16 = 0xFFFFu;

void put16(std::string& s, uint64_t v) {
    s += static_cast<char>(v & 0xFF);
    s += static_cast<char>((v >> 8) & 0xFF);
}
void put32(std::string& s, uint64_t v) {
    put16(s, v & 0xFFFF);
    put16(s, (v >> 16) & 0xFFFF);
}
void put64(std::string& s, uint64_t v) {
    put32(s, v & 0xFFFFFFFFu);
    put32(s, v >> 32);
}

}  // namespace

ZipStreamWriter::ZipStreamWriter(Sink sink, int64_t mtime_unix, bool force_zip64)
    : sink_(std::move(sink)), force_zip64_(force_zip64) {
    time_t t = static_cast<time_t>(mtime_unix);
    struct tm tm {};
    gmtime_r(&t, &tm);
    if (tm.tm_year < 80) {  // MS-DOS dates start in 1980
        tm = {};
        tm.tm_year = 80;
        tm.tm_mday = 1;
    }
    dos_time_ = static_cast<uint16_t>((tm.tm_hour << 11) | (tm.tm_min << 5) | (tm.tm_sec / 2));
    dos_date_ = static_cast<uint16_t>(((tm.tm_year - 80) << 9) | ((tm.tm_mon + 1) << 5) | tm.tm_mday);
    out_buf_.resize(64 * 1024);
}

ZipStreamWriter::~ZipStreamWriter() {
    if (in_entry_) deflateEnd(&z_);
}

void ZipStreamWriter::emit(std::string_view bytes) {
    if (bytes.empty()) return;
    sink_(bytes);
    offset_ += bytes.size();
}

void ZipStreamWriter::begin_entry(const std::string& name) {
    if (in_entry_ || finished_) throw std::logic_error("zip: begin_entry out of order");
    if (name.empty() || name.size() > kMax16) throw std::invalid_argument("zip: bad entry name length");
    current_ = Entry{name, static_cast<uint32_t>(crc32(0, nullptr, 0)), 0, 0, offset_, force_zip64_};
    z_ = z_stream{};
    // Raw deflate (no zlib header), as ZIP method 8 wants; level 6 is zlib's default trade-off.
    if (deflateInit2(&z_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("zip: deflateInit2 failed");
    in_entry_ = true;
    // Sizes are unknown until the data is written: zero here, the real ones in the
    // data descriptor and the central directory (which is what readers trust).
    std::string h;
    put32(h, kLocalSig);
    put16(h, force_zip64_ ? kVersion45 : kVersion20);
    put16(h, kFlags);
    put16(h, kDeflate);
    put16(h, dos_time_);
    put16(h, dos_date_);
    put32(h, 0);  // crc
    put32(h, force_zip64_ ? kMax32 : 0);
    put32(h, force_zip64_ ? kMax32 : 0);
    put16(h, name.size());
    put16(h, force_zip64_ ? 20 : 0);
    h += name;
    if (force_zip64_) {
        put16(h, 0x0001);
        put16(h, 16);
        put64(h, 0);
        put64(h, 0);
    }
    emit(h);
}

void ZipStreamWriter::deflate_some(int flush) {
    int rc;
    do {
        z_.next_out = reinterpret_cast<Bytef*>(out_buf_.data());
        z_.avail_out = static_cast<uInt>(out_buf_.size());
        rc = deflate(&z_, flush);
        if (rc == Z_STREAM_ERROR) throw std::runtime_error("zip: deflate failed");
        size_t n = out_buf_.size() - z_.avail_out;
        current_.compressed += n;
        emit(std::string_view(out_buf_.data(), n));
    } while (z_.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
}

void ZipStreamWriter::write(std::string_view data) {
    if (!in_entry_) throw std::logic_error("zip: write outside an entry");
    while (!data.empty()) {
        // zlib counts in uInt; feed at most 1 GiB at a time.
        size_t n = data.size() > (1u << 30) ? (1u << 30) : data.size();
        current_.crc = static_cast<uint32_t>(crc32(current_.crc, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(n)));
        current_.size += n;
        z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
        z_.avail_in = static_cast<uInt>(n);
        deflate_some(Z_NO_FLUSH);
        data.remove_prefix(n);
    }
}

void ZipStreamWriter::end_entry() {
    if (!in_entry_) throw std::logic_error("zip: end_entry without an entry");
    z_.next_in = nullptr;
    z_.avail_in = 0;
    deflate_some(Z_FINISH);
    deflateEnd(&z_);
    in_entry_ = false;
    Entry& e = current_;
    e.zip64 = e.zip64 || e.size > kMax32 || e.compressed > kMax32 || e.offset > kMax32;
    std::string d;
    put32(d, kDescriptorSig);
    put32(d, e.crc);
    if (e.zip64) {
        put64(d, e.compressed);
        put64(d, e.size);
    } else {
        put32(d, e.compressed);
        put32(d, e.size);
    }
    emit(d);
    entries_.push_back(std::move(e));
}

void ZipStreamWriter::finish() {
    if (in_entry_ || finished_) throw std::logic_error("zip: finish out of order");
    finished_ = true;
    const uint64_t cd_offset = offset_;
    for (const Entry& e : entries_) {
        std::string extra;
        if (e.zip64) {
            // All three values go into the extra field, the 32-bit fields say 0xFFFFFFFF.
            put16(extra, 0x0001);
            put16(extra, 24);
            put64(extra, e.size);
            put64(extra, e.compressed);
            put64(extra, e.offset);
        }
        std::string c;
        put32(c, kCentralSig);
        put16(c, (3u << 8) | (e.zip64 ? kVersion45 : kVersion20));  // made by: Unix
        put16(c, e.zip64 ? kVersion45 : kVersion20);
        put16(c, kFlags);
        put16(c, kDeflate);
        put16(c, dos_time_);
        put16(c, dos_date_);
        put32(c, e.crc);
        put32(c, e.zip64 ? kMax32 : e.compressed);
        put32(c, e.zip64 ? kMax32 : e.size);
        put16(c, e.name.size());
        put16(c, extra.size());
        put16(c, 0);  // comment
        put16(c, 0);  // disk
        put16(c, 0);  // internal attributes
        put32(c, static_cast<uint32_t>(0100644) << 16);  // -rw-r--r--
        put32(c, e.zip64 ? kMax32 : e.offset);
        c += e.name;
        c += extra;
        emit(c);
    }
    const uint64_t cd_size = offset_ - cd_offset;
    const uint64_t count = entries_.size();
    const bool zip64 = force_zip64_ || count > kMax16 || cd_size > kMax32 || cd_offset > kMax32;
    std::string t;
    if (zip64) {
        const uint64_t end64_offset = offset_;
        put32(t, kEnd64Sig);
        put64(t, 44);  // size of the rest of this record
        put16(t, (3u << 8) | kVersion45);
        put16(t, kVersion45);
        put32(t, 0);
        put32(t, 0);
        put64(t, count);
        put64(t, count);
        put64(t, cd_size);
        put64(t, cd_offset);
        put32(t, kEnd64LocatorSig);
        put32(t, 0);
        put64(t, end64_offset);
        put32(t, 1);
    }
    put32(t, kEndSig);
    put16(t, 0);
    put16(t, 0);
    put16(t, zip64 ? kMax16 : count);
    put16(t, zip64 ? kMax16 : count);
    put32(t, zip64 ? kMax32 : cd_size);
    put32(t, zip64 ? kMax32 : cd_offset);
    put16(t, 0);
    emit(t);
}

}  // namespace core
