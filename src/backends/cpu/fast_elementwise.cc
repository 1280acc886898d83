// Optimized f32 kernels (priority 10): AVX2/FMA unary activations and binary
// Add/Sub/Mul/Div for same-shape, scalar and trailing-dim ("bias add") broadcasting,
// multi-threaded over ctx.pool. Factories decline (Unimplemented) for types and static
// shapes they do not cover so the reference kernel runs; when shapes are only known at run
// time and turn out not to be covered, the kernel delegates to the reference kernel it
// created at plan time. Reductions and softmax: fast_elementwise_reduce.cc.
// See backends/cpu/kernel.h for the contract.
#include <algorithm>
#include <cmath>
#include <string>

#include "backends/cpu/fast_elementwise_simd.h"
#include "backends/cpu/ref_elementwise_internal.h"

namespace greenai {
void AddFastReduceKernels(std::vector<KernelDef>& defs);

#ifdef GREENAI_FAST_EW
namespace {

using namespace ew;
using namespace ew::simd;

constexpr int64_t kGrain = 16384;  // elements per task: ~64 KiB in + out, amortizes dispatch

enum class FU { kRelu, kLeakyRelu, kSigmoid, kTanh, kGelu, kGeluTanh, kExp, kErf, kAbs, kNeg, kSqrt, kElu,
                kHardSigmoid, kHardSwish };

struct FastUnaryEntry {
  std::string_view name;
  FU op;
};
constexpr FastUnaryEntry kFastUnary[] = {
    {"Relu", FU::kRelu}, {"LeakyRelu", FU::kLeakyRelu}, {"Sigmoid", FU::kSigmoid}, {"Tanh", FU::kTanh},
    {"Gelu", FU::kGelu}, {"Exp", FU::kExp}, {"Erf", FU::kErf}, {"Abs", FU::kAbs}, {"Neg", FU::kNeg},
    {"Sqrt", FU::kSqrt}, {"Elu", FU::kElu}, {"HardSigmoid", FU::kHardSigmoid}, {"HardSwish", FU::kHardSwish},
};

struct FastParams {
  float alpha = 0, beta = 0;
};

template <FU op>
inline __m256 ApplyVec(__m256 x, const FastParams& p) {
  const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f), half = _mm256_set1_ps(0.5f);
  if constexpr (op == FU::kRelu) return _mm256_max_ps(zero, x);  // max(0, NaN) = NaN: operand order matters
  if constexpr (op == FU::kLeakyRelu)
    return _mm256_blendv_ps(x, _mm256_mul_ps(x, _mm256_set1_ps(p.alpha)), _mm256_cmp_ps(x, zero, _CMP_LT_OQ));
  if constexpr (op == FU::kSigmoid) return Sigmoid(x);
  if constexpr (op == FU::kTanh) return Tanh(x);
  if constexpr (op == FU::kExp) return Exp(x);
  if constexpr (op == FU::kErf) return Erf(x);
  if constexpr (op == FU::kGelu) return Gelu(x);
  if constexpr (op == FU::kGeluTanh) {
    __m256 x3 = _mm256_mul_ps(_mm256_mul_ps(x, x), x);
    __m256 inner = _mm256_mul_ps(_mm256_set1_ps(0.7978845608028654f), _mm256_fmadd_ps(_mm256_set1_ps(0.044715f), x3, x));
    return _mm256_mul_ps(_mm256_mul_ps(half, x), _mm256_add_ps(one, Tanh(inner)));
  }
  if constexpr (op == FU::kAbs) return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
  if constexpr (op == FU::kNeg) return _mm256_xor_ps(_mm256_set1_ps(-0.0f), x);
  if constexpr (op == FU::kSqrt) return _mm256_sqrt_ps(x);
  if constexpr (op == FU::kElu) {
    __m256 neg = _mm256_mul_ps(_mm256_set1_ps(p.alpha), _mm256_sub_ps(Exp(x), one));
    return _mm256_blendv_ps(x, neg, _mm256_cmp_ps(x, zero, _CMP_LT_OQ));
  }
  if constexpr (op == FU::kHardSigmoid)
    return _mm256_min_ps(one, _mm256_max_ps(zero, _mm256_fmadd_ps(_mm256_set1_ps(p.alpha), x, _mm256_set1_ps(p.beta))));
  if constexpr (op == FU::kHardSwish) {
    __m256 t = _mm256_fmadd_ps(x, _mm256_set1_ps(1.0f / 6.0f), half);
    return _mm256_mul_ps(x, _mm256_min_ps(one, _mm256_max_ps(zero, t)));
  }
  return x;
}

template <FU op>
Status RunFastUnary(KernelContext& ctx, const FastParams& p) {
  const float* x = ctx.inputs[0]->data<float>();
  float* y = ctx.outputs[0]->data<float>();
  ctx.pool->ParallelFor(ctx.inputs[0]->numel(), kGrain, [&](int64_t b, int64_t e) {
    MapF32(x + b, y + b, e - b, [&](__m256 v) { return ApplyVec<op>(v, p); });
  });
  return Status::Ok();
}

using FastUnaryFn = Status (*)(KernelContext&, const FastParams&);

FastUnaryFn PickUnary(FU op) {
  switch (op) {
    case FU::kRelu: return RunFastUnary<FU::kRelu>;
    case FU::kLeakyRelu: return RunFastUnary<FU::kLeakyRelu>;
    case FU::kSigmoid: return RunFastUnary<FU::kSigmoid>;
    case FU::kTanh: return RunFastUnary<FU::kTanh>;
    case FU::kGelu: return RunFastUnary<FU::kGelu>;
    case FU::kGeluTanh: return RunFastUnary<FU::kGeluTanh>;
    case FU::kExp: return RunFastUnary<FU::kExp>;
    case FU::kErf: return RunFastUnary<FU::kErf>;
    case FU::kAbs: return RunFastUnary<FU::kAbs>;
    case FU::kNeg: return RunFastUnary<FU::kNeg>;
    case FU::kSqrt: return RunFastUnary<FU::kSqrt>;
    case FU::kElu: return RunFastUnary<FU::kElu>;
    case FU::kHardSigmoid: return RunFastUnary<FU::kHardSigmoid>;
    case FU::kHardSwish: return RunFastUnary<FU::kHardSwish>;
  }
  return nullptr;
}

Result<std::unique_ptr<Kernel>> CreateFastUnary(const KernelInfo& info) {
  if (InputDType(info, 0) != DType::kF32)
    return Unimplemented("{}: fast kernel handles float32 only", info.node.Describe());
  FU op = FU::kRelu;
  for (const auto& e : kFastUnary)
    if (e.name == info.node.op_type) op = e.op;
  FastParams p;
  if (op == FU::kLeakyRelu) p.alpha = info.node.GetFloat("alpha", 0.01f);
  if (op == FU::kElu) p.alpha = info.node.GetFloat("alpha", 1.0f);
  if (op == FU::kHardSigmoid) {
    p.alpha = info.node.GetFloat("alpha", 0.2f);
    p.beta = info.node.GetFloat("beta", 0.5f);
  }
  if (op == FU::kGelu) {
    std::string a = info.node.GetString("approximate", "none");
    if (a == "tanh") op = FU::kGeluTanh;
    else if (a != "none") return Unimplemented("{}: approximate='{}'", info.node.Describe(), a);
  }
  FastUnaryFn fn = PickUnary(op);
  std::string who = info.node.Describe();
  return MakeLambdaKernel([fn, p, who](KernelContext& ctx) -> Status {
    if (ctx.inputs[0]->dtype() != DType::kF32) return InvalidArgument("{}: expects float32 input", who);
    return fn(ctx, p);
  });
}

// ---- Binary Add/Sub/Mul/Div ----

enum class FB { kAdd, kSub, kMul, kDiv };

// How the two inputs map onto the output: same shape, one side a scalar, or one side
// broadcast along the trailing dims (its shape, minus leading 1s, is a suffix of the output's).
struct BinaryLayout {
  enum Kind { kNone, kSame, kScalarA, kScalarB, kRowA, kRowB } kind = kNone;
  int64_t inner = 0;  // row length for kRowA/kRowB
};

bool IsTrailing(const Shape& s, const Shape& out, int64_t* inner) {
  size_t lead = 0;
  while (lead < s.size() && s[lead] == 1) ++lead;
  size_t m = s.size() - lead;
  if (m > out.size()) return false;
  for (size_t j = 0; j < m; ++j)
    if (s[lead + j] != out[out.size() - m + j]) return false;
  *inner = NumElements(Shape(s.begin() + static_cast<std::ptrdiff_t>(lead), s.end()));
  return true;
}

// Same row-major layout as the output: equal once leading 1s are dropped.
bool SameLayout(const Shape& s, const Shape& out) {
  size_t i = 0, j = 0;
  while (i < s.size() && s[i] == 1) ++i;
  while (j < out.size() && out[j] == 1) ++j;
  return std::equal(s.begin() + static_cast<std::ptrdiff_t>(i), s.end(), out.begin() + static_cast<std::ptrdiff_t>(j),
                    out.end());
}

BinaryLayout Classify(const Shape& a, const Shape& b, const Shape& out) {
  BinaryLayout l;
  const int64_t na = NumElements(a), nb = NumElements(b);
  const bool fa = SameLayout(a, out), fb = SameLayout(b, out);
  if (fa && fb) l.kind = BinaryLayout::kSame;
  else if (fb && na == 1) l.kind = BinaryLayout::kScalarA;
  else if (fa && nb == 1) l.kind = BinaryLayout::kScalarB;
  else if (fa && IsTrailing(b, out, &l.inner) && l.inner > 0) l.kind = BinaryLayout::kRowB;
  else if (fb && IsTrailing(a, out, &l.inner) && l.inner > 0) l.kind = BinaryLayout::kRowA;
  return l;
}

template <FB op>
inline __m256 BinVec(__m256 a, __m256 b) {
  if constexpr (op == FB::kAdd) return _mm256_add_ps(a, b);
  if constexpr (op == FB::kSub) return _mm256_sub_ps(a, b);
  if constexpr (op == FB::kMul) return _mm256_mul_ps(a, b);
  return _mm256_div_ps(a, b);
}
template <FB op>
inline float BinScalar(float a, float b) {
  if constexpr (op == FB::kAdd) return a + b;
  if constexpr (op == FB::kSub) return a - b;
  if constexpr (op == FB::kMul) return a * b;
  return a / b;
}

// y[i] = a[i*sa] op b[i*sb] for i in [0, n), where sa/sb are 0 (broadcast scalar) or 1.
template <FB op, bool kScalarA, bool kScalarB>
inline void BinSpan(const float* a, const float* b, float* y, int64_t n) {
  int64_t i = 0;
  __m256 va = _mm256_set1_ps(a[0]), vb = _mm256_set1_ps(b[0]);
  for (; i + 8 <= n; i += 8) {
    if constexpr (!kScalarA) va = _mm256_loadu_ps(a + i);
    if constexpr (!kScalarB) vb = _mm256_loadu_ps(b + i);
    _mm256_storeu_ps(y + i, BinVec<op>(va, vb));
  }
  for (; i < n; ++i) y[i] = BinScalar<op>(kScalarA ? a[0] : a[i], kScalarB ? b[0] : b[i]);
}

template <FB op>
void RunLayout(const BinaryLayout& l, const float* a, const float* b, float* y, int64_t n, ThreadPool* pool) {
  switch (l.kind) {
    case BinaryLayout::kSame:
      pool->ParallelFor(n, kGrain, [&](int64_t s, int64_t e) { BinSpan<op, false, false>(a + s, b + s, y + s, e - s); });
      break;
    case BinaryLayout::kScalarA:
      pool->ParallelFor(n, kGrain, [&](int64_t s, int64_t e) { BinSpan<op, true, false>(a, b + s, y + s, e - s); });
      break;
    case BinaryLayout::kScalarB:
      pool->ParallelFor(n, kGrain, [&](int64_t s, int64_t e) { BinSpan<op, false, true>(a + s, b, y + s, e - s); });
      break;
    case BinaryLayout::kRowA:
    case BinaryLayout::kRowB: {
      const int64_t inner = l.inner, rows = n / inner;
      const int64_t grain_rows = std::max<int64_t>(1, kGrain / inner);
      pool->ParallelFor(rows, grain_rows, [&](int64_t s, int64_t e) {
        for (int64_t r = s; r < e; ++r) {
          if (l.kind == BinaryLayout::kRowB) BinSpan<op, false, false>(a + r * inner, b, y + r * inner, inner);
          else BinSpan<op, false, false>(a, b + r * inner, y + r * inner, inner);
        }
      });
      break;
    }
    case BinaryLayout::kNone: break;
  }
}

Result<std::unique_ptr<Kernel>> CreateFastBinary(const KernelInfo& info) {
  if (InputDType(info, 0) != DType::kF32 || InputDType(info, 1) != DType::kF32)
    return Unimplemented("{}: fast kernel handles float32 only", info.node.Describe());
  const auto& ta = info.input_types[0];
  const auto& tb = info.input_types[1];
  const auto& to = info.output_types[0];
  if (ta.IsFullyKnown() && tb.IsFullyKnown() && to.IsFullyKnown() &&
      Classify(ta.dims, tb.dims, to.dims).kind == BinaryLayout::kNone)
    return Unimplemented("{}: broadcast pattern {} vs {} not covered by the fast kernel", info.node.Describe(),
                         ta.ToString(), tb.ToString());
  GREENAI_ASSIGN_OR_RETURN(CreatedKernel ref, CreateKernel(info, /*reference_only=*/true));
  const std::string& n = info.node.op_type;
  FB op = n == "Add" ? FB::kAdd : n == "Sub" ? FB::kSub : n == "Mul" ? FB::kMul : FB::kDiv;
  std::shared_ptr<Kernel> fallback = std::move(ref.kernel);
  return MakeLambdaKernel([op, fallback](KernelContext& ctx) -> Status {
    const Tensor& a = *ctx.inputs[0];
    const Tensor& b = *ctx.inputs[1];
    Tensor& y = *ctx.outputs[0];
    BinaryLayout l = Classify(a.shape(), b.shape(), y.shape());
    if (l.kind == BinaryLayout::kNone || a.dtype() != DType::kF32 || b.dtype() != DType::kF32)
      return fallback->Run(ctx);
    const float* pa = a.data<float>();
    const float* pb = b.data<float>();
    float* py = y.data<float>();
    switch (op) {
      case FB::kAdd: RunLayout<FB::kAdd>(l, pa, pb, py, y.numel(), ctx.pool); break;
      case FB::kSub: RunLayout<FB::kSub>(l, pa, pb, py, y.numel(), ctx.pool); break;
      case FB::kMul: RunLayout<FB::kMul>(l, pa, pb, py, y.numel(), ctx.pool); break;
      case FB::kDiv: RunLayout<FB::kDiv>(l, pa, pb, py, y.numel(), ctx.pool); break;
    }
    return Status::Ok();
  });
}

}  // namespace

void AddFastElementwiseKernels(std::vector<KernelDef>& defs) {
  for (const auto& e : kFastUnary) defs.push_back(KernelDef{e.name, "", "f32_unary__avx2", 10, CreateFastUnary});
  for (auto n : {"Add", "Sub", "Mul", "Div"}) defs.push_back(KernelDef{n, "", "f32_binary__avx2", 10, CreateFastBinary});
  AddFastReduceKernels(defs);
}
#else
void AddFastElementwiseKernels(std::vector<KernelDef>& defs) { AddFastReduceKernels(defs); }
#endif

}  // namespace greenai
