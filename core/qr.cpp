#include "core/qr.h"

#include <qrencode.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace core {

QrMatrix qr_encode(std::string_view text) {
    // QRcode_encodeData takes bytes with their length, so a NUL is data, not the end.
    std::unique_ptr<QRcode, void (*)(QRcode*)> code(
        QRcode_encodeData(static_cast<int>(text.size()), reinterpret_cast<const unsigned char*>(text.data()), 0,
                          QR_ECLEVEL_M),
        QRcode_free);
    if (!code) throw std::runtime_error("the text does not fit a QR code");
    QrMatrix m;
    m.width = code->width;
    m.dark.resize(static_cast<size_t>(m.width) * m.width);
    // Bit 0 of each byte is the module's colour (1 dark); the other bits are libqrencode's.
    for (size_t i = 0; i < m.dark.size(); ++i) m.dark[i] = (code->data[i] & 1) != 0;
    return m;
}

std::string qr_svg(const QrMatrix& m) {
    constexpr int kQuiet = 4;
    const std::string size = std::to_string(m.width + 2 * kQuiet);
    std::string path;
    for (int y = 0; y < m.width; ++y) {
        for (int x = 0; x < m.width;) {
            if (!m.at(x, y)) {
                ++x;
                continue;
            }
            int run = 1;  // a horizontal run of dark modules is one rectangle
            while (x + run < m.width && m.at(x + run, y)) ++run;
            path += "M" + std::to_string(x + kQuiet) + " " + std::to_string(y + kQuiet) + "h" + std::to_string(run) +
                    "v1h-" + std::to_string(run) + "z";
            x += run;
        }
    }
    return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + size + " " + size + "\" width=\"" +
           std::to_string((m.width + 2 * kQuiet) * 4) + "\" height=\"" + std::to_string((m.width + 2 * kQuiet) * 4) +
           "\" shape-rendering=\"crispEdges\"><rect width=\"" + size + "\" height=\"" + size +
           "\" fill=\"#fff\"/><path fill=\"#000\" d=\"" + path + "\"/></svg>";
}

std::string qr_text(const QrMatrix& m) {
    constexpr int kQuiet = 2;
    const int n = m.width + 2 * kQuiet;
    auto light = [&](int x, int y) {
        x -= kQuiet;
        y -= kQuiet;
        return x < 0 || y < 0 || x >= m.width || y >= m.width || !m.at(x, y);
    };
    std::string out;
    for (int y = 0; y < n; y += 2) {
        for (int x = 0; x < n; ++x) {
            const bool top = light(x, y), bottom = y + 1 < n ? light(x, y + 1) : false;
            out += top && bottom ? "\u2588" : top ? "\u2580" : bottom ? "\u2584" : " ";
        }
        out += "\n";
    }
    return out;
}

}  // namespace core
