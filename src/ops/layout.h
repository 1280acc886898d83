// Activation layout marks (runtime-only, set at plan time by the layout passes,
// passes/channels_last.cc and passes/blocked_layout.cc; never exported).
//
// Contract:
//  - A node carrying kAttrLayout = "NHWC" reads its first input and writes its first output as
//    [N, H, W, C] instead of ONNX's [N, C, H, W]; every other input (weights, scales, zero
//    points, bias) keeps its ONNX meaning, except the residual Z of an ai.greenai ConvAdd
//    (ops/conv_add.h), which is an activation like input 0 and laid out alike
//    (LaidOutInput). Only rank-4 first inputs are ever marked.
//  - A node carrying kAttrLayout = "NCHW8c" writes its first output in the 8-channel blocked
//    layout [N, C/8, H, W, 8] (element (n, c, h, w) at [n][c/8][h][w][c%8]; C % 8 == 0), and
//    reads its first input blocked when that input has rank 5, plain NCHW when it has rank 4
//    (a first convolution on 3 channels). Other inputs keep their ONNX meaning.
//  - InferNodeTypesLaidOut is InferNodeTypes for any node: for a marked node it converts its
//    laid-out inputs to NCHW, infers as ONNX defines the op, and converts output 0 back.
//  - Kernels: the registry builds a marked node with a kernel that handles the layout itself
//    (backends/cpu/layout_adapter.cc lists them) or wraps a plain kernel in an adapter that
//    converts the laid-out inputs in and output 0 out, so every kernel stays correct for marked nodes.
#pragma once

#include <vector>

#include "ops/op_table.h"

namespace greenai {

inline constexpr char kAttrLayout[] = "greenai.layout";  // string: "NHWC" or "NCHW8c"
inline constexpr char kLayoutNhwc[] = "NHWC";
inline constexpr char kLayoutBlocked8[] = "NCHW8c";
inline constexpr int64_t kBlock = 8;  // channels per block of the NCHW8c layout

bool IsChannelsLast(const Node& n);
bool IsBlocked8(const Node& n);
// Either mark.
bool HasLayoutMark(const Node& n);
// True for the inputs of `n` that a layout mark applies to: input 0, and a ConvAdd's Z.
bool LaidOutInput(const Node& n, size_t i);
// [N, C, H, W] <-> [N, H, W, C] on a TensorType (dims and dim_params; rank other than 4: unchanged).
TensorType NchwToNhwc(const TensorType& t);
TensorType NhwcToNchw(const TensorType& t);
// [N, C, H, W] <-> [N, C/8, H, W, 8] (other ranks, and C not a multiple of 8: unchanged).
TensorType NchwToBlocked(const TensorType& t);
TensorType BlockedToNchw(const TensorType& t);

Status InferNodeTypesLaidOut(const OpDef& def, const InferContext& ctx, std::vector<TensorType>* outputs);

}  // namespace greenai
