// greenai run MODEL --input NAME=FILE.npy|.pb ... [--output-dir DIR] [--threads N]
//                   [--profile] [--repeat N] [--warmup N] [--json]
// Runs a model once (or N times) on the CPU backend and prints every output (name, dtype,
// shape, first values) and the latency. Inputs are checked against the model before running
// so a missing/unknown input or a dtype/shape mismatch is one line naming the input.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "core/npy.h"
#include "graph/onnx_io.h"
#include "runtime/session.h"

namespace greenai::cli {

namespace {

struct RunArgs {
  std::string model;
  std::vector<std::string> inputs;
  std::string output_dir;
  int threads = 0;
  int repeat = 1;
  int warmup = 0;
  bool profile = false;
  bool json = false;
};

std::string TypeText(const TensorType& t) {
  std::string s = std::string(DTypeName(t.dtype)) + "[";
  if (!t.has_shape) return s + "...]";
  for (size_t i = 0; i < t.dims.size(); ++i) {
    if (i) s += ", ";
    const std::string p = i < t.dim_params.size() ? t.dim_params[i] : "";
    s += !p.empty() ? p : t.dims[i] < 0 ? "?" : std::to_string(t.dims[i]);
  }
  return s + "]";
}

// The feed matches the declared input type (dtype, rank, every known dim)?
Status CheckFeed(const ValueInfo& vi, const Tensor& t, const std::string& file) {
  const TensorType& want = vi.type;
  if (want.dtype != DType::kUndefined && t.dtype() != want.dtype)
    return InvalidArgument("input '{}' from '{}': dtype {} but the model expects {}", vi.name, file,
                           DTypeName(t.dtype()), TypeText(want));
  if (!want.has_shape) return Status::Ok();
  if (t.rank() != want.rank())
    return InvalidArgument("input '{}' from '{}': shape {} has rank {} but the model expects {} (rank {})", vi.name,
                           file, ShapeToString(t.shape()), t.rank(), TypeText(want), want.rank());
  for (int i = 0; i < t.rank(); ++i) {
    const int64_t d = want.dims[static_cast<size_t>(i)];
    if (d >= 0 && d != t.dim(i))
      return InvalidArgument("input '{}' from '{}': shape {} but the model expects {} (dim {} must be {})", vi.name,
                             file, ShapeToString(t.shape()), TypeText(want), i, d);
  }
  return Status::Ok();
}

std::string JoinNames(const std::vector<ValueInfo>& vs) {
  std::string s;
  for (const auto& v : vs) s += (s.empty() ? "" : ", ") + v.name;
  return s.empty() ? "(none)" : s;
}

struct ProfileRow {
  std::string node, op, kernel;
  int64_t calls;
  double ms;
};

int RunRun(const RunArgs& a) {
  auto loaded = LoadModel(a.model);
  if (!loaded.ok()) return Fail("run", loaded.status());

  // Parse and load every --input before building the session: file errors come first.
  std::vector<std::pair<std::string, Tensor>> feeds;
  std::map<std::string, std::string> files;
  for (const auto& arg : a.inputs) {
    auto nf = ParseNameEqualsFile(arg, "--input");
    if (!nf.ok()) return Fail("run", nf.status());
    auto [name, file] = *nf;
    if (files.count(name)) return Fail("run", fmt::format("input '{}' given twice (--input {})", name, arg));
    auto t = LoadTensorFile(file);
    if (!t.ok()) return Fail("run", t.status().WithContext(fmt::format("input '{}'", name)));
    files[name] = file;
    feeds.emplace_back(name, std::move(*t));
  }

  TimingProfiler profiler;
  SessionOptions so;
  so.num_threads = a.threads;
  if (a.profile) so.profiler = &profiler;
  auto session = Session::Create(**loaded, so);
  if (!session.ok()) return Fail("run", session.status());
  Session& s = **session;

  for (const auto& [name, t] : feeds) {
    auto it = std::find_if(s.inputs().begin(), s.inputs().end(), [&](const ValueInfo& v) { return v.name == name; });
    if (it == s.inputs().end())
      return Fail("run", fmt::format("unknown input '{}' (model inputs: {})", name, JoinNames(s.inputs())));
    Status st = CheckFeed(*it, t, files[name]);
    if (!st.ok()) return Fail("run", st);
  }
  for (const auto& vi : s.inputs())
    if (!files.count(vi.name))
      return Fail("run", fmt::format("missing input '{}' ({}): pass --input {}=FILE.npy", vi.name, TypeText(vi.type),
                                     vi.name));

  // Warm-up runs (oneDNN creates its primitives and the executor its buffers in the first run)
  // are neither timed nor profiled.
  for (int r = 0; r < a.warmup; ++r) {
    auto res = s.Run(feeds);
    if (!res.ok()) return Fail("run", res.status());
  }
  profiler.Clear();
  std::vector<double> lat_ms;
  std::vector<Tensor> outs;
  for (int r = 0; r < a.repeat; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    auto res = s.Run(feeds);
    const auto t1 = std::chrono::steady_clock::now();
    if (!res.ok()) return Fail("run", res.status());
    lat_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    outs = std::move(*res);
  }
  std::vector<double> sorted_lat = lat_ms;
  std::sort(sorted_lat.begin(), sorted_lat.end());
  double sum = 0;
  for (double v : lat_ms) sum += v;
  const double mean = sum / static_cast<double>(lat_ms.size());
  const double median = sorted_lat[sorted_lat.size() / 2];

  std::vector<std::string> written;
  if (!a.output_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(a.output_dir, ec);
    if (ec) return Fail("run", fmt::format("--output-dir '{}': cannot create folder: {}", a.output_dir, ec.message()));
    for (size_t i = 0; i < outs.size() && i < s.outputs().size(); ++i) {
      const std::string path = (std::filesystem::path(a.output_dir) / (SafeFileName(s.outputs()[i].name) + ".npy")).string();
      Status st = SaveNpy(outs[i], path);
      if (!st.ok()) return Fail("run", st.WithContext(fmt::format("output '{}'", s.outputs()[i].name)));
      written.push_back(path);
    }
  }

  std::vector<ProfileRow> rows;
  double op_total = 0;
  if (a.profile) {
    for (const auto& e : profiler.entries()) {
      rows.push_back({e.node_name.empty() ? "(unnamed)" : e.node_name, e.op_type, e.kernel, e.calls, e.total_ms});
      op_total += e.total_ms;
    }
    std::stable_sort(rows.begin(), rows.end(), [](const auto& x, const auto& y) { return x.ms > y.ms; });
  }

  if (a.json) {
    nlohmann::ordered_json j;
    j["model"] = a.model;
    nlohmann::ordered_json jo = nlohmann::ordered_json::array();
    for (size_t i = 0; i < outs.size(); ++i) {
      nlohmann::ordered_json o;
      o["name"] = i < s.outputs().size() ? s.outputs()[i].name : "";
      o["dtype"] = std::string(DTypeName(outs[i].dtype()));
      o["shape"] = outs[i].shape();
      o["preview"] = TensorPreview(outs[i]);
      if (i < written.size()) o["file"] = written[i];
      jo.push_back(o);
    }
    j["outputs"] = jo;
    j["repeat"] = a.repeat;
    j["warmup"] = a.warmup;
    j["latency_ms"] = {{"mean", mean}, {"median", median}, {"min", sorted_lat.front()}, {"max", sorted_lat.back()}};
    if (a.profile) {
      nlohmann::ordered_json jp = nlohmann::ordered_json::array();
      for (const auto& r : rows)
        jp.push_back({{"node", r.node}, {"op", r.op}, {"kernel", r.kernel}, {"calls", r.calls}, {"total_ms", r.ms},
                      {"percent", sum > 0 ? 100.0 * r.ms / sum : 0.0}});
      j["profile"] = jp;
      j["profile_total_ms"] = op_total;
    }
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }

  for (size_t i = 0; i < outs.size(); ++i) {
    const std::string name = i < s.outputs().size() ? s.outputs()[i].name : "?";
    std::printf("output %s: %s %s %s\n", name.c_str(), std::string(DTypeName(outs[i].dtype())).c_str(),
                ShapeToString(outs[i].shape()).c_str(), TensorPreview(outs[i]).c_str());
    if (i < written.size()) std::printf("  written to %s\n", written[i].c_str());
  }
  if (a.repeat == 1)
    std::printf("latency: %.3f ms\n", mean);
  else
    std::printf("latency: mean %.3f ms, median %.3f ms, min %.3f ms, max %.3f ms over %d runs\n", mean, median,
                sorted_lat.front(), sorted_lat.back(), a.repeat);
  if (a.profile) {
    size_t wn = 11, wo = 2, wk = 6;  // 11: width of "total (ops)"
    for (const auto& r : rows) {
      wn = std::max(wn, r.node.size());
      wo = std::max(wo, r.op.size());
      wk = std::max(wk, r.kernel.size());
    }
    const int n = static_cast<int>(wn), o = static_cast<int>(wo), k = static_cast<int>(wk);
    std::printf("\nprofile over %d run(s) (%% of total run time %.3f ms):\n", a.repeat, sum);
    std::printf("  %-*s  %-*s  %-*s  %7s  %12s  %7s\n", n, "node", o, "op", k, "kernel", "calls", "total (ms)",
                "% run");
    for (const auto& r : rows)
      std::printf("  %-*s  %-*s  %-*s  %7lld  %12.3f  %6.1f%%\n", n, r.node.c_str(), o, r.op.c_str(), k,
                  r.kernel.c_str(), static_cast<long long>(r.calls), r.ms, sum > 0 ? 100.0 * r.ms / sum : 0.0);
    std::printf("  %-*s  %-*s  %-*s  %7s  %12.3f  %6.1f%%\n", n, "total (ops)", o, "", k, "", "", op_total,
                sum > 0 ? 100.0 * op_total / sum : 0.0);
  }
  return 0;
}

}  // namespace

void RegisterRun(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<RunArgs>();
  auto* sub = app.add_subcommand("run", "Run an ONNX model on the CPU and print its outputs and latency");
  sub->add_option("model", args->model, "ONNX model file")->required();
  sub->add_option("--input,-i", args->inputs, "NAME=FILE.npy|FILE.pb (repeat per input)");
  sub->add_option("--output-dir,-o", args->output_dir, "write each output to DIR/NAME.npy");
  sub->add_option("--threads", args->threads, "threads (0 = all cores)")->check(CLI::Range(0, 1024));
  sub->add_option("--repeat", args->repeat, "run N times; report mean/median/min/max latency")
      ->check(CLI::Range(1, 1000000));
  sub->add_option("--warmup", args->warmup, "untimed, unprofiled runs before the timed ones (default 0)")
      ->check(CLI::Range(0, 1000000));
  sub->add_flag("--profile", args->profile, "print a per-op time table");
  sub->add_flag("--json", args->json, "print one JSON object on stdout");
  sub->callback([args, exit_code] { *exit_code = RunRun(*args); });
}

}  // namespace greenai::cli
