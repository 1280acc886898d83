// Kernel family ref_nn, part 2: reference pooling kernels (MaxPool with Indices, AveragePool,
// LpPool, GlobalAveragePool, GlobalMaxPool, GlobalLpPool). See backends/cpu/kernel.h.
#include <cmath>
#include <limits>
#include <optional>

#include "backends/cpu/ref_nn_util.h"
#include "ops/nn_util.h"

namespace greenai::refnn {
namespace {

enum class PoolKind { kMax, kAvg, kLp };

struct PoolParams {
  PoolKind kind = PoolKind::kMax;
  bool count_include_pad = false;
  int64_t storage_order = 0;
  double p = 2;
};

template <typename T>
void PoolRef(const Tensor& X, Tensor& Y, Tensor* I, const nn::WindowGeom& g, const PoolParams& pp) {
  using A = std::conditional_t<std::is_same_v<T, double>, double, float>;
  const int64_t NC = X.dim(0) * X.dim(1);
  const int64_t ID = g.in[0], IH = g.in[1], IW = g.in[2];
  const int64_t OD = g.out[0], OH = g.out[1], OW = g.out[2];
  const T* x = X.data<T>();
  T* y = Y.data<T>();
  int64_t* ind = I ? I->data<int64_t>() : nullptr;
  int64_t o = 0;
  for (int64_t nc = 0; nc < NC; ++nc) {
    const T* xs = x + nc * ID * IH * IW;
    for (int64_t od = 0; od < OD; ++od)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow, ++o) {
          const int64_t os[3] = {od, oh, ow};
          // Window start per dim and the extent that counts for count_include_pad: clipped to
          // the explicitly padded range, not to ceil-mode overhang.
          int64_t padded_count = 1;
          for (int d = 0; d < 3; ++d) {
            int64_t start = os[d] * g.strides[static_cast<size_t>(d)] - g.pad_begin[static_cast<size_t>(d)];
            int64_t lim = g.in[static_cast<size_t>(d)] + g.pad_end[static_cast<size_t>(d)];
            int64_t cnt = 0;
            for (int64_t k = 0; k < g.kernel[static_cast<size_t>(d)]; ++k) {
              int64_t pos = start + k * g.dilations[static_cast<size_t>(d)];
              if (pos < lim) ++cnt;
            }
            padded_count *= cnt;
          }
          A best = -std::numeric_limits<A>::infinity();
          bool have = false;
          int64_t best_idx = 0;
          A sum = 0;
          int64_t count = 0;
          for (int64_t kd = 0; kd < g.kernel[0]; ++kd) {
            int64_t id = od * g.strides[0] + kd * g.dilations[0] - g.pad_begin[0];
            if (id < 0 || id >= ID) continue;
            for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
              int64_t ih = oh * g.strides[1] + kh * g.dilations[1] - g.pad_begin[1];
              if (ih < 0 || ih >= IH) continue;
              for (int64_t kw = 0; kw < g.kernel[2]; ++kw) {
                int64_t iw = ow * g.strides[2] + kw * g.dilations[2] - g.pad_begin[2];
                if (iw < 0 || iw >= IW) continue;
                A v = Ld<A>(xs[(id * IH + ih) * IW + iw]);
                ++count;
                if (pp.kind == PoolKind::kMax) {
                  if (!have || v > best) {
                    best = v;
                    have = true;
                    best_idx = pp.storage_order == 0 ? (id * IH + ih) * IW + iw : id + ID * (ih + IH * iw);
                  }
                } else if (pp.kind == PoolKind::kAvg) {
                  sum += v;
                } else {
                  sum += static_cast<A>(std::pow(std::abs(v), static_cast<A>(pp.p)));
                }
              }
            }
          }
          A r;
          if (pp.kind == PoolKind::kMax) {
            r = have ? best : A(0);  // a window entirely in padding (not reachable with pads < kernel)
            if (ind) ind[o] = nc * ID * IH * IW + best_idx;
          } else if (pp.kind == PoolKind::kAvg) {
            int64_t div = pp.count_include_pad ? padded_count : count;
            r = div > 0 ? sum / static_cast<A>(div) : A(0);
          } else {
            r = static_cast<A>(std::pow(sum, static_cast<A>(1.0 / pp.p)));
          }
          y[o] = St<T>(r);
        }
  }
}

class PoolRefKernel : public Kernel {
 public:
  PoolRefKernel(const Node& node, PoolParams pp) : node_(node), pp_(pp) {}
  Status Run(KernelContext& ctx) override {
    const Tensor& x = *ctx.inputs[0];
    int nsp = x.rank() - 2;
    if (!attrs_ || attrs_->nsp != nsp) {
      GREENAI_ASSIGN_OR_RETURN(auto a, nn::WindowAttrs::Parse(node_, nsp, {}, false));
      attrs_ = std::move(a);
    }
    std::vector<int64_t> sp(x.shape().begin() + 2, x.shape().end());
    GREENAI_ASSIGN_OR_RETURN(auto g0, nn::ComputeForward(node_, *attrs_, sp));
    if (nsp > 3) return Unimplemented("{}: {} spatial dims (reference kernel supports 1 to 3)", node_.Describe(), nsp);
    nn::WindowGeom g = nn::Geometry3(g0);
    Tensor& y = *ctx.outputs[0];
    Tensor* ind = ctx.outputs.size() > 1 ? ctx.outputs[1] : nullptr;
    // int8/uint8 (MaxPool only): exact through the float accumulator.
    if (x.dtype() == DType::kI8) PoolRef<int8_t>(x, y, ind, g, pp_);
    else if (x.dtype() == DType::kU8) PoolRef<uint8_t>(x, y, ind, g, pp_);
    else GREENAI_NN_DISPATCH_FLOAT(x.dtype(), T, PoolRef<T>(x, y, ind, g, pp_));
    return Status::Ok();
  }

 private:
  Node node_;
  PoolParams pp_;
  std::optional<nn::WindowAttrs> attrs_;
};

Result<std::unique_ptr<Kernel>> CreatePoolRef(const KernelInfo& info) {
  const Node& n = info.node;
  PoolParams pp;
  if (n.op_type == "MaxPool") {
    pp.kind = PoolKind::kMax;
    pp.storage_order = n.GetInt("storage_order", 0);
  } else if (n.op_type == "AveragePool") {
    pp.kind = PoolKind::kAvg;
    pp.count_include_pad = n.GetInt("count_include_pad", 0) != 0;
  } else {
    pp.kind = PoolKind::kLp;
    pp.p = static_cast<double>(n.GetInt("p", 2));
  }
  return std::unique_ptr<Kernel>(std::make_unique<PoolRefKernel>(n, pp));
}

template <typename T>
void GlobalPoolRef(const Tensor& X, Tensor& Y, PoolKind kind, double p) {
  using A = std::conditional_t<std::is_same_v<T, double>, double, float>;
  const int64_t NC = X.dim(0) * X.dim(1);
  const int64_t S = X.numel() / std::max<int64_t>(NC, 1);
  const T* x = X.data<T>();
  T* y = Y.data<T>();
  for (int64_t i = 0; i < NC; ++i) {
    const T* xs = x + i * S;
    A r = kind == PoolKind::kMax ? -std::numeric_limits<A>::infinity() : A(0);
    for (int64_t s = 0; s < S; ++s) {
      A v = Ld<A>(xs[s]);
      if (kind == PoolKind::kMax) r = std::max(r, v);
      else if (kind == PoolKind::kAvg) r += v;
      else r += static_cast<A>(std::pow(std::abs(v), static_cast<A>(p)));
    }
    if (kind == PoolKind::kAvg) r /= static_cast<A>(S);
    if (kind == PoolKind::kLp) r = static_cast<A>(std::pow(r, static_cast<A>(1.0 / p)));
    y[i] = St<T>(r);
  }
}

Result<std::unique_ptr<Kernel>> CreateGlobalPoolRef(const KernelInfo& info) {
  const Node& n = info.node;
  PoolKind kind = n.op_type == "GlobalMaxPool" ? PoolKind::kMax
                  : n.op_type == "GlobalAveragePool" ? PoolKind::kAvg
                                                      : PoolKind::kLp;
  double p = static_cast<double>(n.GetInt("p", 2));
  return MakeLambdaKernel([kind, p](KernelContext& ctx) -> Status {
    GREENAI_NN_DISPATCH_FLOAT(ctx.inputs[0]->dtype(), T, GlobalPoolRef<T>(*ctx.inputs[0], *ctx.outputs[0], kind, p));
    return Status::Ok();
  });
}

// MaxUnpool: zero-filled output, X scattered to the positions in I. I holds flat indices into
// the *default* unpooled shape ((in-1)*stride + kernel - pads); with a larger output_shape the
// same (n, c, spatial) coordinates are kept (the ONNX reference pads at the end).
template <typename T>
Status MaxUnpoolRef(const Tensor& X, const Tensor& I, Tensor& Y, const Shape& def, const std::string& who) {
  T* y = Y.data<T>();
  for (int64_t i = 0; i < Y.numel(); ++i) y[i] = St<T>(0.0f);
  const int64_t* ind = I.data<int64_t>();
  if (I.numel() != X.numel())
    return InvalidArgument("{}: I has {} elements but X has {} (expects equal)", who, I.numel(), X.numel());
  const Shape& out = Y.shape();
  const int64_t def_n = NumElements(def);
  for (int64_t i = 0; i < X.numel(); ++i) {
    if (ind[i] < 0 || ind[i] >= def_n)
      return InvalidArgument("{}: index I[{}]={} is outside the unpooled shape {}", who, i, ind[i], ShapeToString(def));
    int64_t rem = ind[i], off = 0, stride = 1;
    for (size_t d = def.size(); d-- > 0;) {
      int64_t c = rem % def[d];
      rem /= def[d];
      if (c >= out[d])
        return InvalidArgument("{}: index I[{}]={} lands outside output_shape {}", who, i, ind[i], ShapeToString(out));
      off += c * stride;
      stride *= out[d];
    }
    y[off] = X.data<T>()[i];
  }
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateMaxUnpoolRef(const KernelInfo& info) {
  std::string who = info.node.Describe();
  Node node = info.node;
  return MakeLambdaKernel([who, node](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.inputs[0];
    GREENAI_ASSIGN_OR_RETURN(auto a, nn::WindowAttrs::Parse(node, x.rank() - 2, {}, false));
    Shape def{x.dim(0), x.dim(1)};
    for (size_t i = 0; i < static_cast<size_t>(a.nsp); ++i)
      def.push_back(std::max<int64_t>(1, (x.shape()[i + 2] - 1) * a.strides[i] + a.kernel[i] - a.pads_begin[i] - a.pads_end[i]));
    Status st = Unimplemented("{}: dtype {} not supported", who, DTypeName(x.dtype()));
    GREENAI_NN_DISPATCH_FLOAT(x.dtype(), T, st = MaxUnpoolRef<T>(x, *ctx.inputs[1], *ctx.outputs[0], def, who));
    return st;
  });
}

}  // namespace

void AddPoolKernels(std::vector<KernelDef>& defs) {
  defs.push_back({"MaxPool", "", "any_maxpool__ref", 0, CreatePoolRef});
  defs.push_back({"AveragePool", "", "any_averagepool__ref", 0, CreatePoolRef});
  defs.push_back({"LpPool", "", "any_lppool__ref", 0, CreatePoolRef});
  defs.push_back({"MaxUnpool", "", "any_maxunpool__ref", 0, CreateMaxUnpoolRef});
  defs.push_back({"GlobalAveragePool", "", "any_globalaveragepool__ref", 0, CreateGlobalPoolRef});
  defs.push_back({"GlobalMaxPool", "", "any_globalmaxpool__ref", 0, CreateGlobalPoolRef});
  defs.push_back({"GlobalLpPool", "", "any_globallppool__ref", 0, CreateGlobalPoolRef});
}

}  // namespace greenai::refnn
