// Kernel family: ref_misc. See backends/cpu/kernel.h for the contract.
#include "backends/cpu/kernel.h"

namespace greenai {

void AddRefMiscKernels(std::vector<KernelDef>& defs) {
  (void)defs;
}

}  // namespace greenai
