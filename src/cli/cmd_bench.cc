// greenai bench MODEL... --data DATASET [--report DIR [--force]] [--limit N] [--batch N] [--window S]
//               [--idle S] [--hardware NAME] [--threads N] [--normalize] [--json] [carbon options]
// For each classifier: top-1, latency p50/p99 at batch 1, throughput at batch N, joules per
// inference over a steady-state window (idle power measured first and subtracted; gross and
// net both reported), gCO2e per million inferences, file size, predicted vs measured energy
// (bench/evaluate.h). Prints a table (or one JSON object with --json) and, with --report,
// writes report.html, results.csv and results.json (bench/report.h).
// Every model is checked to be a classifier before any measuring starts; a bad model, a
// report folder that exists without --force, or a bad option exits 1 with one line.
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <thread>

#include "analyze/hardware.h"
#include "bench/evaluate.h"
#include "bench/report.h"
#include "cli/carbon_options.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "core/progress.h"
#include "energy/detect.h"
#include "energy/estimator.h"
#include "graph/onnx_io.h"

namespace greenai::cli {

namespace {

struct BenchArgs {
  std::vector<std::string> models;
  std::string data;
  std::string report;
  bool force = false;
  int64_t limit = 0;
  int64_t batch = 64;
  double window = 10;
  double idle = 5;
  std::string hardware;
  int threads = 0;
  bool json = false;
  bool normalize = false;
  std::optional<double> cpu_tdp;
  energy::CarbonOptions carbon;
};

int BenchFail(const Status& st) { return Fail("bench", st); }
int BenchFail(const std::string& m) { return Fail("bench", m); }

// "fashion-mnist" and the train layer's specs pass through; a bare folder becomes npy:DIR when
// it holds .npy files and mnist-idx:DIR otherwise.
std::string DataSpec(const std::string& d) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (d.find(':') == std::string::npos && fs::is_directory(d, ec)) {
    for (const char* f : {"x_test.npy", "x.npy"})
      if (fs::exists(fs::path(d) / f, ec)) return "npy:" + d;
    return "mnist-idx:" + d;
  }
  return d;
}

std::string Stem(const std::string& path) { return std::filesystem::path(path).stem().string(); }

// One ProgressBar per phase; a new phase finishes the previous bar.
class PhaseProgress {
 public:
  void operator()(std::string_view phase, int64_t done, int64_t total, std::string_view suffix) {
    if (!bar_ || phase != phase_) {
      Finish();
      phase_ = std::string(phase);
      bar_ = std::make_unique<ProgressBar>(phase_, total);
    }
    bar_->Update(done, suffix);
    last_suffix_ = std::string(suffix);
  }
  void Finish() {
    if (bar_) bar_->Finish(last_suffix_);
    bar_.reset();
  }

 private:
  std::string phase_, last_suffix_;
  std::unique_ptr<ProgressBar> bar_;
};

int RunBench(const BenchArgs& a) {
  namespace fs = std::filesystem;
  if (a.models.empty()) return BenchFail("at least one MODEL is required");
  if (a.data.empty()) return BenchFail("--data DATASET is required (fashion-mnist, mnist-idx:DIR, npy:DIR or a folder)");
  if (a.batch < 1) return BenchFail(fmt::format("--batch {} must be >= 1", a.batch));
  if (a.limit < 0) return BenchFail(fmt::format("--limit {} must be >= 0", a.limit));
  if (!(a.window >= 0 && a.window <= 3600)) return BenchFail(fmt::format("--window {} s is outside [0, 3600]", a.window));
  if (!(a.idle >= 0 && a.idle <= 3600)) return BenchFail(fmt::format("--idle {} s is outside [0, 3600]", a.idle));
  if (a.cpu_tdp && !(*a.cpu_tdp > 0 && *a.cpu_tdp < 10000))
    return BenchFail(fmt::format("--cpu-tdp {} W must be in (0, 10000)", *a.cpu_tdp));
  std::error_code ec;
  if (!a.report.empty() && fs::exists(a.report, ec) && !a.force)
    return BenchFail(fmt::format("report folder '{}' exists (pass --force to overwrite its report files)", a.report));
  auto carbon = energy::ResolveCarbon(a.carbon);
  if (!carbon.ok()) return BenchFail(carbon.status());
  const std::string config_dir = analyze::DefaultConfigDir();
  std::string hardware = a.hardware;
  if (hardware.empty()) hardware = analyze::FindProfile("local", config_dir).ok() ? "local" : "horowitz-45nm";
  if (auto p = analyze::FindProfile(hardware, config_dir); !p.ok()) return BenchFail(p.status());

  auto data = train::LoadDataset(DataSpec(a.data), train::Split::kTest, {.limit = a.limit});
  if (!data.ok()) return BenchFail(data.status());
  const train::Dataset& ds = **data;

  std::vector<std::unique_ptr<Model>> models;
  std::vector<std::string> names;
  for (const auto& path : a.models) {
    auto m = LoadModel(path);
    if (!m.ok()) return BenchFail(m.status().WithContext(fmt::format("model '{}'", path)));
    std::string name = Stem(path);
    // Same stem twice (a/m.onnx, b/m.onnx): keep labels distinct in the chart and table.
    if (std::find(names.begin(), names.end(), name) != names.end()) name = path;
    if (Status st = bench::CheckClassifier(**m, name, ds); !st.ok()) return BenchFail(st);
    models.push_back(std::move(*m));
    names.push_back(name);
  }

  energy::DetectOptions dopt;
  dopt.cpu_tdp_w = a.cpu_tdp;
  energy::DetectedSensors det = energy::DetectSensors(dopt);
  energy::TrackerOptions topt;
  topt.interval_s = 0.5;
  topt.notes = det.notes;
  // Attribution to this process (all its threads) by CPU time: meaningful even when other work
  // shares the machine and the idle window is not idle.
  topt.process_cpu_seconds = [] {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
  };
  energy::Tracker tracker(std::move(det.sensors), std::move(topt));
  if (Status st = tracker.Start(); !st.ok()) return BenchFail(st.WithContext("energy tracking failed to start"));

  PhaseProgress progress;
  bench::ProgressFn pf = [&progress](std::string_view ph, int64_t d, int64_t t, std::string_view s) {
    progress(ph, d, t, s);
  };
  bench::BenchReport rep;
  rep.sensors = det.summary;
  rep.sensor_notes = det.notes;
  rep.data = fmt::format("{} (test split), {} samples", a.data, ds.size());
  rep.window_s = a.window;
  rep.batch = a.batch;
  rep.normalized = a.normalize;
  {
    energy::EstimatorOptions eo;
    eo.cpu_tdp_w = a.cpu_tdp;
    rep.machine = fmt::format("{}, {} threads", energy::ResolveCpuPower(eo).cpu_model,
                              std::thread::hardware_concurrency());
  }
  rep.carbon_label = carbon->label;
  rep.carbon_g_per_kwh = carbon->g_per_kwh;
  rep.pue = carbon->pue;
  rep.carbon_warning = carbon->warning;

  {
    auto idle = bench::MeasureIdle(tracker, a.idle, pf);
    progress.Finish();
    if (!idle.ok()) return BenchFail(idle.status().WithContext("idle window"));
    rep.idle = *idle;
  }

  bench::EvalOptions eo;
  eo.batch = a.batch;
  eo.window_s = a.window;
  eo.num_threads = a.threads;
  eo.normalize = a.normalize;
  eo.progress = pf;
  for (size_t i = 0; i < models.size(); ++i) {
    auto r = bench::EvaluateModel(*models[i], names[i], a.models[i], ds, tracker, rep.idle, eo);
    progress.Finish();
    if (!r.ok()) return BenchFail(r.status());
    if (Status st = bench::AddPrediction(*models[i], hardware, config_dir, *r); !st.ok())
      r->notes.push_back("no energy prediction: " + st.message());
    rep.models.push_back(std::move(*r));
  }
  rep.headline_note = bench::ChooseHeadline(rep.models);
  for (auto& m : rep.models) {
    m.g_co2e_per_million = carbon->Grams(m.headline_j_per_inference * 1e6, m.window_start_wall, m.window_end_wall);
    m.g_co2e_per_million_gross = carbon->Grams(m.gross_j_per_inference * 1e6, m.window_start_wall, m.window_end_wall);
  }
  auto final_report = tracker.Stop();
  if (!final_report.ok()) return BenchFail(final_report.status().WithContext("energy tracking failed"));
  rep.created_wall = final_report->end_wall;

  if (!a.report.empty()) {
    if (Status st = bench::WriteReport(rep, a.report, a.force); !st.ok()) return BenchFail(st);
  }
  if (!carbon->warning.empty()) std::fprintf(stderr, "greenai bench: warning: %s\n", carbon->warning.c_str());
  if (a.json) {
    std::printf("%s", bench::ReportJson(rep).c_str());
    return 0;
  }
  std::printf("data: %s   sensors: %s   idle: %.3f W (%s)\n", rep.data.c_str(), rep.sensors.c_str(), rep.idle.power_w,
              rep.idle.method.method.c_str());
  std::printf("%-22s %8s %11s %11s %14s %13s %13s %13s %12s %13s %10s  %s\n", "model", "top-1", "p50", "p99",
              "throughput", "J/inf (net)", "J/inf (gross)", "J/inf (attr.)", "gCO2e/1M", "J/inf (pred)", "size",
              "energy");
  for (const auto& m : rep.models) {
    std::printf("%-22s %6.2f %% %8.3f ms %8.3f ms %11.1f /s %13s %13s %13s %10.3g g %13s %10s  %s\n",
                m.name.substr(0, 22).c_str(), m.top1 * 100, m.latency_p50_ms, m.latency_p99_ms, m.throughput_per_s,
                bench::EnergyText(m.net_j_per_inference).c_str(), bench::EnergyText(m.gross_j_per_inference).c_str(),
                m.has_attributed ? bench::EnergyText(m.attributed_j_per_inference).c_str() : "n/a",
                m.g_co2e_per_million,
                m.has_prediction ? bench::EnergyText(m.predicted_j_per_inference).c_str() : "n/a",
                bench::BytesText(m.file_bytes).c_str(), m.energy_method.method.c_str());
    for (const auto& n : m.notes) std::printf("  note (%s): %s\n", m.name.c_str(), n.c_str());
  }
  if (!rep.headline_note.empty()) std::printf("note: %s\n", rep.headline_note.c_str());
  std::printf("carbon (%s J): %.1f gCO2e/kWh (%s), PUE %.2f; prediction profile: %s\n",
              rep.models.empty() ? "net" : rep.models[0].headline_basis.c_str(), rep.carbon_g_per_kwh,
              rep.carbon_label.c_str(), rep.pue, hardware.c_str());
  if (!a.report.empty()) std::printf("report: %s/report.html (+ results.csv, results.json)\n", a.report.c_str());
  return 0;
}

}  // namespace

void RegisterBench(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<BenchArgs>();
  auto* sub = app.add_subcommand("bench", "accuracy, latency, throughput, energy and carbon of classifiers, with a report");
  sub->add_option("models", args->models, "ONNX classifier files")->required();
  sub->add_option("--data", args->data, "fashion-mnist, mnist-idx:DIR, npy:DIR or a folder (test split)");
  sub->add_option("--report", args->report, "write report.html, results.csv and results.json into this folder");
  sub->add_flag("--force", args->force, "overwrite the report files in an existing --report folder");
  sub->add_option("--limit", args->limit, "use only the first N samples (0 = all)");
  sub->add_option("--batch", args->batch, "throughput batch for models with a dynamic batch dim (default 64)");
  sub->add_option("--window", args->window, "loaded energy window per model, seconds (default 10)");
  sub->add_option("--idle", args->idle, "idle power window before the models, seconds (default 5)");
  sub->add_option("--hardware", args->hardware,
                  "hardware profile for the predicted energy (default: local if calibrated, else horowitz-45nm)");
  sub->add_option("--threads", args->threads, "inference threads (default: all)");
  sub->add_option_function<double>(
      "--cpu-tdp", [args](const double& v) { args->cpu_tdp = v; }, "CPU TDP in watts for the estimator");
  sub->add_flag("--normalize", args->normalize,
                "normalize inputs with Fashion-MNIST's mean 0.2860 / std 0.3530 (default: raw [0, 1], as greenai train)");
  sub->add_flag("--json", args->json, "print one JSON object on stdout");
  AddCarbonOptions(sub, &args->carbon);
  sub->callback([args, exit_code] { *exit_code = RunBench(*args); });
}

}  // namespace greenai::cli
