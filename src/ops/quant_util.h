// Helpers shared by the quant op definitions (ops/quant.cc) and their CPU kernels
// (backends/cpu/ref_quant*.cc, int8_gemm.*): convolution geometry and the layout of
// scale / zero-point tensors. Private to the quant family.
//
// Contract: pure functions; errors name the node, the bad value and the rule.
// Unknown dims (-1) in inputs propagate as -1 in computed output dims.
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"
#include "graph/ir.h"

namespace greenai::quant {

// Geometry of an N-d convolution (x: [N, C, D1..Dn], w: [M, C/group, k1..kn]).
struct ConvGeom {
  int64_t batch = -1, in_channels = -1, out_channels = -1, group = 1;
  std::vector<int64_t> in_sp, kernel, strides, dilations, pads_begin, pads_end, out_sp;
};

// Reads kernel_shape/strides/dilations/pads/auto_pad/group from `node` and the shapes of
// x and w. Errors on rank mismatch, channel mismatch with group, or non-positive output dims.
Result<ConvGeom> ComputeConvGeom(const Node& node, const std::vector<int64_t>& x, const std::vector<int64_t>& w);

// How a scale (or zero point) applies to a tensor: one value, or one per slice along axis.
struct QuantParamLayout {
  bool per_axis = false;
  int64_t axis = 0;   // normalized; meaningful when per_axis
  int64_t count = 1;  // number of values
};

// Validates scale (and zero point when `zp` has a dtype) against x for Quantize/Dequantize-
// style ops: scale is a scalar / 1-element tensor, or (opset >= 13) 1-D with x.dims[axis]
// entries; zp must have the same shape as scale. `scale_name` and `zp_name` appear in errors.
Result<QuantParamLayout> CheckQuantParams(const Node& node, int64_t opset, const TensorType& x,
                                          const TensorType& scale, const TensorType& zp, const char* scale_name,
                                          const char* zp_name, int64_t axis);

// numpy.matmul output dims for a and b (1-D operands promoted and their dim dropped);
// *k receives the contraction length (-1 when unknown). Errors name `node`.
Result<std::vector<int64_t>> MatMulDims(const Node& node, const std::vector<int64_t>& a,
                                        const std::vector<int64_t>& b, int64_t* k);

}  // namespace greenai::quant
