#include "ops/op_table.h"

#include <algorithm>

namespace greenai {

// Runtime-internal weight-only ops, domain ai.greenai (ops/weight_only.cc); declared here rather
// than in op_table.h so adding the family does not rebuild everything that reads the table.
void AddWeightOnlyOps(std::vector<OpDef>& ops);
// Same reason: the fused integer GEMM ai.greenai QGemm (ops/qgemm.cc).
void AddQGemmOps(std::vector<OpDef>& ops);

namespace {
std::string_view NormDomain(std::string_view d) { return d == "ai.onnx" ? std::string_view() : d; }
}

OpTable::OpTable() {
  AddElementwiseOps(ops_);
  AddReduceOps(ops_);
  AddTensorOps(ops_);
  AddNnOps(ops_);
  AddQuantOps(ops_);
  AddControlOps(ops_);
  AddMiscOps(ops_);
  AddTrainingOps(ops_);
  AddWeightOnlyOps(ops_);
  AddQGemmOps(ops_);
}

const OpTable& OpTable::Get() {
  static const OpTable table;
  return table;
}

const OpDef* OpTable::Find(std::string_view domain, std::string_view op_type) const {
  domain = NormDomain(domain);
  for (const auto& d : ops_)
    if (d.name == op_type && NormDomain(d.domain) == domain) return &d;
  return nullptr;
}

Status InferNodeTypes(const OpDef& def, const InferContext& ctx, std::vector<TensorType>* outputs) {
  const Node& n = ctx.node;
  // Opset first: an old opset's signature may differ (e.g. Scan-8's leading sequence_lens).
  if (ctx.opset != 0 && ctx.opset < def.since_version)
    return Unimplemented("{}: opset {} is older than the oldest supported ({})", n.Describe(), ctx.opset,
                         def.since_version);
  int nin = static_cast<int>(n.inputs.size());
  // Trailing omitted inputs do not count.
  while (nin > 0 && n.inputs[static_cast<size_t>(nin) - 1].empty()) --nin;
  if (nin < def.min_inputs || (def.max_inputs >= 0 && nin > def.max_inputs)) {
    if (def.max_inputs < 0)
      return InvalidArgument("{}: has {} inputs, expects at least {}", n.Describe(), nin, def.min_inputs);
    return InvalidArgument("{}: has {} inputs, expects {}..{}", n.Describe(), nin, def.min_inputs, def.max_inputs);
  }
  for (int i = 0; i < def.min_inputs && i < nin; ++i)
    if (n.inputs[static_cast<size_t>(i)].empty())
      return InvalidArgument("{}: required input {} is missing", n.Describe(), i);
  int nout = static_cast<int>(n.outputs.size());
  if (nout < def.min_outputs || (def.max_outputs >= 0 && nout > def.max_outputs))
    return InvalidArgument("{}: has {} outputs, expects {}..{}", n.Describe(), nout, def.min_outputs,
                           def.max_outputs);
  outputs->assign(n.outputs.size(), TensorType{});
  GREENAI_RETURN_IF_ERROR(def.infer(ctx, outputs));
  if (outputs->size() != n.outputs.size())
    return Internal("{}: shape inference produced {} outputs for {}", n.Describe(), outputs->size(),
                    n.outputs.size());
  return Status::Ok();
}

double TypeElements(const TensorType& t) {
  if (!t.IsFullyKnown()) return 0;
  double n = 1;
  for (int64_t d : t.dims) n *= static_cast<double>(d);
  return n;
}

double TypeBytes(const TensorType& t) {
  return TypeElements(t) * static_cast<double>(t.dtype == DType::kString ? 0 : DTypeSize(t.dtype));
}

OpCost DefaultCost(const InferContext& ctx, const std::vector<TensorType>& outputs) {
  OpCost c;
  for (const auto& in : ctx.inputs) c.bytes_read += TypeBytes(in);
  for (const auto& o : outputs) {
    c.bytes_written += TypeBytes(o);
    c.flops += TypeElements(o);
  }
  return c;
}

OpCost NodeCost(const OpDef& def, const InferContext& ctx, const std::vector<TensorType>& outputs) {
  return def.cost ? def.cost(ctx, outputs) : DefaultCost(ctx, outputs);
}

}  // namespace greenai
