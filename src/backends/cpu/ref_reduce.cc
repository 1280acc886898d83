// Reference kernels: Reduce* (all ten), ArgMax/ArgMin and TopK. Plain loops; float types
// accumulate in double, integers in 64-bit. Empty reductions (a reduced dim of size 0)
// give the identity of the operation, as the ONNX spec requires: Sum/L1/L2/SumSquare 0,
// Prod 1, Max -inf (lowest for ints), Min +inf (max for ints), LogSum/LogSumExp -inf,
// Mean NaN (0/0). Softmax family and CumSum live in ref_reduce_softmax.cc.
// See backends/cpu/kernel.h for the contract.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "backends/cpu/ref_elementwise_internal.h"
#include "ops/elementwise_internal.h"
#include "ops/shape_util.h"

namespace greenai {
void AddRefSoftmaxKernels(std::vector<KernelDef>& defs);

namespace {

using namespace ew;

enum class R { kSum, kMean, kMax, kMin, kProd, kL1, kL2, kLogSum, kLogSumExp, kSumSquare };

R LookupReduce(std::string_view n) {
  if (n == "ReduceSum") return R::kSum;
  if (n == "ReduceMean") return R::kMean;
  if (n == "ReduceMax") return R::kMax;
  if (n == "ReduceMin") return R::kMin;
  if (n == "ReduceProd") return R::kProd;
  if (n == "ReduceL1") return R::kL1;
  if (n == "ReduceL2") return R::kL2;
  if (n == "ReduceLogSum") return R::kLogSum;
  if (n == "ReduceLogSumExp") return R::kLogSumExp;
  return R::kSumSquare;
}

// For each input element (row-major) calls fn(in_index, out_index), where out_index is the
// row-major offset of its reduction bucket in the (keepdims) output.
template <typename F>
void ForEachReduced(const Shape& in, const std::vector<bool>& reduce, F&& fn) {
  const size_t rank = in.size();
  // +1: never empty, which also silences a GCC 12 -Wfree-nonheap-object false positive.
  std::vector<int64_t> ostride(rank + 1, 0);
  int64_t s = 1;
  for (size_t d = rank; d-- > 0;) {
    if (!reduce[d]) {
      ostride[d] = s;
      s *= in[d];
    }
  }
  const int64_t n = NumElements(in);
  std::vector<int64_t> idx(rank + 1, 0);
  int64_t o = 0;
  for (int64_t i = 0; i < n; ++i) {
    fn(i, o);
    for (size_t d = rank; d-- > 0;) {
      o += ostride[d];
      if (++idx[d] < in[d]) break;
      o -= ostride[d] * in[d];
      idx[d] = 0;
    }
  }
}

template <typename T>
void ReduceTyped(R op, const Tensor& x, const std::vector<bool>& reduce, Tensor& y) {
  // Accumulator: double for floats (and for ops that leave the integers, like L2 and LogSum);
  // exact 64-bit integers otherwise.
  constexpr bool kFloatAcc = kIsFloat<T>;
  using IAcc = std::conditional_t<std::is_unsigned_v<T>, uint64_t, int64_t>;
  const int64_t nout = y.numel();
  const T* px = x.data<T>();
  T* py = y.data<T>();
  int64_t count = 1;
  for (size_t d = 0; d < reduce.size(); ++d)
    if (reduce[d]) count *= x.shape()[d];
  bool as_double = kFloatAcc || op == R::kL2 || op == R::kLogSum || op == R::kLogSumExp;
  if (as_double) {
    std::vector<double> acc(static_cast<size_t>(nout));
    std::vector<double> mx;
    double init = 0;
    if (op == R::kProd) init = 1;
    if (op == R::kMax) init = -INFINITY;
    if (op == R::kMin) init = INFINITY;
    std::fill(acc.begin(), acc.end(), init);
    if (op == R::kLogSumExp) {  // subtract the max for stability
      mx.assign(static_cast<size_t>(nout), -INFINITY);
      ForEachReduced(x.shape(), reduce, [&](int64_t i, int64_t o) { mx[o] = std::max(mx[o], ToD(px[i])); });
    }
    ForEachReduced(x.shape(), reduce, [&](int64_t i, int64_t o) {
      double v = ToD(px[i]);
      double& a = acc[static_cast<size_t>(o)];
      switch (op) {
        case R::kSum: case R::kMean: case R::kLogSum: a += v; break;
        case R::kMax: a = std::isnan(v) || std::isnan(a) ? NAN : std::max(a, v); break;
        case R::kMin: a = std::isnan(v) || std::isnan(a) ? NAN : std::min(a, v); break;
        case R::kProd: a *= v; break;
        case R::kL1: a += std::fabs(v); break;
        case R::kL2: case R::kSumSquare: a += v * v; break;
        case R::kLogSumExp: {
          double m = mx[static_cast<size_t>(o)];
          a += std::isinf(m) ? std::exp(v) : std::exp(v - m);
          break;
        }
      }
    });
    for (int64_t o = 0; o < nout; ++o) {
      double a = acc[static_cast<size_t>(o)];
      if (op == R::kMean) a = a / static_cast<double>(count);
      else if (op == R::kL2) a = std::sqrt(a);
      else if (op == R::kLogSum) a = std::log(a);
      else if (op == R::kLogSumExp) {
        double m = mx.empty() ? 0 : mx[static_cast<size_t>(o)];
        a = std::isinf(m) ? std::log(a) : m + std::log(a);
      }
      py[o] = FromD<T>(a);
    }
    return;
  }
  if constexpr (!kFloatAcc) {
    std::vector<IAcc> acc(static_cast<size_t>(nout));
    IAcc init = 0;
    if (op == R::kProd) init = 1;
    if (op == R::kMax) init = static_cast<IAcc>(std::numeric_limits<T>::lowest());
    if (op == R::kMin) init = static_cast<IAcc>(std::numeric_limits<T>::max());
    std::fill(acc.begin(), acc.end(), init);
    ForEachReduced(x.shape(), reduce, [&](int64_t i, int64_t o) {
      IAcc v = static_cast<IAcc>(px[i]);
      IAcc& a = acc[static_cast<size_t>(o)];
      using UA = uint64_t;  // wrap-around arithmetic, as numpy
      switch (op) {
        case R::kMax: a = std::max(a, v); break;
        case R::kMin: a = std::min(a, v); break;
        case R::kProd: a = static_cast<IAcc>(static_cast<UA>(a) * static_cast<UA>(v)); break;
        case R::kL1: a = static_cast<IAcc>(static_cast<UA>(a) + static_cast<UA>(v < 0 ? IAcc(0) - v : v)); break;
        case R::kSumSquare: a = static_cast<IAcc>(static_cast<UA>(a) + static_cast<UA>(v) * static_cast<UA>(v)); break;
        default: a = static_cast<IAcc>(static_cast<UA>(a) + static_cast<UA>(v)); break;
      }
    });
    for (int64_t o = 0; o < nout; ++o) {
      IAcc a = acc[static_cast<size_t>(o)];
      if (op == R::kMean) a = count > 0 ? static_cast<IAcc>(a / static_cast<IAcc>(count)) : 0;
      py[o] = static_cast<T>(a);
    }
  }
}

Result<std::unique_ptr<Kernel>> CreateReduce(const KernelInfo& info) {
  R op = LookupReduce(info.node.op_type);
  DType t = InputDType(info, 0);
  if (t != DType::kUndefined && !IsNumberDType(t))
    return Unimplemented("{}: no reference kernel for {} input", info.node.Describe(), DTypeName(t));
  std::string who = info.node.Describe();
  // Axes may arrive as a run-time input, so they are resolved per run from a slim copy of
  // the attributes that matter (the graph may be gone by then).
  auto node = std::make_shared<Node>();
  node->op_type = info.node.op_type;
  node->name = info.node.name;
  for (const char* a : {"axes", "keepdims", "noop_with_empty_axes"})
    if (const Attribute* at = info.node.FindAttr(a)) node->attributes[a] = *at;
  return MakeLambdaKernel([op, who, node](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.inputs[0];
    Tensor& y = *ctx.outputs[0];
    const Tensor* axes = ctx.inputs.size() > 1 ? ctx.inputs[1] : nullptr;
    GREENAI_ASSIGN_OR_RETURN(ReduceAxes ax, ResolveReduceAxes(*node, x.rank(), axes != nullptr, axes));
    if (ax.noop) {
      bool ok = DispatchNumber(x.dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        // Identity reduction still applies the elementwise part (e.g. L1 = |x|, SumSquare = x^2).
        ReduceTyped<T>(op, x, std::vector<bool>(static_cast<size_t>(x.rank()), false), y);
      });
      if (!ok) return InvalidArgument("{}: type {} is not supported", who, DTypeName(x.dtype()));
      return Status::Ok();
    }
    if (ReducedDims(x.shape(), ax) != y.shape())
      return Internal("{}: output shape {} does not match the reduction of {}", who, ShapeToString(y.shape()),
                      ShapeToString(x.shape()));
    bool ok = DispatchNumber(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      ReduceTyped<T>(op, x, ax.reduce, y);
    });
    if (!ok) return InvalidArgument("{}: type {} is not supported", who, DTypeName(x.dtype()));
    return Status::Ok();
  });
}

// Splits a shape at `axis` into outer * n * inner.
struct AxisSplit {
  int64_t outer = 1, n = 1, inner = 1;
};
AxisSplit SplitAt(const Shape& s, int64_t axis) {
  AxisSplit r;
  for (int64_t d = 0; d < static_cast<int64_t>(s.size()); ++d) {
    if (d < axis) r.outer *= s[static_cast<size_t>(d)];
    else if (d == axis) r.n = s[static_cast<size_t>(d)];
    else r.inner *= s[static_cast<size_t>(d)];
  }
  return r;
}

Result<std::unique_ptr<Kernel>> CreateArg(const KernelInfo& info) {
  bool is_max = info.node.op_type == "ArgMax";
  int64_t axis_attr = info.node.GetInt("axis", 0);
  bool last = info.node.GetInt("select_last_index", 0) != 0;
  std::string who = info.node.Describe();
  return MakeLambdaKernel([is_max, axis_attr, last, who](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.inputs[0];
    Tensor& y = *ctx.outputs[0];
    int64_t axis = axis_attr < 0 ? axis_attr + x.rank() : axis_attr;
    if (axis < 0 || axis >= std::max(x.rank(), 1)) return InvalidArgument("{}: axis {} out of range", who, axis_attr);
    AxisSplit sp = SplitAt(x.shape(), axis);
    if (sp.n == 0 && sp.outer * sp.inner > 0) return InvalidArgument("{}: reduction over an empty axis", who);
    int64_t* py = y.data<int64_t>();
    bool ok = DispatchNumber(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* px = x.data<T>();
      for (int64_t o = 0; o < sp.outer; ++o)
        for (int64_t in = 0; in < sp.inner; ++in) {
          const T* row = px + o * sp.n * sp.inner + in;
          int64_t best = 0;
          double bv = ToD(row[0]);
          for (int64_t k = 1; k < sp.n; ++k) {
            double v = ToD(row[k * sp.inner]);
            bool better = is_max ? (last ? v >= bv : v > bv) : (last ? v <= bv : v < bv);
            if (better) {
              best = k;
              bv = v;
            }
          }
          py[o * sp.inner + in] = best;
        }
    });
    if (!ok) return InvalidArgument("{}: type {} is not supported", who, DTypeName(x.dtype()));
    return Status::Ok();
  });
}

Result<std::unique_ptr<Kernel>> CreateTopK(const KernelInfo& info) {
  int64_t axis_attr = info.node.GetInt("axis", -1);
  bool largest = info.node.GetInt("largest", 1) != 0;
  int64_t k_attr = info.node.GetInt("k", -1);
  std::string who = info.node.Describe();
  return MakeLambdaKernel([axis_attr, largest, k_attr, who](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.inputs[0];
    int64_t axis = axis_attr < 0 ? axis_attr + x.rank() : axis_attr;
    if (axis < 0 || axis >= x.rank()) return InvalidArgument("{}: axis {} out of range", who, axis_attr);
    int64_t k = k_attr;
    if (ctx.inputs.size() > 1 && ctx.inputs[1]) {
      if (ctx.inputs[1]->numel() != 1) return InvalidArgument("{}: K must have one element", who);
      k = TensorToInts(*ctx.inputs[1])[0];
    }
    AxisSplit sp = SplitAt(x.shape(), axis);
    if (k < 0 || k > sp.n) return InvalidArgument("{}: K = {} is outside [0, {}]", who, k, sp.n);
    Tensor* yv = ctx.outputs[0];
    Tensor* yi = ctx.outputs.size() > 1 ? ctx.outputs[1] : nullptr;
    std::vector<int64_t> order(static_cast<size_t>(sp.n));
    bool ok = DispatchNumber(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* px = x.data<T>();
      T* pv = yv ? yv->data<T>() : nullptr;
      int64_t* pi = yi ? yi->data<int64_t>() : nullptr;
      std::vector<double> row(static_cast<size_t>(sp.n));
      for (int64_t o = 0; o < sp.outer; ++o)
        for (int64_t in = 0; in < sp.inner; ++in) {
          const T* src = px + o * sp.n * sp.inner + in;
          for (int64_t j = 0; j < sp.n; ++j) row[static_cast<size_t>(j)] = ToD(src[j * sp.inner]);
          std::iota(order.begin(), order.end(), 0);
          // Ties keep the lower index first (stable order), as the spec requires.
          auto cmp = [&](int64_t a, int64_t b) {
            double va = row[static_cast<size_t>(a)], vb = row[static_cast<size_t>(b)];
            return largest ? va > vb : va < vb;
          };
          std::stable_sort(order.begin(), order.end(), cmp);
          for (int64_t j = 0; j < k; ++j) {
            int64_t dst = o * k * sp.inner + j * sp.inner + in;
            int64_t idx = order[static_cast<size_t>(j)];
            if (pv) pv[dst] = src[idx * sp.inner];
            if (pi) pi[dst] = idx;
          }
        }
    });
    if (!ok) return InvalidArgument("{}: type {} is not supported", who, DTypeName(x.dtype()));
    return Status::Ok();
  });
}

}  // namespace

void AddRefReduceKernels(std::vector<KernelDef>& defs) {
  for (auto n : {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
                 "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"})
    defs.push_back(KernelDef{n, "", "any_reduce__ref", 0, CreateReduce});
  defs.push_back(KernelDef{"ArgMax", "", "any_argmax__ref", 0, CreateArg});
  defs.push_back(KernelDef{"ArgMin", "", "any_argmin__ref", 0, CreateArg});
  defs.push_back(KernelDef{"TopK", "", "any_topk__ref", 0, CreateTopK});
  AddRefSoftmaxKernels(defs);
}

}  // namespace greenai
