// Executor: the planned, runnable form of one Graph (the top-level graph of a Session, or a
// control-flow subgraph). Internal to the runtime; Session is the public face.
//
// Plan (Create): value slots for every name; initializers bound once; per node the OpDef,
// the opset and one kernel chosen from the registry; last-use positions for liveness.
// Run: binds inputs, infers output shapes per node (cached while input shapes and small
// integer inputs stay the same), takes intermediate buffers from a pool that returns a
// buffer after the value's last consumer, and runs kernels. Reshape, Flatten, Squeeze,
// Unsqueeze and Identity run as views: the output shares the input's buffer (which then lives
// until the last use of either), except when the output is a graph output. Graph outputs are freshly
// owned tensors (never pool memory), so results survive later runs. A kernel naming an
// in-place input (Kernel::InPlaceInput) gets output 0 in that input's pool buffer when the
// input dies at that node.
// Thread safety: one Run at a time.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "backends/cpu/kernel.h"
#include "graph/ir.h"
#include "ops/op_table.h"
#include "runtime/session.h"

namespace greenai {

class Executor : public SubgraphRunner {
 public:
  // `outer` resolves names from enclosing scopes (nullptr at top level). `graph` must
  // outlive the executor and be topologically sorted with value_types inferred.
  static Result<std::unique_ptr<Executor>> Create(const Graph& graph, const Model& model,
                                                  const SessionOptions& opts, ThreadPool* pool,
                                                  const Executor* outer);
  ~Executor() override;

  // Real inputs (graph inputs that are not initializers, or that may override one).
  const std::vector<ValueInfo>& inputs() const { return inputs_; }
  // Binds positional inputs (same order as inputs_, undefined = use initializer default).
  Result<std::vector<Tensor>> Run(const std::vector<Tensor>& inputs);

  Result<std::vector<Tensor>> RunSubgraph(const Graph& graph, const std::vector<Tensor>& inputs) override;

  // Current value of `name` in this scope or an enclosing one (nullptr if none).
  const Tensor* Lookup(const std::string& name) const;

  std::string_view kernel_name(size_t i) const;
  void set_profiler(ProfilerHook* p) { opts_.profiler = p; }

 private:
  struct Step;
  struct Block {
    std::shared_ptr<void> mem;
    size_t capacity = 0;
  };
  Executor() = default;
  Status RunStep(Step& step, size_t index);
  Result<Tensor> Acquire(const TensorType& type, int slot);
  void Release(int slot);
  // Hands output slot `to` the pool buffer of input slot `from` (Step::inplace_slot) when that
  // value has exactly `type`; false (nothing changed) otherwise.
  bool TakeInPlace(const TensorType& type, int from, int to);

  const Graph* graph_ = nullptr;
  const Model* model_ = nullptr;
  SessionOptions opts_;
  ThreadPool* pool_ = nullptr;
  const Executor* outer_ = nullptr;
  std::vector<ValueInfo> inputs_;
  std::vector<int> input_slots_;
  std::vector<int> output_slots_;
  std::unordered_map<std::string, int> slot_of_;
  std::vector<std::string> slot_names_;
  std::vector<Tensor> values_;        // current value per slot
  std::vector<Tensor> const_values_;  // initializer per slot (undefined otherwise)
  std::vector<bool> is_outer_;        // slot resolved from an enclosing scope
  std::vector<bool> is_graph_output_;
  std::vector<Block> slot_block_;     // pool block held by the slot's value
  std::vector<Block> free_blocks_;
  std::vector<std::unique_ptr<Step>> steps_;
  std::unordered_map<const Graph*, std::unique_ptr<Executor>> sub_executors_;
};

}  // namespace greenai
