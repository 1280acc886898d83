// The op table: the one place that knows each operator's contract.
//
// For every supported (domain, op_type): arity, lowest supported opset, a shape/type
// inference function and a cost function (FLOPs, MACs, bytes). Shape inference, the
// runtime planner, the cost model (analyze), and passes all read this table; nothing
// else keeps its own switch over op names. Kernels live in backends/ and are registered
// by op name in their own registries (see backends/cpu/kernel.h).
//
// Adding an op: add an OpDef to the family file (ops/<family>.cc), its reference kernel
// in backends/cpu/ref_<family>.cc, and a test. Nothing else.
//
// Inference contract (InferFn):
//  - ctx.inputs[i] is the static type of input i (dtype kUndefined if the input is omitted).
//  - ctx.values[i] is the input's value when known (initializer, Constant, or at run time
//    every input), else nullptr. Ops whose output shape depends on an input *value*
//    (Reshape, Expand, Range, ...) use it; when absent they produce unknown dims (-1) or
//    has_shape=false.
//  - On bad input return InvalidArgument naming the node (ctx.node.Describe()), the bad
//    value and the rule. Never crash, never allocate huge buffers.
//  - At run time (all values known) an output whose shape is still not fully known is
//    allocated by the kernel itself (data-dependent ops like NonZero).
// Thread safety: the table is immutable after first use; lookups are thread safe.
#pragma once

#include <string_view>
#include <vector>

#include "core/status.h"
#include "graph/ir.h"

namespace greenai {

struct InferContext {
  const Node& node;
  int64_t opset = 0;                  // opset version of the node's domain
  std::vector<TensorType> inputs;     // size == node.inputs.size()
  std::vector<const Tensor*> values;  // same size; nullptr when not known

  bool Has(size_t i) const { return i < inputs.size() && inputs[i].dtype != DType::kUndefined; }
  const Tensor* Value(size_t i) const { return i < values.size() ? values[i] : nullptr; }
  size_t num_inputs() const { return inputs.size(); }
};

using InferFn = Status (*)(const InferContext& ctx, std::vector<TensorType>* outputs);

// Cost of one execution of a node. MACs count multiply-accumulates (a MatMul of
// [M,K]x[K,N] is M*N*K MACs = 2*M*N*K FLOPs). Bytes are what an ideal kernel moves:
// every input read once and every output written once.
struct OpCost {
  double macs = 0;
  double flops = 0;
  double bytes_read = 0;
  double bytes_written = 0;
};
using CostFn = OpCost (*)(const InferContext& ctx, const std::vector<TensorType>& outputs);

struct OpDef {
  std::string_view name;
  std::string_view domain;  // "" = ai.onnx
  int since_version = 1;    // lowest opset greenai supports for this op
  int min_inputs = 0;
  int max_inputs = 0;       // -1 = variadic
  int min_outputs = 1;
  int max_outputs = 1;
  InferFn infer = nullptr;
  CostFn cost = nullptr;    // nullptr: DefaultCost (one FLOP per output element, bytes = in + out)
};

class OpTable {
 public:
  static const OpTable& Get();
  // domain "" and "ai.onnx" are the same. nullptr when not supported.
  const OpDef* Find(std::string_view domain, std::string_view op_type) const;
  const std::vector<OpDef>& all() const { return ops_; }

 private:
  OpTable();
  std::vector<OpDef> ops_;
};

// Checks arity and opset against the OpDef, then runs its InferFn. Errors name the node.
Status InferNodeTypes(const OpDef& def, const InferContext& ctx, std::vector<TensorType>* outputs);
// Cost via def.cost or DefaultCost.
OpCost NodeCost(const OpDef& def, const InferContext& ctx, const std::vector<TensorType>& outputs);
OpCost DefaultCost(const InferContext& ctx, const std::vector<TensorType>& outputs);

// Bytes of a fully known type (0 when unknown).
double TypeBytes(const TensorType& t);
double TypeElements(const TensorType& t);

// Family registration (one function per ops/<family>.cc); called once by OpTable().
void AddElementwiseOps(std::vector<OpDef>& ops);
void AddReduceOps(std::vector<OpDef>& ops);
void AddTensorOps(std::vector<OpDef>& ops);
void AddNnOps(std::vector<OpDef>& ops);
void AddQuantOps(std::vector<OpDef>& ops);
void AddControlOps(std::vector<OpDef>& ops);
void AddMiscOps(std::vector<OpDef>& ops);  // Einsum, LRN, RNN/GRU/LSTM and other less common ops
void AddTrainingOps(std::vector<OpDef>& ops);  // domain ai.greenai.training (ops/training.cc)

}  // namespace greenai
