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

#include "backends/cpu/int8_tile_amx.h"

#include "backends/cpu/kernel.h"
#include "ops/qgemm.h"

// GCC 12 reports the undefined pass-through operand inside the AVX-512 intrinsics of
// Epilogue::Row16 as maybe-uninitialized wherever they are inlined (GCC bug 105593, fixed in 13).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

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
    k->invf_.assign(ns, 1.f);
    k->zpf_.assign(ns, 0.f);
    k->float_ok_ = true;
    for (size_t i = 0; i < ns; ++i) {
      k->invf_[i] = static_cast<float>(k->inv_[i]);
      k->zpf_[i] = static_cast<float>(k->zp_[i]);
      k->float_ok_ = k->float_ok_ && std::isnormal(k->invf_[i]);
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
    auto* y = static_cast<uint8_t*>(ctx.outputs[0]->raw());
    const bool parallel = M * N * K >= kParallelMacs;
#if defined(__AMX_TILE__) && defined(__AMX_INT8__)
    if (direct && M >= int8amx::kMinRows && Int8AmxOn()) {
      const int8_t* rows = int8amx::PrepareRowsAmx(a.raw(), M, K, int8avx2::RowXor(direct, signed_a_), arows_);
      int8amx::ForEachAmxBlock(ctx.pool, M * N * K >= int8amx::kParallelMacs, rows, int8amx::PaddedK(K), M, b_,
                               [&](int64_t p, int64_t m0, int64_t nr, const int32_t* sums) {
                                 const int64_t j0 = p * kPanel;
                                 const Epilogue e(*this, j0, std::min(kPanel, N - j0), y + m0 * N, N);
                                 for (int64_t r = 0; r < nr; ++r) e.Row16(static_cast<int>(r), sums + r * kPanel);
                               });
      return Status::Ok();
    }
#endif
    const int8_t* rows = int8avx2::PrepareRows(a.raw(), M, K, b_.k4(), int8avx2::RowXor(direct, signed_a_), arows_);
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

#if defined(__AVX512F__)
    // The same for a row's 16 sums in memory (64-byte aligned): the AMX path's epilogue, where
    // the four-lane form took ~60 % of the int8 mlp's fc1 at batch 64. First in float, 16
    // lanes: float(acc) * float(1 / s) is within 3 * 2^-24 |acc / s| of the exact quotient, so
    // where |acc / s| <= 600 (beyond, every zero point saturates the same way) it is within
    // 1.1e-4 and rounds like the reference's double division unless it lies within 2e-4 of a
    // tie. Rows with such a lane (or kernels whose 1 / s is not a normal float) take eight
    // double lanes at a time, RequantizeQuad's arithmetic (a tie: |r - round(r)| within 1e-9
    // of 0.5). Either way the reference's bytes.
    void Row16(int r, const int32_t* sums) const {
      const __m512i acc = _mm512_add_epi32(_mm512_load_si512(sums), _mm512_loadu_si512(k_.cb_.data() + j0_));
      __m512i q;
      if (!k_.float_ok_ || !RowFloat(acc, q)) {
        const __m256i q0 = Octet(_mm512_castsi512_si256(acc), 0);
        const __m256i q1 = Octet(_mm512_extracti64x4_epi64(acc, 1), 8);
        q = _mm512_inserti64x4(_mm512_castsi256_si512(q0), q1, 1);
      }
      // Every lane is within the output range, so keeping each int32's low byte is exact.
      const __m128i bytes = _mm512_cvtepi32_epi8(q);
      uint8_t* dst = y_ + r * ldy_;
      if (nc_ == kPanel) _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), bytes);
      else _mm_mask_storeu_epi8(dst, static_cast<__mmask16>((1u << nc_) - 1), bytes);
    }
#endif

   private:
#if defined(__AVX512F__)
    bool RowFloat(__m512i acc, __m512i& out) const {
      const bool pc = k_.per_column_;
      const __m512 inv = pc ? _mm512_loadu_ps(k_.invf_.data() + j0_) : _mm512_set1_ps(k_.invf_[0]);
      const __m512 r = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), inv);
      __m512 q = _mm512_roundscale_ps(r, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      if (_mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_sub_ps(r, q)), _mm512_set1_ps(0.5f - 2e-4f), _CMP_GT_OQ) != 0)
        return false;
      const __m512 zp = pc ? _mm512_loadu_ps(k_.zpf_.data() + j0_) : _mm512_set1_ps(k_.zpf_[0]);
      const float lo = k_.u8_out_ ? 0.f : -128.f, hi = k_.u8_out_ ? 255.f : 127.f;
      q = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(q, zp), _mm512_set1_ps(lo)), _mm512_set1_ps(hi));
      out = _mm512_cvtps_epi32(q);
      return true;
    }
    __m256i Octet(__m256i x8, int64_t c) const {
      const size_t j = k_.per_column_ ? static_cast<size_t>(j0_ + c) : 0;
      const __m512d inv = k_.per_column_ ? _mm512_loadu_pd(k_.inv_.data() + j) : _mm512_set1_pd(k_.inv_[0]);
      const __m512d zp = k_.per_column_ ? _mm512_loadu_pd(k_.zp_.data() + j) : _mm512_set1_pd(k_.zp_[0]);
      const __m512d v = _mm512_cvtepi32_pd(x8);
      __m512d r = _mm512_mul_pd(v, inv);
      __m512d q = _mm512_roundscale_pd(r, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      const __mmask8 tie = _mm512_cmp_pd_mask(_mm512_abs_pd(_mm512_sub_pd(r, q)), _mm512_set1_pd(0.5 - 1e-9), _CMP_GT_OQ);
      if (tie != 0) {
        const __m512d s = k_.per_column_ ? _mm512_loadu_pd(k_.scale_.data() + j) : _mm512_set1_pd(k_.scale_[0]);
        r = _mm512_mask_div_pd(r, tie, v, s);
        q = _mm512_roundscale_pd(r, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      }
      const double lo = k_.u8_out_ ? 0 : -128, hi = k_.u8_out_ ? 255 : 127;
      q = _mm512_min_pd(_mm512_max_pd(_mm512_add_pd(q, zp), _mm512_set1_pd(lo)), _mm512_set1_pd(hi));
      return _mm512_cvtpd_epi32(q);
    }
#endif
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
  std::vector<float> invf_, zpf_;         // float(1 / y_scale), float(y_zero_point)
  bool float_ok_ = false;                 // every invf_ a normal float: Row16's float form applies
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
