// Gradient rules that make fake quantization trainable (quantization-aware training):
//
//   fake_quant(x) = (Clip(Round(x / s) + z, qmin, qmax) - z) * s
//
// is how compress/quantize/qat.h writes a QuantizeLinear -> DequantizeLinear pair in the
// training graph (float ops only, because autodiff sends gradients through float values
// only, and QuantizeLinear's output is an integer). With these rules its gradient is the
// clipped straight-through estimator: 1 where x / s + z falls inside [qmin, qmax], else 0.
//
//  - Round: straight-through, dx = dy (the true derivative is 0 almost everywhere).
//  - Clip: dx = dy where min <= x <= max, else 0 (the bounds get no gradient).
// See gradients.h for the GradFn contract.
#include "ops/gradients.h"

namespace greenai {

namespace {

Status RoundGrad(GradContext& c, std::vector<std::string>* dx) {
  (*dx)[0] = c.b.Emit("Identity", {c.dy[0]}, {}, "grad_round_ste");
  return Status::Ok();
}

Status ClipGrad(GradContext& c, std::vector<std::string>* dx) {
  const DType t = c.input_types.empty() ? DType::kF32 : c.input_types[0].dtype;
  const std::string zero = c.b.ScalarConst(t, 0.0);
  const std::string& x = c.node.inputs[0];
  std::string g = c.dy[0];
  // Opset < 11 carries the bounds as attributes; later opsets as optional inputs.
  std::string lo = c.node.HasInput(1) ? c.node.inputs[1] : "";
  std::string hi = c.node.HasInput(2) ? c.node.inputs[2] : "";
  if (c.node.HasAttr("min")) lo = c.b.ScalarConst(t, c.node.GetFloat("min", 0.f));
  if (c.node.HasAttr("max")) hi = c.b.ScalarConst(t, c.node.GetFloat("max", 0.f));
  if (!lo.empty()) g = c.b.Emit("Where", {c.b.Emit("Less", {x, lo}), zero, g}, {}, "grad_clip_lo");
  if (!hi.empty()) g = c.b.Emit("Where", {c.b.Emit("Greater", {x, hi}), zero, g}, {}, "grad_clip_hi");
  (*dx)[0] = g == c.dy[0] ? c.b.Emit("Identity", {g}) : g;
  return Status::Ok();
}

}  // namespace

void AddQuantGradients(std::vector<std::pair<std::string_view, GradFn>>& rules) {
  rules.emplace_back("Round", RoundGrad);
  rules.emplace_back("Clip", ClipGrad);
}

}  // namespace greenai
