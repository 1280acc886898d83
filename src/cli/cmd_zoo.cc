// greenai zoo ARCH -o MODEL.onnx [--batch N] [--image N] [--layers N] [--seed S] [--inputs DIR]
// Writes one of the project's own models (random, seeded weights; src/bench/models.h) as
// ONNX, and optionally a seeded input per graph input as DIR/<input>.npy, so demos and
// benchmarks need no downloaded weights.
#include <cstdio>
#include <filesystem>
#include <random>

#include "bench/models.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "core/npy.h"
#include "graph/onnx_io.h"

namespace greenai::cli {

namespace {

struct ZooArgs {
  std::string arch;
  std::string out;
  std::string inputs_dir;
  int batch = 1;
  int image = 224;
  int layers = 4;
  uint32_t seed = 1;
};

Result<Tensor> SeededInput(const ValueInfo& in, int batch, std::mt19937& rng) {
  Shape s = in.type.dims;
  for (auto& d : s)
    if (d < 0) d = batch;
  GREENAI_ASSIGN_OR_RETURN(Tensor t, Tensor::Create(in.type.dtype, s));
  if (in.type.dtype == DType::kF32) {
    std::normal_distribution<float> dist(0.f, 1.f);
    for (auto& v : t.span<float>()) v = dist(rng);
  } else if (in.type.dtype == DType::kI64) {
    for (auto& v : t.span<int64_t>()) v = 1;  // attention masks: attend everywhere
  } else {
    return Unimplemented("input '{}' has dtype {}; zoo writes float32 and int64 inputs only", in.name,
                         DTypeName(in.type.dtype));
  }
  return t;
}

int RunZoo(const ZooArgs& a) {
  Result<std::unique_ptr<Model>> m = InvalidArgument("unknown architecture '{}' (expects resnet18, mlp or bert)", a.arch);
  if (a.arch == "resnet18") m = bench::BuildResNet18(a.batch, 1000, a.image, a.seed);
  else if (a.arch == "mlp") m = bench::BuildMlp(a.batch, {784, 512, 256, 10}, false, a.seed);
  else if (a.arch == "bert") m = bench::BuildBertEncoder(a.layers, 256, 4, 128, a.batch, a.seed);
  if (!m.ok()) return Fail("zoo", m.status());
  std::error_code ec;
  auto parent = std::filesystem::path(a.out).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return Fail("zoo", IoError("cannot create folder '{}': {}", parent.string(), ec.message()));
  Status st = SaveModel(**m, a.out);
  if (!st.ok()) return Fail("zoo", st);
  std::printf("wrote %s (%s, batch %d)\n", a.out.c_str(), a.arch.c_str(), a.batch);
  if (!a.inputs_dir.empty()) {
    std::filesystem::create_directories(a.inputs_dir, ec);
    if (ec) return Fail("zoo", IoError("cannot create folder '{}': {}", a.inputs_dir, ec.message()));
    std::mt19937 rng(a.seed + 100);
    for (const auto& in : (*m)->graph->inputs) {
      if ((*m)->graph->IsInitializer(in.name)) continue;
      auto t = SeededInput(in, a.batch, rng);
      if (!t.ok()) return Fail("zoo", t.status());
      std::string path = a.inputs_dir + "/" + SafeFileName(in.name) + ".npy";
      st = SaveNpy(*t, path);
      if (!st.ok()) return Fail("zoo", st);
      std::printf("wrote %s (%s %s)\n", path.c_str(), std::string(DTypeName(t->dtype())).c_str(),
                  ShapeToString(t->shape()).c_str());
    }
  }
  return 0;
}

}  // namespace

void RegisterZoo(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<ZooArgs>();
  auto* sub = app.add_subcommand("zoo", "Write one of greenai's own models (seeded random weights) as ONNX");
  sub->add_option("arch", args->arch, "resnet18 | mlp | bert")->required();
  sub->add_option("-o,--out", args->out, "output .onnx file")->required();
  sub->add_option("--batch", args->batch, "batch size (0 = dynamic)")->capture_default_str();
  sub->add_option("--image", args->image, "resnet18 input height/width")->capture_default_str();
  sub->add_option("--layers", args->layers, "bert encoder layers")->capture_default_str();
  sub->add_option("--seed", args->seed, "weight seed")->capture_default_str();
  sub->add_option("--inputs", args->inputs_dir, "also write a seeded input per graph input as DIR/<name>.npy");
  sub->callback([args, exit_code] { *exit_code = RunZoo(*args); });
}

}  // namespace greenai::cli
