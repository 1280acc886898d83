// Quantization-aware training (QAT) support.
//
//   auto fq = InsertFakeQuant(model, opts, calib, &rep);  // trainable float graph
//   ... train fq with train::Trainer (params: TrainableParams of the float model) ...
//   auto qdq = FakeQuantToQdq(trained);                   // standard QDQ ONNX
//
// InsertFakeQuant places the same quantization points as static Quantize (same calibration,
// scales, zero points), but every QuantizeLinear -> DequantizeLinear pair is written as the
// float chain (Clip(Round(x / s) + z, qmin, qmax) - z) * s: the same numbers (Round is
// half-to-even like QuantizeLinear), yet trainable, since ops/gradients_quant.cc gives Round
// a straight-through gradient and Clip a masked one (clipped STE). Weights stay float
// initializers with their original names; biases stay float. Scales are fixed (not learned).
//
// FakeQuantToQdq turns every chain (its Div carries doc_string kFakeQuantTag) back into
// QuantizeLinear/DequantizeLinear; weights are stored int8 with the chain's per-channel
// scales, biases of quantized layers become int32 with scale s_x * s_w.
// Thread safety: pure functions.
#pragma once

#include "compress/quantize/quantize.h"

namespace greenai::compress {

inline constexpr char kFakeQuantTag[] = "greenai:fake_quant";

Result<std::unique_ptr<Model>> InsertFakeQuant(const Model& model, const QuantizeOptions& opts,
                                               const std::vector<Feeds>& calibration, QuantizeReport* report);
Result<std::unique_ptr<Model>> FakeQuantToQdq(const Model& model);

}  // namespace greenai::compress
