// Low-rank factorization pass (issue 6): a weight W becomes two smaller layers from its SVD
// W = U S V^T truncated to rank r, split as (U_r S_r^1/2)(S_r^1/2 V_r^T).
//  - Gemm (transA = 0) A x W + C   ->  Gemm(A, W1) -> Gemm(h, W2, C) (alpha/beta on the second)
//  - MatMul A x W (W constant 2-D) ->  MatMul(A, W1) -> MatMul(h, W2)
//  - Conv k x k, group 1, W [Co, Ci, kh, kw] seen as [Co, Ci*kh*kw]
//                                  ->  Conv(k x k, r outputs, same strides/pads/dilations)
//                                      -> Conv 1x1 (Co outputs, the bias)
// Rank per layer: the smallest r keeping `energy` of sum(s_i^2), or a per-layer rank, or the
// highest common energy whose model fits a FLOP budget (fraction of the original FLOPs,
// analyze cost model at batch 1). A layer is only factored when r (K + N) < K N (resp. the
// conv equivalent), i.e. when it cuts MACs; others are reported as skipped.
//
// Contract: validate then edit (work on a clone; on error the model is unchanged). A requested
// rank outside [1, min(K, N)) is an error naming the node. SVD in double, weights rounded once.
// Preserves: nothing in general; with energy = 1 and force = true (every layer at full rank)
// outputs equal the original within float rounding (tested).
// Thread safety: pure function of its arguments.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "graph/ir.h"

namespace greenai::compress {

struct LowRankOptions {
  double energy = 0.9;                   // retained spectral energy, (0, 1]
  std::map<std::string, int64_t> ranks;  // node name -> explicit rank (overrides energy)
  double flops_budget = 0;               // (0, 1): keep at most this fraction of the FLOPs
  std::vector<std::string> exclude;      // node or weight names left alone
  int64_t min_dim = 8;                   // layers with min(K, N) below this are left alone
  bool force = false;                    // factor even when it does not cut MACs
};

struct LowRankLayer {
  std::string node, op_type;
  int64_t rows = 0, cols = 0;  // matrix view: K x N (Gemm/MatMul) or Co x Ci*kh*kw (Conv)
  int64_t rank = 0;            // chosen rank (0 when skipped)
  double energy = 0;           // retained energy at that rank
  bool factored = false;
  std::string note;            // why it was skipped
};

struct LowRankReport {
  std::vector<LowRankLayer> layers;
  double energy_used = 0;  // the common energy (after a FLOP-budget search)
};

Result<LowRankReport> LowRankFactorize(Model& model, const LowRankOptions& options);

}  // namespace greenai::compress
