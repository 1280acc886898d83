// greenai distill --teacher MODEL.onnx --student ARCH|MODEL.onnx --data DATASET --out MODEL
//                 [--alpha A] [--temperature T] [--epochs N] [--batch B] [--lr X] [--seed S]
//                 [--widths W] [--baseline] [--json]
// Knowledge distillation (Hinton et al. 2015): the runtime runs the teacher, the Trainer
// trains the student on  a*T^2*KL(softmax(z_t/T) || softmax(z_s/T)) + (1-a)*CE(y, z_s).
// --baseline also trains the same student (same init, data order, epochs) on CE alone, so the
// gain from the teacher is measured in the same run rather than claimed.
#include <chrono>
#include <cstdio>
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/train_util.h"
#include "core/progress.h"
#include "graph/onnx_io.h"
#include "train/data.h"
#include "train/trainer.h"

namespace greenai::cli {

namespace {

struct DistillArgs {
  std::string teacher, student, data, out, widths, optimizer = "adamw";
  int64_t epochs = 5, batch = 128, limit = 0, eval_limit = 0;
  double lr = 1e-3, weight_decay = 1e-4, alpha = 0.5, temperature = 4.0;
  uint64_t seed = 1;
  int threads = 0;
  bool json = false, baseline = false;
};

int64_t CountParams(const Model& m) {
  int64_t n = 0;
  for (const auto& name : train::TrainableParams(m))
    if (const Tensor* t = m.graph->FindInitializer(name)) n += t->numel();
  return n;
}

struct Outcome {
  double accuracy = -1, loss = -1, seconds = 0;
  std::unique_ptr<Model> model;
};

Result<Outcome> TrainStudent(const Model& student, const Model* teacher, const DistillArgs& a,
                             const train::Dataset& train_set, const train::Dataset& test_set,
                             const std::function<double()>& joules, const std::string& jlabel) {
  train::TrainOptions o;
  o.epochs = a.epochs;
  o.batch_size = a.batch;
  o.lr = a.lr;
  o.weight_decay = a.weight_decay;
  o.optimizer = a.optimizer;
  o.seed = a.seed;
  o.num_threads = a.threads;
  o.teacher = teacher;
  o.distill_alpha = a.alpha;
  o.temperature = a.temperature;
  o.joules = joules;
  o.joules_label = jlabel;
  const auto t0 = std::chrono::steady_clock::now();
  GREENAI_ASSIGN_OR_RETURN(auto trainer, train::Trainer::Create(student, o));
  GREENAI_ASSIGN_OR_RETURN(auto fit, trainer->Fit(train_set, &test_set));
  Outcome r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!fit.epochs.empty()) {
    r.accuracy = fit.epochs.back().eval_accuracy;
    r.loss = fit.epochs.back().eval_loss;
  }
  GREENAI_ASSIGN_OR_RETURN(r.model, trainer->ExportModel());
  return r;
}

int RunDistill(const DistillArgs& a) {
  auto fail = [](const Status& s) { return Fail("distill", s); };
  if (!(a.alpha >= 0 && a.alpha <= 1)) return fail(InvalidArgument("--alpha {} is outside [0, 1]", a.alpha));
  if (!(a.temperature > 0)) return fail(InvalidArgument("--temperature {} must be > 0", a.temperature));
  auto teacher = LoadModel(a.teacher);
  if (!teacher.ok()) return fail(teacher.status());
  train::DatasetOptions dopt;
  dopt.limit = a.limit;
  auto train_set = train::LoadDataset(a.data, train::Split::kTrain, dopt);
  if (!train_set.ok()) return fail(train_set.status());
  train::DatasetOptions eopt;
  eopt.limit = a.eval_limit;
  auto test_set = train::LoadDataset(a.data, train::Split::kTest, eopt);
  if (!test_set.ok()) return fail(test_set.status());

  auto built = LoadOrBuildModel(a.student, **train_set, a.widths, a.seed);
  if (!built.ok()) return fail(built.status());
  std::unique_ptr<Model> student = std::move(*built);
  const int64_t tp = CountParams(**teacher), sp = CountParams(*student);

  // The teacher's own accuracy, so the report shows what was distilled from.
  auto teval = train::Evaluate(**teacher, **test_set, 256, a.threads);
  if (!teval.ok()) return fail(teval.status());
  std::fprintf(stderr, "teacher %s: %lld params, test accuracy %.2f %%; student %s: %lld params (%.1fx fewer)\n",
               a.teacher.c_str(), static_cast<long long>(tp), 100 * teval->accuracy, a.student.c_str(),
               static_cast<long long>(sp), sp > 0 ? static_cast<double>(tp) / static_cast<double>(sp) : 0.0);

  TrainingMeter meter;
  const std::string jlabel = meter.label();
  const std::function<double()> joules = meter.JoulesSoFar();

  auto distilled = TrainStudent(*student, teacher->get(), a, **train_set, **test_set, joules, jlabel);
  if (!distilled.ok()) return fail(distilled.status());
  Outcome base;
  if (a.baseline) {
    auto b = TrainStudent(*student, nullptr, a, **train_set, **test_set, joules, jlabel);
    if (!b.ok()) return fail(b.status());
    base = std::move(*b);
  }
  const double total_j = meter.Stop();

  (*distilled).model->doc_string =
      fmt::format("greenai distill --teacher {} --student {} --alpha {} --temperature {} --epochs {} --seed {}",
                  a.teacher, a.student, a.alpha, a.temperature, a.epochs, a.seed);
  std::error_code ec;
  const auto parent = std::filesystem::path(a.out).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (Status s = SaveModel(*distilled->model, a.out); !s.ok()) return fail(s);

  if (a.json) {
    nlohmann::json j = {{"teacher", a.teacher},
                        {"student", a.student},
                        {"out", a.out},
                        {"teacher_params", tp},
                        {"student_params", sp},
                        {"teacher_accuracy", teval->accuracy},
                        {"accuracy", distilled->accuracy},
                        {"mean_loss", distilled->loss},
                        {"alpha", a.alpha},
                        {"temperature", a.temperature},
                        {"epochs", a.epochs},
                        {"seed", a.seed},
                        {"seconds", distilled->seconds},
                        {"energy_j", total_j},
                        {"energy_estimated", jlabel != "J"}};
    if (a.baseline) j["baseline_accuracy"] = base.accuracy;
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("wrote %s: distilled student test accuracy %.2f %% (teacher %.2f %%, %.1fx the student's params)\n",
                a.out.c_str(), 100 * distilled->accuracy, 100 * teval->accuracy,
                sp > 0 ? static_cast<double>(tp) / static_cast<double>(sp) : 0.0);
    if (a.baseline)
      std::printf("same student without the teacher: %.2f %% (distillation %+.2f pt)\n", 100 * base.accuracy,
                  100 * (distilled->accuracy - base.accuracy));
    if (total_j >= 0) std::printf("energy: %.0f %s over %s\n", total_j, jlabel.c_str(),
                                  FormatDuration(distilled->seconds + base.seconds).c_str());
  }
  return 0;
}

}  // namespace

void RegisterDistill(CLI::App& app, int* exit_code) {
  auto a = std::make_shared<DistillArgs>();
  auto* sub = app.add_subcommand("distill", "Train a small student from a teacher (knowledge distillation)");
  sub->add_option("--teacher", a->teacher, "teacher model .onnx (a classifier)")->required();
  sub->add_option("--student", a->student, "mlp | cnn | resnet-mini | transformer-tiny | MODEL.onnx")->required();
  sub->add_option("--data", a->data, "fashion-mnist | mnist-idx:DIR | npy:DIR | csv:FILE")->required();
  sub->add_option("--out", a->out, "output .onnx (the distilled student)")->required();
  sub->add_option("--alpha", a->alpha, "weight of the distillation term (1 - alpha on cross-entropy)")
      ->capture_default_str();
  sub->add_option("--temperature", a->temperature, "softmax temperature T")->capture_default_str();
  sub->add_option("--epochs", a->epochs, "epochs")->capture_default_str()->check(CLI::PositiveNumber);
  sub->add_option("--batch", a->batch, "batch size")->capture_default_str()->check(CLI::PositiveNumber);
  sub->add_option("--lr", a->lr, "peak learning rate (cosine decay)")->capture_default_str();
  sub->add_option("--weight-decay", a->weight_decay, "weight decay")->capture_default_str();
  sub->add_option("--optimizer", a->optimizer, "adamw | sgd")->capture_default_str();
  sub->add_option("--seed", a->seed, "seed for init, shuffling")->capture_default_str();
  sub->add_option("--widths", a->widths, "student architecture widths, e.g. 64 (mlp) or 8,16 (cnn)");
  sub->add_option("--threads", a->threads, "threads (0 = all cores)")->capture_default_str();
  sub->add_option("--limit", a->limit, "use only the first N training samples");
  sub->add_option("--eval-limit", a->eval_limit, "use only the first N test samples");
  sub->add_flag("--baseline", a->baseline, "also train the student without the teacher, same seed and epochs");
  sub->add_flag("--json", a->json, "print one JSON object on stdout");
  sub->callback([a, exit_code] { *exit_code = RunDistill(*a); });
}

}  // namespace greenai::cli
