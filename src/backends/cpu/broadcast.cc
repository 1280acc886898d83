#include "backends/cpu/broadcast.h"

#include <algorithm>

namespace greenai {

Result<BroadcastPlan> MakeBroadcastPlan(const Shape& out, const std::vector<Shape>& inputs, const std::string& who) {
  BroadcastPlan p;
  p.out = out;
  p.numel = NumElements(out);
  const size_t rank = out.size();
  for (size_t k = 0; k < inputs.size(); ++k) {
    const Shape& s = inputs[k];
    if (s.size() > rank)
      return InvalidArgument("{}: input {} has rank {} but the output has rank {} (input rank must not exceed it)",
                             who, k, s.size(), rank);
    std::vector<int64_t> st(rank, 0);
    int64_t stride = 1;
    for (size_t j = s.size(); j-- > 0;) {
      size_t d = j + (rank - s.size());
      if (s[j] == out[d]) {
        st[d] = s[j] == 1 ? 0 : stride;
      } else if (s[j] == 1) {
        st[d] = 0;
      } else {
        return InvalidArgument("{}: input {} shape {} cannot broadcast to {} (dim {} is {}, expects {} or 1)", who, k,
                               ShapeToString(s), ShapeToString(out), d, s[j], out[d]);
      }
      stride *= s[j];
    }
    p.strides.push_back(std::move(st));
  }
  return p;
}

Result<Shape> BroadcastShapes(const std::vector<Shape>& inputs, const std::string& who) {
  size_t rank = 0;
  for (const auto& s : inputs) rank = std::max(rank, s.size());
  Shape out(rank, 1);
  for (size_t d = 0; d < rank; ++d) {
    for (const auto& s : inputs) {
      if (s.size() + d < rank) continue;
      int64_t v = s[d - (rank - s.size())];
      if (v == 1) continue;
      if (out[d] != 1 && out[d] != v)
        return InvalidArgument("{}: shapes cannot be broadcast (dim {} is {} vs {})", who, d, out[d], v);
      out[d] = v;
    }
  }
  return out;
}

}  // namespace greenai
