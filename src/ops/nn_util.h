// Window geometry shared by the nn op table entries (Conv, ConvTranspose, pools) and
// their kernels (reference and oneDNN), so inference and execution can never disagree.
//
// Contract:
//  - WindowAttrs::Parse reads kernel_shape/strides/dilations/pads/auto_pad/ceil_mode
//    (+ output_padding/output_shape for ConvTranspose) and checks their lengths against
//    the number of spatial dims; errors name the node, the attribute and the rule.
//  - ComputeForward / ComputeTranspose fill explicit begin/end pads and the output spatial
//    dims for concrete or partially unknown (-1) input dims. Unknown in -> unknown out.
//  - Geometry3 lifts 1-D/2-D geometry to 3-D (leading dims of size 1) so kernels write
//    one loop nest.
// Pure functions; thread safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "graph/ir.h"

namespace greenai::nn {

enum class AutoPad { kNotSet, kSameUpper, kSameLower, kValid };

struct WindowAttrs {
  int nsp = 0;  // spatial dims
  std::vector<int64_t> kernel, strides, dilations, pads_begin, pads_end;
  std::vector<int64_t> output_padding, output_shape;  // ConvTranspose only
  AutoPad auto_pad = AutoPad::kNotSet;
  bool ceil_mode = false;

  // kernel: kernel_shape attribute, or (when absent) weight_kernel, the weight's spatial dims
  // (empty for pools, where kernel_shape is required). nsp comes from the rank of input X.
  static Result<WindowAttrs> Parse(const Node& node, int nsp, const std::vector<int64_t>& weight_kernel,
                                   bool is_transpose);
};

struct WindowGeom {
  int nsp = 0;
  std::vector<int64_t> in, kernel, strides, dilations, pad_begin, pad_end, out;
};

// Conv and pools: out = floor_or_ceil((in + pb + pe - ((k-1)*d+1)) / s) + 1.
Result<WindowGeom> ComputeForward(const Node& node, const WindowAttrs& a, const std::vector<int64_t>& in_spatial);
// ConvTranspose: out = s*(in-1) + output_padding + (k-1)*d+1 - pb - pe, or output_shape given.
// Pads may come out negative (output_shape larger than the natural size); kernels handle it.
Result<WindowGeom> ComputeTranspose(const Node& node, const WindowAttrs& a, const std::vector<int64_t>& in_spatial);

// Geometry padded to 3 spatial dims with leading 1s (kernel 1, stride 1, no pads).
WindowGeom Geometry3(const WindowGeom& g);

// Product of a dim vector (caller guarantees known dims).
int64_t Prod(const std::vector<int64_t>& v, size_t from = 0, size_t to = SIZE_MAX);

}  // namespace greenai::nn

namespace greenai {
struct OpDef;
struct InferContext;
struct TensorType;
}

namespace greenai::nn {
// Registration helpers for the nn family's split files (called by AddNnOps).
void AddPoolOps(std::vector<OpDef>& ops);
void AddNormOps(std::vector<OpDef>& ops);
// "Conv 'c1': input X has dtype int64 (expects a float type)" unless input i is f16/f32/f64 (or bf16).
Status CheckFloatInput(const InferContext& ctx, size_t i, const char* what);
// Sum of input bytes and output bytes into an OpCost-like pair.
double InputBytes(const InferContext& ctx);
double OutputBytes(const std::vector<TensorType>& outs);
}  // namespace greenai::nn
