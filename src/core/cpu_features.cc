#include "core/cpu_features.h"

namespace greenai {

namespace {

CpuFeatures Read() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  f.avx2 = __builtin_cpu_supports("avx2");
  f.fma = __builtin_cpu_supports("fma");
  f.avx512f = __builtin_cpu_supports("avx512f");
  f.avx512vnni = __builtin_cpu_supports("avx512vnni");
#endif
  return f;
}

}  // namespace

const CpuFeatures& HostCpu() {
  static const CpuFeatures f = Read();
  return f;
}

}  // namespace greenai
