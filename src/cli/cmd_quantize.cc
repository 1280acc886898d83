// greenai quantize MODEL -o OUT --mode dynamic|static|qat|fp16|bf16|int4-weight [options]
// Writes standard ONNX (QDQ or MatMulInteger form, see compress/quantize/quantize.h and
// docs/quantization.md). Warnings (nodes left float, with their names) go to stderr; the
// summary to stdout, or one JSON object with --json. --report adds per-layer sensitivity:
// each quantizable layer quantized alone, its top-1 delta on the --eval data.
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "compress/quantize/calib_data.h"
#include "compress/quantize/qat.h"
#include "compress/quantize/quantize.h"
#include "core/progress.h"
#include "graph/onnx_io.h"
#if __has_include("train/trainer.h")
#include "train/trainer.h"
#define GREENAI_HAVE_TRAINER 1
#endif

namespace greenai::cli {

namespace {

using namespace greenai::compress;

struct QuantizeArgs {
  std::string model, out, mode, calib, calib_method = "minmax", eval, weights = "sym", activations = "u8";
  std::vector<std::string> exclude_nodes, exclude_ops;
  bool per_tensor = false, symmetric_activations = false, bias_correction = false, report = false, json = false;
  double percentile = 99.999;
  int block = 32;
  int weight_bits = 7;
  std::string data;  // QAT training data (default: --calib's data set, train split)
  int64_t qat_epochs = 1;
  double qat_lr = 1e-4;
  int64_t qat_limit = 0;
};

constexpr int64_t kDefaultCalibSamples = 512;
constexpr int64_t kDefaultEvalSamples = 1000;

Result<std::unique_ptr<train::Dataset>> LoadSpec(const std::string& spec, train::Split split, int64_t default_n,
                                                 int64_t* n_out) {
  auto [name, n] = ParseDataSpec(spec);
  if (n == 0) n = default_n;
  *n_out = n;
  train::DatasetOptions o;
  o.limit = n;
  return train::LoadDataset(name, split, o);
}

// QAT: fake-quant graph (compress/quantize/qat.h), fine-tuned with the Trainer, exported as QDQ.
Result<std::unique_ptr<Model>> TrainQat(const Model& model, const QuantizeOptions& o, const std::vector<Feeds>& calib,
                                        const QuantizeArgs& a, QuantizeReport* rep) {
#ifdef GREENAI_HAVE_TRAINER
  GREENAI_ASSIGN_OR_RETURN(auto fq, InsertFakeQuant(model, o, calib, rep));
  GREENAI_ASSIGN_OR_RETURN(auto prepared, PrepareForQuantization(model));
  train::TrainOptions to;
  to.epochs = a.qat_epochs;
  to.lr = a.qat_lr;
  to.seed = 1;
  // The float weights keep their names in the fake-quant graph; the chains' scales are not params.
  for (const auto& p : train::TrainableParams(*prepared))
    if (fq->graph->FindInitializer(p)) to.params.push_back(p);
  auto [spec, n] = ParseDataSpec(a.data.empty() ? a.calib : a.data);
  train::DatasetOptions dso;
  dso.limit = a.qat_limit;
  GREENAI_ASSIGN_OR_RETURN(auto ds, train::LoadDataset(spec, train::Split::kTrain, dso));
  GREENAI_ASSIGN_OR_RETURN(auto trainer, train::Trainer::Create(*fq, to));
  GREENAI_ASSIGN_OR_RETURN(auto fit, trainer->Fit(*ds));
  (void)fit;
  GREENAI_ASSIGN_OR_RETURN(auto trained, trainer->ExportModel());
  return FakeQuantToQdq(*trained);
#else
  (void)model, (void)o, (void)calib, (void)a, (void)rep;
  return Unimplemented("--mode qat needs train/trainer.h (the Trainer), which this build does not have");
#endif
}

int RunQuantize(const QuantizeArgs& a) {
  const char* cmd = "quantize";
  QuantizeOptions o;
  auto mode = ParseQuantMode(a.mode);
  if (!mode.ok()) return Fail(cmd, mode.status());
  o.mode = *mode;
  auto cm = ParseCalibMethod(a.calib_method);
  if (!cm.ok()) return Fail(cmd, cm.status());
  o.calibration = *cm;
  if (a.weights != "sym" && a.weights != "asym") return Fail(cmd, fmt::format("--weights '{}' is not sym or asym", a.weights));
  if (a.activations != "u8" && a.activations != "s8")
    return Fail(cmd, fmt::format("--activations '{}' is not u8 or s8", a.activations));
  o.per_channel = !a.per_tensor;
  o.symmetric_weights = a.weights == "sym";
  o.signed_activations = a.activations == "s8";
  o.symmetric_activations = a.symmetric_activations;
  o.percentile = a.percentile;
  o.bias_correction = a.bias_correction;
  o.int4_block = a.block;
  o.weight_bits = a.weight_bits;
  o.exclude_nodes.insert(a.exclude_nodes.begin(), a.exclude_nodes.end());
  o.exclude_op_types.insert(a.exclude_ops.begin(), a.exclude_ops.end());

  auto model = LoadModel(a.model);
  if (!model.ok()) return Fail(cmd, model.status());
  const bool needs_calib = o.mode == QuantMode::kStatic || o.mode == QuantMode::kQat || o.bias_correction;
  std::vector<Feeds> calib;
  std::unique_ptr<train::Dataset> calib_ds;
  if (needs_calib || (a.report && a.eval.empty())) {
    if (a.calib.empty()) return Fail(cmd, "--mode static (and --bias-correction) needs --calib DATASET[:N] or an NPY folder");
    int64_t n = 0;
    auto ds = LoadSpec(a.calib, train::Split::kTrain, kDefaultCalibSamples, &n);
    if (!ds.ok()) return Fail(cmd, ds.status().WithContext("--calib"));
    calib_ds = std::move(*ds);
    auto b = DatasetBatches(**model, *calib_ds, n);
    if (!b.ok()) return Fail(cmd, b.status().WithContext("--calib"));
    calib = std::move(*b);
  }
  QuantizeReport rep;
  auto q = o.mode == QuantMode::kQat ? TrainQat(**model, o, calib, a, &rep) : Quantize(**model, o, calib, &rep);
  if (!q.ok()) return Fail(cmd, q.status());
  for (const auto& w : rep.warnings) std::fprintf(stderr, "greenai quantize: warning: %s\n", w.c_str());
  Status st = SaveModel(**q, a.out);
  if (!st.ok()) return Fail(cmd, st);
  std::error_code ec;
  const double in_bytes = static_cast<double>(std::filesystem::file_size(a.model, ec));
  const double out_bytes = static_cast<double>(std::filesystem::file_size(a.out, ec));

  nlohmann::ordered_json j;
  j["model"] = a.model;
  j["output"] = a.out;
  j["mode"] = QuantModeName(o.mode);
  j["quantized_nodes"] = rep.quantized;
  j["warnings"] = rep.warnings;
  j["input_bytes"] = in_bytes;
  j["output_bytes"] = out_bytes;
  j["size_ratio"] = out_bytes > 0 ? in_bytes / out_bytes : 0;

  if (a.report) {
    std::unique_ptr<train::Dataset> eval_ds;
    int64_t n = 0;
    auto ds = LoadSpec(a.eval.empty() ? a.calib : a.eval, train::Split::kTest, kDefaultEvalSamples, &n);
    if (!ds.ok()) return Fail(cmd, ds.status().WithContext("--eval"));
    eval_ds = std::move(*ds);
    auto base = Top1(**model, *eval_ds, n);
    if (!base.ok()) return Fail(cmd, base.status().WithContext("float model"));
    auto full = Top1(**q, *eval_ds, n);
    if (!full.ok()) return Fail(cmd, full.status().WithContext("quantized model"));
    auto layers = QuantizableNodes(**model, o);
    if (!layers.ok()) return Fail(cmd, layers.status());
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    ProgressBar bar("sensitivity", static_cast<int64_t>(layers->size()));
    int64_t done = 0;
    for (const auto& layer : *layers) {
      QuantizeOptions one = o;
      one.only_nodes = {layer};
      QuantizeReport r1;
      auto m1 = Quantize(**model, one, calib, &r1);
      if (!m1.ok()) return Fail(cmd, m1.status().WithContext("layer '" + layer + "'"));
      auto t1 = Top1(**m1, *eval_ds, n);
      if (!t1.ok()) return Fail(cmd, t1.status().WithContext("layer '" + layer + "'"));
      rows.push_back({{"node", layer}, {"top1", t1->accuracy}, {"delta_pt", 100 * (t1->accuracy - base->accuracy)}});
      bar.Update(++done, layer);
    }
    bar.Finish();
    j["eval_samples"] = base->samples;
    j["float_top1"] = base->accuracy;
    j["quantized_top1"] = full->accuracy;
    j["sensitivity"] = rows;
  }

  if (a.json) {
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("wrote %s (%s): %zu node(s) quantized, %zu warning(s)\n", a.out.c_str(), QuantModeName(o.mode),
              rep.quantized.size(), rep.warnings.size());
  std::printf("size: %.0f -> %.0f bytes (%.2fx smaller)\n", in_bytes, out_bytes, out_bytes > 0 ? in_bytes / out_bytes : 0);
  if (a.report) {
    std::printf("top-1 on %lld samples: float %.2f %%, quantized %.2f %% (%+.2f pt)\n",
                static_cast<long long>(j["eval_samples"].get<int64_t>()), 100 * j["float_top1"].get<double>(),
                100 * j["quantized_top1"].get<double>(),
                100 * (j["quantized_top1"].get<double>() - j["float_top1"].get<double>()));
    std::printf("%-32s %10s %10s\n", "layer quantized alone", "top-1 %", "delta pt");
    for (const auto& r : j["sensitivity"])
      std::printf("%-32s %10.2f %+10.2f\n", r["node"].get<std::string>().c_str(), 100 * r["top1"].get<double>(),
                  r["delta_pt"].get<double>());
  }
  return 0;
}

}  // namespace

void RegisterQuantize(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<QuantizeArgs>();
  auto* sub = app.add_subcommand("quantize", "Quantize a model to int8 (QDQ), fp16/bf16 or int4 weights");
  sub->add_option("model", args->model, "ONNX model")->required();
  sub->add_option("-o,--output", args->out, "output ONNX file")->required();
  sub->add_option("--mode", args->mode, "dynamic|static|qat|fp16|bf16|int4-weight")->required();
  sub->add_option("--calib", args->calib, "calibration data: DATASET[:N] (fashion-mnist, mnist-idx:DIR, npy:DIR) or an NPY folder");
  sub->add_option("--calib-method", args->calib_method, "minmax|percentile|entropy|mse (default minmax)");
  sub->add_option("--percentile", args->percentile, "percentile of |x| for --calib-method percentile (default 99.999)");
  sub->add_flag("--per-tensor", args->per_tensor, "one weight scale per tensor (default: per output channel)");
  sub->add_option("--weights", args->weights, "sym (int8, zero point 0; default) or asym (uint8)");
  sub->add_option("--activations", args->activations, "u8 (default) or s8");
  sub->add_option("--weight-bits", args->weight_bits,
                  "7 (default: [-64, 63], never saturates u8 x s8 kernels without VNNI) or 8 (full range)")
      ->check(CLI::IsMember({7, 8}));
  sub->add_flag("--symmetric-activations", args->symmetric_activations, "activation zero point 0 (s8) / 128 (u8)");
  sub->add_option("--exclude-nodes", args->exclude_nodes, "node names to keep float")->delimiter(',');
  sub->add_option("--exclude-ops", args->exclude_ops, "op types to keep float")->delimiter(',');
  sub->add_flag("--bias-correction", args->bias_correction, "correct biases for the mean weight-rounding error");
  sub->add_option("--block", args->block, "int4-weight block size: 32, 64 or 128 (default 32)");
  sub->add_flag("--report", args->report, "per-layer sensitivity (top-1 delta of each layer quantized alone)");
  sub->add_option("--eval", args->eval, "evaluation data for --report: DATASET[:N] (test split; default: --calib's)");
  sub->add_option("--data", args->data, "qat: training data DATASET (default: --calib's data set)");
  sub->add_option("--qat-epochs", args->qat_epochs, "qat: fine-tuning epochs (default 1)");
  sub->add_option("--qat-lr", args->qat_lr, "qat: learning rate (default 1e-4)");
  sub->add_option("--qat-limit", args->qat_limit, "qat: use only the first N training samples");
  sub->add_flag("--json", args->json, "print one JSON object");
  sub->callback([args, exit_code] { *exit_code = RunQuantize(*args); });
}

}  // namespace greenai::cli
