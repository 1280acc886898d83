#include "train/optim.h"

#include <cmath>
#include <numbers>

namespace greenai::train {

Status Optimizer::CheckParam(const ParamRef& p) {
  if (p.value.dtype() != DType::kF32 || p.grad.dtype() != DType::kF32)
    return InvalidArgument("optimizer: parameter '{}' value {} / grad {} must both be float32", p.name,
                           DTypeName(p.value.dtype()), DTypeName(p.grad.dtype()));
  if (p.value.shape() != p.grad.shape())
    return InvalidArgument("optimizer: parameter '{}' has shape {} but its gradient {} (must match)", p.name,
                           ShapeToString(p.value.shape()), ShapeToString(p.grad.shape()));
  return Status::Ok();
}

Result<Tensor> Optimizer::Buffer(const ParamRef& p, const std::string& which, bool* fresh) {
  const std::string key = p.name + "/" + which;
  auto it = state_.find(key);
  if (it != state_.end()) {
    if (it->second.shape() != p.value.shape())
      return InvalidArgument("optimizer: state '{}' has shape {} but parameter '{}' is {}", key,
                             ShapeToString(it->second.shape()), p.name, ShapeToString(p.value.shape()));
    *fresh = false;
    return it->second;
  }
  GREENAI_ASSIGN_OR_RETURN(Tensor t, Tensor::Create(DType::kF32, p.value.shape()));
  state_[key] = t;
  *fresh = true;
  return t;
}

NamedTensors Optimizer::ExportState() const {
  NamedTensors out;
  out.emplace_back("step", Tensor::Scalar<int64_t>(step_));
  for (const auto& [k, v] : state_) out.emplace_back(k, v.Clone());
  return out;
}

Status Optimizer::ImportState(const NamedTensors& state) {
  std::map<std::string, Tensor> next;
  int64_t step = 0;
  bool have_step = false;
  for (const auto& [k, v] : state) {
    if (k == "step") {
      if (v.dtype() != DType::kI64 || v.numel() != 1)
        return InvalidArgument("optimizer state 'step': expects an int64 scalar, got {} {}", DTypeName(v.dtype()),
                               ShapeToString(v.shape()));
      step = v.data<int64_t>()[0];
      have_step = true;
      continue;
    }
    if (k.find('/') == std::string::npos || v.dtype() != DType::kF32)
      return InvalidArgument("optimizer state '{}': expects a float32 '<param>/<buffer>' entry", k);
    next[k] = v.Clone();
  }
  if (!have_step) return InvalidArgument("optimizer state: missing 'step'");
  state_ = std::move(next);
  step_ = step;
  return Status::Ok();
}

Result<std::unique_ptr<Sgd>> Sgd::Create(const SgdOptions& o) {
  if (!(o.lr >= 0)) return InvalidArgument("SGD: learning rate {} must be >= 0", o.lr);
  if (!(o.momentum >= 0)) return InvalidArgument("SGD: momentum {} must be >= 0", o.momentum);
  if (!(o.weight_decay >= 0)) return InvalidArgument("SGD: weight decay {} must be >= 0", o.weight_decay);
  if (o.nesterov && (o.momentum <= 0 || o.dampening != 0))
    return InvalidArgument("SGD: Nesterov momentum requires momentum > 0 and zero dampening (got {}, {})", o.momentum,
                           o.dampening);
  return std::unique_ptr<Sgd>(new Sgd(o));
}

Status Sgd::Step(std::span<const ParamRef> params) {
  for (const auto& p : params) GREENAI_RETURN_IF_ERROR(CheckParam(p));
  ++step_;
  for (const auto& p : params) {
    Tensor value = p.value;
    float* w = value.data<float>();
    const float* g = p.grad.data<float>();
    float* buf = nullptr;
    bool fresh = false;
    if (o_.momentum != 0) {
      GREENAI_ASSIGN_OR_RETURN(Tensor b, Buffer(p, "momentum_buffer", &fresh));
      buf = b.data<float>();
    }
    for (int64_t i = 0; i < value.numel(); ++i) {
      double d = static_cast<double>(g[i]) + o_.weight_decay * w[i];
      if (buf) {
        double b = fresh ? d : o_.momentum * buf[i] + (1.0 - o_.dampening) * d;
        buf[i] = static_cast<float>(b);
        d = o_.nesterov ? d + o_.momentum * b : b;
      }
      w[i] = static_cast<float>(w[i] - lr_ * d);
    }
  }
  return Status::Ok();
}

Result<std::unique_ptr<AdamW>> AdamW::Create(const AdamWOptions& o) {
  if (!(o.lr >= 0)) return InvalidArgument("AdamW: learning rate {} must be >= 0", o.lr);
  if (!(o.beta1 >= 0 && o.beta1 < 1) || !(o.beta2 >= 0 && o.beta2 < 1))
    return InvalidArgument("AdamW: betas ({}, {}) must lie in [0, 1)", o.beta1, o.beta2);
  if (!(o.eps >= 0)) return InvalidArgument("AdamW: eps {} must be >= 0", o.eps);
  if (!(o.weight_decay >= 0)) return InvalidArgument("AdamW: weight decay {} must be >= 0", o.weight_decay);
  return std::unique_ptr<AdamW>(new AdamW(o));
}

Status AdamW::Step(std::span<const ParamRef> params) {
  for (const auto& p : params) GREENAI_RETURN_IF_ERROR(CheckParam(p));
  ++step_;
  const double bc1 = 1.0 - std::pow(o_.beta1, static_cast<double>(step_));
  const double bc2 = 1.0 - std::pow(o_.beta2, static_cast<double>(step_));
  for (const auto& p : params) {
    bool fresh = false;
    GREENAI_ASSIGN_OR_RETURN(Tensor mt, Buffer(p, "exp_avg", &fresh));
    GREENAI_ASSIGN_OR_RETURN(Tensor vt, Buffer(p, "exp_avg_sq", &fresh));
    Tensor value = p.value;
    float* w = value.data<float>();
    float* m = mt.data<float>();
    float* v = vt.data<float>();
    const float* g = p.grad.data<float>();
    for (int64_t i = 0; i < value.numel(); ++i) {
      double wi = w[i] * (1.0 - lr_ * o_.weight_decay);
      const double gi = g[i];
      const double mi = o_.beta1 * m[i] + (1.0 - o_.beta1) * gi;
      const double vi = o_.beta2 * v[i] + (1.0 - o_.beta2) * gi * gi;
      m[i] = static_cast<float>(mi);
      v[i] = static_cast<float>(vi);
      wi -= lr_ * (mi / bc1) / (std::sqrt(vi / bc2) + o_.eps);
      w[i] = static_cast<float>(wi);
    }
  }
  return Status::Ok();
}

Status LrSchedule::Validate() const {
  if (!(base_lr >= 0)) return InvalidArgument("LR schedule: base learning rate {} must be >= 0", base_lr);
  if (warmup_steps < 0) return InvalidArgument("LR schedule: warm-up steps {} must be >= 0", warmup_steps);
  if (kind == Kind::kStep && step_size <= 0)
    return InvalidArgument("LR schedule: step size {} must be positive", step_size);
  if (kind == Kind::kCosine && total_steps <= warmup_steps)
    return InvalidArgument("LR schedule: cosine total steps {} must exceed the {} warm-up steps", total_steps,
                           warmup_steps);
  return Status::Ok();
}

double LrSchedule::LrAt(int64_t step) const {
  if (step < warmup_steps) return base_lr * static_cast<double>(step + 1) / static_cast<double>(warmup_steps);
  const int64_t s = step - warmup_steps;
  switch (kind) {
    case Kind::kConstant:
      return base_lr;
    case Kind::kStep:
      return base_lr * std::pow(gamma, static_cast<double>(s / std::max<int64_t>(step_size, 1)));
    case Kind::kCosine: {
      const double T = static_cast<double>(std::max<int64_t>(total_steps - warmup_steps, 1));
      const double frac = std::min(static_cast<double>(s), T) / T;
      return min_lr + (base_lr - min_lr) * (1.0 + std::cos(std::numbers::pi * frac)) / 2.0;
    }
  }
  return base_lr;
}

Result<double> ClipGradNorm(std::span<const ParamRef> params, double max_norm) {
  if (!(max_norm > 0)) return InvalidArgument("gradient clipping: max norm {} must be > 0", max_norm);
  double sq = 0;
  for (const auto& p : params) {
    if (p.grad.dtype() != DType::kF32)
      return InvalidArgument("gradient clipping: gradient of '{}' is {} (expects float32)", p.name,
                             DTypeName(p.grad.dtype()));
    for (float g : p.grad.span<float>()) sq += static_cast<double>(g) * g;
  }
  const double norm = std::sqrt(sq);
  if (!std::isfinite(norm)) return InvalidArgument("gradient clipping: global gradient norm is {} (not finite)", norm);
  const double coef = max_norm / (norm + 1e-6);
  if (coef < 1.0) {
    for (const auto& p : params) {
      Tensor g = p.grad;
      for (float& x : g.span<float>()) x = static_cast<float>(x * coef);
    }
  }
  return norm;
}

}  // namespace greenai::train
