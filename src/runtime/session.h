// Session: plan a model once, run it many times on the CPU backend.
//
//   auto s = Session::Create(model, opts);      // copies what it needs from the model
//   auto outs = (*s)->Run({{"x", x_tensor}});    // outputs in graph-output order
//
// Create: clones the graph, runs the optimization passes (unless opts.optimize == false),
// infers static types from the op table, picks one kernel per node (reference kernels only
// with opts.reference_only), and plans buffers by liveness when shapes are static.
// Run: checks feeds (names, dtypes, ranks, known dims), re-infers shapes only when input
// shapes changed since the last run (dynamic shapes), allocates intermediate buffers from
// the plan (a value's buffer is released after its last consumer), runs the kernels.
//
// Errors: a missing/unknown feed, a dtype or shape mismatch, an unsupported op, or a
// kernel failure returns a Status naming the input or node; the session stays usable.
// Thread safety: Create is thread safe; one Run at a time per Session (Run locks).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "graph/ir.h"

namespace greenai {

// Per-op hooks called around every node execution (timing, energy windows).
class ProfilerHook {
 public:
  virtual ~ProfilerHook() = default;
  virtual void OnRunBegin() {}
  virtual void OnNodeBegin(size_t /*index*/, const Node& /*node*/, std::string_view /*kernel*/) {}
  virtual void OnNodeEnd(size_t /*index*/, const Node& /*node*/, std::string_view /*kernel*/) {}
  virtual void OnRunEnd() {}
};

// Accumulates wall time per node over runs.
class TimingProfiler : public ProfilerHook {
 public:
  struct Entry {
    std::string node_name, op_type, kernel;
    int64_t calls = 0;
    double total_ms = 0;
  };
  void OnNodeBegin(size_t index, const Node& node, std::string_view kernel) override;
  void OnNodeEnd(size_t index, const Node& node, std::string_view kernel) override;
  const std::vector<Entry>& entries() const { return entries_; }
  void Clear() { entries_.clear(); }  // e.g. after warm-up runs

 private:
  std::vector<Entry> entries_;
  std::chrono::steady_clock::time_point start_;
};

struct SessionOptions {
  int num_threads = 0;            // 0 = all hardware threads
  bool optimize = true;           // constant folding, dead code, Conv+BN folding, fusion
  bool reference_only = false;    // only reference kernels (the test oracle)
  ProfilerHook* profiler = nullptr;  // not owned; must outlive the session
};

class Session {
 public:
  static Result<std::unique_ptr<Session>> Create(const Model& model, SessionOptions opts = {});
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const std::vector<ValueInfo>& inputs() const;   // real inputs (initializers excluded)
  const std::vector<ValueInfo>& outputs() const;
  // The graph actually executed (after passes), in execution order.
  const Graph& graph() const;
  // Kernel chosen for node i of graph().
  std::string_view kernel_name(size_t node_index) const;

  // Feeds by input name. Inputs with an initializer default may be omitted.
  Result<std::vector<Tensor>> Run(const std::vector<std::pair<std::string, Tensor>>& feeds);

  void set_profiler(ProfilerHook* p);

 private:
  struct Impl;
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace greenai
