// Trainer: trains or fine-tunes any ONNX classifier Model on a Dataset, and Evaluate().
//
//   TrainOptions o;  o.epochs = 10;  o.batch_size = 128;  o.lr = 1e-3;  o.seed = 1;
//   auto t = Trainer::Create(model, o);                  // model: inference form
//   auto r = (*t)->Fit(*train_set, test_set.get());      // epochs, eval each epoch
//   auto m = (*t)->ExportModel();                        // inference form, trained params
//
// Contract:
//  - The model: one float input [batch, ...sample] (the first graph input that is not an
//    initializer) and logits [batch, classes] as its first output. Fit checks the dataset
//    against both (sample shape, class count) and fails naming the mismatch.
//  - The training graph, built once in Create: the model with BatchNormalization switched to
//    training mode (its running statistics come back as outputs and are copied into the
//    model after each step), Dropout replaced by Identity (no random masks on the CPU
//    kernels), SoftmaxCrossEntropyLoss(logits, labels) (mean), and BuildGradientGraph with a
//    constant seed of 1. One Session::Run per step returns loss, logits, the statistics and
//    every gradient; params are fed as inputs (the same tensors the optimizer updates).
//  - Params: TrainableParams(model) unless options.params is given, minus options.freeze.
//  - after_step (optional) runs on every param after every optimizer step, e.g. to re-apply
//    a pruning mask (MaskHook) so pruned weights stay zero.
//  - Distillation (options.teacher): loss = a*T^2*KL(softmax(t/T) || softmax(s/T)) + (1-a)*CE,
//    built in the graph (LogSoftmax, Mul, ReduceSum, ReduceMean) with the teacher's softened
//    probabilities fed per step from a second Session; the reported loss includes the
//    constant sum p log p so it equals loss.h's DistillKl formula.
//  - Checkpoints (options.checkpoint = prefix, see checkpoint.h): after every epoch and every
//    checkpoint_every steps. resume = true continues from the checkpoint exactly (same params,
//    optimizer state, data order and step), so an interrupted run ends identical to an
//    uninterrupted one. A non-finite loss stops training with FailedPrecondition naming the
//    epoch and step; the checkpoint on disk (the last good one) is left untouched.
//  - Determinism: for a given seed and thread count, results are identical run to run
//    (seeded init, shuffle and augmentation; kernels are deterministic).
//  - Thread safety: one thread uses a Trainer.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "graph/ir.h"
#include "train/data.h"

namespace greenai {
class Session;
}

namespace greenai::train {

class Optimizer;

struct EpochStats {
  int64_t epoch = 0;  // 0-based
  double train_loss = 0;
  double train_accuracy = 0;  // 0..1
  double eval_loss = -1;      // -1: no eval set
  double eval_accuracy = -1;
  double seconds = 0;
  double samples_per_s = 0;
  double joules = -1;  // from TrainOptions::joules at the end of the epoch; -1 if none
};

using ParamHook = std::function<Status(const std::string& name, Tensor& value)>;

// A hook that multiplies each named param by its mask (same shape) after every step.
ParamHook MaskHook(std::map<std::string, Tensor> masks);

struct TrainOptions {
  int64_t epochs = 1;
  int64_t batch_size = 64;
  std::string optimizer = "adamw";  // "adamw" | "sgd"
  double lr = 1e-3;
  double weight_decay = 1e-4;
  double momentum = 0.9;  // sgd
  bool cosine = true;     // cosine decay to 0 over all steps (else constant)
  int64_t warmup_steps = 0;
  uint64_t seed = 0;
  int num_threads = 0;  // 0 = all cores
  int64_t crop_padding = 0;
  bool hflip = false;
  int prefetch = 2;
  int64_t eval_batch = 256;

  std::vector<std::string> params;  // empty = TrainableParams(model)
  std::vector<std::string> freeze;
  ParamHook after_step;

  const Model* teacher = nullptr;  // distillation when set; must outlive the Trainer
  double distill_alpha = 0.5;
  double temperature = 4.0;

  std::string checkpoint;  // prefix; "" = no checkpoints
  int64_t checkpoint_every = 0;
  bool resume = false;
  int64_t max_steps = 0;  // stop after this many steps in this Fit call (0 = no limit)

  bool progress = true;
  std::function<double()> joules;   // energy so far, for the progress line
  std::string joules_label = "J";   // e.g. "J (estimated)"
  std::function<void(const EpochStats&)> on_epoch;
};

struct FitResult {
  std::vector<EpochStats> epochs;  // epochs completed in this call
  int64_t steps = 0;               // optimizer steps in total (including resumed ones)
  bool stopped_early = false;      // max_steps reached
};

// Float initializers that are weights of Conv/ConvTranspose/Gemm/MatMul, scale/bias of
// BatchNormalization/LayerNormalization/InstanceNormalization, and non-scalar float
// initializers added to or multiplied with a computed value (biases, position embeddings).
// BN running statistics are excluded (they are statistics, not params). Graph order.
std::vector<std::string> TrainableParams(const Model& model);

class Trainer {
 public:
  static Result<std::unique_ptr<Trainer>> Create(const Model& model, TrainOptions opts);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  Result<FitResult> Fit(const Dataset& train, const Dataset* eval = nullptr);
  // The model in inference form with the current params and BN statistics.
  Result<std::unique_ptr<Model>> ExportModel() const;
  const std::vector<std::string>& param_names() const { return param_names_; }

 private:
  Trainer() = default;
  struct Step;
  Status BuildTrainingGraph();
  Status CheckDataset(const Dataset& ds) const;
  Status Restore();
  Status Checkpoint(int64_t epoch, int64_t batch, double loss_sum, int64_t correct, int64_t seen);

  TrainOptions o_;
  std::unique_ptr<Model> model_;  // inference form; initializers replaced by live tensors
  std::string input_, logits_, labels_, teacher_probs_, teacher_input_;
  Shape sample_shape_;
  int64_t classes_ = 0;
  std::vector<std::string> param_names_;
  std::vector<Tensor> params_;  // live values fed to the session and updated in place
  std::vector<std::string> stat_names_;  // BN running mean/var initializers
  std::vector<Tensor> stats_;
  std::unique_ptr<Session> session_;
  std::unique_ptr<Session> teacher_;
  std::unique_ptr<Optimizer> opt_;
  int64_t step_ = 0, start_epoch_ = 0, start_batch_ = 0;
  double resume_loss_sum_ = 0;
  int64_t resume_correct_ = 0, resume_seen_ = 0;
};

struct EvalResult {
  double accuracy = 0;   // 0..1
  double mean_loss = 0;  // softmax cross-entropy, mean over samples
  int64_t samples = 0;
};

// Top-1 accuracy and mean cross-entropy of a classifier model (same input/output rules as
// the Trainer) over a data set, in batches. Errors: shape or class-count mismatch.
Result<EvalResult> Evaluate(const Model& model, const Dataset& ds, int64_t batch_size = 256, int num_threads = 0);

}  // namespace greenai::train
