// Kernel family ref_nn, part 3: reference normalization kernels (BatchNormalization inference
// and training mode, LayerNormalization with Mean/InvStdDev, InstanceNormalization,
// GroupNormalization). Statistics use a two-pass mean/variance in double for stability.
// See backends/cpu/kernel.h for the contract.
#include <cmath>

#include "backends/cpu/ref_nn_util.h"
#include "ops/shape_util.h"

namespace greenai::refnn {
namespace {

// Per-row mean and biased variance of x[r*len .. r*len+len).
template <typename T>
void RowStats(const T* x, int64_t len, int64_t stride_outer, int64_t outer, double* mean, double* var) {
  // Rows may be split into `outer` chunks of `len` contiguous elements `stride_outer` apart.
  double s = 0;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < len; ++i) s += Ld<double>(x[o * stride_outer + i]);
  double cnt = static_cast<double>(len * outer);
  double m = cnt > 0 ? s / cnt : 0;
  double v = 0;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < len; ++i) {
      double d = Ld<double>(x[o * stride_outer + i]) - m;
      v += d * d;
    }
  *mean = m;
  *var = cnt > 0 ? v / cnt : 0;
}

// ---------------- BatchNormalization ----------------

template <typename T, typename S>
void BatchNormRef(KernelContext& ctx, double eps, double momentum, bool training) {
  const Tensor& X = *ctx.inputs[0];
  const S* scale = ctx.inputs[1]->data<S>();
  const S* bias = ctx.inputs[2]->data<S>();
  const S* in_mean = ctx.inputs[3]->data<S>();
  const S* in_var = ctx.inputs[4]->data<S>();
  const int64_t N = X.dim(0), C = X.dim(1);
  const int64_t sp = X.numel() / std::max<int64_t>(N * C, 1);
  const T* x = X.data<T>();
  T* y = ctx.outputs[0]->data<T>();
  for (int64_t c = 0; c < C; ++c) {
    double mean = Ld<double>(in_mean[c]), var = Ld<double>(in_var[c]);
    if (training) {
      RowStats(x + c * sp, sp, C * sp, N, &mean, &var);
      if (ctx.outputs.size() > 1 && ctx.outputs[1])
        ctx.outputs[1]->data<S>()[c] = St<S>(Ld<double>(in_mean[c]) * momentum + mean * (1 - momentum));
      if (ctx.outputs.size() > 2 && ctx.outputs[2])
        ctx.outputs[2]->data<S>()[c] = St<S>(Ld<double>(in_var[c]) * momentum + var * (1 - momentum));
    }
    double a = Ld<double>(scale[c]) / std::sqrt(var + eps);
    double b = Ld<double>(bias[c]) - mean * a;
    for (int64_t n = 0; n < N; ++n) {
      const T* xs = x + (n * C + c) * sp;
      T* ys = y + (n * C + c) * sp;
      for (int64_t i = 0; i < sp; ++i) ys[i] = St<T>(Ld<double>(xs[i]) * a + b);
    }
  }
}

Result<std::unique_ptr<Kernel>> CreateBatchNormRef(const KernelInfo& info) {
  const Node& n = info.node;
  size_t nout = 0;
  for (size_t i = 0; i < n.outputs.size(); ++i) if (n.HasOutput(i)) nout = i + 1;
  bool training = info.opset >= 14 ? n.GetInt("training_mode", 0) != 0 : nout > 1;
  if (nout > 3)
    return Unimplemented("{}: saved_mean/saved_var outputs (opset < 14 training) are not supported", n.Describe());
  DType xt = info.input_types[0].dtype, st = info.input_types[1].dtype;
  for (size_t i = 2; i < 5; ++i)
    if (info.input_types[i].dtype != st)
      return Unimplemented("{}: scale/B/mean/var have mixed dtypes", n.Describe());
  if (xt != st && !(st == DType::kF32 && (xt == DType::kF16 || xt == DType::kBF16)))
    return Unimplemented("{}: X dtype {} with statistics dtype {}", n.Describe(), DTypeName(xt), DTypeName(st));
  double eps = n.GetFloat("epsilon", 1e-5f), mom = n.GetFloat("momentum", 0.9f);
  return MakeLambdaKernel([eps, mom, training, xt, st](KernelContext& ctx) -> Status {
    if (st == DType::kF32 && xt == DType::kF16) BatchNormRef<Float16, float>(ctx, eps, mom, training);
    else if (st == DType::kF32 && xt == DType::kBF16) BatchNormRef<BFloat16, float>(ctx, eps, mom, training);
    else GREENAI_NN_DISPATCH_FLOAT(xt, T, (BatchNormRef<T, T>(ctx, eps, mom, training)));
    return Status::Ok();
  });
}

// ---------------- LayerNormalization ----------------

// Expands a tensor broadcastable to `dims` into a dense vector of prod(dims) doubles.
template <typename T>
std::vector<double> ExpandTo(const Tensor& t, const Shape& dims) {
  const int64_t total = NumElements(dims);
  std::vector<double> out(static_cast<size_t>(total));
  const Shape& s = t.shape();
  const size_t r = dims.size(), lead = r - s.size();
  for (int64_t i = 0; i < total; ++i) {
    int64_t rem = i, off = 0, st = 1;
    for (size_t d = r; d-- > 0;) {
      int64_t idx = rem % dims[d];
      rem /= dims[d];
      if (d >= lead) {
        int64_t sd = s[d - lead];
        off += (sd == 1 ? 0 : idx) * st;
        st *= sd;
      }
    }
    out[static_cast<size_t>(i)] = Ld<double>(t.data<T>()[off]);
  }
  return out;
}

template <typename T>
Status LayerNormRef(KernelContext& ctx, int64_t axis_attr, double eps, const std::string& who) {
  const Tensor& X = *ctx.inputs[0];
  GREENAI_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(axis_attr, X.rank(), who));
  Shape nd(X.shape().begin() + axis, X.shape().end());
  const int64_t D = NumElements(nd), R = X.numel() / std::max<int64_t>(D, 1);
  std::vector<double> sc = ExpandTo<T>(*ctx.inputs[1], nd);
  std::vector<double> bi;
  if (ctx.inputs.size() > 2 && ctx.inputs[2]) bi = ExpandTo<T>(*ctx.inputs[2], nd);
  const T* x = X.data<T>();
  T* y = ctx.outputs[0]->data<T>();
  float* mean_out = ctx.outputs.size() > 1 && ctx.outputs[1] ? ctx.outputs[1]->data<float>() : nullptr;
  float* inv_out = ctx.outputs.size() > 2 && ctx.outputs[2] ? ctx.outputs[2]->data<float>() : nullptr;
  for (int64_t r = 0; r < R; ++r) {
    double mean, var;
    RowStats(x + r * D, D, 0, 1, &mean, &var);
    double inv = 1.0 / std::sqrt(var + eps);
    for (int64_t i = 0; i < D; ++i) {
      double v = (Ld<double>(x[r * D + i]) - mean) * inv * sc[static_cast<size_t>(i)];
      if (!bi.empty()) v += bi[static_cast<size_t>(i)];
      y[r * D + i] = St<T>(v);
    }
    if (mean_out) mean_out[r] = static_cast<float>(mean);
    if (inv_out) inv_out[r] = static_cast<float>(inv);
  }
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateLayerNormRef(const KernelInfo& info) {
  const Node& n = info.node;
  int64_t axis = n.GetInt("axis", -1);
  double eps = n.GetFloat("epsilon", 1e-5f);
  std::string who = n.Describe();
  return MakeLambdaKernel([axis, eps, who](KernelContext& ctx) -> Status {
    Status st = Unimplemented("{}: dtype {} not supported", who, DTypeName(ctx.inputs[0]->dtype()));
    GREENAI_NN_DISPATCH_FLOAT(ctx.inputs[0]->dtype(), T, st = LayerNormRef<T>(ctx, axis, eps, who));
    return st;
  });
}

// ---------------- InstanceNormalization / GroupNormalization ----------------

// Normalizes each of N*G contiguous groups of X; affine per channel (per_group=false, C params)
// or per group (per_group=true, G params).
template <typename T>
void GroupedNormRef(KernelContext& ctx, int64_t groups, bool per_group, double eps) {
  const Tensor& X = *ctx.inputs[0];
  const int64_t N = X.dim(0), C = X.dim(1);
  const int64_t sp = X.numel() / std::max<int64_t>(N * C, 1);
  const int64_t cpg = C / groups, len = cpg * sp;
  const T* x = X.data<T>();
  const T* scale = ctx.inputs[1]->data<T>();
  const T* bias = ctx.inputs[2]->data<T>();
  T* y = ctx.outputs[0]->data<T>();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t base = (n * groups + g) * len;
      double mean, var;
      RowStats(x + base, len, 0, 1, &mean, &var);
      double inv = 1.0 / std::sqrt(var + eps);
      for (int64_t c = 0; c < cpg; ++c) {
        int64_t pi = per_group ? g : g * cpg + c;
        double a = Ld<double>(scale[pi]) * inv, b = Ld<double>(bias[pi]);
        for (int64_t i = 0; i < sp; ++i) {
          int64_t k = base + c * sp + i;
          y[k] = St<T>((Ld<double>(x[k]) - mean) * a + b);
        }
      }
    }
}

Result<std::unique_ptr<Kernel>> CreateGroupedNormRef(const KernelInfo& info) {
  const Node& n = info.node;
  bool group_norm = n.op_type == "GroupNormalization";
  int64_t groups = group_norm ? n.GetInt("num_groups", 1) : 0;
  double eps = n.GetFloat("epsilon", 1e-5f);
  return MakeLambdaKernel([group_norm, groups, eps](KernelContext& ctx) -> Status {
    int64_t g = group_norm ? groups : ctx.inputs[0]->dim(1);
    GREENAI_NN_DISPATCH_FLOAT(ctx.inputs[0]->dtype(), T, GroupedNormRef<T>(ctx, g, group_norm, eps));
    return Status::Ok();
  });
}

}  // namespace

void AddNormKernels(std::vector<KernelDef>& defs) {
  defs.push_back({"BatchNormalization", "", "any_batchnormalization__ref", 0, CreateBatchNormRef});
  defs.push_back({"LayerNormalization", "", "any_layernormalization__ref", 0, CreateLayerNormRef});
  defs.push_back({"InstanceNormalization", "", "any_instancenormalization__ref", 0, CreateGroupedNormRef});
  defs.push_back({"GroupNormalization", "", "any_groupnormalization__ref", 0, CreateGroupedNormRef});
}

}  // namespace greenai::refnn
