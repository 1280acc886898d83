// Kernel family: fast_elementwise. See backends/cpu/kernel.h for the contract.
#include "backends/cpu/kernel.h"

namespace greenai {

void AddFastElementwiseKernels(std::vector<KernelDef>& defs) {
  (void)defs;
}

}  // namespace greenai
