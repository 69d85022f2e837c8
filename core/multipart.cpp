#include "core/multipart.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <vector>

namespace core {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Splits `value; a=b; c="d"` into the value and its parameters (names lower-cased,
// quoted strings unquoted with backslash escapes honoured).
std::string_view split_params(std::string_view header, std::vector<std::pair<std::string, std::string>>& params) {
    size_t semi = header.find(';');
    std::string_view value = trim(header.substr(0, semi));
    size_t i = semi == std::string_view::npos ? header.size() : semi + 1;
    while (i < header.size()) {
        while (i < header.size() && (header[i] == ' ' || header[i] == '\t' || header[i] == ';')) ++i;
        size_t eq = header.find('=', i);
        size_t next_semi = header.find(';', i);
        if (eq == std::string_view::npos || (next_semi != std::string_view::npos && next_semi < eq)) {
            i = next_semi == std::string_view::npos ? header.size() : next_semi + 1;
            continue;
        }
        std::string name = lower(trim(header.substr(i, eq - i)));
        i = eq + 1;
        while (i < header.size() && (header[i] == ' ' || header[i] == '\t')) ++i;
        std::string v;
        if (i < header.size() && header[i] == '"') {
            for (++i; i < header.size() && header[i] != '"'; ++i) {
                if (header[i] == '\\' && i + 1 < header.size()) ++i;
                v += header[i];
            }
            if (i < header.size()) ++i;  // closing quote
            size_t end = header.find(';', i);
            i = end == std::string_view::npos ? header.size() : end + 1;
        } else {
            size_t end = header.find(';', i);
            v = std::string(trim(header.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i)));
            i = end == std::string_view::npos ? header.size() : end + 1;
        }
        params.emplace_back(std::move(name), std::move(v));
    }
    return value;
}

}  // namespace

std::optional<std::string> multipart_boundary(std::string_view content_type) {
    std::vector<std::pair<std::string, std::string>> params;
    std::string_view type = split_params(content_type, params);
    if (lower(type) != "multipart/form-data") return std::nullopt;
    for (const auto& [name, value] : params) {
        if (name != "boundary") continue;
        // RFC 2046 allows 1 to 70 characters; a little slack for sloppy clients,
        // but never control characters, which would let the boundary span lines.
        if (value.empty() || value.size() > 200) return std::nullopt;
        for (unsigned char c : value)
            if (c < 0x20 || c == 0x7f) return std::nullopt;
        return value;
    }
    return std::nullopt;
}

MultipartParser::MultipartParser(std::string boundary, Callbacks callbacks, size_t max_header_bytes)
    : delimiter_("\r\n--" + boundary), cb_(std::move(callbacks)), max_header_bytes_(max_header_bytes) {
    // The first boundary may open the body without a preceding line break.
    buf_ = "\r\n";
}

void MultipartParser::feed(const char* data, size_t n) {
    if (state_ == State::epilogue) return;  // the epilogue is ignored
    buf_.append(data, n);
    run();
    buf_.erase(0, pos_);
    pos_ = 0;
}

void MultipartParser::finish() {
    if (state_ != State::epilogue) throw MultipartError("the multipart body ends before its closing boundary");
}

void MultipartParser::run() {
    const std::boyer_moore_horspool_searcher search(delimiter_.begin(), delimiter_.end());
    auto find_delimiter = [&]() -> size_t {
        auto it = std::search(buf_.begin() + static_cast<std::ptrdiff_t>(pos_), buf_.end(), search);
        return it == buf_.end() ? std::string::npos : static_cast<size_t>(it - buf_.begin());
    };
    while (true) {
        switch (state_) {
            case State::preamble: {
                size_t at = find_delimiter();
                if (at == std::string::npos) {
                    // Keep only what could be the start of a delimiter.
                    if (buf_.size() - pos_ >= delimiter_.size()) pos_ = buf_.size() - (delimiter_.size() - 1);
                    return;
                }
                pos_ = at + delimiter_.size();
                state_ = State::after_boundary;
                break;
            }
            case State::after_boundary: {
                if (buf_.size() - pos_ < 2) return;
                if (buf_[pos_] == '-' && buf_[pos_ + 1] == '-') {
                    pos_ = buf_.size();
                    state_ = State::epilogue;
                    return;
                }
                // Transport padding (spaces, tabs), then the line break.
                size_t i = pos_;
                while (i < buf_.size() && (buf_[i] == ' ' || buf_[i] == '\t')) ++i;
                if (i - pos_ > 256) throw MultipartError("malformed multipart boundary line");
                if (buf_.size() - i < 2) return;
                if (buf_[i] != '\r' || buf_[i + 1] != '\n') throw MultipartError("malformed multipart boundary line");
                pos_ = i + 2;
                state_ = State::headers;
                break;
            }
            case State::headers: {
                std::string_view rest(buf_.data() + pos_, buf_.size() - pos_);
                size_t block_end, next;
                if (rest.substr(0, 2) == "\r\n") {
                    block_end = 0;
                    next = 2;
                } else {
                    size_t at = rest.find("\r\n\r\n");
                    if (at == std::string_view::npos) {
                        // Up to 3 bytes of the terminator may be here already, so only a
                        // longer rest proves the block too long: the verdict must not
                        // depend on where the network split the body.
                        if (rest.size() > max_header_bytes_ + 3)
                            throw MultipartError("a multipart header block is too large");
                        return;
                    }
                    block_end = at;
                    next = at + 4;
                }
                if (block_end > max_header_bytes_) throw MultipartError("a multipart header block is too large");
                parse_headers(rest.substr(0, block_end));
                pos_ += next;
                state_ = State::body;
                break;
            }
            case State::body: {
                size_t at = find_delimiter();
                if (at == std::string::npos) {
                    // Everything except a possible delimiter start is part data.
                    size_t keep = delimiter_.size() - 1;
                    if (buf_.size() - pos_ > keep) {
                        size_t n = buf_.size() - pos_ - keep;
                        if (cb_.on_part_data) cb_.on_part_data(buf_.data() + pos_, n);
                        pos_ += n;
                    }
                    return;
                }
                if (at > pos_ && cb_.on_part_data) cb_.on_part_data(buf_.data() + pos_, at - pos_);
                if (cb_.on_part_end) cb_.on_part_end();
                pos_ = at + delimiter_.size();
                state_ = State::after_boundary;
                break;
            }
            case State::epilogue:
                pos_ = buf_.size();
                return;
        }
    }
}

void MultipartParser::parse_headers(std::string_view block) {
    MultipartPart part;
    bool disposition = false;
    while (!block.empty()) {
        size_t eol = block.find("\r\n");
        std::string_view line = block.substr(0, eol);
        block = eol == std::string_view::npos ? std::string_view() : block.substr(eol + 2);
        size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) throw MultipartError("malformed multipart part header");
        std::string name = lower(trim(line.substr(0, colon)));
        std::string_view value = trim(line.substr(colon + 1));
        if (name == "content-disposition") {
            std::vector<std::pair<std::string, std::string>> params;
            if (lower(split_params(value, params)) != "form-data")
                throw MultipartError("a multipart part is not form-data");
            disposition = true;
            for (auto& [k, v] : params) {
                if (k == "name") part.name = v;
                else if (k == "filename") part.filename = v;
            }
        } else if (name == "content-type") {
            part.content_type = std::string(value);
        }
    }
    if (!disposition) throw MultipartError("a multipart part has no Content-Disposition");
    if (cb_.on_part_begin) cb_.on_part_begin(part);
}

}  // namespace core
