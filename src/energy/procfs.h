// Small readers for /proc and /sys, rooted at a configurable directory so tests can
// point them at a fake tree. No allocation-heavy parsing: these run once per sample.
//
// Contract:
//  - ReadFileFn returns 0 and fills *out, or an errno value (EACCES, ENOENT, ...).
//    It is the seam tests use to simulate unreadable files when running as root.
//  - Process-tree CPU time counts the root pid and all live descendants
//    (utime+stime+cutime+cstime): children that exited and were reaped by a tree
//    member are included through cutime/cstime.
//  - Thread safety: free functions without shared state.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace greenai::energy {

using ReadFileFn = std::function<int(const std::string& path, std::string* out)>;
// Reads a whole (small) file with open/read; returns 0 or errno.
int ReadFileDefault(const std::string& path, std::string* out);

struct CpuJiffies {
  uint64_t total = 0;
  uint64_t idle = 0;  // idle + iowait
  bool ok = false;
};
// The aggregate "cpu" line of <proc_root>/stat.
CpuJiffies ReadCpuJiffies(const std::string& proc_root, const ReadFileFn& read = ReadFileDefault);

struct ProcessTreeCpu {
  double cpu_seconds = 0.0;  // utime+stime+cutime+cstime summed over the tree
  std::vector<int> pids;     // root first, then descendants
};
ProcessTreeCpu ReadProcessTreeCpu(const std::string& proc_root, int root_pid,
                                  const ReadFileFn& read = ReadFileDefault);

// "model name" of the first processor in <proc_root>/cpuinfo, or "" when absent.
std::string ReadCpuModelName(const std::string& proc_root, const ReadFileFn& read = ReadFileDefault);
// Logical processors listed in <proc_root>/cpuinfo (0 when unreadable).
int CountCpuinfoProcessors(const std::string& proc_root, const ReadFileFn& read = ReadFileDefault);
// MemTotal from <proc_root>/meminfo in bytes (0 when unreadable).
uint64_t ReadMemTotalBytes(const std::string& proc_root, const ReadFileFn& read = ReadFileDefault);

// Clock ticks per second for /proc times (sysconf(_SC_CLK_TCK)).
long ClockTicksPerSecond();

}  // namespace greenai::energy
