// Runtime-internal fused convolution with a residual sum, domain "ai.greenai" (like QGemm in
// ops/qgemm.h: made at plan time by a pass, passes/fusion.cc ResidualFusion, inside a
// Session's private graph, never written to a file). Op definition: ops/nn.cc; reference
// kernel (the test oracle): backends/cpu/ref_nn.cc; fast kernel: backends/cpu/onednn_conv.cc.
//
//   ConvAdd(X, W, B, Z) -> Y   domain ai.greenai, Conv's attributes
//     X, W, B  as ONNX Conv (B optional: an empty name)
//     Z        the residual, Y's dtype and shape (no broadcasting)
//     Y        Conv(X, W, B) + Z, then the fused activation when the node carries
//              greenai.activation (passes.h kAttrActivation: applied after the sum)
//   Semantics: exactly Conv followed by Add(conv, Z) (the sum rounded once, in Y's dtype).
//   Layout: a node marked NHWC (ops/layout.h) reads Z in NHWC too, like X and Y.
//   In place: kernels may write Y into Z's buffer (Kernel::InPlaceInput() == kConvAddZ) when
//   the runtime hands them the same buffer; they must then read each Z element before
//   writing the Y element at the same position.
#pragma once

#include <string_view>

#include "ops/weight_only.h"  // kGreenaiDomain

namespace greenai {

inline constexpr std::string_view kConvAdd = "ConvAdd";
inline constexpr size_t kConvAddZ = 3;  // input position of Z

}  // namespace greenai
