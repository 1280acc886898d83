// Kernel family: ref_quant. See backends/cpu/kernel.h for the contract.
#include "backends/cpu/kernel.h"

namespace greenai {

void AddRefQuantKernels(std::vector<KernelDef>& defs) {
  (void)defs;
}

}  // namespace greenai
