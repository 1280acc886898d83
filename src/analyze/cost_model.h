// Static cost model over the IR: what one inference of a model costs, node by node, before
// running it.
//
// AnalyzeModel clones the model, fixes the dynamic batch dimension of every graph input
// to options.batch (dim 0 when unknown or symbolic, and every other dim that carries the
// same symbolic name), runs non-strict static shape inference, then asks the op table's
// cost function (NodeCost) for each top-level node.
//
// Definitions (all per inference, all doubles so huge models do not overflow):
//  - macs / flops / bytes_read / bytes_written: from the op's cost function (op_table.h).
//  - params / param_bytes: elements and bytes of the node's initializer inputs, except
//    int64 ones (shapes, axes, indices: not weights). A shared initializer counts once
//    in the totals.
//  - intensity: flops / (bytes_read + bytes_written), FLOP per byte (0 when no bytes).
//  - activation_bytes (total): bytes of every value a node produces plus the non-
//    initializer graph inputs: the tensors an inference materializes.
// A node whose output shapes cannot be inferred is kept with known == false and its
// `error` set to the inference message (which names the node); its cost fields are what
// the cost function could still say (often 0). Analysis continues after it.
// Subgraphs (If/Loop/Scan bodies) are not costed (their nodes count as 0).
//
// Errors: InvalidArgument for batch < 1 or a model without a graph. Thread safety: pure.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "graph/ir.h"

namespace greenai::analyze {

struct AnalyzeOptions {
  int64_t batch = 1;  // substituted for the dynamic batch dim of graph inputs
};

struct NodeCostReport {
  std::string name;       // node name, or "<op_type>#<index>" when unnamed
  std::string op_type;
  std::string domain;
  TensorType output;      // type of the first output (may be partly unknown)
  DType compute_dtype = DType::kUndefined;  // dtype the arithmetic runs in (first input)
  double macs = 0, flops = 0;
  double bytes_read = 0, bytes_written = 0;
  double params = 0, param_bytes = 0;
  bool known = true;      // output shapes fully inferred
  std::string error;      // inference error for this node, "" when none

  double bytes() const { return bytes_read + bytes_written; }
  double intensity() const { return bytes() > 0 ? flops / bytes() : 0; }
};

struct ModelCostReport {
  std::vector<NodeCostReport> nodes;  // graph order
  double macs = 0, flops = 0;
  double bytes_read = 0, bytes_written = 0;
  double params = 0, param_bytes = 0;  // each initializer once
  double activation_bytes = 0;
  int64_t batch = 1;
  bool batch_substituted = false;  // false: no input had a dynamic batch dim
  std::vector<std::string> inference_errors;  // one line per node that could not be inferred

  double bytes() const { return bytes_read + bytes_written; }
  double intensity() const { return bytes() > 0 ? flops / bytes() : 0; }
};

Result<ModelCostReport> AnalyzeModel(const Model& model, const AnalyzeOptions& options = {});

}  // namespace greenai::analyze
