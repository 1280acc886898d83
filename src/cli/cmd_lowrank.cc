// greenai lowrank MODEL -o OUT [--energy E | --flops-budget F] [--rank NODE=R ...] [--exclude NAME ...]
//                  [--finetune-epochs N --data DATASET] [--json]
// Factors Gemm/MatMul/Conv weights by truncated SVD (compress/lowrank/lowrank.h), optionally
// fine-tunes, and reports the rank chosen per layer, FLOPs and params before/after, file size
// and (with --data) test accuracy before/after.
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "analyze/cost_model.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "compress/lowrank/lowrank.h"
#include "compress/prune/finetune.h"
#include "graph/onnx_io.h"
#include "train/data.h"
#include "train/trainer.h"

namespace greenai::cli {
namespace {

struct LowRankArgs {
  std::string model, out, data;
  double energy = 0.9, flops_budget = 0, lr = 5e-4;
  int64_t finetune_epochs = 0, batch = 128, limit = 0, eval_limit = 0, min_dim = 8;
  uint64_t seed = 1;
  int threads = 0;
  std::vector<std::string> ranks, exclude;
  bool json = false;
};

int RunLowRank(const LowRankArgs& a) {
  auto fail = [](const Status& s) { return Fail("lowrank", s); };
  auto loaded = LoadModel(a.model);
  if (!loaded.ok()) return fail(loaded.status());
  std::unique_ptr<Model> model = std::move(*loaded);
  compress::LowRankOptions o;
  o.energy = a.energy;
  o.flops_budget = a.flops_budget;
  o.exclude = a.exclude;
  o.min_dim = a.min_dim;
  for (const auto& r : a.ranks) {
    auto p = ParseNameEqualsFile(r, "--rank");
    if (!p.ok()) return fail(p.status());
    char* end = nullptr;
    const long long v = std::strtoll(p->second.c_str(), &end, 10);
    if (p->second.empty() || *end != '\0') return fail(InvalidArgument("--rank '{}': '{}' is not an integer", r, p->second));
    o.ranks[p->first] = v;
  }
  if (a.finetune_epochs > 0 && a.data.empty()) return fail(InvalidArgument("--finetune-epochs needs --data DATASET"));
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
  auto before = analyze::AnalyzeModel(*model);
  if (!before.ok()) return fail(before.status());
  double acc_before = -1, acc_after = -1;
  if (test_set) {
    auto ev = train::Evaluate(*model, *test_set, 256, a.threads);
    if (!ev.ok()) return fail(ev.status());
    acc_before = ev->accuracy;
  }
  auto rep = compress::LowRankFactorize(*model, o);
  if (!rep.ok()) return fail(rep.status());
  if (a.finetune_epochs > 0) {
    compress::FinetuneOptions fo;
    fo.epochs = a.finetune_epochs;
    fo.batch = a.batch;
    fo.lr = a.lr;
    fo.seed = a.seed;
    fo.threads = a.threads;
    fo.keep_zeros = false;
    if (Status st = compress::Finetune(*model, *train_set, fo); !st.ok()) return fail(st.WithContext("fine-tuning"));
  }
  if (test_set) {
    auto ev = train::Evaluate(*model, *test_set, 256, a.threads);
    if (!ev.ok()) return fail(ev.status());
    acc_after = ev->accuracy;
  }
  std::error_code ec;
  auto parent = std::filesystem::path(a.out).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  model->doc_string = fmt::format("greenai lowrank --energy {}", rep->energy_used);
  if (Status st = SaveModel(*model, a.out); !st.ok()) return fail(st);
  auto after = analyze::AnalyzeModel(*model);
  if (!after.ok()) return fail(after.status());
  const auto in_size = std::filesystem::file_size(a.model, ec);
  const auto out_size = std::filesystem::file_size(a.out, ec);
  if (a.json) {
    nlohmann::json j;
    j["model"] = a.model;
    j["out"] = a.out;
    j["energy"] = rep->energy_used;
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& l : rep->layers)
      layers.push_back({{"node", l.node}, {"op", l.op_type}, {"rows", l.rows}, {"cols", l.cols}, {"rank", l.rank},
                        {"energy", l.energy}, {"factored", l.factored}, {"note", l.note}});
    j["layers"] = layers;
    j["flops_before"] = before->flops;
    j["flops_after"] = after->flops;
    j["params_before"] = before->params;
    j["params_after"] = after->params;
    j["file_bytes_before"] = in_size;
    j["file_bytes_after"] = out_size;
    j["accuracy_before"] = acc_before;
    j["accuracy_after"] = acc_after;
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("%-28s %-6s %12s %6s %8s  %s\n", "layer", "op", "matrix", "rank", "energy", "");
  for (const auto& l : rep->layers)
    std::printf("%-28s %-6s %12s %6lld %7.3f  %s\n", l.node.c_str(), l.op_type.c_str(),
                fmt::format("{}x{}", l.rows, l.cols).c_str(), static_cast<long long>(l.rank), l.energy,
                l.factored ? "factored" : l.note.c_str());
  auto pct = [](double x, double b) { return b > 0 ? 100.0 * (1 - x / b) : 0.0; };
  std::printf("FLOPs       %14.0f -> %14.0f  (-%.1f %%)\n", before->flops, after->flops, pct(after->flops, before->flops));
  std::printf("params      %14.0f -> %14.0f  (-%.1f %%)\n", before->params, after->params,
              pct(after->params, before->params));
  std::printf("file bytes  %14llu -> %14llu\n", static_cast<unsigned long long>(in_size),
              static_cast<unsigned long long>(out_size));
  if (acc_before >= 0) std::printf("test accuracy %12.2f%% -> %12.2f%%\n", acc_before * 100, acc_after * 100);
  std::printf("wrote %s\n", a.out.c_str());
  return 0;
}

}  // namespace

void RegisterLowRank(CLI::App& app, int* exit_code) {
  auto a = std::make_shared<LowRankArgs>();
  CLI::App* c = app.add_subcommand("lowrank", "Factor Gemm/MatMul/Conv weights by truncated SVD");
  c->add_option("model", a->model, "ONNX model")->required();
  c->add_option("-o,--out", a->out, "output ONNX model")->required();
  c->add_option("--energy", a->energy, "retained spectral energy per layer (0, 1]");
  c->add_option("--flops-budget", a->flops_budget, "keep at most this fraction of the FLOPs (0, 1)");
  c->add_option("--rank", a->ranks, "NODE=R explicit rank for a layer");
  c->add_option("--exclude", a->exclude, "node or weight names to leave alone");
  c->add_option("--min-dim", a->min_dim, "leave layers smaller than this on a side");
  c->add_option("--finetune-epochs", a->finetune_epochs, "fine-tuning epochs (needs --data)");
  c->add_option("--data", a->data, "DATASET: fashion-mnist | mnist-idx:DIR | npy:DIR");
  c->add_option("--batch", a->batch, "fine-tuning batch size");
  c->add_option("--lr", a->lr, "fine-tuning learning rate");
  c->add_option("--seed", a->seed, "seed for fine-tuning");
  c->add_option("--limit", a->limit, "use at most this many training samples");
  c->add_option("--eval-limit", a->eval_limit, "use at most this many test samples");
  c->add_option("--threads", a->threads, "threads (0 = all)");
  c->add_flag("--json", a->json, "print one JSON object");
  c->callback([a, exit_code] { *exit_code = RunLowRank(*a); });
}

}  // namespace greenai::cli
