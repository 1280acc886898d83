// Sparse f32 kernels for Gemm, MatMul and 1x1 Conv whose weight is a constant with many zeros
// (what `greenai prune` produces). Two formats, both built once at plan time:
//  - f32_*__csr: the weight as CSR over output channels (rows of W^T), int32 column indices.
//  - f32_*__nm24: 2:4 semi-structured (every aligned group of 4 along K holds at most 2
//    non-zeros): 2 values + one byte holding two 2-bit positions per group.
// Cost rule (plan time; the factories decline with Unimplemented otherwise, so the dense
// oneDNN kernel runs):
//  - CSR takes a weight with density <= kCsrMaxDensity (30 % non-zeros): below that the
//    gather/broadcast loop does fewer memory reads and FLOPs than the dense GEMM even at its
//    lower per-MAC efficiency (bench/prune/bench_sparse.cc measures the crossover).
//  - 2:4 accepts a weight whose groups all satisfy the pattern when K % 4 == 0 and
//    K * N >= kNmMinWeights, but is registered below the dense oneDNN kernel (kNm24Priority).
//  - Only the plain forms: Gemm transA = 0, MatMul with a 2-D weight, Conv 1x1 with group 1,
//    stride 1, no padding. Nodes carrying greenai.* fused attributes are declined.
// Computation: activations are transposed into 16-row tiles [K][16] so every weight non-zero
// costs one broadcast and two 8-wide FMAs (AVX2); with fewer than 4 rows a scalar dot over
// the non-zeros is used instead (batch-1 inference is memory bound: the sparse weight is read
// once). Output channels are split across the pool's threads when the work is large enough.
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "backends/cpu/kernel.h"

namespace greenai {
#if defined(__AVX2__) && defined(__FMA__)
namespace {

constexpr double kCsrMaxDensity = 0.30;
constexpr int64_t kNmMinWeights = 4096;
constexpr int64_t kTile = 16;
// The 2:4 kernels sit below oneDNN (priority 10): on AVX2 without sparse hardware, halving the
// MACs does not pay for the index decoding (bench/prune/bench_sparse.cc: 2-4x slower than the
// dense GEMM at the mlp's sizes), so the dense kernel keeps 2:4 weights; the 2:4 kernel runs
// only where no dense kernel accepts the node, and is tested directly.
constexpr int kNm24Priority = 5;

// Weight in logical [K, N] form (y[m, n] = sum_k a[m, k] w[k, n]), stored per output n.
struct SparseWeight {
  int64_t K = 0, N = 0;
  bool nm24 = false;
  // CSR
  std::vector<int64_t> row_ptr;  // N + 1
  std::vector<int32_t> col;      // k of each non-zero
  std::vector<float> val;
  // 2:4: per n, K/4 groups: val24[(n*G+g)*2 + {0,1}], pos24[n*G+g] = i0 | i1 << 2
  std::vector<float> val24;
  std::vector<uint8_t> pos24;
};

// w_at(k, n) reads the logical weight.
template <typename F>
SparseWeight BuildCsr(int64_t K, int64_t N, F w_at) {
  SparseWeight s;
  s.K = K;
  s.N = N;
  s.row_ptr.assign(static_cast<size_t>(N + 1), 0);
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t k = 0; k < K; ++k) {
      float v = w_at(k, n);
      if (v != 0.f) {
        s.col.push_back(static_cast<int32_t>(k));
        s.val.push_back(v);
      }
    }
    s.row_ptr[static_cast<size_t>(n + 1)] = static_cast<int64_t>(s.val.size());
  }
  return s;
}

template <typename F>
bool BuildNm24(int64_t K, int64_t N, F w_at, SparseWeight& s) {
  if (K % 4 != 0) return false;
  const int64_t G = K / 4;
  s.K = K;
  s.N = N;
  s.nm24 = true;
  s.val24.assign(static_cast<size_t>(N * G * 2), 0.f);
  s.pos24.assign(static_cast<size_t>(N * G), 0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t g = 0; g < G; ++g) {
      int cnt = 0;
      int pos[2] = {0, 1};
      float v[2] = {0.f, 0.f};
      for (int i = 0; i < 4; ++i) {
        float x = w_at(4 * g + i, n);
        if (x == 0.f) continue;
        if (cnt == 2) return false;
        pos[cnt] = i;
        v[cnt] = x;
        ++cnt;
      }
      if (cnt == 1 && pos[0] == 1) pos[1] = 0;  // keep the two positions distinct; v[1] = 0
      const size_t gi = static_cast<size_t>(n * G + g);
      s.val24[gi * 2] = v[0];
      s.val24[gi * 2 + 1] = v[1];
      s.pos24[gi] = static_cast<uint8_t>(pos[0] | (pos[1] << 2));
    }
  return true;
}

// at: tile of activations [K][kTile]; acc[kTile] = sum over non-zeros of column n.
inline void TileDot(const SparseWeight& s, int64_t n, const float* at, float* out) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  if (!s.nm24) {
    const int64_t e = s.row_ptr[static_cast<size_t>(n + 1)];
    for (int64_t i = s.row_ptr[static_cast<size_t>(n)]; i < e; ++i) {
      const __m256 v = _mm256_broadcast_ss(&s.val[static_cast<size_t>(i)]);
      const float* row = at + static_cast<int64_t>(s.col[static_cast<size_t>(i)]) * kTile;
      a0 = _mm256_fmadd_ps(v, _mm256_loadu_ps(row), a0);
      a1 = _mm256_fmadd_ps(v, _mm256_loadu_ps(row + 8), a1);
    }
  } else {
    const int64_t G = s.K / 4;
    const float* vv = s.val24.data() + n * G * 2;
    const uint8_t* pp = s.pos24.data() + n * G;
    for (int64_t g = 0; g < G; ++g) {
      const float* base = at + g * 4 * kTile;
      const __m256 v0 = _mm256_broadcast_ss(vv + 2 * g), v1 = _mm256_broadcast_ss(vv + 2 * g + 1);
      const float* r0 = base + (pp[g] & 3) * kTile;
      const float* r1 = base + ((pp[g] >> 2) & 3) * kTile;
      a0 = _mm256_fmadd_ps(v0, _mm256_loadu_ps(r0), a0);
      a1 = _mm256_fmadd_ps(v0, _mm256_loadu_ps(r0 + 8), a1);
      a0 = _mm256_fmadd_ps(v1, _mm256_loadu_ps(r1), a0);
      a1 = _mm256_fmadd_ps(v1, _mm256_loadu_ps(r1 + 8), a1);
    }
  }
  _mm256_storeu_ps(out, a0);
  _mm256_storeu_ps(out + 8, a1);
}

// Dot of column n with one activation row a[K].
inline float RowDot(const SparseWeight& s, int64_t n, const float* a) {
  float p0 = 0, p1 = 0;
  if (!s.nm24) {
    const int64_t b = s.row_ptr[static_cast<size_t>(n)], e = s.row_ptr[static_cast<size_t>(n + 1)];
    const int32_t* c = s.col.data();
    const float* v = s.val.data();
    int64_t i = b;
    // Scalar loads, four independent sums: AMD Zen's vgatherdps is microcoded and was slower
    // than two plain loads per non-zero (bench/prune/bench_sparse.cc, batch 1).
    float p2 = 0, p3 = 0;
    for (; i + 4 <= e; i += 4) {
      p0 += v[i] * a[c[i]];
      p1 += v[i + 1] * a[c[i + 1]];
      p2 += v[i + 2] * a[c[i + 2]];
      p3 += v[i + 3] * a[c[i + 3]];
    }
    p0 += p2;
    p1 += p3;
    for (; i + 1 < e; i += 2) {
      p0 += v[i] * a[c[i]];
      p1 += v[i + 1] * a[c[i + 1]];
    }
    if (i < e) p0 += v[i] * a[c[i]];
  } else {
    const int64_t G = s.K / 4;
    const float* vv = s.val24.data() + n * G * 2;
    const uint8_t* pp = s.pos24.data() + n * G;
    for (int64_t g = 0; g < G; ++g) {
      p0 += vv[2 * g] * a[4 * g + (pp[g] & 3)];
      p1 += vv[2 * g + 1] * a[4 * g + ((pp[g] >> 2) & 3)];
    }
  }
  return p0 + p1;
}

int64_t NonZeros(const SparseWeight& s) {
  return s.nm24 ? static_cast<int64_t>(s.val24.size()) : static_cast<int64_t>(s.val.size());
}

// Epilogue: y = alpha * acc + beta * C(m, n) (+ conv bias handled as C with m-stride 0).
struct Epilogue {
  float alpha = 1.f, beta = 0.f;
  const float* c = nullptr;
  int64_t cm = 0, cn = 0;  // element strides of C over m and n (0 = broadcast)
  float Apply(float acc, int64_t m, int64_t n) const {
    float r = alpha * acc;
    if (c) r += beta * c[m * cm + n * cn];
    return r;
  }
};

// Row-major activations A [M, K] -> y [M, N] (y_col_major: y[n * M + m], used by 1x1 Conv
// where "m" is the pixel and the activation is already K-major, a_kmajor: a[k * M + m]).
void SpMM(const SparseWeight& s, const float* a, bool a_kmajor, int64_t M, float* y, bool y_nmajor,
          const Epilogue& ep, ThreadPool* pool) {
  const int64_t K = s.K, N = s.N;
  const double work = static_cast<double>(NonZeros(s)) * static_cast<double>(M);
  const bool parallel = pool && pool->num_threads() > 1 && work > 2e5;
  auto store = [&](int64_t m, int64_t n, float acc) {
    const float r = ep.Apply(acc, m, n);
    if (y_nmajor) y[n * M + m] = r;
    else y[m * N + n] = r;
  };
  if (M < 4) {
    auto body = [&](int64_t n0, int64_t n1) {
      std::vector<float> row;
      for (int64_t m = 0; m < M; ++m) {
        const float* am = a + m * K;
        if (a_kmajor) {
          row.resize(static_cast<size_t>(K));
          for (int64_t k = 0; k < K; ++k) row[static_cast<size_t>(k)] = a[k * M + m];
          am = row.data();
        }
        for (int64_t n = n0; n < n1; ++n) store(m, n, RowDot(s, n, am));
      }
    };
    if (parallel) pool->ParallelFor(N, std::max<int64_t>(16, N / 8), body);
    else body(0, N);
    return;
  }
  // Pack activations into tiles [tile][K][kTile] (zero-padded tail rows).
  const int64_t tiles = (M + kTile - 1) / kTile;
  std::vector<float> packed(static_cast<size_t>(tiles * K * kTile), 0.f);
  for (int64_t t = 0; t < tiles; ++t) {
    float* dst = packed.data() + t * K * kTile;
    const int64_t m0 = t * kTile, mw = std::min(kTile, M - m0);
    if (a_kmajor) {
      for (int64_t k = 0; k < K; ++k) std::memcpy(dst + k * kTile, a + k * M + m0, static_cast<size_t>(mw) * 4);
    } else {
      for (int64_t j = 0; j < mw; ++j) {
        const float* src = a + (m0 + j) * K;
        for (int64_t k = 0; k < K; ++k) dst[k * kTile + j] = src[k];
      }
    }
  }
  auto body = [&](int64_t n0, int64_t n1) {
    alignas(32) float acc[kTile];
    for (int64_t t = 0; t < tiles; ++t) {
      const float* at = packed.data() + t * K * kTile;
      const int64_t m0 = t * kTile, mw = std::min(kTile, M - m0);
      for (int64_t n = n0; n < n1; ++n) {
        TileDot(s, n, at, acc);
        for (int64_t j = 0; j < mw; ++j) store(m0 + j, n, acc[j]);
      }
    }
  };
  if (parallel) pool->ParallelFor(N, std::max<int64_t>(8, N / 8), body);
  else body(0, N);
}

enum class Format { kCsr, kNm24 };

// Builds the sparse weight if the cost rule accepts it for `fmt`.
template <typename F>
Result<SparseWeight> Choose(const Node& node, Format fmt, int64_t K, int64_t N, F w_at) {
  if (K <= 0 || N <= 0) return Unimplemented("{}: empty weight", node.Describe());
  int64_t nnz = 0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k) nnz += w_at(k, n) != 0.f;
  const double density = static_cast<double>(nnz) / static_cast<double>(K * N);
  if (fmt == Format::kCsr) {
    if (density > kCsrMaxDensity)
      return Unimplemented("{}: weight density {:.2f} above the CSR threshold {}", node.Describe(), density,
                           kCsrMaxDensity);
    return BuildCsr(K, N, w_at);
  }
  if (K * N < kNmMinWeights) return Unimplemented("{}: weight too small for the 2:4 kernel", node.Describe());
  SparseWeight s;
  if (!BuildNm24(K, N, w_at, s)) return Unimplemented("{}: weight is not 2:4 sparse", node.Describe());
  return s;
}

bool HasFusedAttrs(const Node& n) {
  for (const auto& [k, a] : n.attributes)
    if (k.rfind("greenai.", 0) == 0) return true;
  return false;
}

bool IsF32(const TensorType& t) { return t.dtype == DType::kF32; }

Status CheckOut(KernelContext& ctx) {
  if (!ctx.outputs[0] || !ctx.outputs[0]->defined()) return Internal("sparse kernel: output was not allocated");
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateGemm(const KernelInfo& info, Format fmt) {
  const Node& node = info.node;
  if (HasFusedAttrs(node) || node.GetInt("transA", 0) != 0)
    return Unimplemented("{}: sparse gemm handles plain transA = 0 only", node.Describe());
  if (info.const_inputs.size() < 2 || !info.const_inputs[1] || info.const_inputs[1]->dtype() != DType::kF32 ||
      info.const_inputs[1]->rank() != 2 || info.input_types.empty() || !IsF32(info.input_types[0]))
    return Unimplemented("{}: sparse gemm needs a constant f32 2-D B", node.Describe());
  const Tensor& b = *info.const_inputs[1];
  const bool tb = node.GetInt("transB", 0) != 0;
  const int64_t K = tb ? b.dim(1) : b.dim(0), N = tb ? b.dim(0) : b.dim(1);
  const float* w = b.data<float>();
  auto w_at = [&](int64_t k, int64_t n) { return tb ? w[n * K + k] : w[k * N + n]; };
  GREENAI_ASSIGN_OR_RETURN(SparseWeight s, Choose(node, fmt, K, N, w_at));
  const float alpha = node.GetFloat("alpha", 1.f), beta = node.GetFloat("beta", 1.f);
  return MakeLambdaKernel([s = std::move(s), alpha, beta, who = node.Describe()](KernelContext& ctx) -> Status {
    GREENAI_RETURN_IF_ERROR(CheckOut(ctx));
    const Tensor& a = *ctx.inputs[0];
    Tensor& y = *ctx.outputs[0];
    if (a.dtype() != DType::kF32 || a.rank() != 2 || a.dim(1) != s.K)
      return InvalidArgument("{}: A {} does not match the sparse weight's K = {}", who, ShapeToString(a.shape()), s.K);
    Epilogue ep;
    ep.alpha = alpha;
    const Tensor* c = ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
    if (c && c->defined() && beta != 0.f) {
      const Shape& cs = c->shape();
      ep.beta = beta;
      ep.c = c->data<float>();
      if (cs.size() == 2) {
        ep.cm = cs[0] == 1 ? 0 : cs[1];
        ep.cn = cs[1] == 1 ? 0 : 1;
      } else if (cs.size() == 1) {
        ep.cn = cs[0] == 1 ? 0 : 1;
      }
    }
    SpMM(s, a.data<float>(), false, a.dim(0), y.data<float>(), false, ep, ctx.pool);
    return Status::Ok();
  });
}

Result<std::unique_ptr<Kernel>> CreateMatMul(const KernelInfo& info, Format fmt) {
  const Node& node = info.node;
  if (HasFusedAttrs(node)) return Unimplemented("{}: fused attributes", node.Describe());
  if (info.const_inputs.size() < 2 || !info.const_inputs[1] || info.const_inputs[1]->dtype() != DType::kF32 ||
      info.const_inputs[1]->rank() != 2 || info.input_types.empty() || !IsF32(info.input_types[0]) ||
      (info.input_types[0].has_shape && info.input_types[0].rank() < 2))
    return Unimplemented("{}: sparse matmul needs A of rank >= 2 and a constant f32 2-D B", node.Describe());
  const Tensor& b = *info.const_inputs[1];
  const int64_t K = b.dim(0), N = b.dim(1);
  const float* w = b.data<float>();
  GREENAI_ASSIGN_OR_RETURN(SparseWeight s, Choose(node, fmt, K, N, [&](int64_t k, int64_t n) { return w[k * N + n]; }));
  return MakeLambdaKernel([s = std::move(s), who = node.Describe()](KernelContext& ctx) -> Status {
    GREENAI_RETURN_IF_ERROR(CheckOut(ctx));
    const Tensor& a = *ctx.inputs[0];
    if (a.dtype() != DType::kF32 || a.rank() < 2 || a.dim(-1) != s.K)
      return InvalidArgument("{}: A {} does not match the sparse weight's K = {}", who, ShapeToString(a.shape()), s.K);
    SpMM(s, a.data<float>(), false, a.numel() / s.K, ctx.outputs[0]->data<float>(), false, Epilogue{}, ctx.pool);
    return Status::Ok();
  });
}

Result<std::unique_ptr<Kernel>> CreateConv(const KernelInfo& info, Format fmt) {
  const Node& node = info.node;
  if (HasFusedAttrs(node)) return Unimplemented("{}: fused attributes", node.Describe());
  if (info.const_inputs.size() < 2 || !info.const_inputs[1] || info.const_inputs[1]->dtype() != DType::kF32 ||
      info.input_types.empty() || !IsF32(info.input_types[0]))
    return Unimplemented("{}: sparse conv needs a constant f32 weight", node.Describe());
  const Tensor& w = *info.const_inputs[1];
  auto all_eq = [](const std::vector<int64_t>& v, int64_t x) {
    return std::all_of(v.begin(), v.end(), [x](int64_t e) { return e == x; });
  };
  if (w.rank() != 4 || w.dim(2) != 1 || w.dim(3) != 1 || node.GetInt("group", 1) != 1 ||
      !all_eq(node.GetInts("strides"), 1) || !all_eq(node.GetInts("pads"), 0) ||
      node.GetString("auto_pad", "NOTSET") != "NOTSET")
    return Unimplemented("{}: sparse conv handles 2-D 1x1, group 1, stride 1, no padding", node.Describe());
  const Tensor* bias = info.const_inputs.size() > 2 ? info.const_inputs[2] : nullptr;
  if (node.HasInput(2) && !bias) return Unimplemented("{}: sparse conv needs a constant bias", node.Describe());
  const int64_t Co = w.dim(0), Ci = w.dim(1);
  const float* wd = w.data<float>();
  GREENAI_ASSIGN_OR_RETURN(SparseWeight s, Choose(node, fmt, Ci, Co, [&](int64_t k, int64_t n) { return wd[n * Ci + k]; }));
  Tensor b = bias ? *bias : Tensor();
  return MakeLambdaKernel([s = std::move(s), b, who = node.Describe()](KernelContext& ctx) -> Status {
    GREENAI_RETURN_IF_ERROR(CheckOut(ctx));
    const Tensor& x = *ctx.inputs[0];
    Tensor& y = *ctx.outputs[0];
    if (x.dtype() != DType::kF32 || x.rank() != 4 || x.dim(1) != s.K)
      return InvalidArgument("{}: X {} does not match the weight's {} input channels", who, ShapeToString(x.shape()), s.K);
    const int64_t P = x.dim(2) * x.dim(3);
    Epilogue ep;
    if (b.defined()) {
      ep.c = b.data<float>();
      ep.beta = 1.f;
      ep.cn = 1;
    }
    for (int64_t i = 0; i < x.dim(0); ++i)
      SpMM(s, x.data<float>() + i * s.K * P, true, P, y.data<float>() + i * s.N * P, true, ep, ctx.pool);
    return Status::Ok();
  });
}

}  // namespace
#endif

void AddSparseKernels(std::vector<KernelDef>& defs) {
#if defined(__AVX2__) && defined(__FMA__)
  defs.push_back({"Gemm", "", "f32_gemm__csr", 30, [](const KernelInfo& i) { return CreateGemm(i, Format::kCsr); }});
  defs.push_back({"Gemm", "", "f32_gemm__nm24", kNm24Priority, [](const KernelInfo& i) { return CreateGemm(i, Format::kNm24); }});
  defs.push_back({"MatMul", "", "f32_matmul__csr", 30, [](const KernelInfo& i) { return CreateMatMul(i, Format::kCsr); }});
  defs.push_back(
      {"MatMul", "", "f32_matmul__nm24", kNm24Priority, [](const KernelInfo& i) { return CreateMatMul(i, Format::kNm24); }});
  defs.push_back({"Conv", "", "f32_conv1x1__csr", 30, [](const KernelInfo& i) { return CreateConv(i, Format::kCsr); }});
  defs.push_back({"Conv", "", "f32_conv1x1__nm24", kNm24Priority, [](const KernelInfo& i) { return CreateConv(i, Format::kNm24); }});
#else
  (void)defs;
#endif
}

}  // namespace greenai
