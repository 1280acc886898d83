#include "core/tensor.h"

#include <cstdlib>
#include <new>

namespace greenai {

namespace {
template <typename T> double ToDouble(T x) {
  if constexpr (std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>) return static_cast<float>(x);
  else return static_cast<double>(x);
}
}  // namespace

Result<int64_t> CheckedNumElements(const Shape& shape) {
  int64_t n = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    int64_t d = shape[i];
    if (d < 0) return InvalidArgument("shape {}: dim {} is negative ({})", ShapeToString(shape), i, d);
    if (d != 0 && n > kMaxTensorElements / d)
      return ResourceExhausted("shape {}: more than 2^34 elements (limit for one tensor)",
                               ShapeToString(shape));
    n *= d;
  }
  if (n > kMaxTensorElements)
    return ResourceExhausted("shape {}: more than 2^34 elements (limit for one tensor)",
                             ShapeToString(shape));
  return n;
}

int64_t NumElements(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string ShapeToString(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

std::vector<int64_t> RowMajorStrides(const Shape& shape) {
  std::vector<int64_t> st(shape.size(), 1);
  for (int i = static_cast<int>(shape.size()) - 2; i >= 0; --i)
    st[static_cast<size_t>(i)] = st[static_cast<size_t>(i) + 1] * shape[static_cast<size_t>(i) + 1];
  return st;
}

Result<Tensor> Tensor::Create(DType dtype, Shape shape) {
  if (dtype == DType::kUndefined) return InvalidArgument("cannot create a tensor of undefined dtype");
  GREENAI_ASSIGN_OR_RETURN(int64_t n, CheckedNumElements(shape));
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.numel_ = n;
  size_t bytes = static_cast<size_t>(n) * DTypeSize(dtype);
  size_t alloc = (bytes + 63) / 64 * 64;
  if (alloc == 0) alloc = 64;
  void* p = std::aligned_alloc(64, alloc);
  if (!p) return ResourceExhausted("out of memory allocating {} bytes for tensor {}", bytes, ShapeToString(t.shape_));
  if (dtype == DType::kString) {
    auto* s = static_cast<std::string*>(p);
    for (int64_t i = 0; i < n; ++i) new (s + i) std::string();
    t.storage_ = std::shared_ptr<void>(p, [n](void* q) {
      auto* s2 = static_cast<std::string*>(q);
      for (int64_t i = 0; i < n; ++i) s2[i].~basic_string();
      std::free(q);
    });
  } else {
    std::memset(p, 0, alloc);
    t.storage_ = std::shared_ptr<void>(p, [](void* q) { std::free(q); });
  }
  t.data_ = p;
  return t;
}

Tensor Tensor::View(DType dtype, Shape shape, void* data) {
  Tensor t;
  t.dtype_ = dtype;
  t.numel_ = NumElements(shape);
  t.shape_ = std::move(shape);
  t.data_ = data;
  return t;
}

Tensor Tensor::Clone() const {
  if (!defined()) return Tensor();
  auto r = Create(dtype_, shape_);
  assert(r.ok());
  Tensor t = std::move(r).value();
  Status st = t.CopyFrom(*this);
  assert(st.ok());
  (void)st;
  return t;
}

Tensor Tensor::Reshaped(Shape shape) const {
  Tensor t = *this;
  assert(NumElements(shape) == numel_);
  t.shape_ = std::move(shape);
  return t;
}

Status Tensor::CopyFrom(const Tensor& src) {
  if (src.dtype_ != dtype_ || src.numel_ != numel_)
    return InvalidArgument("CopyFrom: {} {} into {} {}", DTypeName(src.dtype_), ShapeToString(src.shape_),
                           DTypeName(dtype_), ShapeToString(shape_));
  if (dtype_ == DType::kString) {
    for (int64_t i = 0; i < numel_; ++i) data<std::string>()[i] = src.data<std::string>()[i];
  } else if (numel_ > 0 && data_ != src.data_) {
    std::memcpy(data_, src.data_, nbytes());
  }
  return Status::Ok();
}

double Tensor::GetAsDouble(int64_t i) const {
  double v = 0;
  switch (dtype_) {
    case DType::kF16: return HalfToFloat(data<uint16_t>()[i]);
    case DType::kBF16: return BFloat16ToFloat(data<uint16_t>()[i]);
    case DType::kString: return 0;
    default: break;
  }
  GREENAI_DISPATCH_NUMERIC(dtype_, T, { v = ToDouble(data<T>()[i]); });
  return v;
}

}  // namespace greenai
