// Reference kernels for the training ops (ops/training.cc), part 2: SoftmaxGrad, LogSoftmaxGrad,
// GeluGrad, ReluGrad, SliceGrad, GatherGrad; and the family registration AddRefTrainingKernels.
// Plain loops in double, f32 and f64.
#include <cmath>
#include <optional>

#include "backends/cpu/kernel.h"
#include "backends/cpu/training_internal.h"
#include "ops/shape_util.h"
#include "ops/tensor_internal.h"

namespace greenai::training {
namespace {

// Splits a shape around `axis` into outer * len * inner.
struct AxisSplit {
  int64_t outer = 1, len = 1, inner = 1;
};
Result<AxisSplit> SplitAt(const Node& node, const Shape& s) {
  GREENAI_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(node.GetInt("axis", -1), static_cast<int64_t>(s.size()),
                                                       node.Describe()));
  AxisSplit a;
  for (int64_t i = 0; i < static_cast<int64_t>(s.size()); ++i) {
    const int64_t d = s[static_cast<size_t>(i)];
    if (i < axis) a.outer *= d;
    else if (i == axis) a.len = d;
    else a.inner *= d;
  }
  return a;
}

// dX = Y * (dY - sum(dY * Y)) for softmax; dX = dY - exp(Y) * sum(dY) for log-softmax (Y = log p).
template <typename T>
Status SoftmaxGradRef(const Node& node, bool log, KernelContext& ctx) {
  const Tensor& dY = *ctx.inputs[0];
  const Tensor& Y = *ctx.inputs[1];
  if (dY.shape() != Y.shape())
    return InvalidArgument("{}: dY has shape {} but Y has {} (must match)", node.Describe(), ShapeToString(dY.shape()),
                           ShapeToString(Y.shape()));
  GREENAI_ASSIGN_OR_RETURN(AxisSplit a, SplitAt(node, Y.shape()));
  const T* dy = dY.data<T>();
  const T* y = Y.data<T>();
  T* dx = ctx.outputs[0]->data<T>();
  for (int64_t o = 0; o < a.outer; ++o)
    for (int64_t in = 0; in < a.inner; ++in) {
      const int64_t base = o * a.len * a.inner + in;
      double s = 0;
      for (int64_t k = 0; k < a.len; ++k) {
        const int64_t i = base + k * a.inner;
        s += log ? static_cast<double>(dy[i]) : static_cast<double>(dy[i]) * static_cast<double>(y[i]);
      }
      for (int64_t k = 0; k < a.len; ++k) {
        const int64_t i = base + k * a.inner;
        const double g = static_cast<double>(dy[i]), v = static_cast<double>(y[i]);
        dx[i] = static_cast<T>(log ? g - std::exp(v) * s : v * (g - s));
      }
    }
  return Status::Ok();
}

template <typename T>
Status GeluGradRef(const Node& node, KernelContext& ctx) {
  const Tensor& dY = *ctx.inputs[0];
  const Tensor& X = *ctx.inputs[1];
  if (dY.numel() != X.numel())
    return InvalidArgument("{}: dY has {} elements but X has {} (must match)", node.Describe(), dY.numel(), X.numel());
  const std::string approx = node.GetString("approximate", "none");
  if (approx != "none" && approx != "tanh")
    return InvalidArgument("{}: approximate '{}' is not none or tanh", node.Describe(), approx);
  const T* dy = dY.data<T>();
  const T* x = X.data<T>();
  T* dx = ctx.outputs[0]->data<T>();
  const double k0 = std::sqrt(2.0 / M_PI), k1 = 0.044715;
  for (int64_t i = 0; i < X.numel(); ++i) {
    const double v = static_cast<double>(x[i]);
    double d;
    if (approx == "tanh") {
      const double t = std::tanh(k0 * (v + k1 * v * v * v));
      d = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * k0 * (1 + 3 * k1 * v * v);
    } else {
      d = 0.5 * (1 + std::erf(v / std::sqrt(2.0))) + v * std::exp(-0.5 * v * v) / std::sqrt(2 * M_PI);
    }
    dx[i] = static_cast<T>(static_cast<double>(dy[i]) * d);
  }
  return Status::Ok();
}

// One pass, no temporaries: the Greater + Where form of the rule cost two reference kernels
// and a bool tensor per Relu.
template <typename T>
Status ReluGradRef(const Node& node, KernelContext& ctx) {
  const Tensor& dY = *ctx.inputs[0];
  const Tensor& X = *ctx.inputs[1];
  if (dY.numel() != X.numel())
    return InvalidArgument("{}: dY has {} elements but X has {} (must match)", node.Describe(), dY.numel(), X.numel());
  const T alpha = static_cast<T>(node.GetFloat("alpha", 0.0f));
  const T* dy = dY.data<T>();
  const T* x = X.data<T>();
  T* dx = ctx.outputs[0]->data<T>();
  const int64_t n = X.numel();
  for (int64_t i = 0; i < n; ++i) dx[i] = x[i] > T(0) ? dy[i] : alpha * dy[i];
  return Status::Ok();
}

Result<Shape> ShapeInput(const Node& node, const Tensor& t) {
  if (t.rank() != 1 || t.dtype() != DType::kI64)
    return InvalidArgument("{}: shape input is {}{} (expects 1-D int64)", node.Describe(), DTypeName(t.dtype()),
                           ShapeToString(t.shape()));
  Shape s = TensorToInts(t);
  for (int64_t d : s)
    if (d < 0) return InvalidArgument("{}: shape input holds {} (expects sizes >= 0)", node.Describe(), d);
  return s;
}

// SliceGrad: zeros of X's shape with dY written where the forward Slice read.
template <typename T>
Status SliceGradRef(const Node& node, KernelContext& ctx) {
  const Tensor& dY = *ctx.inputs[0];
  GREENAI_ASSIGN_OR_RETURN(Shape xs, ShapeInput(node, *ctx.inputs[1]));
  auto ints = [&](size_t i) -> std::optional<std::vector<int64_t>> {
    if (i >= ctx.inputs.size() || !ctx.inputs[i]) return std::nullopt;
    return TensorToInts(*ctx.inputs[i]);
  };
  GREENAI_ASSIGN_OR_RETURN(tensorops::SliceSpec sp, tensorops::ResolveSlice(node, xs, *ints(2), *ints(3), ints(4), ints(5)));
  if (NumElements(sp.count) != dY.numel())
    return InvalidArgument("{}: dY has shape {} but the slice selects {}", node.Describe(), ShapeToString(dY.shape()),
                           ShapeToString(sp.count));
  Tensor& dX = *ctx.outputs[0];
  T* dx = dX.data<T>();
  std::fill_n(dx, dX.numel(), T(0));
  const auto strides = RowMajorStrides(xs);
  const T* dy = dY.data<T>();
  const size_t r = xs.size();
  std::vector<int64_t> idx(r, 0);
  for (int64_t i = 0; i < dY.numel(); ++i) {
    int64_t off = 0;
    for (size_t d = 0; d < r; ++d) off += (sp.start[d] + idx[d] * sp.step[d]) * strides[d];
    dx[off] += dy[i];
    for (size_t d = r; d-- > 0;) {
      if (++idx[d] < sp.count[d]) break;
      idx[d] = 0;
    }
  }
  return Status::Ok();
}

// GatherGrad: zeros of X's shape; dY rows added back at their (possibly repeated) indices.
template <typename T>
Status GatherGradRef(const Node& node, KernelContext& ctx) {
  const Tensor& dY = *ctx.inputs[0];
  const Tensor& I = *ctx.inputs[1];
  GREENAI_ASSIGN_OR_RETURN(Shape xs, ShapeInput(node, *ctx.inputs[2]));
  GREENAI_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(node.GetInt("axis", 0), static_cast<int64_t>(xs.size()),
                                                       node.Describe()));
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= xs[static_cast<size_t>(d)];
  for (size_t d = static_cast<size_t>(axis) + 1; d < xs.size(); ++d) inner *= xs[d];
  const int64_t len = xs[static_cast<size_t>(axis)], ni = I.numel();
  if (dY.numel() != outer * ni * inner)
    return InvalidArgument("{}: dY has {} elements, expects {} (outer {} x indices {} x inner {})", node.Describe(),
                           dY.numel(), outer * ni * inner, outer, ni, inner);
  Tensor& dX = *ctx.outputs[0];
  T* dx = dX.data<T>();
  std::fill_n(dx, dX.numel(), T(0));
  const T* dy = dY.data<T>();
  for (int64_t j = 0; j < ni; ++j) {
    int64_t k = I.dtype() == DType::kI64 ? I.data<int64_t>()[j] : I.data<int32_t>()[j];
    if (k < 0) k += len;
    if (k < 0 || k >= len)
      return InvalidArgument("{}: index {} at position {} is outside [-{}, {})", node.Describe(), k, j, len, len);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) dx[(o * len + k) * inner + i] += dy[(o * ni + j) * inner + i];
  }
  return Status::Ok();
}

using RefFn = Status (*)(const Node&, KernelContext&);

template <template <typename> class F>
Result<std::unique_ptr<Kernel>> MakeRef(const KernelInfo& info) {
  const DType dt = info.input_types[0].dtype;
  if (dt != DType::kF32 && dt != DType::kF64)
    return Unimplemented("{}: reference training kernel handles float32/float64, got {}", info.node.Describe(),
                         DTypeName(dt));
  RefFn fn = dt == DType::kF64 ? &F<double>::Run : &F<float>::Run;
  return MakePlannedOutputKernel([node = info.node, fn](KernelContext& ctx) -> Status { return fn(node, ctx); });
}

template <typename T> struct SmK { static Status Run(const Node& n, KernelContext& c) { return SoftmaxGradRef<T>(n, false, c); } };
template <typename T> struct LsmK { static Status Run(const Node& n, KernelContext& c) { return SoftmaxGradRef<T>(n, true, c); } };
template <typename T> struct GeluK { static Status Run(const Node& n, KernelContext& c) { return GeluGradRef<T>(n, c); } };
template <typename T> struct ReluK { static Status Run(const Node& n, KernelContext& c) { return ReluGradRef<T>(n, c); } };
template <typename T> struct SliceK { static Status Run(const Node& n, KernelContext& c) { return SliceGradRef<T>(n, c); } };
template <typename T> struct GatherK { static Status Run(const Node& n, KernelContext& c) { return GatherGradRef<T>(n, c); } };

}  // namespace

void AddRefTrainingKernelsPart2(std::vector<KernelDef>& defs) {
  defs.push_back({"SoftmaxGrad", kDomain, "any_softmaxgrad__ref", 0, MakeRef<SmK>});
  defs.push_back({"LogSoftmaxGrad", kDomain, "any_logsoftmaxgrad__ref", 0, MakeRef<LsmK>});
  defs.push_back({"GeluGrad", kDomain, "any_gelugrad__ref", 0, MakeRef<GeluK>});
  defs.push_back({"ReluGrad", kDomain, "any_relugrad__ref", 0, MakeRef<ReluK>});
  defs.push_back({"SliceGrad", kDomain, "any_slicegrad__ref", 0, MakeRef<SliceK>});
  defs.push_back({"GatherGrad", kDomain, "any_gathergrad__ref", 0, MakeRef<GatherK>});
}

}  // namespace greenai::training

namespace greenai {
void AddRefTrainingKernels(std::vector<KernelDef>& defs) {
  training::AddRefTrainingKernelsPart1(defs);
  training::AddRefTrainingKernelsPart2(defs);
}
}  // namespace greenai
