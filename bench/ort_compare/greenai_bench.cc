// greenai_ort_bench: the C++ half of the greenai vs ONNX Runtime speed comparison
// (bench/ort_compare/compare.py drives it; `make bench` runs both).
//
//   greenai_ort_bench export DIR [--image N] [--conv-layers]
//       Builds the project's benchmark models (src/bench/models.h), writes DIR/<model>.onnx,
//       seeded inputs DIR/<model>.<input>.npy, and DIR/manifest.json listing them.
//       --conv-layers adds ResNet-18's four 3x3 convolution shapes at batch 1, each alone
//       (Conv + bias + Relu): conv3x3_c64_56, conv3x3_c128_28, conv3x3_c256_14, conv3x3_c512_7.
//   greenai_ort_bench time MODEL.onnx --input NAME=FILE.npy ... [--repeat N] [--warmup W]
//                     [--threads T] [--out DIR] [--no-optimize]
//       Plans MODEL once, runs it W times untimed then N times timed; prints one JSON object
//       {"times_ms": [...], "median_ms": x, "kernels": {...}} on stdout and writes the outputs
//       of the last run as DIR/output_<i>.npy.
// Errors: one line on stderr naming the file/input, exit code 1.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/models.h"
#include "core/npy.h"
#include "core/omp_env.h"
#include "graph/onnx_io.h"
#include "runtime/session.h"

namespace {

using greenai::DType;
using greenai::Model;
using greenai::Result;
using greenai::Status;
using greenai::Tensor;

int Fail(const Status& st) {
  std::fprintf(stderr, "greenai_ort_bench: %s\n", st.ToString().c_str());
  return 1;
}

Tensor RandomNormal(greenai::Shape shape, uint32_t seed) {
  Tensor t = Tensor::Create(DType::kF32, std::move(shape)).value();
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, 1.f);
  for (float& v : t.span<float>()) v = d(rng);
  return t;
}

struct Entry {
  std::string name;
  Result<std::unique_ptr<Model>> model;
  std::vector<std::pair<std::string, Tensor>> inputs;
};

// One 3x3 convolution (pad 1, C -> C channels, bias) + Relu on [1, C, hw, hw].
Result<std::unique_ptr<Model>> BuildConvLayer(int64_t c, int64_t hw, uint32_t seed) {
  auto m = std::make_unique<Model>();
  m->opset_imports.push_back({"", 17});
  greenai::Graph& g = *m->graph;
  g.inputs.push_back({"input", greenai::TensorType::Of(DType::kF32, {1, c, hw, hw}), ""});
  Tensor w = RandomNormal({c, c, 3, 3}, seed);
  for (float& v : w.span<float>()) v *= 0.05f;
  g.AddInitializer("W", std::move(w));
  g.AddInitializer("B", RandomNormal({c}, seed + 1));
  greenai::Node* conv = g.AddNode("Conv", {"input", "W", "B"}, {"conv"}, "conv");
  conv->SetInts("kernel_shape", {3, 3});
  conv->SetInts("pads", {1, 1, 1, 1});
  g.AddNode("Relu", {"conv"}, {"output"}, "relu");
  g.outputs.push_back({"output", greenai::TensorType::Of(DType::kF32, {1, c, hw, hw}), ""});
  return m;
}

int Export(const std::string& dir, int image, bool conv_layers) {
  std::filesystem::create_directories(dir);
  std::vector<Entry> entries;
  const std::string img = std::to_string(image);
  entries.push_back({"resnet18_b1_" + img, greenai::bench::BuildResNet18(1, 1000, image),
                     {{"input", RandomNormal({1, 3, image, image}, 11)}}});
  entries.push_back({"resnet18_b32_" + img, greenai::bench::BuildResNet18(32, 1000, image),
                     {{"input", RandomNormal({32, 3, image, image}, 12)}}});
  entries.push_back({"mlp_b1", greenai::bench::BuildMlp(1), {{"input", RandomNormal({1, 784}, 13)}}});
  entries.push_back({"mlp_b64", greenai::bench::BuildMlp(64), {{"input", RandomNormal({64, 784}, 14)}}});
  {
    Tensor mask = Tensor::Create(DType::kI64, {1, 128}).value();
    for (int64_t i = 0; i < 128; ++i) mask.data<int64_t>()[i] = i < 112 ? 1 : 0;  // 16 padding tokens
    entries.push_back({"bert_l4_h256_s128", greenai::bench::BuildBertEncoder(4, 256, 4, 128, 1),
                       {{"hidden_states", RandomNormal({1, 128, 256}, 15)}, {"attention_mask", mask}}});
  }
  if (conv_layers)
    for (auto [c, hw] : {std::pair<int64_t, int64_t>{64, 56}, {128, 28}, {256, 14}, {512, 7}})
      entries.push_back({"conv3x3_c" + std::to_string(c) + "_" + std::to_string(hw),
                         BuildConvLayer(c, hw, static_cast<uint32_t>(20 + c)),
                         {{"input", RandomNormal({1, c, hw, hw}, static_cast<uint32_t>(30 + c))}}});
  nlohmann::json manifest = nlohmann::json::array();
  for (auto& e : entries) {
    if (!e.model.ok()) return Fail(e.model.status());
    const std::string path = dir + "/" + e.name + ".onnx";
    Status st = greenai::SaveModel(**e.model, path);
    if (!st.ok()) return Fail(st.WithContext(path));
    nlohmann::json inputs = nlohmann::json::object();
    for (const auto& [name, t] : e.inputs) {
      const std::string ip = dir + "/" + e.name + "." + name + ".npy";
      st = greenai::SaveNpy(t, ip);
      if (!st.ok()) return Fail(st.WithContext(ip));
      inputs[name] = ip;
    }
    manifest.push_back({{"name", e.name}, {"model", path}, {"inputs", inputs}});
  }
  std::FILE* f = std::fopen((dir + "/manifest.json").c_str(), "w");
  if (!f) return Fail(greenai::IoError("cannot write {}/manifest.json", dir));
  std::string text = manifest.dump(2);
  std::fwrite(text.data(), 1, text.size(), f);
  std::fclose(f);
  std::printf("%s\n", text.c_str());
  return 0;
}

int Time(int argc, char** argv) {
  if (argc < 3) return Fail(greenai::InvalidArgument("time: missing MODEL.onnx"));
  const std::string model_path = argv[2];
  std::vector<std::pair<std::string, Tensor>> feeds;
  int repeat = 10, warmup = 2, threads = 2;
  bool optimize = true;
  std::string out_dir;
  for (int i = 3; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : std::string(); };
    if (a == "--input") {
      std::string kv = next();
      auto eq = kv.find('=');
      if (eq == std::string::npos) return Fail(greenai::InvalidArgument("--input '{}' is not NAME=FILE.npy", kv));
      auto t = greenai::LoadNpy(kv.substr(eq + 1));
      if (!t.ok()) return Fail(t.status());
      feeds.emplace_back(kv.substr(0, eq), *t);
    } else if (a == "--repeat") {
      repeat = std::max(1, std::atoi(next().c_str()));
    } else if (a == "--warmup") {
      warmup = std::max(0, std::atoi(next().c_str()));
    } else if (a == "--threads") {
      threads = std::atoi(next().c_str());
    } else if (a == "--out") {
      out_dir = next();
    } else if (a == "--no-optimize") {
      optimize = false;
    } else {
      return Fail(greenai::InvalidArgument("time: unknown argument '{}'", a));
    }
  }
  auto model = greenai::LoadModel(model_path);
  if (!model.ok()) return Fail(model.status());
  greenai::SessionOptions so;
  so.num_threads = threads;
  so.optimize = optimize;
  auto session = greenai::Session::Create(**model, so);
  if (!session.ok()) return Fail(session.status());
  std::vector<Tensor> outs;
  for (int i = 0; i < warmup; ++i) {
    auto r = (*session)->Run(feeds);
    if (!r.ok()) return Fail(r.status());
  }
  std::vector<double> times;
  for (int i = 0; i < repeat; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto r = (*session)->Run(feeds);
    auto t1 = std::chrono::steady_clock::now();
    if (!r.ok()) return Fail(r.status());
    times.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    outs = std::move(r).value();
  }
  std::vector<double> sorted = times;
  std::sort(sorted.begin(), sorted.end());
  const size_t n = sorted.size();
  double median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  std::map<std::string, int> kernels;  // kernel name -> node count: shows what actually ran
  const auto& g = (*session)->graph();
  for (size_t i = 0; i < g.nodes().size(); ++i) ++kernels[std::string((*session)->kernel_name(i))];
  if (!out_dir.empty()) {
    std::filesystem::create_directories(out_dir);
    for (size_t i = 0; i < outs.size(); ++i) {
      Status st = greenai::SaveNpy(outs[i], out_dir + "/output_" + std::to_string(i) + ".npy");
      if (!st.ok()) return Fail(st);
    }
  }
  nlohmann::json j = {{"model", model_path}, {"times_ms", times}, {"median_ms", median},
                      {"nodes", g.nodes().size()}, {"kernels", kernels}};
  std::printf("%s\n", j.dump().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  greenai::ShortOpenMPSpin(argv);
  if (argc >= 3 && std::string(argv[1]) == "export") {
    int image = 224;
    bool conv_layers = false;
    for (int i = 3; i < argc; ++i) {
      if (std::string(argv[i]) == "--image" && i + 1 < argc) image = std::atoi(argv[i + 1]);
      if (std::string(argv[i]) == "--conv-layers") conv_layers = true;
    }
    return Export(argv[2], image, conv_layers);
  }
  if (argc >= 2 && std::string(argv[1]) == "time") return Time(argc, argv);
  std::fprintf(stderr,
               "usage: greenai_ort_bench export DIR [--image N] [--conv-layers]\n"
               "       greenai_ort_bench time MODEL.onnx --input NAME=FILE.npy ... [--repeat N] [--warmup W] "
               "[--threads T] [--out DIR] [--no-optimize]\n");
  return 2;
}
