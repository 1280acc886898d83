// "u8s8_qgemm__avx2": ai.greenai QGemm (ops/qgemm.h), the fused MatMulInteger + int32 bias +
// requantization that QGemmFusion makes of QdqFusion's integer chain, in one pass over the
// output like ONNX Runtime's QGemm: each 4x16 tile's int32 sums are corrected (row shift, a's
// zero point and the bias, folded into one per-column int32), requantized and stored as bytes
// while still in registers, so the int32 matrix is never written nor re-read.
//
// Accepts what "u8s8_matmulinteger__avx2_sign" accepts (int8_gemm_avx2.cc: A uint8 or int8
// with a constant scalar zero point, a constant int8 B [K, N] without -128 and zero point 0)
// plus a constant int32 bias and a constant per-tensor or per-column y_scale (> 0, finite)
// and y_zero_point. The GEMM is the shared micro-kernel of int8_tile_avx2.h (sign or direct
// mode); the requantization is int8avx2::RequantizeQuad, bit-identical to the reference
// QuantizeLinear. So the output equals i8_qgemm__ref's bit for bit. Anything else declines
// (Unimplemented) and i8_qgemm__gemm_i16 or the reference runs.
//
// Threads: from kParallelMacs multiply-adds on (the mlp's layers at batch 64: 25.7M and
// 8.4M) the 16-column panels are split over the pool in one parallel region (ThreadPool makes
// up to four chunks per thread, claimed dynamically, so a thread that starts late takes
// fewer); each panel is read by one thread and stays in its L1 while a 64-row block passes
// over it. Below that one thread runs it all: a batch-1 layer (0.4M multiply-adds, ~10 us)
// gains less from a second thread than waking it costs, and on a loaded host a parallel
// region also waits for a descheduled worker (milliseconds).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#if defined(__AVX2__)
#include <immintrin.h>

#include "backends/cpu/int8_tile_avx2.h"
#endif

#include "backends/cpu/kernel.h"
#include "ops/qgemm.h"

namespace greenai {
namespace {

#if defined(__AVX2__)

using int8avx2::kPanel;

constexpr int64_t kParallelMacs = int64_t{1} << 21;

const Tensor* ConstInput(const KernelInfo& info, size_t i) {
  return i < info.const_inputs.size() ? info.const_inputs[i] : nullptr;
}

class QGemmAvx2 : public Kernel {
 public:
  static Result<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    const Node& n = info.node;
    auto decline = [&](const char* why) { return Unimplemented("{}: avx2 qgemm: {}", n.Describe(), why); };
    if (info.input_types.size() <= kQGemmYZero) return decline("needs seven inputs");
    int8avx2::S8Operands op;
    if (const char* why = int8avx2::AcceptS8Operands(info, kQGemmAZero, kQGemmBZero, &op)) return decline(why);
    const int64_t N = op.b->dim(1);
    const Tensor* bias = n.HasInput(kQGemmBias) ? ConstInput(info, kQGemmBias) : nullptr;
    if (n.HasInput(kQGemmBias) && (!bias || bias->dtype() != DType::kI32 || bias->numel() != N))
      return decline("bias is not a constant int32 [N]");
    const Tensor* ys = ConstInput(info, kQGemmYScale);
    const Tensor* yz = ConstInput(info, kQGemmYZero);
    if (!ys || !yz || ys->dtype() != DType::kF32 || yz->numel() != ys->numel() ||
        (ys->numel() != 1 && ys->numel() != N))
      return decline("y_scale / y_zero_point are not constant, per tensor or per column");
    if (yz->dtype() != DType::kU8 && yz->dtype() != DType::kI8) return decline("y_zero_point is not 8-bit");

    auto k = std::unique_ptr<QGemmAvx2>(new QGemmAvx2());
    k->signed_a_ = op.signed_a;
    k->u8_out_ = yz->dtype() == DType::kU8;
    k->b_.Pack(op.b->data<int8_t>(), op.b->dim(0), N);
    // Padded to whole panels so the epilogue's vector loads stay in bounds on the last one.
    const size_t padded = static_cast<size_t>(k->b_.panels() * kPanel);
    k->cb_ = int8avx2::ColumnCorrection(k->b_, k->b_.direct(), k->signed_a_, op.za);
    k->cb_.resize(padded, 0);
    if (bias)
      for (int64_t j = 0; j < N; ++j)  // int32 wrapping, like the reference's bias add
        k->cb_[static_cast<size_t>(j)] = static_cast<int32_t>(static_cast<uint32_t>(k->cb_[static_cast<size_t>(j)]) +
                                                             static_cast<uint32_t>(bias->data<int32_t>()[j]));
    k->per_column_ = ys->numel() > 1;
    const size_t ns = k->per_column_ ? padded : 1;
    k->scale_.assign(ns, 1.0);
    k->inv_.assign(ns, 1.0);
    k->zp_.assign(ns, 0.0);
    for (int64_t i = 0; i < ys->numel(); ++i) {
      const double s = static_cast<double>(ys->data<float>()[i]);
      if (!(s > 0) || !std::isfinite(s)) return decline("y_scale is not positive and finite");
      k->scale_[static_cast<size_t>(i)] = s;
      k->inv_[static_cast<size_t>(i)] = 1.0 / s;
      k->zp_[static_cast<size_t>(i)] = yz->GetAsDouble(i);
    }
    return std::unique_ptr<Kernel>(std::move(k));
  }

  Status Run(KernelContext& ctx) override {
    const Tensor& a = *ctx.inputs[kQGemmA];
    const int64_t K = b_.K(), N = b_.N();
    if (a.rank() < 1 || a.dim(-1) != K)
      return InvalidArgument("QGemm: A has shape {} but B has {} rows", ShapeToString(a.shape()), K);
    const int64_t M = a.numel() / K;
    const bool direct = b_.direct();
    const int8_t* rows = int8avx2::PrepareRows(a.raw(), M, K, b_.k4(), int8avx2::RowXor(direct, signed_a_), arows_);
    auto* y = static_cast<uint8_t*>(ctx.outputs[0]->raw());
    const bool parallel = M * N * K >= kParallelMacs;
    auto tile = [&](const int8_t* const* rp, int64_t nr, int64_t p, int64_t m0) {
      const int64_t j0 = p * kPanel;
      const Epilogue e(*this, j0, std::min(kPanel, N - j0), y + m0 * N, N);
      if (direct) int8avx2::TileN<true>(rp, nr, b_.panel(p), b_.quads(), e);
      else int8avx2::TileN<false>(rp, nr, b_.panel(p), b_.quads(), e);
    };
    int8avx2::ForEachTile(ctx.pool, parallel, rows, b_.k4(), M, b_.panels(), tile);
    return Status::Ok();
  }

 private:
  // Requantizes one tile row's 16 sums and stores its nc (<= 16) bytes at y + r * ldy + j0.
  class Epilogue {
   public:
    Epilogue(const QGemmAvx2& k, int64_t j0, int64_t nc, uint8_t* y, int64_t ldy)
        : k_(k), j0_(j0), nc_(nc), y_(y + j0), ldy_(ldy) {
      const double lo = k.u8_out_ ? 0 : -128, hi = k.u8_out_ ? 255 : 127;
      lo_ = _mm256_set1_pd(lo);
      hi_ = _mm256_set1_pd(hi);
    }
    void operator()(int r, __m256i lo, __m256i hi) const {
      const auto* cb = reinterpret_cast<const __m256i*>(k_.cb_.data() + j0_);
      lo = _mm256_add_epi32(lo, _mm256_loadu_si256(cb));
      hi = _mm256_add_epi32(hi, _mm256_loadu_si256(cb + 1));
      const __m128i q0 = Quad(_mm256_castsi256_si128(lo), 0), q1 = Quad(_mm256_extracti128_si256(lo, 1), 4);
      const __m128i q2 = Quad(_mm256_castsi256_si128(hi), 8), q3 = Quad(_mm256_extracti128_si256(hi, 1), 12);
      // Every lane is already within the output range, so the saturating packs are exact.
      const __m128i w0 = _mm_packs_epi32(q0, q1), w1 = _mm_packs_epi32(q2, q3);
      const __m128i bytes = k_.u8_out_ ? _mm_packus_epi16(w0, w1) : _mm_packs_epi16(w0, w1);
      uint8_t* dst = y_ + r * ldy_;
      if (nc_ == kPanel) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), bytes);
      } else {
        alignas(16) uint8_t tmp[kPanel];
        _mm_store_si128(reinterpret_cast<__m128i*>(tmp), bytes);
        std::memcpy(dst, tmp, static_cast<size_t>(nc_));
      }
    }

   private:
    __m128i Quad(__m128i x4, int64_t c) const {
      if (!k_.per_column_)
        return int8avx2::RequantizeQuad(x4, _mm256_set1_pd(k_.inv_[0]), k_.scale_.data(), true,
                                        _mm256_set1_pd(k_.zp_[0]), lo_, hi_);
      const size_t j = static_cast<size_t>(j0_ + c);
      return int8avx2::RequantizeQuad(x4, _mm256_loadu_pd(k_.inv_.data() + j), k_.scale_.data() + j, false,
                                      _mm256_loadu_pd(k_.zp_.data() + j), lo_, hi_);
    }

    const QGemmAvx2& k_;
    int64_t j0_, nc_;
    uint8_t* y_;
    int64_t ldy_;
    __m256d lo_, hi_;
  };

  bool signed_a_ = false;
  bool u8_out_ = true;
  bool per_column_ = false;
  int8avx2::PackedS8 b_;
  std::vector<int32_t> cb_;               // per column: row-shift correction + bias (int32, wrapping)
  std::vector<double> scale_, inv_, zp_;  // y_scale, 1 / y_scale, y_zero_point (one, or per column)
  std::vector<int8_t> arows_;             // prepared rows (scratch; one Run at a time per kernel)
};

#endif  // __AVX2__

}  // namespace

void AddQGemmFastKernels(std::vector<KernelDef>& defs) {
#if defined(__AVX2__)
  defs.push_back({kQGemm, kGreenaiDomain, "u8s8_qgemm__avx2", 20, QGemmAvx2::Create});
#else
  (void)defs;
#endif
}

}  // namespace greenai
