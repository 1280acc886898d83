// greenai train / greenai eval end to end on the binary: a short Fashion-MNIST run whose
// exported model `eval` scores exactly as the trainer did, interruption + --resume, and bad
// input (missing and corrupt data, unknown architecture, resume without a checkpoint).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_test_util.h"
#include "train/data.h"

namespace greenai::testing {
namespace {

bool HaveFashionMnist() { return std::filesystem::exists(std::string(train::kFashionMnistDir)); }

nlohmann::json ParseJson(const CliResult& r) {
  EXPECT_EQ(CountLines(r.out), 1) << r.out;
  return nlohmann::json::parse(r.out, nullptr, false);
}

TEST(TrainCli, ShortRunThenEvalAgreesWithTheTrainer) {
  if (!HaveFashionMnist()) GTEST_SKIP() << "Fashion-MNIST not installed";
  auto dir = ScratchDir("train_eval");
  const std::string out = (dir / "mlp.onnx").string();
  auto r = RunGreenai({"train", "--model", "mlp", "--data", "fashion-mnist", "--limit", "2048", "--eval-limit", "500",
                       "--epochs", "2", "--batch", "64", "--lr", "0.002", "--threads", "1", "--out", out, "--json"},
                      dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = ParseJson(r);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  ASSERT_TRUE(j.contains("accuracy")) << r.out;
  const double acc = j["accuracy"].get<double>();
  EXPECT_GT(acc, 0.5);  // chance is 0.1
  EXPECT_EQ(j["history"].size(), 2u);
  ASSERT_TRUE(std::filesystem::exists(out));
  auto e = RunGreenai({"eval", out, "--data", "fashion-mnist", "--limit", "500", "--json"}, dir);
  ASSERT_EQ(e.exit_code, 0) << e.err;
  auto je = ParseJson(e);
  ASSERT_FALSE(je.is_discarded());
  EXPECT_EQ(je["samples"].get<int64_t>(), 500);
  EXPECT_DOUBLE_EQ(je["accuracy"].get<double>(), acc);
  EXPECT_NEAR(je["mean_loss"].get<double>(), j["mean_loss"].get<double>(), 1e-9);
  auto text = RunGreenai({"eval", out, "--data", "fashion-mnist", "--limit", "500"}, dir);
  ASSERT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("top-1 accuracy"), std::string::npos) << text.out;
  std::filesystem::remove_all(dir);
}

TEST(TrainCli, InterruptedRunResumesAndFinishes) {
  if (!HaveFashionMnist()) GTEST_SKIP() << "Fashion-MNIST not installed";
  auto dir = ScratchDir("train_resume");
  const std::string out = (dir / "m.onnx").string();
  std::vector<std::string> base = {"train", "--model", "mlp", "--widths", "32", "--data", "fashion-mnist",
                                   "--limit", "640", "--no-eval", "--epochs", "2", "--batch", "64",
                                   "--threads", "1", "--out", out};
  auto a = base;
  a.insert(a.end(), {"--max-steps", "13"});
  auto r = RunGreenai(a, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("--resume"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_TRUE(std::filesystem::exists(out + ".ckpt.onnx"));
  auto b = base;
  b.push_back("--resume");
  b.push_back("--json");
  r = RunGreenai(b, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = ParseJson(r);
  EXPECT_EQ(j["steps"].get<int64_t>(), 20);  // 2 epochs of 10 batches, 13 before the stop
  EXPECT_EQ(j["epochs_run"].get<int64_t>(), 1);  // only epoch 2 ran to its end in this call
  EXPECT_TRUE(std::filesystem::exists(out));
  std::filesystem::remove_all(dir);
}

TEST(TrainCli, BadInputIsOneLineErrors) {
  auto dir = ScratchDir("train_bad");
  const std::string out = (dir / "m.onnx").string();
  auto r = RunGreenai({"train", "--model", "mlp", "--data", "mnist-idx:" + (dir / "nope").string(), "--out", out}, dir);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(CountLines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("greenai train:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nope"), std::string::npos) << r.err;

  std::filesystem::create_directories(dir / "corrupt");
  for (const char* f : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                        "t10k-labels-idx1-ubyte"}) {
    std::ofstream o(dir / "corrupt" / f, std::ios::binary);
    o << "this is not an IDX file";
  }
  r = RunGreenai({"train", "--model", "mlp", "--data", "mnist-idx:" + (dir / "corrupt").string(), "--out", out}, dir);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(CountLines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("idx"), std::string::npos) << r.err;
  EXPECT_FALSE(r.signaled);

  if (HaveFashionMnist()) {
    r = RunGreenai({"train", "--model", "alexnet", "--data", "fashion-mnist", "--limit", "64", "--out", out}, dir);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("unknown architecture 'alexnet'"), std::string::npos) << r.err;
    r = RunGreenai({"train", "--model", "mlp", "--data", "fashion-mnist", "--limit", "64", "--out", out, "--resume"},
                   dir);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("no checkpoint"), std::string::npos) << r.err;
    r = RunGreenai({"eval", (dir / "missing.onnx").string(), "--data", "fashion-mnist"}, dir);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("greenai eval:"), std::string::npos) << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(out));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace greenai::testing
