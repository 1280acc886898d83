// LRN and MeanVarianceNormalization reference kernels (float32/float64), computed in double.
#include <cmath>

#include "backends/cpu/kernel.h"
#include "backends/cpu/ref_misc_internal.h"
#include "ops/shape_util.h"

namespace greenai::misck {
namespace {

template <typename T>
void Lrn(const Tensor& x, Tensor& y, int64_t size, double alpha, double beta, double bias) {
  const int64_t n = x.dim(0), c = x.dim(1), inner = x.numel() / std::max<int64_t>(1, n * c);
  const int64_t lo_off = (size - 1) / 2, hi_off = size - 1 - lo_off;  // floor / ceil of (size-1)/2
  const T* xs = x.data<T>();
  T* ys = y.data<T>();
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t i = 0; i < inner; ++i) {
        double sq = 0;
        for (int64_t k = std::max<int64_t>(0, ch - lo_off); k <= std::min(c - 1, ch + hi_off); ++k) {
          const double v = xs[(b * c + k) * inner + i];
          sq += v * v;
        }
        const int64_t at = (b * c + ch) * inner + i;
        ys[at] = static_cast<T>(xs[at] / std::pow(bias + alpha / static_cast<double>(size) * sq, beta));
      }
}

template <typename T>
void Mvn(const Tensor& x, Tensor& y, const std::vector<bool>& reduce) {
  // Statistics per combination of the kept axes, over the reduced ones.
  const int r = x.rank();
  Shape kept_shape;
  for (int a = 0; a < r; ++a) kept_shape.push_back(reduce[static_cast<size_t>(a)] ? 1 : x.dim(a));
  const auto kst = RowMajorStrides(kept_shape);
  const int64_t groups = NumElements(kept_shape);
  std::vector<double> sum(static_cast<size_t>(groups), 0), sq(static_cast<size_t>(groups), 0);
  std::vector<int64_t> group_of(static_cast<size_t>(x.numel()));
  std::vector<int64_t> idx(static_cast<size_t>(r), 0);
  for (int64_t i = 0; i < x.numel(); ++i) {
    int64_t g = 0;
    for (int a = 0; a < r; ++a) g += reduce[static_cast<size_t>(a)] ? 0 : idx[static_cast<size_t>(a)] * kst[static_cast<size_t>(a)];
    group_of[static_cast<size_t>(i)] = g;
    const double v = x.data<T>()[i];
    sum[static_cast<size_t>(g)] += v;
    sq[static_cast<size_t>(g)] += v * v;
    for (int a = r; a-- > 0;) {
      if (++idx[static_cast<size_t>(a)] < x.dim(a)) break;
      idx[static_cast<size_t>(a)] = 0;
    }
  }
  const double count = static_cast<double>(x.numel()) / static_cast<double>(std::max<int64_t>(1, groups));
  for (int64_t i = 0; i < x.numel(); ++i) {
    const size_t g = static_cast<size_t>(group_of[static_cast<size_t>(i)]);
    const double mean = sum[g] / count;
    const double var = std::max(0.0, sq[g] / count - mean * mean);
    y.data<T>()[i] = static_cast<T>((x.data<T>()[i] - mean) / (std::sqrt(var) + 1e-9));
  }
}

Result<std::unique_ptr<Kernel>> MakeLrn(const KernelInfo& info) {
  const int64_t size = info.node.GetInt("size", 1);
  const double alpha = info.node.GetFloat("alpha", 1e-4f), beta = info.node.GetFloat("beta", 0.75f),
               bias = info.node.GetFloat("bias", 1.f);
  return std::unique_ptr<Kernel>(MakeLambdaKernel([=](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.inputs[0];
    if (x.dtype() == DType::kF32) Lrn<float>(x, *ctx.outputs[0], size, alpha, beta, bias);
    else Lrn<double>(x, *ctx.outputs[0], size, alpha, beta, bias);
    return Status::Ok();
  }));
}

Result<std::unique_ptr<Kernel>> MakeMvn(const KernelInfo& info) {
  const std::vector<int64_t> axes = info.node.GetInts("axes", {0, 2, 3});
  return std::unique_ptr<Kernel>(MakeLambdaKernel([node = info.node, axes](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.inputs[0];
    std::vector<bool> reduce(static_cast<size_t>(x.rank()), false);
    for (int64_t a : axes) {
      GREENAI_ASSIGN_OR_RETURN(int64_t ax, NormalizeAxis(a, x.rank(), node.Describe()));
      reduce[static_cast<size_t>(ax)] = true;
    }
    if (x.dtype() == DType::kF32) Mvn<float>(x, *ctx.outputs[0], reduce);
    else Mvn<double>(x, *ctx.outputs[0], reduce);
    return Status::Ok();
  }));
}

}  // namespace

void AddNormKernels(std::vector<KernelDef>& defs) {
  defs.push_back({"LRN", "", "f32_lrn__ref", 0, MakeLrn});
  defs.push_back({"MeanVarianceNormalization", "", "f32_meanvariancenormalization__ref", 0, MakeMvn});
}

}  // namespace greenai::misck
