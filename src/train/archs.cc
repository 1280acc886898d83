// Built-in architectures: see train/archs.h.
#include "train/archs.h"

#include <cmath>
#include <random>

#include <fmt/format.h>

namespace greenai::train {

namespace {

class Net {
 public:
  Net(uint32_t seed, int64_t opset) : m_(std::make_unique<Model>()), rng_(seed) {
    m_->opset_imports = {{"", opset}};
    m_->producer_name = "greenai";
  }
  Graph& g() { return *m_->graph; }
  std::unique_ptr<Model> Take() { return std::move(m_); }

  std::string Normal(const std::string& name, Shape s, double stddev) {
    Tensor t = Tensor::Create(DType::kF32, std::move(s)).value();
    std::normal_distribution<double> d(0.0, stddev);
    for (float& v : t.span<float>()) v = static_cast<float>(d(rng_));
    g().AddInitializer(name, std::move(t));
    return name;
  }
  std::string Uniform(const std::string& name, Shape s, double bound) {
    Tensor t = Tensor::Create(DType::kF32, std::move(s)).value();
    std::uniform_real_distribution<double> d(-bound, bound);
    for (float& v : t.span<float>()) v = static_cast<float>(d(rng_));
    g().AddInitializer(name, std::move(t));
    return name;
  }
  std::string Fill(const std::string& name, Shape s, float v) {
    Tensor t = Tensor::Create(DType::kF32, std::move(s)).value();
    for (float& x : t.span<float>()) x = v;
    g().AddInitializer(name, std::move(t));
    return name;
  }
  std::string Ints(const std::string& name, const std::vector<int64_t>& v) {
    g().AddInitializer(name, Tensor::FromVector<int64_t>({static_cast<int64_t>(v.size())}, v));
    return name;
  }
  // One node, one output named after the node.
  std::string Op(const std::string& op, std::vector<std::string> in, const std::string& name) {
    g().AddNode(op, std::move(in), {name}, name);
    return name;
  }
  Node* Last() { return g().mutable_nodes().back().get(); }

  // Linear layer as PyTorch exports it: Gemm(x, W[out, in], b, transB=1).
  std::string Linear(const std::string& x, const std::string& name, int64_t in, int64_t out, bool kaiming) {
    const double fan = static_cast<double>(in);
    std::string w = kaiming ? Normal(name + ".weight", {out, in}, std::sqrt(2.0 / fan))
                            : Uniform(name + ".weight", {out, in}, 1.0 / std::sqrt(fan));
    std::string b = Uniform(name + ".bias", {out}, 1.0 / std::sqrt(fan));
    std::string y = Op("Gemm", {x, w, b}, name);
    Last()->SetInt("transB", 1);
    return y;
  }
  std::string Conv(const std::string& x, const std::string& name, int64_t cin, int64_t cout, int64_t k,
                   int64_t stride, int64_t pad, bool bias) {
    const double fan = static_cast<double>(cin * k * k);
    std::vector<std::string> in = {x, Normal(name + ".weight", {cout, cin, k, k}, std::sqrt(2.0 / fan))};
    if (bias) in.push_back(Uniform(name + ".bias", {cout}, 1.0 / std::sqrt(fan)));
    std::string y = Op("Conv", std::move(in), name);
    Node* n = Last();
    n->SetInts("kernel_shape", {k, k});
    n->SetInts("strides", {stride, stride});
    n->SetInts("pads", {pad, pad, pad, pad});
    return y;
  }
  std::string Bn(const std::string& x, const std::string& name, int64_t c) {
    std::string y = Op("BatchNormalization",
                       {x, Fill(name + ".weight", {c}, 1.f), Fill(name + ".bias", {c}, 0.f),
                        Fill(name + ".running_mean", {c}, 0.f), Fill(name + ".running_var", {c}, 1.f)},
                       name);
    Last()->SetFloat("epsilon", 1e-5f);
    Last()->SetFloat("momentum", 0.9f);  // ONNX momentum = 1 - PyTorch's 0.1
    return y;
  }
  std::string Ln(const std::string& x, const std::string& name, int64_t d) {
    std::string y = Op("LayerNormalization", {x, Fill(name + ".weight", {d}, 1.f), Fill(name + ".bias", {d}, 0.f)}, name);
    Last()->SetInt("axis", -1);
    Last()->SetFloat("epsilon", 1e-5f);
    return y;
  }

 private:
  std::unique_ptr<Model> m_;
  std::mt19937 rng_;
};

void SetIo(Graph& g, const Shape& sample, int64_t classes) {
  TensorType in = TensorType::Of(DType::kF32, {-1});
  in.dims.insert(in.dims.end(), sample.begin(), sample.end());
  in.dim_params.assign(in.dims.size(), "");
  in.dim_params[0] = "batch";
  g.inputs.push_back(ValueInfo{kArchInput, in, ""});
  TensorType out = TensorType::Of(DType::kF32, {-1, classes});
  out.dim_params = {"batch", ""};
  g.outputs.push_back(ValueInfo{kArchOutput, out, ""});
}

// Renames the last node's output to the graph output name.
void NameLogits(Graph& g) {
  Node* n = g.mutable_nodes().back().get();
  n->outputs[0] = kArchOutput;
}

Status NeedImage(const std::string& arch, const ArchOptions& o) {
  if (o.input_shape.size() != 3)
    return InvalidArgument("architecture '{}': input shape {} is not [C, H, W]", arch, ShapeToString(o.input_shape));
  for (int64_t d : o.input_shape)
    if (d <= 0) return InvalidArgument("architecture '{}': input shape {} has a non-positive dim", arch,
                                       ShapeToString(o.input_shape));
  return Status::Ok();
}

Status CheckWidths(const std::string& arch, const std::vector<int64_t>& w) {
  for (int64_t v : w)
    if (v <= 0) return InvalidArgument("architecture '{}': width {} must be positive", arch, v);
  return Status::Ok();
}

Result<std::unique_ptr<Model>> BuildMlp(const ArchOptions& o) {
  std::vector<int64_t> widths = o.widths.empty() ? std::vector<int64_t>{512, 256} : o.widths;
  GREENAI_RETURN_IF_ERROR(CheckWidths("mlp", widths));
  if (o.input_shape.empty()) return InvalidArgument("architecture 'mlp': empty input shape");
  GREENAI_ASSIGN_OR_RETURN(int64_t features, CheckedNumElements(o.input_shape));
  if (features <= 0) return InvalidArgument("architecture 'mlp': input shape {} has no features", ShapeToString(o.input_shape));
  Net n(o.seed, 17);
  SetIo(n.g(), o.input_shape, o.num_classes);
  std::string x = n.Op("Flatten", {kArchInput}, "flatten");
  n.Last()->SetInt("axis", 1);
  int64_t in = features;
  for (size_t i = 0; i < widths.size(); ++i) {
    x = n.Linear(x, fmt::format("fc{}", i + 1), in, widths[i], true);
    x = n.Op("Relu", {x}, fmt::format("relu{}", i + 1));
    in = widths[i];
  }
  n.Linear(x, fmt::format("fc{}", widths.size() + 1), in, o.num_classes, false);
  NameLogits(n.g());
  return n.Take();
}

Result<std::unique_ptr<Model>> BuildCnn(const ArchOptions& o) {
  GREENAI_RETURN_IF_ERROR(NeedImage("cnn", o));
  std::vector<int64_t> widths = o.widths.empty() ? std::vector<int64_t>{16, 32} : o.widths;
  GREENAI_RETURN_IF_ERROR(CheckWidths("cnn", widths));
  int64_t h = o.input_shape[1], w = o.input_shape[2], c = o.input_shape[0];
  if ((h >> widths.size()) < 1 || (w >> widths.size()) < 1)
    return InvalidArgument("architecture 'cnn': image {}x{} is too small for {} 2x2 poolings", h, w, widths.size());
  Net n(o.seed, 17);
  SetIo(n.g(), o.input_shape, o.num_classes);
  std::string x = kArchInput;
  int idx = 0;
  for (size_t s = 0; s < widths.size(); ++s) {
    for (int r = 0; r < 2; ++r) {
      ++idx;
      x = n.Conv(x, fmt::format("conv{}", idx), c, widths[s], 3, 1, 1, false);
      x = n.Bn(x, fmt::format("bn{}", idx), widths[s]);
      x = n.Op("Relu", {x}, fmt::format("relu{}", idx));
      c = widths[s];
    }
    x = n.Op("MaxPool", {x}, fmt::format("pool{}", s + 1));
    n.Last()->SetInts("kernel_shape", {2, 2});
    n.Last()->SetInts("strides", {2, 2});
    h /= 2;
    w /= 2;
  }
  x = n.Op("Flatten", {x}, "flatten");
  n.Last()->SetInt("axis", 1);
  x = n.Linear(x, "fc1", c * h * w, 128, true);
  x = n.Op("Relu", {x}, "relu_fc1");
  n.Linear(x, "fc2", 128, o.num_classes, false);
  NameLogits(n.g());
  return n.Take();
}

Result<std::unique_ptr<Model>> BuildResNetMini(const ArchOptions& o) {
  GREENAI_RETURN_IF_ERROR(NeedImage("resnet-mini", o));
  std::vector<int64_t> widths = o.widths.empty() ? std::vector<int64_t>{16, 32, 64} : o.widths;
  GREENAI_RETURN_IF_ERROR(CheckWidths("resnet-mini", widths));
  if (widths.size() != 3)
    return InvalidArgument("architecture 'resnet-mini': {} widths given (expects 3 stage widths)", widths.size());
  if (o.input_shape[1] < 4 || o.input_shape[2] < 4)
    return InvalidArgument("architecture 'resnet-mini': image {}x{} is smaller than 4x4 (two stride-2 stages)",
                           o.input_shape[1], o.input_shape[2]);
  Net n(o.seed, 17);
  SetIo(n.g(), o.input_shape, o.num_classes);
  std::string x = n.Conv(kArchInput, "conv1", o.input_shape[0], widths[0], 3, 1, 1, false);
  x = n.Bn(x, "bn1", widths[0]);
  x = n.Op("Relu", {x}, "relu1");
  int64_t c = widths[0];
  for (size_t s = 0; s < 3; ++s) {
    const std::string p = fmt::format("layer{}.0.", s + 1);
    const int64_t stride = s == 0 ? 1 : 2, cout = widths[s];
    std::string y = n.Conv(x, p + "conv1", c, cout, 3, stride, 1, false);
    y = n.Bn(y, p + "bn1", cout);
    y = n.Op("Relu", {y}, p + "relu1");
    y = n.Conv(y, p + "conv2", cout, cout, 3, 1, 1, false);
    y = n.Bn(y, p + "bn2", cout);
    std::string shortcut = x;
    if (stride != 1 || c != cout) {
      shortcut = n.Conv(x, p + "downsample.0", c, cout, 1, stride, 0, false);
      shortcut = n.Bn(shortcut, p + "downsample.1", cout);
    }
    y = n.Op("Add", {y, shortcut}, p + "add");
    x = n.Op("Relu", {y}, p + "relu2");
    c = cout;
  }
  x = n.Op("GlobalAveragePool", {x}, "avgpool");
  x = n.Op("Flatten", {x}, "flatten");
  n.Last()->SetInt("axis", 1);
  n.Linear(x, "fc", c, o.num_classes, false);
  NameLogits(n.g());
  return n.Take();
}

Result<std::unique_ptr<Model>> BuildTransformerTiny(const ArchOptions& o) {
  GREENAI_RETURN_IF_ERROR(NeedImage("transformer-tiny", o));
  std::vector<int64_t> widths = o.widths.empty() ? std::vector<int64_t>{64} : o.widths;
  GREENAI_RETURN_IF_ERROR(CheckWidths("transformer-tiny", widths));
  const int64_t d = widths[0], heads = o.heads, patch = o.patch;
  if (heads <= 0 || d % heads != 0)
    return InvalidArgument("architecture 'transformer-tiny': width {} is not divisible by {} heads", d, heads);
  if (patch <= 0 || o.input_shape[1] % patch != 0 || o.input_shape[2] % patch != 0)
    return InvalidArgument("architecture 'transformer-tiny': patch {} does not tile the {}x{} image", patch,
                           o.input_shape[1], o.input_shape[2]);
  if (o.layers < 1) return InvalidArgument("architecture 'transformer-tiny': layers {} must be >= 1", o.layers);
  const int64_t tokens = (o.input_shape[1] / patch) * (o.input_shape[2] / patch), hd = d / heads;
  Net n(o.seed, 20);
  SetIo(n.g(), o.input_shape, o.num_classes);
  std::string x = n.Conv(kArchInput, "patch_embed", o.input_shape[0], d, patch, patch, 0, true);
  x = n.Op("Reshape", {x, n.Ints("const_tokens_shape", {0, d, tokens})}, "patch_flatten");
  x = n.Op("Transpose", {x}, "patch_transpose");  // [B, T, D]
  n.Last()->SetInts("perm", {0, 2, 1});
  x = n.Op("Add", {x, n.Normal("pos_embed", {1, tokens, d}, 0.02)}, "pos_add");
  const std::string heads_shape = n.Ints("const_heads_shape", {0, 0, heads, hd});
  const std::string merge_shape = n.Ints("const_merge_shape", {0, 0, d});
  const std::string scale = "const_attn_scale";
  n.g().AddInitializer(scale, Tensor::Scalar<float>(static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd)))));
  for (int64_t l = 0; l < o.layers; ++l) {
    const std::string p = fmt::format("blocks.{}.", l);
    std::string h = n.Ln(x, p + "norm1", d);
    auto proj = [&](const std::string& what) {
      std::string w = n.Normal(p + "attn." + what + ".weight", {d, d}, std::sqrt(1.0 / static_cast<double>(d)));
      std::string y = n.Op("MatMul", {h, w}, p + "attn." + what + ".matmul");
      y = n.Op("Add", {y, n.Fill(p + "attn." + what + ".bias", {d}, 0.f)}, p + "attn." + what);
      y = n.Op("Reshape", {y, heads_shape}, p + "attn." + what + ".split");
      y = n.Op("Transpose", {y}, p + "attn." + what + ".heads");  // [B, H, T, hd]
      n.Last()->SetInts("perm", what == "k" ? std::vector<int64_t>{0, 2, 3, 1} : std::vector<int64_t>{0, 2, 1, 3});
      return y;
    };
    std::string q = proj("q"), k = proj("k"), v = proj("v");
    std::string s = n.Op("MatMul", {q, k}, p + "attn.scores");
    s = n.Op("Mul", {s, scale}, p + "attn.scaled");
    s = n.Op("Softmax", {s}, p + "attn.softmax");
    n.Last()->SetInt("axis", -1);
    std::string a = n.Op("MatMul", {s, v}, p + "attn.context");
    a = n.Op("Transpose", {a}, p + "attn.merge_t");
    n.Last()->SetInts("perm", {0, 2, 1, 3});
    a = n.Op("Reshape", {a, merge_shape}, p + "attn.merge");
    a = n.Op("MatMul", {a, n.Normal(p + "attn.proj.weight", {d, d}, std::sqrt(1.0 / static_cast<double>(d)))},
             p + "attn.proj.matmul");
    a = n.Op("Add", {a, n.Fill(p + "attn.proj.bias", {d}, 0.f)}, p + "attn.proj");
    x = n.Op("Add", {x, a}, p + "residual1");
    h = n.Ln(x, p + "norm2", d);
    h = n.Op("MatMul", {h, n.Normal(p + "mlp.fc1.weight", {d, 2 * d}, std::sqrt(2.0 / static_cast<double>(d)))},
             p + "mlp.fc1.matmul");
    h = n.Op("Add", {h, n.Fill(p + "mlp.fc1.bias", {2 * d}, 0.f)}, p + "mlp.fc1");
    h = n.Op("Gelu", {h}, p + "mlp.gelu");
    h = n.Op("MatMul", {h, n.Normal(p + "mlp.fc2.weight", {2 * d, d}, std::sqrt(1.0 / static_cast<double>(2 * d)))},
             p + "mlp.fc2.matmul");
    h = n.Op("Add", {h, n.Fill(p + "mlp.fc2.bias", {d}, 0.f)}, p + "mlp.fc2");
    x = n.Op("Add", {x, h}, p + "residual2");
  }
  x = n.Op("Transpose", {x}, "tokens_last");  // [B, D, T]
  n.Last()->SetInts("perm", {0, 2, 1});
  x = n.Op("GlobalAveragePool", {x}, "token_mean");  // [B, D, 1]
  x = n.Op("Flatten", {x}, "flatten");
  n.Last()->SetInt("axis", 1);
  x = n.Ln(x, "norm", d);
  n.Linear(x, "head", d, o.num_classes, false);
  NameLogits(n.g());
  return n.Take();
}

}  // namespace

const std::vector<std::string>& ArchNames() {
  static const std::vector<std::string> names = {"mlp", "cnn", "resnet-mini", "transformer-tiny"};
  return names;
}

Result<std::unique_ptr<Model>> BuildArch(const std::string& name, const ArchOptions& opts) {
  if (opts.num_classes < 2)
    return InvalidArgument("architecture '{}': num_classes {} must be >= 2", name, opts.num_classes);
  if (name == "mlp") return BuildMlp(opts);
  if (name == "cnn") return BuildCnn(opts);
  if (name == "resnet-mini") return BuildResNetMini(opts);
  if (name == "transformer-tiny") return BuildTransformerTiny(opts);
  return InvalidArgument("unknown architecture '{}' (expects mlp, cnn, resnet-mini or transformer-tiny)", name);
}

}  // namespace greenai::train
