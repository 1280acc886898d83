// Graph passes: small objects that rewrite a Graph in place.
//
// Each pass states what it preserves:
//  - kExact: graph outputs are bit-identical for every input;
//  - kTolerance: outputs equal within float rounding (e.g. folding BatchNorm into Conv);
//  - kNothing: meaning may change on purpose (compression passes).
// and is tested on that claim. Passes read op semantics from the op table and may run
// CPU reference kernels (constant folding); they never depend on the runtime.
// Thread safety: a pass object may be run on one graph at a time.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "graph/ir.h"

namespace greenai {

enum class Preserves { kExact, kTolerance, kNothing };

class Pass {
 public:
  virtual ~Pass() = default;
  virtual std::string_view name() const = 0;
  virtual Preserves preserves() const = 0;
  // `model` gives opset versions; passes edit *model.graph.
  virtual Status Run(Model& model) = 0;
};

// The default optimization pipeline used by Session (in order): constant folding,
// dead-code removal, Conv+BatchNormalization folding, MatMul/Gemm+Add(+activation) fusion,
// dead-code removal.
std::vector<std::unique_ptr<Pass>> DefaultPasses();
Status RunPasses(Model& model, const std::vector<std::unique_ptr<Pass>>& passes);

}  // namespace greenai
