// A streaming multipart/form-data parser (RFC 7578 / RFC 2046): bytes go in as
// they arrive, in chunks of any size, and part data comes out through callbacks,
// so an upload is never held whole in memory. Memory stays bounded by the largest
// chunk fed plus the boundary and one part's header block.
#pragma once
#include <cstddef>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace core {

class MultipartError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct MultipartPart {
    std::string name;                   // Content-Disposition name
    std::optional<std::string> filename;  // Content-Disposition filename, when present
    std::string content_type;           // the part's Content-Type, "" when absent
};

// The boundary of a `multipart/form-data; boundary=…` Content-Type value, or
// nullopt when the type is another one or the boundary is missing or invalid.
std::optional<std::string> multipart_boundary(std::string_view content_type);

class MultipartParser {
public:
    struct Callbacks {
        std::function<void(const MultipartPart&)> on_part_begin;
        std::function<void(const char*, size_t)> on_part_data;
        std::function<void()> on_part_end;
    };

    MultipartParser(std::string boundary, Callbacks callbacks, size_t max_header_bytes = 16 * 1024);

    // Feeds the next bytes of the body. Throws MultipartError on malformed input;
    // exceptions from the callbacks pass through.
    void feed(const char* data, size_t n);
    void feed(std::string_view s) { feed(s.data(), s.size()); }
    // Call at the end of the body; throws MultipartError unless the closing
    // boundary was seen.
    void finish();
    bool done() const { return state_ == State::epilogue; }

private:
    enum class State { preamble, after_boundary, headers, body, epilogue };
    void run();
    void parse_headers(std::string_view block);

    std::string delimiter_;  // "\r\n--" + boundary
    Callbacks cb_;
    size_t max_header_bytes_;
    State state_ = State::preamble;
    std::string buf_;        // unconsumed bytes
    size_t pos_ = 0;         // start of the unconsumed bytes in buf_
};

}  // namespace core
