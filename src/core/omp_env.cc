#include "core/omp_env.h"

#include <cstdlib>
#include <unistd.h>

namespace greenai {

void ShortOpenMPSpin(char** argv) {
  constexpr const char* kMarker = "GREENAI_OMP_POLICY_SET";
  if (std::getenv(kMarker)) {  // we are the re-executed process: libgomp has read the setting
    unsetenv("GOMP_SPINCOUNT");
    unsetenv(kMarker);
    return;
  }
  if (std::getenv("OMP_WAIT_POLICY") || std::getenv("GOMP_SPINCOUNT") || !argv || !argv[0]) return;
  setenv("GOMP_SPINCOUNT", kOpenMPSpinCount, 1);
  setenv(kMarker, "1", 1);
  execv("/proc/self/exe", argv);
  // exec failed (no /proc): run on with the default policy.
  unsetenv("GOMP_SPINCOUNT");
  unsetenv(kMarker);
}

}  // namespace greenai
