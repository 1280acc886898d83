// RNN, GRU and LSTM OpDefs and their shared shape checks.
#include "ops/misc_rnn.h"

#include "ops/misc_internal.h"

namespace greenai::rnn {

Kind KindOf(const std::string& op_type) {
  if (op_type == "GRU") return Kind::kGru;
  if (op_type == "LSTM") return Kind::kLstm;
  return Kind::kRnn;
}

Result<Dims> Check(const Node& node, const std::vector<int64_t>& x, const std::vector<int64_t>& w,
                   const std::vector<int64_t>& r) {
  Dims d;
  d.kind = KindOf(node.op_type);
  d.gates = d.kind == Kind::kRnn ? 1 : d.kind == Kind::kGru ? 3 : 4;
  d.num_activations = d.kind == Kind::kRnn ? 1 : d.kind == Kind::kGru ? 2 : 3;
  d.direction = node.GetString("direction", "forward");
  if (d.direction != "forward" && d.direction != "reverse" && d.direction != "bidirectional")
    return InvalidArgument("{}: direction '{}' is not forward, reverse or bidirectional", node.Describe(),
                           d.direction);
  d.dirs = d.direction == "bidirectional" ? 2 : 1;
  const int64_t layout = node.GetInt("layout", 0);
  if (layout != 0 && layout != 1) return InvalidArgument("{}: layout is {}, expects 0 or 1", node.Describe(), layout);
  d.batch_first = layout == 1;
  if (x.size() != 3 || w.size() != 3 || r.size() != 3)
    return InvalidArgument("{}: X, W and R must be 3-D (ranks are {}, {}, {})", node.Describe(), x.size(), w.size(),
                           r.size());
  d.seq = d.batch_first ? x[1] : x[0];
  d.batch = d.batch_first ? x[0] : x[1];
  d.input = x[2];
  const int64_t attr_h = node.GetInt("hidden_size", -1);
  d.hidden = attr_h > 0 ? attr_h : (r[2] >= 0 ? r[2] : (w[1] >= 0 ? w[1] / d.gates : -1));
  auto expect = [&](const char* what, int64_t got, int64_t want) -> Status {
    if (got >= 0 && want >= 0 && got != want)
      return InvalidArgument("{}: {} is {} but expects {} (direction {}, hidden_size {}, {} gates)", node.Describe(),
                             what, got, want, d.direction, d.hidden, d.gates);
    return Status::Ok();
  };
  GREENAI_RETURN_IF_ERROR(expect("W.shape[0]", w[0], d.dirs));
  GREENAI_RETURN_IF_ERROR(expect("R.shape[0]", r[0], d.dirs));
  GREENAI_RETURN_IF_ERROR(expect("W.shape[1]", w[1], d.hidden < 0 ? -1 : d.gates * d.hidden));
  GREENAI_RETURN_IF_ERROR(expect("R.shape[1]", r[1], d.hidden < 0 ? -1 : d.gates * d.hidden));
  GREENAI_RETURN_IF_ERROR(expect("R.shape[2]", r[2], d.hidden));
  GREENAI_RETURN_IF_ERROR(expect("W.shape[2]", w[2], d.input));
  const auto acts = node.GetStrings("activations");
  if (!acts.empty() && static_cast<int64_t>(acts.size()) != d.num_activations * d.dirs)
    return InvalidArgument("{}: activations lists {} functions, expects {} ({} per direction)", node.Describe(),
                           acts.size(), d.num_activations * d.dirs, d.num_activations);
  return d;
}

}  // namespace greenai::rnn

namespace greenai::misc {
namespace {

Status InferRnn(const InferContext& ctx, std::vector<TensorType>* out) {
  const DType t = ctx.inputs[0].dtype;
  if (t != DType::kF32 && t != DType::kF64)
    return InvalidArgument("{}: X has dtype {}, expects float32 or float64", ctx.node.Describe(), DTypeName(t));
  for (size_t i = 1; i < 3; ++i)
    if (ctx.inputs[i].dtype != t)
      return InvalidArgument("{}: input {} has dtype {} but X has {} (must match)", ctx.node.Describe(), i,
                             DTypeName(ctx.inputs[i].dtype), DTypeName(t));
  for (auto& o : *out) o.dtype = t;
  const auto& x = ctx.inputs[0];
  const auto& w = ctx.inputs[1];
  const auto& r = ctx.inputs[2];
  if (!x.has_shape || !w.has_shape || !r.has_shape) return Status::Ok();
  GREENAI_ASSIGN_OR_RETURN(rnn::Dims d, rnn::Check(ctx.node, x.dims, w.dims, r.dims));
  if (ctx.Has(4) && ctx.inputs[4].dtype != DType::kI32)
    return InvalidArgument("{}: sequence_lens has dtype {}, expects int32", ctx.node.Describe(),
                           DTypeName(ctx.inputs[4].dtype));
  const std::vector<int64_t> y = d.batch_first ? std::vector<int64_t>{d.batch, d.seq, d.dirs, d.hidden}
                                               : std::vector<int64_t>{d.seq, d.dirs, d.batch, d.hidden};
  const std::vector<int64_t> yh = d.batch_first ? std::vector<int64_t>{d.batch, d.dirs, d.hidden}
                                                : std::vector<int64_t>{d.dirs, d.batch, d.hidden};
  (*out)[0] = TensorType::Of(t, y);
  for (size_t i = 1; i < out->size(); ++i) (*out)[i] = TensorType::Of(t, yh);
  return Status::Ok();
}

// seq * batch * dirs * gates * hidden * (input + hidden) MACs for the two matmuls per step,
// plus ~10 elementwise FLOPs per gate value (bias, activation, state update).
OpCost RnnCost(const InferContext& ctx, const std::vector<TensorType>& outs) {
  OpCost c = DefaultCost(ctx, outs);
  const auto& x = ctx.inputs[0];
  const auto& w = ctx.inputs[1];
  const auto& r = ctx.inputs[2];
  if (!x.IsFullyKnown() || !w.IsFullyKnown() || !r.IsFullyKnown()) return c;
  const double steps = static_cast<double>(x.dims[0] * x.dims[1]);
  const double gate_vals = static_cast<double>(w.dims[0] * w.dims[1]);
  c.macs = steps * gate_vals * static_cast<double>(w.dims[2] + r.dims[2]);
  c.flops = 2 * c.macs + 10 * steps * gate_vals;
  return c;
}

}  // namespace

void AddRnnOps(std::vector<OpDef>& ops) {
  ops.push_back({"RNN", "", 7, 3, 6, 0, 2, InferRnn, RnnCost});
  ops.push_back({"GRU", "", 7, 3, 6, 0, 2, InferRnn, RnnCost});
  ops.push_back({"LSTM", "", 7, 3, 8, 0, 3, InferRnn, RnnCost});
}

}  // namespace greenai::misc
