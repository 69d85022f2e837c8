// The streaming multipart parser: the body is parsed whole, one byte at a time and
// in chunk sizes drawn from the input, and every way must give the same parts or
// the same refusal (a part's result must not depend on how the network split it).
// Layout of an input: 1 byte header limit, 4 bytes chunking seed, then the body;
// the boundary is fixed, since multipart_boundary() is fuzzed on its own prefix.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/multipart.h"
#include "fuzz/fuzz_support.h"

namespace {

struct Part {
    std::string name;
    std::optional<std::string> filename;
    std::string content_type;
    std::string data;
    bool ended = false;
    bool operator==(const Part&) const = default;
};

struct Outcome {
    std::vector<Part> parts;
    bool refused = false;
    bool operator==(const Outcome&) const = default;
};

// Feeds `body` in chunks whose sizes come from `next_chunk`.
template <class NextChunk>
Outcome parse(std::string_view body, size_t max_header_bytes, NextChunk next_chunk) {
    Outcome out;
    core::MultipartParser p("fuzzboundary",
                            {
                                [&](const core::MultipartPart& h) {
                                    out.parts.push_back({h.name, h.filename, h.content_type, "", false});
                                },
                                [&](const char* d, size_t n) {
                                    FUZZ_CHECK(!out.parts.empty() && !out.parts.back().ended);
                                    FUZZ_CHECK(n > 0);
                                    out.parts.back().data.append(d, n);
                                },
                                [&] {
                                    FUZZ_CHECK(!out.parts.empty() && !out.parts.back().ended);
                                    out.parts.back().ended = true;
                                },
                            },
                            max_header_bytes);
    try {
        for (size_t i = 0; i < body.size();) {
            size_t n = std::min(next_chunk(), body.size() - i);
            p.feed(body.data() + i, n);
            i += n;
        }
        p.finish();
    } catch (const core::MultipartError&) {
        out.refused = true;
        return out;
    }
    FUZZ_CHECK(p.done());
    for (const auto& part : out.parts) FUZZ_CHECK(part.ended);
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);

    // The Content-Type reader sees the first line of every input as a header value.
    if (auto b = core::multipart_boundary(input.substr(0, input.find('\n')))) {
        FUZZ_CHECK(!b->empty() && b->size() <= 200);
        for (unsigned char c : *b) FUZZ_CHECK(c >= 0x20 && c != 0x7f);
    }

    if (size < 5) return 0;
    // Small header limits make the limit's edges reachable with short inputs.
    const size_t max_header_bytes = 16 + data[0];
    uint32_t seed = data[1] | data[2] << 8 | data[3] << 16 | static_cast<uint32_t>(data[4]) << 24;
    std::string_view body = input.substr(5);

    Outcome whole = parse(body, max_header_bytes, [&] { return body.size(); });
    Outcome bytewise = parse(body, max_header_bytes, [] { return size_t{1}; });
    Outcome random = parse(body, max_header_bytes, [&] {
        seed = seed * 1103515245u + 12345u;  // any sequence will do; this one is reproducible
        return size_t{1} + (seed >> 16) % 40;
    });
    FUZZ_CHECK(whole == bytewise);
    FUZZ_CHECK(whole == random);
    return 0;
}
