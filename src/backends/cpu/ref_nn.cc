// Kernel family: ref_nn. See backends/cpu/kernel.h for the contract.
#include "backends/cpu/kernel.h"

namespace greenai {

void AddRefNnKernels(std::vector<KernelDef>& defs) {
  (void)defs;
}

}  // namespace greenai
