// A thin JSON writer for responses and the depth check (RapidJSON). The readers of
// request bodies, which speak ApiError, are in core/json_request.h.
#pragma once
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace core {

// Deepest nesting a request body may have; deeper bodies are refused before parsing
// so no recursive walk over them can exhaust the stack.
constexpr size_t kMaxJsonDepth = 64;

// Returns the nesting depth of a JSON text (brackets inside strings ignored).
size_t json_depth(std::string_view text);

// A writer that splices pre-serialized JSON with one memcpy; RapidJSON's RawValue
// copies byte by byte, which was a fifth of a 500-record pull's CPU.
class SplicingWriter : public rapidjson::Writer<rapidjson::StringBuffer> {
public:
    using rapidjson::Writer<rapidjson::StringBuffer>::Writer;
    void splice(std::string_view json) {
        Prefix(rapidjson::kObjectType);
        if (!json.empty()) std::memcpy(os_->Push(json.size()), json.data(), json.size());
        EndValue(true);
    }
};

// Builds JSON responses.
class JsonOut {
public:
    JsonOut() : w_(buf_) {}
    // With room for `reserve` bytes from the start: a large answer (a pulled page)
    // is then not copied again each time the buffer grows.
    explicit JsonOut(size_t reserve) : buf_(nullptr, reserve), w_(buf_) {}
    rapidjson::Writer<rapidjson::StringBuffer>& w() { return w_; }
    JsonOut& key(std::string_view k) { w_.Key(k.data(), static_cast<rapidjson::SizeType>(k.size())); return *this; }
    JsonOut& str(std::string_view v) { w_.String(v.data(), static_cast<rapidjson::SizeType>(v.size())); return *this; }
    JsonOut& num(int64_t v) { w_.Int64(v); return *this; }
    JsonOut& boolean(bool v) { w_.Bool(v); return *this; }
    JsonOut& begin_object() { w_.StartObject(); return *this; }
    JsonOut& end_object() { w_.EndObject(); return *this; }
    JsonOut& begin_array() { w_.StartArray(); return *this; }
    JsonOut& end_array() { w_.EndArray(); return *this; }
    // Splices pre-serialized JSON (must be valid) as the next value.
    JsonOut& raw(std::string_view json) {
        w_.splice(json);
        return *this;
    }
    std::string take() { return std::string(buf_.GetString(), buf_.GetSize()); }
    // For answers sent while they are made (a pulled page): the bytes written since
    // the last drop(), then drop() empties the buffer (keeping its room) while the
    // writer goes on where it was in the document.
    std::string_view pending() const { return {buf_.GetString(), buf_.GetSize()}; }
    void drop() { buf_.Clear(); }

private:
    rapidjson::StringBuffer buf_;
    SplicingWriter w_;
};

// {"message": "..."}
std::string message_json(std::string_view message);

}  // namespace core
