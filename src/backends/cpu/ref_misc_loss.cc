// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss reference kernels (computed in double).
//   loss[n, d] = -input[n, target[n, d], d] * weight[target[n, d]]   (0 where target == ignore_index)
//   mean = sum(loss) / sum(weight[target] over non-ignored elements)
// SoftmaxCrossEntropyLoss applies log-softmax over the class axis first (its second output).
#include <cmath>

#include "backends/cpu/kernel.h"
#include "backends/cpu/ref_misc_internal.h"

namespace greenai::misck {
namespace {

template <typename T>
Status Loss(const Node& node, bool softmax, KernelContext& ctx) {
  const Tensor& x = *ctx.inputs[0];
  const Tensor& target = *ctx.inputs[1];
  const Tensor* weight = ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
  const int64_t N = x.dim(0), C = x.dim(1), D = x.numel() / std::max<int64_t>(1, N * C);
  const std::string red = node.GetString("reduction", "mean");
  const bool has_ii = node.HasAttr("ignore_index");
  const int64_t ii = node.GetInt("ignore_index", 0);
  std::vector<double> logp(static_cast<size_t>(x.numel()));
  for (int64_t i = 0; i < x.numel(); ++i) logp[static_cast<size_t>(i)] = static_cast<double>(x.data<T>()[i]);
  if (softmax)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t d = 0; d < D; ++d) {
        double mx = -INFINITY, s = 0;
        for (int64_t c = 0; c < C; ++c) mx = std::max(mx, logp[static_cast<size_t>((n * C + c) * D + d)]);
        for (int64_t c = 0; c < C; ++c) s += std::exp(logp[static_cast<size_t>((n * C + c) * D + d)] - mx);
        const double lse = mx + std::log(s);
        for (int64_t c = 0; c < C; ++c) logp[static_cast<size_t>((n * C + c) * D + d)] -= lse;
      }
  if (softmax && ctx.outputs.size() > 1 && ctx.outputs[1])
    for (int64_t i = 0; i < x.numel(); ++i) ctx.outputs[1]->data<T>()[i] = static_cast<T>(logp[static_cast<size_t>(i)]);
  std::vector<double> loss(static_cast<size_t>(N * D));
  double wsum = 0, lsum = 0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t d = 0; d < D; ++d) {
      const int64_t i = n * D + d;
      const int64_t t = target.dtype() == DType::kI64 ? target.data<int64_t>()[i] : target.data<int32_t>()[i];
      if (has_ii && t == ii) {
        loss[static_cast<size_t>(i)] = 0;
        continue;
      }
      if (t < 0 || t >= C)
        return InvalidArgument("{}: target value {} at index {} is outside [0, {}) and not ignore_index",
                               node.Describe(), t, i, C);
      const double w = weight ? static_cast<double>(weight->data<T>()[t]) : 1.0;
      loss[static_cast<size_t>(i)] = -logp[static_cast<size_t>((n * C + t) * D + d)] * w;
      wsum += w;
      lsum += loss[static_cast<size_t>(i)];
    }
  T* out = ctx.outputs[0]->data<T>();
  if (red == "none") {
    for (size_t i = 0; i < loss.size(); ++i) out[i] = static_cast<T>(loss[i]);
  } else if (red == "sum") {
    out[0] = static_cast<T>(lsum);
  } else {
    out[0] = static_cast<T>(wsum == 0 ? 0.0 : lsum / wsum);
  }
  return Status::Ok();
}

template <bool kSoftmax>
Result<std::unique_ptr<Kernel>> MakeLoss(const KernelInfo& info) {
  return std::unique_ptr<Kernel>(MakeLambdaKernel([node = info.node](KernelContext& ctx) -> Status {
    if (ctx.inputs[0]->dtype() == DType::kF64) return Loss<double>(node, kSoftmax, ctx);
    return Loss<float>(node, kSoftmax, ctx);
  }));
}

}  // namespace

void AddLossKernels(std::vector<KernelDef>& defs) {
  defs.push_back({"NegativeLogLikelihoodLoss", "", "f32_negativeloglikelihoodloss__ref", 0, MakeLoss<false>});
  defs.push_back({"SoftmaxCrossEntropyLoss", "", "f32_softmaxcrossentropyloss__ref", 0, MakeLoss<true>});
}

}  // namespace greenai::misck
