// Fine-tuning a compressed model with the Trainer (train/trainer.h): the weights that pruning
// zeroed stay zero (a MaskHook over every Gemm/MatMul/Conv weight that has zeros), so sparse
// and structured results survive the recovery epochs.
// Contract: the model must be a classifier the Trainer accepts (one float input, logits as
// first output); on error the model is unchanged. Thread safety: one call per model.
#pragma once

#include <cstdint>

#include "core/status.h"
#include "graph/ir.h"
#include "train/data.h"

namespace greenai::compress {

struct FinetuneOptions {
  int64_t epochs = 1;
  int64_t batch = 128;
  double lr = 5e-4;
  uint64_t seed = 1;
  int threads = 0;
  bool keep_zeros = true;  // re-apply the zero mask after every optimizer step
  bool progress = true;
};

Status Finetune(Model& model, const train::Dataset& train_set, const FinetuneOptions& options);

}  // namespace greenai::compress
