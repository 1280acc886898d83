#include "core/omp_env.h"

#include <cstdlib>
#include <unistd.h>

namespace greenai {

void PreferPassiveOpenMP(char** argv) {
  constexpr const char* kMarker = "GREENAI_OMP_POLICY_SET";
  if (std::getenv(kMarker)) {  // we are the re-executed process: libgomp has read the policy
    unsetenv("OMP_WAIT_POLICY");
    unsetenv(kMarker);
    return;
  }
  if (std::getenv("OMP_WAIT_POLICY") || !argv || !argv[0]) return;
  setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  setenv(kMarker, "1", 1);
  execv("/proc/self/exe", argv);
  // exec failed (no /proc): run on with the default policy.
  unsetenv("OMP_WAIT_POLICY");
  unsetenv(kMarker);
}

}  // namespace greenai
