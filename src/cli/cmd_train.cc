// greenai train --model ARCH|MODEL.onnx --data DATASET [--epochs N] [--batch B] [--lr X] [--seed S]
//               --out MODEL [--resume] [--checkpoint PREFIX] [--json] ...
// Trains a built-in architecture (train/archs.h) or fine-tunes an ONNX classifier with the
// Trainer, evaluating on the test split after every epoch, checkpointing to PREFIX (default
// OUT.ckpt), and writes the trained model in inference form. Energy comes from
// energy::Tracker (RAPL when readable, otherwise the estimator, labelled "estimated").
#include <cstdio>
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/train_util.h"
#include "core/progress.h"
#include "graph/onnx_io.h"
#include "train/checkpoint.h"
#include "train/data.h"
#include "train/trainer.h"

namespace greenai::cli {

namespace {

struct TrainArgs {
  std::string model, data, out, checkpoint, optimizer = "adamw", widths;
  int64_t epochs = 10, batch = 128, limit = 0, eval_limit = 0, max_steps = 0, crop = 0;
  double lr = 1e-3, weight_decay = 1e-4;
  uint64_t seed = 1;
  int threads = 0;
  bool resume = false, json = false, no_eval = false, hflip = false, constant_lr = false;
};

int RunTrain(const TrainArgs& a) {
  auto fail = [](const Status& s) { return Fail("train", s); };
  train::DatasetOptions dopt;
  dopt.limit = a.limit;
  auto train_set = train::LoadDataset(a.data, train::Split::kTrain, dopt);
  if (!train_set.ok()) return fail(train_set.status());
  std::unique_ptr<train::Dataset> test_set;
  if (!a.no_eval) {
    train::DatasetOptions eopt;
    eopt.limit = a.eval_limit;
    auto t = train::LoadDataset(a.data, train::Split::kTest, eopt);
    if (!t.ok()) return fail(t.status());
    test_set = std::move(*t);
  }
  auto built = LoadOrBuildModel(a.model, **train_set, a.widths, a.seed);
  if (!built.ok()) return fail(built.status());
  std::unique_ptr<Model> model = std::move(*built);

  TrainingMeter meter;
  const std::string jlabel = meter.label();

  train::TrainOptions o;
  o.epochs = a.epochs;
  o.batch_size = a.batch;
  o.lr = a.lr;
  o.weight_decay = a.weight_decay;
  o.optimizer = a.optimizer;
  o.cosine = !a.constant_lr;
  o.seed = a.seed;
  o.num_threads = a.threads;
  o.hflip = a.hflip;
  o.crop_padding = a.crop;
  o.max_steps = a.max_steps;
  o.checkpoint = a.checkpoint.empty() ? a.out + ".ckpt" : a.checkpoint;
  o.resume = a.resume;
  o.progress = true;
  o.joules = meter.JoulesSoFar();
  o.joules_label = jlabel;
  if (a.resume && !train::CheckpointExists(o.checkpoint))
    return fail(NotFound("--resume: no checkpoint at '{}' ('{}' and '{}')", o.checkpoint,
                         train::CheckpointModelPath(o.checkpoint), train::CheckpointStatePath(o.checkpoint)));
  std::error_code ec;
  auto parent = std::filesystem::path(a.out).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  auto trainer = train::Trainer::Create(*model, o);
  if (!trainer.ok()) return fail(trainer.status());
  const auto t0 = std::chrono::steady_clock::now();
  auto fit = (*trainer)->Fit(**train_set, test_set.get());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double joules = meter.Stop();
  if (!fit.ok()) return fail(fit.status());
  if (fit->stopped_early) {
    std::fprintf(stderr, "greenai train: stopped after step %lld (--max-steps); continue with --resume\n",
                 static_cast<long long>(fit->steps));
    return 0;
  }
  auto out_model = (*trainer)->ExportModel();
  if (!out_model.ok()) return fail(out_model.status());
  (*out_model)->doc_string = fmt::format("greenai train --model {} --data {} --epochs {} --batch {} --lr {} --seed {}",
                                         a.model, a.data, a.epochs, a.batch, a.lr, a.seed);
  if (Status s = SaveModel(**out_model, a.out); !s.ok()) return fail(s);
  const train::EpochStats* last = fit->epochs.empty() ? nullptr : &fit->epochs.back();
  if (a.json) {
    nlohmann::json j;
    j["model"] = a.model;
    j["data"] = a.data;
    j["out"] = a.out;
    j["epochs_run"] = fit->epochs.size();
    j["steps"] = fit->steps;
    j["seconds"] = seconds;
    j["energy_j"] = joules;
    j["energy_estimated"] = jlabel != "J";
    nlohmann::json ep = nlohmann::json::array();
    for (const auto& e : fit->epochs)
      ep.push_back({{"epoch", e.epoch + 1}, {"train_loss", e.train_loss}, {"train_accuracy", e.train_accuracy},
                    {"eval_loss", e.eval_loss}, {"eval_accuracy", e.eval_accuracy}, {"seconds", e.seconds},
                    {"samples_per_s", e.samples_per_s}});
    j["history"] = ep;
    if (last && last->eval_accuracy >= 0) {
      j["accuracy"] = last->eval_accuracy;
      j["mean_loss"] = last->eval_loss;
    }
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::string acc = last && last->eval_accuracy >= 0
                          ? fmt::format(", test accuracy {:.2f} %, test loss {:.4f}", 100 * last->eval_accuracy,
                                        last->eval_loss)
                          : "";
    std::string en = joules >= 0 ? fmt::format(", {:.0f} {}", joules, jlabel) : "";
    std::printf("wrote %s (%s%s, %zu epochs in %s%s)\n", a.out.c_str(), a.model.c_str(), acc.c_str(),
                fit->epochs.size(), FormatDuration(seconds).c_str(), en.c_str());
  }
  return 0;
}

}  // namespace

void RegisterTrain(CLI::App& app, int* exit_code) {
  auto a = std::make_shared<TrainArgs>();
  auto* sub = app.add_subcommand("train", "Train a built-in architecture (or fine-tune an ONNX classifier)");
  sub->add_option("--model", a->model, "mlp | cnn | resnet-mini | transformer-tiny | MODEL.onnx")->required();
  sub->add_option("--data", a->data, "fashion-mnist | mnist-idx:DIR | npy:DIR | csv:FILE")->required();
  sub->add_option("--out", a->out, "output .onnx (inference form)")->required();
  sub->add_option("--epochs", a->epochs, "epochs")->capture_default_str()->check(CLI::PositiveNumber);
  sub->add_option("--batch", a->batch, "batch size")->capture_default_str()->check(CLI::PositiveNumber);
  sub->add_option("--lr", a->lr, "peak learning rate (cosine decay unless --constant-lr)")->capture_default_str();
  sub->add_option("--seed", a->seed, "seed for init, shuffling and augmentation")->capture_default_str();
  sub->add_option("--optimizer", a->optimizer, "adamw | sgd")->capture_default_str();
  sub->add_option("--weight-decay", a->weight_decay, "weight decay")->capture_default_str();
  sub->add_flag("--constant-lr", a->constant_lr, "no cosine decay");
  sub->add_option("--threads", a->threads, "threads (0 = all cores)")->capture_default_str();
  sub->add_option("--widths", a->widths, "architecture widths, e.g. 512,256 (mlp) or 32,64 (cnn)");
  sub->add_option("--checkpoint", a->checkpoint, "checkpoint prefix (default OUT.ckpt)");
  sub->add_flag("--resume", a->resume, "continue from the checkpoint");
  sub->add_option("--max-steps", a->max_steps, "stop after this many steps (resume later)");
  sub->add_option("--limit", a->limit, "use only the first N training samples");
  sub->add_option("--eval-limit", a->eval_limit, "use only the first N test samples");
  sub->add_flag("--no-eval", a->no_eval, "skip the per-epoch test evaluation");
  sub->add_flag("--hflip", a->hflip, "random horizontal flips");
  sub->add_option("--crop-padding", a->crop, "random crops with this zero padding");
  sub->add_flag("--json", a->json, "print one JSON object on stdout");
  sub->callback([a, exit_code] { *exit_code = RunTrain(*a); });
}

}  // namespace greenai::cli
