// The Parquet export's writer, from its inputs: record data with odd keys, huge
// strings, deep nesting and mixed leaves (each input is split on NUL bytes into
// the data texts of one form type's records), and raw cells of every column type
// through core::parquet::Writer directly. Every file is read back with the
// project's own decoder (core::parquet::read_metadata / read_columns), which must
// find it well-formed, with one row per record and the values written.
#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "core/parquet.h"
#include "domain/parquet_export.h"
#include "fuzz/fuzz_support.h"

namespace pq = core::parquet;

namespace {

void through_the_export_layout(std::string_view input) {
    std::vector<std::string> datas;
    size_t start = 0;
    while (start <= input.size() && datas.size() < 64) {
        size_t nul = input.find('\0', start);
        if (nul == std::string_view::npos) nul = input.size();
        datas.emplace_back(input.substr(start, nul - start));
        start = nul + 1;
    }
    domain::ParquetLayout layout;
    std::vector<std::string> ok;
    for (auto& d : datas) {
        try {
            layout.observe(d);
            ok.push_back(d);
        } catch (const domain::ExportError&) {
        }
    }
    std::string file;
    auto cols = layout.columns();
    pq::Writer w([&](std::string_view b) { file.append(b); }, cols, 4096);  // small groups: many of them
    domain::ExportRecord r;
    size_t rows = 0;
    for (auto& d : ok) {
        r.change_id = static_cast<int64_t>(rows) + 1;
        r.observation_id = "id" + std::to_string(rows);
        r.data = d;
        try {
            layout.write_row(w, "type", r);
            ++rows;
        } catch (const std::logic_error&) {
            // A key repeated within one object reaches one column twice; the
            // server's records are canonical JSON, which never repeats a key.
            return;
        }
    }
    w.finish();
    auto info = pq::read_metadata(file);
    FUZZ_CHECK(info.num_rows == static_cast<int64_t>(rows));
    FUZZ_CHECK(info.columns.size() == cols.size());
    auto values = pq::read_columns(file, info);
    FUZZ_CHECK(values.size() == cols.size());
    for (size_t i = 0; i < rows; ++i) FUZZ_CHECK(std::get<int64_t>(values[7][i]) == static_cast<int64_t>(i) + 1);
}

void through_the_writer(const uint8_t* data, size_t size) {
    FuzzedDataProvider in(data, size);
    std::vector<pq::Column> cols;
    const size_t ncols = in.ConsumeIntegralInRange<size_t>(0, 40);
    for (size_t c = 0; c < ncols; ++c)
        cols.push_back({in.ConsumeRandomLengthString(64), static_cast<pq::ColumnType>(in.ConsumeIntegralInRange(0, 3))});
    const size_t group = in.ConsumeIntegralInRange<size_t>(1, 1 << 16);
    std::string file;
    pq::Writer w([&](std::string_view b) { file.append(b); }, cols, group);
    std::vector<std::vector<pq::Value>> expected(ncols);
    int64_t huge_budget = 8 << 20;
    while (in.remaining_bytes() > 0 && ncols > 0) {
        for (size_t c = 0; c < ncols; ++c) {
            pq::Value v;
            if (in.ConsumeBool()) {
                switch (cols[c].type) {
                    case pq::ColumnType::boolean: v = in.ConsumeBool(); w.set_bool(c, std::get<bool>(v)); break;
                    case pq::ColumnType::int64: v = in.ConsumeIntegral<int64_t>(); w.set_int64(c, std::get<int64_t>(v)); break;
                    case pq::ColumnType::float64: {
                        double d = in.ConsumeFloatingPoint<double>();
                        v = d;
                        w.set_double(c, d);
                        break;
                    }
                    case pq::ColumnType::string: {
                        std::string s = in.ConsumeRandomLengthString(4096);
                        // Huge strings, within a budget that keeps one input far below libFuzzer's RSS limit.
                        if (in.ConsumeBool() && huge_budget > 0) {
                            s = std::string(in.ConsumeIntegralInRange<size_t>(0, 1 << 20), s.empty() ? 'x' : s[0]);
                            huge_budget -= static_cast<int64_t>(s.size()) + 1;
                        }
                        v = s;
                        w.set_string(c, s);
                        break;
                    }
                }
            }
            expected[c].push_back(std::move(v));
        }
        w.end_row();
    }
    w.finish();
    auto info = pq::read_metadata(file);
    auto got = pq::read_columns(file, info);
    FUZZ_CHECK(got.size() == ncols);
    for (size_t c = 0; c < ncols; ++c) {
        FUZZ_CHECK(got[c].size() == expected[c].size());
        for (size_t i = 0; i < got[c].size(); ++i) {
            if (auto* d = std::get_if<double>(&expected[c][i])) {
                auto* g = std::get_if<double>(&got[c][i]);
                FUZZ_CHECK(g && std::memcmp(g, d, sizeof(double)) == 0);  // bit-exact, NaN included
            } else {
                FUZZ_CHECK(got[c][i] == expected[c][i]);
            }
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    through_the_export_layout(std::string_view(reinterpret_cast<const char*>(data), size));
    through_the_writer(data, size);
    return 0;
}
