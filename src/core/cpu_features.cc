#include "core/cpu_features.h"

#if defined(__linux__) && defined(__x86_64__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

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
  f.amx_int8 = __builtin_cpu_supports("amx-tile") && __builtin_cpu_supports("amx-int8");
#endif
  return f;
}

// Linux keeps AMX's 8 KB tile state off until a process asks for it (kernel 5.16 on); the
// permission then holds for all of the process's threads.
bool RequestAmx() {
#if defined(__linux__) && defined(__x86_64__)
  constexpr long kArchReqXcompPerm = 0x1023;
  constexpr long kXfeatureXtiledata = 18;
  return HostCpu().amx_int8 && syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
#else
  return false;
#endif
}

}  // namespace

const CpuFeatures& HostCpu() {
  static const CpuFeatures f = Read();
  return f;
}

bool AmxTilesUsable() {
  static const bool ok = RequestAmx();
  return ok;
}

}  // namespace greenai
