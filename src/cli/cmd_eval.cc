// greenai eval MODEL --data DATASET [--json] [--batch B] [--threads N] [--limit N]
// Top-1 accuracy and mean cross-entropy of a classifier on the data set's test split.
#include <chrono>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "graph/onnx_io.h"
#include "train/data.h"
#include "train/trainer.h"

namespace greenai::cli {

namespace {

struct EvalArgs {
  std::string model, data;
  int64_t batch = 256, limit = 0;
  int threads = 0;
  bool json = false;
};

int RunEval(const EvalArgs& a) {
  auto m = LoadModel(a.model);
  if (!m.ok()) return Fail("eval", m.status());
  train::DatasetOptions dopt;
  dopt.limit = a.limit;
  auto ds = train::LoadDataset(a.data, train::Split::kTest, dopt);
  if (!ds.ok()) return Fail("eval", ds.status());
  const auto t0 = std::chrono::steady_clock::now();
  auto r = train::Evaluate(**m, **ds, a.batch, a.threads);
  if (!r.ok()) return Fail("eval", r.status());
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (a.json) {
    nlohmann::json j = {{"model", a.model},         {"data", a.data},          {"samples", r->samples},
                        {"accuracy", r->accuracy}, {"mean_loss", r->mean_loss}, {"seconds", s}};
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("%s on %s: top-1 accuracy %.2f %% (%lld samples), mean loss %.4f\n", a.model.c_str(),
                (*ds)->name().c_str(), 100 * r->accuracy, static_cast<long long>(r->samples), r->mean_loss);
  }
  return 0;
}

}  // namespace

void RegisterEval(CLI::App& app, int* exit_code) {
  auto a = std::make_shared<EvalArgs>();
  auto* sub = app.add_subcommand("eval", "Top-1 accuracy and mean loss of a classifier on a data set's test split");
  sub->add_option("model", a->model, "model .onnx")->required();
  sub->add_option("--data", a->data, "fashion-mnist | mnist-idx:DIR | npy:DIR | csv:FILE")->required();
  sub->add_option("--batch", a->batch, "batch size")->capture_default_str()->check(CLI::PositiveNumber);
  sub->add_option("--threads", a->threads, "threads (0 = all cores)")->capture_default_str();
  sub->add_option("--limit", a->limit, "use only the first N samples");
  sub->add_flag("--json", a->json, "print one JSON object on stdout");
  sub->callback([a, exit_code] { *exit_code = RunEval(*a); });
}

}  // namespace greenai::cli
