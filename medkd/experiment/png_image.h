// PNG encoding of small 8-bit pictures and base64 for data: URIs, so that the HTML report
// (report.h) can carry its overlay images inside the page and open offline.
//
// Only what the report needs: 8-bit RGB or RGBA, no interlacing, one IDAT chunk. The format is
// the W3C PNG specification (Second Edition): signature, IHDR, IDAT (zlib stream of filtered
// scanlines), IEND, each chunk with a CRC-32 over its type and data.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace medkd::experiment {

// An 8-bit picture, row-major, row 0 at the top, channels interleaved (R, G, B[, A]).
struct RgbImage {
  int64_t width = 0, height = 0;
  int channels = 3;             // 3 = RGB, 4 = RGBA
  std::vector<uint8_t> pixels;  // width * height * channels values
};

// The bytes of a PNG file holding `image`. medkd::Error when the size or channel count is wrong.
std::vector<uint8_t> encode_png(const RgbImage& image);

// Standard base64 (RFC 4648 §4, with '=' padding, no line breaks).
std::string base64_encode(const uint8_t* bytes, size_t size);
std::string base64_encode(const std::vector<uint8_t>& bytes);
std::string base64_encode(std::string_view bytes);

// "data:image/png;base64,...": the picture as a URI for <img src>.
std::string png_data_uri(const RgbImage& image);

}  // namespace medkd::experiment
