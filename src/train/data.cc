#include "train/data.h"

#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/npy.h"

namespace greenai::train {
namespace {

// gzFile closer; gzopen reads plain files transparently, so one path serves both.
struct GzCloser {
  void operator()(gzFile_s* f) const { if (f) gzclose(f); }
};
using GzPtr = std::unique_ptr<gzFile_s, GzCloser>;

// Reads exactly n bytes or explains why not (truncation or a gzip error).
Status GzReadExact(gzFile f, const std::string& path, void* dst, size_t n, const char* what) {
  auto* p = static_cast<unsigned char*>(dst);
  size_t done = 0;
  while (done < n) {
    unsigned chunk = static_cast<unsigned>(std::min<size_t>(n - done, size_t{1} << 30));
    int got = gzread(f, p + done, chunk);
    if (got < 0) {
      int errnum = 0;
      const char* msg = gzerror(f, &errnum);
      return IoError("IDX file '{}': gzip error while reading {}: {}", path, what, msg ? msg : "unknown");
    }
    if (got == 0) {
      return InvalidArgument("IDX file '{}': truncated: {} needs {} bytes but only {} are present", path,
                             what, n, done);
    }
    done += static_cast<size_t>(got);
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<TensorDataset>> TensorDataset::Create(Tensor x, std::vector<int64_t> labels,
                                                             int64_t num_classes, std::string name) {
  if (x.dtype() != DType::kF32 || x.rank() < 1)
    return InvalidArgument("dataset '{}': features must be float32 with rank >= 1, got {} of rank {}", name,
                           DTypeName(x.dtype()), x.rank());
  if (x.dim(0) != static_cast<int64_t>(labels.size()))
    return InvalidArgument("dataset '{}': {} feature rows but {} labels (counts must match)", name, x.dim(0),
                           labels.size());
  if (num_classes <= 0) return InvalidArgument("dataset '{}': class count {} must be positive", name, num_classes);
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= num_classes)
      return OutOfRange("dataset '{}': label {} of sample {} is outside [0, {}) for {} classes", name, labels[i],
                        i, num_classes, num_classes);
  }
  auto ds = std::unique_ptr<TensorDataset>(new TensorDataset());
  ds->sample_shape_ = Shape(x.shape().begin() + 1, x.shape().end());
  ds->sample_numel_ = NumElements(ds->sample_shape_);
  ds->x_ = std::move(x);
  ds->labels_ = std::move(labels);
  ds->num_classes_ = num_classes;
  ds->name_ = std::move(name);
  return ds;
}

void TensorDataset::CopySample(int64_t i, float* dst) const {
  std::memcpy(dst, x_.data<float>() + i * sample_numel_, static_cast<size_t>(sample_numel_) * sizeof(float));
}

Result<Tensor> ReadIdxFile(const std::string& path, int64_t limit) {
  if (!std::filesystem::exists(path)) return NotFound("IDX file '{}': does not exist", path);
  GzPtr f(gzopen(path.c_str(), "rb"));
  if (!f) return IoError("IDX file '{}': cannot open", path);
  unsigned char magic[4];
  GREENAI_RETURN_IF_ERROR(GzReadExact(f.get(), path, magic, 4, "the magic number"));
  if (magic[0] != 0 || magic[1] != 0)
    return InvalidArgument("IDX file '{}': bad magic {:02x}{:02x}{:02x}{:02x} (must start with two zero bytes)",
                           path, magic[0], magic[1], magic[2], magic[3]);
  if (magic[2] != 0x08)
    return Unimplemented("IDX file '{}': element type 0x{:02x} is not supported (only unsigned byte 0x08)", path,
                         magic[2]);
  const int ndims = magic[3];
  if (ndims < 1 || ndims > 4)
    return InvalidArgument("IDX file '{}': {} dimensions declared (expects 1 to 4)", path, ndims);
  Shape dims(static_cast<size_t>(ndims));
  for (int d = 0; d < ndims; ++d) {
    unsigned char b[4];
    GREENAI_RETURN_IF_ERROR(GzReadExact(f.get(), path, b, 4, "the dimension sizes"));
    dims[static_cast<size_t>(d)] = (int64_t{b[0]} << 24) | (int64_t{b[1]} << 16) | (int64_t{b[2]} << 8) | b[3];
  }
  const int64_t declared = dims[0];
  if (limit > 0 && dims[0] > limit) dims[0] = limit;
  GREENAI_ASSIGN_OR_RETURN(int64_t numel, CheckedNumElements(dims));
  (void)numel;
  GREENAI_ASSIGN_OR_RETURN(Tensor t, Tensor::Create(DType::kU8, dims));
  GREENAI_RETURN_IF_ERROR(GzReadExact(f.get(), path, t.raw(), t.nbytes(), "the data"));
  if (dims[0] == declared) {
    // Bytes past the declared data mean the header and the payload disagree.
    unsigned char extra;
    int got = gzread(f.get(), &extra, 1);
    if (got > 0)
      return InvalidArgument("IDX file '{}': trailing data after {} declared items (header and size disagree)",
                             path, declared);
    if (got < 0) {
      int errnum = 0;
      return IoError("IDX file '{}': gzip error at end of data: {}", path, gzerror(f.get(), &errnum));
    }
  }
  return t;
}

Result<std::unique_ptr<Dataset>> LoadIdx(const std::string& images_path, const std::string& labels_path,
                                         const DatasetOptions& opts) {
  GREENAI_ASSIGN_OR_RETURN(Tensor img, ReadIdxFile(images_path, opts.limit));
  GREENAI_ASSIGN_OR_RETURN(Tensor lab, ReadIdxFile(labels_path, opts.limit));
  if (img.rank() < 2)
    return InvalidArgument("IDX file '{}': images need >= 2 dims [N, ...], got {}", images_path,
                           ShapeToString(img.shape()));
  if (lab.rank() != 1)
    return InvalidArgument("IDX file '{}': labels need 1 dim [N], got {}", labels_path, ShapeToString(lab.shape()));
  if (img.dim(0) != lab.dim(0))
    return InvalidArgument("IDX files '{}' and '{}': {} images but {} labels (counts must match)", images_path,
                           labels_path, img.dim(0), lab.dim(0));
  const int64_t classes = opts.num_classes > 0 ? opts.num_classes : 10;
  std::vector<int64_t> labels(static_cast<size_t>(lab.numel()));
  for (int64_t i = 0; i < lab.numel(); ++i) {
    labels[static_cast<size_t>(i)] = lab.data<uint8_t>()[i];
    if (labels[static_cast<size_t>(i)] >= classes)
      return OutOfRange("IDX file '{}': label {} of sample {} is outside [0, {}) for {} classes", labels_path,
                        labels[static_cast<size_t>(i)], i, classes, classes);
  }
  // Images as [N, 1, H, W] (or [N, 1, L] for 2-D files): channel-first for CNNs.
  Shape xs = img.shape();
  xs.insert(xs.begin() + 1, 1);
  GREENAI_ASSIGN_OR_RETURN(Tensor x, Tensor::Create(DType::kF32, xs));
  const uint8_t* src = img.data<uint8_t>();
  float* dst = x.data<float>();
  for (int64_t i = 0; i < img.numel(); ++i) dst[i] = static_cast<float>(src[i]) * (1.0f / 255.0f);
  GREENAI_ASSIGN_OR_RETURN(auto ds, TensorDataset::Create(std::move(x), std::move(labels), classes, images_path));
  return std::unique_ptr<Dataset>(std::move(ds));
}

namespace {

// "<dir>/<stem>" with ".gz" when only the gzipped file exists.
std::string FindIdx(const std::string& dir, const std::string& stem) {
  std::filesystem::path p = std::filesystem::path(dir) / stem;
  if (std::filesystem::exists(p)) return p.string();
  std::filesystem::path gz = p;
  gz += ".gz";
  if (std::filesystem::exists(gz)) return gz.string();
  return p.string();  // let the reader report the missing file by its plain name
}

}  // namespace

Result<std::unique_ptr<Dataset>> LoadMnistFolder(const std::string& dir, Split split, const DatasetOptions& opts) {
  if (!std::filesystem::is_directory(dir)) return NotFound("MNIST folder '{}': not a directory", dir);
  const std::string prefix = split == Split::kTrain ? "train" : "t10k";
  return LoadIdx(FindIdx(dir, prefix + "-images-idx3-ubyte"), FindIdx(dir, prefix + "-labels-idx1-ubyte"), opts);
}

namespace {

Result<std::vector<int64_t>> LabelsFromTensor(const Tensor& y, const std::string& path) {
  if (!IsIntegerDType(y.dtype()))
    return InvalidArgument("NPY file '{}': labels must be an integer array, got {}", path, DTypeName(y.dtype()));
  if (y.rank() != 1 && !(y.rank() == 2 && y.dim(1) == 1))
    return InvalidArgument("NPY file '{}': labels must have shape [N] or [N, 1], got {}", path,
                           ShapeToString(y.shape()));
  std::vector<int64_t> out(static_cast<size_t>(y.numel()));
  for (int64_t i = 0; i < y.numel(); ++i) {
    double v = y.GetAsDouble(i);
    if (v < 0) return OutOfRange("NPY file '{}': label {} of sample {} is negative", path, v, i);
    out[static_cast<size_t>(i)] = static_cast<int64_t>(v);
  }
  return out;
}

Result<Tensor> ToFloat(const Tensor& x, const std::string& path) {
  if (x.dtype() == DType::kString || x.dtype() == DType::kUndefined)
    return InvalidArgument("NPY file '{}': features must be numeric, got {}", path, DTypeName(x.dtype()));
  if (x.dtype() == DType::kF32) return x;
  GREENAI_ASSIGN_OR_RETURN(Tensor f, Tensor::Create(DType::kF32, x.shape()));
  for (int64_t i = 0; i < x.numel(); ++i) f.data<float>()[i] = static_cast<float>(x.GetAsDouble(i));
  return f;
}

int64_t ClassCount(const std::vector<int64_t>& labels, int64_t declared) {
  if (declared > 0) return declared;
  int64_t mx = -1;
  for (int64_t l : labels) mx = std::max(mx, l);
  return mx + 1;
}

}  // namespace

Result<std::unique_ptr<Dataset>> LoadNpyFolder(const std::string& dir, Split split, const DatasetOptions& opts) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) return NotFound("NPY folder '{}': not a directory", dir);
  const std::string suffix = split == Split::kTrain ? "_train" : "_test";
  fs::path xp = fs::path(dir) / ("x" + suffix + ".npy"), yp = fs::path(dir) / ("y" + suffix + ".npy");
  if (!fs::exists(xp)) {
    xp = fs::path(dir) / "x.npy";
    yp = fs::path(dir) / "y.npy";
  }
  if (!fs::exists(xp)) return NotFound("NPY folder '{}': neither x{}.npy nor x.npy exists", dir, suffix);
  if (!fs::exists(yp)) return NotFound("NPY folder '{}': labels file '{}' does not exist", dir, yp.string());
  GREENAI_ASSIGN_OR_RETURN(Tensor xr, LoadNpy(xp.string()));
  GREENAI_ASSIGN_OR_RETURN(Tensor yr, LoadNpy(yp.string()));
  if (xr.rank() < 1) return InvalidArgument("NPY file '{}': features need shape [N, ...], got a scalar", xp.string());
  GREENAI_ASSIGN_OR_RETURN(Tensor x, ToFloat(xr, xp.string()));
  GREENAI_ASSIGN_OR_RETURN(auto labels, LabelsFromTensor(yr, yp.string()));
  if (x.dim(0) != static_cast<int64_t>(labels.size()))
    return InvalidArgument("NPY files '{}' and '{}': {} samples but {} labels (counts must match)", xp.string(),
                           yp.string(), x.dim(0), labels.size());
  if (opts.limit > 0 && x.dim(0) > opts.limit) {
    Shape s = x.shape();
    s[0] = opts.limit;
    GREENAI_ASSIGN_OR_RETURN(Tensor cut, Tensor::Create(DType::kF32, s));
    std::memcpy(cut.raw(), x.raw(), cut.nbytes());
    x = cut;
    labels.resize(static_cast<size_t>(opts.limit));
  }
  GREENAI_ASSIGN_OR_RETURN(auto ds, TensorDataset::Create(std::move(x), labels, ClassCount(labels, opts.num_classes),
                                                          xp.string()));
  return std::unique_ptr<Dataset>(std::move(ds));
}

namespace {

bool ParseDouble(std::string_view s, double* out) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

std::vector<std::string_view> SplitCommas(std::string_view line) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t c = line.find(',', start);
    out.push_back(line.substr(start, c == std::string_view::npos ? std::string_view::npos : c - start));
    if (c == std::string_view::npos) break;
    start = c + 1;
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<Dataset>> LoadCsv(const std::string& path, const DatasetOptions& opts) {
  std::ifstream in(path);
  if (!in) return NotFound("CSV file '{}': cannot open", path);
  std::vector<float> feats;
  std::vector<int64_t> labels;
  size_t width = 0;
  std::string line;
  int64_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty() || line == "\r") continue;
    auto fields = SplitCommas(line);
    double label;
    if (!ParseDouble(fields[0], &label)) {
      if (labels.empty() && lineno == 1) continue;  // header
      return InvalidArgument("CSV file '{}' line {}: label '{}' is not a number", path, lineno, fields[0]);
    }
    if (label < 0 || label != static_cast<double>(static_cast<int64_t>(label)))
      return InvalidArgument("CSV file '{}' line {}: label {} must be a non-negative integer", path, lineno, label);
    if (fields.size() < 2) return InvalidArgument("CSV file '{}' line {}: no feature columns after the label", path, lineno);
    if (width == 0) width = fields.size() - 1;
    if (fields.size() - 1 != width)
      return InvalidArgument("CSV file '{}' line {}: {} features but earlier lines have {} (rows must match)", path,
                             lineno, fields.size() - 1, width);
    for (size_t i = 1; i < fields.size(); ++i) {
      double v;
      if (!ParseDouble(fields[i], &v))
        return InvalidArgument("CSV file '{}' line {}: field {} '{}' is not a number", path, lineno, i + 1, fields[i]);
      feats.push_back(static_cast<float>(v));
    }
    labels.push_back(static_cast<int64_t>(label));
    if (opts.limit > 0 && static_cast<int64_t>(labels.size()) >= opts.limit) break;
  }
  if (labels.empty()) return InvalidArgument("CSV file '{}': no samples", path);
  GREENAI_ASSIGN_OR_RETURN(Tensor x, Tensor::Create(DType::kF32, {static_cast<int64_t>(labels.size()),
                                                                   static_cast<int64_t>(width)}));
  std::memcpy(x.raw(), feats.data(), x.nbytes());
  GREENAI_ASSIGN_OR_RETURN(auto ds,
                           TensorDataset::Create(std::move(x), labels, ClassCount(labels, opts.num_classes), path));
  return std::unique_ptr<Dataset>(std::move(ds));
}

Result<std::unique_ptr<Dataset>> LoadDataset(const std::string& spec, Split split, const DatasetOptions& opts) {
  auto after = [&](std::string_view prefix) { return spec.substr(prefix.size()); };
  if (spec == "fashion-mnist") return LoadMnistFolder(kFashionMnistDir, split, opts);
  if (spec.rfind("mnist-idx:", 0) == 0) return LoadMnistFolder(after("mnist-idx:"), split, opts);
  if (spec.rfind("npy:", 0) == 0) return LoadNpyFolder(after("npy:"), split, opts);
  if (spec.rfind("csv:", 0) == 0) return LoadCsv(after("csv:"), opts);
  return InvalidArgument("dataset spec '{}': unknown (expects fashion-mnist, mnist-idx:DIR, npy:DIR or csv:FILE)",
                         spec);
}

}  // namespace greenai::train
