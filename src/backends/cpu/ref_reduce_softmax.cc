// Reference kernels: Softmax, LogSoftmax, Hardmax (opset < 13: the input is coerced to
// 2-D [prod(dims[:axis]), prod(dims[axis:])] and normalized per row; opset >= 13: along
// `axis` only) and CumSum (exclusive, reverse). Float types compute in double.
// See backends/cpu/kernel.h for the contract.
#include <cmath>

#include "backends/cpu/ref_elementwise_internal.h"
#include "ops/elementwise_internal.h"
#include "ops/shape_util.h"

namespace greenai {
namespace {

using namespace ew;

enum class S { kSoftmax, kLogSoftmax, kHardmax };

struct Split {
  int64_t outer = 1, n = 1, inner = 1;
};

Split SoftmaxSplit(const Shape& s, const SoftmaxAxis& ax) {
  Split r;
  const int64_t rank = static_cast<int64_t>(s.size());
  for (int64_t d = 0; d < rank; ++d) {
    int64_t v = s[static_cast<size_t>(d)];
    if (d < ax.axis) r.outer *= v;
    else if (d == ax.axis || ax.coerce_2d) r.n *= v;
    else r.inner *= v;
  }
  return r;
}

Result<std::unique_ptr<Kernel>> CreateSoftmax(const KernelInfo& info) {
  const std::string& n = info.node.op_type;
  S op = n == "Softmax" ? S::kSoftmax : n == "LogSoftmax" ? S::kLogSoftmax : S::kHardmax;
  DType t = InputDType(info, 0);
  if (t != DType::kUndefined && !IsFloatDType(t))
    return Unimplemented("{}: no reference kernel for {} input", info.node.Describe(), DTypeName(t));
  std::string who = info.node.Describe();
  Node slim;
  slim.op_type = info.node.op_type;
  slim.name = info.node.name;
  if (const Attribute* a = info.node.FindAttr("axis")) slim.attributes["axis"] = *a;
  int64_t opset = info.opset;
  return MakeLambdaKernel([op, who, slim, opset](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.inputs[0];
    Tensor& y = *ctx.outputs[0];
    GREENAI_ASSIGN_OR_RETURN(SoftmaxAxis ax, ResolveSoftmaxAxis(slim, opset, x.rank()));
    Split sp = x.rank() == 0 ? Split{} : SoftmaxSplit(x.shape(), ax);
    bool ok = DispatchFloat(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* px = x.data<T>();
      T* py = y.data<T>();
      for (int64_t o = 0; o < sp.outer; ++o)
        for (int64_t in = 0; in < sp.inner; ++in) {
          const int64_t base = o * sp.n * sp.inner + in;
          auto at = [&](int64_t k) { return base + k * sp.inner; };
          double mx = -INFINITY;
          int64_t arg = 0;
          for (int64_t k = 0; k < sp.n; ++k) {
            double v = ToD(px[at(k)]);
            if (v > mx) {
              mx = v;
              arg = k;
            }
          }
          if (op == S::kHardmax) {
            for (int64_t k = 0; k < sp.n; ++k) py[at(k)] = FromD<T>(k == arg ? 1.0 : 0.0);
            continue;
          }
          double sum = 0;
          for (int64_t k = 0; k < sp.n; ++k) sum += std::exp(ToD(px[at(k)]) - mx);
          for (int64_t k = 0; k < sp.n; ++k) {
            double v = ToD(px[at(k)]) - mx;
            py[at(k)] = FromD<T>(op == S::kSoftmax ? std::exp(v) / sum : v - std::log(sum));
          }
        }
    });
    if (!ok) return InvalidArgument("{}: type {} is not supported", who, DTypeName(x.dtype()));
    return Status::Ok();
  });
}

Result<std::unique_ptr<Kernel>> CreateCumSum(const KernelInfo& info) {
  bool exclusive = info.node.GetInt("exclusive", 0) != 0;
  bool reverse = info.node.GetInt("reverse", 0) != 0;
  std::string who = info.node.Describe();
  return MakeLambdaKernel([exclusive, reverse, who](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.inputs[0];
    const Tensor& at = *ctx.inputs[1];
    Tensor& y = *ctx.outputs[0];
    if (at.numel() != 1 || (at.dtype() != DType::kI64 && at.dtype() != DType::kI32))
      return InvalidArgument("{}: axis must be one int32/int64 value (got {} with {} elements)", who,
                             DTypeName(at.dtype()), at.numel());
    int64_t axis = TensorToInts(at)[0];
    const int64_t rank = x.rank();
    if (axis < -rank || axis >= rank)
      return InvalidArgument("{}: axis {} is out of range for rank {} (expects [-{}, {}))", who, axis, rank, rank,
                             rank);
    if (axis < 0) axis += rank;
    Split sp;
    for (int64_t d = 0; d < rank; ++d) {
      int64_t v = x.shape()[static_cast<size_t>(d)];
      if (d < axis) sp.outer *= v;
      else if (d == axis) sp.n = v;
      else sp.inner *= v;
    }
    bool ok = DispatchNumber(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      using Acc = std::conditional_t<kIsFloat<T>, double, std::conditional_t<std::is_unsigned_v<T>, uint64_t, int64_t>>;
      const T* px = x.data<T>();
      T* py = y.data<T>();
      for (int64_t o = 0; o < sp.outer; ++o)
        for (int64_t in = 0; in < sp.inner; ++in) {
          Acc acc = 0;
          for (int64_t j = 0; j < sp.n; ++j) {
            int64_t k = reverse ? sp.n - 1 - j : j;
            int64_t idx = (o * sp.n + k) * sp.inner + in;
            Acc v;
            if constexpr (kIsFloat<T>) v = ToD(px[idx]);
            else v = static_cast<Acc>(px[idx]);
            if (exclusive) {
              if constexpr (kIsFloat<T>) py[idx] = FromD<T>(acc);
              else py[idx] = static_cast<T>(acc);
              acc += v;
            } else {
              acc += v;
              if constexpr (kIsFloat<T>) py[idx] = FromD<T>(acc);
              else py[idx] = static_cast<T>(acc);
            }
          }
        }
    });
    if (!ok) return InvalidArgument("{}: type {} is not supported", who, DTypeName(x.dtype()));
    return Status::Ok();
  });
}

}  // namespace

void AddRefSoftmaxKernels(std::vector<KernelDef>& defs) {
  defs.push_back(KernelDef{"Softmax", "", "any_softmax__ref", 0, CreateSoftmax});
  defs.push_back(KernelDef{"LogSoftmax", "", "any_logsoftmax__ref", 0, CreateSoftmax});
  defs.push_back(KernelDef{"Hardmax", "", "any_hardmax__ref", 0, CreateSoftmax});
  defs.push_back(KernelDef{"CumSum", "", "any_cumsum__ref", 0, CreateCumSum});
}

}  // namespace greenai
