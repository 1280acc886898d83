// Op family: quant (QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear, MatMulInteger,
// QLinearMatMul, ConvInteger, QLinearConv). See ops/op_table.h for the contract each OpDef
// follows. Integer ops report MACs like their float counterparts so the cost model can
// compare an int8 graph with the float one.
#include "ops/op_table.h"
#include "ops/quant_util.h"
#include "ops/shape_util.h"

namespace greenai {

namespace {

using quant::CheckQuantParams;

bool IsInt8(DType t) { return t == DType::kU8 || t == DType::kI8; }

Status ExpectInt8(const InferContext& ctx, size_t i, const char* what) {
  if (!ctx.Has(i)) return Status::Ok();
  if (!IsInt8(ctx.inputs[i].dtype))
    return InvalidArgument("{}: {} has dtype {}, expects uint8 or int8", ctx.node.Describe(), what,
                           DTypeName(ctx.inputs[i].dtype));
  return Status::Ok();
}

// Same dtype as another input (zero points match their data).
Status ExpectSameType(const InferContext& ctx, size_t i, size_t j, const char* a, const char* b) {
  if (!ctx.Has(i) || !ctx.Has(j)) return Status::Ok();
  if (ctx.inputs[i].dtype != ctx.inputs[j].dtype)
    return InvalidArgument("{}: {} has dtype {} but {} has dtype {} (must match)", ctx.node.Describe(), a,
                           DTypeName(ctx.inputs[i].dtype), b, DTypeName(ctx.inputs[j].dtype));
  return Status::Ok();
}

Status InferQuantize(const InferContext& ctx, std::vector<TensorType>* out) {
  const auto& x = ctx.inputs[0];
  if (x.dtype != DType::kF32 && x.dtype != DType::kI32)
    return InvalidArgument("{}: x has dtype {}, expects float32 or int32", ctx.node.Describe(), DTypeName(x.dtype));
  TensorType zp = ctx.Has(2) ? ctx.inputs[2] : TensorType{};
  if (zp.dtype != DType::kUndefined && !IsInt8(zp.dtype))
    return InvalidArgument("{}: y_zero_point has dtype {}, expects uint8 or int8", ctx.node.Describe(),
                           DTypeName(zp.dtype));
  GREENAI_RETURN_IF_ERROR(CheckQuantParams(ctx.node, ctx.opset, x, ctx.inputs[1], zp, "y_scale", "y_zero_point",
                                           ctx.node.GetInt("axis", 1))
                              .status());
  (*out)[0] = x;
  (*out)[0].dtype = zp.dtype == DType::kUndefined ? DType::kU8 : zp.dtype;
  return Status::Ok();
}

Status InferDequantize(const InferContext& ctx, std::vector<TensorType>* out) {
  const auto& x = ctx.inputs[0];
  if (!IsInt8(x.dtype) && x.dtype != DType::kI32)
    return InvalidArgument("{}: x has dtype {}, expects uint8, int8 or int32", ctx.node.Describe(),
                           DTypeName(x.dtype));
  TensorType zp = ctx.Has(2) ? ctx.inputs[2] : TensorType{};
  GREENAI_RETURN_IF_ERROR(ExpectSameType(ctx, 0, 2, "x", "x_zero_point"));
  GREENAI_RETURN_IF_ERROR(CheckQuantParams(ctx.node, ctx.opset, x, ctx.inputs[1], zp, "x_scale", "x_zero_point",
                                           ctx.node.GetInt("axis", 1))
                              .status());
  (*out)[0] = x;
  (*out)[0].dtype = DType::kF32;
  return Status::Ok();
}

OpCost ElementwiseQuantCost(const InferContext& ctx, const std::vector<TensorType>& outs, double flops_per_elem) {
  OpCost c = DefaultCost(ctx, outs);
  c.flops = flops_per_elem * TypeElements(ctx.inputs[0]);
  return c;
}
// Quantize: divide, round, add zero point, clamp; Dequantize: subtract, multiply.
OpCost QuantizeCost(const InferContext& ctx, const std::vector<TensorType>& outs) {
  return ElementwiseQuantCost(ctx, outs, 4);
}
OpCost DequantizeCost(const InferContext& ctx, const std::vector<TensorType>& outs) {
  return ElementwiseQuantCost(ctx, outs, 2);
}
// One pass for min/max, one to quantize.
OpCost DynamicQuantizeCost(const InferContext& ctx, const std::vector<TensorType>& outs) {
  OpCost c = DefaultCost(ctx, outs);
  c.bytes_read *= 2;
  c.flops = 6 * TypeElements(ctx.inputs[0]);
  return c;
}

Status InferDynamicQuantize(const InferContext& ctx, std::vector<TensorType>* out) {
  if (ctx.inputs[0].dtype != DType::kF32)
    return InvalidArgument("{}: x has dtype {}, expects float32", ctx.node.Describe(),
                           DTypeName(ctx.inputs[0].dtype));
  (*out)[0] = ctx.inputs[0];
  (*out)[0].dtype = DType::kU8;
  if (out->size() > 1) (*out)[1] = TensorType::Of(DType::kF32, {});
  if (out->size() > 2) (*out)[2] = TensorType::Of(DType::kU8, {});
  return Status::Ok();
}

// Shared by MatMulInteger and QLinearMatMul: a at input ia, b at input ib.
Status InferIntMatMul(const InferContext& ctx, size_t ia, size_t ib, DType out_dtype, std::vector<TensorType>* out) {
  GREENAI_RETURN_IF_ERROR(ExpectInt8(ctx, ia, "A"));
  GREENAI_RETURN_IF_ERROR(ExpectInt8(ctx, ib, "B"));
  const auto& a = ctx.inputs[ia];
  const auto& b = ctx.inputs[ib];
  (*out)[0].dtype = out_dtype;
  if (!a.has_shape || !b.has_shape) return Status::Ok();
  int64_t k = 0;
  GREENAI_ASSIGN_OR_RETURN((*out)[0].dims, quant::MatMulDims(ctx.node, a.dims, b.dims, &k));
  (*out)[0].has_shape = true;
  return Status::Ok();
}

Status InferMatMulInteger(const InferContext& ctx, std::vector<TensorType>* out) {
  GREENAI_RETURN_IF_ERROR(ExpectSameType(ctx, 0, 2, "A", "a_zero_point"));
  GREENAI_RETURN_IF_ERROR(ExpectSameType(ctx, 1, 3, "B", "b_zero_point"));
  return InferIntMatMul(ctx, 0, 1, DType::kI32, out);
}

Status InferQLinearMatMul(const InferContext& ctx, std::vector<TensorType>* out) {
  GREENAI_RETURN_IF_ERROR(ExpectSameType(ctx, 0, 2, "a", "a_zero_point"));
  GREENAI_RETURN_IF_ERROR(ExpectSameType(ctx, 3, 5, "b", "b_zero_point"));
  GREENAI_RETURN_IF_ERROR(ExpectInt8(ctx, 7, "y_zero_point"));
  for (size_t i : {1u, 4u, 6u})
    if (ctx.inputs[i].dtype != DType::kF32)
      return InvalidArgument("{}: scale input {} has dtype {}, expects float32", ctx.node.Describe(), i,
                             DTypeName(ctx.inputs[i].dtype));
  return InferIntMatMul(ctx, 0, 3, ctx.inputs[7].dtype, out);
}

OpCost MatMulCost(const InferContext& ctx, const std::vector<TensorType>& outs, size_t ia) {
  OpCost c = DefaultCost(ctx, outs);
  const auto& a = ctx.inputs[ia];
  c.flops = 0;
  if (a.IsFullyKnown() && outs[0].IsFullyKnown()) {
    c.macs = TypeElements(outs[0]) * static_cast<double>(a.dims.back());
    c.flops = 2 * c.macs;
  }
  return c;
}
OpCost MatMulIntegerCost(const InferContext& ctx, const std::vector<TensorType>& outs) {
  return MatMulCost(ctx, outs, 0);
}
// Plus the requantization: one multiply, round, add and clamp per output.
OpCost QLinearMatMulCost(const InferContext& ctx, const std::vector<TensorType>& outs) {
  OpCost c = MatMulCost(ctx, outs, 0);
  c.flops += 3 * TypeElements(outs[0]);
  return c;
}

// Shared by ConvInteger (x=0, w=1) and QLinearConv (x=0, w=3).
Status InferIntConv(const InferContext& ctx, size_t iw, DType out_dtype, std::vector<TensorType>* out) {
  GREENAI_RETURN_IF_ERROR(ExpectInt8(ctx, 0, "x"));
  GREENAI_RETURN_IF_ERROR(ExpectInt8(ctx, iw, "w"));
  const auto& x = ctx.inputs[0];
  const auto& w = ctx.inputs[iw];
  (*out)[0].dtype = out_dtype;
  if (!x.has_shape || !w.has_shape) return Status::Ok();
  GREENAI_ASSIGN_OR_RETURN(quant::ConvGeom g, quant::ComputeConvGeom(ctx.node, x.dims, w.dims));
  (*out)[0].has_shape = true;
  (*out)[0].dims = {g.batch, g.out_channels};
  for (int64_t d : g.out_sp) (*out)[0].dims.push_back(d);
  return Status::Ok();
}

// Per-output-channel weight parameters: scalar or [M].
Status CheckPerChannel(const InferContext& ctx, size_t i, size_t iw, const char* what) {
  if (!ctx.Has(i) || !ctx.inputs[i].has_shape || !ctx.inputs[iw].has_shape) return Status::Ok();
  const auto& t = ctx.inputs[i];
  const int64_t m = ctx.inputs[iw].dims.empty() ? -1 : ctx.inputs[iw].dims[0];
  const bool ok = t.rank() == 0 || (t.rank() == 1 && (t.dims[0] == 1 || t.dims[0] == m || m < 0));
  if (!ok)
    return InvalidArgument("{}: {} has shape {}, expects a scalar or [{}] (one per output channel)",
                           ctx.node.Describe(), what, ShapeToString(t.dims), m);
  return Status::Ok();
}

Status CheckScalar(const InferContext& ctx, size_t i, const char* what) {
  if (!ctx.Has(i) || !ctx.inputs[i].has_shape) return Status::Ok();
  const auto& t = ctx.inputs[i];
  if (!(t.rank() == 0 || (t.rank() == 1 && t.dims[0] == 1)))
    return InvalidArgument("{}: {} has shape {}, expects a scalar (per-tensor)", ctx.node.Describe(), what,
                           ShapeToString(t.dims));
  return Status::Ok();
}

Status InferConvInteger(const InferContext& ctx, std::vector<TensorType>* out) {
  GREENAI_RETURN_IF_ERROR(ExpectSameType(ctx, 0, 2, "x", "x_zero_point"));
  GREENAI_RETURN_IF_ERROR(ExpectSameType(ctx, 1, 3, "w", "w_zero_point"));
  GREENAI_RETURN_IF_ERROR(CheckScalar(ctx, 2, "x_zero_point"));
  GREENAI_RETURN_IF_ERROR(CheckPerChannel(ctx, 3, 1, "w_zero_point"));
  return InferIntConv(ctx, 1, DType::kI32, out);
}

Status InferQLinearConv(const InferContext& ctx, std::vector<TensorType>* out) {
  GREENAI_RETURN_IF_ERROR(ExpectSameType(ctx, 0, 2, "x", "x_zero_point"));
  GREENAI_RETURN_IF_ERROR(ExpectSameType(ctx, 3, 5, "w", "w_zero_point"));
  GREENAI_RETURN_IF_ERROR(ExpectInt8(ctx, 7, "y_zero_point"));
  GREENAI_RETURN_IF_ERROR(CheckScalar(ctx, 1, "x_scale"));
  GREENAI_RETURN_IF_ERROR(CheckScalar(ctx, 2, "x_zero_point"));
  GREENAI_RETURN_IF_ERROR(CheckPerChannel(ctx, 4, 3, "w_scale"));
  GREENAI_RETURN_IF_ERROR(CheckPerChannel(ctx, 5, 3, "w_zero_point"));
  GREENAI_RETURN_IF_ERROR(CheckScalar(ctx, 6, "y_scale"));
  GREENAI_RETURN_IF_ERROR(CheckScalar(ctx, 7, "y_zero_point"));
  if (ctx.Has(8)) {
    const auto& b = ctx.inputs[8];
    if (b.dtype != DType::kI32)
      return InvalidArgument("{}: bias B has dtype {}, expects int32", ctx.node.Describe(), DTypeName(b.dtype));
    const auto& w = ctx.inputs[3];
    if (b.has_shape && w.has_shape && !w.dims.empty() &&
        (b.rank() != 1 || (b.dims[0] >= 0 && w.dims[0] >= 0 && b.dims[0] != w.dims[0])))
      return InvalidArgument("{}: bias B has shape {}, expects [{}] (one per output channel)", ctx.node.Describe(),
                             ShapeToString(b.dims), w.dims[0]);
  }
  return InferIntConv(ctx, 3, ctx.inputs[7].dtype, out);
}

OpCost ConvCost(const InferContext& ctx, const std::vector<TensorType>& outs, size_t iw) {
  OpCost c = DefaultCost(ctx, outs);
  c.flops = 0;
  const auto& w = ctx.inputs[iw];
  if (w.IsFullyKnown() && outs[0].IsFullyKnown()) {
    double per_out = 1;
    for (size_t i = 1; i < w.dims.size(); ++i) per_out *= static_cast<double>(w.dims[i]);
    c.macs = TypeElements(outs[0]) * per_out;
    c.flops = 2 * c.macs;
  }
  return c;
}
OpCost ConvIntegerCost(const InferContext& ctx, const std::vector<TensorType>& outs) {
  return ConvCost(ctx, outs, 1);
}
OpCost QLinearConvCost(const InferContext& ctx, const std::vector<TensorType>& outs) {
  OpCost c = ConvCost(ctx, outs, 3);
  c.flops += 4 * TypeElements(outs[0]);  // bias add + requantization
  return c;
}

}  // namespace

void AddQuantOps(std::vector<OpDef>& ops) {
  ops.push_back({"QuantizeLinear", "", 10, 2, 3, 1, 1, InferQuantize, QuantizeCost});
  ops.push_back({"DequantizeLinear", "", 10, 2, 3, 1, 1, InferDequantize, DequantizeCost});
  ops.push_back({"DynamicQuantizeLinear", "", 11, 1, 1, 3, 3, InferDynamicQuantize, DynamicQuantizeCost});
  ops.push_back({"MatMulInteger", "", 10, 2, 4, 1, 1, InferMatMulInteger, MatMulIntegerCost});
  ops.push_back({"QLinearMatMul", "", 10, 8, 8, 1, 1, InferQLinearMatMul, QLinearMatMulCost});
  ops.push_back({"ConvInteger", "", 10, 2, 4, 1, 1, InferConvInteger, ConvIntegerCost});
  ops.push_back({"QLinearConv", "", 10, 8, 9, 1, 1, InferQLinearConv, QLinearConvCost});
}

}  // namespace greenai
