// Private AVX2/FMA float math for the fast elementwise kernels (fast_elementwise*.cc).
// Each function has a scalar twin with the same algorithm, used for loop tails, so that
// results do not depend on where an element falls relative to the vector width.
// Accuracy (measured against double-precision libm in tests/ops_elementwise): exp within
// 2 ulp over [-87, 88]; tanh/erf within ~3e-7 absolute; sigmoid/gelu follow from those.
// Pure functions; thread safe. Requires AVX2 and FMA (the build uses -march=native; the
// kernels check __AVX2__/__FMA__ at compile time and are not registered without them).
#pragma once

#if defined(__AVX2__) && defined(__FMA__)
#define GREENAI_FAST_EW 1
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstring>

namespace greenai::ew::simd {

// exp: Cephes-style range reduction x = n ln2 + r, degree-6 polynomial for e^r, scale by 2^n.
inline __m256 Exp(__m256 x) {
  // Above ln(FLT_MAX) the result is +inf; below ln(FLT_MIN) it is flushed to 0 (the true
  // value is a denormal under 1.2e-38).
  const __m256 hi = _mm256_set1_ps(88.72283905206835f), lo = _mm256_set1_ps(-87.3365447504f);
  const __m256 x0 = x;
  x = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
  __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500E-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507E-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073E-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894E-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459E-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201E-1f));
  __m256 r2 = _mm256_mul_ps(r, r);
  p = _mm256_fmadd_ps(p, r2, _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  // 2^n in two steps so that n = 128 (x near 88.7) does not overflow the exponent field.
  __m256i ni = _mm256_cvtps_epi32(n);
  __m256i half = _mm256_srai_epi32(ni, 1);
  __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half, _mm256_set1_epi32(127)), 23));
  __m256 s2 = _mm256_castsi256_ps(
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(ni, half), _mm256_set1_epi32(127)), 23));
  __m256 res = _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
  res = _mm256_blendv_ps(res, _mm256_set1_ps(INFINITY), _mm256_cmp_ps(x0, hi, _CMP_GT_OQ));
  res = _mm256_blendv_ps(res, _mm256_setzero_ps(), _mm256_cmp_ps(x0, lo, _CMP_LT_OQ));
  return _mm256_blendv_ps(res, x0, _mm256_cmp_ps(x0, x0, _CMP_UNORD_Q));  // NaN in, NaN out
}

inline float ExpScalar(float x) {
  float v[8] = {x, 0, 0, 0, 0, 0, 0, 0};
  float o[8];
  _mm256_storeu_ps(o, Exp(_mm256_loadu_ps(v)));
  return o[0];
}

inline __m256 Sigmoid(__m256 x) {
  // 1 / (1 + e^-x); e^-x saturates at ~2^127 so the result underflows gracefully to ~0.
  __m256 e = Exp(_mm256_sub_ps(_mm256_setzero_ps(), x));
  return _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

// tanh: Cephes odd polynomial for |x| < 0.625, else sign(x) * (1 - 2 / (e^{2|x|} + 1)).
inline __m256 Tanh(__m256 x) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 ax = _mm256_andnot_ps(sign, x);
  __m256 z = _mm256_mul_ps(x, x);
  __m256 p = _mm256_set1_ps(-5.70498872745E-3f);
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(2.06390887954E-2f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-5.37397155531E-2f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(1.33314422036E-1f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-3.33332819422E-1f));
  __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, z), x, x);
  __m256 e = Exp(_mm256_add_ps(ax, ax));
  __m256 big = _mm256_sub_ps(_mm256_set1_ps(1.0f),
                             _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, _mm256_set1_ps(1.0f))));
  big = _mm256_or_ps(big, _mm256_and_ps(sign, x));
  __m256 use_small = _mm256_cmp_ps(ax, _mm256_set1_ps(0.625f), _CMP_LT_OQ);
  __m256 r = _mm256_blendv_ps(big, small, use_small);
  return _mm256_blendv_ps(r, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

// erf: odd Taylor series for |x| < 0.5; Abramowitz & Stegun 7.1.26 (|err| < 1.5e-7) above.
inline __m256 Erf(__m256 x) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 ax = _mm256_andnot_ps(sign, x);
  __m256 z = _mm256_mul_ps(x, x);
  __m256 s = _mm256_set1_ps(-1.0f / 1320.0f);
  s = _mm256_fmadd_ps(s, z, _mm256_set1_ps(1.0f / 216.0f));
  s = _mm256_fmadd_ps(s, z, _mm256_set1_ps(-1.0f / 42.0f));
  s = _mm256_fmadd_ps(s, z, _mm256_set1_ps(1.0f / 10.0f));
  s = _mm256_fmadd_ps(s, z, _mm256_set1_ps(-1.0f / 3.0f));
  s = _mm256_fmadd_ps(s, z, _mm256_set1_ps(1.0f));
  __m256 small = _mm256_mul_ps(_mm256_mul_ps(s, x), _mm256_set1_ps(1.1283791670955126f));
  __m256 t = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_fmadd_ps(_mm256_set1_ps(0.3275911f), ax, _mm256_set1_ps(1.0f)));
  __m256 q = _mm256_set1_ps(1.061405429f);
  q = _mm256_fmadd_ps(q, t, _mm256_set1_ps(-1.453152027f));
  q = _mm256_fmadd_ps(q, t, _mm256_set1_ps(1.421413741f));
  q = _mm256_fmadd_ps(q, t, _mm256_set1_ps(-0.284496736f));
  q = _mm256_fmadd_ps(q, t, _mm256_set1_ps(0.254829592f));
  q = _mm256_mul_ps(q, t);
  __m256 e = Exp(_mm256_sub_ps(_mm256_setzero_ps(), z));
  __m256 big = _mm256_fnmadd_ps(q, e, _mm256_set1_ps(1.0f));
  big = _mm256_or_ps(big, _mm256_and_ps(sign, x));
  __m256 r = _mm256_blendv_ps(big, small, _mm256_cmp_ps(ax, _mm256_set1_ps(0.5f), _CMP_LT_OQ));
  return _mm256_blendv_ps(r, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

// Horizontal reductions.
// GELU, erf form: 0.5 x (1 + erf(x / sqrt 2)), x / sqrt 2 computed as x * (1 / sqrt 2). Shared by
// the Gelu kernel and the packed GEMM's fused-Gelu epilogue so both give the same bits.
inline __m256 Gelu(__m256 x) {
  const __m256 e = Erf(_mm256_mul_ps(x, _mm256_set1_ps(0.70710678118654752f)));
  return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x), _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

inline float HSum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}
inline float HMax(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}
inline float HMin(__m256 v) {
  __m128 s = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_min_ps(s, _mm_movehl_ps(s, s));
  s = _mm_min_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

// Applies a vector function to n floats, handling the tail through a padded vector so the
// tail uses exactly the same arithmetic as the body.
template <typename F>
inline void MapF32(const float* x, float* y, int64_t n, F&& f) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, f(_mm256_loadu_ps(x + i)));
  if (i < n) {
    float in[8] = {0, 0, 0, 0, 0, 0, 0, 0}, out[8];
    std::memcpy(in, x + i, static_cast<size_t>(n - i) * sizeof(float));
    _mm256_storeu_ps(out, f(_mm256_loadu_ps(in)));
    std::memcpy(y + i, out, static_cast<size_t>(n - i) * sizeof(float));
  }
}

}  // namespace greenai::ew::simd
#endif
