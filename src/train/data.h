// Data sets for training and evaluation: an in-memory classification Dataset and the
// readers that fill it (IDX/MNIST-format, NPY folder, CSV), plus dataset-spec parsing.
//
// Contract:
//  - A Dataset is N samples, each a float32 tensor of sample_shape() and an int64 class
//    label in [0, num_classes()). Readers check every label against the class count and
//    fail with a message naming the file, the sample index, the value and the rule.
//  - IDX images (ubyte) are scaled to [0, 1] and shaped [1, H, W] (channel-first, so CNNs
//    take them directly; MLPs flatten). Files may be gzipped or not (zlib detects it).
//  - NPY features keep their values (converted to float32; no scaling); labels must be an
//    integer array of length N. CSV: one sample per line, label first, features after;
//    a first line whose first field is not a number is a header and is skipped.
//  - Specs: "fashion-mnist" (the Debian files), "mnist-idx:DIR", "npy:DIR", "csv:FILE".
//    For npy:DIR the split picks x_train.npy/y_train.npy or x_test.npy/y_test.npy and
//    falls back to x.npy/y.npy. csv:FILE has no split (the same file for both).
//  - Errors never crash: missing files, wrong magic, truncated or trailing data, gzip
//    errors, count mismatches between images and labels, and out-of-range labels return a
//    one-line Status naming the file and the rule.
//  - Thread safety: a loaded Dataset is immutable; reads from many threads are safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"

namespace greenai::train {

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  virtual const Shape& sample_shape() const = 0;
  virtual int64_t num_classes() const = 0;
  // REQUIRES: 0 <= i < size().
  virtual int64_t label(int64_t i) const = 0;
  // Writes NumElements(sample_shape()) floats to dst. REQUIRES: 0 <= i < size().
  virtual void CopySample(int64_t i, float* dst) const = 0;
  // Short description for messages ("fashion-mnist train").
  virtual const std::string& name() const = 0;
};

// Features held as one float32 tensor [N, ...sample_shape].
class TensorDataset final : public Dataset {
 public:
  // x: float32 with rank >= 1; labels.size() == x.dim(0); every label in [0, num_classes).
  static Result<std::unique_ptr<TensorDataset>> Create(Tensor x, std::vector<int64_t> labels,
                                                       int64_t num_classes, std::string name);
  int64_t size() const override { return static_cast<int64_t>(labels_.size()); }
  const Shape& sample_shape() const override { return sample_shape_; }
  int64_t num_classes() const override { return num_classes_; }
  int64_t label(int64_t i) const override { return labels_[static_cast<size_t>(i)]; }
  void CopySample(int64_t i, float* dst) const override;
  const std::string& name() const override { return name_; }
  const Tensor& features() const { return x_; }

 private:
  TensorDataset() = default;
  Tensor x_;
  Shape sample_shape_;
  std::vector<int64_t> labels_;
  int64_t num_classes_ = 0;
  int64_t sample_numel_ = 0;
  std::string name_;
};

enum class Split { kTrain, kTest };

struct DatasetOptions {
  // Declared class count; 0 = the format's default (10 for IDX, max label + 1 otherwise).
  int64_t num_classes = 0;
  // Read at most this many samples (0 = all); for quick runs and tests.
  int64_t limit = 0;
};

// Reads one IDX file (gzipped or not) into a uint8 tensor with the file's dims.
// Only the unsigned-byte element type (0x08) is accepted.
Result<Tensor> ReadIdxFile(const std::string& path, int64_t limit = 0);

// images: IDX with >= 2 dims [N, ...]; labels: IDX with 1 dim [N].
Result<std::unique_ptr<Dataset>> LoadIdx(const std::string& images_path, const std::string& labels_path,
                                         const DatasetOptions& opts = {});
// DIR holds train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-... .
Result<std::unique_ptr<Dataset>> LoadMnistFolder(const std::string& dir, Split split,
                                                 const DatasetOptions& opts = {});
Result<std::unique_ptr<Dataset>> LoadNpyFolder(const std::string& dir, Split split,
                                               const DatasetOptions& opts = {});
Result<std::unique_ptr<Dataset>> LoadCsv(const std::string& path, const DatasetOptions& opts = {});

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// "fashion-mnist" | "mnist-idx:DIR" | "npy:DIR" | "csv:FILE".
Result<std::unique_ptr<Dataset>> LoadDataset(const std::string& spec, Split split,
                                             const DatasetOptions& opts = {});

}  // namespace greenai::train
