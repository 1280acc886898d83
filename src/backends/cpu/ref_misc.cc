// Kernel family: ref_misc. Each op group lives in its own ref_misc_*.cc; this file only
// collects their registrations. See backends/cpu/kernel.h for the contract.
#include "backends/cpu/kernel.h"
#include "backends/cpu/ref_misc_internal.h"

namespace greenai {

void AddRefMiscKernels(std::vector<KernelDef>& defs) {
  misck::AddEinsumKernels(defs);
  misck::AddNormKernels(defs);
  misck::AddRnnKernels(defs);
  misck::AddLossKernels(defs);
  misck::AddLinalgKernels(defs);
  misck::AddSignalKernels(defs);
  misck::AddGridKernels(defs);
}

}  // namespace greenai
