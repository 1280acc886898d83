// CPU features that steer greenai's choice of kernels and layouts at plan time.
//
// Contract:
//  - HostCpu() reads the running CPU once (GCC's cpuid builtins on x86; all false elsewhere)
//    and never changes afterwards; thread-safe.
//  - What depends on it, and why (figures in docs/design.md, "AVX-512 hosts"):
//      * avx512f: oneDNN's avx512 GEMM and convolutions beat greenai's AVX2 assembly tiles,
//        which use half the vector width, and oneDNN serves the 8-channel blocked layout only
//        with its avx2 kernels. So on such CPUs the packed f32 GEMM keeps batch-1 (GEMV)
//        products only, and the BlockedLayout pass is off by default.
//      * avx512vnni: oneDNN's int8 convolution is exact for full-range int8 weights.
//      * amx_int8: the int8 GEMM kernels run products of 16 rows or more on AMX tiles.
//  - AmxTilesUsable(): the CPU has AMX-TILE and AMX-INT8 *and* Linux granted this process the
//    tile data state (arch_prctl ARCH_REQ_XCOMP_PERM, asked once, for every thread). False when
//    either is missing (older kernels, other OSes): the AVX-512/AVX2 tiles run instead.
#pragma once

namespace greenai {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool avx512f = false;
  bool avx512vnni = false;
  bool amx_int8 = false;  // AMX-TILE and AMX-INT8
};

const CpuFeatures& HostCpu();
bool AmxTilesUsable();

}  // namespace greenai
