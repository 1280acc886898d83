// Evaluation harness behind `greenai bench`: accuracy, latency, throughput and energy per
// inference of one classifier on one data set, each figure labelled with how it was obtained.
//
// What each figure means (also written into the report's "method" section):
//  - top-1: share of samples whose argmax over the output row equals the label, over the
//    whole data set (or its --limit), run in batches of `batch` through one Session.
//  - latency p50/p99: wall time of Session::Run at batch 1 (or the model's fixed batch),
//    after `warmup` untimed runs; nearest-rank percentiles over the timed runs.
//  - throughput: inferences per second during the loaded energy window (batch N back to back).
//  - energy: an idle window (no work, MeasureIdle) gives idle power P_idle; the loaded window
//    runs batches for >= window_s seconds. gross J/inference = E_loaded / count;
//    net J/inference = (E_loaded - P_idle * t_loaded) / count (the part the inferences added).
//    Both are reported; the method is "measured" only when every sensor component in the
//    total is a hardware reading, else "estimated".
//  - predicted energy: the static cost model (analyze/) for one inference on a hardware profile.
//
// Input convention: float32 images scaled to [0, 1], as the Trainer and train::Evaluate feed
// them (so bench's top-1 equals `greenai eval`'s); with EvalOptions::normalize, additionally
// (x - kInputMean) / kInputStd (Fashion-MNIST's statistics) for models trained that way.
// The sample is reshaped to the model's input rank ([N, 784] or [N, 1, 28, 28]).
// A model qualifies as a classifier when it has one float32 input and its first output is
// float32 [N, classes] with classes >= the data set's class count; anything else is an
// InvalidArgument naming the model and the input or output.
//
// Thread safety: functions are reentrant; a Tracker passed in may be shared (it locks).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "energy/tracker.h"
#include "graph/ir.h"
#include "train/data.h"

namespace greenai::bench {

// The one place bench's optional input normalization is defined (Fashion-MNIST mean/std of
// [0, 1] pixels); used only with EvalOptions::normalize.
inline constexpr float kInputMean = 0.2860f;
inline constexpr float kInputStd = 0.3530f;

// Called during long phases: done/total units of work (total 0 = unknown) and a short suffix.
using ProgressFn = std::function<void(std::string_view phase, int64_t done, int64_t total, std::string_view suffix)>;

struct EvalOptions {
  int64_t batch = 64;          // throughput / accuracy batch for models with a dynamic batch dim
  double window_s = 10.0;      // loaded energy window, seconds (>= 0; tests use short ones)
  int warmup = 5;              // untimed runs before latency timing and before the loaded window
  int latency_runs = 200;      // timed batch-1 runs (capped by latency_max_s)
  double latency_max_s = 5.0;  // stop timing latency after this long (at least 10 runs)
  int num_threads = 0;         // Session threads; 0 = all
  bool normalize = false;      // apply kInputMean/kInputStd (default: raw [0, 1], as the Trainer)
  ProgressFn progress;         // may be empty
};

struct EnergyMethod {
  std::string method = "estimated";  // "measured" | "estimated"
  std::string source;                // per component: "cpu: estimated (TDP ...); ram: ..."
};

// Idle power from a window with no work.
struct IdleFigure {
  double duration_s = 0;
  double energy_j = 0;
  double power_w = 0;
  EnergyMethod method;
};

struct ModelResult {
  std::string name;        // file stem or label
  std::string path;
  double file_bytes = 0;
  std::string input_name, output_name;
  std::string input_shape;  // as run, e.g. "[64, 1, 28, 28]"
  bool fixed_batch = false;
  int64_t batch = 1;          // throughput/accuracy batch actually used
  int64_t latency_batch = 1;  // batch of the latency runs (the fixed batch when not dynamic)
  int64_t num_classes = 0;
  // accuracy
  int64_t samples = 0, correct = 0;
  double top1 = 0;  // fraction 0..1
  // latency (ms, per Run at latency_batch)
  int latency_runs = 0;
  double latency_p50_ms = 0, latency_p99_ms = 0, latency_mean_ms = 0;
  // loaded window
  int64_t inferences = 0;
  double window_s = 0;
  double throughput_per_s = 0;
  double loaded_energy_j = 0;
  double gross_j_per_inference = 0;
  double net_j_per_inference = 0;
  // Share of the window's energy attributed to this process by CPU time (tracker attribution);
  // has_attributed false when the tracker does no attribution.
  bool has_attributed = false;
  double attributed_j_per_inference = 0;
  // The figure charted and used for carbon, the same basis for every model (ChooseHeadline).
  double headline_j_per_inference = 0;
  std::string headline_basis;
  double window_start_wall = 0, window_end_wall = 0;
  EnergyMethod energy_method;
  // carbon (filled by the caller that resolved the carbon source)
  double g_co2e_per_million = 0;        // from the headline J
  double g_co2e_per_million_gross = 0;  // from gross J
  // prediction (filled by AddPrediction)
  bool has_prediction = false;
  double predicted_j_per_inference = 0;
  std::string prediction_profile, prediction_method;
  std::vector<std::string> notes;  // e.g. fixed batch
};

// Nearest-rank percentile (q in [0, 100]) of unsorted values; 0 for an empty set.
double Percentile(std::vector<double> values, double q);

// gross and net joules per inference from one loaded window and the idle power.
// REQUIRES count > 0. Net may be negative when the load is within noise of idle; it is
// reported as computed (clamping would hide a broken measurement).
struct PerInference {
  double gross_j = 0, net_j = 0;
};
PerInference EnergyPerInference(double loaded_j, double loaded_s, double idle_w, int64_t count);

// Picks one basis for every model's headline J/inference: "net of idle" when every model's
// loaded window drew at least kMinNetShare more energy than idle power would have; otherwise (loaded power within noise of idle, e.g. other work on the
// machine during the idle window) "process-attributed" when every model has it, else net.
// Returns a note explaining a fallback ("" when net is used).
inline constexpr double kMinNetShare = 0.05;
std::string ChooseHeadline(std::vector<ModelResult>& results);

// "measured" only when every in-total component of `r` is measured.
EnergyMethod DescribeMethod(const energy::WindowReport& r);

// Runs an idle window of `seconds` on a started tracker (sleeps; reports progress).
Result<IdleFigure> MeasureIdle(energy::Tracker& tracker, double seconds, const ProgressFn& progress = {});

// The classifier checks EvaluateModel starts with (input, output type, shapes inferable), so
// a command can reject a bad model before spending minutes measuring the others.
Status CheckClassifier(const Model& model, const std::string& name, const train::Dataset& data);

// Evaluates one model: checks it is a classifier for `data`, then accuracy, latency, the loaded
// window (on `tracker`, which must be started), and energy per inference against `idle`.
// `name` and `path` label the result (path may be "" for in-memory models; file size is then 0).
Result<ModelResult> EvaluateModel(const Model& model, const std::string& name, const std::string& path,
                                  const train::Dataset& data, energy::Tracker& tracker, const IdleFigure& idle,
                                  const EvalOptions& options);

// Fills the prediction fields from the static cost model on `profile_name` (config_dir as in
// analyze::FindProfile). Per inference = the model's predicted energy at result.batch / batch.
Status AddPrediction(const Model& model, const std::string& profile_name, const std::string& config_dir,
                     ModelResult& result);

}  // namespace greenai::bench
