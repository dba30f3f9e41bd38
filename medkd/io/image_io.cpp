#include "medkd/io/image_io.h"

#include <algorithm>
#include <cstring>
#include <iomanip>
#include <mutex>
#include <random>
#include <sstream>

#include "itkGDCMImageIO.h"
#include "itkGDCMSeriesFileNames.h"
#include "itkImage.h"
#include "itkImageFileReader.h"
#include "itkImageFileWriter.h"
#include "itkImageIOFactory.h"
#include "itkImageSeriesReader.h"
#include "itkImageSeriesWriter.h"
#include "itkMetaDataObject.h"
#include "itkMultiThreaderBase.h"
#include "medkd/core/atomic_file.h"
#include "medkd/core/error.h"
#include "medkd/io/file_integrity.h"

namespace medkd::io {
namespace fs = std::filesystem;

namespace {

constexpr unsigned kDims = 3;

// ITK's exception text spans several lines with source locations; users need the description.
std::string one_line(const itk::ExceptionObject& e) {
  std::string text = e.GetDescription();
  // Drop ITK's "ITK ERROR: NiftiImageIO(0x55d...): " prefix; the caller names the file.
  if (text.rfind("ITK ERROR: ", 0) == 0) {
    const auto end = text.find("): ");
    if (end != std::string::npos) text = text.substr(end + 3);
  }
  std::replace(text.begin(), text.end(), '\n', ' ');
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

template <typename ItkImage>
Geometry geometry_of(const ItkImage* image) {
  Geometry g;
  const auto spacing = image->GetSpacing();
  const auto origin = image->GetOrigin();
  const auto direction = image->GetDirection();
  for (unsigned i = 0; i < kDims; ++i) {
    g.spacing[i] = spacing[i];
    g.origin[i] = origin[i];
    for (unsigned j = 0; j < kDims; ++j) g.direction[i * 3 + j] = direction[i][j];
  }
  return g;
}

template <typename ItkImage>
void set_geometry(ItkImage* image, const Geometry& g) {
  typename ItkImage::SpacingType spacing;
  typename ItkImage::PointType origin;
  typename ItkImage::DirectionType direction;
  for (unsigned i = 0; i < kDims; ++i) {
    spacing[i] = g.spacing[i];
    origin[i] = g.origin[i];
    for (unsigned j = 0; j < kDims; ++j) direction[i][j] = g.direction[i * 3 + j];
  }
  image->SetSpacing(spacing);
  image->SetOrigin(origin);
  image->SetDirection(direction);
}

// Once per process, before any other ITK use (every entry point of this file calls it first):
//  - ITK prints warnings (an empty DICOM folder, an unusual header) to stderr; medkd reports
//    problems itself as errors, so ITK's own output is switched off;
//  - ITK 5.2 creates its global singletons (object factories, the data-object release flag, the
//    multithreader defaults) lazily and without a lock, so two threads that use ITK for the first
//    time at once can corrupt the heap (ITK issue #5493). Cases are read from worker threads
//    (dataset check, fingerprint, preprocessing): the singletons are created here, under
//    call_once, and every other thread waits for that.
void prepare_itk() {
  static std::once_flag once;
  std::call_once(once, [] {
    itk::Object::GlobalWarningDisplayOff();
    itk::DataObject::New()->ShouldIReleaseData();
    itk::MultiThreaderBase::New();
    for (const char* name : {"a.nii.gz", "a.mha", "a.nrrd"}) {
      itk::ImageIOFactory::CreateImageIO(name, itk::ImageIOFactory::IOFileModeEnum::ReadMode);
      itk::ImageIOFactory::CreateImageIO(name, itk::ImageIOFactory::IOFileModeEnum::WriteMode);
    }
    itk::Image<float, 3>::New()->Initialize();
  });
}

void require_file(const fs::path& path) {
  prepare_itk();
  std::error_code ec;
  MEDKD_CHECK(fs::exists(path, ec), "cannot read ", path.string(), ": no such file");
  MEDKD_CHECK(fs::is_regular_file(path, ec), "cannot read ", path.string(), ": not a file");
}

itk::ImageIOBase::Pointer open_image_io(const fs::path& path) {
  require_file(path);
  check_nifti_header(path);
  auto io = itk::ImageIOFactory::CreateImageIO(path.c_str(),
                                               itk::ImageIOFactory::IOFileModeEnum::ReadMode);
  MEDKD_CHECK(io, "cannot read ", path.string(),
              ": not a readable NIfTI, MetaImage or NRRD file (wrong ending or corrupt header)");
  io->SetFileName(path.string());
  try {
    io->ReadImageInformation();
  } catch (const itk::ExceptionObject& e) {
    throw Error(str("cannot read header of ", path.string(), ": ", one_line(e)));
  }
  return io;
}

// Reads `path` into an ITK image of pixel type P and copies it into a tensor of `dtype`.
template <typename P>
Image read_as(const fs::path& path, torch::ScalarType dtype) {
  using ItkImage = itk::Image<P, kDims>;
  auto reader = itk::ImageFileReader<ItkImage>::New();
  reader->SetFileName(path.string());
  try {
    reader->Update();
  } catch (const itk::ExceptionObject& e) {
    throw Error(str("cannot read ", path.string(), ": ", one_line(e)));
  }
  const ItkImage* image = reader->GetOutput();
  const auto size = image->GetLargestPossibleRegion().GetSize();
  Image out;
  out.geometry = geometry_of(image);
  out.data = torch::empty({1, int64_t(size[2]), int64_t(size[1]), int64_t(size[0])},
                          torch::TensorOptions().dtype(dtype));
  static_assert(sizeof(P) > 0);
  MEDKD_CHECK(out.data.element_size() == int64_t(sizeof(P)), "internal: element size mismatch");
  std::memcpy(out.data.data_ptr(), image->GetBufferPointer(), out.data.numel() * sizeof(P));
  return out;
}

template <typename P>
void write_as(const Image& image, const fs::path& path) {
  using ItkImage = itk::Image<P, kDims>;
  const auto size_xyz = image.size_xyz();
  auto itk_image = ItkImage::New();
  typename ItkImage::RegionType region;
  typename ItkImage::SizeType size;
  for (unsigned i = 0; i < kDims; ++i) size[i] = size_xyz[i];
  region.SetSize(size);
  itk_image->SetRegions(region);
  set_geometry(itk_image.GetPointer(), image.geometry);
  itk_image->Allocate();
  const torch::Tensor data = image.data.contiguous();
  std::memcpy(itk_image->GetBufferPointer(), data.data_ptr(), data.numel() * sizeof(P));
  auto writer = itk::ImageFileWriter<ItkImage>::New();
  writer->SetFileName(path.string());
  writer->SetInput(itk_image);
  writer->SetUseCompression(true);
  try {
    writer->Update();
  } catch (const itk::ExceptionObject& e) {
    throw Error(str("cannot write ", path.string(), ": ", one_line(e)));
  }
}

// Formats like .mhd and .nhdr write a header and a data file that the header names, so the
// temporary copy is written under the final names inside a temporary folder and then moved
// into place, data files first and the header last.
void write_files_atomically(const fs::path& target,
                            const std::function<void(const fs::path&)>& write) {
  const fs::path folder = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  std::error_code ec;
  fs::create_directories(folder, ec);
  MEDKD_CHECK(!ec, "cannot create folder ", folder.string(), ": ", ec.message());
  const fs::path tmp = core::temporary_sibling(folder / "dir");
  try {
    fs::create_directories(tmp);
    write(tmp / target.filename());
    for (const auto& entry : fs::directory_iterator(tmp)) {
      if (entry.path().filename() != target.filename())
        fs::rename(entry.path(), folder / entry.path().filename());
    }
    fs::rename(tmp / target.filename(), target);
    fs::remove_all(tmp, ec);
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

std::string image_file_ending(const fs::path& path) {
  const std::string name = lower(path.filename().string());
  for (const char* ending : {".nii.gz", ".nii", ".mha", ".mhd", ".nrrd", ".nhdr"}) {
    const std::string e = ending;
    if (name.size() > e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0)
      return path.filename().string().substr(name.size() - e.size());
  }
  return "";
}

bool is_image_file(const fs::path& path) { return !image_file_ending(path).empty(); }

std::string strip_image_ending(const fs::path& path) {
  const std::string name = path.filename().string();
  return name.substr(0, name.size() - image_file_ending(path).size());
}

ImageHeader read_image_header(const fs::path& path) {
  auto io = open_image_io(path);
  ImageHeader header;
  header.dimensions = static_cast<int>(io->GetNumberOfDimensions());
  header.components = static_cast<int>(io->GetNumberOfComponents());
  const auto type = io->GetComponentType();
  header.component_type = itk::ImageIOBase::GetComponentTypeAsString(type);
  header.is_integer = type != itk::IOComponentEnum::FLOAT && type != itk::IOComponentEnum::DOUBLE;
  for (unsigned i = 0; i < std::min<unsigned>(kDims, io->GetNumberOfDimensions()); ++i) {
    header.size_xyz[i] = static_cast<int64_t>(io->GetDimensions(i));
    header.geometry.spacing[i] = io->GetSpacing(i);
    header.geometry.origin[i] = io->GetOrigin(i);
    const auto axis = io->GetDirection(i);  // column i of the direction matrix
    for (unsigned r = 0; r < std::min<size_t>(kDims, axis.size()); ++r)
      header.geometry.direction[r * 3 + i] = axis[r];
  }
  return header;
}

Image read_image(const fs::path& path) {
  const ImageHeader header = read_image_header(path);
  MEDKD_CHECK(header.dimensions >= 2 && header.dimensions <= 3, "cannot read ", path.string(), ": ",
              header.dimensions,
              "-D image; medkd expects 2-D or 3-D images with one file per channel");
  MEDKD_CHECK(header.components == 1, "cannot read ", path.string(), ": ", header.components,
              " components per voxel; medkd expects one file per channel");
  using C = itk::IOComponentEnum;
  auto io = open_image_io(path);
  check_file_complete(path, io->GetImageSizeInBytes());
  switch (io->GetComponentType()) {
    case C::UCHAR:
      return read_as<uint8_t>(path, torch::kUInt8);
    case C::CHAR:
      return read_as<int8_t>(path, torch::kInt8);
    case C::SHORT:
      return read_as<int16_t>(path, torch::kInt16);
    case C::USHORT:
    case C::INT:
      return read_as<int32_t>(path, torch::kInt32);
    case C::UINT:
    case C::LONG:
    case C::ULONG:
    case C::LONGLONG:
    case C::ULONGLONG:
      return read_as<int64_t>(path, torch::kInt64);
    case C::FLOAT:
    case C::DOUBLE:
      return read_as<float>(path, torch::kFloat32);
    default:
      throw Error(
          str("cannot read ", path.string(), ": unsupported voxel type ", header.component_type));
  }
}

Image read_channels(const std::vector<fs::path>& paths, double tolerance) {
  MEDKD_CHECK(!paths.empty(), "no channel files given");
  std::vector<torch::Tensor> channels;
  Image first;
  std::array<int64_t, 3> first_size{};
  for (size_t c = 0; c < paths.size(); ++c) {
    Image image = read_image(paths[c]);
    if (c == 0) {
      first.geometry = image.geometry;
      first_size = image.size_xyz();
    } else {
      MEDKD_CHECK(image.size_xyz() == first_size, paths[c].string(), ": size ",
                  format_size(image.size_xyz()), " differs from channel 0 (", paths[0].string(),
                  ", ", format_size(first_size), ")");
      const std::string diff = image.geometry.difference(first.geometry, tolerance);
      MEDKD_CHECK(diff.empty(), paths[c].string(), ": geometry differs from channel 0 (",
                  paths[0].string(), "): ", diff);
    }
    channels.push_back(image.data.to(torch::kFloat32));
  }
  first.data = torch::cat(channels, 0);
  return first;
}

Image read_dicom_series(const fs::path& folder, const std::string& series_uid) {
  prepare_itk();
  MEDKD_CHECK(fs::is_directory(folder), "cannot read DICOM series: ", folder.string(),
              " is not a folder");
  using ItkImage = itk::Image<float, kDims>;
  try {
    auto names = itk::GDCMSeriesFileNames::New();
    names->SetUseSeriesDetails(true);
    names->SetDirectory(folder.string());
    const auto& uids = names->GetSeriesUIDs();
    MEDKD_CHECK(!uids.empty(), "no DICOM series in ", folder.string());
    std::string uid = uids.front();
    if (!series_uid.empty()) {
      MEDKD_CHECK(std::find(uids.begin(), uids.end(), series_uid) != uids.end(),
                  "no DICOM series with UID ", series_uid, " in ", folder.string());
      uid = series_uid;
    }
    auto reader = itk::ImageSeriesReader<ItkImage>::New();
    reader->SetImageIO(itk::GDCMImageIO::New());
    reader->SetFileNames(names->GetFileNames(uid));
    reader->Update();
    const ItkImage* image = reader->GetOutput();
    const auto size = image->GetLargestPossibleRegion().GetSize();
    Image out;
    out.geometry = geometry_of(image);
    out.data = torch::empty({1, int64_t(size[2]), int64_t(size[1]), int64_t(size[0])});
    std::memcpy(out.data.data_ptr(), image->GetBufferPointer(), out.data.numel() * sizeof(float));
    return out;
  } catch (const itk::ExceptionObject& e) {
    throw Error(str("cannot read DICOM series in ", folder.string(), ": ", one_line(e)));
  }
}

void write_image(const Image& image, const fs::path& path) {
  prepare_itk();
  MEDKD_CHECK(image.data.defined() && image.data.dim() == 4, "cannot write ", path.string(),
              ": image data must be [C, Z, Y, X]");
  MEDKD_CHECK(image.channels() == 1, "cannot write ", path.string(), ": ", image.channels(),
              " channels; write one file per channel");
  MEDKD_CHECK(is_image_file(path), "cannot write ", path.string(),
              ": unknown image ending (use .nii.gz, .nii, .mha, .mhd, .nrrd or .nhdr)");
  Image cpu{image.data.to(torch::kCPU), image.geometry};
  write_files_atomically(path, [&](const fs::path& tmp) {
    switch (cpu.data.scalar_type()) {
      case torch::kBool:
        write_as<uint8_t>(Image{cpu.data.to(torch::kUInt8), cpu.geometry}, tmp);
        break;
      case torch::kUInt8:
        write_as<uint8_t>(cpu, tmp);
        break;
      case torch::kInt8:
        write_as<int8_t>(cpu, tmp);
        break;
      case torch::kInt16:
        write_as<int16_t>(cpu, tmp);
        break;
      case torch::kInt32:
        write_as<int32_t>(cpu, tmp);
        break;
      case torch::kInt64:
        write_as<int64_t>(cpu, tmp);
        break;
      case torch::kFloat32:
        write_as<float>(cpu, tmp);
        break;
      default:
        write_as<float>(Image{cpu.data.to(torch::kFloat32), cpu.geometry}, tmp);
        break;
    }
  });
}

void write_dicom_series(const Image& image, const fs::path& folder) {
  prepare_itk();
  MEDKD_CHECK(image.data.dim() == 4 && image.channels() == 1, "cannot write DICOM series to ",
              folder.string(), ": need a one-channel [1, Z, Y, X] image");
  using Volume = itk::Image<int16_t, 3>;
  using Slice = itk::Image<int16_t, 2>;
  const auto size_xyz = image.size_xyz();
  auto volume = Volume::New();
  Volume::RegionType region;
  Volume::SizeType size;
  for (unsigned i = 0; i < kDims; ++i) size[i] = size_xyz[i];
  region.SetSize(size);
  volume->SetRegions(region);
  set_geometry(volume.GetPointer(), image.geometry);
  volume->Allocate();
  const torch::Tensor data =
      image.data.to(torch::kCPU).round().clamp(-32768, 32767).to(torch::kInt16).contiguous();
  std::memcpy(volume->GetBufferPointer(), data.data_ptr(), data.numel() * sizeof(int16_t));

  // UIDs under the 2.25 root (UUID-derived, valid without a registered organisation root).
  std::random_device device;
  std::mt19937_64 random((uint64_t(device()) << 32) ^ device());
  auto make_uid = [&] { return str("2.25.", random() % 100000000000000000ULL, random() % 1000); };
  const std::string study = make_uid(), series = make_uid(), frame = make_uid();
  const Geometry& g = image.geometry;
  std::ostringstream orientation;
  orientation << std::setprecision(10) << g.direction[0] << '\\' << g.direction[3] << '\\'
              << g.direction[6] << '\\' << g.direction[1] << '\\' << g.direction[4] << '\\'
              << g.direction[7];
  auto io = itk::GDCMImageIO::New();
  io->KeepOriginalUIDOn();
  std::vector<itk::MetaDataDictionary> dictionaries(size_xyz[2]);
  std::vector<itk::MetaDataDictionary*> dictionary_pointers;
  for (int64_t z = 0; z < size_xyz[2]; ++z) {
    auto& d = dictionaries[z];
    std::ostringstream position;
    position << std::setprecision(10);
    for (int r = 0; r < 3; ++r) {
      position << (r ? "\\" : "") << g.origin[r] + g.direction[r * 3 + 2] * g.spacing[2] * z;
    }
    std::ostringstream pixel_spacing, thickness;
    pixel_spacing << std::setprecision(10) << g.spacing[1] << '\\' << g.spacing[0];
    thickness << std::setprecision(10) << g.spacing[2];
    auto set = [&](const char* tag, const std::string& value) {
      itk::EncapsulateMetaData<std::string>(d, tag, value);
    };
    // CT Image Storage: GDCM ignores the position and orientation tags of secondary captures.
    set("0008|0016", "1.2.840.10008.5.1.4.1.1.2");
    set("0008|0060", "CT");
    set("0028|0004", "MONOCHROME2");
    set("0010|0010", "medkd^export");
    set("0020|000d", study);
    set("0020|000e", series);
    set("0020|0052", frame);
    set("0008|0018", make_uid());
    set("0020|0013", std::to_string(z + 1));
    set("0020|0032", position.str());
    set("0020|0037", orientation.str());
    set("0028|0030", pixel_spacing.str());
    set("0018|0050", thickness.str());
    dictionary_pointers.push_back(&d);
  }
  std::error_code ec;
  fs::create_directories(folder, ec);
  MEDKD_CHECK(!ec, "cannot create folder ", folder.string(), ": ", ec.message());
  std::vector<std::string> names;
  for (int64_t z = 0; z < size_xyz[2]; ++z) {
    std::ostringstream name;
    name << "slice_" << std::setw(4) << std::setfill('0') << z << ".dcm";
    names.push_back((folder / name.str()).string());
  }
  auto writer = itk::ImageSeriesWriter<Volume, Slice>::New();
  writer->SetInput(volume);
  writer->SetImageIO(io);
  writer->SetFileNames(names);
  writer->SetMetaDataDictionaryArray(&dictionary_pointers);
  try {
    writer->Update();
  } catch (const itk::ExceptionObject& e) {
    throw Error(str("cannot write DICOM series to ", folder.string(), ": ", one_line(e)));
  }
}

}  // namespace medkd::io
