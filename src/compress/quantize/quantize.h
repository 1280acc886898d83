// Post-training quantization and precision conversion: Model -> Model rewrites whose output
// is standard ONNX (QuantizeLinear/DequantizeLinear "QDQ" form, or ONNX Runtime's dynamic
// MatMulInteger form) so any ONNX runtime loads it; greenai's runtime turns QDQ patterns
// back into int8 kernels at plan time (passes/qdq_fusion.cc).
//
// Contract:
//  - Quantize() never edits its input; it returns a new model and a report. Preserves:
//    nothing exactly (meaning changes within quantization error on purpose).
//  - Before rewriting, the model goes through the exact/tolerance passes that keep it valid
//    ONNX (constant folding, dead code, Conv+BatchNorm folding, MatMul+Add -> Gemm), so the
//    rewrite sees one Conv/Gemm per layer.
//  - Quantizable (static): Conv (2-D, constant weight), MatMul with a constant 2-D weight,
//    Gemm with a constant B (alpha = 1, beta = 1, transA = 0). Relu directly after one is
//    folded into its output range. MaxPool, Reshape, Flatten, Transpose, Squeeze/Unsqueeze
//    after a quantized value keep their input's scale (they stay int8 in greenai).
//    Everything else stays float; nodes of those quantizable types that are excluded or that
//    cannot be quantized (non-constant or non-float weight, unsupported attributes) are
//    listed in QuantizeReport::warnings by name, never silently changed.
//  - Dynamic: MatMul/Gemm with constant weights become DynamicQuantizeLinear -> MatMulInteger
//    -> Cast -> Mul (-> Add bias), the form ONNX Runtime's quantize_dynamic writes; Conv stays
//    float (warned).
//  - Static needs calibration batches (feeds by input name); a batch whose inputs do not
//    match the model (names, dtypes, shapes) is an error naming the input.
//  - fp16/bf16: every float32 initializer and computation becomes 16-bit; graph inputs and
//    outputs stay float32 with Cast nodes at the boundary.
//  - int4-weight: MatMul weights [K, N] quantized block-wise along K (block 32/64/128),
//    symmetric int4 in [-8, 7], stored as int8 initializers holding one value each plus a
//    per-block float scale, expanded by standard ops (see docs/quantization.md); the file
//    size gain is therefore the int8 one until ONNX INT4 (opset 21) is in greenai's schema.
// Thread safety: pure functions of their arguments.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "graph/ir.h"

namespace greenai::compress {

enum class QuantMode { kDynamic, kStatic, kQat, kFp16, kBf16, kInt4Weight };
enum class CalibMethod { kMinMax, kPercentile, kEntropy, kMse };

Result<QuantMode> ParseQuantMode(const std::string& s);
Result<CalibMethod> ParseCalibMethod(const std::string& s);
const char* QuantModeName(QuantMode m);

using Feeds = std::vector<std::pair<std::string, Tensor>>;

struct QuantizeOptions {
  QuantMode mode = QuantMode::kStatic;
  bool per_channel = true;
  bool symmetric_weights = true;       // s8 with zero point 0 (else u8 asymmetric)
  bool symmetric_activations = false;  // zero point 0 (s8) / 128 (u8)
  bool signed_activations = false;     // s8 activations (default u8)
  CalibMethod calibration = CalibMethod::kMinMax;
  double percentile = 99.999;          // for kPercentile, of |x|
  std::set<std::string> exclude_nodes;
  std::set<std::string> exclude_op_types;
  // Only these nodes are quantized when non-empty (used by the sensitivity report).
  std::set<std::string> only_nodes;
  bool bias_correction = false;        // shifts each bias by the mean output error on the calib data
  // Signed weight range: 7 bits ([-64, 63], scale = absmax / 63) by default, so that a
  // u8 x s8 multiply-add without VNNI (vpmaddubsw: ONNX Runtime's AVX2 kernels, oneDNN's
  // int8 primitives, greenai's fast int8 kernels) can never saturate its int16 pair sums
  // (255 * 64 * 2 < 32767). 8 = the full [-128, 127] range (for VNNI machines); the file
  // format and size are the same either way.
  int weight_bits = 7;
  int int4_block = 32;
};

struct QuantizeReport {
  std::vector<std::string> quantized;  // node names
  std::vector<std::string> warnings;   // one line each, naming the node
};

// Activation range of one value.
struct Range {
  float lo = 0, hi = 0;
};

// Runs the model on `batches` and returns the range of every float value named in `values`
// by `method`. Errors: a batch that does not run (wrong names, dtypes or shapes).
Result<std::map<std::string, Range>> CalibrateRanges(const Model& model, const std::vector<std::string>& values,
                                                     const std::vector<Feeds>& batches, CalibMethod method,
                                                     double percentile = 99.999);

// Range chosen from a histogram of |x| (bins of width absmax/num_bins) given the observed
// min/max; exposed for tests.
Range RangeFromHistogram(const std::vector<double>& abs_hist, float min, float max, CalibMethod method,
                         double percentile, int levels);

// The quantization rewrite. `calibration` is required for kStatic (and ignored otherwise).
Result<std::unique_ptr<Model>> Quantize(const Model& model, const QuantizeOptions& opts,
                                        const std::vector<Feeds>& calibration, QuantizeReport* report);

// Names of the nodes Quantize would quantize for `opts` (after the same preprocessing),
// i.e. the candidate layers for a sensitivity report.
Result<std::vector<std::string>> QuantizableNodes(const Model& model, const QuantizeOptions& opts);

// Preprocessing Quantize applies first (valid-ONNX passes only). Exposed for tests.
Result<std::unique_ptr<Model>> PrepareForQuantization(const Model& model);

// Per-tensor / per-channel parameter helpers (exposed for tests).
struct QParams {
  std::vector<float> scale;
  std::vector<int32_t> zero_point;
  bool is_signed = false;
  int bits = 8;  // 7 narrows the stored range to [-64, 63] (signed) / [0, 127] (unsigned)
  float qmin() const { return is_signed ? -static_cast<float>(1 << (bits - 1)) : 0.f; }
  float qmax() const { return is_signed ? static_cast<float>((1 << (bits - 1)) - 1) : static_cast<float>((1 << bits) - 1); }
};
// Activation parameters for [lo, hi] (widened to include 0).
QParams ActivationParams(Range r, bool is_signed, bool symmetric);

}  // namespace greenai::compress
