// Shape and Tensor.
//
// Shape is a plain vector of dims (all >= 0 for a concrete tensor). IR types with unknown
// dims live in graph/ir.h (TensorType), not here.
//
// Tensor is a typed n-d array in row-major (C) order. It is a cheap, copyable *handle*:
// copies share the same buffer (like a shared_ptr). Clone() makes a deep copy.
//  - Owned tensors come from Tensor::Create: 64-byte aligned, zero-filled; kString tensors
//    hold constructed std::string objects.
//  - Views (Tensor::View) point at memory owned elsewhere; the caller keeps it alive.
// Thread safety: a Tensor may be read from many threads; writes need external sync.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/status.h"

namespace greenai {

using Shape = std::vector<int64_t>;

// Largest element count a single tensor may hold (2^34 elements); beyond this a file
// declaring such a tensor is treated as hostile/corrupt rather than attempting to allocate.
inline constexpr int64_t kMaxTensorElements = int64_t{1} << 34;

// Product of dims; error on negative dims, overflow, or more than kMaxTensorElements.
Result<int64_t> CheckedNumElements(const Shape& shape);
// Product of dims, no checks (caller guarantees validity).
int64_t NumElements(const Shape& shape);
// "[2, 3, 4]"
std::string ShapeToString(const Shape& shape);
// Row-major strides in elements.
std::vector<int64_t> RowMajorStrides(const Shape& shape);

class Tensor {
 public:
  Tensor() = default;

  // Owned, zero-filled, 64-byte aligned. Fails with a clear message on bad/huge shapes
  // or allocation failure.
  static Result<Tensor> Create(DType dtype, Shape shape);
  // Non-owning view of `data` (must hold numel * DTypeSize(dtype) bytes, suitably aligned).
  static Tensor View(DType dtype, Shape shape, void* data);
  // Convenience for tests and small constants; aborts on invalid shape (programming error).
  template <typename T>
  static Tensor FromVector(Shape shape, const std::vector<T>& values);
  template <typename T>
  static Tensor Scalar(T value) { return FromVector<T>({}, {value}); }

  bool defined() const { return dtype_ != DType::kUndefined; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  int64_t dim(int i) const { return shape_[static_cast<size_t>(i < 0 ? i + rank() : i)]; }
  int64_t numel() const { return numel_; }
  size_t nbytes() const { return static_cast<size_t>(numel_) * DTypeSize(dtype_); }
  bool is_view() const { return !storage_; }

  void* raw() { return data_; }
  const void* raw() const { return data_; }
  template <typename T> T* data() { return static_cast<T*>(data_); }
  template <typename T> const T* data() const { return static_cast<const T*>(data_); }
  template <typename T> std::span<T> span() { return {data<T>(), static_cast<size_t>(numel_)}; }
  template <typename T> std::span<const T> span() const {
    return {data<T>(), static_cast<size_t>(numel_)};
  }

  // Deep copy (owned).
  Tensor Clone() const;
  // Same buffer, new shape with the same element count (checked by assert).
  Tensor Reshaped(Shape shape) const;
  // Element i converted to double (numeric types only; bool -> 0/1). For tests and small scalars.
  double GetAsDouble(int64_t i) const;
  // Copies contents from `src` (same dtype and numel).
  Status CopyFrom(const Tensor& src);

 private:
  DType dtype_ = DType::kUndefined;
  Shape shape_;
  int64_t numel_ = 0;
  void* data_ = nullptr;
  std::shared_ptr<void> storage_;  // null for views
};

template <typename T>
Tensor Tensor::FromVector(Shape shape, const std::vector<T>& values) {
  auto r = Create(DTypeOf<T>(), std::move(shape));
  assert(r.ok());
  Tensor t = std::move(r).value();
  assert(static_cast<int64_t>(values.size()) == t.numel());
  T* d = t.data<T>();
  for (size_t i = 0; i < values.size(); ++i) d[i] = values[i];
  return t;
}

}  // namespace greenai
