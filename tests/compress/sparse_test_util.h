// Shared helper for the sparse-kernel tests (prune_sparse_*_test.cc).
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string_view>
#include <vector>

#include "backends/cpu/kernel.h"
#include "backends/cpu/run_node.h"
#include "core/thread_pool.h"
#include "ops/layout.h"

namespace greenai::sparsetest {

// Gemm node "g": Y = alpha * A B(^T when tb) + beta * C (C only when with_c).
inline Node GemmNode(bool tb, float alpha, float beta, bool with_c = true) {
  Node node;
  node.op_type = "Gemm";
  node.name = "g";
  node.inputs = {"A", "B"};
  if (with_c) node.inputs.push_back("C");
  node.outputs = {"Y"};
  if (tb) node.SetInt("transB", 1);
  node.SetFloat("alpha", alpha);
  node.SetFloat("beta", beta);
  return node;
}


// Creates `kernel_name` for `node` with input 0's leading dims (Gemm/MatMul: dim 0; Conv: H, W =
// rows, 1, in NCHW or, under an NHWC mark, NHWC) planned as `plan_rows` (-1: unknown), runs it
// on `in` with `pool` into a NaN-filled output of `out_shape`. nullopt when the kernel declined.
inline std::optional<Tensor> RunPlanned(const Node& node, const std::vector<Tensor>& in, std::string_view kernel_name,
                                 int64_t plan_rows, const Shape& out_shape, ThreadPool& pool) {
  std::vector<TensorType> types;
  std::vector<const Tensor*> consts;
  for (const auto& t : in) {
    types.push_back(TensorType::Of(t.dtype(), t.shape()));
    consts.push_back(&t);
  }
  consts[0] = nullptr;
  if (node.op_type == "Conv") {  // rows = H * W: plan H = rows, W = 1 (or both unknown)
    const size_t h = IsChannelsLast(node) ? 1 : 2;  // NHWC: [N, H, W, C]
    types[0].dims[h] = plan_rows;
    types[0].dims[h + 1] = plan_rows < 0 ? -1 : 1;
  } else {
    types[0].dims[0] = plan_rows;
  }
  KernelInfo info{node, 17, types, consts, {TensorType::Of(DType::kF32, out_shape)}, pool.num_threads()};
  for (const KernelDef* d : KernelRegistry::Get().Candidates("", node.op_type)) {
    if (d->name != kernel_name) continue;
    auto k = d->create(info);
    if (!k.ok()) return std::nullopt;
    Tensor y = AllocateOutput(info.output_types[0], /*nan_prefill=*/true).value();
    KernelContext ctx;
    for (const auto& t : in) ctx.inputs.push_back(&t);
    ctx.outputs = {&y};
    ctx.pool = &pool;
    const Status st = (*k)->Run(ctx);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return y;
  }
  ADD_FAILURE() << "no kernel named " << kernel_name;
  return std::nullopt;
}

}  // namespace greenai::sparsetest
