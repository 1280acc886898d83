// Test helper: runs a Model node by node with RunNode (reference kernels) in topological
// order, without a Session, so passes can be checked before/after on the same inputs.
// Nodes carrying a fused activation (passes.h kAttrActivation) run as the plain op followed
// by the activation: that is the documented meaning of the fused form.
#pragma once

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "backends/cpu/run_node.h"
#include "graph/ir.h"
#include "passes/passes.h"
#include "runtime/session.h"

namespace greenai::testing {

using Feeds = std::vector<std::pair<std::string, Tensor>>;

inline Result<std::vector<Tensor>> RunEager(const Model& model, const Feeds& feeds, bool reference_only = true) {
  auto m = model.Clone();
  Graph& g = *m->graph;
  GREENAI_RETURN_IF_ERROR(g.TopologicalSort());
  std::unordered_map<std::string, Tensor> env;
  for (const auto& [k, t] : g.initializers) env[k] = t;
  for (const auto& [k, t] : feeds) env[k] = t;
  RunNodeOptions ro;
  ro.reference_only = reference_only;
  ro.opset = DefaultOpset(*m);
  for (const auto& np : g.nodes()) {
    Node n = *np;
    std::string act_op;
    std::vector<float> act_params;
    if (n.HasAttr(kAttrActivation)) {
      act_op = n.GetString(kAttrActivation, "");
      act_params = n.GetFloats(kAttrActivationParams);
      n.attributes.erase(kAttrActivation);
      n.attributes.erase(kAttrActivationParams);
    }
    std::vector<Tensor> ins;
    for (const auto& in : n.inputs) {
      if (in.empty()) {
        ins.emplace_back();
        continue;
      }
      auto it = env.find(in);
      if (it == env.end()) return NotFound("{}: input '{}' has no value", n.Describe(), in);
      ins.push_back(it->second);
    }
    GREENAI_ASSIGN_OR_RETURN(std::vector<Tensor> outs, RunNode(n, ins, ro));
    if (!act_op.empty()) {
      Node a;
      a.op_type = act_op;
      a.name = n.name + "_act";
      a.inputs = {"x"};
      a.outputs = {"y"};
      std::vector<Tensor> ains = {outs[0]};
      if (act_op == "LeakyRelu") a.SetFloat("alpha", act_params.at(0));
      if (act_op == "Clip") {
        a.inputs = {"x", "lo", "hi"};
        ains.push_back(Tensor::Scalar<float>(act_params.at(0)));
        ains.push_back(Tensor::Scalar<float>(act_params.at(1)));
      }
      RunNodeOptions aro = ro;
      if (act_op == "Gelu") aro.opset = std::max<int64_t>(ro.opset, 20);  // Gelu exists from opset 20
      GREENAI_ASSIGN_OR_RETURN(std::vector<Tensor> aouts, RunNode(a, ains, aro));
      outs[0] = aouts[0];
    }
    for (size_t i = 0; i < n.outputs.size(); ++i)
      if (!n.outputs[i].empty()) env[n.outputs[i]] = outs[i];
  }
  std::vector<Tensor> result;
  for (const auto& o : g.outputs) {
    auto it = env.find(o.name);
    if (it == env.end()) return NotFound("graph output '{}' was not computed", o.name);
    result.push_back(it->second);
  }
  return result;
}

inline Tensor RandomTensor(Shape shape, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  auto t = Tensor::Create(DType::kF32, std::move(shape));
  EXPECT_TRUE(t.ok());
  for (float& v : t->span<float>()) v = d(rng);
  return *t;
}

// Bit-exact equality (same dtype, shape and bytes).
inline void ExpectBitExact(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].dtype(), b[i].dtype()) << "output " << i;
    ASSERT_EQ(a[i].shape(), b[i].shape()) << "output " << i;
    ASSERT_EQ(a[i].nbytes(), b[i].nbytes());
    EXPECT_EQ(0, std::memcmp(a[i].raw(), b[i].raw(), a[i].nbytes())) << "output " << i << " differs";
  }
}

// |a - b| <= atol + rtol * |b| elementwise (float32 outputs).
inline void ExpectClose(const std::vector<Tensor>& a, const std::vector<Tensor>& b, double rtol = 1e-5,
                        double atol = 1e-5) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].dtype(), b[i].dtype());
    ASSERT_EQ(a[i].shape(), b[i].shape());
    int bad = 0;
    for (int64_t k = 0; k < a[i].numel(); ++k) {
      double x = a[i].GetAsDouble(k), y = b[i].GetAsDouble(k);
      if (!(std::fabs(x - y) <= atol + rtol * std::fabs(y))) {
        if (++bad <= 5) ADD_FAILURE() << "output " << i << "[" << k << "]: " << x << " vs " << y;
      }
    }
    EXPECT_EQ(bad, 0);
  }
}

// Runs an already rewritten model (or one deliberately left alone) in a Session without the
// default passes, on the fast or the reference kernels; failures are test failures.
inline std::vector<Tensor> RunWithoutPasses(const Model& m, const Feeds& feeds, bool reference_only, int threads = 2) {
  SessionOptions so;
  so.optimize = false;
  so.reference_only = reference_only;
  so.num_threads = threads;
  auto s = Session::Create(m, so);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  if (!s.ok()) return {};
  auto out = (*s)->Run(feeds);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? *out : std::vector<Tensor>{};
}

// Runs `n` on its best kernel and on its reference kernel (RunNode): the best one must be
// `want_kernel` and give the same bits.
// Runs `n` (RunNode) on its best kernel into *best, naming it in *kernel, and on its reference
// kernel into *ref; fails the test when either run fails. The best kernel runs on `pool` (null:
// the default pool); `only`, when set, names the kernel to run instead of the best.
inline void RunBestAndReference(const Node& n, const std::vector<Tensor>& in, std::vector<Tensor>* best,
                                std::vector<Tensor>* ref, std::string_view* kernel, ThreadPool* pool = nullptr,
                                std::string_view only = {}) {
  RunNodeOptions fast, refo;
  fast.kernel_name_out = kernel;
  fast.pool = pool;
  fast.kernel = only;
  refo.reference_only = true;
  auto y = RunNode(n, in, fast);
  auto r = RunNode(n, in, refo);
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  *best = std::move(*y);
  *ref = std::move(*r);
}

inline void ExpectKernelBitExact(const Node& n, const std::vector<Tensor>& in, std::string_view want_kernel) {
  std::vector<Tensor> y, r;
  std::string_view name;
  ASSERT_NO_FATAL_FAILURE(RunBestAndReference(n, in, &y, &r, &name));
  EXPECT_EQ(name, want_kernel);
  ExpectBitExact(y, r);
}

inline int CountOps(const Graph& g, const std::string& op) {
  int c = 0;
  for (const auto& n : g.nodes()) c += n->op_type == op;
  return c;
}

// Nodes for which pred(node) holds (e.g. the ones a layout pass marked).
template <typename Pred>
int CountNodes(const Graph& g, Pred pred) {
  int c = 0;
  for (const auto& n : g.nodes()) c += pred(*n) ? 1 : 0;
  return c;
}

}  // namespace greenai::testing
