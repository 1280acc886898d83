// Kernel family: ref_elementwise. See backends/cpu/kernel.h for the contract.
#include "backends/cpu/kernel.h"

namespace greenai {

void AddRefElementwiseKernels(std::vector<KernelDef>& defs) {
  (void)defs;
}

}  // namespace greenai
