// Tests for bench/evaluate.h and `greenai bench`: accuracy against an independent plain-loop
// computation (nearest-class-mean classifier on Fashion-MNIST), percentiles and energy per
// inference by hand, energy plumbing with fake sensors, the classifier checks, and the CLI's
// bad-input handling.
#include <cmath>
#include <filesystem>
#include <memory>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "../cli/cli_test_util.h"
#include "bench/evaluate.h"
#include "energy/tracker.h"
#include "graph/onnx_io.h"
#include "train/data.h"

namespace greenai::bench {
namespace {

namespace fs = std::filesystem;

bool HaveFashionMnist() { return fs::exists(std::string(train::kFashionMnistDir) + "/t10k-labels-idx1-ubyte.gz") ||
                                 fs::exists(std::string(train::kFashionMnistDir) + "/t10k-labels-idx1-ubyte"); }

// Constant power, cumulative energy = watts * (t - first t).
class ConstantPowerSensor : public energy::Sensor {
 public:
  ConstantPowerSensor(double watts, energy::Method m) : watts_(watts), method_(m) {}
  std::string Name() const override { return "constant"; }
  Result<std::vector<energy::ComponentReading>> Read(double t) override {
    if (t0_ < 0) t0_ = t;
    energy::ComponentReading r;
    r.component = "cpu";
    r.energy_j = watts_ * (t - t0_);
    r.method = method_;
    r.source = "constant test sensor";
    return std::vector<energy::ComponentReading>{r};
  }

 private:
  double watts_;
  energy::Method method_;
  double t0_ = -1;
};

std::unique_ptr<energy::Tracker> MakeTracker(double watts, energy::Method m) {
  std::vector<std::unique_ptr<energy::Sensor>> s;
  s.push_back(std::make_unique<ConstantPowerSensor>(watts, m));
  energy::TrackerOptions o;
  o.interval_s = 0;
  auto t = std::make_unique<energy::Tracker>(std::move(s), o);
  EXPECT_TRUE(t->Start().ok());
  return t;
}

TensorType F32(std::vector<int64_t> dims) {
  TensorType t = TensorType::Of(DType::kF32, dims);
  t.dim_params.assign(dims.size(), "");
  if (!dims.empty() && dims[0] < 0) t.dim_params[0] = "batch";
  return t;
}

struct ClassMeans {
  std::vector<std::vector<double>> mu;  // [10][784], raw pixels in [0, 1]
};

ClassMeans TrainMeans() {
  auto ds = train::LoadDataset("fashion-mnist", train::Split::kTrain, {.limit = 6000});
  EXPECT_TRUE(ds.ok()) << ds.status().ToString();
  ClassMeans cm;
  cm.mu.assign(10, std::vector<double>(784, 0.0));
  std::vector<int64_t> count(10, 0);
  std::vector<float> x(784);
  for (int64_t i = 0; i < (*ds)->size(); ++i) {
    (*ds)->CopySample(i, x.data());
    const int64_t c = (*ds)->label(i);
    for (int p = 0; p < 784; ++p) cm.mu[c][p] += x[p];
    ++count[c];
  }
  for (int c = 0; c < 10; ++c)
    for (int p = 0; p < 784; ++p) cm.mu[c][p] /= static_cast<double>(count[c]);
  return cm;
}

// Linear classifier whose argmax is the nearest class mean in the space bench feeds:
// score_c = mu_c . x - |mu_c|^2 / 2, with mu_c (and x, by bench) normalized when `normalized`.
// input_dims: the model input ([-1, 784] or [-1, 1, 28, 28] or a fixed batch).
std::unique_ptr<Model> NcmModel(const ClassMeans& cm, std::vector<int64_t> input_dims, bool normalized = false) {
  auto m = std::make_unique<Model>();
  m->opset_imports = {{"", 17}};
  Graph& g = *m->graph;
  Tensor w = Tensor::Create(DType::kF32, {784, 10}).value();
  Tensor b = Tensor::Create(DType::kF32, {10}).value();
  for (int c = 0; c < 10; ++c) {
    double sq = 0;
    for (int p = 0; p < 784; ++p) {
      const double v = normalized ? (cm.mu[c][p] - kInputMean) / kInputStd : cm.mu[c][p];
      w.data<float>()[p * 10 + c] = static_cast<float>(v);
      sq += v * v;
    }
    b.data<float>()[c] = static_cast<float>(-0.5 * sq);
  }
  g.AddInitializer("W", w);
  g.AddInitializer("B", b);
  const int64_t batch = input_dims[0];
  g.inputs.push_back({"x", F32(input_dims), ""});
  std::string flat = "x";
  if (input_dims.size() != 2) {
    g.AddNode("Flatten", {"x"}, {"flat"}, "flatten");
    flat = "flat";
  }
  g.AddNode("Gemm", {flat, "W", "B"}, {"logits"}, "fc");
  g.outputs.push_back({"logits", F32({batch, 10}), ""});
  EXPECT_TRUE(g.TopologicalSort().ok());
  return m;
}

// Plain-loop nearest-class-mean on raw pixels (normalization only rescales distances, so the
// argmin is the same). `ambiguous` counts samples whose two best distances are so close that
// float rounding in the model could pick either.
struct Expected {
  int64_t correct = 0, ambiguous = 0;
};
Expected PlainNcm(const ClassMeans& cm, const train::Dataset& ds) {
  Expected e;
  std::vector<float> x(784);
  for (int64_t i = 0; i < ds.size(); ++i) {
    ds.CopySample(i, x.data());
    double best = 1e300, second = 1e300;
    int64_t arg = -1;
    for (int c = 0; c < 10; ++c) {
      double d = 0;
      for (int p = 0; p < 784; ++p) d += (x[p] - cm.mu[c][p]) * (x[p] - cm.mu[c][p]);
      if (d < best) {
        second = best;
        best = d;
        arg = c;
      } else if (d < second) {
        second = d;
      }
    }
    // Score gap in the model's units is (second - best) / 2 raw, / (2 std^2) normalized;
    // the smaller of the two decides whether rounding could flip the argmax.
    if ((second - best) / 2.0 < 1e-2) ++e.ambiguous;
    e.correct += arg == ds.label(i);
  }
  return e;
}

EvalOptions QuickOptions() {
  EvalOptions o;
  o.batch = 64;
  o.window_s = 0.2;
  o.warmup = 1;
  o.latency_runs = 20;
  o.latency_max_s = 1;
  o.num_threads = 1;
  return o;
}

TEST(BenchMath, PercentileNearestRank) {
  // Nearest rank on {1..10}: p50 -> 5th value, p99 -> 10th, p10 -> 1st.
  std::vector<double> v = {7, 3, 9, 1, 10, 2, 8, 4, 6, 5};
  EXPECT_EQ(Percentile(v, 50), 5);
  EXPECT_EQ(Percentile(v, 99), 10);
  EXPECT_EQ(Percentile(v, 10), 1);
  EXPECT_EQ(Percentile(v, 0), 1);
  EXPECT_EQ(Percentile({}, 50), 0);
  std::vector<double> h(200);
  for (int i = 0; i < 200; ++i) h[i] = i + 1;  // p99 of 1..200 = 198th value
  EXPECT_EQ(Percentile(h, 99), 198);
}

TEST(BenchMath, EnergyPerInferenceByHand) {
  // 30 J over 2 s at 10 W idle for 100 inferences: gross 0.3 J, net (30 - 20) / 100 = 0.1 J.
  PerInference p = EnergyPerInference(30, 2, 10, 100);
  EXPECT_DOUBLE_EQ(p.gross_j, 0.3);
  EXPECT_DOUBLE_EQ(p.net_j, 0.1);
  // Loaded below idle (noise) stays negative, not hidden.
  EXPECT_LT(EnergyPerInference(15, 2, 10, 100).net_j, 0);
}

TEST(BenchMath, HeadlineFallsBackToAttributedOnlyWhenNetIsNotPositive) {
  std::vector<ModelResult> rs(2);
  for (auto& r : rs) r.inferences = 1000, r.loaded_energy_j = 10;
  rs[0].net_j_per_inference = 2e-3, rs[0].has_attributed = true, rs[0].attributed_j_per_inference = 1e-3;
  rs[1].net_j_per_inference = 3e-3, rs[1].has_attributed = true, rs[1].attributed_j_per_inference = 4e-3;
  EXPECT_EQ(ChooseHeadline(rs), "");
  EXPECT_EQ(rs[0].headline_j_per_inference, 2e-3);
  EXPECT_EQ(rs[1].headline_basis, "net of idle");
  rs[1].net_j_per_inference = 4e-4;  // adds 0.4 J over 9.6 J of idle power: < 5 %, noise
  EXPECT_NE(ChooseHeadline(rs).find("attributed"), std::string::npos);
  rs[1].net_j_per_inference = -1e-6;  // idle window was not idle
  EXPECT_NE(ChooseHeadline(rs).find("attributed"), std::string::npos);
  EXPECT_EQ(rs[0].headline_j_per_inference, 1e-3);
  EXPECT_EQ(rs[1].headline_j_per_inference, 4e-3);
  EXPECT_EQ(rs[0].headline_basis, "process-attributed");
  rs[0].has_attributed = false;  // no attribution: net as computed, said so
  EXPECT_NE(ChooseHeadline(rs).find("as computed"), std::string::npos);
  EXPECT_EQ(rs[1].headline_j_per_inference, -1e-6);
}

TEST(BenchMath, MethodIsMeasuredOnlyWhenEveryComponentIs) {
  energy::WindowReport w;
  energy::ComponentReport a, b;
  a.component = "cpu", a.method = energy::Method::kMeasured, a.source = "rapl";
  b.component = "ram", b.method = energy::Method::kEstimated, b.source = "0.37 W/GiB";
  w.components = {a};
  EXPECT_EQ(DescribeMethod(w).method, "measured");
  w.components = {a, b};
  EnergyMethod m = DescribeMethod(w);
  EXPECT_EQ(m.method, "estimated");
  EXPECT_NE(m.source.find("ram: estimated (0.37 W/GiB)"), std::string::npos) << m.source;
  b.in_total = false;  // breakdowns do not decide the label
  w.components = {a, b};
  EXPECT_EQ(DescribeMethod(w).method, "measured");
  EXPECT_EQ(DescribeMethod(energy::WindowReport{}).method, "estimated");
}

class BenchEval : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!HaveFashionMnist()) return;
    means_ = new ClassMeans(TrainMeans());
    auto ds = train::LoadDataset("fashion-mnist", train::Split::kTest, {.limit = 1000});
    ASSERT_TRUE(ds.ok()) << ds.status().ToString();
    test_ = ds->release();
  }
  static void TearDownTestSuite() {
    delete means_;
    delete test_;
    means_ = nullptr;
    test_ = nullptr;
  }
  void SetUp() override {
    if (!means_) GTEST_SKIP() << "Fashion-MNIST not installed at " << train::kFashionMnistDir;
  }
  static ClassMeans* means_;
  static train::Dataset* test_;
};
ClassMeans* BenchEval::means_ = nullptr;
train::Dataset* BenchEval::test_ = nullptr;

TEST_F(BenchEval, Top1MatchesIndependentNearestMeanAccuracy) {
  const Expected e = PlainNcm(*means_, *test_);
  // The classifier is a real one (published NCM accuracy on Fashion-MNIST is about 68 %) and
  // near-ties are rare, so the comparison below is exact for almost every sample.
  EXPECT_GT(e.correct, 600);
  EXPECT_LT(e.ambiguous, 20);
  auto tracker = MakeTracker(10, energy::Method::kEstimated);
  for (bool normalized : {false, true})
  for (auto dims : {std::vector<int64_t>{-1, 784}, std::vector<int64_t>{-1, 1, 28, 28}}) {
    SCOPED_TRACE(fmt::format("normalized {} input rank {}", normalized, dims.size()));
    auto model = NcmModel(*means_, dims, normalized);
    EvalOptions o = QuickOptions();
    o.normalize = normalized;
    auto r = EvaluateModel(*model, "ncm", "", *test_, *tracker, IdleFigure{}, o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->samples, 1000);
    EXPECT_LE(std::llabs(r->correct - e.correct), e.ambiguous) << "bench " << r->correct << " plain " << e.correct;
    EXPECT_DOUBLE_EQ(r->top1, static_cast<double>(r->correct) / 1000.0);
    EXPECT_FALSE(r->fixed_batch);
    EXPECT_EQ(r->batch, 64);
    EXPECT_EQ(r->latency_batch, 1);
    EXPECT_GE(r->latency_runs, 10);
    EXPECT_GT(r->latency_p50_ms, 0);
    EXPECT_GE(r->latency_p99_ms, r->latency_p50_ms);
    EXPECT_GE(r->inferences, 64);
    EXPECT_EQ(r->inferences % 64, 0);
    EXPECT_GT(r->throughput_per_s, 0);
    EXPECT_EQ(r->energy_method.method, "estimated");
  }
}

TEST_F(BenchEval, FixedBatchModelRunsAtItsBatchAndSaysSo) {
  const Expected e = PlainNcm(*means_, *test_);
  auto model = NcmModel(*means_, {24, 784});  // 1000 = 41 x 24 + 16: the last batch is padded
  auto tracker = MakeTracker(10, energy::Method::kEstimated);
  auto r = EvaluateModel(*model, "fixed", "", *test_, *tracker, IdleFigure{}, QuickOptions());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->fixed_batch);
  EXPECT_EQ(r->batch, 24);
  EXPECT_EQ(r->latency_batch, 24);
  EXPECT_EQ(r->samples, 1000);
  EXPECT_LE(std::llabs(r->correct - e.correct), e.ambiguous);
  ASSERT_EQ(r->notes.size(), 1u);
  EXPECT_NE(r->notes[0].find("fixed batch of 24"), std::string::npos) << r->notes[0];
  EXPECT_EQ(r->inferences % 24, 0);
}

TEST_F(BenchEval, EnergyFromConstantPowerSensor) {
  // Constant 25 W: idle power is 25 W, a loaded window holds 25 W x its time, so gross J per
  // inference = 25 W x t / count and net = 0.
  auto tracker = MakeTracker(25, energy::Method::kMeasured);
  auto idle = MeasureIdle(*tracker, 0.1);
  ASSERT_TRUE(idle.ok()) << idle.status().ToString();
  EXPECT_NEAR(idle->power_w, 25, 1e-9);
  EXPECT_GE(idle->duration_s, 0.1);
  EXPECT_EQ(idle->method.method, "measured");
  auto model = NcmModel(*means_, {-1, 784});
  auto r = EvaluateModel(*model, "ncm", "", *test_, *tracker, *idle, QuickOptions());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GE(r->window_s, 0.2);
  EXPECT_NEAR(r->loaded_energy_j, 25 * r->window_s, 1e-9);
  EXPECT_NEAR(r->gross_j_per_inference, 25 * r->window_s / static_cast<double>(r->inferences), 1e-12);
  EXPECT_NEAR(r->net_j_per_inference, 0, 1e-12);
  EXPECT_EQ(r->energy_method.method, "measured");
  EXPECT_NE(r->energy_method.source.find("constant test sensor"), std::string::npos);
}

TEST_F(BenchEval, PredictionFromTheCostModel) {
  auto model = NcmModel(*means_, {-1, 784});
  ModelResult r;
  r.batch = 64;
  ASSERT_TRUE(AddPrediction(*model, "horowitz-45nm", "", r).ok());
  EXPECT_TRUE(r.has_prediction);
  EXPECT_EQ(r.prediction_profile, "horowitz-45nm");
  // 7840 MACs per inference at >= 3.7 pJ (fp32 mul) + 0.9 pJ (add) each: at least 36 nJ.
  EXPECT_GT(r.predicted_j_per_inference, 7840 * 4.6e-12 * 0.99);
  EXPECT_FALSE(AddPrediction(*model, "no-such-profile", "", r).ok());
}

TEST_F(BenchEval, NonClassifierOutputIsAClearError) {
  auto m = std::make_unique<Model>();
  m->opset_imports = {{"", 17}};
  Graph& g = *m->graph;
  g.inputs.push_back({"x", F32({-1, 1, 28, 28}), ""});
  g.AddNode("Relu", {"x"}, {"feature_map"}, "relu");
  g.outputs.push_back({"feature_map", F32({-1, 1, 28, 28}), ""});
  ASSERT_TRUE(g.TopologicalSort().ok());
  Status st = CheckClassifier(*m, "relu_model", *test_);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("output 'feature_map'"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("not a classifier"), std::string::npos) << st.message();
  auto tracker = MakeTracker(1, energy::Method::kEstimated);
  auto r = EvaluateModel(*m, "relu_model", "", *test_, *tracker, IdleFigure{}, QuickOptions());
  EXPECT_FALSE(r.ok());

  // Too few classes for the data set's 10 labels.
  auto few = NcmModel(*means_, {-1, 784});
  Tensor w = Tensor::Create(DType::kF32, {784, 3}).value();
  few->graph->initializers["W"] = w;
  few->graph->initializers["B"] = Tensor::Create(DType::kF32, {3}).value();
  few->graph->outputs[0].type = F32({-1, 3});
  st = CheckClassifier(*few, "three", *test_);
  EXPECT_NE(st.message().find("3 classes but the data set has 10"), std::string::npos) << st.message();
}

TEST_F(BenchEval, ShapesThatCannotBeInferredAreNamed) {
  auto m = NcmModel(*means_, {-1, 784});
  m->graph->initializers["W"] = Tensor::Create(DType::kF32, {100, 10}).value();  // 784 != 100
  Status st = CheckClassifier(*m, "broken", *test_);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("model 'broken': shapes cannot be inferred"), std::string::npos) << st.message();
}

TEST_F(BenchEval, InputsThatDoNotFitAreNamed) {
  auto m = NcmModel(*means_, {-1, 784});
  m->graph->inputs.push_back({"mask", F32({-1, 4}), ""});
  Status st = CheckClassifier(*m, "two_inputs", *test_);
  EXPECT_NE(st.message().find("has 2 inputs"), std::string::npos) << st.message();
  auto m2 = NcmModel(*means_, {-1, 3, 32, 32});
  st = CheckClassifier(*m2, "rgb", *test_);
  EXPECT_NE(st.message().find("input 'x'"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("3072 elements per sample"), std::string::npos) << st.message();
}

// ---- CLI

class BenchCli : public BenchEval {
 protected:
  void SetUp() override {
    BenchEval::SetUp();
    if (IsSkipped()) return;
    if (!fs::exists(greenai::testing::GreenaiBinary())) GTEST_SKIP() << "greenai binary not built";
    dir_ = fs::temp_directory_path() / fmt::format("greenai_bench_cli_{}_{}", ::getpid(),
                                                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    ::setenv("GREENAI_NO_PROGRESS", "1", 1);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::string Save(const Model& m, const std::string& name) {
    const std::string p = (dir_ / name).string();
    EXPECT_TRUE(SaveModel(m, p).ok());
    return p;
  }
  fs::path dir_;
};

TEST_F(BenchCli, WritesReportAndRefusesToOverwriteWithoutForce) {
  const std::string a = Save(*NcmModel(*means_, {-1, 784}), "ncm_mlp.onnx");
  const std::string b = Save(*NcmModel(*means_, {-1, 1, 28, 28}), "ncm_cnn.onnx");
  const std::string rep = (dir_ / "report").string();
  std::vector<std::string> args = {"bench", a, b, "--data", "fashion-mnist", "--limit", "300", "--window", "0.3",
                                   "--idle", "0.2", "--threads", "1", "--country", "FRA", "--report", rep};
  auto r = greenai::testing::RunGreenai(args, dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("ncm_mlp"), std::string::npos) << r.out;
  for (const char* f : {"report.html", "results.csv", "results.json"}) EXPECT_TRUE(fs::exists(fs::path(rep) / f)) << f;
  auto j = nlohmann::json::parse(greenai::testing::ReadAll(rep + "/results.json"));
  ASSERT_EQ(j["models"].size(), 2u);
  EXPECT_EQ(j["models"][0]["accuracy"]["samples"], 300);
  // Same arithmetic through both input layouts.
  EXPECT_EQ(j["models"][0]["accuracy"]["correct"], j["models"][1]["accuracy"]["correct"]);
  EXPECT_EQ(j["carbon"]["source"].get<std::string>().find("France"), 0u) << j["carbon"];
  if (j["sensors"]["summary"].get<std::string>().find("rapl") == std::string::npos) {
    EXPECT_EQ(j["models"][0]["energy"]["method"], "estimated");
    EXPECT_NE(greenai::testing::ReadAll(rep + "/report.html").find(">estimated</span>"), std::string::npos);
  }
  // gCO2e per million = headline J x 1e6 / 3.6e6 x intensity (PUE 1); the headline is net of
  // idle or, on a machine busy with other work, the process-attributed figure.
  const std::string basis = j["models"][0]["energy"]["headline_basis"];
  EXPECT_EQ(j["models"][0]["energy"]["headline_j_per_inference"],
            j["models"][0]["energy"][basis == "net of idle" ? "net_j_per_inference" : "attributed_j_per_inference"]);
  const double net = j["models"][0]["energy"]["headline_j_per_inference"];
  const double g = j["models"][0]["carbon"]["g_co2e_per_million_inferences"];
  EXPECT_NEAR(g, net * 1e6 / 3.6e6 * j["carbon"]["g_co2e_per_kwh"].get<double>(), 1e-9 + 1e-9 * std::fabs(g));
  const std::string csv = greenai::testing::ReadAll(rep + "/results.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 3);

  r = greenai::testing::RunGreenai(args, dir_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("exists (pass --force"), std::string::npos) << r.err;
  args.push_back("--force");
  args.erase(args.begin() + 2);  // one model now: the overwritten files must say so
  r = greenai::testing::RunGreenai(args, dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = nlohmann::json::parse(greenai::testing::ReadAll(rep + "/results.json"));
  EXPECT_EQ(j["models"].size(), 1u);
}

TEST_F(BenchCli, NonClassifierFailsBeforeMeasuring) {
  auto m = std::make_unique<Model>();
  m->opset_imports = {{"", 17}};
  Graph& g = *m->graph;
  g.inputs.push_back({"x", F32({-1, 784}), ""});
  g.AddNode("Relu", {"x"}, {"features"}, "relu");
  g.AddNode("Unsqueeze", {"features", "axes"}, {"embedding"}, "unsq");
  g.AddInitializer("axes", Tensor::FromVector<int64_t>({1}, {1}));
  g.outputs.push_back({"embedding", F32({-1, 1, 784}), ""});
  ASSERT_TRUE(g.TopologicalSort().ok());
  const std::string p = Save(*m, "embed.onnx");
  auto r = greenai::testing::RunGreenai({"bench", p, "--data", "fashion-mnist", "--limit", "10", "--window", "60"}, dir_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_FALSE(r.signaled);
  EXPECT_NE(r.err.find("output 'embedding'"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  r = greenai::testing::RunGreenai({"bench", (dir_ / "missing.onnx").string(), "--data", "fashion-mnist"}, dir_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("missing.onnx"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace greenai::bench
