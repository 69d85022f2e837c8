// What the fuzz targets share: an invariant that fails aborts, so libFuzzer keeps
// the input as a crash; parsers that read a file get one per process.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#define FUZZ_CHECK(cond)                                                                              \
    do {                                                                                              \
        if (!(cond)) {                                                                                \
            std::fprintf(stderr, "fuzz invariant failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                             \
        }                                                                                             \
    } while (0)

namespace fuzz {

// A private scratch directory under $TMPDIR (or /tmp), made on first use and
// removed at exit; libFuzzer runs one input at a time in it. Held by a pointer
// that is never freed, so the exit handler cannot outlive the string.
inline const std::string& scratch_dir() {
    static const std::string* dir = [] {
        const char* base = std::getenv("TMPDIR");
        std::string tmpl = std::string(base && *base ? base : "/tmp") + "/synkronus-fuzz-XXXXXX";
        if (!mkdtemp(tmpl.data())) std::abort();
        auto* d = new std::string(tmpl);
        std::atexit([] { std::filesystem::remove_all(scratch_dir()); });
        return d;
    }();
    return *dir;
}

// Writes the input to `name` in the scratch directory and returns its path.
inline std::string write_scratch_file(const char* name, const uint8_t* data, size_t size) {
    std::string path = scratch_dir() + "/" + name;
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f || (size && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) std::abort();
    return path;
}

}  // namespace fuzz
