// Checks shared by greenai's own NCHW8c float32 convolutions on the 6x16 tile
// (f32_conv_blocked_avx2.cc, f32_conv_winograd_avx2.cc), so both accept and reject the same
// nodes and tensors with the same messages.
//
// Contract:
//  - CheckTileConv: Ok when the node is marked NCHW8c, all of X, W (and B) are float32, X is
//    [N, C/8, H, W, 8], W is a constant [M, C, KH, KW] with M a multiple of 16 and C matching
//    X, group is 1 and any fused activation is a plain Relu; else Unimplemented naming the node,
//    `who` and the rule, so the registry tries the next kernel.
//  - CheckTileConvRun: at run time, InvalidArgument when X is not [N, CB, H, W, 8] or B does
//    not hold M values, Internal when Y does not match the geometry; returns the geometry,
//    computed once per input size into *cache (no allocation on later runs of that size).
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include "backends/cpu/kernel.h"
#include "ops/layout.h"
#include "ops/nn_util.h"
#include "passes/passes.h"

namespace greenai {

inline Status CheckTileConv(const KernelInfo& info, std::string_view who) {
  const Node& n = info.node;
  auto decline = [&](const char* why) { return Unimplemented("{}: {}: {}", n.Describe(), who, why); };
  if (!IsBlocked8(n)) return decline("node is not marked NCHW8c");
  const bool has_bias = n.inputs.size() > 2 && !n.inputs[2].empty();
  if (info.input_types.size() < 2 || info.input_types[0].dtype != DType::kF32 ||
      info.input_types[1].dtype != DType::kF32 || (has_bias && info.input_types[2].dtype != DType::kF32))
    return decline("not float32");
  const TensorType& xt = info.input_types[0];
  if (!xt.has_shape || xt.rank() != 5 || xt.dims[4] != kBlock) return decline("input is not [N, C/8, H, W, 8]");
  if (info.const_inputs.size() < 2 || !info.const_inputs[1]) return decline("weight is not a constant");
  const Tensor& w = *info.const_inputs[1];
  if (w.rank() != 4) return decline("not a 2-D convolution");
  if (n.GetInt("group", 1) != 1) return decline("grouped");
  if (w.dim(0) % 16 != 0) return decline("output channels not a multiple of 16");
  if (xt.dims[1] >= 0 && xt.dims[1] * kBlock != w.dim(1)) return decline("input channels do not match the weight");
  if (n.HasAttr(kAttrActivation) &&
      (n.GetString(kAttrActivation, "") != "Relu" || !n.GetFloats(kAttrActivationParams).empty()))
    return decline("fused activation other than Relu");
  return Status::Ok();
}

struct TileConvGeomCache {
  std::optional<nn::WindowGeom> geom;
  std::array<int64_t, 2> hw{};
};

inline Result<const nn::WindowGeom*> CheckTileConvRun(const Node& node, const nn::WindowAttrs& attrs, const Tensor& x,
                                                      const Tensor* b, const Tensor& y, int64_t CB, int64_t M,
                                                      TileConvGeomCache* cache) {
  if (x.rank() != 5 || x.dim(4) != kBlock || x.dim(1) != CB)
    return InvalidArgument("{}: X has shape {}, expected [N, {}, H, W, 8]", node.Describe(), ShapeToString(x.shape()),
                           CB);
  if (b && b->numel() != M)
    return InvalidArgument("{}: B has {} values for {} output channels", node.Describe(), b->numel(), M);
  const int64_t H = x.dim(2), W = x.dim(3);
  if (!cache->geom || cache->hw != std::array<int64_t, 2>{H, W}) {
    GREENAI_ASSIGN_OR_RETURN(nn::WindowGeom wg, nn::ComputeForward(node, attrs, {H, W}));
    cache->geom = std::move(wg);
    cache->hw = {H, W};
  }
  const nn::WindowGeom& g = *cache->geom;
  if (y.rank() != 5 || y.dim(0) != x.dim(0) || y.dim(1) != M / kBlock || y.dim(2) != g.out[0] ||
      y.dim(3) != g.out[1])
    return Internal("{}: output shape does not match the window geometry", node.Describe());
  return &g;
}

}  // namespace greenai
