// Trainer: see train/trainer.h.
#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <optional>

#include <fmt/format.h>

#include "core/progress.h"
#include "runtime/session.h"
#include "train/autodiff.h"
#include "train/checkpoint.h"
#include "train/data_loader.h"
#include "train/loss.h"
#include "train/optim.h"
#include "train/trainer_util.h"

namespace greenai::train {

namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string Const(Graph& g, const std::string& base, float v) {
  std::string name = g.UniqueName(base);
  g.AddInitializer(name, Tensor::Scalar<float>(v));
  return name;
}

std::string Emit(Graph& g, const std::string& op, std::vector<std::string> in, const std::string& base) {
  std::string out = g.UniqueName(base);
  g.AddNode(op, std::move(in), {out}, out);
  return out;
}

// Reduction over `axes` of `x` with keepdims 0 in the form the opset wants (axes became an
// input in opset 13 for ReduceSum and 18 for the others).
std::string Reduce(Graph& g, int64_t opset, const std::string& op, const std::string& x, std::vector<int64_t> axes) {
  const bool as_input = op == "ReduceSum" ? opset >= 13 : opset >= 18;
  std::vector<std::string> in = {x};
  if (as_input) {
    std::string a = g.UniqueName("const_axes");
    g.AddInitializer(a, Tensor::FromVector<int64_t>({static_cast<int64_t>(axes.size())}, axes));
    in.push_back(a);
  }
  std::string out = Emit(g, op, std::move(in), op);
  Node* n = g.mutable_nodes().back().get();
  if (!as_input) n->SetInts("axes", axes);
  n->SetInt("keepdims", 0);
  return out;
}

// softmax(t / T) per row into p, and returns mean_n sum_c p log p (the KL constant).
double SoftTargets(const Tensor& teacher_logits, double T, Tensor& p) {
  const int64_t n = teacher_logits.dim(0), c = teacher_logits.dim(1);
  const float* z = teacher_logits.data<float>();
  float* out = p.data<float>();
  double plogp = 0;
  for (int64_t i = 0; i < n; ++i) {
    double mx = -INFINITY;
    for (int64_t j = 0; j < c; ++j) mx = std::max(mx, z[i * c + j] / T);
    double sum = 0;
    for (int64_t j = 0; j < c; ++j) sum += std::exp(z[i * c + j] / T - mx);
    const double lse = mx + std::log(sum);
    for (int64_t j = 0; j < c; ++j) {
      const double lp = z[i * c + j] / T - lse, pv = std::exp(lp);
      out[i * c + j] = static_cast<float>(pv);
      if (pv > 0) plogp += pv * lp;
    }
  }
  return plogp / static_cast<double>(n);
}

}  // namespace

Trainer::~Trainer() = default;

Result<std::unique_ptr<Trainer>> Trainer::Create(const Model& model, TrainOptions opts) {
  if (opts.epochs < 1) return InvalidArgument("trainer: epochs {} must be >= 1", opts.epochs);
  if (opts.batch_size < 1) return InvalidArgument("trainer: batch size {} must be >= 1", opts.batch_size);
  if (!(opts.lr > 0) || !std::isfinite(opts.lr)) return InvalidArgument("trainer: learning rate {} must be > 0", opts.lr);
  if (opts.teacher && (!(opts.temperature > 0) || opts.distill_alpha < 0 || opts.distill_alpha > 1))
    return InvalidArgument("trainer: distillation needs temperature > 0 (got {}) and alpha in [0, 1] (got {})",
                           opts.temperature, opts.distill_alpha);
  std::unique_ptr<Trainer> t(new Trainer());
  t->o_ = std::move(opts);
  t->model_ = model.Clone();
  GREENAI_ASSIGN_OR_RETURN(ModelIo io, FindModelIo(*t->model_));
  t->input_ = io.input;
  t->logits_ = io.logits;
  t->sample_shape_ = io.sample;
  t->classes_ = io.classes;
  Graph& g = *t->model_->graph;
  std::vector<std::string> names = t->o_.params.empty() ? TrainableParams(*t->model_) : t->o_.params;
  for (const auto& f : t->o_.freeze)
    if (std::find(names.begin(), names.end(), f) == names.end())
      return NotFound("trainer: frozen param '{}' is not a trainable param of the model", f);
  for (const auto& n : names) {
    if (std::find(t->o_.freeze.begin(), t->o_.freeze.end(), n) != t->o_.freeze.end()) continue;
    const Tensor* v = g.FindInitializer(n);
    if (!v || v->dtype() != DType::kF32)
      return InvalidArgument("trainer: param '{}' is not a float32 initializer of the model", n);
    t->param_names_.push_back(n);
    t->params_.push_back(v->Clone());  // the caller's tensors stay untouched
    g.initializers[n] = t->params_.back();
  }
  if (t->param_names_.empty()) return InvalidArgument("trainer: the model has no trainable params (all frozen?)");
  if (t->o_.optimizer == "adamw") {
    AdamWOptions a;
    a.lr = t->o_.lr;
    a.weight_decay = t->o_.weight_decay;
    GREENAI_ASSIGN_OR_RETURN(t->opt_, AdamW::Create(a));
  } else if (t->o_.optimizer == "sgd") {
    SgdOptions s;
    s.lr = t->o_.lr;
    s.momentum = t->o_.momentum;
    s.weight_decay = t->o_.weight_decay;
    GREENAI_ASSIGN_OR_RETURN(t->opt_, Sgd::Create(s));
  } else {
    return InvalidArgument("trainer: optimizer '{}' is unknown (expects adamw or sgd)", t->o_.optimizer);
  }
  GREENAI_RETURN_IF_ERROR(t->BuildTrainingGraph());
  if (t->o_.teacher) {
    GREENAI_ASSIGN_OR_RETURN(ModelIo tio, FindModelIo(*t->o_.teacher));
    if (tio.classes != t->classes_)
      return InvalidArgument("trainer: teacher gives {} logits but the student {}", tio.classes, t->classes_);
    SessionOptions so;
    so.num_threads = t->o_.num_threads;
    GREENAI_ASSIGN_OR_RETURN(t->teacher_, Session::Create(*t->o_.teacher, so));
    t->teacher_input_ = tio.input;
  }
  return t;
}

Status Trainer::BuildTrainingGraph() {
  auto tm = model_->Clone();
  Graph& g = *tm->graph;
  const int64_t opset = tm->OpsetFor("");
  if (opset < 12)
    return Unimplemented("trainer: model opset {} is below 12 (SoftmaxCrossEntropyLoss needs opset >= 12)", opset);
  std::vector<std::string> stat_outs;
  for (auto& np : g.mutable_nodes()) {
    Node& n = *np;
    if (!n.domain.empty() && n.domain != "ai.onnx") continue;
    if (n.op_type == "Dropout") {
      // Inference-form Dropout is the identity; the CPU kernels have no random masks.
      if (n.HasOutput(1)) return Unimplemented("trainer: {} has its mask output in use", n.Describe());
      n.op_type = "Identity";
      n.inputs.resize(1);
      n.outputs.resize(1);
      n.attributes.clear();
    } else if (n.op_type == "BatchNormalization") {
      if (n.inputs.size() < 5 || !g.IsInitializer(n.inputs[3]) || !g.IsInitializer(n.inputs[4]))
        return Unimplemented("trainer: {} needs initializer running mean/var to train", n.Describe());
      if (opset >= 14) n.SetInt("training_mode", 1);
      n.outputs.resize(3);
      for (int k = 0; k < 2; ++k) {
        const std::string& init = n.inputs[3 + k];
        if (std::find(stat_names_.begin(), stat_names_.end(), init) != stat_names_.end())
          return Unimplemented("trainer: running statistic '{}' is shared by several BatchNormalization nodes", init);
        n.outputs[1 + k] = g.UniqueName(init + "_updated");
        stat_names_.push_back(init);
        stats_.push_back(g.FindInitializer(init)->Clone());
        stat_outs.push_back(n.outputs[1 + k]);
      }
    }
  }
  for (size_t i = 0; i < stat_names_.size(); ++i) {
    model_->graph->initializers[stat_names_[i]] = stats_[i];
    g.initializers[stat_names_[i]] = stats_[i];
    g.inputs.push_back(ValueInfo{stat_names_[i], TensorType::Of(DType::kF32, stats_[i].shape()), ""});
  }
  const std::string labels = g.UniqueName("labels");
  TensorType lt = TensorType::Of(DType::kI64, {-1});
  g.inputs.push_back(ValueInfo{labels, lt, ""});
  std::string loss = g.UniqueName("loss_ce");
  g.AddNode("SoftmaxCrossEntropyLoss", {logits_, labels}, {loss}, loss)->SetString("reduction", "mean");
  if (o_.teacher) {
    const std::string tp = g.UniqueName("teacher_probs");
    g.inputs.push_back(ValueInfo{tp, TensorType::Of(DType::kF32, {-1, classes_}), ""});
    const double T = o_.temperature, a = o_.distill_alpha;
    std::string s = Emit(g, "Div", {logits_, Const(g, "const_temperature", static_cast<float>(T))}, "distill_soft");
    std::string ls = Emit(g, "LogSoftmax", {s}, "distill_log_softmax");
    g.mutable_nodes().back()->SetInt("axis", 1);
    std::string prod = Emit(g, "Mul", {ls, tp}, "distill_p_log_s");
    std::string rows = Reduce(g, opset, "ReduceSum", prod, {1});
    std::string mean = Reduce(g, opset, "ReduceMean", rows, {0});
    std::string kl = Emit(g, "Mul", {mean, Const(g, "const_kl_scale", static_cast<float>(-a * T * T))}, "distill_kl");
    std::string ce = Emit(g, "Mul", {loss, Const(g, "const_ce_scale", static_cast<float>(1 - a))}, "distill_ce");
    loss = Emit(g, "Add", {kl, ce}, "distill_loss");
    teacher_probs_ = tp;
  }
  g.outputs.clear();
  g.outputs.push_back(ValueInfo{loss, TensorType::Of(DType::kF32, {}), ""});
  g.outputs.push_back(ValueInfo{logits_, TensorType::Of(DType::kF32, {-1, classes_}), ""});
  for (size_t i = 0; i < stat_outs.size(); ++i)
    g.outputs.push_back(ValueInfo{stat_outs[i], TensorType::Of(DType::kF32, stats_[i].shape()), ""});
  labels_ = labels;
  GradientOptions go;
  go.seed_as_input = false;
  go.params_as_inputs = true;
  GREENAI_ASSIGN_OR_RETURN(GradientGraph gg, BuildGradientGraph(*tm, loss, param_names_, go));
  SessionOptions so;
  so.num_threads = o_.num_threads;
  GREENAI_ASSIGN_OR_RETURN(session_, Session::Create(*gg.model, so));
  return Status::Ok();
}

Status Trainer::CheckDataset(const Dataset& ds) const {
  ModelIo io{input_, logits_, sample_shape_, classes_};
  return CheckDatasetFits(io, ds);
}

Result<std::unique_ptr<Model>> Trainer::ExportModel() const {
  auto m = model_->Clone();
  for (size_t i = 0; i < param_names_.size(); ++i) m->graph->initializers[param_names_[i]] = params_[i].Clone();
  for (size_t i = 0; i < stat_names_.size(); ++i) m->graph->initializers[stat_names_[i]] = stats_[i].Clone();
  return m;
}

Status Trainer::Restore() {
  GREENAI_ASSIGN_OR_RETURN(LoadedCheckpoint ck, LoadCheckpoint(o_.checkpoint));
  const TrainState& s = ck.state;
  if (s.seed != o_.seed)
    return InvalidArgument("resume: checkpoint '{}' was trained with seed {} but this run has seed {}", o_.checkpoint,
                           s.seed, o_.seed);
  if (s.optimizer != o_.optimizer)
    return InvalidArgument("resume: checkpoint '{}' used optimizer '{}' but this run uses '{}'", o_.checkpoint,
                           s.optimizer, o_.optimizer);
  auto restore = [&](const std::string& name, Tensor& dst) -> Status {
    const Tensor* src = ck.model->graph->FindInitializer(name);
    if (!src || src->dtype() != dst.dtype() || src->shape() != dst.shape())
      return InvalidArgument("resume: checkpoint '{}' has no float32 {} tensor '{}' (a different model?)", o_.checkpoint,
                             ShapeToString(dst.shape()), name);
    return dst.CopyFrom(*src);
  };
  for (size_t i = 0; i < param_names_.size(); ++i) GREENAI_RETURN_IF_ERROR(restore(param_names_[i], params_[i]));
  for (size_t i = 0; i < stat_names_.size(); ++i) GREENAI_RETURN_IF_ERROR(restore(stat_names_[i], stats_[i]));
  GREENAI_RETURN_IF_ERROR(opt_->ImportState(s.optimizer_state).WithContext("resume: optimizer state"));
  step_ = s.step;
  start_epoch_ = s.epoch;
  start_batch_ = s.batch;
  resume_loss_sum_ = s.epoch_loss_sum;
  resume_correct_ = s.epoch_correct;
  resume_seen_ = s.epoch_seen;
  return Status::Ok();
}

Status Trainer::Checkpoint(int64_t epoch, int64_t batch, double loss_sum, int64_t correct, int64_t seen) {
  if (o_.checkpoint.empty()) return Status::Ok();
  TrainState s;
  s.epoch = epoch;
  s.batch = batch;
  s.step = step_;
  s.seed = o_.seed;
  s.optimizer = o_.optimizer;
  s.epoch_loss_sum = loss_sum;
  s.epoch_correct = correct;
  s.epoch_seen = seen;
  s.optimizer_state = opt_->ExportState();
  GREENAI_ASSIGN_OR_RETURN(auto m, ExportModel());
  return SaveCheckpoint(o_.checkpoint, *m, s).WithContext("checkpoint");
}

Result<FitResult> Trainer::Fit(const Dataset& train, const Dataset* eval) {
  GREENAI_RETURN_IF_ERROR(CheckDataset(train));
  if (eval) GREENAI_RETURN_IF_ERROR(CheckDataset(*eval));
  if (o_.resume) {
    if (o_.checkpoint.empty()) return InvalidArgument("resume: no checkpoint prefix given");
    GREENAI_RETURN_IF_ERROR(Restore());
    o_.resume = false;  // a second Fit continues from memory
  }
  LoaderOptions lo;
  lo.batch_size = o_.batch_size;
  lo.shuffle = true;
  lo.drop_last = train.size() > o_.batch_size;  // equal batches keep BN statistics and step sizes even
  lo.seed = o_.seed;
  lo.crop_padding = o_.crop_padding;
  lo.hflip = o_.hflip;
  lo.prefetch = o_.prefetch;
  GREENAI_ASSIGN_OR_RETURN(auto loader,
                           DataLoader::Create(std::shared_ptr<const Dataset>(&train, [](const Dataset*) {}), lo));
  const int64_t nb = loader->num_batches();
  LrSchedule sched;
  sched.kind = o_.cosine ? LrSchedule::Kind::kCosine : LrSchedule::Kind::kConstant;
  sched.base_lr = o_.lr;
  sched.warmup_steps = o_.warmup_steps;
  sched.total_steps = std::max<int64_t>(o_.epochs * nb, o_.warmup_steps + 1);
  GREENAI_RETURN_IF_ERROR(sched.Validate());

  // Feeds are built once; params and statistics are the live tensors (updated in place).
  std::vector<std::pair<std::string, Tensor>> feeds = {{input_, Tensor()}, {labels_, Tensor()}};
  for (size_t i = 0; i < params_.size(); ++i) feeds.emplace_back(param_names_[i], params_[i]);
  for (size_t i = 0; i < stats_.size(); ++i) feeds.emplace_back(stat_names_[i], stats_[i]);
  const size_t tp_feed = feeds.size();
  if (teacher_) feeds.emplace_back(teacher_probs_, Tensor());
  std::vector<ParamRef> refs;
  for (size_t i = 0; i < params_.size(); ++i) refs.push_back({param_names_[i], params_[i], Tensor()});
  const size_t grad0 = 2 + stats_.size();

  FitResult result;
  int64_t steps_here = 0;
  double joules = -1;
  for (int64_t epoch = start_epoch_; epoch < o_.epochs; ++epoch) {
    const int64_t b0 = epoch == start_epoch_ ? start_batch_ : 0;
    double loss_sum = b0 > 0 ? resume_loss_sum_ : 0;
    int64_t correct = b0 > 0 ? resume_correct_ : 0, seen = b0 > 0 ? resume_seen_ : 0, seen_here = 0;
    std::optional<ProgressBar> bar;
    if (o_.progress) bar.emplace(fmt::format("epoch {}/{}", epoch + 1, o_.epochs), nb);
    const double t0 = Now();
    if (b0 == 0) loader->StartEpoch(epoch);
    bool stop = false;
    int64_t b = b0;
    for (; b < nb && !stop; ++b) {
      Batch batch;
      if (b0 == 0) {
        GREENAI_ASSIGN_OR_RETURN(auto next, loader->Next());
        if (!next) break;
        batch = std::move(*next);
      } else {
        // Resuming mid-epoch: batch b of this epoch is a pure function of (seed, epoch, b).
        GREENAI_ASSIGN_OR_RETURN(batch, loader->MakeBatch(epoch, b));
      }
      const int64_t bs = batch.y.numel();
      feeds[0].second = batch.x;
      feeds[1].second = batch.y;
      double plogp = 0;
      if (teacher_) {
        GREENAI_ASSIGN_OR_RETURN(auto tout, teacher_->Run({{teacher_input_, batch.x}}));
        GREENAI_ASSIGN_OR_RETURN(Tensor p, Tensor::Create(DType::kF32, {bs, classes_}));
        plogp = SoftTargets(tout[0], o_.temperature, p);
        feeds[tp_feed].second = p;
      }
      GREENAI_ASSIGN_OR_RETURN(auto outs, session_->Run(feeds));
      const double loss = outs[0].GetAsDouble(0) + o_.distill_alpha * o_.temperature * o_.temperature * plogp;
      if (!std::isfinite(loss))
        return FailedPrecondition(
            "training stopped: loss is {} at epoch {} batch {} (step {}, lr {:.3g}); parameters were not updated{}",
            loss, epoch + 1, b + 1, step_ + 1, sched.LrAt(step_),
            o_.checkpoint.empty() ? std::string()
                                  : fmt::format(" and the last good checkpoint '{}' is kept", o_.checkpoint));
      GREENAI_ASSIGN_OR_RETURN(int64_t c, CountCorrect(outs[1], batch.y));
      for (size_t i = 0; i < stats_.size(); ++i) GREENAI_RETURN_IF_ERROR(stats_[i].CopyFrom(outs[2 + i]));
      for (size_t i = 0; i < refs.size(); ++i) refs[i].grad = outs[grad0 + i];
      opt_->set_lr(sched.LrAt(step_));
      GREENAI_RETURN_IF_ERROR(opt_->Step(refs));
      ++step_;
      ++steps_here;
      if (o_.after_step)
        for (size_t i = 0; i < params_.size(); ++i) GREENAI_RETURN_IF_ERROR(o_.after_step(param_names_[i], params_[i]));
      loss_sum += loss * static_cast<double>(bs);
      correct += c;
      seen += bs;
      seen_here += bs;
      if (o_.progress) {
        if (o_.joules && (b % 20 == 0 || b + 1 == nb)) joules = o_.joules();
        const double dt = std::max(Now() - t0, 1e-9);
        std::string suffix = fmt::format("loss {:.3f} · acc {:.1f} % · {:.0f} samples/s", loss_sum / seen,
                                         100.0 * correct / seen, seen_here / dt);
        if (joules >= 0) suffix += fmt::format(" · {:.1f} {}", joules, o_.joules_label);
        bar->Update(b + 1, suffix);
      }
      if (o_.max_steps > 0 && steps_here >= o_.max_steps) stop = true;
      if (o_.checkpoint_every > 0 && step_ % o_.checkpoint_every == 0 && b + 1 < nb)
        GREENAI_RETURN_IF_ERROR(Checkpoint(epoch, b + 1, loss_sum, correct, seen));
    }
    start_batch_ = 0;
    if (b < nb) {  // stopped mid-epoch (max_steps): save where we are
      GREENAI_RETURN_IF_ERROR(Checkpoint(epoch, b, loss_sum, correct, seen));
      start_epoch_ = epoch;
      start_batch_ = b;
      resume_loss_sum_ = loss_sum;
      resume_correct_ = correct;
      resume_seen_ = seen;
      if (bar) bar->Finish("stopped");
      result.stopped_early = true;
      result.steps = step_;
      return result;
    }
    EpochStats st;
    st.epoch = epoch;
    st.seconds = Now() - t0;
    st.train_loss = seen > 0 ? loss_sum / seen : 0;
    st.train_accuracy = seen > 0 ? static_cast<double>(correct) / seen : 0;
    st.samples_per_s = seen_here / std::max(st.seconds, 1e-9);
    if (eval) {
      GREENAI_ASSIGN_OR_RETURN(auto m, ExportModel());
      GREENAI_ASSIGN_OR_RETURN(EvalResult er, Evaluate(*m, *eval, o_.eval_batch, o_.num_threads));
      st.eval_loss = er.mean_loss;
      st.eval_accuracy = er.accuracy;
    }
    if (o_.joules) st.joules = joules = o_.joules();
    std::string suffix = fmt::format("loss {:.3f} · acc {:.1f} % · {:.0f} samples/s", st.train_loss,
                                     100 * st.train_accuracy, st.samples_per_s);
    if (eval) suffix += fmt::format(" · eval acc {:.2f} % loss {:.3f}", 100 * st.eval_accuracy, st.eval_loss);
    if (st.joules >= 0) suffix += fmt::format(" · {:.1f} {}", st.joules, o_.joules_label);
    if (bar) bar->Finish(suffix);
    GREENAI_RETURN_IF_ERROR(Checkpoint(epoch + 1, 0, 0, 0, 0));
    start_epoch_ = epoch + 1;
    result.epochs.push_back(st);
    if (o_.on_epoch) o_.on_epoch(st);
    if (stop) {
      result.stopped_early = epoch + 1 < o_.epochs;
      break;
    }
  }
  result.steps = step_;
  return result;
}

}  // namespace greenai::train
