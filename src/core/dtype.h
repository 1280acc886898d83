// DType: element types of tensors. Numeric values equal ONNX TensorProto.DataType,
// so conversion to and from ONNX is a cast.
//
// Also: IEEE half (Float16) and bfloat16 (BFloat16) storage types with exact
// round-to-nearest-even conversion from float, and a type-dispatch helper.
// Thread safety: all functions are pure.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace greenai {

enum class DType : int32_t {
  kUndefined = 0,
  kF32 = 1,
  kU8 = 2,
  kI8 = 3,
  kU16 = 4,
  kI16 = 5,
  kI32 = 6,
  kI64 = 7,
  kString = 8,
  kBool = 9,
  kF16 = 10,
  kF64 = 11,
  kU32 = 12,
  kU64 = 13,
  kBF16 = 16,
};

// Bytes per element; 0 for kUndefined; sizeof(std::string) for kString.
size_t DTypeSize(DType t);
// "float32", "int64", ... (numpy-style names).
std::string_view DTypeName(DType t);
// Inverse of DTypeName; also accepts ONNX names ("float", "int64", "float16", "bfloat16"). kUndefined if unknown.
DType DTypeFromName(std::string_view name);
// True for ONNX enum values greenai knows.
bool IsKnownDType(int32_t onnx_value);
bool IsFloatDType(DType t);    // f16, bf16, f32, f64
bool IsIntegerDType(DType t);  // signed and unsigned ints (not bool)
bool IsSignedDType(DType t);

float HalfToFloat(uint16_t h);
uint16_t FloatToHalf(float f);
inline float BFloat16ToFloat(uint16_t b) {
  uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
uint16_t FloatToBFloat16(float f);  // round to nearest even, NaN preserved

// Storage types: 2 bytes, explicit conversions.
struct Float16 {
  uint16_t bits = 0;
  Float16() = default;
  explicit Float16(float f) : bits(FloatToHalf(f)) {}
  explicit operator float() const { return HalfToFloat(bits); }
};
struct BFloat16 {
  uint16_t bits = 0;
  BFloat16() = default;
  explicit BFloat16(float f) : bits(FloatToBFloat16(f)) {}
  explicit operator float() const { return BFloat16ToFloat(bits); }
};
static_assert(sizeof(Float16) == 2 && sizeof(BFloat16) == 2);

template <DType> struct DTypeTraits;
#define GREENAI_DTYPE_TRAIT(D, T) \
  template <> struct DTypeTraits<DType::D> { using type = T; };
GREENAI_DTYPE_TRAIT(kF32, float)
GREENAI_DTYPE_TRAIT(kF64, double)
GREENAI_DTYPE_TRAIT(kF16, Float16)
GREENAI_DTYPE_TRAIT(kBF16, BFloat16)
GREENAI_DTYPE_TRAIT(kI8, int8_t)
GREENAI_DTYPE_TRAIT(kU8, uint8_t)
GREENAI_DTYPE_TRAIT(kI16, int16_t)
GREENAI_DTYPE_TRAIT(kU16, uint16_t)
GREENAI_DTYPE_TRAIT(kI32, int32_t)
GREENAI_DTYPE_TRAIT(kU32, uint32_t)
GREENAI_DTYPE_TRAIT(kI64, int64_t)
GREENAI_DTYPE_TRAIT(kU64, uint64_t)
GREENAI_DTYPE_TRAIT(kBool, bool)
GREENAI_DTYPE_TRAIT(kString, std::string)
#undef GREENAI_DTYPE_TRAIT

template <typename T> constexpr DType DTypeOf();
template <> constexpr DType DTypeOf<float>() { return DType::kF32; }
template <> constexpr DType DTypeOf<double>() { return DType::kF64; }
template <> constexpr DType DTypeOf<Float16>() { return DType::kF16; }
template <> constexpr DType DTypeOf<BFloat16>() { return DType::kBF16; }
template <> constexpr DType DTypeOf<int8_t>() { return DType::kI8; }
template <> constexpr DType DTypeOf<uint8_t>() { return DType::kU8; }
template <> constexpr DType DTypeOf<int16_t>() { return DType::kI16; }
template <> constexpr DType DTypeOf<uint16_t>() { return DType::kU16; }
template <> constexpr DType DTypeOf<int32_t>() { return DType::kI32; }
template <> constexpr DType DTypeOf<uint32_t>() { return DType::kU32; }
template <> constexpr DType DTypeOf<int64_t>() { return DType::kI64; }
template <> constexpr DType DTypeOf<uint64_t>() { return DType::kU64; }
template <> constexpr DType DTypeOf<bool>() { return DType::kBool; }
template <> constexpr DType DTypeOf<std::string>() { return DType::kString; }

}  // namespace greenai

// Type dispatch: GREENAI_DISPATCH_NUMERIC(dtype, T, { body using T }) runs body with T bound to
// the C++ type of dtype, for all numeric types (not string). Falls through (does nothing) for others;
// callers check support beforehand.
#define GREENAI_DISPATCH_CASE(D, T, ...)                       \
  case ::greenai::DType::D: {                                  \
    using T = typename ::greenai::DTypeTraits<::greenai::DType::D>::type; \
    __VA_ARGS__;                                               \
    break;                                                     \
  }
#define GREENAI_DISPATCH_NUMERIC(dtype, T, ...)                \
  switch (dtype) {                                             \
    GREENAI_DISPATCH_CASE(kF32, T, __VA_ARGS__)                \
    GREENAI_DISPATCH_CASE(kF64, T, __VA_ARGS__)                \
    GREENAI_DISPATCH_CASE(kF16, T, __VA_ARGS__)                \
    GREENAI_DISPATCH_CASE(kBF16, T, __VA_ARGS__)               \
    GREENAI_DISPATCH_CASE(kI8, T, __VA_ARGS__)                 \
    GREENAI_DISPATCH_CASE(kU8, T, __VA_ARGS__)                 \
    GREENAI_DISPATCH_CASE(kI16, T, __VA_ARGS__)                \
    GREENAI_DISPATCH_CASE(kU16, T, __VA_ARGS__)                \
    GREENAI_DISPATCH_CASE(kI32, T, __VA_ARGS__)                \
    GREENAI_DISPATCH_CASE(kU32, T, __VA_ARGS__)                \
    GREENAI_DISPATCH_CASE(kI64, T, __VA_ARGS__)                \
    GREENAI_DISPATCH_CASE(kU64, T, __VA_ARGS__)                \
    GREENAI_DISPATCH_CASE(kBool, T, __VA_ARGS__)               \
    default: break;                                            \
  }
// All types including string.
#define GREENAI_DISPATCH_ALL(dtype, T, ...)                    \
  switch (dtype) {                                             \
    GREENAI_DISPATCH_CASE(kF32, T, __VA_ARGS__)                \
    GREENAI_DISPATCH_CASE(kF64, T, __VA_ARGS__)                \
    GREENAI_DISPATCH_CASE(kF16, T, __VA_ARGS__)                \
    GREENAI_DISPATCH_CASE(kBF16, T, __VA_ARGS__)               \
    GREENAI_DISPATCH_CASE(kI8, T, __VA_ARGS__)                 \
    GREENAI_DISPATCH_CASE(kU8, T, __VA_ARGS__)                 \
    GREENAI_DISPATCH_CASE(kI16, T, __VA_ARGS__)                \
    GREENAI_DISPATCH_CASE(kU16, T, __VA_ARGS__)                \
    GREENAI_DISPATCH_CASE(kI32, T, __VA_ARGS__)                \
    GREENAI_DISPATCH_CASE(kU32, T, __VA_ARGS__)                \
    GREENAI_DISPATCH_CASE(kI64, T, __VA_ARGS__)                \
    GREENAI_DISPATCH_CASE(kU64, T, __VA_ARGS__)                \
    GREENAI_DISPATCH_CASE(kBool, T, __VA_ARGS__)               \
    GREENAI_DISPATCH_CASE(kString, T, __VA_ARGS__)             \
    default: break;                                            \
  }
