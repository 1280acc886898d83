// The element-wise ops around a 16-bit GEMM in the graphs `greenai quantize --mode
// fp16|bf16` writes (input Cast down, Relu, output Cast up), on AVX2/F16C, priority 10:
//  - "f16_cast__f16c" / "bf16_cast__avx2": Cast float32 <-> float16 / bfloat16;
//  - "f16_relu__avx2" / "bf16_relu__avx2": Relu on float16 / bfloat16 bits.
// Bit-identical to the reference kernels (any_cast__ref, any_unary__ref), which go through
// float (and double): rounding to nearest even (vcvtps2ph; FloatToBFloat16's formula) with
// NaNs made quiet (sign and payload kept) on the way down, exact widening on the way up, half
// subnormals exact; Relu gives +0 for every negative value and -0, keeps positive values and
// quiets NaNs keeping the sign. One exception: a signalling NaN widened to float32 comes out
// quiet here (IEEE conversion, vcvtph2ps), while the reference's float -> double -> float
// round trip keeps or quiets it depending on how the compiler optimized it (Release keeps it,
// the ASan build quiets it); its sign and payload are the same either way.
// Split across ctx.pool's threads above kGrain elements. Factories decline (the reference
// runs) for other types.
#include "backends/cpu/kernel.h"
#include "backends/cpu/lowp_gemm.h"

#ifdef GREENAI_LOWP_AVX2
#include <immintrin.h>

#include <cstring>
#endif

namespace greenai {
namespace {
#ifdef GREENAI_LOWP_AVX2

constexpr int64_t kGrain = 32768;

enum class Op { kF32ToF16, kF16ToF32, kF32ToBf16, kBf16ToF32, kReluF16, kReluBf16 };

// bf16 -> f32: a 16-bit shift, signalling NaNs made quiet (as vcvtph2ps does for f16).
inline __m256 Bf16ToF32(__m128i h) {
  const __m256i u = _mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16);
  const __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, _mm256_set1_epi32(0x7fffffff)),
                                         _mm256_set1_epi32(0x7f800000));
  return _mm256_castsi256_ps(_mm256_or_si256(u, _mm256_and_si256(nan, _mm256_set1_epi32(0x00400000))));
}

// f32 -> bf16: round to nearest even, NaN -> (bits >> 16) | 0x40 (core/dtype.cc).
inline __m128i F32ToBf16(__m256 v) {
  const __m256i u = _mm256_castps_si256(v);
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
  const __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(u, _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7fff))), 16);
  const __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, _mm256_set1_epi32(0x7fffffff)),
                                         _mm256_set1_epi32(0x7f800000));
  const __m256i quiet = _mm256_or_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(0x40));
  const __m256i r = _mm256_blendv_epi8(rounded, quiet, nan);
  return _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
}

// Relu on 16 halves: NaN (|x| > inf bits) -> x | quiet bit; sign set -> +0; else x.
inline __m256i ReluHalf(__m256i x, int16_t inf_bits, int16_t quiet_bit) {
  const __m256i abs = _mm256_and_si256(x, _mm256_set1_epi16(0x7fff));
  const __m256i nan = _mm256_cmpgt_epi16(abs, _mm256_set1_epi16(inf_bits));
  const __m256i neg = _mm256_srai_epi16(x, 15);
  const __m256i r = _mm256_andnot_si256(neg, x);
  return _mm256_blendv_epi8(r, _mm256_or_si256(x, _mm256_set1_epi16(quiet_bit)), nan);
}

// Converts elements [b, e) with 8 (casts) or 16 (Relu) lanes; the tail goes through a
// zero-padded stack buffer.
void Apply(Op op, const void* in, void* out, int64_t b, int64_t e) {
  const float* f = static_cast<const float*>(in);
  const uint16_t* h = static_cast<const uint16_t*>(in);
  float* fo = static_cast<float*>(out);
  uint16_t* ho = static_cast<uint16_t*>(out);
  auto load_h8 = [](const uint16_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); };
  auto store_h8 = [](uint16_t* p, __m128i v) { _mm_storeu_si128(reinterpret_cast<__m128i*>(p), v); };
  const int64_t lanes = op == Op::kReluF16 || op == Op::kReluBf16 ? 16 : 8;
  auto block = [&](int64_t i, const float* fi, const uint16_t* hi, float* fdst, uint16_t* hdst) {
    (void)i;
    switch (op) {
      case Op::kF32ToF16: store_h8(hdst, _mm256_cvtps_ph(_mm256_loadu_ps(fi), _MM_FROUND_TO_NEAREST_INT)); break;
      case Op::kF16ToF32: _mm256_storeu_ps(fdst, _mm256_cvtph_ps(load_h8(hi))); break;
      case Op::kF32ToBf16: store_h8(hdst, F32ToBf16(_mm256_loadu_ps(fi))); break;
      case Op::kBf16ToF32: _mm256_storeu_ps(fdst, Bf16ToF32(load_h8(hi))); break;
      case Op::kReluF16:
      case Op::kReluBf16: {
        const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(hi));
        const __m256i r = op == Op::kReluF16 ? ReluHalf(x, 0x7c00, 0x0200) : ReluHalf(x, 0x7f80, 0x0040);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(hdst), r);
        break;
      }
    }
  };
  int64_t i = b;
  for (; i + lanes <= e; i += lanes) block(i, f + i, h + i, fo + i, ho + i);
  if (i < e) {
    alignas(32) float fbuf[16] = {};
    alignas(32) uint16_t hbuf[16] = {};
    alignas(32) float fres[16];
    alignas(32) uint16_t hres[16];
    const size_t n = static_cast<size_t>(e - i);
    const bool from_f32 = op == Op::kF32ToF16 || op == Op::kF32ToBf16;
    const bool to_f32 = op == Op::kF16ToF32 || op == Op::kBf16ToF32;
    if (from_f32) std::memcpy(fbuf, f + i, n * 4);
    else std::memcpy(hbuf, h + i, n * 2);
    block(i, fbuf, hbuf, fres, hres);
    if (to_f32) std::memcpy(fo + i, fres, n * 4);
    else std::memcpy(ho + i, hres, n * 2);
  }
}

std::unique_ptr<Kernel> MakeKernel(Op op, DType in, DType out, std::string who) {
  return MakePlannedOutputKernel([op, in, out, who = std::move(who)](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.inputs[0];
    Tensor& y = *ctx.outputs[0];
    if (x.dtype() != in || y.dtype() != out || x.numel() != y.numel())
      return InvalidArgument("{}: {} {} -> {} {} (expects {} -> {})", who, DTypeName(x.dtype()), ShapeToString(x.shape()),
                             DTypeName(y.dtype()), ShapeToString(y.shape()), DTypeName(in), DTypeName(out));
    const int64_t n = x.numel();
    auto body = [&](int64_t b, int64_t e) { Apply(op, x.raw(), y.raw(), b, e); };
    if (ctx.pool && n > 2 * kGrain) ctx.pool->ParallelFor(n, kGrain, body);
    else body(0, n);
    return Status::Ok();
  });
}

Result<std::unique_ptr<Kernel>> CreateCast(const KernelInfo& info, DType half) {
  const DType in = info.input_types.empty() ? DType::kUndefined : info.input_types[0].dtype;
  const DType to = static_cast<DType>(info.node.GetInt("to", 0));
  const bool f16 = half == DType::kF16;
  if (in == DType::kF32 && to == half)
    return MakeKernel(f16 ? Op::kF32ToF16 : Op::kF32ToBf16, in, to, info.node.Describe());
  if (in == half && to == DType::kF32)
    return MakeKernel(f16 ? Op::kF16ToF32 : Op::kBf16ToF32, in, to, info.node.Describe());
  return Unimplemented("{}: not a float32 <-> {} Cast", info.node.Describe(), DTypeName(half));
}

Result<std::unique_ptr<Kernel>> CreateRelu(const KernelInfo& info, DType half) {
  if (info.input_types.empty() || info.input_types[0].dtype != half)
    return Unimplemented("{}: input is not {}", info.node.Describe(), DTypeName(half));
  return MakeKernel(half == DType::kF16 ? Op::kReluF16 : Op::kReluBf16, half, half, info.node.Describe());
}

#endif  // GREENAI_LOWP_AVX2
}  // namespace

void AddLowpElementwiseKernels(std::vector<KernelDef>& defs) {
#ifdef GREENAI_LOWP_AVX2
  defs.push_back({"Cast", "", "f16_cast__f16c", 10, [](const KernelInfo& i) { return CreateCast(i, DType::kF16); }});
  defs.push_back({"Cast", "", "bf16_cast__avx2", 10, [](const KernelInfo& i) { return CreateCast(i, DType::kBF16); }});
  defs.push_back({"Relu", "", "f16_relu__avx2", 10, [](const KernelInfo& i) { return CreateRelu(i, DType::kF16); }});
  defs.push_back({"Relu", "", "bf16_relu__avx2", 10, [](const KernelInfo& i) { return CreateRelu(i, DType::kBF16); }});
#else
  (void)defs;
#endif
}

}  // namespace greenai
