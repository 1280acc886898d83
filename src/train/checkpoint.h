// Training checkpoints: the model with its current parameters plus the state needed to
// continue exactly where a run stopped (optimizer buffers, epoch, batch, step, seed and the
// running sums of the epoch in progress).
//
// Files, for a checkpoint prefix P:
//   P.onnx   the model in inference form (a plain ONNX model; `greenai eval P.onnx` works)
//   P.state  an ONNX container whose initializers are the optimizer buffers
//            ("<param>/<buffer>", "step") and whose metadata "greenai.train_state" is a JSON
//            object with the counters below.
// Both files are written atomically (core/file_util.h), the state first; each records the
// step, and LoadCheckpoint refuses a pair whose steps differ (a run killed between the two
// renames), so a resume never mixes two points of a run.
//
// Contract: errors name the file and the rule (missing file, not a greenai checkpoint,
// mismatched steps, malformed JSON). Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "graph/ir.h"
#include "train/optim.h"

namespace greenai::train {

struct TrainState {
  int64_t epoch = 0;  // epoch in progress (or the next one, when batch == 0)
  int64_t batch = 0;  // batches of `epoch` already trained
  int64_t step = 0;   // optimizer steps since the start of training
  uint64_t seed = 0;
  std::string optimizer;  // "adamw" | "sgd"
  double epoch_loss_sum = 0;  // sum over trained samples of this epoch
  int64_t epoch_correct = 0;
  int64_t epoch_seen = 0;
  NamedTensors optimizer_state;
};

std::string CheckpointModelPath(const std::string& prefix);
std::string CheckpointStatePath(const std::string& prefix);
bool CheckpointExists(const std::string& prefix);

Status SaveCheckpoint(const std::string& prefix, const Model& model, const TrainState& state);

struct LoadedCheckpoint {
  std::unique_ptr<Model> model;
  TrainState state;
};
Result<LoadedCheckpoint> LoadCheckpoint(const std::string& prefix);

}  // namespace greenai::train
