// Kernel family: ref_control. See backends/cpu/kernel.h for the contract.
#include "backends/cpu/kernel.h"

namespace greenai {

void AddRefControlKernels(std::vector<KernelDef>& defs) {
  (void)defs;
}

}  // namespace greenai
