// Benchmark model builders: see bench/models.h.
#include "bench/models.h"

#include <cmath>
#include <random>
#include <string>

namespace greenai::bench {

namespace {

// Small graph-building helper: names values, owns the RNG, adds parameters.
class Builder {
 public:
  explicit Builder(uint32_t seed) : model_(std::make_unique<Model>()), rng_(seed) {
    model_->opset_imports = {{"", 17}};
    model_->producer_name = "greenai";
  }
  Graph& g() { return *model_->graph; }
  std::unique_ptr<Model> Take() { return std::move(model_); }

  std::string Value(const std::string& base) { return base + "_" + std::to_string(++counter_); }

  std::string Normal(const std::string& name, Shape shape, double stddev) {
    Tensor t = Tensor::Create(DType::kF32, std::move(shape)).value();
    std::normal_distribution<double> d(0.0, stddev);
    for (float& v : t.span<float>()) v = static_cast<float>(d(rng_));
    g().AddInitializer(name, std::move(t));
    return name;
  }
  std::string Uniform(const std::string& name, Shape shape, double lo, double hi) {
    Tensor t = Tensor::Create(DType::kF32, std::move(shape)).value();
    std::uniform_real_distribution<double> d(lo, hi);
    for (float& v : t.span<float>()) v = static_cast<float>(d(rng_));
    g().AddInitializer(name, std::move(t));
    return name;
  }
  std::string ScalarF(const std::string& name, float v) {
    if (!g().IsInitializer(name)) g().AddInitializer(name, Tensor::Scalar<float>(v));
    return name;
  }
  std::string Ints(const std::string& name, const std::vector<int64_t>& v) {
    if (!g().IsInitializer(name)) g().AddInitializer(name, Tensor::FromVector<int64_t>({static_cast<int64_t>(v.size())}, v));
    return name;
  }

  std::string Op(const std::string& op, std::vector<std::string> in, const std::string& node_name) {
    std::string out = Value(node_name.empty() ? op : node_name);
    g().AddNode(op, std::move(in), {out}, node_name.empty() ? out : node_name);
    return out;
  }
  Node* Last() { return g().mutable_nodes().back().get(); }

 private:
  std::unique_ptr<Model> model_;
  std::mt19937 rng_;
  int counter_ = 0;
};

TensorType F32(int batch, std::vector<int64_t> rest) {
  TensorType t = TensorType::Of(DType::kF32, {});
  t.dims.push_back(batch > 0 ? batch : -1);
  t.dims.insert(t.dims.end(), rest.begin(), rest.end());
  if (batch <= 0) {
    t.dim_params.assign(t.dims.size(), "");
    t.dim_params[0] = "batch";
  }
  return t;
}

// ---- ResNet-18 pieces

std::string ConvBn(Builder& b, const std::string& x, const std::string& conv, const std::string& bn, int64_t cin,
                   int64_t cout, int64_t k, int64_t stride, bool relu, double gamma_lo, double gamma_hi) {
  // Kaiming normal (fan_in, gain sqrt(2)): keeps activation variance through Relu layers.
  std::string w = b.Normal(conv + ".weight", {cout, cin, k, k}, std::sqrt(2.0 / static_cast<double>(cin * k * k)));
  std::string y = b.Op("Conv", {x, w}, conv);
  Node* n = b.Last();
  const int64_t p = k / 2;
  n->SetInts("kernel_shape", {k, k});
  n->SetInts("strides", {stride, stride});
  n->SetInts("pads", {p, p, p, p});
  n->SetInts("dilations", {1, 1});
  n->SetInt("group", 1);
  // Mild, non-trivial BN statistics so Conv+BN folding is exercised on real numbers.
  std::string s = b.Uniform(bn + ".weight", {cout}, gamma_lo, gamma_hi);
  std::string beta = b.Uniform(bn + ".bias", {cout}, -0.1, 0.1);
  std::string mean = b.Uniform(bn + ".running_mean", {cout}, -0.1, 0.1);
  std::string var = b.Uniform(bn + ".running_var", {cout}, 0.5, 1.5);
  y = b.Op("BatchNormalization", {y, s, beta, mean, var}, bn);
  b.Last()->SetFloat("epsilon", 1e-5f);
  b.Last()->SetFloat("momentum", 0.9f);
  if (relu) y = b.Op("Relu", {y}, bn + ".relu");
  return y;
}

std::string BasicBlock(Builder& b, const std::string& x, const std::string& p, int64_t cin, int64_t cout,
                       int64_t stride) {
  std::string y = ConvBn(b, x, p + ".conv1", p + ".bn1", cin, cout, 3, stride, true, 0.8, 1.2);
  // Small gamma on the block's last BN keeps the residual sum from doubling the variance
  // at every block (the "zero-init residual" idea, softened).
  y = ConvBn(b, y, p + ".conv2", p + ".bn2", cout, cout, 3, 1, false, 0.2, 0.5);
  std::string shortcut = x;
  if (stride != 1 || cin != cout)
    shortcut = ConvBn(b, x, p + ".downsample.0", p + ".downsample.1", cin, cout, 1, stride, false, 0.8, 1.2);
  y = b.Op("Add", {y, shortcut}, p + ".add");
  return b.Op("Relu", {y}, p + ".relu");
}

}  // namespace

Result<std::unique_ptr<Model>> BuildResNet18(int batch, int num_classes, int image, uint32_t seed) {
  if (batch < 0) return InvalidArgument("BuildResNet18: batch {} is negative (0 = dynamic)", batch);
  if (num_classes < 1) return InvalidArgument("BuildResNet18: num_classes {} must be >= 1", num_classes);
  if (image < 32) return InvalidArgument("BuildResNet18: image {} is below 32 (5 stride-2 stages)", image);
  Builder b(seed);
  Graph& g = b.g();
  g.name = "resnet18";
  g.inputs.push_back({"input", F32(batch, {3, image, image}), ""});
  std::string x = ConvBn(b, "input", "conv1", "bn1", 3, 64, 7, 2, true, 0.8, 1.2);
  x = b.Op("MaxPool", {x}, "maxpool");
  b.Last()->SetInts("kernel_shape", {3, 3});
  b.Last()->SetInts("strides", {2, 2});
  b.Last()->SetInts("pads", {1, 1, 1, 1});
  int64_t cin = 64;
  const int64_t widths[4] = {64, 128, 256, 512};
  for (int s = 0; s < 4; ++s) {
    const int64_t cout = widths[s];
    const std::string layer = "layer" + std::to_string(s + 1);
    x = BasicBlock(b, x, layer + ".0", cin, cout, s == 0 ? 1 : 2);
    x = BasicBlock(b, x, layer + ".1", cout, cout, 1);
    cin = cout;
  }
  x = b.Op("GlobalAveragePool", {x}, "avgpool");
  x = b.Op("Flatten", {x}, "flatten");
  b.Last()->SetInt("axis", 1);
  std::string w = b.Normal("fc.weight", {num_classes, 512}, std::sqrt(1.0 / 512));
  std::string bias = b.Uniform("fc.bias", {num_classes}, -0.05, 0.05);
  g.AddNode("Gemm", {x, w, bias}, {"logits"}, "fc");
  b.Last()->SetInt("transB", 1);
  b.Last()->SetFloat("alpha", 1.f);
  b.Last()->SetFloat("beta", 1.f);
  g.outputs.push_back({"logits", F32(batch, {num_classes}), ""});
  return b.Take();
}

Result<std::unique_ptr<Model>> BuildMlp(int batch, const std::vector<int64_t>& dims, bool as_gemm, uint32_t seed) {
  if (batch < 0) return InvalidArgument("BuildMlp: batch {} is negative (0 = dynamic)", batch);
  if (dims.size() < 2) return InvalidArgument("BuildMlp: dims has {} entries, needs at least 2", dims.size());
  for (int64_t d : dims)
    if (d < 1) return InvalidArgument("BuildMlp: layer width {} must be >= 1", d);
  Builder b(seed);
  Graph& g = b.g();
  g.name = "mlp";
  g.inputs.push_back({"input", F32(batch, {dims[0]}), ""});
  std::string x = "input";
  for (size_t l = 0; l + 1 < dims.size(); ++l) {
    const std::string p = "fc" + std::to_string(l + 1);
    const bool last = l + 2 == dims.size();
    const double scale = std::sqrt((last ? 1.0 : 2.0) / static_cast<double>(dims[l]));
    if (as_gemm) {
      std::string w = b.Normal(p + ".weight", {dims[l + 1], dims[l]}, scale);
      std::string bias = b.Uniform(p + ".bias", {dims[l + 1]}, -0.05, 0.05);
      x = b.Op("Gemm", {x, w, bias}, p);
      b.Last()->SetInt("transB", 1);
    } else {
      std::string w = b.Normal(p + ".weight", {dims[l], dims[l + 1]}, scale);
      std::string bias = b.Uniform(p + ".bias", {dims[l + 1]}, -0.05, 0.05);
      x = b.Op("MatMul", {x, w}, p + ".matmul");
      x = b.Op("Add", {x, bias}, p + ".add");
    }
    if (!last) x = b.Op("Relu", {x}, p + ".relu");
  }
  g.mutable_nodes().back()->outputs[0] = "logits";
  g.outputs.push_back({"logits", F32(batch, {dims.back()}), ""});
  return b.Take();
}

namespace {

std::string Linear(Builder& b, const std::string& x, const std::string& p, int64_t in, int64_t out) {
  std::string w = b.Normal(p + ".weight", {in, out}, std::sqrt(1.0 / static_cast<double>(in)));
  std::string bias = b.Uniform(p + ".bias", {out}, -0.02, 0.02);
  std::string y = b.Op("MatMul", {x, w}, p + ".matmul");
  return b.Op("Add", {bias, y}, p + ".add");
}

std::string LayerNorm(Builder& b, const std::string& x, const std::string& p, int64_t h) {
  std::string s = b.Uniform(p + ".weight", {h}, 0.9, 1.1);
  std::string bias = b.Uniform(p + ".bias", {h}, -0.05, 0.05);
  std::string y = b.Op("LayerNormalization", {x, s, bias}, p);
  b.Last()->SetInt("axis", -1);
  b.Last()->SetFloat("epsilon", 1e-12f);
  return y;
}

}  // namespace

Result<std::unique_ptr<Model>> BuildBertEncoder(int layers, int hidden, int heads, int seq, int batch,
                                                uint32_t seed) {
  if (layers < 1) return InvalidArgument("BuildBertEncoder: layers {} must be >= 1", layers);
  if (hidden < 1 || heads < 1 || hidden % heads != 0)
    return InvalidArgument("BuildBertEncoder: hidden {} must be a positive multiple of heads {}", hidden, heads);
  if (seq < 1) return InvalidArgument("BuildBertEncoder: seq {} must be >= 1", seq);
  if (batch < 0) return InvalidArgument("BuildBertEncoder: batch {} is negative (0 = dynamic)", batch);
  Builder b(seed);
  Graph& g = b.g();
  g.name = "bert_encoder";
  const int64_t h = hidden, d = hidden / heads, inter = 4 * static_cast<int64_t>(hidden);
  g.inputs.push_back({"hidden_states", F32(batch, {seq, h}), ""});
  TensorType mask_t = F32(batch, {seq});
  mask_t.dtype = DType::kI64;
  g.inputs.push_back({"attention_mask", mask_t, ""});

  // Extended mask, computed once: (1 - mask[:, None, None, :]) * -10000.
  std::string m = b.Op("Unsqueeze", {"attention_mask", b.Ints("const_axes_1_2", {1, 2})}, "mask.unsqueeze");
  m = b.Op("Cast", {m}, "mask.cast");
  b.Last()->SetInt("to", static_cast<int64_t>(DType::kF32));
  m = b.Op("Sub", {b.ScalarF("const_one", 1.f), m}, "mask.invert");
  m = b.Op("Mul", {m, b.ScalarF("const_mask_value", -10000.f)}, "mask.scale");

  const std::string heads_shape = b.Ints("const_heads_shape", {0, 0, heads, d});
  const std::string merge_shape = b.Ints("const_merge_shape", {0, 0, h});
  const std::string sqrt_d = b.ScalarF("const_sqrt_head_dim", static_cast<float>(std::sqrt(static_cast<double>(d))));
  std::string x = "hidden_states";
  for (int l = 0; l < layers; ++l) {
    const std::string p = "encoder.layer." + std::to_string(l);
    const std::string a = p + ".attention.self";
    auto heads_of = [&](const std::string& name, std::vector<int64_t> perm) {
      std::string y = Linear(b, x, a + "." + name, h, h);
      y = b.Op("Reshape", {y, heads_shape}, a + "." + name + ".reshape");
      y = b.Op("Transpose", {y}, a + "." + name + ".transpose");
      b.Last()->SetInts("perm", std::move(perm));
      return y;
    };
    std::string q = heads_of("query", {0, 2, 1, 3});
    std::string k = heads_of("key", {0, 2, 3, 1});
    std::string v = heads_of("value", {0, 2, 1, 3});
    std::string s = b.Op("MatMul", {q, k}, a + ".scores");
    s = b.Op("Div", {s, sqrt_d}, a + ".scale");
    s = b.Op("Add", {s, m}, a + ".mask");
    s = b.Op("Softmax", {s}, a + ".softmax");
    b.Last()->SetInt("axis", -1);
    std::string c = b.Op("MatMul", {s, v}, a + ".context");
    c = b.Op("Transpose", {c}, a + ".context.transpose");
    b.Last()->SetInts("perm", {0, 2, 1, 3});
    c = b.Op("Reshape", {c, merge_shape}, a + ".context.reshape");
    std::string o = Linear(b, c, p + ".attention.output.dense", h, h);
    o = b.Op("Add", {o, x}, p + ".attention.output.residual");
    o = LayerNorm(b, o, p + ".attention.output.LayerNorm", h);

    std::string f = Linear(b, o, p + ".intermediate.dense", h, inter);
    // Gelu as torch.onnx exports it: x * 0.5 * (1 + erf(x / sqrt(2))).
    std::string e = b.Op("Div", {f, b.ScalarF("const_sqrt_two", 1.4142135f)}, p + ".intermediate.gelu.div");
    e = b.Op("Erf", {e}, p + ".intermediate.gelu.erf");
    e = b.Op("Add", {e, b.ScalarF("const_one", 1.f)}, p + ".intermediate.gelu.add");
    e = b.Op("Mul", {f, e}, p + ".intermediate.gelu.mul");
    e = b.Op("Mul", {e, b.ScalarF("const_half", 0.5f)}, p + ".intermediate.gelu.half");
    std::string y = Linear(b, e, p + ".output.dense", inter, h);
    y = b.Op("Add", {y, o}, p + ".output.residual");
    x = LayerNorm(b, y, p + ".output.LayerNorm", h);
  }
  g.mutable_nodes().back()->outputs[0] = "last_hidden_state";
  g.outputs.push_back({"last_hidden_state", F32(batch, {seq, h}), ""});
  return b.Take();
}

}  // namespace greenai::bench
