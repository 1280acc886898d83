// Kernel family: ref_reduce. See backends/cpu/kernel.h for the contract.
#include "backends/cpu/kernel.h"

namespace greenai {

void AddRefReduceKernels(std::vector<KernelDef>& defs) {
  (void)defs;
}

}  // namespace greenai
