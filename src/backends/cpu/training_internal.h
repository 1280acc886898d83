// Private helpers shared by the training-op kernels (training_ref*.cc, onednn_training.cc):
// the op domain, window geometry parsed exactly as the forward Conv/pool kernels do, and the
// registration seams of the split files.
// Pure functions; thread safe.
#pragma once

#include <string_view>
#include <vector>

#include "backends/cpu/kernel.h"
#include "ops/nn_util.h"

namespace greenai::training {

inline constexpr std::string_view kDomain = "ai.greenai.training";

// Geometry of the forward Conv `node` (its attributes) on X and W shapes; checks ranks and groups.
Result<nn::WindowGeom> ConvGeometry(const Node& node, const Shape& x, const Shape& w);
// Geometry of the forward MaxPool/AveragePool `node` on X's shape (1 to 3 spatial dims).
Result<nn::WindowGeom> PoolGeometry(const Node& node, const Shape& x);

void AddRefTrainingKernelsPart1(std::vector<KernelDef>& defs);  // training_ref.cc
void AddRefTrainingKernelsPart2(std::vector<KernelDef>& defs);  // training_ref_misc.cc

}  // namespace greenai::training
