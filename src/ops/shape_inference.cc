#include "ops/shape_inference.h"

#include <unordered_map>

#include "ops/layout.h"

namespace greenai {

InferContext MakeStaticInferContext(const Graph& graph, const Node& node, int64_t opset,
                                    const std::unordered_map<std::string, const Tensor*>& constants) {
  InferContext ctx{node, opset, {}, {}};
  for (const auto& in : node.inputs) {
    if (in.empty()) {
      ctx.inputs.emplace_back();
      ctx.values.push_back(nullptr);
      continue;
    }
    const Tensor* value = graph.FindInitializer(in);
    // A graph input that shadows an initializer may be overridden at run time: not constant.
    if (value && graph.IsGraphInput(in)) value = nullptr;
    if (!value) {
      auto c = constants.find(in);
      if (c != constants.end()) value = c->second;
    }
    if (const Tensor* init = graph.FindInitializer(in)) {
      ctx.inputs.push_back(TensorType::Of(init->dtype(), init->shape()));
    } else {
      auto it = graph.value_types.find(in);
      ctx.inputs.push_back(it != graph.value_types.end() ? it->second : TensorType{});
      if (ctx.inputs.back().dtype == DType::kUndefined) ctx.inputs.back().dtype = DType::kUndefined;
    }
    ctx.values.push_back(value);
  }
  return ctx;
}

Status InferGraphTypes(Graph& graph, int64_t opset, bool strict, InferenceReport* report) {
  for (const auto& in : graph.inputs)
    if (!graph.value_types.count(in.name) || graph.value_types[in.name].dtype == DType::kUndefined)
      graph.value_types[in.name] = in.type;
  std::unordered_map<std::string, const Tensor*> constants;
  for (const auto& np : graph.nodes()) {
    const Node& node = *np;
    if (node.op_type == "Constant" && node.domain.empty() && !node.outputs.empty()) {
      if (const Tensor* t = node.GetTensor("value")) constants[node.outputs[0]] = t;
    }
    const OpDef* def = OpTable::Get().Find(node.domain, node.op_type);
    Status st;
    std::vector<TensorType> outs;
    if (!def) {
      st = Unimplemented("{}: op '{}' is not supported by greenai", node.Describe(), node.op_type);
    } else {
      InferContext ctx = MakeStaticInferContext(graph, node, opset, constants);
      // An input whose type is entirely unknown (e.g. after an upstream failure) makes
      // inference meaningless; report it once at the first node it reaches.
      for (size_t i = 0; i < ctx.inputs.size() && st.ok(); ++i)
        if (!node.inputs[i].empty() && ctx.inputs[i].dtype == DType::kUndefined)
          st = InvalidArgument("{}: type of input '{}' is unknown", node.Describe(), node.inputs[i]);
      if (st.ok()) st = InferNodeTypesLaidOut(*def, ctx, &outs);
    }
    if (!st.ok()) {
      if (strict) return st;
      if (report) report->errors.push_back(st.message());
      continue;
    }
    for (size_t i = 0; i < outs.size(); ++i) {
      if (node.outputs[i].empty()) continue;
      TensorType& slot = graph.value_types[node.outputs[i]];
      // Keep declared symbolic names where the inferred dim is unknown.
      if (slot.has_shape && outs[i].has_shape && slot.dims.size() == outs[i].dims.size()) {
        for (size_t d = 0; d < outs[i].dims.size(); ++d)
          if (outs[i].dims[d] < 0 && slot.dims[d] >= 0) outs[i].dims[d] = slot.dims[d];
        if (outs[i].dim_params.empty()) outs[i].dim_params = slot.dim_params;
      }
      slot = outs[i];
    }
  }
  return Status::Ok();
}

}  // namespace greenai
