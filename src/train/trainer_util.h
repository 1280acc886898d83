// Internal to the train layer: how the Trainer and Evaluate find a classifier's input and
// logits and check a data set against them. Public API lives in train/trainer.h.
// Thread safety: pure functions.
#pragma once

#include <string>

#include "core/status.h"
#include "graph/ir.h"
#include "train/data.h"

namespace greenai::train {

struct ModelIo {
  std::string input;   // first graph input that is not an initializer (float32, [batch, ...])
  std::string logits;  // first graph output, [batch, classes]
  Shape sample;        // input dims after the batch (-1 = any)
  int64_t classes = 0;
};

Result<ModelIo> FindModelIo(const Model& model);

// Sample shape equal to io.sample (unknown dims match anything), class count <= io.classes,
// at least one sample. The message names the data set, both shapes and the rule.
Status CheckDatasetFits(const ModelIo& io, const Dataset& ds);

}  // namespace greenai::train
