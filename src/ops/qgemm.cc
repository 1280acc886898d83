// Op family: the fused integer GEMM of the runtime-internal domain "ai.greenai" (QGemm). The
// contract is in ops/qgemm.h.
#include "ops/qgemm.h"

#include "ops/op_table.h"

namespace greenai {
namespace {

bool Is8(DType t) { return t == DType::kU8 || t == DType::kI8; }

// Elements of a known-shape input, or -1 when its shape is unknown.
int64_t KnownElements(const TensorType& t) {
  return t.IsFullyKnown() ? static_cast<int64_t>(TypeElements(t)) : -1;
}

Status InferQGemm(const InferContext& ctx, std::vector<TensorType>* outs) {
  const Node& n = ctx.node;
  const TensorType& a = ctx.inputs[kQGemmA];
  const TensorType& b = ctx.inputs[kQGemmB];
  if (!ctx.Has(kQGemmYScale) || !ctx.Has(kQGemmYZero))
    return InvalidArgument("{}: y_scale and y_zero_point are required", n.Describe());
  const TensorType& ys = ctx.inputs[kQGemmYScale];
  const TensorType& yz = ctx.inputs[kQGemmYZero];
  if (!Is8(a.dtype) || !Is8(b.dtype) || !Is8(yz.dtype) || ys.dtype != DType::kF32)
    return InvalidArgument("{}: A, B, y_scale, y_zero_point have dtypes {}, {}, {}, {} (expects 8-bit, 8-bit, float32, "
                           "8-bit)",
                           n.Describe(), DTypeName(a.dtype), DTypeName(b.dtype), DTypeName(ys.dtype),
                           DTypeName(yz.dtype));
  if (ctx.Has(kQGemmAZero) && ctx.inputs[kQGemmAZero].dtype != a.dtype)
    return InvalidArgument("{}: a_zero_point has dtype {} but A has {}", n.Describe(),
                           DTypeName(ctx.inputs[kQGemmAZero].dtype), DTypeName(a.dtype));
  if (ctx.Has(kQGemmBZero) && ctx.inputs[kQGemmBZero].dtype != b.dtype)
    return InvalidArgument("{}: b_zero_point has dtype {} but B has {}", n.Describe(),
                           DTypeName(ctx.inputs[kQGemmBZero].dtype), DTypeName(b.dtype));
  if (ctx.Has(kQGemmBias) && ctx.inputs[kQGemmBias].dtype != DType::kI32)
    return InvalidArgument("{}: bias has dtype {} (expects int32)", n.Describe(),
                           DTypeName(ctx.inputs[kQGemmBias].dtype));
  (*outs)[0].dtype = yz.dtype;
  if (b.has_shape && b.rank() != 2)
    return InvalidArgument("{}: B is {} (expects a 2-D [K, N] matrix)", n.Describe(), b.ToString());
  const int64_t N = b.has_shape ? b.dims[1] : -1;
  const int64_t nys = KnownElements(ys), nyz = KnownElements(yz);
  if (nys >= 0 && nyz >= 0 && nys != nyz)
    return InvalidArgument("{}: y_scale has {} elements but y_zero_point {}", n.Describe(), nys, nyz);
  if (N >= 0) {
    if (nys > 1 && nys != N)
      return InvalidArgument("{}: y_scale has {} elements (expects 1 or N = {})", n.Describe(), nys, N);
    const int64_t nzb = ctx.Has(kQGemmBZero) ? KnownElements(ctx.inputs[kQGemmBZero]) : 1;
    if (nzb > 1 && nzb != N)
      return InvalidArgument("{}: b_zero_point has {} elements (expects 1 or N = {})", n.Describe(), nzb, N);
    if (ctx.Has(kQGemmBias)) {
      const TensorType& bias = ctx.inputs[kQGemmBias];
      if (bias.has_shape && (bias.rank() != 1 || (bias.dims[0] >= 0 && bias.dims[0] != N)))
        return InvalidArgument("{}: bias is {} (expects [{}])", n.Describe(), bias.ToString(), N);
    }
  }
  if (ctx.Has(kQGemmAZero) && KnownElements(ctx.inputs[kQGemmAZero]) > 1)
    return InvalidArgument("{}: a_zero_point must have one element", n.Describe());
  if (!a.has_shape || !b.has_shape) return Status::Ok();
  if (a.rank() < 1) return InvalidArgument("{}: A is a scalar (expects rank >= 1)", n.Describe());
  if (a.dims.back() >= 0 && b.dims[0] >= 0 && a.dims.back() != b.dims[0])
    return InvalidArgument("{}: A is {} but B is {} (A's last dim must equal B's rows)", n.Describe(), a.ToString(),
                           b.ToString());
  std::vector<int64_t> out(a.dims.begin(), a.dims.end() - 1);
  out.push_back(N);
  (*outs)[0] = TensorType::Of(yz.dtype, out);
  return Status::Ok();
}

// MACs of the GEMM plus the requantization (divide, round, add, clamp) per output, like
// QLinearMatMul's cost.
OpCost CostQGemm(const InferContext& ctx, const std::vector<TensorType>& outs) {
  OpCost c;
  for (const auto& in : ctx.inputs) c.bytes_read += TypeBytes(in);
  c.bytes_written = TypeBytes(outs[0]);
  const TensorType& a = ctx.inputs[kQGemmA];
  if (!a.IsFullyKnown() || !outs[0].IsFullyKnown() || a.dims.empty()) return c;
  c.macs = TypeElements(outs[0]) * static_cast<double>(a.dims.back());
  c.flops = 2 * c.macs + 4 * TypeElements(outs[0]);
  return c;
}

}  // namespace

void AddQGemmOps(std::vector<OpDef>& ops) {
  // Inputs 2..4 are optional (empty names); y_scale and y_zero_point are checked by InferQGemm.
  ops.push_back({kQGemm, kGreenaiDomain, 1, 2, 7, 1, 1, InferQGemm, CostQGemm});
}

}  // namespace greenai
