// Private helpers shared by the gradient-rule files (ops/gradients_*.cc).
// Pure functions of their arguments (they append nodes through ctx.b); not thread safe
// beyond what GradBuilder is.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ops/gradients.h"

namespace greenai::grad {

inline constexpr std::string_view kTrainingDomain = "ai.greenai.training";

// Adds training op `op` (domain ai.greenai.training) with `inputs` and one output slot per
// entry of `want` (named when true, "" otherwise; trailing "" dropped). copy_attrs copies the
// forward node's attributes; `set` may add more. Returns the output names, want.size() long.
std::vector<std::string> EmitTraining(GradContext& c, const std::string& op, std::vector<std::string> inputs,
                                      const std::vector<bool>& want, bool copy_attrs,
                                      const std::function<void(Node&)>& set = {});

// First float dtype among the forward node's inputs (f32 when none).
DType FloatType(const GradContext& c);

// Unimplemented when a gradient flows into forward output `out` (e.g. MaxPool's Indices).
Status NoGradInto(const GradContext& c, size_t out, const char* what);

}  // namespace greenai::grad
