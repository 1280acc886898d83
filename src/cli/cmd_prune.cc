// greenai prune MODEL -o OUT [--method magnitude|gradient|taylor|nm|2:4|structured] [--sparsity S]
//               [--scope layer|global] [--nm N:M] [--target-flops F] [--iterations K]
//               [--finetune-epochs E --data DATASET] [--accuracy-floor A] [--exclude NAME ...] [--json]
// Prunes with the compress/prune passes, optionally in K rounds (sparsity s*i/K at round i, each
// followed by fine-tuning with the zeros kept), stopping early and keeping the last model whose
// test accuracy stays at or above --accuracy-floor. Reports per-layer sparsity or channels,
// FLOPs (dense cost model) and the MACs the sparse kernels actually do, params, file size.
#include <cmath>
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "analyze/cost_model.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "compress/prune/finetune.h"
#include "compress/prune/prune.h"
#include "graph/onnx_io.h"
#include "train/data.h"
#include "train/trainer.h"

namespace greenai::cli {
namespace {

struct PruneArgs {
  std::string model, out, method = "magnitude", scope = "layer", nm = "2:4", data;
  double sparsity = 0.5, target_flops = 0, accuracy_floor = -1, lr = 5e-4;
  int64_t iterations = 1, channel_multiple = 1, finetune_epochs = 0, batch = 128, limit = 0, eval_limit = 0, importance_batches = 8;
  uint64_t seed = 1;
  int threads = 0;
  std::vector<std::string> exclude;
  bool json = false;
};

struct Stats {
  double flops = 0, macs = 0, effective_macs = 0, params = 0, nonzero_params = 0;
};

// Dense cost from the analyzer; effective MACs scale each Gemm/MatMul/Conv by its weight density
// (what the sparse kernels execute when they take the layer).
Result<Stats> Measure(const Model& m) {
  GREENAI_ASSIGN_OR_RETURN(auto c, analyze::AnalyzeModel(m));
  Stats s;
  s.flops = c.flops;
  s.macs = c.macs;
  s.params = c.params;
  s.effective_macs = c.macs;
  const Graph& g = *m.graph;
  for (size_t i = 0; i < g.nodes().size() && i < c.nodes.size(); ++i) {
    const Node& n = *g.nodes()[i];
    if ((n.op_type == "Gemm" || n.op_type == "MatMul" || n.op_type == "Conv") && n.HasInput(1))
      if (const Tensor* w = g.FindInitializer(n.inputs[1]))
        s.effective_macs -= c.nodes[i].macs * compress::Sparsity(*w);
  }
  auto [zeros, total] = compress::CountWeightZeros(g);
  (void)total;
  s.nonzero_params = s.params - static_cast<double>(zeros);
  return s;
}

Result<std::vector<compress::LabeledBatch>> ImportanceBatches(const train::Dataset& ds, int64_t batches, int64_t bs) {
  std::vector<compress::LabeledBatch> out;
  const int64_t sample = NumElements(ds.sample_shape());
  for (int64_t b = 0; b < batches && b * bs < ds.size(); ++b) {
    const int64_t n = std::min(bs, ds.size() - b * bs);
    Shape s = ds.sample_shape();
    s.insert(s.begin(), n);
    GREENAI_ASSIGN_OR_RETURN(Tensor x, Tensor::Create(DType::kF32, s));
    GREENAI_ASSIGN_OR_RETURN(Tensor y, Tensor::Create(DType::kI64, {n}));
    for (int64_t i = 0; i < n; ++i) {
      // Strided picks spread the batches over the classes of a sorted data set.
      const int64_t idx = ((b * bs + i) * 7919) % ds.size();
      ds.CopySample(idx, x.data<float>() + i * sample);
      y.data<int64_t>()[i] = ds.label(idx);
    }
    out.push_back({x, y});
  }
  return out;
}

Result<compress::PruneReport> PruneStep(Model& m, const PruneArgs& a, double sparsity, const train::Dataset* train_set) {
  compress::PruneOptions o;
  o.sparsity = sparsity;
  o.exclude = a.exclude;
  if (a.scope == "global") o.scope = compress::PruneScope::kGlobal;
  else if (a.scope != "layer") return InvalidArgument("--scope '{}' is not layer or global", a.scope);
  if (a.method == "magnitude") return compress::PruneUnstructured(m, o);
  if (a.method == "gradient" || a.method == "taylor") {
    if (!train_set) return InvalidArgument("--method {} needs --data for the gradients", a.method);
    GREENAI_ASSIGN_OR_RETURN(auto batches, ImportanceBatches(*train_set, a.importance_batches, 64));
    GREENAI_ASSIGN_OR_RETURN(o.scores, compress::ComputeImportance(m, batches,
                                                                   a.method == "gradient" ? compress::ImportanceKind::kGradient
                                                                                          : compress::ImportanceKind::kTaylor,
                                                                   a.exclude));
    return compress::PruneUnstructured(m, o);
  }
  if (a.method == "nm" || a.method == "2:4") {
    int n = 0, mm = 0;
    if (std::sscanf(a.nm.c_str(), "%d:%d", &n, &mm) != 2) return InvalidArgument("--nm '{}' is not N:M", a.nm);
    return compress::PruneNM(m, n, mm, o);
  }
  if (a.method == "structured") {
    compress::StructuredOptions so;
    so.ratio = a.target_flops > 0 ? std::max(sparsity, 0.9) : sparsity;
    so.exclude = a.exclude;
    so.target_flops_reduction = a.target_flops;
    so.channel_multiple = a.channel_multiple;
    return compress::PruneStructured(m, so);
  }
  return InvalidArgument("--method '{}' is not magnitude, gradient, taylor, nm, 2:4 or structured", a.method);
}

int RunPrune(const PruneArgs& a) {
  auto fail = [](const Status& s) { return Fail("prune", s); };
  auto loaded = LoadModel(a.model);
  if (!loaded.ok()) return fail(loaded.status());
  std::unique_ptr<Model> model = std::move(*loaded);
  if (a.iterations < 1) return fail(InvalidArgument("--iterations {} must be >= 1", a.iterations));
  if ((a.finetune_epochs > 0 || a.accuracy_floor >= 0) && a.data.empty())
    return fail(InvalidArgument("--finetune-epochs and --accuracy-floor need --data DATASET"));
  std::unique_ptr<train::Dataset> train_set, test_set;
  if (!a.data.empty()) {
    train::DatasetOptions d;
    d.limit = a.limit;
    auto t = train::LoadDataset(a.data, train::Split::kTrain, d);
    if (!t.ok()) return fail(t.status());
    train_set = std::move(*t);
    d.limit = a.eval_limit;
    auto e = train::LoadDataset(a.data, train::Split::kTest, d);
    if (!e.ok()) return fail(e.status());
    test_set = std::move(*e);
  }
  auto before = Measure(*model);
  if (!before.ok()) return fail(before.status());
  double acc_before = -1, acc_after = -1;
  if (test_set) {
    auto ev = train::Evaluate(*model, *test_set, 256, a.threads);
    if (!ev.ok()) return fail(ev.status());
    acc_before = ev->accuracy;
  }
  compress::PruneReport rep;
  nlohmann::json rounds = nlohmann::json::array();
  std::unique_ptr<Model> kept;
  const bool iterative_ok = a.method != "nm" && a.method != "2:4";
  const int64_t rounds_n = iterative_ok ? a.iterations : 1;
  for (int64_t r = 1; r <= rounds_n; ++r) {
    auto candidate = model->Clone();
    const double s = rounds_n == 1 ? a.sparsity : a.sparsity * static_cast<double>(r) / static_cast<double>(rounds_n);
    // Structured rounds remove a share of what is left, so the total reaches the target.
    double step = s;
    if (a.method == "structured" && r > 1) step = 1 - (1 - s) / (1 - a.sparsity * double(r - 1) / double(rounds_n));
    auto pr = PruneStep(*candidate, a, step, train_set.get());
    if (!pr.ok()) return fail(pr.status().WithContext(fmt::format("round {}", r)));
    if (a.finetune_epochs > 0) {
      compress::FinetuneOptions fo;
      fo.epochs = a.finetune_epochs;
      fo.batch = a.batch;
      fo.lr = a.lr;
      fo.seed = a.seed + static_cast<uint64_t>(r);
      fo.threads = a.threads;
      if (Status st = compress::Finetune(*candidate, *train_set, fo); !st.ok())
        return fail(st.WithContext(fmt::format("fine-tuning after round {}", r)));
    }
    double acc = -1;
    if (test_set) {
      auto ev = train::Evaluate(*candidate, *test_set, 256, a.threads);
      if (!ev.ok()) return fail(ev.status());
      acc = ev->accuracy;
    }
    rounds.push_back({{"round", r}, {"sparsity", s}, {"accuracy", acc}});
    if (!a.json) std::fprintf(stderr, "round %lld: sparsity %.3f%s\n", static_cast<long long>(r), s,
                              acc >= 0 ? fmt::format(", test accuracy {:.2f} %", acc * 100).c_str() : "");
    if (a.accuracy_floor >= 0 && acc < a.accuracy_floor) {
      if (!a.json) std::fprintf(stderr, "round %lld fell below the accuracy floor %.2f %%; keeping round %lld\n",
                                static_cast<long long>(r), a.accuracy_floor * 100, static_cast<long long>(r - 1));
      break;
    }
    model = std::move(candidate);
    rep = std::move(*pr);
    acc_after = acc;
  }
  std::error_code ec;
  auto parent = std::filesystem::path(a.out).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  model->doc_string = fmt::format("greenai prune --method {} --sparsity {}", a.method, a.sparsity);
  if (Status st = SaveModel(*model, a.out); !st.ok()) return fail(st);
  auto after = Measure(*model);
  if (!after.ok()) return fail(after.status());
  const auto in_size = std::filesystem::file_size(a.model, ec);
  const auto out_size = std::filesystem::file_size(a.out, ec);
  if (a.json) {
    nlohmann::json j;
    j["model"] = a.model;
    j["out"] = a.out;
    j["method"] = a.method;
    j["sparsity"] = a.sparsity;
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& l : rep.layers)
      layers.push_back({{"node", l.node}, {"op", l.op_type}, {"weight", l.weight}, {"weights", l.weights},
                        {"sparsity", l.weights ? double(l.zeros_after) / double(l.weights) : 0.0},
                        {"channels_before", l.channels_before}, {"channels_after", l.channels_after}});
    j["layers"] = layers;
    j["notes"] = rep.notes;
    j["rounds"] = rounds;
    j["flops_before"] = before->flops;
    j["flops_after"] = after->flops;
    j["effective_macs_before"] = before->effective_macs;
    j["effective_macs_after"] = after->effective_macs;
    j["params_before"] = before->params;
    j["params_after"] = after->params;
    j["nonzero_params_after"] = after->nonzero_params;
    j["file_bytes_before"] = in_size;
    j["file_bytes_after"] = out_size;
    j["accuracy_before"] = acc_before;
    j["accuracy_after"] = acc_after;
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("%-28s %-8s %10s %10s %12s\n", "layer", "op", "weights", "sparsity", "channels");
  for (const auto& l : rep.layers) {
    const std::string ch = l.channels_before ? fmt::format("{} -> {}", l.channels_before, l.channels_after) : "";
    std::printf("%-28s %-8s %10lld %9.1f%% %12s\n", l.node.c_str(), l.op_type.c_str(), static_cast<long long>(l.weights),
                l.weights ? 100.0 * double(l.zeros_after) / double(l.weights) : 0.0, ch.c_str());
  }
  for (const auto& n : rep.notes) std::printf("note: %s\n", n.c_str());
  auto pct = [](double a, double b) { return b > 0 ? 100.0 * (1 - a / b) : 0.0; };
  std::printf("FLOPs (dense)      %14.0f -> %14.0f  (-%.1f %%)\n", before->flops, after->flops,
              pct(after->flops, before->flops));
  std::printf("MACs (sparse-aware)%14.0f -> %14.0f  (-%.1f %%)\n", before->effective_macs, after->effective_macs,
              pct(after->effective_macs, before->effective_macs));
  std::printf("params             %14.0f -> %14.0f  (non-zero %.0f)\n", before->params, after->params,
              after->nonzero_params);
  std::printf("file bytes         %14llu -> %14llu\n", static_cast<unsigned long long>(in_size),
              static_cast<unsigned long long>(out_size));
  if (acc_before >= 0)
    std::printf("test accuracy      %13.2f%% -> %13.2f%%\n", acc_before * 100, acc_after * 100);
  std::printf("wrote %s\n", a.out.c_str());
  return 0;
}

}  // namespace

void RegisterPrune(CLI::App& app, int* exit_code) {
  auto a = std::make_shared<PruneArgs>();
  CLI::App* c = app.add_subcommand("prune", "Prune a model (unstructured, N:M or structured), optionally with fine-tuning");
  c->add_option("model", a->model, "ONNX model")->required();
  c->add_option("-o,--out", a->out, "output ONNX model")->required();
  c->add_option("--method", a->method, "magnitude | gradient | taylor | nm | 2:4 | structured");
  c->add_option("--sparsity", a->sparsity, "fraction of weights (or channels for structured) to remove");
  c->add_option("--scope", a->scope, "layer | global (unstructured methods)");
  c->add_option("--nm", a->nm, "N:M pattern for --method nm (default 2:4)");
  c->add_option("--target-flops", a->target_flops, "structured: cut at least this fraction of FLOPs (e.g. 0.5)");
  c->add_option("--channel-multiple", a->channel_multiple, "structured: keep channel counts a multiple of this (e.g. 8)");
  c->add_option("--iterations", a->iterations, "prune -> fine-tune rounds, sparsity growing to the target");
  c->add_option("--finetune-epochs", a->finetune_epochs, "fine-tuning epochs after each round (needs --data)");
  c->add_option("--accuracy-floor", a->accuracy_floor, "stop when test accuracy (0..1) falls below this");
  c->add_option("--data", a->data, "DATASET: fashion-mnist | mnist-idx:DIR | npy:DIR");
  c->add_option("--batch", a->batch, "fine-tuning batch size");
  c->add_option("--lr", a->lr, "fine-tuning learning rate");
  c->add_option("--seed", a->seed, "seed for fine-tuning");
  c->add_option("--limit", a->limit, "use at most this many training samples");
  c->add_option("--eval-limit", a->eval_limit, "use at most this many test samples");
  c->add_option("--importance-batches", a->importance_batches, "batches of 64 for gradient/Taylor scores");
  c->add_option("--threads", a->threads, "threads (0 = all)");
  c->add_option("--exclude", a->exclude, "node or weight names to leave alone");
  c->add_flag("--json", a->json, "print one JSON object");
  c->callback([a, exit_code] { *exit_code = RunPrune(*a); });
}

}  // namespace greenai::cli
