#include "energy/emissions_csv.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

namespace greenai::energy {

std::string CsvField(std::string_view s) {
  if (s.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(s);
  std::string r = "\"";
  for (char c : s) {
    if (c == '"') r += '"';
    r += (c == '\n' || c == '\r') ? ' ' : c;
  }
  return r + "\"";
}

std::string EmissionsCsvHeader() {
  std::string h;
  for (size_t i = 0; i < kCodeCarbonColumns.size(); ++i) h += (i ? "," : "") + std::string(kCodeCarbonColumns[i]);
  return h + "\n";
}

std::string NewRunId() {
  std::random_device rd;
  std::mt19937_64 g((static_cast<uint64_t>(rd()) << 32) ^ rd() ^ static_cast<uint64_t>(::getpid()));
  uint64_t a = g(), b = g();
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 1
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xffff, b >> 48,
                     b & 0xffffffffffffULL);
}

std::string FormatEmissionsRow(const Report& rep, const CarbonSource& carbon, const EmissionsRowInput& in) {
  auto energy = [&](const char* comp) {
    const ComponentReport* c = rep.Find(comp);
    if (!c) return 0.0;
    return in.use_process_share ? c->process_energy_j : c->energy_j;
  };
  double pue = carbon.pue;
  double dur = rep.duration_s;
  double cpu_j = energy("cpu") * pue, gpu_j = energy("gpu") * pue, ram_j = energy("ram") * pue;
  double total_j = (in.use_process_share ? rep.process_total_j : rep.total_j) * pue;
  double kg = total_j / kJoulesPerKwh * carbon.MeanIntensity(rep.start_wall, rep.end_wall) / 1000.0;
  auto util = [&](const char* comp) {
    const ComponentReport* c = rep.Find(comp);
    return c && c->mean_utilization >= 0 ? c->mean_utilization * 100.0 : 0.0;
  };
  utsname u{};
  std::string os = ::uname(&u) == 0 ? fmt::format("{}-{}-{}", u.sysname, u.release, u.machine) : "Linux";
  std::string region = carbon.cloud_region;
  std::vector<std::string> f = {
      FormatTimestamp(rep.end_wall),
      CsvField(in.project_name),
      in.run_id.empty() ? NewRunId() : CsvField(in.run_id),
      CsvField(in.experiment_id),
      fmt::format("{}", dur),
      fmt::format("{}", kg),
      fmt::format("{}", dur > 0 ? kg / dur : 0.0),
      fmt::format("{}", dur > 0 ? cpu_j / dur : 0.0),
      fmt::format("{}", dur > 0 ? gpu_j / dur : 0.0),
      fmt::format("{}", dur > 0 ? ram_j / dur : 0.0),
      fmt::format("{}", cpu_j / kJoulesPerKwh),
      fmt::format("{}", gpu_j / kJoulesPerKwh),
      fmt::format("{}", ram_j / kJoulesPerKwh),
      fmt::format("{}", total_j / kJoulesPerKwh),
      "0",  // water_consumed: not modelled
      CsvField(carbon.country_name),
      CsvField(carbon.country_iso3),
      CsvField(region),
      CsvField(carbon.cloud_provider),
      CsvField(carbon.cloud_region),
      CsvField(os),
      "",  // python_version: not a Python tool
      "greenai-0.1.0",  // codecarbon_version: which tool wrote the row
      fmt::format("{}", in.cpu_count),
      CsvField(in.cpu_model),
      fmt::format("{}", in.gpu_count),
      CsvField(in.gpu_model),
      "",  // longitude
      "",  // latitude
      fmt::format("{}", in.ram_total_gb),
      CsvField(in.tracking_mode),
      fmt::format("{}", util("cpu")),
      fmt::format("{}", util("gpu")),
      "0",  // ram_utilization_percent
      "0",  // ram_used_gb
      carbon.kind == CarbonSource::Kind::kCloud ? "Y" : "N",
      fmt::format("{}", pue),
      "0",  // wue
  };
  std::string line;
  for (size_t i = 0; i < f.size(); ++i) line += (i ? "," : "") + f[i];
  return line + "\n";
}

namespace {
Status WriteAll(int fd, const std::string& s, const std::string& path) {
  // One write() per line: regular-file writes of this size are not split, so a kill
  // lands before or after the row, never inside it.
  ssize_t n;
  do {
    n = ::write(fd, s.data(), s.size());
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(s.size())) {
    return IoError("{}: write failed ({})", path, n < 0 ? std::strerror(errno) : "short write");
  }
  return Status::Ok();
}
}  // namespace

Status AppendEmissionsRow(const std::string& path, const std::string& row) {
  if (row.empty() || row.back() != '\n' || row.find('\n') != row.size() - 1) {
    return Internal("{}: emissions row must be one complete line", path);
  }
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("cannot open {} for appending: {}", path, std::strerror(errno));
  struct stat st{};
  Status s;
  if (::fstat(fd, &st) != 0) {
    s = IoError("cannot stat {}: {}", path, std::strerror(errno));
  } else if (st.st_size == 0) {
    s = WriteAll(fd, EmissionsCsvHeader() + row, path);
  } else {
    // Repair a fragment left by a writer that died mid-row (other tools write with
    // buffered streams): drop everything after the last newline.
    char last = 0;
    if (::pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n') {
      off_t keep = st.st_size;
      char buf[4096];
      while (keep > 0) {
        off_t from = std::max<off_t>(0, keep - static_cast<off_t>(sizeof buf));
        ssize_t n = ::pread(fd, buf, static_cast<size_t>(keep - from), from);
        if (n <= 0) break;
        const char* nl = static_cast<const char*>(::memrchr(buf, '\n', static_cast<size_t>(n)));
        if (nl) {
          keep = from + (nl - buf) + 1;
          break;
        }
        keep = from;
      }
      if (::ftruncate(fd, keep) != 0) s = IoError("cannot repair {}: {}", path, std::strerror(errno));
    }
    if (s.ok()) {
      // After a repair to zero bytes the header is gone too.
      if (::fstat(fd, &st) == 0 && st.st_size == 0) {
        s = WriteAll(fd, EmissionsCsvHeader() + row, path);
      } else {
        s = WriteAll(fd, row, path);
      }
    }
  }
  ::close(fd);
  return s;
}

Status CheckWritable(const std::string& dir) {
  struct stat st{};
  if (::stat(dir.c_str(), &st) != 0) {
    return IoError("output folder '{}' does not exist ({})", dir, std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) return IoError("output folder '{}' is not a directory", dir);
  std::string probe = dir + "/.greenai-write-test-" + std::to_string(::getpid());
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("output folder '{}' is not writable ({})", dir, std::strerror(errno));
  ::close(fd);
  ::unlink(probe.c_str());
  return Status::Ok();
}

}  // namespace greenai::energy
