// "f32_gemm__packed" / "f32_matmul__packed": f32 Gemm and MatMul whose B is a plan-time
// constant 2-D weight (every Linear layer of an MLP or transformer), on AVX2 + FMA.
//
// Contract:
//  - Eligible: Gemm with transA = 0 (any transB, alpha, beta, C broadcastable to [M, N]);
//    MatMul with A of rank >= 2 (batch dims fold into M) and a 2-D B. B constant f32. A fused
//    Relu or Gelu (passes.h kAttrActivation) is applied in the epilogue with the very vector
//    code of the Relu / Gelu kernels (max(0, y) in that operand order; ew::simd::Gelu), so it
//    equals the unfused pair bit for bit; any other greenai.* attribute is declined
//    (activation_adapter.cc / other kernels then run).
//  - Result: y = alpha * (A B) + beta * C, summed in f32 over k in order (one FMA chain per
//    output), so it differs from the reference kernel only by float rounding.
//  - Layout: B is packed once at plan time into panels of 16 columns, [panel][K][16],
//    zero-padded; a constant bias row (C of shape [N] or [1, N]) is pre-multiplied by beta.
//  - Micro-kernel: 6 rows x 16 columns in twelve ymm accumulators; per k two B loads, six
//    broadcasts of A and twelve FMAs (the FMA ports' bound: 16 multiply-adds per cycle). Full
//    6-row tiles run their k loop as inline assembly, four k per iteration, with the very sum
//    order of the intrinsics loop (so bits do not change): GCC's code for that loop carried four
//    register copies and a reload of K per k, and ran at 65-72 % of the machine's FMA peak on
//    BERT's shapes against 77-87 % for the assembly (bench_matmul BM_GreenaiLinear / BM_FmaPeak).
//    Tiles of 4-5 rows run the same loop on fewer rows; a chunk's last 7-9 rows go as 4 + 3,
//    4 + 4 or 4 + 5 rows instead of 6 + 1/2/3. Tiles of 1-3 rows and the K % 4 tail stay in
//    intrinsics.
//    Work items are (panel, 48-row chunk) pairs split across the pool's threads from 32K
//    multiply-adds on, so a batch-1 GEMV reads each thread's share of B once. A one-row A (a
//    batch-1 GEMV) takes four panels per item with their FMA chains interleaved (a 1-row tile
//    alone waits on the FMA latency): 1.2-1.9x on the mlp's and BERT's layer shapes, same bits.
//  - Why not oneDNN's matmul here: oneDNN 2.6's gemm:jit re-packs B on every call and ran
//    the mlp's 64x784x512 layer at 32 GMAC/s against ~45 for a packed kernel (single thread,
//    bench/ort_compare), and uses one thread for batch-1 GEMVs.
//  - On AVX-512 CPUs (core/cpu_features.h) oneDNN's avx512 matmul computes twice the columns
//    per instruction and beats the 6x16 tile, not this GEMV: there the kernel also creates
//    oneDNN's Gemm / MatMul kernel for the node without its activation and runs it whenever A
//    has more than one row (decided per run, so a model with a symbolic batch gets both), then
//    applies the fused Relu / Gelu in place with the same vector code (docs/design.md). Those
//    products are summed in oneDNN's order, not the one stated above.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

#include "backends/cpu/fast_elementwise_simd.h"
#include "backends/cpu/kernel.h"
#include "backends/cpu/packed_gemm.h"
#include "core/cpu_features.h"
#include "passes/passes.h"

namespace greenai {
namespace {

std::atomic<bool> g_wide{true};  // SetPackedGemmWide

#if defined(__AVX2__) && defined(__FMA__)

constexpr int64_t kNr = 16;     // columns per panel
constexpr int64_t kMr = 6;      // rows per micro-tile
constexpr int64_t kChunk = 48;  // rows per work item
constexpr int64_t kGemvPanels = 4;  // panels per work item when A has one row

struct FreeDeleter {
  void operator()(float* p) const { std::free(p); }
};

bool HasFusedAttrs(const Node& n) {
  for (const auto& [k, a] : n.attributes)
    if (k.rfind("greenai.", 0) == 0) return true;
  return false;
}

class PackedGemm : public Kernel {
 public:
  static Result<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    const Node& n = info.node;
    auto decline = [&](const char* why) { return Unimplemented("{}: packed f32 gemm: {}", n.Describe(), why); };
    const bool gemm = n.op_type == "Gemm";
    Node plain = n;
    const std::string act = plain.GetString(kAttrActivation, "");
    const bool no_params = plain.GetFloats(kAttrActivationParams).empty();
    const bool relu = act == "Relu" && no_params, gelu = act == "Gelu" && no_params;
    if (relu || gelu) {
      plain.attributes.erase(kAttrActivation);
      plain.attributes.erase(kAttrActivationParams);
    }
    if (HasFusedAttrs(plain)) return decline("fused attributes other than Relu or Gelu");
    if (gemm && n.GetInt("transA", 0) != 0) return decline("transA");
    if (info.input_types.empty() || info.input_types[0].dtype != DType::kF32) return decline("A is not f32");
    if (info.input_types[0].has_shape && info.input_types[0].rank() < 2) return decline("A has rank < 2");
    const Tensor* b = info.const_inputs.size() > 1 ? info.const_inputs[1] : nullptr;
    if (!b || b->dtype() != DType::kF32 || b->rank() != 2) return decline("B is not a constant f32 matrix");
    const bool tb = gemm && n.GetInt("transB", 0) != 0;
    auto k = std::unique_ptr<PackedGemm>(new PackedGemm());
    k->who_ = n.Describe();
    k->gemm_ = gemm;
    k->relu_ = relu;
    k->gelu_ = gelu;
    k->K_ = tb ? b->dim(1) : b->dim(0);
    k->N_ = tb ? b->dim(0) : b->dim(1);
    if (k->K_ <= 0 || k->N_ <= 0) return decline("empty B");
    k->alpha_ = gemm ? n.GetFloat("alpha", 1.f) : 1.f;
    k->beta_ = gemm ? n.GetFloat("beta", 1.f) : 0.f;
    k->Pack(*b, tb);
    if (HostCpu().avx512f && g_wide.load()) GREENAI_RETURN_IF_ERROR(k->MakeWide(info, plain));
    // A constant bias row: pre-multiplied by beta, padded to whole panels.
    const Tensor* c = gemm && info.const_inputs.size() > 2 ? info.const_inputs[2] : nullptr;
    if (c && c->dtype() == DType::kF32 && k->beta_ != 0.f &&
        ((c->rank() == 1 && c->dim(0) == k->N_) || (c->rank() == 2 && c->dim(0) == 1 && c->dim(1) == k->N_))) {
      k->bias_.assign(static_cast<size_t>(k->panels_ * kNr), 0.f);
      for (int64_t j = 0; j < k->N_; ++j) k->bias_[static_cast<size_t>(j)] = k->beta_ * c->data<float>()[j];
    }
    return std::unique_ptr<Kernel>(std::move(k));
  }

  Status Run(KernelContext& ctx) override {
    const Tensor& a = *ctx.inputs[0];
    Tensor& y = *ctx.outputs[0];
    if (a.dtype() != DType::kF32 || a.rank() < 1 || a.dim(-1) != K_)
      return InvalidArgument("{}: A {} does not match B's K = {}", who_, ShapeToString(a.shape()), K_);
    const int64_t M = a.numel() / K_;
    if (y.numel() != M * N_) return Internal("{}: output has {} elements, expected {}", who_, y.numel(), M * N_);
    Epi ep;
    ep.alpha = alpha_;
    ep.relu = relu_;
    ep.gelu = gelu_;
    ep.bias = bias_.empty() ? nullptr : bias_.data();
    if (gemm_ && bias_.empty() && beta_ != 0.f && ctx.inputs.size() > 2 && ctx.inputs[2] && ctx.inputs[2]->defined()) {
      const Tensor& c = *ctx.inputs[2];
      const Shape& cs = c.shape();
      if (cs.size() > 2 || c.dtype() != DType::kF32) return InvalidArgument("{}: C {} is not f32 of rank <= 2", who_, ShapeToString(cs));
      const int64_t cm = cs.size() == 2 ? cs[0] : 1, cn = cs.empty() ? 1 : cs.back();
      if ((cm != 1 && cm != M) || (cn != 1 && cn != N_))
        return InvalidArgument("{}: C {} does not broadcast to [{}, {}]", who_, ShapeToString(cs), M, N_);
      ep.c = c.data<float>();
      ep.beta = beta_;
      ep.cm = cm == 1 ? 0 : cn;
      ep.cn = cn == 1 ? 0 : 1;
    }
    const float* ad = a.data<float>();
    float* yd = y.data<float>();
    if (M > 1 && wide_) {  // AVX-512: oneDNN's matmul, then the fused activation in place
      GREENAI_RETURN_IF_ERROR(wide_->Run(ctx));
      if (relu_ || gelu_) {  // 4096-float pieces over the threads (Gelu is ~20 cycles per 8)
        const int64_t n = y.numel(), pieces = (n + 4095) / 4096;
        auto act = [&](int64_t p0, int64_t p1) {
          ActivateInPlace(yd + p0 * 4096, std::min(n, p1 * 4096) - p0 * 4096, ep);
        };
        if (ctx.pool && ctx.pool->num_threads() > 1 && pieces > 1) ctx.pool->ParallelFor(pieces, 1, act);
        else act(0, pieces);
      }
      return Status::Ok();
    }
    if (M == 1) {  // a GEMV: kGemvPanels panels per work item, one FMA chain per output each
      const int64_t items = (panels_ + kGemvPanels - 1) / kGemvPanels;
      auto gemv = [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) GemvItem(ad, i * kGemvPanels, yd, ep);
      };
      if (ctx.pool && ctx.pool->num_threads() > 1 && items > 1 && N_ * K_ >= (int64_t{1} << 15))
        ctx.pool->ParallelFor(items, 1, gemv);
      else
        gemv(0, items);
      return Status::Ok();
    }
    const int64_t chunks = (M + kChunk - 1) / kChunk;
    auto body = [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        const int64_t p = i % panels_, r0 = (i / panels_) * kChunk, r1 = std::min(M, r0 + kChunk);
        for (int64_t m = r0; m < r1;) {
          const int64_t nr = TileRows(r1 - m);
          RowTile(ad, m, nr, p, yd, ep);
          m += nr;
        }
      }
    };
    const int64_t items = panels_ * chunks;
    if (ctx.pool && ctx.pool->num_threads() > 1 && items > 1 && M * N_ * K_ >= (int64_t{1} << 15))
      ctx.pool->ParallelFor(items, 1, body);
    else
      body(0, items);
    return Status::Ok();
  }

 private:
  struct Epi {
    float alpha = 1.f, beta = 0.f;
    bool relu = false, gelu = false;  // fused activation, applied last
    const float* bias = nullptr;  // beta * C row, padded (constant C)
    const float* c = nullptr;     // general C (run time)
    int64_t cm = 0, cn = 0;       // element strides of C over m and n (0 = broadcast)
  };

  void Pack(const Tensor& b, bool tb) {
    panels_ = (N_ + kNr - 1) / kNr;
    const size_t n = static_cast<size_t>(panels_ * K_ * kNr);
    packed_.reset(static_cast<float*>(std::aligned_alloc(32, (n * 4 + 31) / 32 * 32)));
    std::memset(packed_.get(), 0, n * 4);
    const float* w = b.data<float>();
    for (int64_t k = 0; k < K_; ++k)
      for (int64_t j = 0; j < N_; ++j)
        packed_.get()[((j / kNr) * K_ + k) * kNr + j % kNr] = tb ? w[j * K_ + k] : w[k * N_ + j];
  }

  // y[0, 16 p0 ..) for up to kGemvPanels panels from p0: A's one row against each panel, the
  // panels' FMA chains interleaved. A 1-row tile has two chains, so it waits on the FMA latency
  // (4 cycles per k for 16 outputs); four panels keep eight chains in flight. Each output's sum
  // is still one chain over k in order, so the bits equal the 1-row tile's.
  void GemvItem(const float* a, int64_t p0, float* y, const Epi& ep) const {
    switch (std::min(kGemvPanels, panels_ - p0)) {
      case 4: return Gemv<4>(a, p0, y, ep);
      case 3: return Gemv<3>(a, p0, y, ep);
      case 2: return Gemv<2>(a, p0, y, ep);
      default: return Tile<1>(a, 0, p0, y, ep);
    }
  }

  template <int G>
  void Gemv(const float* a, int64_t p0, float* y, const Epi& ep) const {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    const float* b0 = packed_.get() + p0 * K_ * kNr;
    const float *b1 = b0 + K_ * kNr, *b2 = b1 + K_ * kNr, *b3 = b2 + K_ * kNr;
    for (int64_t k = 0; k < K_; ++k) {
      const __m256 av = _mm256_broadcast_ss(a + k);
      const int64_t o = k * kNr;
      c00 = _mm256_fmadd_ps(av, _mm256_load_ps(b0 + o), c00);
      c01 = _mm256_fmadd_ps(av, _mm256_load_ps(b0 + o + 8), c01);
      if constexpr (G > 1) {
        c10 = _mm256_fmadd_ps(av, _mm256_load_ps(b1 + o), c10);
        c11 = _mm256_fmadd_ps(av, _mm256_load_ps(b1 + o + 8), c11);
      }
      if constexpr (G > 2) {
        c20 = _mm256_fmadd_ps(av, _mm256_load_ps(b2 + o), c20);
        c21 = _mm256_fmadd_ps(av, _mm256_load_ps(b2 + o + 8), c21);
      }
      if constexpr (G > 3) {
        c30 = _mm256_fmadd_ps(av, _mm256_load_ps(b3 + o), c30);
        c31 = _mm256_fmadd_ps(av, _mm256_load_ps(b3 + o + 8), c31);
      }
    }
    const __m256 acc[4][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}};
    for (int g = 0; g < G; ++g) {
      const int64_t j0 = (p0 + g) * kNr;
      Store(acc[g][0], acc[g][1], 0, j0, std::min(kNr, N_ - j0), y, ep);
    }
  }

  // Rows of the next tile when `left` rows remain: 6, except that a remainder of 7-9 rows goes
  // as 4 + 3 / 4 + 4 / 4 + 5, since tiles of 1-3 rows are bound by the FMA latency (one chain
  // per accumulator, 4 cycles per k) and tiles of 4-6 rows run the assembly loop.
  static int64_t TileRows(int64_t left) {
    if (left <= kMr) return left;
    if (left < kMr + 4 && left > kMr) return 4;
    return kMr;
  }

  void RowTile(const float* a, int64_t m, int64_t nr, int64_t p, float* y, const Epi& ep) const {
    switch (nr) {
      case 6: return Tile<6>(a, m, p, y, ep);
      case 5: return Tile<5>(a, m, p, y, ep);
      case 4: return Tile<4>(a, m, p, y, ep);
      case 3: return Tile<3>(a, m, p, y, ep);
      case 2: return Tile<2>(a, m, p, y, ep);
      default: return Tile<1>(a, m, p, y, ep);
    }
  }

  // acc(r) += A[m + r][k] * panel row k. The asm barrier keeps the compiler from hoisting all
  // six broadcasts (16 ymm registers: 12 accumulators, 2 B vectors, 1 broadcast).
  static inline void Fma(const float* arow, __m256 b0, __m256 b1, __m256& c0, __m256& c1) {
    const __m256 av = _mm256_broadcast_ss(arow);
    c0 = _mm256_fmadd_ps(av, b0, c0);
    c1 = _mm256_fmadd_ps(av, b1, c1);
    __asm__("" : "+x"(c0), "+x"(c1));
  }

  template <int R>
  void Tile(const float* a, int64_t m, int64_t p, float* y, const Epi& ep) const {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00,
           c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    const float* bp = packed_.get() + p * K_ * kNr;
    const float* a0 = a + m * K_;
    const float *a1 = a0 + K_, *a2 = a1 + K_, *a3 = a2 + K_, *a4 = a3 + K_, *a5 = a4 + K_;
    int64_t k = 0;
    if constexpr (R >= 4) {
      const int64_t steps = K_ / 4;
      if (steps > 0) {
        const int64_t lda = K_ * 4;
#define GP_ROW(u, base, idx, c0, c1)                \
  "vbroadcastss " #u "*4(" base idx "), %%ymm15\n\t" \
  "vfmadd231ps %%ymm13, %%ymm15, %[" c0 "]\n\t"      \
  "vfmadd231ps %%ymm14, %%ymm15, %[" c1 "]\n\t"
#define GP_B(u)                           \
  "vmovaps " #u "*64(%%rcx), %%ymm13\n\t" \
  "vmovaps " #u "*64+32(%%rcx), %%ymm14\n\t"
#define GP_R4(u)                                    \
  GP_B(u)                                           \
  GP_ROW(u, "%%rax", "", "c00", "c01")              \
  GP_ROW(u, "%%rax", ",%[lda]", "c10", "c11")       \
  GP_ROW(u, "%%rax", ",%[lda],2", "c20", "c21")     \
  GP_ROW(u, "%%rdx", "", "c30", "c31")
#define GP_R5(u) GP_R4(u) GP_ROW(u, "%%rdx", ",%[lda]", "c40", "c41")
#define GP_R6(u) GP_R5(u) GP_ROW(u, "%%rdx", ",%[lda],2", "c50", "c51")
#define GP_ASM(STEP)                                                                                              \
  asm volatile("mov %[ap], %%rax\n\t"                                                                             \
               "lea (%[ap],%[lda],2), %%rdx\n\t"                                                                  \
               "add %[lda], %%rdx\n\t"                                                                            \
               "mov %[bq], %%rcx\n\t"                                                                             \
               "mov %[n], %%r8\n\t"                                                                               \
               "1:\n\t" STEP(0) STEP(1) STEP(2) STEP(3)                                                           \
               "add $16, %%rax\n\t"                                                                               \
               "add $16, %%rdx\n\t"                                                                               \
               "add $256, %%rcx\n\t"                                                                              \
               "dec %%r8\n\t"                                                                                     \
               "jnz 1b\n\t"                                                                                       \
               : [c00] "+x"(c00), [c01] "+x"(c01), [c10] "+x"(c10), [c11] "+x"(c11), [c20] "+x"(c20),          \
                 [c21] "+x"(c21), [c30] "+x"(c30), [c31] "+x"(c31), [c40] "+x"(c40), [c41] "+x"(c41),          \
                 [c50] "+x"(c50), [c51] "+x"(c51)                                                               \
               : [ap] "r"(a0), [bq] "r"(bp), [n] "r"(steps), [lda] "r"(lda)                                     \
               : "rax", "rdx", "rcx", "r8", "xmm13", "xmm14", "xmm15", "cc", "memory")
        if constexpr (R == 6) GP_ASM(GP_R6);
        else if constexpr (R == 5) GP_ASM(GP_R5);
        else GP_ASM(GP_R4);
#undef GP_ASM
#undef GP_R6
#undef GP_R5
#undef GP_R4
#undef GP_B
#undef GP_ROW
        k = steps * 4;
      }
    }
    for (; k < K_; ++k) {
      __m256 b0 = _mm256_load_ps(bp + k * kNr), b1 = _mm256_load_ps(bp + k * kNr + 8);
      __asm__("" : "+x"(b0), "+x"(b1));
      Fma(a0 + k, b0, b1, c00, c01);
      if constexpr (R > 1) Fma(a1 + k, b0, b1, c10, c11);
      if constexpr (R > 2) Fma(a2 + k, b0, b1, c20, c21);
      if constexpr (R > 3) Fma(a3 + k, b0, b1, c30, c31);
      if constexpr (R > 4) Fma(a4 + k, b0, b1, c40, c41);
      if constexpr (R > 5) Fma(a5 + k, b0, b1, c50, c51);
    }
    const __m256 acc[6][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    const int64_t j0 = p * kNr, nc = std::min(kNr, N_ - j0);
    for (int r = 0; r < R; ++r) Store(acc[r][0], acc[r][1], m + r, j0, nc, y, ep);
  }

  // One row of a tile: y[m, j0 .. j0 + nc) = act(alpha * acc + bias + beta * C). A full panel
  // with no run-time C is stored from registers; a partial panel or a run-time C goes through a
  // 16-float copy on the stack.
  __attribute__((always_inline)) void Store(__m256 v0, __m256 v1, int64_t m, int64_t j0, int64_t nc, float* y,
                                           const Epi& ep) const {
    float* row = y + m * N_ + j0;
    if (ep.alpha != 1.f) {
      const __m256 alpha = _mm256_set1_ps(ep.alpha);
      v0 = _mm256_mul_ps(v0, alpha);
      v1 = _mm256_mul_ps(v1, alpha);
    }
    if (ep.bias) {
      v0 = _mm256_add_ps(v0, _mm256_loadu_ps(ep.bias + j0));
      v1 = _mm256_add_ps(v1, _mm256_loadu_ps(ep.bias + j0 + 8));
    }
    if (ep.c || nc != kNr) {
      alignas(32) float tmp[kNr];
      _mm256_store_ps(tmp, v0);
      _mm256_store_ps(tmp + 8, v1);
      if (ep.c) {
        const float* cr = ep.c + m * ep.cm;
        for (int64_t j = 0; j < nc; ++j) tmp[j] += ep.beta * cr[(j0 + j) * ep.cn];
      }
      v0 = _mm256_load_ps(tmp);
      v1 = _mm256_load_ps(tmp + 8);
      Activate(v0, v1, ep);
      _mm256_store_ps(tmp, v0);
      _mm256_store_ps(tmp + 8, v1);
      std::memcpy(row, tmp, static_cast<size_t>(nc) * sizeof(float));
      return;
    }
    Activate(v0, v1, ep);
    _mm256_storeu_ps(row, v0);
    _mm256_storeu_ps(row + 8, v1);
  }

  // oneDNN's kernel for `plain` (the node without its fused activation), run for A with more
  // than one row. oneDNN declining leaves wide_ empty: this kernel then runs every A itself.
  Status MakeWide(const KernelInfo& info, const Node& plain) {
    const std::string_view want = gemm_ ? "f32_gemm__onednn" : "f32_matmul__onednn";
    wide_node_ = std::make_unique<Node>(plain);  // outlives the kernels made from it
    for (const KernelDef* d : KernelRegistry::Get().Candidates(plain.domain, plain.op_type)) {
      if (d->name != want) continue;
      const KernelInfo pi{*wide_node_, info.opset, info.input_types, info.const_inputs, info.output_types,
                          info.num_threads};
      auto k = d->create(pi);
      if (k.ok()) wide_ = std::move(k).value();
      else if (k.status().code() != StatusCode::kUnimplemented) return k.status();
    }
    return Status::Ok();
  }

  // The fused activation over y (n floats), 16 at a time as the epilogue does.
  static void ActivateInPlace(float* y, int64_t n, const Epi& ep) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
      __m256 v0 = _mm256_loadu_ps(y + i), v1 = _mm256_loadu_ps(y + i + 8);
      Activate(v0, v1, ep);
      _mm256_storeu_ps(y + i, v0);
      _mm256_storeu_ps(y + i + 8, v1);
    }
    if (i < n) {
      alignas(32) float tmp[16] = {};
      std::memcpy(tmp, y + i, static_cast<size_t>(n - i) * sizeof(float));
      __m256 v0 = _mm256_load_ps(tmp), v1 = _mm256_load_ps(tmp + 8);
      Activate(v0, v1, ep);
      _mm256_store_ps(tmp, v0);
      _mm256_store_ps(tmp + 8, v1);
      std::memcpy(y + i, tmp, static_cast<size_t>(n - i) * sizeof(float));
    }
  }

  __attribute__((always_inline)) static void Activate(__m256& v0, __m256& v1, const Epi& ep) {
    if (ep.relu) {
      const __m256 zero = _mm256_setzero_ps();
      v0 = _mm256_max_ps(zero, v0);
      v1 = _mm256_max_ps(zero, v1);
    } else if (ep.gelu) {
      v0 = ew::simd::Gelu(v0);
      v1 = ew::simd::Gelu(v1);
    }
  }

  std::string who_;
  bool gemm_ = false, relu_ = false, gelu_ = false;
  int64_t K_ = 0, N_ = 0, panels_ = 0;
  float alpha_ = 1.f, beta_ = 0.f;
  std::unique_ptr<float, FreeDeleter> packed_;
  std::vector<float> bias_;
  std::unique_ptr<Node> wide_node_;
  std::unique_ptr<Kernel> wide_;  // AVX-512 CPUs: oneDNN's kernel for A with > 1 row
};

#endif  // __AVX2__ && __FMA__

}  // namespace

void SetPackedGemmWide(bool on) { g_wide.store(on); }

void AddPackedGemmKernels(std::vector<KernelDef>& defs) {
#if defined(__AVX2__) && defined(__FMA__)
  defs.push_back({"Gemm", "", "f32_gemm__packed", 15, PackedGemm::Create});
  defs.push_back({"MatMul", "", "f32_matmul__packed", 15, PackedGemm::Create});
#else
  (void)defs;
#endif
}

}  // namespace greenai
