// QR codes for device provisioning: the matrix from Debian's libqrencode, drawn by our
// own code as SVG (for the console) or as text (for a terminal).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace core {

struct QrMatrix {
    int width = 0;             // modules per side, without the quiet zone
    std::vector<bool> dark;    // width * width, row by row
    bool at(int x, int y) const { return dark[static_cast<size_t>(y) * width + x]; }
};

// `text` as one 8-bit segment at error correction level M, the smallest version that
// holds it. Throws std::runtime_error when it does not fit any version.
QrMatrix qr_encode(std::string_view text);

// A standalone SVG: one module per user unit, a quiet zone of 4 modules, dark
// modules as one path on a white background; scales crisply (shape-rendering).
std::string qr_svg(const QrMatrix& m);

// Two module rows per line with Unicode half blocks, light modules drawn (so it reads
// on a dark terminal, as `qrencode -t UTF8` does), with a quiet zone of 2 modules.
std::string qr_text(const QrMatrix& m);

}  // namespace core
