#include "medkd/io/file_integrity.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "medkd/core/error.h"

namespace medkd::io {
namespace fs = std::filesystem;

namespace {

bool ends_with_lower(const fs::path& path, const std::string& ending) {
  std::string name = path.filename().string();
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return name.size() >= ending.size() &&
         name.compare(name.size() - ending.size(), ending.size(), ending) == 0;
}

uint32_t read_u32_le(const unsigned char* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

template <typename T>
T read_scalar(const unsigned char* p, bool swap) {
  unsigned char bytes[sizeof(T)];
  std::memcpy(bytes, p, sizeof(T));
  if (swap) std::reverse(bytes, bytes + sizeof(T));
  T value;
  std::memcpy(&value, bytes, sizeof(T));
  return value;
}

// Offset of the voxel data in a NIfTI-1 or NIfTI-2 header (first 540 bytes of the stream).
uint64_t nifti_data_offset(const unsigned char* header, size_t length, const fs::path& path) {
  MEDKD_CHECK(length >= 348, "cannot read ", path.string(), ": truncated NIfTI header");
  const int32_t size_native = read_scalar<int32_t>(header, false);
  const bool swap = size_native != 348 && size_native != 540;
  const int32_t header_size = read_scalar<int32_t>(header, swap);
  if (header_size == 348) {
    const float offset = read_scalar<float>(header + 108, swap);
    return static_cast<uint64_t>(std::max(352.0f, offset));
  }
  MEDKD_CHECK(header_size == 540 && length >= 540, "cannot read ", path.string(),
              ": not a NIfTI header");
  return static_cast<uint64_t>(std::max<int64_t>(544, read_scalar<int64_t>(header + 168, swap)));
}

void fail_truncated(const fs::path& path, uint64_t have, uint64_t need) {
  throw Error(str("cannot read ", path.string(), ": file is truncated (", have,
                  " bytes of data, the header describes ", need, ")"));
}

// Reads a file through zlib, which passes uncompressed files through unchanged.
class ZStream {
 public:
  explicit ZStream(const fs::path& path) : gz_(gzopen(path.c_str(), "rb")) {
    MEDKD_CHECK(gz_ != nullptr, "cannot read ", path.string());
  }
  ~ZStream() { gzclose(gz_); }
  ZStream(const ZStream&) = delete;
  ZStream& operator=(const ZStream&) = delete;
  // Bytes read (less than `size` only at the end of the stream); -1 on a stream error.
  int64_t read(void* data, size_t size) {
    size_t total = 0;
    while (total < size) {
      const int n = gzread(gz_, static_cast<char*>(data) + total,
                           unsigned(std::min<size_t>(size - total, 1u << 30)));
      if (n < 0) return -1;
      if (n == 0) break;
      total += size_t(n);
    }
    return int64_t(total);
  }

 private:
  gzFile gz_;
};

void check_nifti(const fs::path& path, uint64_t data_bytes) {
  std::array<unsigned char, 540> header{};
  const uint64_t file_size = fs::file_size(path);
  if (!ends_with_lower(path, ".gz")) {
    std::ifstream in(path, std::ios::binary);
    in.read(reinterpret_cast<char*>(header.data()), header.size());
    const uint64_t need = nifti_data_offset(header.data(), in.gcount(), path) + data_bytes;
    if (file_size < need) fail_truncated(path, file_size, need);
    return;
  }
  gzFile gz = gzopen(path.c_str(), "rb");
  MEDKD_CHECK(gz != nullptr, "cannot read ", path.string());
  const int got = gzread(gz, header.data(), header.size());
  uint64_t need = 0;
  try {
    need = nifti_data_offset(header.data(), got > 0 ? size_t(got) : 0, path) + data_bytes;
  } catch (...) {
    gzclose(gz);
    throw;
  }
  // Fast path: a complete single-member gzip stream ends with the uncompressed size mod 2^32.
  std::array<unsigned char, 4> trailer{};
  {
    std::ifstream raw(path, std::ios::binary);
    raw.seekg(-4, std::ios::end);
    raw.read(reinterpret_cast<char*>(trailer.data()), 4);
  }
  if (file_size >= 18 && read_u32_le(trailer.data()) == uint32_t(need & 0xffffffffu)) {
    gzclose(gz);
    return;
  }
  // Otherwise (multi-member streams, or a real truncation) decompress to the end and count.
  uint64_t total = got > 0 ? uint64_t(got) : 0;
  std::vector<char> buffer(1 << 20);
  int n = 0;
  while ((n = gzread(gz, buffer.data(), buffer.size())) > 0) total += uint64_t(n);
  int error = Z_OK;
  gzerror(gz, &error);
  gzclose(gz);
  if (n < 0 || error != Z_OK || total < need) fail_truncated(path, total, need);
}

void check_metaimage(const fs::path& path, uint64_t data_bytes) {
  std::ifstream in(path, std::ios::binary);
  std::string line, data_file;
  bool compressed = false;
  uint64_t compressed_size = 0, header_size = 0;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    auto trim = [](std::string s) {
      s.erase(0, s.find_first_not_of(" \t\r"));
      s.erase(s.find_last_not_of(" \t\r") + 1);
      return s;
    };
    const std::string key = trim(line.substr(0, eq)), value = trim(line.substr(eq + 1));
    if (key == "CompressedData") compressed = value == "True" || value == "true";
    if (key == "CompressedDataSize") compressed_size = std::stoull(value);
    if (key == "HeaderSize") return;  // raw files with a skipped header: left to ITK
    if (key == "ElementDataFile") {
      data_file = value;
      header_size = static_cast<uint64_t>(in.tellg());
      break;
    }
  }
  if (data_file.empty() || data_file.rfind("LIST", 0) == 0 ||
      data_file.find('%') != std::string::npos)
    return;
  const uint64_t need = compressed ? compressed_size : data_bytes;
  if (need == 0) return;
  uint64_t have = 0;
  fs::path source = path;
  if (data_file == "LOCAL") {
    have = fs::file_size(path) - header_size;
  } else {
    source = path.parent_path() / data_file;
    MEDKD_CHECK(fs::exists(source), "cannot read ", path.string(), ": its data file ",
                source.string(), " is missing");
    have = fs::file_size(source);
  }
  if (have < need) fail_truncated(source, have, need);
}

}  // namespace

int64_t count_non_finite_in_file(const fs::path& path) {
  if (!ends_with_lower(path, ".nii") && !ends_with_lower(path, ".nii.gz")) return -1;
  ZStream in(path);
  std::array<unsigned char, 540> header{};
  const int64_t got = in.read(header.data(), header.size());
  if (got < 348) return -1;
  const int32_t size_native = read_scalar<int32_t>(header.data(), false);
  const bool swap = size_native != 348 && size_native != 540;
  const bool nifti2 = read_scalar<int32_t>(header.data(), swap) == 540;
  const int16_t datatype = read_scalar<int16_t>(header.data() + (nifti2 ? 12 : 70), swap);
  constexpr int16_t kFloat32 = 16, kFloat64 = 64;
  if (datatype != kFloat32 && datatype != kFloat64) return -1;
  uint64_t offset = nifti_data_offset(header.data(), size_t(got), path);
  // Skip from the end of the header block already read to the data offset.
  std::vector<unsigned char> buffer(1 << 20);
  uint64_t position = uint64_t(got);
  int64_t count = 0;
  const size_t element = datatype == kFloat32 ? 4 : 8;
  // Header bytes past the data offset (a NIfTI-1 file with vox_offset 352 read 540 bytes) hold
  // the first voxels: move them to the buffer's start.
  size_t carried = 0;
  if (position > offset) {
    carried = size_t(position - offset);
    std::memcpy(buffer.data(), header.data() + offset, carried);
    position = offset;
  } else {
    while (position < offset) {
      const int64_t n =
          in.read(buffer.data(), size_t(std::min<uint64_t>(offset - position, buffer.size())));
      if (n <= 0) return 0;
      position += uint64_t(n);
    }
  }
  while (true) {
    const int64_t n = in.read(buffer.data() + carried, buffer.size() - carried);
    if (n < 0) break;
    const size_t available = carried + size_t(n);
    const size_t whole = available / element * element;
    for (size_t i = 0; i < whole; i += element) {
      const double v = element == 4 ? double(read_scalar<float>(buffer.data() + i, swap))
                                    : read_scalar<double>(buffer.data() + i, swap);
      if (!std::isfinite(v)) ++count;
    }
    carried = available - whole;
    std::memmove(buffer.data(), buffer.data() + whole, carried);
    if (n == 0) break;
  }
  return count;
}

void check_nifti_header(const fs::path& path) {
  if (!ends_with_lower(path, ".nii") && !ends_with_lower(path, ".nii.gz")) return;
  ZStream in(path);
  std::array<unsigned char, 540> header{};
  const int64_t got = in.read(header.data(), header.size());
  MEDKD_CHECK(got >= 348, "cannot read ", path.string(), ": not a NIfTI file (header too short)");
  const int32_t size_native = read_scalar<int32_t>(header.data(), false);
  const bool swap = size_native != 348 && size_native != 540;
  const int32_t header_size = read_scalar<int32_t>(header.data(), swap);
  MEDKD_CHECK(header_size == 348 || (header_size == 540 && got >= 540), "cannot read ",
              path.string(), ": not a NIfTI file (header size field is ", size_native, ")");
  const bool nifti2 = header_size == 540;
  const int16_t datatype = read_scalar<int16_t>(header.data() + (nifti2 ? 12 : 70), swap);
  // NIfTI data type codes: uint8 2, int16 4, int32 8, float32 16, complex64 32, float64 64,
  // rgb24 128, int8 256, uint16 512, uint32 768, int64 1024, uint64 1280.
  static const int16_t kKnown[] = {2, 4, 8, 16, 32, 64, 128, 256, 512, 768, 1024, 1280};
  MEDKD_CHECK(std::find(std::begin(kKnown), std::end(kKnown), datatype) != std::end(kKnown),
              "cannot read ", path.string(), ": corrupt NIfTI header (unknown data type code ",
              datatype, ")");
  std::array<int64_t, 8> dim{};
  for (int i = 0; i < 8; ++i)
    dim[i] = nifti2 ? read_scalar<int64_t>(header.data() + 16 + 8 * i, swap)
                    : read_scalar<int16_t>(header.data() + 40 + 2 * i, swap);
  MEDKD_CHECK(dim[0] >= 1 && dim[0] <= 7, "cannot read ", path.string(), ": corrupt NIfTI header (",
              dim[0], " dimensions)");
  for (int i = 1; i <= dim[0]; ++i)
    MEDKD_CHECK(dim[i] >= 1, "cannot read ", path.string(), ": corrupt NIfTI header (size ", dim[i],
                " along axis ", i, ")");
}

void check_file_complete(const fs::path& path, uint64_t data_bytes) {
  if (ends_with_lower(path, ".nii") || ends_with_lower(path, ".nii.gz")) {
    check_nifti(path, data_bytes);
  } else if (ends_with_lower(path, ".mha") || ends_with_lower(path, ".mhd")) {
    check_metaimage(path, data_bytes);
  }
}

}  // namespace medkd::io
