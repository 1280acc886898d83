// Private helpers for the elementwise/reduce CPU kernels (ref_elementwise*.cc,
// ref_reduce*.cc, fast_elementwise*.cc): type dispatch by generic lambda and conversions
// between storage types (Float16/BFloat16 are stored, arithmetic is done in double for
// every float type in the reference kernels so they serve as an accurate oracle).
// Not a public interface. Pure functions; thread safe.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include "backends/cpu/kernel.h"
#include "core/dtype.h"

namespace greenai::ew {

template <typename T> struct Tag { using type = T; };

template <typename T>
inline constexpr bool kIsHalf = std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>;
template <typename T>
inline constexpr bool kIsFloat = kIsHalf<T> || std::is_floating_point_v<T>;
template <typename T>
inline constexpr bool kIsInt = std::is_integral_v<T> && !std::is_same_v<T, bool>;

// Element -> double (bool -> 0/1).
template <typename T>
inline double ToD(T v) {
  if constexpr (kIsHalf<T>) return static_cast<double>(static_cast<float>(v));
  else return static_cast<double>(v);
}
// double -> element. Float->int: NaN gives 0 and out-of-range values saturate (C++ would be UB).
template <typename T>
inline T FromD(double v) {
  if constexpr (kIsHalf<T>) return T(static_cast<float>(v));
  else if constexpr (std::is_same_v<T, bool>) return v != 0;
  else if constexpr (std::is_floating_point_v<T>) return static_cast<T>(v);
  else {
    if (std::isnan(v)) return T(0);
    if (v <= static_cast<double>(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
    if (v >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    return static_cast<T>(v);
  }
}

// Calls f(Tag<T>{}) for the C++ type of `t`; returns false when `t` is not in the group.
template <typename F>
bool DispatchFloat(DType t, F&& f) {
  switch (t) {
    case DType::kF32: f(Tag<float>{}); return true;
    case DType::kF64: f(Tag<double>{}); return true;
    case DType::kF16: f(Tag<Float16>{}); return true;
    case DType::kBF16: f(Tag<BFloat16>{}); return true;
    default: return false;
  }
}
template <typename F>
bool DispatchInt(DType t, F&& f) {
  switch (t) {
    case DType::kI8: f(Tag<int8_t>{}); return true;
    case DType::kU8: f(Tag<uint8_t>{}); return true;
    case DType::kI16: f(Tag<int16_t>{}); return true;
    case DType::kU16: f(Tag<uint16_t>{}); return true;
    case DType::kI32: f(Tag<int32_t>{}); return true;
    case DType::kU32: f(Tag<uint32_t>{}); return true;
    case DType::kI64: f(Tag<int64_t>{}); return true;
    case DType::kU64: f(Tag<uint64_t>{}); return true;
    default: return false;
  }
}
// Floats and ints (not bool, not string).
template <typename F>
bool DispatchNumber(DType t, F&& f) {
  return DispatchFloat(t, f) || DispatchInt(t, f);
}
// Numbers and bool.
template <typename F>
bool DispatchNumberBool(DType t, F&& f) {
  if (t == DType::kBool) {
    f(Tag<bool>{});
    return true;
  }
  return DispatchNumber(t, f);
}
template <typename F>
bool DispatchAny(DType t, F&& f) {
  if (t == DType::kString) {
    f(Tag<std::string>{});
    return true;
  }
  return DispatchNumberBool(t, f);
}

inline bool IsNumberDType(DType t) { return IsFloatDType(t) || IsIntegerDType(t); }

// Static dtype of input i for a factory (kUndefined when absent).
inline DType InputDType(const KernelInfo& info, size_t i) {
  return i < info.input_types.size() ? info.input_types[i].dtype : DType::kUndefined;
}

}  // namespace greenai::ew
