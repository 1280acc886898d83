// Cost model: see analyze/cost_model.h.
#include "analyze/cost_model.h"

#include <unordered_map>
#include <unordered_set>

#include "ops/op_table.h"
#include "ops/shape_inference.h"

namespace greenai::analyze {

namespace {

bool IsDynamic(const TensorType& t, size_t d) {
  return t.dims[d] < 0 || (d < t.dim_params.size() && !t.dim_params[d].empty());
}

// Fixes dim 0 (and every dim sharing its symbolic name) to `batch`. True if anything changed.
bool SubstituteBatch(TensorType& t, int64_t batch) {
  if (!t.has_shape || t.dims.empty() || !IsDynamic(t, 0)) return false;
  const std::string param = t.dim_params.empty() ? "" : t.dim_params[0];
  for (size_t d = 0; d < t.dims.size(); ++d) {
    const bool same_name = !param.empty() && d < t.dim_params.size() && t.dim_params[d] == param;
    if (d == 0 || same_name) {
      t.dims[d] = batch;
      if (d < t.dim_params.size()) t.dim_params[d].clear();
    }
  }
  return true;
}

bool IsParameter(const Tensor& t) { return t.dtype() != DType::kI64 && t.dtype() != DType::kString; }

}  // namespace

Result<ModelCostReport> AnalyzeModel(const Model& model, const AnalyzeOptions& options) {
  if (options.batch < 1) return InvalidArgument("analyze: batch {} must be >= 1", options.batch);
  if (!model.graph) return InvalidArgument("analyze: model has no graph");
  std::unique_ptr<Model> clone = model.Clone();
  Graph& g = *clone->graph;
  GREENAI_RETURN_IF_ERROR(g.TopologicalSort());

  ModelCostReport rep;
  rep.batch = options.batch;
  std::unordered_set<std::string> batch_names;
  for (auto& in : g.inputs) {
    if (g.IsInitializer(in.name)) continue;
    if (!in.type.dim_params.empty() && !in.type.dim_params[0].empty()) batch_names.insert(in.type.dim_params[0]);
    if (SubstituteBatch(in.type, options.batch)) rep.batch_substituted = true;
    g.value_types[in.name] = in.type;
  }
  // Declared value_info keeps helping where inference cannot (it fills unknown dims), so keep
  // it, with the batch fixed wherever it is named.
  for (auto& [name, t] : g.value_types)
    for (size_t d = 0; d < t.dims.size() && d < t.dim_params.size(); ++d)
      if (batch_names.count(t.dim_params[d])) {
        t.dims[d] = options.batch;
        t.dim_params[d].clear();
      }

  const int64_t opset = clone->OpsetFor("");
  InferenceReport inference;
  GREENAI_RETURN_IF_ERROR(InferGraphTypes(g, opset, /*strict=*/false, &inference));
  rep.inference_errors = inference.errors;

  std::unordered_map<std::string, const Tensor*> constants;
  std::unordered_set<std::string> counted_params;
  size_t index = 0;
  for (const auto& np : g.nodes()) {
    const Node& node = *np;
    if (node.op_type == "Constant" && node.domain.empty() && !node.outputs.empty())
      if (const Tensor* t = node.GetTensor("value")) constants[node.outputs[0]] = t;

    NodeCostReport nr;
    nr.name = node.name.empty() ? node.op_type + "#" + std::to_string(index) : node.name;
    ++index;
    nr.op_type = node.op_type;
    nr.domain = node.domain;

    for (const auto& in : node.inputs) {
      if (in.empty()) continue;
      const Tensor* t = g.FindInitializer(in);
      if (!t || !IsParameter(*t)) continue;
      nr.params += static_cast<double>(t->numel());
      nr.param_bytes += static_cast<double>(t->nbytes());
      if (counted_params.insert(in).second) {
        rep.params += static_cast<double>(t->numel());
        rep.param_bytes += static_cast<double>(t->nbytes());
      }
    }

    // Re-run this node's inference on the now-typed graph: it tells exactly which node
    // failed and guards the cost function (which assumes a node that passed inference).
    const OpDef* def = OpTable::Get().Find(node.domain, node.op_type);
    Status st;
    std::vector<TensorType> outs;
    InferContext ctx = MakeStaticInferContext(g, node, opset, constants);
    if (!def) {
      st = Unimplemented("{}: op '{}' is not supported by greenai", node.Describe(), node.op_type);
    } else {
      for (size_t i = 0; i < ctx.inputs.size() && st.ok(); ++i)
        if (!node.inputs[i].empty() && ctx.inputs[i].dtype == DType::kUndefined)
          st = InvalidArgument("{}: type of input '{}' is unknown", node.Describe(), node.inputs[i]);
      if (st.ok()) st = InferNodeTypes(*def, ctx, &outs);
    }
    if (!ctx.inputs.empty()) nr.compute_dtype = ctx.inputs[0].dtype;
    if (!st.ok()) {
      nr.known = false;
      nr.error = st.message();
      rep.nodes.push_back(std::move(nr));
      continue;
    }
    const OpCost c = NodeCost(*def, ctx, outs);
    nr.macs = c.macs;
    nr.flops = c.flops;
    nr.bytes_read = c.bytes_read;
    nr.bytes_written = c.bytes_written;
    if (!outs.empty()) nr.output = outs[0];
    for (const auto& o : outs) nr.known = nr.known && o.IsFullyKnown();
    for (size_t i = 0; i < outs.size() && i < node.outputs.size(); ++i)
      if (!node.outputs[i].empty()) rep.activation_bytes += TypeBytes(outs[i]);

    rep.macs += nr.macs;
    rep.flops += nr.flops;
    rep.bytes_read += nr.bytes_read;
    rep.bytes_written += nr.bytes_written;
    rep.nodes.push_back(std::move(nr));
  }
  for (const auto& in : g.inputs)
    if (!g.IsInitializer(in.name)) rep.activation_bytes += TypeBytes(in.type);
  return rep;
}

}  // namespace greenai::analyze
