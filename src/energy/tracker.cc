#include "energy/tracker.h"

#include <time.h>

#include <algorithm>
#include <chrono>

#include "energy/procfs.h"

namespace greenai::energy {

const ComponentReport* Report::Find(const std::string& component) const {
  for (const auto& c : components) {
    if (c.component == component) return &c;
  }
  return nullptr;
}

Tracker::Tracker(std::vector<std::unique_ptr<Sensor>> sensors, TrackerOptions options, const Clock& clock)
    : sensors_(std::move(sensors)), options_(std::move(options)), clock_(clock) {}

Tracker::~Tracker() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

double Tracker::MachineBusySeconds() const {
  if (options_.machine_busy_seconds) return options_.machine_busy_seconds();
  CpuJiffies j = ReadCpuJiffies("/proc");
  return static_cast<double>(j.total - j.idle) / static_cast<double>(ClockTicksPerSecond());
}

Status Tracker::SampleLocked(bool first) {
  double t = clock_.NowSeconds();
  double wall = clock_.WallSeconds();
  double dt = first ? 0.0 : std::max(0.0, t - last_t_);
  bool attributing = static_cast<bool>(options_.process_cpu_seconds);
  double cpu_share = -1;
  if (attributing) {
    // CPU time is monotonic for a live tree; a child that exited before being reaped
    // can make the sum dip for a moment, so never let it go back.
    double pc = std::max(options_.process_cpu_seconds(), first ? 0.0 : last_proc_cpu_);
    double busy = MachineBusySeconds();
    if (first) {
      proc_cpu0_ = pc;
    } else {
      double dbusy = busy - last_busy_, dproc = pc - last_proc_cpu_;
      cpu_share = dbusy > 0 ? std::clamp(dproc / dbusy, 0.0, 1.0) : (dproc > 0 ? 1.0 : 0.0);
    }
    last_proc_cpu_ = pc;
    last_busy_ = busy;
    if (options_.attribution_pids) {
      std::vector<int> pids = options_.attribution_pids();
      for (auto& s : sensors_) s->SetAttributionPids(pids);
    }
  }
  Status status;
  Sample sample;
  sample.t = t - t0_;
  sample.wall = wall;
  sample.dt = dt;
  sample.cpu_share = cpu_share;
  for (auto& sensor : sensors_) {
    auto readings = sensor->Read(t);
    if (!readings.ok()) {
      status = readings.status().WithContext("sensor " + sensor->Name());
      continue;
    }
    for (const auto& r : *readings) {
      auto [it, inserted] = comps_.try_emplace(r.component);
      CompState& c = it->second;
      if (inserted) {
        order_.push_back(r.component);
        c.report.component = r.component;
        c.base = c.last = r.energy_j;
      }
      c.report.method = r.method;
      c.report.source = r.source;
      c.report.in_total = r.in_total;
      double delta = std::max(0.0, r.energy_j - c.last);
      c.last = r.energy_j;
      c.report.energy_j = c.last - c.base;
      double share = r.process_share >= 0 ? r.process_share : cpu_share;
      if (attributing && !first && share > 0) c.report.process_energy_j += delta * share;
      double w = dt > 0 ? delta / dt : 0.0;
      if (!first) {
        c.report.peak_w = std::max(c.report.peak_w, w);
        c.report.last_w = w;
      }
      if (r.utilization >= 0 && !first) {
        c.util_sum += r.utilization;
        ++c.util_n;
      }
      ComponentSample cs;
      cs.component = r.component;
      cs.method = r.method;
      cs.source = r.source;
      cs.in_total = r.in_total;
      cs.energy_j = c.report.energy_j;
      cs.process_energy_j = c.report.process_energy_j;
      cs.power_w = w;
      cs.utilization = r.utilization;
      sample.components.push_back(std::move(cs));
    }
  }
  last_t_ = t;
  last_wall_ = wall;
  ++samples_;
  if (options_.on_sample && !first) options_.on_sample(sample);
  return status;
}

Status Tracker::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_) return FailedPrecondition("Tracker: Start called twice");
  if (sensors_.empty()) return FailedPrecondition("Tracker: no sensors");
  if (!(options_.interval_s >= 0)) return InvalidArgument("Tracker: interval {} s must be >= 0", options_.interval_s);
  started_ = true;
  t0_ = clock_.NowSeconds();
  wall0_ = clock_.WallSeconds();
  GREENAI_RETURN_IF_ERROR(SampleLocked(/*first=*/true));
  // Durations run from the first reading, the same instant energies count from, so mean
  // power is exact rather than off by the time the first reading took.
  t0_ = last_t_;
  if (options_.interval_s > 0) thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void Tracker::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  auto period = std::chrono::duration<double>(options_.interval_s);
  auto next = std::chrono::steady_clock::now();
  while (!stopping_) {
    next += std::chrono::duration_cast<std::chrono::steady_clock::duration>(period);
    if (cv_.wait_until(lock, next, [this] { return stopping_; })) break;
    (void)SampleLocked(false);  // a failed reading keeps the previous values; Stop reports errors
  }
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  sampler_cpu_s_ = static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

Status Tracker::SampleNow() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!started_ || stopped_) return FailedPrecondition("Tracker: SampleNow outside Start/Stop");
  return SampleLocked(false);
}

Result<Report> Tracker::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!started_ || stopped_) return FailedPrecondition("Tracker: Stop without a running Start");
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  Status st = SampleLocked(false);
  stopped_ = true;
  if (!st.ok()) return st;
  return ReportLocked();
}

bool Tracker::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return started_ && !stopped_;
}

Report Tracker::LastReport() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ReportLocked();
}

Report Tracker::ReportLocked() const {
  Report r;
  r.start_wall = wall0_;
  r.end_wall = last_wall_;
  r.duration_s = last_t_ - t0_;
  r.samples = samples_;
  r.attributed = static_cast<bool>(options_.process_cpu_seconds);
  r.process_cpu_s = last_proc_cpu_ - proc_cpu0_;
  r.sampler_cpu_s = sampler_cpu_s_;
  r.notes = options_.notes;
  for (const auto& name : order_) {
    const CompState& c = comps_.at(name);
    ComponentReport cr = c.report;
    cr.mean_w = r.duration_s > 0 ? cr.energy_j / r.duration_s : 0.0;
    cr.mean_utilization = c.util_n ? c.util_sum / c.util_n : -1;
    if (cr.in_total) {
      r.total_j += cr.energy_j;
      r.process_total_j += cr.process_energy_j;
    }
    r.any_estimated = r.any_estimated || cr.method == Method::kEstimated;
    r.components.push_back(cr);
  }
  return r;
}

Status Tracker::BeginWindow(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!started_ || stopped_) return FailedPrecondition("Tracker: BeginWindow('{}') while not running", name);
  GREENAI_RETURN_IF_ERROR(SampleLocked(false));
  OpenWindow w;
  w.t = last_t_;
  for (const auto& [comp, c] : comps_) w.energy[comp] = {c.report.energy_j, c.report.process_energy_j};
  windows_[name].push_back(std::move(w));
  return Status::Ok();
}

Result<WindowReport> Tracker::EndWindow(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = windows_.find(name);
  if (it == windows_.end() || it->second.empty()) {
    return FailedPrecondition("Tracker: EndWindow('{}') without a matching BeginWindow", name);
  }
  if (!started_ || stopped_) return FailedPrecondition("Tracker: EndWindow('{}') while not running", name);
  GREENAI_RETURN_IF_ERROR(SampleLocked(false));
  OpenWindow w = std::move(it->second.back());
  it->second.pop_back();
  WindowReport r;
  r.name = name;
  r.duration_s = last_t_ - w.t;
  for (const auto& comp : order_) {
    const CompState& c = comps_.at(comp);
    auto [e0, p0] = w.energy.count(comp) ? w.energy[comp] : std::pair<double, double>{0.0, 0.0};
    ComponentReport cr;
    cr.component = comp;
    cr.method = c.report.method;
    cr.source = c.report.source;
    cr.in_total = c.report.in_total;
    cr.energy_j = c.report.energy_j - e0;
    cr.process_energy_j = c.report.process_energy_j - p0;
    cr.mean_w = r.duration_s > 0 ? cr.energy_j / r.duration_s : 0.0;
    if (cr.in_total) {
      r.total_j += cr.energy_j;
      r.process_total_j += cr.process_energy_j;
    }
    r.components.push_back(cr);
  }
  WindowStats& s = stats_[name];
  ++s.count;
  s.total_j += r.total_j;
  s.process_total_j += r.process_total_j;
  s.duration_s += r.duration_s;
  return r;
}

WindowStats Tracker::Stats(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = stats_.find(name);
  return it == stats_.end() ? WindowStats{} : it->second;
}

}  // namespace greenai::energy
