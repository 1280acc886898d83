// Channels-last layout marks (runtime-only, set at plan time by the ChannelsLastLayout pass,
// passes/channels_last.cc; never exported).
//
// Contract:
//  - A node carrying kAttrLayout = "NHWC" reads its first input and writes its first output as
//    [N, H, W, C] instead of ONNX's [N, C, H, W]; every other input (weights, scales, zero
//    points, bias) keeps its ONNX meaning. Only rank-4 first inputs are ever marked.
//  - InferNodeTypesLaidOut is InferNodeTypes for any node: for a marked node it permutes input
//    0 to NCHW, infers as ONNX defines the op, and permutes output 0 back to NHWC.
//  - Kernels: the registry builds a marked node with a kernel that handles the layout itself
//    (backends/cpu/layout_adapter.cc lists them) or wraps a plain kernel in an adapter that
//    transposes input 0 in and output 0 out, so every kernel stays correct for marked nodes.
#pragma once

#include <vector>

#include "ops/op_table.h"

namespace greenai {

inline constexpr char kAttrLayout[] = "greenai.layout";  // string: "NHWC"

bool IsChannelsLast(const Node& n);
// [N, C, H, W] <-> [N, H, W, C] on a TensorType (dims and dim_params; rank other than 4: unchanged).
TensorType NchwToNhwc(const TensorType& t);
TensorType NhwcToNchw(const TensorType& t);

Status InferNodeTypesLaidOut(const OpDef& def, const InferContext& ctx, std::vector<TensorType>* outputs);

}  // namespace greenai
