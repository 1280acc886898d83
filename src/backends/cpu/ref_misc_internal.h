// Private registration helpers of the misc kernel family (ref_misc_*.cc).
#pragma once

#include <vector>

#include "backends/cpu/kernel.h"

namespace greenai::misck {

void AddEinsumKernels(std::vector<KernelDef>& defs);
void AddNormKernels(std::vector<KernelDef>& defs);
void AddRnnKernels(std::vector<KernelDef>& defs);
void AddLossKernels(std::vector<KernelDef>& defs);
void AddSignalKernels(std::vector<KernelDef>& defs);
void AddGridKernels(std::vector<KernelDef>& defs);
void AddLinalgKernels(std::vector<KernelDef>& defs);

}  // namespace greenai::misck
