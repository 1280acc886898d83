#include "ops/shape_util.h"

#include <algorithm>

#include "ops/op_table.h"

namespace greenai {

Result<std::vector<int64_t>> BroadcastDims(const std::vector<std::vector<int64_t>>& shapes,
                                           const std::string& who) {
  size_t rank = 0;
  for (const auto& s : shapes) rank = std::max(rank, s.size());
  std::vector<int64_t> out(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    int64_t r = 1;
    bool unknown = false;
    for (const auto& s : shapes) {
      if (s.size() + i < rank) continue;
      int64_t d = s[i - (rank - s.size())];
      if (d == 1) continue;
      if (d < 0) { unknown = true; continue; }
      if (r != 1 && r != d) {
        std::string desc;
        for (const auto& sh : shapes) desc += (desc.empty() ? "" : " and ") + ShapeToString(sh);
        return InvalidArgument("{}: shapes {} cannot be broadcast (dim {} is {} vs {})", who, desc, i, r, d);
      }
      r = d;
    }
    out[i] = (r == 1 && unknown) ? -1 : r;
  }
  return out;
}

Result<int64_t> NormalizeAxis(int64_t axis, int64_t rank, const std::string& who) {
  if (axis < -rank || axis >= std::max<int64_t>(rank, 1))
    return InvalidArgument("{}: axis {} is out of range for rank {} (expects [-{}, {}))", who, axis, rank, rank,
                           rank);
  return axis < 0 ? axis + rank : axis;
}

std::vector<int64_t> TensorToInts(const Tensor& t) {
  std::vector<int64_t> v(static_cast<size_t>(t.numel()));
  if (t.dtype() == DType::kI64) {
    std::copy(t.data<int64_t>(), t.data<int64_t>() + t.numel(), v.begin());
  } else {
    for (int64_t i = 0; i < t.numel(); ++i) v[static_cast<size_t>(i)] = static_cast<int64_t>(t.GetAsDouble(i));
  }
  return v;
}

Status InferSameAsInput0(const InferContext& ctx, std::vector<TensorType>* outputs) {
  (*outputs)[0] = ctx.inputs[0];
  return Status::Ok();
}

}  // namespace greenai
