// OpenMP wait policy for programs that run oneDNN kernels.
//
// Debian's oneDNN threads with libgomp. Its default wait policy spins an idle thread for
// ~300,000 iterations before sleeping; beside greenai's own thread pool, and on a busy
// machine, such long spinning starved the threads a parallel region waits for (measured
// here: ResNet-18 at batch 1 took 516 ms instead of 50 ms, 2 threads, load average ~4).
// Sleeping at once (OMP_WAIT_POLICY=PASSIVE) costs a futex wake-up of ~50-100 us at the start
// of every run instead: the Fashion-MNIST mlp at batch 1 took 0.14 ms with PASSIVE and
// 0.05 ms with a short spin, the cnn 1.6 ms vs 0.18 ms, while ResNet-18 stayed within noise
// (29-39 ms vs 32 ms; idle 2-core machine, bench/ort_compare). So idle threads spin briefly
// (GOMP_SPINCOUNT=10000, tens of microseconds: long enough to bridge the gap between two
// kernels or two runs, short enough not to starve greenai's pool) and then sleep.
// libgomp reads these variables when it is loaded, before main(), so the only way to set
// them from inside is to re-execute the program once with them set.
//
// ShortOpenMPSpin(argv): call first thing in main(). When the user has set neither
// OMP_WAIT_POLICY nor GOMP_SPINCOUNT, sets GOMP_SPINCOUNT and re-executes /proc/self/exe with
// the same argv (on failure, carries on unchanged). In the re-executed process it removes
// the variable from the environment again, so commands greenai starts (e.g. `greenai measure
// -- CMD`) see the user's environment unchanged. A user's own setting always wins.
#pragma once

namespace greenai {

inline constexpr const char* kOpenMPSpinCount = "10000";

void ShortOpenMPSpin(char** argv);

}  // namespace greenai
