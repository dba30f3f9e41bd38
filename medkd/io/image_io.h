// Reading and writing medical images through ITK: NIfTI (.nii, .nii.gz), MetaImage (.mha, .mhd),
// NRRD (.nrrd, .nhdr) and DICOM series (read from a folder; write for export and tests).
//
// Integer files are read into integer tensors of the same width (uint8, int8, int16, int32; uint16
// into int32 and wider into int64), floating-point files into float32, so label maps stay integers.
// Writing keeps the tensor's type. 2-D files read as one slice (Z = 1); 4-D and vector images are
// rejected with a message, as medkd stores one file per channel (the nnU-Net layout).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "medkd/io/image.h"

namespace medkd::io {

// What a file holds, read from its header only (cheap).
struct ImageHeader {
  std::array<int64_t, 3> size_xyz{1, 1, 1};
  Geometry geometry;
  int dimensions = 3;          // as stored in the file
  int components = 1;          // per voxel
  bool is_integer = false;     // integer component type
  std::string component_type;  // ITK's name: "unsigned_char", "float", ...
};

// True for the endings listed above (".nii.gz" counts as one ending).
bool is_image_file(const std::filesystem::path& path);
// The image ending of a file name (".nii.gz", ".mha", ...) or "" if it has none.
std::string image_file_ending(const std::filesystem::path& path);
// The file name without its image ending: "case_0000.nii.gz" -> "case_0000".
std::string strip_image_ending(const std::filesystem::path& path);

ImageHeader read_image_header(const std::filesystem::path& path);

// One file -> Image with one channel.
Image read_image(const std::filesystem::path& path);

// One file per channel -> Image with as many channels, converted to float32. Every channel must
// have the first one's size and geometry (within `tolerance`), else medkd::Error naming the file.
Image read_channels(const std::vector<std::filesystem::path>& paths, double tolerance = 1e-4);

// Reads a DICOM series from a folder (the first series found, or the one with `series_uid`) as a
// one-channel float32 image in the modality's units (CT: Hounsfield units after rescale).
Image read_dicom_series(const std::filesystem::path& folder, const std::string& series_uid = "");

// Writes a one-channel image, atomically (temporary name, then rename). Compression is used
// where the format allows it (.nii.gz, .mha, .nrrd).
void write_image(const Image& image, const std::filesystem::path& path);

// Writes a one-channel image as a DICOM series of int16 slices (one file per slice) into `folder`.
void write_dicom_series(const Image& image, const std::filesystem::path& folder);

}  // namespace medkd::io
