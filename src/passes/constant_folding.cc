// ConstantFolding: see passes/passes.h for the contract.
//
// Why reference kernels: folding must give the very values the unfolded graph would, on any
// machine; the reference kernels are the project's oracle. Folds that fail (an op without a
// kernel, a kernel error) are skipped, not reported: the node then runs, and fails, at run
// time with its own message.
#include <algorithm>
#include <unordered_set>

#include "backends/cpu/run_node.h"
#include "ops/op_table.h"
#include "ops/shape_inference.h"
#include "passes/passes.h"

namespace greenai {

namespace {

bool IsNondeterministic(const Node& n) {
  static const std::unordered_set<std::string> kOps = {
      "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli"};
  return (n.domain.empty() || n.domain == "ai.onnx") && kOps.count(n.op_type) != 0;
}

bool HasSubgraph(const Node& n) {
  for (const auto& [k, a] : n.attributes)
    if (a.g || !a.graphs.empty()) return true;
  return false;
}

bool IsDefaultDomain(const Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

// Shape/Size of a value whose static shape is fully known, without running anything.
bool FoldStaticShape(Graph& g, const Node& n, int64_t opset) {
  if (!IsDefaultDomain(n) || (n.op_type != "Shape" && n.op_type != "Size")) return false;
  if (!n.HasInput(0) || !n.HasOutput(0)) return false;
  auto it = g.value_types.find(n.inputs[0]);
  if (it == g.value_types.end() || !it->second.IsFullyKnown()) return false;
  const std::vector<int64_t>& dims = it->second.dims;
  const int64_t rank = static_cast<int64_t>(dims.size());
  Tensor out;
  if (n.op_type == "Size") {
    int64_t p = 1;
    for (int64_t d : dims) p *= d;
    out = Tensor::Scalar<int64_t>(p);
  } else {
    int64_t start = opset >= 15 ? n.GetInt("start", 0) : 0;
    int64_t end = opset >= 15 ? n.GetInt("end", rank) : rank;
    if (start < 0) start += rank;
    if (end < 0) end += rank;
    start = std::clamp<int64_t>(start, 0, rank);
    end = std::clamp<int64_t>(end, 0, rank);
    std::vector<int64_t> v;
    for (int64_t i = start; i < end; ++i) v.push_back(dims[static_cast<size_t>(i)]);
    out = Tensor::FromVector<int64_t>({static_cast<int64_t>(v.size())}, v);
  }
  g.value_types[n.outputs[0]] = TensorType::Of(DType::kI64, out.shape());
  g.AddInitializer(n.outputs[0], std::move(out));
  return true;
}

// Runs `n` on its constant inputs; returns false (and changes nothing) when it cannot or
// should not fold.
bool FoldByRunning(Graph& g, const Node& n, int64_t opset) {
  const OpDef* def = OpTable::Get().Find(n.domain, n.op_type);
  if (!def) return false;
  std::vector<Tensor> inputs(n.inputs.size());
  size_t in_bytes = 0;
  InferContext ictx{n, opset, {}, {}};
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    if (n.inputs[i].empty()) {
      ictx.inputs.emplace_back();
      ictx.values.push_back(nullptr);
      continue;
    }
    inputs[i] = *g.FindInitializer(n.inputs[i]);
    in_bytes += inputs[i].nbytes();
    ictx.inputs.push_back(TensorType::Of(inputs[i].dtype(), inputs[i].shape()));
    ictx.values.push_back(&inputs[i]);
  }
  std::vector<TensorType> types;
  if (!InferNodeTypes(*def, ictx, &types).ok()) return false;
  size_t out_bytes = 0;
  for (const auto& t : types) out_bytes += static_cast<size_t>(TypeBytes(t));
  if (out_bytes > in_bytes + kMaxFoldGrowthBytes) return false;
  RunNodeOptions ro;
  ro.reference_only = true;
  ro.nan_prefill = false;
  ro.opset = opset;
  auto outs = RunNode(n, inputs, ro);
  if (!outs.ok()) return false;
  // Data-dependent outputs (NonZero, Unique...) are only sized now: check growth again.
  out_bytes = 0;
  for (const auto& t : *outs) out_bytes += t.defined() ? t.nbytes() : 0;
  if (out_bytes > in_bytes + kMaxFoldGrowthBytes) return false;
  for (size_t i = 0; i < n.outputs.size(); ++i) {
    if (n.outputs[i].empty()) continue;
    Tensor& t = (*outs)[i];
    g.value_types[n.outputs[i]] = TensorType::Of(t.dtype(), t.shape());
    g.AddInitializer(n.outputs[i], std::move(t));
  }
  return true;
}

}  // namespace

Status ConstantFolding::Run(Model& model) {
  folded_ = 0;
  Graph& g = *model.graph;
  GREENAI_RETURN_IF_ERROR(g.TopologicalSort());
  const int64_t default_opset = DefaultOpset(model);
  // Best effort: unknown ops just leave their outputs untyped (no Shape folding after them).
  InferenceReport ignored;
  (void)InferGraphTypes(g, default_opset, /*strict=*/false, &ignored);

  std::unordered_set<const Node*> removed;
  for (const auto& np : g.nodes()) {
    const Node& n = *np;
    if (IsNondeterministic(n) || HasSubgraph(n) || n.outputs.empty()) continue;
    bool feeds_output = false;
    for (const auto& o : n.outputs)
      if (!o.empty() && (g.IsGraphOutput(o) || g.IsInitializer(o))) feeds_output = true;
    if (feeds_output) continue;
    int64_t opset = model.OpsetFor(n.domain);
    if (opset == 0) opset = default_opset;

    bool all_const = true;
    for (const auto& in : n.inputs)
      if (!in.empty() && !IsConstant(g, in)) all_const = false;
    // A source node other than Constant (RandomX, excluded above, or future ops) is not a fold.
    bool has_input = std::any_of(n.inputs.begin(), n.inputs.end(), [](const std::string& s) { return !s.empty(); });
    bool done = false;
    if (all_const && (has_input || (IsDefaultDomain(n) && n.op_type == "Constant")))
      done = FoldByRunning(g, n, opset);
    if (!done) done = FoldStaticShape(g, n, opset);
    if (done) {
      removed.insert(&n);
      ++folded_;
    }
  }
  g.RemoveNodesIf([&](const Node& n) { return removed.count(&n) != 0; });
  return Status::Ok();
}

}  // namespace greenai
