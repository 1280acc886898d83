// Op family: nn (Conv, ConvTranspose, Gemm, MatMul here; pools and norms in nn_pool.cc and
// nn_norm.cc). See ops/op_table.h for the contract each OpDef follows.
#include <algorithm>

#include "ops/conv_add.h"
#include "ops/nn_util.h"
#include "ops/op_table.h"
#include "ops/shape_util.h"

namespace greenai {
namespace nn {

Status CheckFloatInput(const InferContext& ctx, size_t i, const char* what) {
  DType t = ctx.inputs[i].dtype;
  if (!IsFloatDType(t))
    return InvalidArgument("{}: input {} has dtype {} (expects a float type)", ctx.node.Describe(), what,
                           DTypeName(t));
  return Status::Ok();
}

double InputBytes(const InferContext& ctx) {
  double b = 0;
  for (const auto& t : ctx.inputs) b += TypeBytes(t);
  return b;
}

double OutputBytes(const std::vector<TensorType>& outs) {
  double b = 0;
  for (const auto& t : outs) b += TypeBytes(t);
  return b;
}

}  // namespace nn

namespace {

using nn::Prod;

Status SameDType(const InferContext& ctx, size_t i, const char* what) {
  if (ctx.Has(i) && ctx.inputs[i].dtype != ctx.inputs[0].dtype)
    return InvalidArgument("{}: input {} has dtype {} but X has {} (expects the same)", ctx.node.Describe(), what,
                           DTypeName(ctx.inputs[i].dtype), DTypeName(ctx.inputs[0].dtype));
  return Status::Ok();
}

std::vector<int64_t> Spatial(const TensorType& t) {
  return std::vector<int64_t>(t.dims.begin() + 2, t.dims.end());
}

// ---------------- Conv ----------------

Status InferConv(const InferContext& ctx, std::vector<TensorType>* outs) {
  const Node& n = ctx.node;
  GREENAI_RETURN_IF_ERROR(nn::CheckFloatInput(ctx, 0, "X"));
  GREENAI_RETURN_IF_ERROR(SameDType(ctx, 1, "W"));
  GREENAI_RETURN_IF_ERROR(SameDType(ctx, 2, "B"));
  const TensorType& x = ctx.inputs[0];
  const TensorType& w = ctx.inputs[1];
  (*outs)[0].dtype = x.dtype;
  if (!x.has_shape || !w.has_shape) return Status::Ok();
  if (x.rank() < 3) return InvalidArgument("{}: input X has rank {} (expects >= 3: N, C, spatial...)", n.Describe(), x.rank());
  if (w.rank() != x.rank())
    return InvalidArgument("{}: weight W has rank {} but X has rank {} (expects equal)", n.Describe(), w.rank(), x.rank());
  int64_t group = n.GetInt("group", 1);
  if (group < 1) return InvalidArgument("{}: group={} must be >= 1", n.Describe(), group);
  int64_t c = x.dims[1], m = w.dims[0];
  if (c >= 0 && w.dims[1] >= 0 && c != w.dims[1] * group)
    return InvalidArgument("{}: X has {} channels but W expects {} x group {} = {}", n.Describe(), c, w.dims[1], group,
                           w.dims[1] * group);
  if (m >= 0 && m % group != 0)
    return InvalidArgument("{}: W has {} output channels, not divisible by group {}", n.Describe(), m, group);
  if (ctx.Has(2) && ctx.inputs[2].has_shape &&
      (ctx.inputs[2].rank() != 1 || (m >= 0 && ctx.inputs[2].dims[0] >= 0 && ctx.inputs[2].dims[0] != m)))
    return InvalidArgument("{}: bias B has shape {} (expects [{}])", n.Describe(), ctx.inputs[2].ToString(), m);
  int nsp = x.rank() - 2;
  GREENAI_ASSIGN_OR_RETURN(auto attrs, nn::WindowAttrs::Parse(n, nsp, Spatial(w), false));
  GREENAI_ASSIGN_OR_RETURN(auto g, nn::ComputeForward(n, attrs, Spatial(x)));
  Shape out{x.dims[0], m};
  out.insert(out.end(), g.out.begin(), g.out.end());
  (*outs)[0] = TensorType::Of(x.dtype, out);
  return Status::Ok();
}

OpCost CostConv(const InferContext& ctx, const std::vector<TensorType>& outs) {
  OpCost c;
  c.bytes_read = nn::InputBytes(ctx);
  c.bytes_written = nn::OutputBytes(outs);
  const TensorType& w = ctx.inputs[1];
  if (!outs[0].IsFullyKnown() || !w.IsFullyKnown()) return c;
  // Each output element: W[1] (= Cin/group) * prod(kernel) MACs.
  double out_el = TypeElements(outs[0]);
  c.macs = out_el * static_cast<double>(Prod(w.dims, 1));
  c.flops = 2 * c.macs + (ctx.Has(2) ? out_el : 0);
  return c;
}

// ---------------- ConvAdd (ai.greenai, ops/conv_add.h) ----------------

Status InferConvAdd(const InferContext& ctx, std::vector<TensorType>* outs) {
  const Node& n = ctx.node;
  // B (input 2) may be omitted, so the op table's minimum is 2; Z is required here.
  if (!ctx.Has(kConvAddZ)) return InvalidArgument("{}: the residual input Z (input 3) is required", n.Describe());
  InferContext conv{n, ctx.opset, {ctx.inputs.begin(), ctx.inputs.begin() + kConvAddZ}, {}};
  if (ctx.values.size() >= kConvAddZ) conv.values.assign(ctx.values.begin(), ctx.values.begin() + kConvAddZ);
  GREENAI_RETURN_IF_ERROR(InferConv(conv, outs));
  const TensorType& z = ctx.inputs[kConvAddZ];
  const TensorType& y = (*outs)[0];
  if (z.dtype != y.dtype)
    return InvalidArgument("{}: residual Z has dtype {} but the convolution gives {} (expects the same)", n.Describe(),
                           DTypeName(z.dtype), DTypeName(y.dtype));
  if (z.IsFullyKnown() && y.IsFullyKnown() && z.dims != y.dims)
    return InvalidArgument("{}: residual Z has shape {} but the convolution gives {} (expects the same)", n.Describe(),
                           z.ToString(), y.ToString());
  return Status::Ok();
}

// The convolution's cost, plus reading Z (counted in InputBytes) and one add per output.
OpCost CostConvAdd(const InferContext& ctx, const std::vector<TensorType>& outs) {
  OpCost c = CostConv(ctx, outs);
  if (outs[0].IsFullyKnown()) c.flops += TypeElements(outs[0]);
  return c;
}

// ---------------- ConvTranspose ----------------

Status InferConvTranspose(const InferContext& ctx, std::vector<TensorType>* outs) {
  const Node& n = ctx.node;
  GREENAI_RETURN_IF_ERROR(nn::CheckFloatInput(ctx, 0, "X"));
  GREENAI_RETURN_IF_ERROR(SameDType(ctx, 1, "W"));
  GREENAI_RETURN_IF_ERROR(SameDType(ctx, 2, "B"));
  const TensorType& x = ctx.inputs[0];
  const TensorType& w = ctx.inputs[1];
  (*outs)[0].dtype = x.dtype;
  if (!x.has_shape || !w.has_shape) return Status::Ok();
  if (x.rank() < 3) return InvalidArgument("{}: input X has rank {} (expects >= 3: N, C, spatial...)", n.Describe(), x.rank());
  if (w.rank() != x.rank())
    return InvalidArgument("{}: weight W has rank {} but X has rank {} (expects equal)", n.Describe(), w.rank(), x.rank());
  int64_t group = n.GetInt("group", 1);
  if (group < 1) return InvalidArgument("{}: group={} must be >= 1", n.Describe(), group);
  int64_t c = x.dims[1];
  if (c >= 0 && w.dims[0] >= 0 && c != w.dims[0])
    return InvalidArgument("{}: X has {} channels but W has {} input channels (expects equal)", n.Describe(), c, w.dims[0]);
  if (c >= 0 && c % group != 0)
    return InvalidArgument("{}: X has {} channels, not divisible by group {}", n.Describe(), c, group);
  int64_t m = w.dims[1] >= 0 ? w.dims[1] * group : -1;
  if (ctx.Has(2) && ctx.inputs[2].has_shape &&
      (ctx.inputs[2].rank() != 1 || (m >= 0 && ctx.inputs[2].dims[0] >= 0 && ctx.inputs[2].dims[0] != m)))
    return InvalidArgument("{}: bias B has shape {} (expects [{}])", n.Describe(), ctx.inputs[2].ToString(), m);
  int nsp = x.rank() - 2;
  GREENAI_ASSIGN_OR_RETURN(auto attrs, nn::WindowAttrs::Parse(n, nsp, Spatial(w), true));
  GREENAI_ASSIGN_OR_RETURN(auto g, nn::ComputeTranspose(n, attrs, Spatial(x)));
  Shape out{x.dims[0], m};
  out.insert(out.end(), g.out.begin(), g.out.end());
  (*outs)[0] = TensorType::Of(x.dtype, out);
  return Status::Ok();
}

OpCost CostConvTranspose(const InferContext& ctx, const std::vector<TensorType>& outs) {
  OpCost c;
  c.bytes_read = nn::InputBytes(ctx);
  c.bytes_written = nn::OutputBytes(outs);
  const TensorType& x = ctx.inputs[0];
  const TensorType& w = ctx.inputs[1];
  if (!x.IsFullyKnown() || !w.IsFullyKnown() || !outs[0].IsFullyKnown()) return c;
  // Every input element scatters into Cout/group * prod(kernel) outputs.
  c.macs = TypeElements(x) * static_cast<double>(Prod(w.dims, 1));
  c.flops = 2 * c.macs + (ctx.Has(2) ? TypeElements(outs[0]) : 0);
  return c;
}

// ---------------- Gemm ----------------

bool GemmType(DType t) {
  return t == DType::kF32 || t == DType::kF64 || t == DType::kF16 || t == DType::kBF16 || t == DType::kI32 ||
         t == DType::kI64 || t == DType::kU32 || t == DType::kU64;
}

Status InferGemm(const InferContext& ctx, std::vector<TensorType>* outs) {
  const Node& n = ctx.node;
  const TensorType& a = ctx.inputs[0];
  const TensorType& b = ctx.inputs[1];
  if (!GemmType(a.dtype))
    return InvalidArgument("{}: input A has dtype {} (expects float or 32/64-bit int)", n.Describe(), DTypeName(a.dtype));
  GREENAI_RETURN_IF_ERROR(SameDType(ctx, 1, "B"));
  GREENAI_RETURN_IF_ERROR(SameDType(ctx, 2, "C"));
  (*outs)[0].dtype = a.dtype;
  if (!a.has_shape || !b.has_shape) return Status::Ok();
  if (a.rank() != 2 || b.rank() != 2)
    return InvalidArgument("{}: A is {} and B is {} (expects both 2-D)", n.Describe(), a.ToString(), b.ToString());
  bool ta = n.GetInt("transA", 0) != 0, tb = n.GetInt("transB", 0) != 0;
  int64_t m = ta ? a.dims[1] : a.dims[0], ka = ta ? a.dims[0] : a.dims[1];
  int64_t kb = tb ? b.dims[1] : b.dims[0], nn_ = tb ? b.dims[0] : b.dims[1];
  if (ka >= 0 && kb >= 0 && ka != kb)
    return InvalidArgument("{}: inner dims differ: A gives K={} and B gives K={} (transA={}, transB={})", n.Describe(),
                           ka, kb, ta, tb);
  if (ctx.Has(2) && ctx.inputs[2].has_shape) {
    const auto& cd = ctx.inputs[2].dims;
    if (cd.size() > 2) return InvalidArgument("{}: C has rank {} (expects <= 2)", n.Describe(), cd.size());
    // C must broadcast to [M, N] unidirectionally.
    std::vector<int64_t> mn{m, nn_};
    for (size_t i = 0; i < cd.size(); ++i) {
      int64_t want = mn[2 - cd.size() + i];
      if (cd[i] >= 0 && want >= 0 && cd[i] != 1 && cd[i] != want)
        return InvalidArgument("{}: C has shape {} which does not broadcast to [{}, {}]", n.Describe(),
                               ctx.inputs[2].ToString(), m, nn_);
    }
  }
  (*outs)[0] = TensorType::Of(a.dtype, {m, nn_});
  return Status::Ok();
}

OpCost CostGemm(const InferContext& ctx, const std::vector<TensorType>& outs) {
  OpCost c;
  c.bytes_read = nn::InputBytes(ctx);
  c.bytes_written = nn::OutputBytes(outs);
  const TensorType& a = ctx.inputs[0];
  if (!a.IsFullyKnown() || !outs[0].IsFullyKnown()) return c;
  bool ta = ctx.node.GetInt("transA", 0) != 0;
  double k = static_cast<double>(ta ? a.dims[0] : a.dims[1]);
  double mn = TypeElements(outs[0]);
  c.macs = mn * k;
  c.flops = 2 * c.macs + (ctx.Has(2) ? mn : 0);
  return c;
}

// ---------------- MatMul ----------------

bool MatMulType(DType t) { return GemmType(t); }

Status InferMatMul(const InferContext& ctx, std::vector<TensorType>* outs) {
  const Node& n = ctx.node;
  const TensorType& a = ctx.inputs[0];
  const TensorType& b = ctx.inputs[1];
  if (!MatMulType(a.dtype))
    return InvalidArgument("{}: input A has dtype {} (expects float or 32/64-bit int)", n.Describe(), DTypeName(a.dtype));
  GREENAI_RETURN_IF_ERROR(SameDType(ctx, 1, "B"));
  (*outs)[0].dtype = a.dtype;
  if (!a.has_shape || !b.has_shape) return Status::Ok();
  if (a.rank() < 1 || b.rank() < 1)
    return InvalidArgument("{}: A is {} and B is {} (scalars are not allowed)", n.Describe(), a.ToString(), b.ToString());
  std::vector<int64_t> ad = a.dims, bd = b.dims;
  bool a1 = ad.size() == 1, b1 = bd.size() == 1;
  if (a1) ad.insert(ad.begin(), 1);
  if (b1) bd.push_back(1);
  int64_t ka = ad.back(), kb = bd[bd.size() - 2];
  if (ka >= 0 && kb >= 0 && ka != kb)
    return InvalidArgument("{}: A is {} and B is {}: inner dims {} and {} differ", n.Describe(), a.ToString(),
                           b.ToString(), ka, kb);
  std::vector<int64_t> abatch(ad.begin(), ad.end() - 2), bbatch(bd.begin(), bd.end() - 2);
  GREENAI_ASSIGN_OR_RETURN(auto batch, BroadcastDims({abatch, bbatch}, n.Describe()));
  Shape out = batch;
  if (!a1) out.push_back(ad[ad.size() - 2]);
  if (!b1) out.push_back(bd.back());
  (*outs)[0] = TensorType::Of(a.dtype, out);
  return Status::Ok();
}

OpCost CostMatMul(const InferContext& ctx, const std::vector<TensorType>& outs) {
  OpCost c;
  c.bytes_read = nn::InputBytes(ctx);
  c.bytes_written = nn::OutputBytes(outs);
  const TensorType& a = ctx.inputs[0];
  if (!a.IsFullyKnown() || !outs[0].IsFullyKnown()) return c;
  c.macs = TypeElements(outs[0]) * static_cast<double>(a.dims.back());
  c.flops = 2 * c.macs;
  return c;
}

}  // namespace

void AddNnOps(std::vector<OpDef>& ops) {
  ops.push_back({"Conv", "", 1, 2, 3, 1, 1, InferConv, CostConv});
  ops.push_back({"ConvTranspose", "", 1, 2, 3, 1, 1, InferConvTranspose, CostConvTranspose});
  ops.push_back({kConvAdd, kGreenaiDomain, 1, 2, 4, 1, 1, InferConvAdd, CostConvAdd});
  ops.push_back({"Gemm", "", 1, 2, 3, 1, 1, InferGemm, CostGemm});
  ops.push_back({"MatMul", "", 1, 2, 2, 1, 1, InferMatMul, CostMatMul});
  nn::AddPoolOps(ops);
  nn::AddNormOps(ops);
}

}  // namespace greenai
