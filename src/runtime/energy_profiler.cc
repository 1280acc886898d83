#include "runtime/energy_profiler.h"

namespace greenai {

double EnergyProfiler::NodeJoules(size_t i) const {
  const auto& e = timing_.entries();
  if (i >= e.size()) return 0;
  double total_ms = 0;
  for (const auto& x : e) total_ms += x.total_ms;
  if (total_ms <= 0) return 0;
  return hook_.Stats().total_j * e[i].total_ms / total_ms;
}

}  // namespace greenai
