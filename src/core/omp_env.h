// OpenMP wait policy for programs that run oneDNN kernels.
//
// Debian's oneDNN threads with libgomp, whose default wait policy spins idle threads. Beside
// greenai's own thread pool, and on a busy machine, spinning threads starve the threads a
// parallel region waits for: measured here, ResNet-18 at batch 1 took 516 ms with the
// default policy and 50 ms with OMP_WAIT_POLICY=PASSIVE (2 threads, load average ~4).
// libgomp reads the variable when it is loaded, before main(), so the only way to set it
// from inside is to re-execute the program once with the variable set.
//
// PreferPassiveOpenMP(argv): call first thing in main(). When the user has not set
// OMP_WAIT_POLICY, sets it to PASSIVE and re-executes /proc/self/exe with the same argv
// (on failure, carries on unchanged). In the re-executed process it removes the variable
// from the environment again, so commands greenai starts (e.g. `greenai measure -- CMD`)
// see the user's environment unchanged. A user-set OMP_WAIT_POLICY always wins.
#pragma once

namespace greenai {

void PreferPassiveOpenMP(char** argv);

}  // namespace greenai
