#include "energy/procfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>

namespace greenai::energy {

int ReadFileDefault(const std::string& path, std::string* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  out->clear();
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return e;
    }
    if (n == 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return 0;
}

CpuJiffies ReadCpuJiffies(const std::string& proc_root, const ReadFileFn& read) {
  CpuJiffies r;
  std::string s;
  if (read(proc_root + "/stat", &s) != 0) return r;
  if (s.rfind("cpu ", 0) != 0) return r;
  std::istringstream in(s.substr(4, s.find('\n') == std::string::npos ? std::string::npos : s.find('\n') - 4));
  // user nice system idle iowait irq softirq steal (guest fields are inside user/nice).
  uint64_t v[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int i = 0; i < 8 && (in >> v[i]); ++i) {
  }
  for (int i = 0; i < 8; ++i) r.total += v[i];
  r.idle = v[3] + v[4];
  r.ok = r.total > 0;
  return r;
}

namespace {
struct PidStat {
  int ppid = 0;
  uint64_t ticks = 0;
};

// Parses /proc/<pid>/stat; the command name may contain spaces and ')' so we
// search for the last ')'.
bool ParsePidStat(const std::string& s, PidStat* out) {
  size_t rp = s.rfind(')');
  if (rp == std::string::npos) return false;
  std::istringstream in(s.substr(rp + 1));
  std::string state;
  in >> state;
  // Fields after state: ppid(4) pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime(14) stime cutime cstime
  long long f[14] = {};
  for (int i = 0; i < 14; ++i) {
    if (!(in >> f[i])) return false;
  }
  out->ppid = static_cast<int>(f[0]);
  out->ticks = static_cast<uint64_t>(f[10] + f[11] + f[12] + f[13]);
  return true;
}
}  // namespace

ProcessTreeCpu ReadProcessTreeCpu(const std::string& proc_root, int root_pid, const ReadFileFn& read) {
  ProcessTreeCpu r;
  std::map<int, PidStat> all;
  if (DIR* d = ::opendir(proc_root.c_str())) {
    while (dirent* e = ::readdir(d)) {
      char* end = nullptr;
      long pid = std::strtol(e->d_name, &end, 10);
      if (pid <= 0 || *end != '\0') continue;
      std::string s;
      PidStat ps;
      if (read(proc_root + "/" + e->d_name + "/stat", &s) == 0 && ParsePidStat(s, &ps)) all[static_cast<int>(pid)] = ps;
    }
    ::closedir(d);
  }
  if (!all.count(root_pid)) return r;
  std::multimap<int, int> children;
  for (const auto& [pid, ps] : all) children.emplace(ps.ppid, pid);
  std::vector<int> stack{root_pid};
  uint64_t ticks = 0;
  while (!stack.empty()) {
    int p = stack.back();
    stack.pop_back();
    r.pids.push_back(p);
    ticks += all[p].ticks;
    auto [b, e] = children.equal_range(p);
    for (auto it = b; it != e; ++it) stack.push_back(it->second);
  }
  r.cpu_seconds = static_cast<double>(ticks) / static_cast<double>(ClockTicksPerSecond());
  return r;
}

std::string ReadCpuModelName(const std::string& proc_root, const ReadFileFn& read) {
  std::string s;
  if (read(proc_root + "/cpuinfo", &s) != 0) return "";
  std::istringstream in(s);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      size_t c = line.find(':');
      if (c == std::string::npos) continue;
      std::string v = line.substr(c + 1);
      size_t b = v.find_first_not_of(" \t");
      size_t e = v.find_last_not_of(" \t\r");
      return b == std::string::npos ? "" : v.substr(b, e - b + 1);
    }
  }
  return "";
}

int CountCpuinfoProcessors(const std::string& proc_root, const ReadFileFn& read) {
  std::string s;
  if (read(proc_root + "/cpuinfo", &s) != 0) return 0;
  std::istringstream in(s);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    if (line.rfind("processor", 0) == 0 && line.find(':') != std::string::npos) ++n;
  }
  return n;
}

uint64_t ReadMemTotalBytes(const std::string& proc_root, const ReadFileFn& read) {
  std::string s;
  if (read(proc_root + "/meminfo", &s) != 0) return 0;
  size_t p = s.find("MemTotal:");
  if (p == std::string::npos) return 0;
  return std::strtoull(s.c_str() + p + 9, nullptr, 10) * 1024ull;
}

long ClockTicksPerSecond() {
  static const long ticks = [] {
    long t = ::sysconf(_SC_CLK_TCK);
    return t > 0 ? t : 100L;
  }();
  return ticks;
}

}  // namespace greenai::energy
