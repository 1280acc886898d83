// CPU kernel interface and registry.
//
// A kernel is created once per node at plan time by a KernelFactory, which parses the
// node's attributes and may specialize on static input types/shapes and constant inputs.
// Run() then does no string lookups.
//
// Contract:
//  - Kernels never allocate their outputs: the runtime infers output shapes from the op
//    table and hands pre-sized tensors in ctx.outputs. Exception: an output whose shape is
//    still unknown after inference with all input values (data-dependent ops such as
//    NonZero) arrives undefined (!defined()) and the kernel assigns it with Tensor::Create.
//  - ctx.inputs[i] / ctx.outputs[i] are nullptr for omitted optional inputs/outputs.
//  - Output buffers may hold garbage (e.g. NaN prefill in tests); kernels write every element.
//  - Outputs never alias inputs, except where a kernel's InPlaceInput() names input k: the
//    runtime may then hand output 0 in input k's buffer (same dtype and size; input k is not
//    read after this node), and the kernel must give the same results either way.
//  - Run() may be called many times with different input shapes (dynamic shapes); kernels
//    that cache shape-specific state must re-check it.
//  - Thread safety: one Run() at a time per Kernel object; kernels may use ctx.pool.
//
// Registry: several kernels may be registered for one op; CreateKernel tries them from
// highest priority down, and a factory that returns Unimplemented declines (the next is
// tried). The reference kernel of every op has priority 0 and is the test oracle;
// optimized kernels (oneDNN, AVX2/AVX-512) use higher priorities.
// Kernel names follow "<dtype>_<op>__<impl>", e.g. "f32_conv__onednn", "any_add__ref".
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "core/thread_pool.h"
#include "graph/ir.h"

namespace greenai {

// Implemented by the runtime so control-flow kernels (If, Loop, Scan) can run subgraphs.
class SubgraphRunner {
 public:
  virtual ~SubgraphRunner() = default;
  // Runs `graph` with `inputs` bound to graph.inputs in order; outer-scope values visible
  // to the calling node are resolved by the runner. Returns the graph outputs in order.
  virtual Result<std::vector<Tensor>> RunSubgraph(const Graph& graph, const std::vector<Tensor>& inputs) = 0;
};

struct KernelContext {
  std::vector<const Tensor*> inputs;
  std::vector<Tensor*> outputs;
  ThreadPool* pool = nullptr;            // never null when called by the runtime
  SubgraphRunner* subgraphs = nullptr;   // set for nodes with graph attributes
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  virtual Status Run(KernelContext& ctx) = 0;
  // The input whose buffer output 0 may share (see the contract above); -1: none.
  virtual int InPlaceInput() const { return -1; }
};

struct KernelInfo {
  const Node& node;
  int64_t opset = 0;
  std::vector<TensorType> input_types;     // static types (may be partially unknown)
  std::vector<const Tensor*> const_inputs; // values known at plan time, else nullptr
  std::vector<TensorType> output_types;
  int num_threads = 1;
};

using KernelFactory = Result<std::unique_ptr<Kernel>> (*)(const KernelInfo& info);

struct KernelDef {
  std::string_view op;
  std::string_view domain;  // "" = ai.onnx
  std::string_view name;    // "f32_conv__onednn"
  int priority = 0;         // 0 = reference
  KernelFactory create = nullptr;
};

class KernelRegistry {
 public:
  static const KernelRegistry& Get();
  // Kernels for op, highest priority first.
  std::vector<const KernelDef*> Candidates(std::string_view domain, std::string_view op) const;
  const std::vector<KernelDef>& all() const { return defs_; }

 private:
  KernelRegistry();
  std::vector<KernelDef> defs_;
};

struct CreatedKernel {
  std::unique_ptr<Kernel> kernel;
  std::string_view name;
};

// Picks the best kernel whose factory accepts `info`. reference_only: only priority 0.
Result<CreatedKernel> CreateKernel(const KernelInfo& info, bool reference_only);

// A kernel from a lambda: for simple stateless ops.
template <typename F>
class LambdaKernel : public Kernel {
 public:
  explicit LambdaKernel(F f) : f_(std::move(f)) {}
  Status Run(KernelContext& ctx) override { return f_(ctx); }
 private:
  F f_;
};
template <typename F>
std::unique_ptr<Kernel> MakeLambdaKernel(F f) {
  return std::make_unique<LambdaKernel<F>>(std::move(f));
}

// Like MakeLambdaKernel, for kernels that write only into planned outputs: refuses (Internal)
// rather than write through an unallocated output when the runtime could not size one.
template <typename F>
std::unique_ptr<Kernel> MakePlannedOutputKernel(F f) {
  auto checked = [f = std::move(f)](KernelContext& ctx) mutable -> Status {
    for (size_t i = 0; i < ctx.outputs.size(); ++i)
      if (ctx.outputs[i] && !ctx.outputs[i]->defined())
        return Internal("kernel: output {} was not allocated (its shape is unknown)", i);
    return f(ctx);
  };
  return MakeLambdaKernel(std::move(checked));
}

// Caps, on the calling thread, the threads of OpenMP-based kernels (oneDNN) for work that a
// kernel does not size itself (plan-time weight reorders). Executors call it with their
// thread count before running kernels: an uncapped reorder starts an OpenMP team as large as
// the machine, whose idle worker is then woken (and spins) at every later parallel region,
// even in a 1-thread session. No-op without OpenMP.
void SetKernelThreads(int n);

// Family registration (one per backends/cpu/<file>.cc); called once by KernelRegistry().
void AddRefElementwiseKernels(std::vector<KernelDef>& defs);
void AddRefReduceKernels(std::vector<KernelDef>& defs);
void AddRefTensorKernels(std::vector<KernelDef>& defs);
void AddRefNnKernels(std::vector<KernelDef>& defs);
void AddRefQuantKernels(std::vector<KernelDef>& defs);
void AddRefControlKernels(std::vector<KernelDef>& defs);
void AddRefMiscKernels(std::vector<KernelDef>& defs);
void AddOneDnnKernels(std::vector<KernelDef>& defs);
void AddFastElementwiseKernels(std::vector<KernelDef>& defs);
void AddRefTrainingKernels(std::vector<KernelDef>& defs);  // training_ref*.cc
void AddOneDnnTrainingKernels(std::vector<KernelDef>& defs);  // onednn_training.cc
// Sparse Gemm/MatMul/1x1 Conv for pruned constant weights (backends/cpu/sparse_*.cc).
void AddSparseKernels(std::vector<KernelDef>& defs);

}  // namespace greenai
