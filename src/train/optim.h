// Optimizers (SGD with momentum/Nesterov/weight decay, AdamW), learning-rate schedules and
// gradient clipping by global norm.
//
// Contract:
//  - Step() updates each ParamRef::value (float32) in place from ParamRef::grad (float32, same
//    shape). Tensors are handles, so the caller's tensors (e.g. graph initializers) change.
//  - Update rules follow the torch.optim documentation exactly:
//      SGD:   g += wd*p; if mu: b = (t == 1 ? g : mu*b + (1-dampening)*g);
//             g = nesterov ? g + mu*b : b;  p -= lr*g
//      AdamW: p -= lr*wd*p; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
//             p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
//    with arithmetic in double per element and the result stored as float.
//  - State is keyed by parameter name and is checkpointable: ExportState() lists every
//    buffer as "<param>/<buffer>" plus "step" (int64 scalar); ImportState() restores it and
//    fails on unknown names or shape mismatches. A parameter first seen after import starts
//    with fresh state.
//  - Errors: dtype/shape mismatch between value and grad, a non-float32 tensor.
//  - Thread safety: one thread per optimizer.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"

namespace greenai::train {

struct ParamRef {
  std::string name;
  Tensor value;  // updated in place
  Tensor grad;
};

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual Status Step(std::span<const ParamRef> params) = 0;
  double lr() const { return lr_; }
  void set_lr(double lr) { lr_ = lr; }
  int64_t step_count() const { return step_; }
  NamedTensors ExportState() const;
  Status ImportState(const NamedTensors& state);

 protected:
  explicit Optimizer(double lr) : lr_(lr) {}
  // Buffer `which` of `p` (zero-initialized on first use); `fresh` tells whether it was just made.
  Result<Tensor> Buffer(const ParamRef& p, const std::string& which, bool* fresh);
  static Status CheckParam(const ParamRef& p);
  double lr_;
  int64_t step_ = 0;
  std::map<std::string, Tensor> state_;  // "<param>/<buffer>"
};

struct SgdOptions {
  double lr = 0.01;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;  // requires momentum > 0 and dampening == 0 (as in PyTorch)
};

class Sgd final : public Optimizer {
 public:
  static Result<std::unique_ptr<Sgd>> Create(const SgdOptions& o);
  Status Step(std::span<const ParamRef> params) override;

 private:
  explicit Sgd(const SgdOptions& o) : Optimizer(o.lr), o_(o) {}
  SgdOptions o_;
};

struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-2;
};

class AdamW final : public Optimizer {
 public:
  static Result<std::unique_ptr<AdamW>> Create(const AdamWOptions& o);
  Status Step(std::span<const ParamRef> params) override;

 private:
  explicit AdamW(const AdamWOptions& o) : Optimizer(o.lr), o_(o) {}
  AdamWOptions o_;
};

// Learning rate at optimizer step `step` (0-based): linear warm-up from base_lr/warmup to
// base_lr over the first `warmup_steps` steps, then
//   kConstant: base_lr
//   kStep:     base_lr * gamma^floor(s / step_size)
//   kCosine:   min_lr + (base_lr - min_lr) * (1 + cos(pi * min(s, T) / T)) / 2, T = total_steps - warmup_steps
// where s = step - warmup_steps.
struct LrSchedule {
  enum class Kind { kConstant, kStep, kCosine };
  Kind kind = Kind::kConstant;
  double base_lr = 0.01;
  int64_t warmup_steps = 0;
  int64_t step_size = 1;   // kStep
  double gamma = 0.1;      // kStep
  int64_t total_steps = 1; // kCosine (including warm-up)
  double min_lr = 0;       // kCosine
  Status Validate() const;
  double LrAt(int64_t step) const;
};

// Scales all gradients by min(1, max_norm / (norm + 1e-6)) where norm is the L2 norm over
// every gradient element together (torch.nn.utils.clip_grad_norm_). Returns the norm before
// clipping; a non-finite norm is an error (the gradients are left untouched).
Result<double> ClipGradNorm(std::span<const ParamRef> params, double max_norm);

}  // namespace greenai::train
