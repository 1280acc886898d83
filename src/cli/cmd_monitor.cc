// greenai monitor: samples the machine continuously and serves Prometheus text on
// 127.0.0.1:PORT/metrics until SIGINT/SIGTERM (or --duration seconds).
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <optional>
#include <thread>

#include "cli/carbon_options.h"
#include "cli/commands.h"
#include "energy/clock.h"
#include "energy/detect.h"
#include "energy/metrics_server.h"
#include "energy/report.h"
#include "energy/tracker.h"

namespace greenai::cli {
namespace {

volatile sig_atomic_t g_stop = 0;
void OnStop(int) { g_stop = 1; }

struct MonitorArgs {
  energy::CarbonOptions carbon;
  int port = 9464;
  double interval = 1.0;
  double duration = 0.0;
  std::optional<double> cpu_tdp;
};

int Fail(const std::string& msg) {
  std::fprintf(stderr, "greenai monitor: %s\n", msg.c_str());
  return 2;
}

int RunMonitor(const MonitorArgs& a) {
  if (!(a.interval >= 0.01 && a.interval <= 3600)) {
    return Fail(fmt::format("--interval {} s is outside [0.01, 3600]", a.interval));
  }
  if (a.duration < 0) return Fail(fmt::format("--duration {} s must be >= 0 (0 = until stopped)", a.duration));
  if (a.cpu_tdp && !(*a.cpu_tdp > 0 && *a.cpu_tdp < 10000)) {
    return Fail(fmt::format("--cpu-tdp {} W must be in (0, 10000)", *a.cpu_tdp));
  }
  auto carbon = energy::ResolveCarbon(a.carbon);
  if (!carbon.ok()) return Fail(carbon.status().message());
  if (!carbon->warning.empty()) std::fprintf(stderr, "greenai monitor: warning: %s\n", carbon->warning.c_str());

  energy::DetectOptions dopt;
  dopt.cpu_tdp_w = a.cpu_tdp;
  energy::DetectedSensors det = energy::DetectSensors(dopt);
  for (const auto& n : det.notes) std::fprintf(stderr, "greenai monitor: note: %s\n", n.c_str());
  energy::TrackerOptions topt;
  topt.interval_s = a.interval;
  topt.notes = det.notes;
  energy::Tracker tracker(std::move(det.sensors), std::move(topt));
  if (Status s = tracker.Start(); !s.ok()) return Fail(s.message());
  energy::CarbonSource src = *carbon;
  energy::MetricsServer server([&tracker, &src] { return energy::PrometheusText(tracker.LastReport(), src); });
  if (Status s = server.Start(a.port); !s.ok()) return Fail(s.message());
  std::fprintf(stderr, "greenai monitor: serving http://127.0.0.1:%d/metrics (sensors: %s; every %g s)\n",
               server.port(), det.summary.c_str(), a.interval);
  std::fflush(stderr);

  struct sigaction sa{};
  sa.sa_handler = OnStop;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  double t0 = energy::SystemClock().NowSeconds();
  while (!g_stop && (a.duration <= 0 || energy::SystemClock().NowSeconds() - t0 < a.duration)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  server.Stop();
  auto report = tracker.Stop();
  if (!report.ok()) return Fail(report.status().message());
  energy::ReportContext ctx;
  ctx.sensors = det.summary;
  std::fputs(energy::FormatSummary(*report, src, ctx).c_str(), stderr);
  return 0;
}

}  // namespace

void RegisterMonitor(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<MonitorArgs>();
  auto* sub = app.add_subcommand("monitor", "sample energy continuously and serve Prometheus metrics on 127.0.0.1");
  AddCarbonOptions(sub, &args->carbon);
  sub->add_option("--port", args->port, "TCP port on 127.0.0.1 (default 9464; 0 = any free port)");
  sub->add_option("--interval", args->interval, "sampling interval in seconds (default 1)");
  sub->add_option("--duration", args->duration, "stop after this many seconds (default 0 = until SIGINT/SIGTERM)");
  sub->add_option_function<double>(
      "--cpu-tdp", [args](const double& v) { args->cpu_tdp = v; }, "CPU TDP in watts for the estimator");
  sub->callback([args, exit_code] { *exit_code = RunMonitor(*args); });
}

}  // namespace greenai::cli
