// Kernel family: ref_tensor. See backends/cpu/kernel.h for the contract.
#include "backends/cpu/kernel.h"

namespace greenai {

void AddRefTensorKernels(std::vector<KernelDef>& defs) {
  (void)defs;
}

}  // namespace greenai
