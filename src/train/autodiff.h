// Graph autodiff: builds the backward pass as more nodes of the same graph, from the gradient
// rules in ops/gradients.h, so training runs on the ordinary Session (same kernels, passes,
// profiler and energy hooks as inference).
//
//   auto gg = BuildGradientGraph(model, "logits", {"W1", "b1", "W2", "b2"});
//   // gg->model: forward + backward; feeds: the forward inputs, the params, gg->seed;
//   // outputs: the forward outputs, then gg->grads[i] = d(<seed, loss>)/d params[i].
//
// Contract:
//  - `loss` names any float value of the graph (a scalar loss, or logits whose gradient the
//    caller computes with train/loss.h). The seed is d(objective)/d(loss): a graph input named
//    `seed` with loss's type (options.seed_as_input), else a constant 1 (loss must then be a
//    scalar or of fully known shape).
//  - params: initializers or graph inputs of a float dtype. Initializer params are also listed
//    as graph inputs (options.params_as_inputs) so a training loop can feed updated values
//    without rebuilding the Session. A param the loss does not depend on gets a zero gradient.
//  - Only nodes on a path from a param to the loss are differentiated; an op there without a
//    rule is Unimplemented naming the node. Integer-valued inputs (shapes, indices) get no
//    gradient.
//  - Gradients reaching a value from several consumers are summed (one Sum node).
//  - The result is type-checked with strict whole-graph inference before it is returned.
//  - Thread safety: pure function of its arguments.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "graph/ir.h"

namespace greenai::train {

struct GradientOptions {
  bool seed_as_input = true;
  bool params_as_inputs = true;
};

struct GradientGraph {
  std::unique_ptr<Model> model;
  std::string seed;                // graph input name of the seed ("" when it is the constant 1)
  std::vector<std::string> grads;  // graph output names, one per param, same order
};

Result<GradientGraph> BuildGradientGraph(const Model& model, const std::string& loss,
                                         const std::vector<std::string>& params, const GradientOptions& opts = {});

}  // namespace greenai::train
