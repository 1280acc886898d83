// Data for calibration and for the sensitivity report: batches cut from a classification
// Dataset (train/data.h) shaped for a model's one float input, and top-1 accuracy.
//
// Contract:
//  - The model has exactly one non-initializer float32 input; its batch dim (dims[0]) is
//    taken when fixed, else `batch` is used. A sample whose element count differs from the
//    input's per-sample element count is an error naming the input and both shapes (so
//    calibration data of the wrong shape never runs silently); equal counts are reshaped
//    (a [1, 28, 28] image feeds a [batch, 784] MLP).
//  - With a fixed batch dim, a final partial batch is dropped (and not counted).
//  - Top1 compares the argmax of the first output [batch, classes] with the labels.
// Thread safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "compress/quantize/quantize.h"
#include "train/data.h"

namespace greenai::compress {

// "fashion-mnist:512" -> ("fashion-mnist", 512); "npy:DIR" -> ("npy:DIR", 0); a plain
// directory -> ("npy:DIR", 0). The count is taken only when the text after the last ':' is
// all digits.
std::pair<std::string, int64_t> ParseDataSpec(const std::string& spec);

Result<std::vector<Feeds>> DatasetBatches(const Model& model, const train::Dataset& ds, int64_t limit,
                                          int64_t batch = 32);

struct Top1Result {
  double accuracy = 0;  // 0..1
  int64_t samples = 0;
  std::vector<int64_t> predictions;  // per evaluated sample
};
Result<Top1Result> Top1(const Model& model, const train::Dataset& ds, int64_t limit, int64_t batch = 64);

}  // namespace greenai::compress
