#include "bench/evaluate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <thread>

#include "analyze/cost_model.h"
#include "analyze/hardware.h"
#include "runtime/session.h"

namespace greenai::bench {

namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double WallNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void Report(const ProgressFn& p, std::string_view phase, int64_t done, int64_t total, std::string_view suffix = {}) {
  if (p) p(phase, done, total, suffix);
}

// What the model takes and gives, resolved against the data set.
struct Io {
  std::string input, output;
  Shape sample_dims;  // model input dims without the batch dim
  bool fixed_batch = false;
  int64_t fixed = 0;
};

Result<Io> ResolveIo(const Model& model, const std::string& name, const train::Dataset& data) {
  const Graph& g = *model.graph;
  std::vector<const ValueInfo*> real;
  for (const auto& in : g.inputs)
    if (!g.IsInitializer(in.name)) real.push_back(&in);
  if (real.size() != 1)
    return InvalidArgument("model '{}': has {} inputs but bench feeds classifiers with exactly 1 (an image batch)", name,
                           real.size());
  if (g.outputs.empty()) return InvalidArgument("model '{}': has no outputs (expects [N, classes] float32 logits)", name);
  const ValueInfo& in = *real[0];
  Io io;
  io.input = in.name;
  io.output = g.outputs[0].name;
  if (in.type.dtype != DType::kF32)
    return InvalidArgument("model '{}': input '{}' is {} but bench feeds float32 images", name, in.name,
                           DTypeName(in.type.dtype));
  if (!in.type.has_shape || in.type.rank() < 2)
    return InvalidArgument("model '{}': input '{}' has type {}; expects a batch dim plus sample dims (rank >= 2)", name,
                           in.name, in.type.ToString());
  const Shape& sample = data.sample_shape();
  const int64_t sample_numel = NumElements(sample);
  std::vector<int64_t> rest(in.type.dims.begin() + 1, in.type.dims.end());
  bool known = std::all_of(rest.begin(), rest.end(), [](int64_t d) { return d >= 0; });
  if (known) {
    if (NumElements(rest) != sample_numel)
      return InvalidArgument("model '{}': input '{}' has type {}, whose {} elements per sample differ from the data set's "
                             "{} ({} elements per sample)",
                             name, in.name, in.type.ToString(), NumElements(rest), ShapeToString(sample), sample_numel);
    io.sample_dims = rest;
  } else if (rest.size() == sample.size()) {
    io.sample_dims = sample;
  } else if (rest.size() == 1) {
    io.sample_dims = {sample_numel};
  } else {
    return InvalidArgument("model '{}': input '{}' has type {}; cannot map the data set's samples {} onto it", name,
                           in.name, in.type.ToString(), ShapeToString(sample));
  }
  io.fixed_batch = in.type.dims[0] >= 1;
  io.fixed = io.fixed_batch ? in.type.dims[0] : 0;
  return io;
}

Status CheckOutputType(const TensorType& t, const std::string& name, const std::string& output, int64_t classes) {
  if (t.dtype != DType::kUndefined && t.dtype != DType::kF32)
    return InvalidArgument("model '{}': output '{}' is {}, not a classifier (expects float32 [N, classes] logits)", name,
                           output, DTypeName(t.dtype));
  if (!t.has_shape) return Status::Ok();
  if (t.rank() != 2)
    return InvalidArgument("model '{}': output '{}' has type {}, not a classifier (expects float32 [N, classes])", name,
                           output, t.ToString());
  if (t.dims[1] >= 0 && t.dims[1] < classes)
    return InvalidArgument("model '{}': output '{}' has {} classes but the data set has {} (expects >= {})", name, output,
                           t.dims[1], classes, classes);
  return Status::Ok();
}

// Fills a [batch, sample_dims] tensor from samples first, first+1, ... (wrapping), normalized.
Result<Tensor> MakeBatch(const train::Dataset& data, const Shape& sample_dims, int64_t first, int64_t batch,
                         bool normalize) {
  Shape shape{batch};
  shape.insert(shape.end(), sample_dims.begin(), sample_dims.end());
  GREENAI_ASSIGN_OR_RETURN(Tensor t, Tensor::Create(DType::kF32, shape));
  const int64_t per = NumElements(sample_dims);
  float* d = t.data<float>();
  for (int64_t b = 0; b < batch; ++b) {
    data.CopySample((first + b) % data.size(), d + b * per);
  }
  if (normalize)
    for (int64_t i = 0; i < t.numel(); ++i) d[i] = (d[i] - kInputMean) / kInputStd;
  return t;
}

Result<Tensor> RunOnce(Session& s, const Io& io, const Tensor& x, const std::string& name, int64_t classes) {
  GREENAI_ASSIGN_OR_RETURN(std::vector<Tensor> outs, s.Run({{io.input, x}}));
  if (outs.empty()) return Internal("model '{}': produced no outputs", name);
  const Tensor& y = outs[0];
  TensorType t = TensorType::Of(y.dtype(), y.shape());
  GREENAI_RETURN_IF_ERROR(CheckOutputType(t, name, io.output, classes));
  if (y.dim(0) != x.dim(0))
    return InvalidArgument("model '{}': output '{}' has shape {} for a batch of {} (expects [N, classes])", name,
                           io.output, ShapeToString(y.shape()), x.dim(0));
  return y;
}

Result<std::unique_ptr<Session>> PlanClassifier(const Model& model, const std::string& name, const Io& io,
                                                const train::Dataset& data, int num_threads) {
  SessionOptions so;
  so.num_threads = num_threads;
  auto session_or = Session::Create(model, so);
  if (!session_or.ok())
    return Status(session_or.status().code(),
                  fmt::format("model '{}': shapes cannot be inferred or the model cannot be planned: {}", name,
                              session_or.status().message()));
  const Session& s = **session_or;
  auto it = s.graph().value_types.find(io.output);
  TensorType t;
  if (it != s.graph().value_types.end()) {
    t = it->second;
  } else {
    for (const auto& o : s.outputs())
      if (o.name == io.output) t = o.type;
  }
  GREENAI_RETURN_IF_ERROR(CheckOutputType(t, name, io.output, data.num_classes()));
  return session_or;
}

}  // namespace

Status CheckClassifier(const Model& model, const std::string& name, const train::Dataset& data) {
  if (!model.graph) return InvalidArgument("model '{}': has no graph", name);
  GREENAI_ASSIGN_OR_RETURN(Io io, ResolveIo(model, name, data));
  return PlanClassifier(model, name, io, data, 1).status();
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  q = std::clamp(q, 0.0, 100.0);
  // Nearest rank: the smallest value with at least q % of the values at or below it.
  size_t rank = static_cast<size_t>(std::ceil(q / 100.0 * static_cast<double>(v.size())));
  if (rank == 0) rank = 1;
  return v[rank - 1];
}

PerInference EnergyPerInference(double loaded_j, double loaded_s, double idle_w, int64_t count) {
  PerInference p;
  if (count <= 0) return p;
  p.gross_j = loaded_j / static_cast<double>(count);
  p.net_j = (loaded_j - idle_w * loaded_s) / static_cast<double>(count);
  return p;
}

EnergyMethod DescribeMethod(const energy::WindowReport& r) {
  EnergyMethod m;
  bool any = false, all_measured = true;
  for (const auto& c : r.components) {
    if (!c.in_total) continue;
    any = true;
    all_measured = all_measured && c.method == energy::Method::kMeasured;
    if (!m.source.empty()) m.source += "; ";
    m.source += fmt::format("{}: {} ({})", c.component, energy::MethodName(c.method), c.source);
  }
  m.method = any && all_measured ? "measured" : "estimated";
  if (!any) m.source = "no sensor components";
  return m;
}

Result<IdleFigure> MeasureIdle(energy::Tracker& tracker, double seconds, const ProgressFn& progress) {
  if (!(seconds >= 0)) return InvalidArgument("idle window {} s must be >= 0", seconds);
  GREENAI_RETURN_IF_ERROR(tracker.BeginWindow("bench:idle"));
  const auto t0 = Clock::now();
  const int64_t total_ms = static_cast<int64_t>(seconds * 1000);
  for (;;) {
    const double el = SecondsSince(t0);
    Report(progress, "idle window", static_cast<int64_t>(el * 1000), total_ms, "no work, measuring idle power");
    if (el >= seconds) break;
    std::this_thread::sleep_for(std::chrono::duration<double>(std::min(0.2, seconds - el)));
  }
  GREENAI_ASSIGN_OR_RETURN(energy::WindowReport w, tracker.EndWindow("bench:idle"));
  IdleFigure f;
  f.duration_s = w.duration_s;
  f.energy_j = w.total_j;
  f.power_w = w.duration_s > 0 ? w.total_j / w.duration_s : 0;
  f.method = DescribeMethod(w);
  return f;
}

Result<ModelResult> EvaluateModel(const Model& model, const std::string& name, const std::string& path,
                                  const train::Dataset& data, energy::Tracker& tracker, const IdleFigure& idle,
                                  const EvalOptions& opt) {
  if (opt.batch < 1) return InvalidArgument("batch {} must be >= 1", opt.batch);
  if (!(opt.window_s >= 0)) return InvalidArgument("window {} s must be >= 0", opt.window_s);
  if (data.size() < 1) return InvalidArgument("data set '{}' is empty", data.name());
  if (!model.graph) return InvalidArgument("model '{}': has no graph", name);
  ModelResult r;
  r.name = name;
  r.path = path;
  r.num_classes = data.num_classes();
  if (!path.empty()) {
    std::error_code ec;
    auto sz = std::filesystem::file_size(path, ec);
    if (!ec) r.file_bytes = static_cast<double>(sz);
  }
  GREENAI_ASSIGN_OR_RETURN(Io io, ResolveIo(model, name, data));
  r.input_name = io.input;
  r.output_name = io.output;
  r.fixed_batch = io.fixed_batch;
  r.batch = io.fixed_batch ? io.fixed : opt.batch;
  r.latency_batch = io.fixed_batch ? io.fixed : 1;
  if (io.fixed_batch)
    r.notes.push_back(fmt::format("input '{}' has a fixed batch of {}: latency, throughput and accuracy run at batch {}",
                                  io.input, io.fixed, io.fixed));
  {
    Shape s{r.batch};
    s.insert(s.end(), io.sample_dims.begin(), io.sample_dims.end());
    r.input_shape = ShapeToString(s);
  }

  GREENAI_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, PlanClassifier(model, name, io, data, opt.num_threads));
  Session& s = *session;

  // Accuracy: batches of r.batch; a short last batch is padded with wrapped samples whose
  // outputs are ignored, so a fixed-batch model and the planned shapes both stay valid.
  const int64_t n = data.size();
  const int64_t nb = (n + r.batch - 1) / r.batch;
  for (int64_t b = 0; b < nb; ++b) {
    const int64_t first = b * r.batch;
    GREENAI_ASSIGN_OR_RETURN(Tensor x, MakeBatch(data, io.sample_dims, first, r.batch, opt.normalize));
    auto y = RunOnce(s, io, x, name, data.num_classes());
    if (!y.ok()) return y.status().WithContext(fmt::format("accuracy batch {}", b));
    const int64_t classes = y->dim(1);
    const float* p = y->data<float>();
    for (int64_t i = 0; i < r.batch && first + i < n; ++i) {
      const float* row = p + i * classes;
      int64_t best = 0;
      for (int64_t c = 1; c < classes; ++c)
        if (row[c] > row[best]) best = c;
      r.correct += best == data.label(first + i);
      ++r.samples;
    }
    if ((b + 1) % std::max<int64_t>(1, nb / 100) == 0 || b + 1 == nb)
      Report(opt.progress, "accuracy " + name, b + 1, nb,
           fmt::format("top-1 {:.2f} %", 100.0 * static_cast<double>(r.correct) / static_cast<double>(r.samples)));
  }
  r.top1 = static_cast<double>(r.correct) / static_cast<double>(r.samples);

  // Latency at batch 1 (or the fixed batch).
  {
    GREENAI_ASSIGN_OR_RETURN(Tensor x1, MakeBatch(data, io.sample_dims, 0, r.latency_batch, opt.normalize));
    for (int i = 0; i < opt.warmup; ++i) GREENAI_RETURN_IF_ERROR(RunOnce(s, io, x1, name, data.num_classes()).status());
    std::vector<double> ms;
    const auto t0 = Clock::now();
    const int want = std::max(opt.latency_runs, 1);
    while (static_cast<int>(ms.size()) < want) {
      const auto a = Clock::now();
      GREENAI_RETURN_IF_ERROR(RunOnce(s, io, x1, name, data.num_classes()).status());
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
      if (ms.size() % 50 == 0)
        Report(opt.progress, "latency " + name, static_cast<int64_t>(ms.size()), want,
               fmt::format("p50 {:.3f} ms", Percentile(ms, 50)));
      if (ms.size() >= 10 && SecondsSince(t0) >= opt.latency_max_s) break;
    }
    Report(opt.progress, "latency " + name, static_cast<int64_t>(ms.size()), static_cast<int64_t>(ms.size()),
           fmt::format("p50 {:.3f} ms", Percentile(ms, 50)));
    r.latency_runs = static_cast<int>(ms.size());
    r.latency_p50_ms = Percentile(ms, 50);
    r.latency_p99_ms = Percentile(ms, 99);
    double sum = 0;
    for (double v : ms) sum += v;
    r.latency_mean_ms = sum / static_cast<double>(ms.size());
  }

  // Loaded window: batches prepared beforehand so only inference is inside the window.
  {
    std::vector<Tensor> xs;
    const int64_t k = std::min<int64_t>(4, std::max<int64_t>(1, n / r.batch));
    for (int64_t i = 0; i < k; ++i) {
      GREENAI_ASSIGN_OR_RETURN(Tensor x, MakeBatch(data, io.sample_dims, i * r.batch, r.batch, opt.normalize));
      xs.push_back(std::move(x));
    }
    for (int i = 0; i < opt.warmup; ++i) GREENAI_RETURN_IF_ERROR(RunOnce(s, io, xs[0], name, data.num_classes()).status());
    const std::string wname = "bench:" + name;
    GREENAI_RETURN_IF_ERROR(tracker.BeginWindow(wname));
    r.window_start_wall = WallNow();
    const auto t0 = Clock::now();
    const int64_t total_ms = static_cast<int64_t>(opt.window_s * 1000);
    const std::string phase = "energy window " + name;
    double last_report = -1;
    int64_t runs = 0;
    Status run_status;
    do {
      auto y = RunOnce(s, io, xs[static_cast<size_t>(runs) % xs.size()], name, data.num_classes());
      if (!y.ok()) {
        run_status = y.status();
        break;
      }
      ++runs;
      // Progress at most every 0.25 s: formatting per run would slow small models measurably.
      const double el = SecondsSince(t0);
      if (el - last_report >= 0.25) {
        last_report = el;
        Report(opt.progress, phase, static_cast<int64_t>(el * 1000), total_ms,
               fmt::format("{:.0f} inferences/s", static_cast<double>(runs * r.batch) / std::max(el, 1e-9)));
      }
      if (el >= opt.window_s) break;
    } while (true);
    Report(opt.progress, phase, total_ms, total_ms,
           fmt::format("{:.0f} inferences/s", static_cast<double>(runs * r.batch) / std::max(SecondsSince(t0), 1e-9)));
    const double elapsed = SecondsSince(t0);
    r.window_end_wall = WallNow();
    auto w = tracker.EndWindow(wname);
    GREENAI_RETURN_IF_ERROR(run_status);
    if (!w.ok()) return w.status();
    r.inferences = runs * r.batch;
    r.window_s = w->duration_s;
    r.throughput_per_s = static_cast<double>(r.inferences) / std::max(elapsed, 1e-9);
    r.loaded_energy_j = w->total_j;
    const PerInference pi = EnergyPerInference(w->total_j, w->duration_s, idle.power_w, r.inferences);
    r.gross_j_per_inference = pi.gross_j;
    r.net_j_per_inference = pi.net_j;
    r.energy_method = DescribeMethod(*w);
    if (w->process_total_j > 0) {
      r.has_attributed = true;
      r.attributed_j_per_inference = w->process_total_j / static_cast<double>(r.inferences);
    }
    r.headline_j_per_inference = r.net_j_per_inference;
    r.headline_basis = "net of idle";
  }
  return r;
}

std::string ChooseHeadline(std::vector<ModelResult>& results) {
  bool all_net = true, all_attr = true;
  for (const auto& r : results) {
    // Net is meaningful when the load added at least 5 % over idle power; below that it is
    // within what other work on the machine and sensor noise move.
    const double added = r.net_j_per_inference * static_cast<double>(r.inferences);
    const double idle_part = r.loaded_energy_j - added;
    all_net = all_net && r.net_j_per_inference > 0 && added >= kMinNetShare * idle_part;
    all_attr = all_attr && r.has_attributed;
  }
  const bool attr = !all_net && all_attr;
  for (auto& r : results) {
    r.headline_j_per_inference = attr ? r.attributed_j_per_inference : r.net_j_per_inference;
    r.headline_basis = attr ? "process-attributed" : "net of idle";
  }
  if (all_net) return "";
  return attr ? "loaded power did not exceed idle power by 5 % for every model (other work on the machine, or a load "
                "within sensor noise), so net figures are not meaningful; charts and carbon use the energy "
                "attributed to this process by its share of CPU time"
              : "loaded power did not exceed idle power by 5 % for every model and no process attribution is available; "
                "net figures are shown as computed";
}

Status AddPrediction(const Model& model, const std::string& profile_name, const std::string& config_dir,
                     ModelResult& result) {
  GREENAI_ASSIGN_OR_RETURN(analyze::HardwareProfile profile, analyze::FindProfile(profile_name, config_dir));
  GREENAI_ASSIGN_OR_RETURN(analyze::ModelCostReport cost, analyze::AnalyzeModel(model, {.batch = result.batch}));
  const analyze::ModelPrediction p = analyze::Predict(profile, cost);
  result.prediction_profile = profile.name;
  // Counted at the throughput batch, so weights are read once per batch: per inference this is
  // lower than `greenai analyze` at its default batch 1, and the method says so.
  result.prediction_method = p.method + " (counted at batch " + std::to_string(cost.batch) +
                             ", weights read once per batch, divided per inference)";
  result.has_prediction = p.has_energy;
  if (p.has_energy) result.predicted_j_per_inference = p.energy_j / static_cast<double>(std::max<int64_t>(cost.batch, 1));
  return Status::Ok();
}

}  // namespace greenai::bench
