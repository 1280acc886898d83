// Kernel family: onednn. See backends/cpu/kernel.h for the contract.
#include "backends/cpu/kernel.h"

namespace greenai {

void AddOneDnnKernels(std::vector<KernelDef>& defs) {
  (void)defs;
}

}  // namespace greenai
