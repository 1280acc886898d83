// Fast int8 kernels for the integer graphs QdqFusion produces (passes/qdq_fusion.cc):
//
//  - "u8s8_matmulinteger__avx2_sign": MatMulInteger with a constant int8 B whose values lie in
//    [-127, 127] and whose zero point is 0 (symmetric weights, what greenai quantize writes),
//    A uint8 or int8 with a constant scalar zero point. B stays 8-bit (4x less memory traffic
//    than float weights, 2x less than the int16-widened int8_gemm.h path).
//    Exactness on AVX2 without VNNI: vpmaddubsw multiplies unsigned x signed bytes and adds
//    pairs with int16 saturation; with u8 activations (<= 255) x s8 weights a pair can reach
//    2 * 255 * 127 > 32767 and saturate (why ONNX Runtime advises reduce_range on AVX2). Here A
//    is first shifted to int8 (a - 128) and the sign is moved onto B (vpsignb), so the unsigned
//    operand is |a'| <= 128 and a pair is at most 2 * 128 * 127 = 32512: never saturates. The
//    shift comes back exactly as (128 - z_a) * colsum(B) per column. When every |b| <= 64
//    (greenai quantize's default 7-bit weights) no pair can saturate even with |a| <= 255, so
//    the "direct" variant skips the sign trick (vpabsb + 2 vpsignb per row and quad, ~30% of
//    the instructions): A is used as uint8 (int8 A shifted by +128), and the correction is
//    -(shift + z_a) * colsum(B). With AVX-512 VNNI / AVX-VNNI, vpdpbusd would replace
//    vpmaddubsw + vpmaddwd + vpaddd (not on this machine).
//    Micro-tile (int8_tile_avx2.h, shared with QGemm's int8_qgemm_avx2.cc): 4 rows x 16
//    columns in eight named ymm accumulators; per quad of k the
//    two B vectors are loaded once and each row costs one broadcast, 2 vpmaddubsw, 2 vpmaddwd
//    and 2 vpaddd (the two multiply pipes of Zen 3 bound it at 32 multiply-adds per cycle).
//    Threads split the 16-column panels from 64K multiply-adds per 64-row block on.
//  - "i32_quantizelinear__avx2": QuantizeLinear of int32 (the requantization after
//    MatMulInteger + bias), per tensor or per axis on the last axis, bit-identical to the
//    reference (double x / scale, round half to even, + zero point, saturate): computed as a
//    multiply by 1 / scale with the rare lanes near a rounding tie divided (int8_tile_avx2.h
//    RequantizeQuad, shared with QGemm). Also
//    float32 input per tensor (x / scale in float, like the reference; with AVX-512 a multiply
//    by 1 / scale, dividing only the vectors near a rounding tie: same bytes).
//  - "u8_dequantizelinear__avx2": DequantizeLinear of uint8/int8 with a per-tensor constant
//    scale and zero point.
// All decline (Unimplemented) anything else; the reference / int8_gemm.h kernels then run.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "backends/cpu/int8_tile_amx.h"
#include "backends/cpu/int8_tile_avx2.h"
#include "backends/cpu/kernel.h"
#include "core/cpu_features.h"

// GCC 12 reports the undefined pass-through operand inside AVX-512 intrinsics as
// maybe-uninitialized wherever they are inlined (GCC bug 105593, fixed in 13).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace greenai {

namespace {
std::atomic<bool> g_amx{true};  // SetInt8Amx
}  // namespace

void SetInt8Amx(bool on) { g_amx.store(on); }
bool Int8AmxOn() { return int8amx::kAmx && g_amx.load(std::memory_order_relaxed) && AmxTilesUsable(); }

namespace {

#if defined(__AVX2__)

// Runs f(begin, end) over [0, n) units, across the pool's threads when the whole job covers
// at least 16K elements (each unit `unit_elems` elements): the requantization and bias
// passes between the GEMMs would otherwise stay on one core.
template <typename F>
void SplitWork(ThreadPool* pool, int64_t n, int64_t unit_elems, F f) {
  if (pool && pool->num_threads() > 1 && n > 1 && n * unit_elems >= (int64_t{1} << 18))
    pool->ParallelFor(n, 1, f);
  else
    f(0, n);
}

class MatMulIntegerSign : public Kernel {
 public:
  static Result<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    int8avx2::S8Operands op;
    if (const char* why = int8avx2::AcceptS8Operands(info, 2, 3, &op))
      return Unimplemented("{}: avx2 sign kernel: {}", info.node.Describe(), why);
    auto k = std::unique_ptr<MatMulIntegerSign>(new MatMulIntegerSign());
    k->signed_a_ = op.signed_a;
    k->b_.Pack(op.b->data<int8_t>(), op.b->dim(0), op.b->dim(1));
    k->corr_ = int8avx2::ColumnCorrection(k->b_, k->b_.direct(), k->signed_a_, op.za);
    return std::unique_ptr<Kernel>(std::move(k));
  }

  Status Run(KernelContext& ctx) override {
    const Tensor& a = *ctx.inputs[0];
    Tensor& c = *ctx.outputs[0];
    const int64_t K = b_.K(), N = b_.N();
    if (a.rank() < 1 || a.dim(-1) != K)
      return InvalidArgument("MatMulInteger: A has shape {} but B has {} rows", ShapeToString(a.shape()), K);
    const int64_t M = a.numel() / K;
    const bool direct = b_.direct();
    int32_t* cd = c.data<int32_t>();
    const int32_t* corr = corr_.data();
    // Threads split the panels from about 64K multiply-adds per 64-row block on, which
    // batch-1 GEMVs of the mlp's sizes (400K, 131K) reach.
    const bool parallel = std::min(M, int8avx2::kBlockRows) * N * K >= (int64_t{1} << 16);
#if defined(__AMX_TILE__) && defined(__AMX_INT8__)
    if (direct && M >= int8amx::kMinRows && Int8AmxOn()) {
      const int8_t* rows = int8amx::PrepareRowsAmx(a.raw(), M, K, int8avx2::RowXor(direct, signed_a_), arows_);
      int8amx::ForEachAmxBlock(ctx.pool, M * N * K >= int8amx::kParallelMacs, rows, int8amx::PaddedK(K), M, b_,
                               [&](int64_t p, int64_t m0, int64_t nr, const int32_t* sums) {
                                 const int64_t j0 = p * int8avx2::kPanel, nc = std::min(int8avx2::kPanel, N - j0);
                                 for (int64_t r = 0; r < nr; ++r)
                                   for (int64_t j = 0; j < nc; ++j)
                                     cd[(m0 + r) * N + j0 + j] = static_cast<int32_t>(
                                         static_cast<uint32_t>(sums[r * int8avx2::kPanel + j]) +
                                         static_cast<uint32_t>(corr[j0 + j]));
                               });
      return Status::Ok();
    }
#endif
    const int8_t* rows = int8avx2::PrepareRows(a.raw(), M, K, b_.k4(), int8avx2::RowXor(direct, signed_a_), arows_);
    int8avx2::ForEachTile(ctx.pool, parallel, rows, b_.k4(), M, b_.panels(),
                          [&](const int8_t* const* rp, int64_t nr, int64_t p, int64_t m0) {
                            const int64_t j0 = p * int8avx2::kPanel, nc = std::min(int8avx2::kPanel, N - j0);
                            auto store = [&](int r, __m256i lo, __m256i hi) {
                              int32_t* row = cd + (m0 + r) * N + j0;
                              if (nc == int8avx2::kPanel) {
                                const auto* cv = reinterpret_cast<const __m256i*>(corr + j0);
                                _mm256_storeu_si256(reinterpret_cast<__m256i*>(row),
                                                    _mm256_add_epi32(lo, _mm256_loadu_si256(cv)));
                                _mm256_storeu_si256(reinterpret_cast<__m256i*>(row + 8),
                                                    _mm256_add_epi32(hi, _mm256_loadu_si256(cv + 1)));
                                return;
                              }
                              alignas(32) int32_t tmp[int8avx2::kPanel];
                              _mm256_store_si256(reinterpret_cast<__m256i*>(tmp), lo);
                              _mm256_store_si256(reinterpret_cast<__m256i*>(tmp + 8), hi);
                              for (int64_t j = 0; j < nc; ++j)
                                row[j] = static_cast<int32_t>(static_cast<uint32_t>(tmp[j]) +
                                                              static_cast<uint32_t>(corr[j0 + j]));
                            };
                            if (direct) int8avx2::TileN<true>(rp, nr, b_.panel(p), b_.quads(), store);
                            else int8avx2::TileN<false>(rp, nr, b_.panel(p), b_.quads(), store);
                          });
    return Status::Ok();
  }

 private:
  bool signed_a_ = false;
  int8avx2::PackedS8 b_;
  std::vector<int32_t> corr_;   // per-column correction for the row shift and a's zero point
  std::vector<int8_t> arows_;   // prepared rows (scratch; one Run at a time per kernel)
};

// QuantizeLinear int32 -> uint8/int8, per tensor or per last axis, in double like the reference.
class RequantizeInt32 : public Kernel {
 public:
  static Result<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    const Node& n = info.node;
    auto decline = [&](const char* why) { return Unimplemented("{}: avx2 requantize: {}", n.Describe(), why); };
    if (info.input_types.empty() ||
        (info.input_types[0].dtype != DType::kI32 && info.input_types[0].dtype != DType::kF32))
      return decline("input is not int32 or float32");
    if (!info.input_types[0].has_shape || info.input_types[0].dims.empty()) return decline("rank unknown");
    const Tensor* s = info.const_inputs.size() > 1 ? info.const_inputs[1] : nullptr;
    const Tensor* z = info.const_inputs.size() > 2 ? info.const_inputs[2] : nullptr;
    if (!s || s->dtype() != DType::kF32 || !z || z->numel() != s->numel()) return decline("scale/zero point not constant");
    if (z->dtype() != DType::kU8 && z->dtype() != DType::kI8) return decline("zero point is not 8-bit");
    const int rank = info.input_types[0].rank();
    const int64_t last = info.input_types[0].dims.back();
    if (s->numel() > 1) {
      int64_t axis = n.GetInt("axis", 1);
      if (axis < 0) axis += rank;
      if (axis != rank - 1 || last != s->numel()) return decline("per-axis scale not on the last axis");
    }
    auto k = std::unique_ptr<RequantizeInt32>(new RequantizeInt32());
    k->u8_ = z->dtype() == DType::kU8;  // the output type is the zero point's
    k->float_in_ = info.input_types[0].dtype == DType::kF32;
    for (int64_t i = 0; i < s->numel(); ++i) {
      k->scale_.push_back(static_cast<double>(s->data<float>()[i]));
      if (!(k->scale_.back() > 0) || !std::isfinite(k->scale_.back())) return decline("scale is not positive and finite");
      k->inv_.push_back(1.0 / k->scale_.back());
      k->zp_.push_back(z->GetAsDouble(i));
    }
    return std::unique_ptr<Kernel>(std::move(k));
  }

  Status Run(KernelContext& ctx) override {
    if (float_in_) return RunFloat(ctx);
    const Tensor& x = *ctx.inputs[0];
    Tensor& y = *ctx.outputs[0];
    const int64_t n = static_cast<int64_t>(scale_.size());
    const int64_t total = x.numel();
    if (n > 1 && total % n != 0) return InvalidArgument("QuantizeLinear: input does not match the per-axis scale");
    // Rows of `cols` elements: the per-axis scale's length, or 1024-element pieces per tensor.
    const int64_t cols = n == 1 ? std::min<int64_t>(total, 1024) : n;
    const int64_t rows = cols == 0 ? 0 : (total + cols - 1) / cols;
    const int32_t* xd = x.data<int32_t>();
    auto* yd = static_cast<uint8_t*>(y.raw());
    const __m256d vlo = _mm256_set1_pd(u8_ ? 0 : -128), vhi = _mm256_set1_pd(u8_ ? 255 : 127);
    SplitWork(ctx.pool, rows, cols, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int32_t* xr = xd + r * cols;
        uint8_t* yr = yd + r * cols;
        const int64_t len = std::min(cols, total - r * cols);
        int64_t j = 0;
        for (; j + 8 <= len; j += 8) {
          const int64_t c = n == 1 ? 0 : j;
          const __m128i lo4 = Quant4(xr + j, c, n == 1, vlo, vhi);
          const __m128i hi4 = Quant4(xr + j + 4, c + 4, n == 1, vlo, vhi);
          StorePacked8(yr + j, _mm_packs_epi32(lo4, hi4));
        }
        for (; j < len; ++j) {
          const size_t c = n == 1 ? 0 : static_cast<size_t>(j);
          const double q = std::clamp(std::nearbyint(static_cast<double>(xr[j]) / scale_[c]) + zp_[c],
                                      u8_ ? 0. : -128., u8_ ? 255. : 127.);
          Store(y, r * cols + j, static_cast<int32_t>(q));
        }
      }
    });
    return Status::Ok();
  }

 private:
  // Four int32 -> quantized int32 in [lo, hi], bit-identical to the reference (see RequantizeQuad).
  __m128i Quant4(const int32_t* x, int64_t c, bool scalar, __m256d vlo, __m256d vhi) const {
    const __m256d inv = scalar ? _mm256_set1_pd(inv_[0]) : _mm256_loadu_pd(inv_.data() + c);
    const __m256d zp = scalar ? _mm256_set1_pd(zp_[0]) : _mm256_loadu_pd(zp_.data() + c);
    return int8avx2::RequantizeQuad(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x)), inv,
                                    scale_.data() + (scalar ? 0 : c), scalar, zp, vlo, vhi);
  }
  // Eight int16 lanes already within the output type's range -> eight bytes.
  void StorePacked8(uint8_t* dst, __m128i w) const {
    const __m128i b = u8_ ? _mm_packus_epi16(w, w) : _mm_packs_epi16(w, w);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(dst), b);
  }
  void Store(Tensor& y, int64_t i, int32_t v) const {
    if (u8_) y.data<uint8_t>()[i] = static_cast<uint8_t>(v);
    else y.data<int8_t>()[i] = static_cast<int8_t>(v);
  }
  // float input: x / scale in float, as the reference does (per tensor only; else scalar loop).
  Status RunFloat(KernelContext& ctx) {
    const Tensor& x = *ctx.inputs[0];
    Tensor& y = *ctx.outputs[0];
    const int64_t n = static_cast<int64_t>(scale_.size());
    const float* xd = x.data<float>();
    auto* yd = static_cast<uint8_t*>(y.raw());
    const float lo = u8_ ? 0.f : -128.f, hi = u8_ ? 255.f : 127.f;
    int64_t i = 0;
    if (n == 1) {
      const float sf = static_cast<float>(scale_[0]), invf = 1.0f / sf;
      const __m256 sc = _mm256_set1_ps(sf);
      const __m256 zp = _mm256_set1_ps(static_cast<float>(zp_[0]));
      const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
      // With AVX-512, 16 lanes of x * (1 / s) for x / s: both are within 3 * 2^-24 |x / s| of
      // the exact quotient, so they round to the same integer unless it lies within 2e-4 of a
      // tie (|x / s| <= 512; larger quotients saturate either way): such vectors (and every
      // vector when 1 / s is not a normal float) divide, as the reference does. On the int8
      // mlp's input (64 x 784) this took 10.1-10.6 us against 11.4 for the 8-lane division
      // loop below; the same multiply in 8 lanes measured 14.5 us, so that loop divides.
      const bool recip = std::isnormal(invf);
      const int64_t blocks = x.numel() / 8;
      SplitWork(ctx.pool, blocks, 8, [&](int64_t b0, int64_t b1) {
        int64_t j = b0 * 8;
#if defined(__AVX512F__)
        for (; recip && j + 16 <= b1 * 8; j += 16) {
          const __m512 xv = _mm512_loadu_ps(xd + j);
          const __m512 r = _mm512_mul_ps(xv, _mm512_set1_ps(invf));
          __m512 q = _mm512_roundscale_ps(r, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
          if (_mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_sub_ps(r, q)), _mm512_set1_ps(0.5f - 2e-4f), _CMP_GT_OQ) != 0)
            q = _mm512_roundscale_ps(_mm512_div_ps(xv, _mm512_set1_ps(sf)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
          q = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(q, _mm512_set1_ps(static_cast<float>(zp_[0]))), _mm512_set1_ps(lo)),
                            _mm512_set1_ps(hi));
          // In range, so each int32's low byte is the uint8 or int8 value.
          _mm_storeu_si128(reinterpret_cast<__m128i*>(yd + j), _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(q)));
        }
#endif
        for (; j < b1 * 8; j += 8) {
          __m256 q = _mm256_round_ps(_mm256_div_ps(_mm256_loadu_ps(xd + j), sc), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
          q = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(q, zp), vlo), vhi);  // NaN -> lo, like no reference rule
          const __m256i qi = _mm256_cvtps_epi32(q);
          StorePacked8(yd + j, _mm_packs_epi32(_mm256_castsi256_si128(qi), _mm256_extracti128_si256(qi, 1)));
        }
      });
      i = blocks * 8;
    }
    for (; i < x.numel(); ++i) {
      const int64_t c = n == 1 ? 0 : i % n;
      const double q = std::nearbyint(xd[i] / static_cast<float>(scale_[static_cast<size_t>(c)])) + zp_[static_cast<size_t>(c)];
      Store(y, i, static_cast<int32_t>(std::clamp(q, static_cast<double>(lo), static_cast<double>(hi))));
    }
    return Status::Ok();
  }

  bool u8_ = true;
  bool float_in_ = false;
  std::vector<double> scale_, zp_, inv_;
};

// Add(int32 [.., N], constant int32 [N]) or the operands swapped: the bias add QdqFusion emits.
class AddInt32Bias : public Kernel {
 public:
  static Result<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    auto decline = [&](const char* why) { return Unimplemented("{}: avx2 int32 bias add: {}", info.node.Describe(), why); };
    if (info.input_types.size() != 2 || info.input_types[0].dtype != DType::kI32 ||
        info.input_types[1].dtype != DType::kI32)
      return decline("inputs are not two int32 tensors");
    const int bi = info.const_inputs[1] ? 1 : (info.const_inputs[0] ? 0 : -1);
    if (bi < 0) return decline("no constant operand");
    const Tensor& b = *info.const_inputs[static_cast<size_t>(bi)];
    const TensorType& xt = info.input_types[static_cast<size_t>(1 - bi)];
    if (b.rank() != 1 || !xt.has_shape || xt.dims.empty() || xt.dims.back() != b.numel())
      return decline("constant is not a vector along the last axis");
    auto k = std::unique_ptr<AddInt32Bias>(new AddInt32Bias());
    k->x_ = 1 - bi;
    k->bias_.assign(b.data<int32_t>(), b.data<int32_t>() + b.numel());
    return std::unique_ptr<Kernel>(std::move(k));
  }
  Status Run(KernelContext& ctx) override {
    const Tensor& x = *ctx.inputs[static_cast<size_t>(x_)];
    Tensor& y = *ctx.outputs[0];
    const int64_t n = static_cast<int64_t>(bias_.size());
    if (x.numel() % n != 0 || y.numel() != x.numel()) return InvalidArgument("Add: int32 bias add shape changed");
    const int32_t* xd = x.data<int32_t>();
    int32_t* yd = y.data<int32_t>();
    SplitWork(ctx.pool, x.numel() / n, n, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        int64_t j = 0;
        for (; j + 8 <= n; j += 8)
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(yd + r * n + j),
                              _mm256_add_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(xd + r * n + j)),
                                               _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias_.data() + j))));
        for (; j < n; ++j)
          yd[r * n + j] = static_cast<int32_t>(static_cast<uint32_t>(xd[r * n + j]) +
                                               static_cast<uint32_t>(bias_[static_cast<size_t>(j)]));
      }
    });
    return Status::Ok();
  }

 private:
  int x_ = 0;
  std::vector<int32_t> bias_;
};

// DequantizeLinear uint8/int8 -> float32 with a constant per-tensor scale and zero point:
// (float(x) - zero_point) * scale, the reference's two float operations in the same order.
class DequantizeByte : public Kernel {
 public:
  static Result<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    auto decline = [&](const char* why) { return Unimplemented("{}: avx2 dequantize: {}", info.node.Describe(), why); };
    if (info.input_types.empty() || (info.input_types[0].dtype != DType::kU8 && info.input_types[0].dtype != DType::kI8))
      return decline("input is not 8-bit");
    const Tensor* s = info.const_inputs.size() > 1 ? info.const_inputs[1] : nullptr;
    const Tensor* z = info.const_inputs.size() > 2 ? info.const_inputs[2] : nullptr;
    if (!s || s->dtype() != DType::kF32 || s->numel() != 1) return decline("scale is not a constant float scalar");
    if (info.node.HasInput(2) && (!z || z->numel() != 1 || z->dtype() != info.input_types[0].dtype))
      return decline("zero point is not a constant scalar of the input's type");
    auto k = std::unique_ptr<DequantizeByte>(new DequantizeByte());
    k->u8_ = info.input_types[0].dtype == DType::kU8;
    k->scale_ = s->data<float>()[0];
    k->zp_ = z ? static_cast<float>(z->GetAsDouble(0)) : 0.f;
    return std::unique_ptr<Kernel>(std::move(k));
  }
  Status Run(KernelContext& ctx) override {
    const Tensor& x = *ctx.inputs[0];
    const auto* xd = static_cast<const uint8_t*>(x.raw());
    float* yd = ctx.outputs[0]->data<float>();
    const int64_t total = x.numel();
    const __m256 sc = _mm256_set1_ps(scale_), zp = _mm256_set1_ps(zp_);
    const int64_t blocks = total / 8;
    SplitWork(ctx.pool, blocks, 8, [&](int64_t b0, int64_t b1) {
      for (int64_t j = b0 * 8; j < b1 * 8; j += 8) {
        const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(xd + j));
        const __m256i w = u8_ ? _mm256_cvtepu8_epi32(b) : _mm256_cvtepi8_epi32(b);
        _mm256_storeu_ps(yd + j, _mm256_mul_ps(_mm256_sub_ps(_mm256_cvtepi32_ps(w), zp), sc));
      }
    });
    int64_t i = blocks * 8;
    for (; i < total; ++i) {
      const float v = u8_ ? static_cast<float>(xd[i]) : static_cast<float>(static_cast<int8_t>(xd[i]));
      yd[i] = (v - zp_) * scale_;
    }
    return Status::Ok();
  }

 private:
  bool u8_ = true;
  float scale_ = 1.f, zp_ = 0.f;
};

#endif  // __AVX2__

}  // namespace

void AddInt8FastKernels(std::vector<KernelDef>& defs) {
#if defined(__AVX2__)
  defs.push_back({"MatMulInteger", "", "u8s8_matmulinteger__avx2_sign", 20, MatMulIntegerSign::Create});
  defs.push_back({"QuantizeLinear", "", "i32_quantizelinear__avx2", 20, RequantizeInt32::Create});
  defs.push_back({"Add", "", "i32_add_bias__avx2", 20, AddInt32Bias::Create});
  defs.push_back({"DequantizeLinear", "", "u8_dequantizelinear__avx2", 20, DequantizeByte::Create});
#else
  (void)defs;
#endif
}

}  // namespace greenai
