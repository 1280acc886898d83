// Private helpers for the reference nn kernels (ref_nn*.cc): element load/store through a
// wide accumulator type and the registration hooks of the split files.
// Pure functions; thread safe.
#pragma once

#include <cstdint>
#include <type_traits>
#include <vector>

#include "backends/cpu/kernel.h"
#include "core/dtype.h"

namespace greenai::refnn {

// Accumulator: double for f64, 64-bit for ints, float for f32/f16/bf16.
template <typename T> struct Acc { using type = float; };
template <> struct Acc<double> { using type = double; };
template <> struct Acc<int32_t> { using type = int64_t; };
template <> struct Acc<int64_t> { using type = int64_t; };
template <> struct Acc<uint32_t> { using type = uint64_t; };
template <> struct Acc<uint64_t> { using type = uint64_t; };
template <> struct Acc<int8_t> { using type = int32_t; };
template <> struct Acc<uint8_t> { using type = int32_t; };
template <typename T> using AccT = typename Acc<T>::type;

template <typename T>
constexpr bool kIsHalf = std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>;

template <typename A, typename T>
inline A Ld(T v) {
  if constexpr (kIsHalf<T>) return static_cast<A>(static_cast<float>(v));
  else return static_cast<A>(v);
}
template <typename T, typename A>
inline T St(A v) {
  if constexpr (kIsHalf<T>) return T(static_cast<float>(v));
  else return static_cast<T>(v);
}

void AddPoolKernels(std::vector<KernelDef>& defs);
void AddNormKernels(std::vector<KernelDef>& defs);

}  // namespace greenai::refnn

// Dispatch over f32/f64/f16 (the float types the nn reference kernels implement).
#define GREENAI_NN_DISPATCH_FLOAT(dtype, T, ...) \
  switch (dtype) {                               \
    GREENAI_DISPATCH_CASE(kF32, T, __VA_ARGS__)  \
    GREENAI_DISPATCH_CASE(kF64, T, __VA_ARGS__)  \
    GREENAI_DISPATCH_CASE(kF16, T, __VA_ARGS__)  \
    GREENAI_DISPATCH_CASE(kBF16, T, __VA_ARGS__) \
    default: break;                              \
  }
