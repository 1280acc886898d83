// Op family: weight-only quantized ops of the runtime-internal domain "ai.greenai"
// (MatMulInt4). The contract of each op is in ops/weight_only.h.
#include "ops/weight_only.h"

#include "ops/op_table.h"

namespace greenai {
namespace {

struct Int4Geometry {
  int64_t K = 0, N = 0, block = 0, nb = 0;
};

Result<Int4Geometry> ParseInt4(const Node& n) {
  Int4Geometry g;
  g.K = n.GetInt("K", 0);
  g.N = n.GetInt("N", 0);
  g.block = n.GetInt("block_size", 0);
  if (g.K <= 0 || g.N <= 0 || g.block <= 0 || g.block % 2 != 0 || g.K > (int64_t{1} << 40) ||
      g.N > (int64_t{1} << 40) || g.block > (int64_t{1} << 20))
    return InvalidArgument("{}: K = {}, N = {}, block_size = {} (expects K, N > 0 and an even block_size > 0)",
                           n.Describe(), g.K, g.N, g.block);
  g.nb = (g.K + g.block - 1) / g.block;
  return g;
}

Status InferMatMulInt4(const InferContext& ctx, std::vector<TensorType>* outs) {
  const Node& n = ctx.node;
  GREENAI_ASSIGN_OR_RETURN(Int4Geometry g, ParseInt4(n));
  const TensorType& a = ctx.inputs[0];
  const TensorType& p = ctx.inputs[1];
  const TensorType& s = ctx.inputs[2];
  if (a.dtype != DType::kF32 || p.dtype != DType::kU8 || s.dtype != DType::kF32)
    return InvalidArgument("{}: A, P, S have dtypes {}, {}, {} (expects float32, uint8, float32)", n.Describe(),
                           DTypeName(a.dtype), DTypeName(p.dtype), DTypeName(s.dtype));
  const bool has_c = ctx.Has(3);
  if (has_c && ctx.inputs[3].dtype != DType::kF32)
    return InvalidArgument("{}: C has dtype {} (expects float32)", n.Describe(), DTypeName(ctx.inputs[3].dtype));
  const int64_t want_p = g.nb * g.block * g.N / 2;
  if (p.IsFullyKnown() && (p.rank() != 1 || p.dims[0] != want_p))
    return InvalidArgument("{}: P is {} (expects [{}] for K = {}, N = {}, block_size = {})", n.Describe(),
                           p.ToString(), want_p, g.K, g.N, g.block);
  if (s.IsFullyKnown() && TypeElements(s) != static_cast<double>(g.nb * g.N))
    return InvalidArgument("{}: S is {} (expects {} scales: [{}, 1, {}])", n.Describe(), s.ToString(), g.nb * g.N,
                           g.nb, g.N);
  (*outs)[0].dtype = DType::kF32;
  if (!a.has_shape) return Status::Ok();
  if (a.rank() < 1 || (has_c && a.rank() != 2))
    return InvalidArgument("{}: A is {} (expects rank >= 1, exactly 2 with C)", n.Describe(), a.ToString());
  if (a.dims.back() >= 0 && a.dims.back() != g.K)
    return InvalidArgument("{}: A is {} but K = {}", n.Describe(), a.ToString(), g.K);
  std::vector<int64_t> out(a.dims.begin(), a.dims.end() - 1);
  out.push_back(g.N);
  if (has_c && ctx.inputs[3].has_shape) {
    const TensorType& c = ctx.inputs[3];
    const int64_t M = a.dims[0];
    bool ok = c.rank() <= 2;
    if (ok && c.rank() >= 1 && c.dims.back() >= 0) ok = c.dims.back() == 1 || c.dims.back() == g.N;
    if (ok && c.rank() == 2 && c.dims[0] >= 0 && M >= 0) ok = c.dims[0] == 1 || c.dims[0] == M;
    if (!ok)
      return InvalidArgument("{}: C is {}, not broadcastable to [{}, {}]", n.Describe(), c.ToString(), M, g.N);
  }
  (*outs)[0] = TensorType::Of(DType::kF32, out);
  return Status::Ok();
}

OpCost CostMatMulInt4(const InferContext& ctx, const std::vector<TensorType>& outs) {
  OpCost c;
  for (const auto& in : ctx.inputs) c.bytes_read += TypeBytes(in);
  c.bytes_written = TypeBytes(outs[0]);
  const int64_t K = ctx.node.GetInt("K", 0);
  if (!outs[0].IsFullyKnown() || K <= 0) return c;
  c.macs = TypeElements(outs[0]) * static_cast<double>(K);
  c.flops = 2 * c.macs;
  return c;
}

}  // namespace

void AddWeightOnlyOps(std::vector<OpDef>& ops) {
  ops.push_back({kMatMulInt4, kGreenaiDomain, 1, 3, 4, 1, 1, InferMatMulInt4, CostMatMulInt4});
}

}  // namespace greenai
