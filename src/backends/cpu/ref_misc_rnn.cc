// RNN, GRU and LSTM reference kernel (float32/float64), following the ONNX equations:
//   RNN:  H = f(X W^T + H R^T + Wb + Rb)
//   GRU:  z = f(.), r = f(.), h = g(X Wh^T + (r . H) Rh^T + Rbh + Wbh)       (linear_before_reset = 0)
//                                h = g(X Wh^T + r . (H Rh^T + Rbh) + Wbh)     (linear_before_reset = 1)
//         H = (1 - z) . h + z . H
//   LSTM: i = f(. + Pi . C), f = f(. + Pf . C), c = g(.), C = f . C + i . c,
//         o = f(. + Po . C_new), H = o . h(C)
// Gate orders in W/R/B: GRU z, r, h; LSTM i, o, f, c; peepholes P: i, o, f.
// `clip` clamps every gate pre-activation. Steps at or past sequence_lens[b] leave Y at 0
// and do not update the state; reverse directions start at sequence_lens[b] - 1.
#include <algorithm>
#include <cmath>
#include <string>

#include "backends/cpu/kernel.h"
#include "backends/cpu/ref_misc_internal.h"
#include "ops/misc_rnn.h"

namespace greenai::misck {
namespace {

struct Activation {
  std::string name;
  float alpha = 0, beta = 0;
  float operator()(float x) const {
    if (name == "Sigmoid") return 1.f / (1.f + std::exp(-x));
    if (name == "Tanh") return std::tanh(x);
    if (name == "Relu") return std::max(0.f, x);
    if (name == "Affine") return alpha * x + beta;
    if (name == "LeakyRelu") return x >= 0 ? x : alpha * x;
    if (name == "ThresholdedRelu") return x > alpha ? x : 0.f;
    if (name == "ScaledTanh") return alpha * std::tanh(beta * x);
    if (name == "HardSigmoid") return std::clamp(alpha * x + beta, 0.f, 1.f);
    if (name == "Elu") return x >= 0 ? x : alpha * (std::exp(x) - 1.f);
    if (name == "Softsign") return x / (1.f + std::fabs(x));
    if (name == "Softplus") return std::log1p(std::exp(x));
    return x;
  }
};

// Activation names (case-insensitive in practice) to the canonical ONNX spelling, with
// the ONNX op defaults for alpha/beta; explicit activation_alpha/beta are consumed in order
// by the functions that take them.
Result<std::vector<Activation>> ParseActivations(const Node& node, const rnn::Dims& d) {
  std::vector<std::string> names = node.GetStrings("activations");
  if (names.empty()) {
    const std::vector<std::string> def = d.kind == rnn::Kind::kRnn   ? std::vector<std::string>{"Tanh"}
                                         : d.kind == rnn::Kind::kGru ? std::vector<std::string>{"Sigmoid", "Tanh"}
                                                                     : std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"};
    for (int64_t i = 0; i < d.dirs; ++i) names.insert(names.end(), def.begin(), def.end());
  }
  const std::vector<float> alphas = node.GetFloats("activation_alpha"), betas = node.GetFloats("activation_beta");
  size_t ai = 0, bi = 0;
  std::vector<Activation> out;
  static const char* kKnown[] = {"Sigmoid", "Tanh", "Relu", "Affine", "LeakyRelu", "ThresholdedRelu",
                                 "ScaledTanh", "HardSigmoid", "Elu", "Softsign", "Softplus"};
  for (const auto& raw : names) {
    Activation a;
    for (const char* k : kKnown) {
      std::string lk = k, lr = raw;
      std::transform(lk.begin(), lk.end(), lk.begin(), ::tolower);
      std::transform(lr.begin(), lr.end(), lr.begin(), ::tolower);
      if (lk == lr) a.name = k;
    }
    if (a.name.empty())
      return InvalidArgument("{}: activation '{}' is not one of the RNN activation functions", node.Describe(), raw);
    float da = 0, db = 0;
    bool uses_a = true, uses_b = false;
    if (a.name == "Affine") { da = 1; db = 0; uses_b = true; }
    else if (a.name == "LeakyRelu") da = 0.01f;
    else if (a.name == "ThresholdedRelu" || a.name == "Elu") da = 1;
    else if (a.name == "ScaledTanh") { da = 1; db = 1; uses_b = true; }
    else if (a.name == "HardSigmoid") { da = 0.2f; db = 0.5f; uses_b = true; }
    else uses_a = false;
    a.alpha = uses_a && ai < alphas.size() ? alphas[ai++] : da;
    a.beta = uses_b && bi < betas.size() ? betas[bi++] : db;
    out.push_back(a);
  }
  return out;
}

template <typename T>
class RnnKernel : public Kernel {
 public:
  explicit RnnKernel(const Node& node) : node_(node) {}

  Status Run(KernelContext& ctx) override {
    auto in = [&](size_t i) -> const Tensor* { return i < ctx.inputs.size() ? ctx.inputs[i] : nullptr; };
    const Tensor& X = *in(0);
    const Tensor& W = *in(1);
    const Tensor& R = *in(2);
    GREENAI_ASSIGN_OR_RETURN(rnn::Dims d, rnn::Check(node_, X.shape(), W.shape(), R.shape()));
    GREENAI_ASSIGN_OR_RETURN(std::vector<Activation> acts, ParseActivations(node_, d));
    const int64_t S = d.seq, Bn = d.batch, I = d.input, H = d.hidden, G = d.gates;
    const Tensor* B = in(3);
    const Tensor* lens = in(4);
    const Tensor* h0 = in(5);
    const Tensor* c0 = d.kind == rnn::Kind::kLstm ? in(6) : nullptr;
    const Tensor* P = d.kind == rnn::Kind::kLstm ? in(7) : nullptr;
    auto check = [&](const Tensor* t, const char* what, int64_t numel) -> Status {
      if (t && t->numel() != numel)
        return InvalidArgument("{}: {} has shape {} ({} elements), expects {} elements", node_.Describe(), what,
                               ShapeToString(t->shape()), t->numel(), numel);
      return Status::Ok();
    };
    GREENAI_RETURN_IF_ERROR(check(B, "B", d.dirs * 2 * G * H));
    GREENAI_RETURN_IF_ERROR(check(lens, "sequence_lens", Bn));
    GREENAI_RETURN_IF_ERROR(check(h0, "initial_h", d.dirs * Bn * H));
    GREENAI_RETURN_IF_ERROR(check(c0, "initial_c", d.dirs * Bn * H));
    GREENAI_RETURN_IF_ERROR(check(P, "P", d.dirs * 3 * H));
    std::vector<int64_t> len(static_cast<size_t>(Bn), S);
    if (lens)
      for (int64_t b = 0; b < Bn; ++b) {
        len[static_cast<size_t>(b)] = lens->data<int32_t>()[b];
        if (len[static_cast<size_t>(b)] < 0 || len[static_cast<size_t>(b)] > S)
          return InvalidArgument("{}: sequence_lens[{}] is {}, expects 0..{}", node_.Describe(), b,
                                 len[static_cast<size_t>(b)], S);
      }
    const float clip = node_.GetFloat("clip", 0.f);
    const bool has_clip = node_.HasAttr("clip");
    const bool lbr = node_.GetInt("linear_before_reset", 0) != 0;
    const bool input_forget = node_.GetInt("input_forget", 0) != 0;
    Tensor* Y = ctx.outputs.size() > 0 ? ctx.outputs[0] : nullptr;
    Tensor* Yh = ctx.outputs.size() > 1 ? ctx.outputs[1] : nullptr;
    Tensor* Yc = ctx.outputs.size() > 2 ? ctx.outputs[2] : nullptr;
    if (Y) std::fill_n(Y->data<T>(), Y->numel(), T(0));
    // Index helpers for the two layouts.
    auto x_at = [&](int64_t t, int64_t b) { return X.data<T>() + (d.batch_first ? (b * S + t) : (t * Bn + b)) * I; };
    auto y_at = [&](int64_t t, int64_t dir, int64_t b) {
      return Y->data<T>() + (d.batch_first ? ((b * S + t) * d.dirs + dir) : ((t * d.dirs + dir) * Bn + b)) * H;
    };
    auto state_off = [&](int64_t dir, int64_t b) { return (d.batch_first ? (b * d.dirs + dir) : (dir * Bn + b)) * H; };
    auto act = [&](const Activation& a, float v) { return a(has_clip ? std::clamp(v, -clip, clip) : v); };
    std::vector<float> h(static_cast<size_t>(H)), c(static_cast<size_t>(H)), gates(static_cast<size_t>(G * H)),
        rh(static_cast<size_t>(H));
    for (int64_t dir = 0; dir < d.dirs; ++dir) {
      const bool reverse = d.direction == "reverse" || dir == 1;
      const T* w = W.data<T>() + dir * G * H * I;
      const T* r = R.data<T>() + dir * G * H * H;
      const T* wb = B ? B->data<T>() + dir * 2 * G * H : nullptr;
      const T* rb = B ? wb + G * H : nullptr;
      const T* p = P ? P->data<T>() + dir * 3 * H : nullptr;
      const Activation* fa = &acts[static_cast<size_t>(dir * d.num_activations)];
      for (int64_t b = 0; b < Bn; ++b) {
        for (int64_t j = 0; j < H; ++j) {
          h[static_cast<size_t>(j)] = h0 ? static_cast<float>(h0->data<T>()[state_off(dir, b) + j]) : 0.f;
          c[static_cast<size_t>(j)] = c0 ? static_cast<float>(c0->data<T>()[state_off(dir, b) + j]) : 0.f;
        }
        const int64_t L = len[static_cast<size_t>(b)];
        for (int64_t step = 0; step < L; ++step) {
          const int64_t t = reverse ? L - 1 - step : step;
          const T* xt = x_at(t, b);
          // gates = x W^T + Wb (+ h R^T + Rb except GRU's h gate, handled below)
          for (int64_t g = 0; g < G * H; ++g) {
            double s = wb ? static_cast<double>(wb[g]) : 0.0;
            for (int64_t k = 0; k < I; ++k) s += static_cast<double>(xt[k]) * static_cast<double>(w[g * I + k]);
            const bool gru_h = d.kind == rnn::Kind::kGru && g >= 2 * H;
            if (!gru_h) {
              if (rb) s += static_cast<double>(rb[g]);
              for (int64_t k = 0; k < H; ++k) s += static_cast<double>(h[static_cast<size_t>(k)]) * static_cast<double>(r[g * H + k]);
            }
            gates[static_cast<size_t>(g)] = static_cast<float>(s);
          }
          if (d.kind == rnn::Kind::kRnn) {
            for (int64_t j = 0; j < H; ++j) h[static_cast<size_t>(j)] = act(fa[0], gates[static_cast<size_t>(j)]);
          } else if (d.kind == rnn::Kind::kGru) {
            std::vector<float> z(static_cast<size_t>(H)), rr(static_cast<size_t>(H));
            for (int64_t j = 0; j < H; ++j) {
              z[static_cast<size_t>(j)] = act(fa[0], gates[static_cast<size_t>(j)]);
              rr[static_cast<size_t>(j)] = act(fa[0], gates[static_cast<size_t>(H + j)]);
            }
            for (int64_t j = 0; j < H; ++j) {
              const int64_t g = 2 * H + j;
              double s = 0;
              if (lbr) {
                double hr = rb ? static_cast<double>(rb[g]) : 0.0;
                for (int64_t k = 0; k < H; ++k) hr += static_cast<double>(h[static_cast<size_t>(k)]) * static_cast<double>(r[g * H + k]);
                s = rr[static_cast<size_t>(j)] * hr;
              } else {
                s = rb ? static_cast<double>(rb[g]) : 0.0;
                for (int64_t k = 0; k < H; ++k)
                  s += static_cast<double>(rr[static_cast<size_t>(k)] * h[static_cast<size_t>(k)]) * static_cast<double>(r[g * H + k]);
              }
              rh[static_cast<size_t>(j)] = act(fa[1], static_cast<float>(gates[static_cast<size_t>(g)] + s));
            }
            for (int64_t j = 0; j < H; ++j) {
              const float zj = z[static_cast<size_t>(j)];
              h[static_cast<size_t>(j)] = (1.f - zj) * rh[static_cast<size_t>(j)] + zj * h[static_cast<size_t>(j)];
            }
          } else {
            for (int64_t j = 0; j < H; ++j) {
              const size_t u = static_cast<size_t>(j);
              const float pi = p ? static_cast<float>(p[j]) : 0.f, po = p ? static_cast<float>(p[H + j]) : 0.f,
                          pf = p ? static_cast<float>(p[2 * H + j]) : 0.f;
              const float ig = act(fa[0], gates[u] + pi * c[u]);
              const float fg = input_forget ? 1.f - ig : act(fa[0], gates[static_cast<size_t>(2 * H + j)] + pf * c[u]);
              const float cg = act(fa[1], gates[static_cast<size_t>(3 * H + j)]);
              c[u] = fg * c[u] + ig * cg;
              const float og = act(fa[0], gates[static_cast<size_t>(H + j)] + po * c[u]);
              h[u] = og * fa[2](c[u]);
            }
          }
          if (Y)
            for (int64_t j = 0; j < H; ++j) y_at(t, dir, b)[j] = static_cast<T>(h[static_cast<size_t>(j)]);
        }
        for (int64_t j = 0; j < H; ++j) {
          if (Yh) Yh->data<T>()[state_off(dir, b) + j] = static_cast<T>(h[static_cast<size_t>(j)]);
          if (Yc) Yc->data<T>()[state_off(dir, b) + j] = static_cast<T>(c[static_cast<size_t>(j)]);
        }
      }
    }
    return Status::Ok();
  }

 private:
  Node node_;
};

Result<std::unique_ptr<Kernel>> MakeRnn(const KernelInfo& info) {
  if (info.input_types[0].dtype == DType::kF64) return std::unique_ptr<Kernel>(std::make_unique<RnnKernel<double>>(info.node));
  return std::unique_ptr<Kernel>(std::make_unique<RnnKernel<float>>(info.node));
}

}  // namespace

void AddRnnKernels(std::vector<KernelDef>& defs) {
  defs.push_back({"RNN", "", "f32_rnn__ref", 0, MakeRnn});
  defs.push_back({"GRU", "", "f32_gru__ref", 0, MakeRnn});
  defs.push_back({"LSTM", "", "f32_lstm__ref", 0, MakeRnn});
}

}  // namespace greenai::misck
