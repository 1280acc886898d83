// Trainer: one SGD step checked against a hand-derived update (linear classifier, CE and
// distillation), learning on separable blobs, determinism, exact resume, NaN stop keeping the
// checkpoint, masks, freezing, and the data/model mismatch errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "train/archs.h"
#include "train/checkpoint.h"
#include "train/loss.h"
#include "train/trainer.h"

namespace greenai::train {
namespace {

// Three Gaussian blobs in F dims, shaped [1, 2, F/2] so the CNN-shaped path is exercised too.
std::unique_ptr<TensorDataset> Blobs(int64_t n, int64_t f, uint32_t seed, const std::string& name = "blobs") {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0.f, 0.3f);
  Tensor x = Tensor::Create(DType::kF32, {n, f}).value();
  std::vector<int64_t> y(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    y[static_cast<size_t>(i)] = i % 3;
    for (int64_t j = 0; j < f; ++j)
      x.data<float>()[i * f + j] = (j % 3 == i % 3 ? 1.5f : 0.f) + noise(rng);
  }
  return TensorDataset::Create(x, y, 3, name).value();
}

// logits = x W^T + b (Gemm transB=1), input [batch, F].
std::unique_ptr<Model> Linear(int64_t f, int64_t c, uint32_t seed) {
  auto m = std::make_unique<Model>();
  m->opset_imports = {{"", 17}};
  Graph& g = *m->graph;
  TensorType in = TensorType::Of(DType::kF32, {-1, f});
  g.inputs.push_back(ValueInfo{"x", in, ""});
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, 0.2f);
  Tensor w = Tensor::Create(DType::kF32, {c, f}).value(), b = Tensor::Create(DType::kF32, {c}).value();
  for (float& v : w.span<float>()) v = d(rng);
  for (float& v : b.span<float>()) v = d(rng);
  g.AddInitializer("W", w);
  g.AddInitializer("b", b);
  g.AddNode("Gemm", {"x", "W", "b"}, {"logits"}, "fc")->SetInt("transB", 1);
  g.outputs.push_back(ValueInfo{"logits", TensorType::Of(DType::kF32, {-1, c}), ""});
  return m;
}

TrainOptions Quiet() {
  TrainOptions o;
  o.progress = false;
  o.seed = 3;
  o.num_threads = 1;
  o.prefetch = 0;
  return o;
}

const Tensor& Init(const Model& m, const std::string& n) { return *m.graph->FindInitializer(n); }

std::string Scratch(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() / ("greenai_trainer_test_" + std::to_string(getpid()) + "_" + name);
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d.string();
}

// W' = W - lr * G^T X, b' = b - lr * sum_n G, with G = d loss / d logits from loss.h.
void ExpectOneSgdStep(const Model& before, const Model& after, const Tensor& x, const Tensor& g, double lr) {
  const Tensor& w0 = Init(before, "W");
  const Tensor& w1 = Init(after, "W");
  const int64_t c = w0.dim(0), f = w0.dim(1), n = x.dim(0);
  for (int64_t i = 0; i < c; ++i)
    for (int64_t j = 0; j < f; ++j) {
      double dw = 0;
      for (int64_t k = 0; k < n; ++k) dw += g.data<float>()[k * c + i] * x.data<float>()[k * f + j];
      EXPECT_NEAR(w1.data<float>()[i * f + j], w0.data<float>()[i * f + j] - lr * dw, 1e-5) << i << "," << j;
    }
  for (int64_t i = 0; i < c; ++i) {
    double db = 0;
    for (int64_t k = 0; k < n; ++k) db += g.data<float>()[k * c + i];
    EXPECT_NEAR(Init(after, "b").data<float>()[i], Init(before, "b").data<float>()[i] - lr * db, 1e-5);
  }
}

// Logits of the linear model, computed by hand.
Tensor LinearLogits(const Model& m, const Tensor& x) {
  const Tensor& w = Init(m, "W");
  const Tensor& b = Init(m, "b");
  const int64_t c = w.dim(0), f = w.dim(1), n = x.dim(0);
  Tensor z = Tensor::Create(DType::kF32, {n, c}).value();
  for (int64_t k = 0; k < n; ++k)
    for (int64_t i = 0; i < c; ++i) {
      double s = b.data<float>()[i];
      for (int64_t j = 0; j < f; ++j) s += w.data<float>()[i * f + j] * x.data<float>()[k * f + j];
      z.data<float>()[k * c + i] = static_cast<float>(s);
    }
  return z;
}

TEST(Trainer, OneSgdStepMatchesHandDerivedCrossEntropyUpdate) {
  auto ds = Blobs(8, 6, 1);
  auto m = Linear(6, 3, 2);
  TrainOptions o = Quiet();
  o.optimizer = "sgd";
  o.momentum = 0;
  o.weight_decay = 0;
  o.cosine = false;
  o.lr = 0.5;
  o.batch_size = 8;
  o.max_steps = 1;
  auto t = Trainer::Create(*m, o);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto r = (*t)->Fit(*ds);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->steps, 1);
  // One batch = the whole set (the order does not change the mean gradient).
  Tensor y = Tensor::Create(DType::kI64, {8}).value();
  for (int64_t i = 0; i < 8; ++i) y.data<int64_t>()[i] = ds->label(i);
  auto ce = SoftmaxCrossEntropy(LinearLogits(*m, ds->features()), y);
  ASSERT_TRUE(ce.ok());
  auto after = (*t)->ExportModel();
  ASSERT_TRUE(after.ok());
  ExpectOneSgdStep(*m, **after, ds->features(), ce->grad, 0.5);
}

TEST(Trainer, OneDistillationStepMatchesAlphaMixOfKlAndCe) {
  auto ds = Blobs(8, 6, 4);
  auto student = Linear(6, 3, 5), teacher = Linear(6, 3, 6);
  TrainOptions o = Quiet();
  o.optimizer = "sgd";
  o.momentum = 0;
  o.weight_decay = 0;
  o.cosine = false;
  o.lr = 0.3;
  o.batch_size = 8;
  o.max_steps = 1;
  o.teacher = teacher.get();
  o.distill_alpha = 0.7;
  o.temperature = 2.0;
  auto t = Trainer::Create(*student, o);
  if (!t.ok() && t.status().code() == StatusCode::kUnimplemented)
    GTEST_SKIP() << "gradient rule missing: " << t.status().ToString();
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_TRUE((*t)->Fit(*ds).ok());
  Tensor y = Tensor::Create(DType::kI64, {8}).value();
  for (int64_t i = 0; i < 8; ++i) y.data<int64_t>()[i] = ds->label(i);
  Tensor zs = LinearLogits(*student, ds->features()), zt = LinearLogits(*teacher, ds->features());
  auto ce = SoftmaxCrossEntropy(zs, y);
  auto kl = DistillKl(zs, zt, 2.0);
  ASSERT_TRUE(ce.ok() && kl.ok());
  // d/dz [a T^2 KL] = a T^2 * (DistillKl's grad, which is d KL*T^2 / dz already) -> a * kl.grad.
  Tensor g = Tensor::Create(DType::kF32, zs.shape()).value();
  for (int64_t i = 0; i < g.numel(); ++i)
    g.data<float>()[i] = 0.7f * kl->grad.data<float>()[i] + 0.3f * ce->grad.data<float>()[i];
  auto after = (*t)->ExportModel();
  ASSERT_TRUE(after.ok());
  ExpectOneSgdStep(*student, **after, ds->features(), g, 0.3);
}

TEST(Trainer, MlpLearnsBlobsAndEvaluateAgrees) {
  auto train = Blobs(300, 8, 7), test = Blobs(90, 8, 8);
  ArchOptions ao;
  ao.input_shape = {8};
  ao.num_classes = 3;
  ao.widths = {16};
  auto m = BuildArch("mlp", ao);
  ASSERT_TRUE(m.ok());
  auto before = Evaluate(**m, *test);
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  TrainOptions o = Quiet();
  o.epochs = 5;
  o.batch_size = 32;
  o.lr = 0.01;
  std::vector<EpochStats> seen;
  o.on_epoch = [&](const EpochStats& s) { seen.push_back(s); };
  auto t = Trainer::Create(**m, o);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto r = (*t)->Fit(*train, test.get());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->epochs.size(), 5u);
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_LT(r->epochs.back().train_loss, r->epochs.front().train_loss);
  // Blobs 1.5 apart against noise 0.3 in 8 dims: a trained classifier is nearly perfect.
  EXPECT_GT(r->epochs.back().eval_accuracy, 0.97);
  auto out = (*t)->ExportModel();
  ASSERT_TRUE(out.ok());
  auto ev = Evaluate(**out, *test);
  ASSERT_TRUE(ev.ok());
  EXPECT_DOUBLE_EQ(ev->accuracy, r->epochs.back().eval_accuracy);
  EXPECT_NEAR(ev->mean_loss, r->epochs.back().eval_loss, 1e-9);
  EXPECT_LT(ev->mean_loss, before->mean_loss);
  EXPECT_EQ(ev->samples, 90);
}

std::unique_ptr<Model> TrainMlp(const Dataset& ds, TrainOptions o, Result<FitResult>* fit = nullptr) {
  ArchOptions ao;
  ao.input_shape = {8};
  ao.num_classes = 3;
  ao.widths = {12};
  auto m = BuildArch("mlp", ao).value();
  auto t = Trainer::Create(*m, o);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  if (!t.ok()) return nullptr;
  auto r = (*t)->Fit(ds);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (fit) *fit = r;
  return (*t)->ExportModel().value();
}

bool SameParams(const Model& a, const Model& b) {
  for (const auto& n : TrainableParams(a)) {
    const Tensor &x = Init(a, n), &y = Init(b, n);
    if (x.nbytes() != y.nbytes() || std::memcmp(x.raw(), y.raw(), x.nbytes()) != 0) return false;
  }
  return true;
}

TEST(Trainer, SameSeedGivesIdenticalParams) {
  auto ds = Blobs(100, 8, 9);
  TrainOptions o = Quiet();
  o.epochs = 2;
  o.batch_size = 16;
  o.hflip = false;
  auto a = TrainMlp(*ds, o), b = TrainMlp(*ds, o);
  o.seed = 4;
  auto c = TrainMlp(*ds, o);
  ASSERT_TRUE(a && b && c);
  EXPECT_TRUE(SameParams(*a, *b));
  EXPECT_FALSE(SameParams(*a, *c));
}

TEST(Trainer, InterruptedRunResumesToTheSameParams) {
  auto ds = Blobs(100, 8, 10);
  const std::string dir = Scratch("resume");
  TrainOptions o = Quiet();
  o.epochs = 3;
  o.batch_size = 16;  // 6 batches per epoch (drop_last)
  auto full = TrainMlp(*ds, o);
  o.checkpoint = dir + "/ck";
  o.max_steps = 8;  // stops in epoch 2, batch 3
  Result<FitResult> first = InvalidArgument("unset");
  TrainMlp(*ds, o, &first);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->stopped_early);
  ASSERT_TRUE(CheckpointExists(o.checkpoint));
  auto ck = LoadCheckpoint(o.checkpoint);
  ASSERT_TRUE(ck.ok()) << ck.status().ToString();
  EXPECT_EQ(ck->state.step, 8);
  EXPECT_EQ(ck->state.epoch, 1);
  EXPECT_EQ(ck->state.batch, 2);
  o.max_steps = 0;
  o.resume = true;
  Result<FitResult> second = InvalidArgument("unset");
  auto resumed = TrainMlp(*ds, o, &second);
  ASSERT_TRUE(second.ok() && full && resumed);
  EXPECT_EQ(second->steps, 18);
  EXPECT_EQ(second->epochs.size(), 2u);  // epochs 2 and 3
  EXPECT_TRUE(SameParams(*full, *resumed));
  std::filesystem::remove_all(dir);
}

TEST(Trainer, NanLossStopsAndKeepsTheLastGoodCheckpoint) {
  auto ds = Blobs(64, 8, 11);
  const std::string dir = Scratch("nan");
  TrainOptions o = Quiet();
  o.epochs = 1;
  o.batch_size = 16;
  o.checkpoint = dir + "/ck";
  ASSERT_TRUE(TrainMlp(*ds, o));
  std::ifstream in(CheckpointModelPath(o.checkpoint), std::ios::binary);
  std::stringstream before;
  before << in.rdbuf();
  // Resume for a second epoch with an absurd learning rate: the first step overflows the
  // weights, and the next loss is not finite.
  o.epochs = 2;
  o.resume = true;
  o.optimizer = "adamw";
  o.lr = 1e30;
  ArchOptions ao;
  ao.input_shape = {8};
  ao.num_classes = 3;
  ao.widths = {12};
  auto m = BuildArch("mlp", ao).value();
  auto t = Trainer::Create(*m, o);
  ASSERT_TRUE(t.ok());
  auto r = (*t)->Fit(*ds);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("loss is"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("last good checkpoint"), std::string::npos) << r.status().message();
  std::ifstream in2(CheckpointModelPath(o.checkpoint), std::ios::binary);
  std::stringstream after;
  after << in2.rdbuf();
  EXPECT_EQ(before.str(), after.str());
  std::filesystem::remove_all(dir);
}

TEST(Trainer, MaskKeepsPrunedWeightsZeroAndFrozenParamsStay) {
  auto ds = Blobs(64, 6, 12);
  auto m = Linear(6, 3, 13);
  Tensor mask = Tensor::Create(DType::kF32, {3, 6}).value();
  for (int64_t i = 0; i < mask.numel(); ++i) mask.data<float>()[i] = i % 2 ? 1.f : 0.f;
  TrainOptions o = Quiet();
  o.epochs = 2;
  o.batch_size = 16;
  o.lr = 0.05;
  o.after_step = MaskHook({{"W", mask}});
  o.freeze = {"b"};
  auto t = Trainer::Create(*m, o);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ((*t)->param_names(), std::vector<std::string>{"W"});
  ASSERT_TRUE((*t)->Fit(*ds).ok());
  auto out = (*t)->ExportModel().value();
  const Tensor& w = Init(*out, "W");
  int changed = 0;
  for (int64_t i = 0; i < w.numel(); ++i) {
    if (i % 2 == 0) EXPECT_EQ(w.data<float>()[i], 0.f) << i;
    else changed += w.data<float>()[i] != Init(*m, "W").data<float>()[i];
  }
  EXPECT_GT(changed, 0);
  EXPECT_EQ(0, std::memcmp(Init(*out, "b").raw(), Init(*m, "b").raw(), Init(*m, "b").nbytes()));
  o.freeze = {"nope"};
  EXPECT_EQ(Trainer::Create(*m, o).status().code(), StatusCode::kNotFound);
}

TEST(Trainer, DataThatDoesNotFitTheModelIsAnError) {
  auto m = Linear(6, 3, 14);
  auto t = Trainer::Create(*m, Quiet());
  ASSERT_TRUE(t.ok());
  auto wrong_shape = Blobs(30, 5, 15);
  auto r = (*t)->Fit(*wrong_shape);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("samples of shape [5]"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("[6]"), std::string::npos) << r.status().message();
  // Five classes cannot be scored by three logits.
  Tensor x = Tensor::Create(DType::kF32, {5, 6}).value();
  auto five = TensorDataset::Create(x, {0, 1, 2, 3, 4}, 5, "five").value();
  r = (*t)->Fit(*five);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("5 classes"), std::string::npos) << r.status().message();
  EXPECT_FALSE(Evaluate(*m, *five).ok());
  // A label outside the declared classes never becomes a data set.
  EXPECT_FALSE(TensorDataset::Create(x, {0, 1, 2, 3, 7}, 5, "bad").ok());
}

TEST(Trainer, CnnWithBatchNormTrainsAndUpdatesRunningStatistics) {
  // 2x8x8 images: class = which quadrant is bright.
  const int64_t n = 96;
  Tensor x = Tensor::Create(DType::kF32, {n, 2, 8, 8}).value();
  std::vector<int64_t> y(n);
  std::mt19937 rng(16);
  std::normal_distribution<float> noise(0.f, 0.2f);
  for (int64_t i = 0; i < n; ++i) {
    y[static_cast<size_t>(i)] = i % 3;
    for (int64_t c = 0; c < 2; ++c)
      for (int64_t h = 0; h < 8; ++h)
        for (int64_t w = 0; w < 8; ++w) {
          const int64_t q = (h / 4) * 2 + (w / 4);
          x.data<float>()[((i * 2 + c) * 8 + h) * 8 + w] = (q == i % 3 ? 1.f : 0.f) + noise(rng);
        }
  }
  auto ds = TensorDataset::Create(x, y, 3, "quadrants").value();
  ArchOptions ao;
  ao.input_shape = {2, 8, 8};
  ao.num_classes = 3;
  ao.widths = {4, 8};
  auto m = BuildArch("cnn", ao).value();
  TrainOptions o = Quiet();
  o.epochs = 4;
  o.batch_size = 16;
  o.lr = 0.01;
  auto t = Trainer::Create(*m, o);
  if (!t.ok() && t.status().code() == StatusCode::kUnimplemented)
    GTEST_SKIP() << "gradient rule missing: " << t.status().ToString();
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto r = (*t)->Fit(*ds, ds.get());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_LT(r->epochs.back().train_loss, r->epochs.front().train_loss);
  EXPECT_GT(r->epochs.back().eval_accuracy, 0.9);
  auto out = (*t)->ExportModel().value();
  const Tensor& rm = Init(*out, "bn1.running_mean");
  double moved = 0;
  for (float v : rm.span<const float>()) moved += std::fabs(v);
  EXPECT_GT(moved, 1e-3);  // started at 0; batch means of non-zero inputs move it
  for (const auto& node : out->graph->nodes())
    if (node->op_type == "BatchNormalization") {
      EXPECT_EQ(node->GetInt("training_mode", 0), 0);
      EXPECT_EQ(node->outputs.size(), 1u);
    }
}

}  // namespace
}  // namespace greenai::train
