// Optimized f32 reductions and softmax (priority 10), AVX2 + ctx.pool:
//  - ReduceSum/ReduceMean/ReduceMax/ReduceMin over any axes: adjacent dims are merged into
//    alternating kept/reduced blocks and each reduced block is folded in one pass, either
//    along rows (reduced block innermost: horizontal vector sums) or across rows (kept
//    block innermost: vertical vector adds). Max/Min propagate NaN like the reference.
//  - Softmax/LogSoftmax along the last axis (either opset convention).
// Empty reductions and noop_with_empty_axes delegate to the reference kernel.
// Sums accumulate in float (8 lanes x 4 accumulators): relative error grows ~sqrt(n) ulp,
// within 1e-5 of the double reference for the sizes tested.
// See backends/cpu/kernel.h for the contract.
#include <cmath>
#include <limits>
#include <string>

#include "backends/cpu/fast_elementwise_simd.h"
#include "backends/cpu/ref_elementwise_internal.h"
#include "ops/elementwise_internal.h"

namespace greenai {

#ifdef GREENAI_FAST_EW
namespace {

using namespace ew;
using namespace ew::simd;

constexpr int64_t kGrain = 16384;

enum class FR { kSum, kMean, kMax, kMin };

inline __m256 Combine(FR op, __m256 acc, __m256 v) {
  if (op == FR::kMax) return _mm256_max_ps(acc, v);
  if (op == FR::kMin) return _mm256_min_ps(acc, v);
  return _mm256_add_ps(acc, v);
}

// Reduces each of `rows` contiguous rows of length n into dst[r].
void ReduceRows(FR op, const float* src, float* dst, int64_t rows, int64_t n, ThreadPool* pool) {
  const float init = op == FR::kMax ? -INFINITY : op == FR::kMin ? INFINITY : 0.0f;
  pool->ParallelFor(rows, std::max<int64_t>(1, kGrain / n), [&](int64_t s, int64_t e) {
    for (int64_t r = s; r < e; ++r) {
      const float* x = src + r * n;
      __m256 a0 = _mm256_set1_ps(init), a1 = a0, a2 = a0, a3 = a0;
      __m256 nan = _mm256_setzero_ps();
      int64_t i = 0;
      for (; i + 32 <= n; i += 32) {
        __m256 v0 = _mm256_loadu_ps(x + i), v1 = _mm256_loadu_ps(x + i + 8);
        __m256 v2 = _mm256_loadu_ps(x + i + 16), v3 = _mm256_loadu_ps(x + i + 24);
        a0 = Combine(op, a0, v0);
        a1 = Combine(op, a1, v1);
        a2 = Combine(op, a2, v2);
        a3 = Combine(op, a3, v3);
        if (op == FR::kMax || op == FR::kMin)
          nan = _mm256_or_ps(nan, _mm256_or_ps(_mm256_cmp_ps(v0, v1, _CMP_UNORD_Q), _mm256_cmp_ps(v2, v3, _CMP_UNORD_Q)));
      }
      for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        a0 = Combine(op, a0, v);
        if (op == FR::kMax || op == FR::kMin) nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
      }
      a0 = Combine(op, Combine(op, a0, a1), Combine(op, a2, a3));
      float acc = op == FR::kMax ? HMax(a0) : op == FR::kMin ? HMin(a0) : HSum(a0);
      bool has_nan = _mm256_movemask_ps(nan) != 0;
      for (; i < n; ++i) {
        float v = x[i];
        if (std::isnan(v)) has_nan = true;
        acc = op == FR::kMax ? std::max(acc, v) : op == FR::kMin ? std::min(acc, v) : acc + v;
      }
      dst[r] = has_nan ? std::numeric_limits<float>::quiet_NaN() : acc;
    }
  });
}

// dst[o, i] = fold_k src[o, k, i] for o < outer, k < n, i < inner (inner > 1).
void ReduceMiddle(FR op, const float* src, float* dst, int64_t outer, int64_t n, int64_t inner, ThreadPool* pool) {
  const int64_t chunk = 1024;
  const int64_t nchunks = (inner + chunk - 1) / chunk;
  const bool minmax = op == FR::kMax || op == FR::kMin;
  pool->ParallelFor(outer * nchunks, std::max<int64_t>(1, kGrain / (n * chunk)), [&](int64_t s, int64_t e) {
    for (int64_t t = s; t < e; ++t) {
      const int64_t o = t / nchunks, i0 = (t % nchunks) * chunk, i1 = std::min(inner, i0 + chunk);
      float* d = dst + o * inner;
      const float* base = src + o * n * inner;
      std::copy(base + i0, base + i1, d + i0);
      for (int64_t k = 1; k < n; ++k) {
        const float* x = base + k * inner;
        int64_t i = i0;
        for (; i + 8 <= i1; i += 8) {
          __m256 a = _mm256_loadu_ps(d + i), v = _mm256_loadu_ps(x + i);
          __m256 r = Combine(op, a, v);
          if (minmax) r = _mm256_blendv_ps(r, a, _mm256_cmp_ps(a, a, _CMP_UNORD_Q));  // keep NaN sticky
          _mm256_storeu_ps(d + i, r);
        }
        for (; i < i1; ++i) {
          float a = d[i], v = x[i];
          if (std::isnan(a)) continue;
          d[i] = op == FR::kMax ? (std::isnan(v) || v > a ? v : a)
               : op == FR::kMin ? (std::isnan(v) || v < a ? v : a) : a + v;
        }
      }
    }
  });
}

Status RunFastReduce(FR op, const Node& slim, KernelContext& ctx, Kernel& fallback) {
  const Tensor& x = *ctx.inputs[0];
  Tensor& y = *ctx.outputs[0];
  const Tensor* axes = ctx.inputs.size() > 1 ? ctx.inputs[1] : nullptr;
  if (x.dtype() != DType::kF32 || x.numel() == 0) return fallback.Run(ctx);
  GREENAI_ASSIGN_OR_RETURN(ReduceAxes ax, ResolveReduceAxes(slim, x.rank(), axes != nullptr, axes));
  if (ax.noop) return fallback.Run(ctx);
  // Merge dims into alternating kept/reduced blocks, dropping size-1 dims.
  std::vector<std::pair<int64_t, bool>> blocks;
  int64_t count = 1;
  for (int d = 0; d < x.rank(); ++d) {
    int64_t n = x.shape()[static_cast<size_t>(d)];
    bool r = ax.reduce[static_cast<size_t>(d)];
    if (r) count *= n;
    if (n == 1) continue;
    if (!blocks.empty() && blocks.back().second == r) blocks.back().first *= n;
    else blocks.push_back({n, r});
  }
  const float* src = x.data<float>();
  float* out = y.data<float>();
  std::vector<float> bufs[2];
  int which = 0;
  int nreduced = 0;
  for (const auto& b : blocks) nreduced += b.second ? 1 : 0;
  if (nreduced == 0) std::copy(src, src + x.numel(), out);
  // Fold reduced blocks from the innermost outward; the last fold writes the output.
  for (size_t j = blocks.size(); j-- > 0;) {
    if (!blocks[j].second) continue;
    int64_t outer = 1, inner = 1;
    for (size_t q = 0; q < j; ++q) outer *= blocks[q].first;
    for (size_t q = j + 1; q < blocks.size(); ++q) inner *= blocks[q].first;
    float* dst = out;
    if (--nreduced > 0) {
      bufs[which].resize(static_cast<size_t>(outer * inner));
      dst = bufs[which].data();
    }
    if (inner == 1) ReduceRows(op, src, dst, outer, blocks[j].first, ctx.pool);
    else ReduceMiddle(op, src, dst, outer, blocks[j].first, inner, ctx.pool);
    src = dst;
    which ^= 1;
    blocks.erase(blocks.begin() + static_cast<std::ptrdiff_t>(j));
  }
  if (op == FR::kMean) {
    const float inv = 1.0f / static_cast<float>(count);
    for (int64_t i = 0; i < y.numel(); ++i) out[i] *= inv;
  }
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateFastReduce(const KernelInfo& info) {
  if (InputDType(info, 0) != DType::kF32)
    return Unimplemented("{}: fast kernel handles float32 only", info.node.Describe());
  GREENAI_ASSIGN_OR_RETURN(CreatedKernel ref, CreateKernel(info, /*reference_only=*/true));
  const std::string& n = info.node.op_type;
  FR op = n == "ReduceSum" ? FR::kSum : n == "ReduceMean" ? FR::kMean : n == "ReduceMax" ? FR::kMax : FR::kMin;
  auto slim = std::make_shared<Node>();
  slim->op_type = info.node.op_type;
  slim->name = info.node.name;
  for (const char* a : {"axes", "keepdims", "noop_with_empty_axes"})
    if (const Attribute* at = info.node.FindAttr(a)) slim->attributes[a] = *at;
  std::shared_ptr<Kernel> fallback = std::move(ref.kernel);
  return MakeLambdaKernel([op, slim, fallback](KernelContext& ctx) -> Status {
    return RunFastReduce(op, *slim, ctx, *fallback);
  });
}

// ---- Softmax / LogSoftmax over the last axis ----

void SoftmaxRows(bool log, const float* x, float* y, int64_t rows, int64_t n, ThreadPool* pool) {
  pool->ParallelFor(rows, std::max<int64_t>(1, kGrain / n), [&](int64_t s, int64_t e) {
    for (int64_t r = s; r < e; ++r) {
      const float* xr = x + r * n;
      float* yr = y + r * n;
      __m256 vm = _mm256_set1_ps(-INFINITY);
      int64_t i = 0;
      for (; i + 8 <= n; i += 8) vm = _mm256_max_ps(vm, _mm256_loadu_ps(xr + i));
      float mx = HMax(vm);
      for (; i < n; ++i) mx = std::max(mx, xr[i]);
      const __m256 vmx = _mm256_set1_ps(mx);
      __m256 vs = _mm256_setzero_ps();
      i = 0;
      for (; i + 8 <= n; i += 8) {
        __m256 ex = Exp(_mm256_sub_ps(_mm256_loadu_ps(xr + i), vmx));
        if (!log) _mm256_storeu_ps(yr + i, ex);
        vs = _mm256_add_ps(vs, ex);
      }
      float sum = HSum(vs);
      for (; i < n; ++i) {
        float ex = ExpScalar(xr[i] - mx);
        if (!log) yr[i] = ex;
        sum += ex;
      }
      if (log) {
        // (x - max) - log(sum): subtracting max first is exact near the max, where
        // x - (max + log(sum)) would round max + log(sum) and lose the small result.
        const float ls = std::log(sum);
        const __m256 vls = _mm256_set1_ps(ls);
        i = 0;
        for (; i + 8 <= n; i += 8)
          _mm256_storeu_ps(yr + i, _mm256_sub_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + i), vmx), vls));
        for (; i < n; ++i) yr[i] = (xr[i] - mx) - ls;
      } else {
        const float inv = 1.0f / sum;
        const __m256 vinv = _mm256_set1_ps(inv);
        i = 0;
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(yr + i, _mm256_mul_ps(_mm256_loadu_ps(yr + i), vinv));
        for (; i < n; ++i) yr[i] *= inv;
      }
    }
  });
}

Result<std::unique_ptr<Kernel>> CreateFastSoftmax(const KernelInfo& info) {
  const TensorType& t = info.input_types[0];
  if (t.dtype != DType::kF32 || !t.has_shape || t.rank() == 0)
    return Unimplemented("{}: fast kernel handles float32 of known rank >= 1 only", info.node.Describe());
  GREENAI_ASSIGN_OR_RETURN(SoftmaxAxis ax, ResolveSoftmaxAxis(info.node, info.opset, t.rank()));
  if (ax.axis != t.rank() - 1)
    return Unimplemented("{}: fast kernel handles the last axis only (axis {})", info.node.Describe(), ax.axis);
  bool log = info.node.op_type == "LogSoftmax";
  int rank = t.rank();
  std::string who = info.node.Describe();
  return MakeLambdaKernel([log, rank, who](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.inputs[0];
    if (x.rank() != rank || x.dtype() != DType::kF32)
      return InvalidArgument("{}: input {} changed rank or type since planning", who, ShapeToString(x.shape()));
    const int64_t n = x.shape().back();
    if (n == 0 || x.numel() == 0) return Status::Ok();
    SoftmaxRows(log, x.data<float>(), ctx.outputs[0]->data<float>(), x.numel() / n, n, ctx.pool);
    return Status::Ok();
  });
}

}  // namespace

void AddFastReduceKernels(std::vector<KernelDef>& defs) {
  for (auto n : {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin"})
    defs.push_back(KernelDef{n, "", "f32_reduce__avx2", 10, CreateFastReduce});
  defs.push_back(KernelDef{"Softmax", "", "f32_softmax_lastaxis__avx2", 10, CreateFastSoftmax});
  defs.push_back(KernelDef{"LogSoftmax", "", "f32_logsoftmax_lastaxis__avx2", 10, CreateFastSoftmax});
}
#else
void AddFastReduceKernels(std::vector<KernelDef>& defs) { (void)defs; }
#endif

}  // namespace greenai
