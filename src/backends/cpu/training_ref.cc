// Reference kernels for the training ops (ops/training.cc), part 1: SoftmaxCrossEntropyLossGrad,
// ConvGrad, MaxPoolGrad, AveragePoolGrad, BatchNormalizationGrad, LayerNormalizationGrad.
// They are the oracle the oneDNN backward kernels (onednn_training.cc) are tested against:
// plain loops, accumulation in double, f32 and f64. Window geometry comes from ops/nn_util.h,
// exactly as the forward kernels parse it, so forward and backward agree by construction.
#include <cmath>
#include <optional>

#include "backends/cpu/kernel.h"
#include "backends/cpu/training_internal.h"
#include "ops/nn_util.h"
#include "ops/shape_util.h"

namespace greenai::training {
namespace {

template <typename T>
T* Out(KernelContext& ctx, size_t i) {
  return i < ctx.outputs.size() && ctx.outputs[i] ? ctx.outputs[i]->data<T>() : nullptr;
}

template <typename T>
void Store(const std::vector<double>& v, T* dst) {
  if (dst)
    for (size_t i = 0; i < v.size(); ++i) dst[i] = static_cast<T>(v[i]);
}

// ---------------- SoftmaxCrossEntropyLossGrad ----------------

template <typename T>
Status SceGrad(const Node& node, KernelContext& ctx) {
  const Tensor& dl = *ctx.inputs[0];
  const Tensor& x = *ctx.inputs[1];
  const Tensor& target = *ctx.inputs[2];
  const Tensor* weight = ctx.inputs.size() > 3 ? ctx.inputs[3] : nullptr;
  if (x.rank() < 2) return InvalidArgument("{}: scores have rank {} (expects >= 2)", node.Describe(), x.rank());
  const int64_t N = x.dim(0), C = x.dim(1), D = x.numel() / std::max<int64_t>(1, N * C);
  if (target.numel() != N * D)
    return InvalidArgument("{}: labels have {} elements, scores need {}", node.Describe(), target.numel(), N * D);
  const std::string red = node.GetString("reduction", "mean");
  const bool has_ii = node.HasAttr("ignore_index");
  const int64_t ii = node.GetInt("ignore_index", 0);
  if (red == "none" ? dl.numel() != N * D : dl.numel() != 1)
    return InvalidArgument("{}: loss gradient has {} elements (reduction '{}')", node.Describe(), dl.numel(), red);
  auto label = [&](int64_t i) {
    return target.dtype() == DType::kI64 ? target.data<int64_t>()[i] : target.data<int32_t>()[i];
  };
  double wsum = 0;
  for (int64_t i = 0; i < N * D; ++i) {
    const int64_t t = label(i);
    if (has_ii && t == ii) continue;
    if (t < 0 || t >= C)
      return InvalidArgument("{}: label {} at index {} is outside [0, {})", node.Describe(), t, i, C);
    wsum += weight ? static_cast<double>(weight->data<T>()[t]) : 1.0;
  }
  const T* xs = x.data<T>();
  T* dx = ctx.outputs[0]->data<T>();
  std::vector<double> p(static_cast<size_t>(C));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t d = 0; d < D; ++d) {
      const int64_t i = n * D + d, t = label(i);
      double g = 0;
      if (!(has_ii && t == ii)) {
        const double w = weight ? static_cast<double>(weight->data<T>()[t]) : 1.0;
        const double up = static_cast<double>(dl.data<T>()[red == "none" ? i : 0]);
        g = red == "mean" ? (wsum == 0 ? 0 : up * w / wsum) : up * w;
      }
      double mx = -INFINITY, s = 0;
      for (int64_t c = 0; c < C; ++c) mx = std::max(mx, static_cast<double>(xs[(n * C + c) * D + d]));
      for (int64_t c = 0; c < C; ++c) s += (p[static_cast<size_t>(c)] = std::exp(static_cast<double>(xs[(n * C + c) * D + d]) - mx));
      for (int64_t c = 0; c < C; ++c)
        dx[(n * C + c) * D + d] = static_cast<T>(g * (p[static_cast<size_t>(c)] / s - (c == t ? 1.0 : 0.0)));
    }
  return Status::Ok();
}

// ---------------- ConvGrad ----------------

template <typename T>
Status ConvGradRef(const Node& node, KernelContext& ctx) {
  const Tensor& dY = *ctx.inputs[0];
  const Tensor& X = *ctx.inputs[1];
  const Tensor& W = *ctx.inputs[2];
  GREENAI_ASSIGN_OR_RETURN(nn::WindowGeom g, ConvGeometry(node, X.shape(), W.shape()));
  if (NumElements(Shape(dY.shape().begin() + 2, dY.shape().end())) != nn::Prod(g.out))
    return InvalidArgument("{}: dY has shape {}, the conv output spatial dims are {}", node.Describe(),
                           ShapeToString(dY.shape()), ShapeToString(g.out));
  const nn::WindowGeom g3 = nn::Geometry3(g);
  const int64_t group = node.GetInt("group", 1);
  const int64_t N = X.dim(0), C = X.dim(1), M = W.dim(0), Cg = W.dim(1), Mg = M / group;
  const int64_t ID = g3.in[0], IH = g3.in[1], IW = g3.in[2], OD = g3.out[0], OH = g3.out[1], OW = g3.out[2];
  const int64_t KD = g3.kernel[0], KH = g3.kernel[1], KW = g3.kernel[2];
  const int64_t isz = ID * IH * IW, osz = OD * OH * OW, ksz = KD * KH * KW;
  T* dx_out = Out<T>(ctx, 0);
  T* dw_out = Out<T>(ctx, 1);
  T* db_out = Out<T>(ctx, 2);
  std::vector<double> dx(dx_out ? static_cast<size_t>(X.numel()) : 0), dw(dw_out ? static_cast<size_t>(W.numel()) : 0),
      db(db_out ? static_cast<size_t>(M) : 0);
  const T* x = X.data<T>();
  const T* w = W.data<T>();
  const T* dy = dY.data<T>();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m) {
      const int64_t cbase = (m / Mg) * Cg;
      for (int64_t od = 0; od < OD; ++od)
        for (int64_t oh = 0; oh < OH; ++oh)
          for (int64_t ow = 0; ow < OW; ++ow) {
            const double gy = static_cast<double>(dy[(n * M + m) * osz + (od * OH + oh) * OW + ow]);
            if (db_out) db[static_cast<size_t>(m)] += gy;
            if (gy == 0) continue;
            for (int64_t cg = 0; cg < Cg; ++cg) {
              const int64_t c = cbase + cg;
              for (int64_t kd = 0; kd < KD; ++kd) {
                const int64_t id = od * g3.strides[0] + kd * g3.dilations[0] - g3.pad_begin[0];
                if (id < 0 || id >= ID) continue;
                for (int64_t kh = 0; kh < KH; ++kh) {
                  const int64_t ih = oh * g3.strides[1] + kh * g3.dilations[1] - g3.pad_begin[1];
                  if (ih < 0 || ih >= IH) continue;
                  for (int64_t kw = 0; kw < KW; ++kw) {
                    const int64_t iw = ow * g3.strides[2] + kw * g3.dilations[2] - g3.pad_begin[2];
                    if (iw < 0 || iw >= IW) continue;
                    const int64_t xi = (n * C + c) * isz + (id * IH + ih) * IW + iw;
                    const int64_t wi = (m * Cg + cg) * ksz + (kd * KH + kh) * KW + kw;
                    if (dx_out) dx[static_cast<size_t>(xi)] += static_cast<double>(w[wi]) * gy;
                    if (dw_out) dw[static_cast<size_t>(wi)] += static_cast<double>(x[xi]) * gy;
                  }
                }
              }
            }
          }
    }
  Store(dx, dx_out);
  Store(dw, dw_out);
  Store(db, db_out);
  return Status::Ok();
}

// ---------------- MaxPoolGrad / AveragePoolGrad ----------------

template <typename T>
Status PoolGradRef(const Node& node, bool is_max, KernelContext& ctx) {
  const Tensor& dY = *ctx.inputs[0];
  const Tensor& X = *ctx.inputs[1];
  GREENAI_ASSIGN_OR_RETURN(nn::WindowGeom g0, PoolGeometry(node, X.shape()));
  if (dY.numel() != X.dim(0) * X.dim(1) * nn::Prod(g0.out))
    return InvalidArgument("{}: dY has shape {}, the pool output spatial dims are {}", node.Describe(),
                           ShapeToString(dY.shape()), ShapeToString(g0.out));
  const nn::WindowGeom g = nn::Geometry3(g0);
  const bool include_pad = node.GetInt("count_include_pad", 0) != 0;
  const int64_t NC = X.dim(0) * X.dim(1);
  const int64_t ID = g.in[0], IH = g.in[1], IW = g.in[2], OD = g.out[0], OH = g.out[1], OW = g.out[2];
  const int64_t isz = ID * IH * IW;
  std::vector<double> dx(static_cast<size_t>(X.numel()), 0.0);
  const T* x = X.data<T>();
  const T* dy = dY.data<T>();
  int64_t o = 0;
  std::vector<int64_t> window;
  for (int64_t nc = 0; nc < NC; ++nc)
    for (int64_t od = 0; od < OD; ++od)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow, ++o) {
          const int64_t os[3] = {od, oh, ow};
          // As the forward: count_include_pad counts positions up to the explicit padding,
          // never the ceil-mode overhang.
          int64_t padded_count = 1;
          for (size_t d = 0; d < 3; ++d) {
            const int64_t start = os[d] * g.strides[d] - g.pad_begin[d], lim = g.in[d] + g.pad_end[d];
            int64_t cnt = 0;
            for (int64_t k = 0; k < g.kernel[d]; ++k) cnt += start + k * g.dilations[d] < lim ? 1 : 0;
            padded_count *= cnt;
          }
          window.clear();
          for (int64_t kd = 0; kd < g.kernel[0]; ++kd) {
            const int64_t id = od * g.strides[0] + kd * g.dilations[0] - g.pad_begin[0];
            if (id < 0 || id >= ID) continue;
            for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
              const int64_t ih = oh * g.strides[1] + kh * g.dilations[1] - g.pad_begin[1];
              if (ih < 0 || ih >= IH) continue;
              for (int64_t kw = 0; kw < g.kernel[2]; ++kw) {
                const int64_t iw = ow * g.strides[2] + kw * g.dilations[2] - g.pad_begin[2];
                if (iw >= 0 && iw < IW) window.push_back(nc * isz + (id * IH + ih) * IW + iw);
              }
            }
          }
          if (window.empty()) continue;
          const double gy = static_cast<double>(dy[o]);
          if (is_max) {
            int64_t best = window[0];
            for (int64_t i : window)
              if (x[i] > x[best]) best = i;  // first maximum wins, as in the forward kernel
            dx[static_cast<size_t>(best)] += gy;
          } else {
            const double div = static_cast<double>(include_pad ? padded_count : static_cast<int64_t>(window.size()));
            for (int64_t i : window) dx[static_cast<size_t>(i)] += gy / div;
          }
        }
  Store(dx, ctx.outputs[0]->data<T>());
  return Status::Ok();
}

// ---------------- BatchNormalizationGrad ----------------

template <typename T>
Status BatchNormGradRef(const Node& node, KernelContext& ctx) {
  const Tensor& dY = *ctx.inputs[0];
  const Tensor& X = *ctx.inputs[1];
  const T* scale = ctx.inputs[2]->data<T>();
  const T* in_mean = ctx.inputs[3]->data<T>();
  const T* in_var = ctx.inputs[4]->data<T>();
  const bool training = node.GetInt("training_mode", 1) != 0;
  const double eps = node.GetFloat("epsilon", 1e-5f);
  if (X.rank() < 2) return InvalidArgument("{}: X has rank {} (expects >= 2)", node.Describe(), X.rank());
  const int64_t N = X.dim(0), C = X.dim(1), S = X.numel() / std::max<int64_t>(N * C, 1);
  const double m = static_cast<double>(N * S);
  const T* x = X.data<T>();
  const T* dy = dY.data<T>();
  T* dx = Out<T>(ctx, 0);
  T* dscale = Out<T>(ctx, 1);
  T* dbias = Out<T>(ctx, 2);
  for (int64_t c = 0; c < C; ++c) {
    double mean = static_cast<double>(in_mean[c]), var = static_cast<double>(in_var[c]);
    if (training) {
      double s = 0, s2 = 0;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t i = 0; i < S; ++i) s += static_cast<double>(x[(n * C + c) * S + i]);
      mean = s / m;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t i = 0; i < S; ++i) {
          const double d = static_cast<double>(x[(n * C + c) * S + i]) - mean;
          s2 += d * d;
        }
      var = s2 / m;
    }
    const double inv = 1.0 / std::sqrt(var + eps);
    double sdy = 0, sdyx = 0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < S; ++i) {
        const int64_t k = (n * C + c) * S + i;
        sdy += static_cast<double>(dy[k]);
        sdyx += static_cast<double>(dy[k]) * (static_cast<double>(x[k]) - mean) * inv;
      }
    if (dbias) dbias[c] = static_cast<T>(sdy);
    if (dscale) dscale[c] = static_cast<T>(sdyx);
    if (!dx) continue;
    const double a = static_cast<double>(scale[c]) * inv;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < S; ++i) {
        const int64_t k = (n * C + c) * S + i;
        const double g = static_cast<double>(dy[k]);
        if (training) {
          const double xh = (static_cast<double>(x[k]) - mean) * inv;
          dx[k] = static_cast<T>(a * (g - sdy / m - xh * sdyx / m));
        } else {
          dx[k] = static_cast<T>(a * g);
        }
      }
  }
  return Status::Ok();
}

// ---------------- LayerNormalizationGrad ----------------

template <typename T>
Status LayerNormGradRef(const Node& node, KernelContext& ctx) {
  const Tensor& dY = *ctx.inputs[0];
  const Tensor& X = *ctx.inputs[1];
  const Tensor& Sc = *ctx.inputs[2];
  GREENAI_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(node.GetInt("axis", -1), X.rank(), node.Describe()));
  const int64_t D = NumElements(Shape(X.shape().begin() + axis, X.shape().end()));
  const int64_t R = X.numel() / std::max<int64_t>(D, 1);
  if (Sc.numel() != D)
    return Unimplemented("{}: gradient needs scale with one value per normalized element ({}), got shape {}",
                         node.Describe(), D, ShapeToString(Sc.shape()));
  const double eps = node.GetFloat("epsilon", 1e-5f);
  const T* x = X.data<T>();
  const T* dy = dY.data<T>();
  const T* sc = Sc.data<T>();
  T* dx = Out<T>(ctx, 0);
  std::vector<double> dscale(static_cast<size_t>(D), 0.0), dbias(static_cast<size_t>(D), 0.0);
  std::vector<double> xh(static_cast<size_t>(D));
  for (int64_t r = 0; r < R; ++r) {
    const T* xr = x + r * D;
    const T* gr = dy + r * D;
    double mean = 0, var = 0;
    for (int64_t i = 0; i < D; ++i) mean += static_cast<double>(xr[i]);
    mean /= static_cast<double>(D);
    for (int64_t i = 0; i < D; ++i) var += (static_cast<double>(xr[i]) - mean) * (static_cast<double>(xr[i]) - mean);
    var /= static_cast<double>(D);
    const double inv = 1.0 / std::sqrt(var + eps);
    double mg = 0, mgx = 0;
    for (int64_t i = 0; i < D; ++i) {
      const auto u = static_cast<size_t>(i);
      xh[u] = (static_cast<double>(xr[i]) - mean) * inv;
      const double g = static_cast<double>(gr[i]) * static_cast<double>(sc[i]);
      mg += g;
      mgx += g * xh[u];
      dscale[u] += static_cast<double>(gr[i]) * xh[u];
      dbias[u] += static_cast<double>(gr[i]);
    }
    mg /= static_cast<double>(D);
    mgx /= static_cast<double>(D);
    if (dx)
      for (int64_t i = 0; i < D; ++i) {
        const double g = static_cast<double>(gr[i]) * static_cast<double>(sc[i]);
        dx[r * D + i] = static_cast<T>(inv * (g - mg - xh[static_cast<size_t>(i)] * mgx));
      }
  }
  Store(dscale, Out<T>(ctx, 1));
  Store(dbias, Out<T>(ctx, 2));
  return Status::Ok();
}

using RefFn = Status (*)(const Node&, KernelContext&);

template <template <typename> class F>
Result<std::unique_ptr<Kernel>> MakeRef(const KernelInfo& info) {
  const DType dt = info.input_types[1].dtype;
  if (dt != DType::kF32 && dt != DType::kF64)
    return Unimplemented("{}: reference training kernel handles float32/float64, got {}", info.node.Describe(),
                         DTypeName(dt));
  RefFn fn = dt == DType::kF64 ? &F<double>::Run : &F<float>::Run;
  return MakePlannedOutputKernel([node = info.node, fn](KernelContext& ctx) -> Status { return fn(node, ctx); });
}

template <typename T> struct SceK { static Status Run(const Node& n, KernelContext& c) { return SceGrad<T>(n, c); } };
template <typename T> struct ConvK { static Status Run(const Node& n, KernelContext& c) { return ConvGradRef<T>(n, c); } };
template <typename T> struct MaxPoolK { static Status Run(const Node& n, KernelContext& c) { return PoolGradRef<T>(n, true, c); } };
template <typename T> struct AvgPoolK { static Status Run(const Node& n, KernelContext& c) { return PoolGradRef<T>(n, false, c); } };
template <typename T> struct BnK { static Status Run(const Node& n, KernelContext& c) { return BatchNormGradRef<T>(n, c); } };
template <typename T> struct LnK { static Status Run(const Node& n, KernelContext& c) { return LayerNormGradRef<T>(n, c); } };

}  // namespace

Result<nn::WindowGeom> ConvGeometry(const Node& node, const Shape& x, const Shape& w) {
  if (x.size() < 3 || w.size() != x.size())
    return InvalidArgument("{}: X has shape {} and W {} (expects [N, C, spatial...] and a W of the same rank)",
                           node.Describe(), ShapeToString(x), ShapeToString(w));
  const int nsp = static_cast<int>(x.size()) - 2;
  if (nsp > 3) return Unimplemented("{}: {} spatial dims (supported: 1 to 3)", node.Describe(), nsp);
  const int64_t group = node.GetInt("group", 1);
  if (group < 1 || x[1] != w[1] * group || w[0] % group != 0)
    return InvalidArgument("{}: X has {} channels, W {} with group {} (expects C = W.dim(1) * group, M % group = 0)",
                           node.Describe(), x[1], ShapeToString(w), group);
  GREENAI_ASSIGN_OR_RETURN(auto a, nn::WindowAttrs::Parse(node, nsp, std::vector<int64_t>(w.begin() + 2, w.end()), false));
  return nn::ComputeForward(node, a, std::vector<int64_t>(x.begin() + 2, x.end()));
}

Result<nn::WindowGeom> PoolGeometry(const Node& node, const Shape& x) {
  const int nsp = static_cast<int>(x.size()) - 2;
  if (nsp < 1 || nsp > 3)
    return Unimplemented("{}: X has shape {} ({} spatial dims, supported: 1 to 3)", node.Describe(), ShapeToString(x),
                         nsp);
  GREENAI_ASSIGN_OR_RETURN(auto a, nn::WindowAttrs::Parse(node, nsp, {}, false));
  return nn::ComputeForward(node, a, std::vector<int64_t>(x.begin() + 2, x.end()));
}

void AddRefTrainingKernelsPart1(std::vector<KernelDef>& defs) {
  defs.push_back({"SoftmaxCrossEntropyLossGrad", kDomain, "any_softmaxcrossentropylossgrad__ref", 0, MakeRef<SceK>});
  defs.push_back({"ConvGrad", kDomain, "any_convgrad__ref", 0, MakeRef<ConvK>});
  defs.push_back({"MaxPoolGrad", kDomain, "any_maxpoolgrad__ref", 0, MakeRef<MaxPoolK>});
  defs.push_back({"AveragePoolGrad", kDomain, "any_averagepoolgrad__ref", 0, MakeRef<AvgPoolK>});
  defs.push_back({"BatchNormalizationGrad", kDomain, "any_batchnormalizationgrad__ref", 0, MakeRef<BnK>});
  defs.push_back({"LayerNormalizationGrad", kDomain, "any_layernormalizationgrad__ref", 0, MakeRef<LnK>});
}

}  // namespace greenai::training
