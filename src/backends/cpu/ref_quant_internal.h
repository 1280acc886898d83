// Private helpers of the quant kernel family (ref_quant*.cc). Not a public interface.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "backends/cpu/kernel.h"

namespace greenai::qk {

// Saturating conversion of an already-rounded value to Q (NaN maps to 0).
template <typename Q>
Q QuantOut(double v) {
  if (std::isnan(v)) return 0;
  v = std::clamp(v, static_cast<double>(std::numeric_limits<Q>::min()),
                 static_cast<double>(std::numeric_limits<Q>::max()));
  return static_cast<Q>(v);
}

// Element i of a u8/i8/i32 tensor as int32.
inline int32_t IntAt(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DType::kU8: return t.data<uint8_t>()[i];
    case DType::kI8: return t.data<int8_t>()[i];
    case DType::kI32: return t.data<int32_t>()[i];
    default: return 0;
  }
}
inline int32_t ZeroPointAt(const Tensor& zp, int64_t i) { return IntAt(zp, zp.numel() == 1 ? 0 : i); }

// Zero points for `mats` matrices of `len` rows (or columns): a scalar, one per row
// (len entries) or one per row per matrix (mats * len). Returns len or mats * len values.
inline Result<std::vector<int32_t>> ExpandZeroPoints(const Node& node, const Tensor* zp, const char* name,
                                                     int64_t mats, int64_t len) {
  if (!zp) return std::vector<int32_t>(static_cast<size_t>(len), 0);
  const int64_t n = zp->numel();
  if (n != 1 && n != len && n != mats * len)
    return InvalidArgument("{}: {} has {} entries, expects 1, {} or {} (scalar, per row/column, per matrix)",
                           node.Describe(), name, n, len, mats * len);
  std::vector<int32_t> v(static_cast<size_t>(n == 1 ? len : n));
  for (size_t i = 0; i < v.size(); ++i) v[i] = IntAt(*zp, n == 1 ? 0 : static_cast<int64_t>(i));
  return v;
}

void AddQuantConvKernels(std::vector<KernelDef>& defs);

}  // namespace greenai::qk
