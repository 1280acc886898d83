// Op family: elementwise (unary math, activations, binary arithmetic/logic/comparison,
// variadic Sum/Mean/Min/Max, Where, Clip, Cast/CastLike). See ops/op_table.h for the
// contract each OpDef follows.
//
// FLOP convention: one FLOP per output element for each arithmetic operation, compare or
// select; each transcendental evaluation (exp, log, erf, tanh, sin, pow, ...) also counts
// as ONE FLOP, as fvcore and ptflops do, so composite activations count their parts:
// Sigmoid = exp + add + div = 3, Gelu = erf + 4 arithmetic = 5 (tanh form: 8),
// Softplus = exp + add + log = 3, Mish = softplus + tanh + mul = 5. Cast and CastLike move
// data only (0 FLOPs). Bytes: every input read once and every output written once.
#include <algorithm>
#include <cctype>

#include "ops/elementwise_internal.h"
#include "ops/shape_util.h"

namespace greenai {
namespace ew {

Result<DType> CastTarget(const Node& node) {
  const Attribute* a = node.FindAttr("to");
  if (!a) return InvalidArgument("{}: attribute 'to' is required", node.Describe());
  if (a->kind == Attribute::Kind::kString) {
    std::string s = a->s;
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    DType t = DTypeFromName(s);
    if (t == DType::kUndefined)
      return InvalidArgument("{}: 'to' names unknown type '{}'", node.Describe(), a->s);
    return t;
  }
  int64_t v = node.GetInt("to", 0);
  if (v < 0 || v > 1000 || !IsKnownDType(static_cast<int32_t>(v)))
    return Unimplemented("{}: 'to' = {} is not a supported element type", node.Describe(), v);
  return static_cast<DType>(v);
}

}  // namespace ew

namespace {

std::vector<int64_t> DimsOrUnknown(const TensorType& t) { return t.dims; }

// Output dtype `dtype` (kUndefined = input 0's), shape = broadcast of all present inputs
// in [first, last) (last = -1: all).
Status InferBroadcastImpl(const InferContext& ctx, std::vector<TensorType>* outputs, DType dtype, size_t first,
                          size_t last) {
  std::vector<std::vector<int64_t>> shapes;
  bool known_rank = true;
  for (size_t i = first; i < std::min(last, ctx.num_inputs()); ++i) {
    if (!ctx.Has(i)) continue;
    if (!ctx.inputs[i].has_shape) known_rank = false;
    else shapes.push_back(DimsOrUnknown(ctx.inputs[i]));
  }
  TensorType& o = (*outputs)[0];
  o.dtype = dtype == DType::kUndefined ? ctx.inputs[0].dtype : dtype;
  // Before opset 7, broadcast=1 with 'axis' aligned B at that axis of A. Numpy alignment
  // (trailing) is the same only when axis == rank(A) - rank(B); other cases are refused
  // rather than computed differently.
  if (ctx.opset != 0 && ctx.opset < 7 && ctx.node.GetInt("broadcast", 0) != 0 && ctx.node.HasAttr("axis") &&
      ctx.num_inputs() == 2 && ctx.inputs[0].has_shape && ctx.inputs[1].has_shape) {
    int64_t ra = ctx.inputs[0].rank(), rb = ctx.inputs[1].rank();
    int64_t axis = ctx.node.GetInt("axis", 0);
    if (axis < 0) axis += ra;
    if (axis != ra - rb)
      return Unimplemented("{}: legacy broadcast axis={} with ranks {} and {} is not supported (only trailing "
                           "alignment, axis={})", ctx.node.Describe(), axis, ra, rb, ra - rb);
  }
  if (!known_rank) return Status::Ok();
  GREENAI_ASSIGN_OR_RETURN(auto dims, BroadcastDims(shapes, ctx.node.Describe()));
  o.has_shape = true;
  o.dims = std::move(dims);
  return Status::Ok();
}

Status InferBroadcast(const InferContext& ctx, std::vector<TensorType>* outputs) {
  for (size_t i = 1; i < ctx.num_inputs(); ++i)
    if (ctx.Has(i) && ctx.inputs[i].dtype != ctx.inputs[0].dtype)
      return InvalidArgument("{}: input {} is {} but input 0 is {} (types must match)", ctx.node.Describe(), i,
                             DTypeName(ctx.inputs[i].dtype), DTypeName(ctx.inputs[0].dtype));
  return InferBroadcastImpl(ctx, outputs, DType::kUndefined, 0, static_cast<size_t>(-1));
}

// Pow and BitShift-like ops whose second input may have another type.
Status InferBroadcastMixed(const InferContext& ctx, std::vector<TensorType>* outputs) {
  return InferBroadcastImpl(ctx, outputs, DType::kUndefined, 0, static_cast<size_t>(-1));
}

Status InferCompare(const InferContext& ctx, std::vector<TensorType>* outputs) {
  if (ctx.inputs[1].dtype != ctx.inputs[0].dtype)
    return InvalidArgument("{}: input 1 is {} but input 0 is {} (types must match)", ctx.node.Describe(),
                           DTypeName(ctx.inputs[1].dtype), DTypeName(ctx.inputs[0].dtype));
  return InferBroadcastImpl(ctx, outputs, DType::kBool, 0, 2);
}

Status InferLogical(const InferContext& ctx, std::vector<TensorType>* outputs) {
  for (size_t i = 0; i < ctx.num_inputs(); ++i)
    if (ctx.Has(i) && ctx.inputs[i].dtype != DType::kBool)
      return InvalidArgument("{}: input {} is {} (expects bool)", ctx.node.Describe(), i,
                             DTypeName(ctx.inputs[i].dtype));
  return InferBroadcastImpl(ctx, outputs, DType::kBool, 0, 2);
}

Status InferUnaryBool(const InferContext& ctx, std::vector<TensorType>* outputs) {
  (*outputs)[0] = ctx.inputs[0];
  (*outputs)[0].dtype = DType::kBool;
  return Status::Ok();
}

Status InferNot(const InferContext& ctx, std::vector<TensorType>* outputs) {
  if (ctx.inputs[0].dtype != DType::kBool)
    return InvalidArgument("{}: input is {} (expects bool)", ctx.node.Describe(), DTypeName(ctx.inputs[0].dtype));
  return InferSameAsInput0(ctx, outputs);
}

Status InferPRelu(const InferContext& ctx, std::vector<TensorType>* outputs) {
  // Before opset 7 a 1-D slope of size C applies along the channel axis 1 (legacy
  // broadcasting); the kernel reshapes it, so only check the size here.
  const TensorType& x = ctx.inputs[0];
  const TensorType& s = ctx.inputs[1];
  if (ctx.opset != 0 && ctx.opset < 7 && x.has_shape && x.rank() > 2 && s.has_shape && s.rank() == 1) {
    if (s.dims[0] != 1 && x.dims[1] >= 0 && s.dims[0] >= 0 && s.dims[0] != x.dims[1])
      return InvalidArgument("{}: slope has {} elements but X has {} channels (opset < 7 per-channel slope)",
                             ctx.node.Describe(), s.dims[0], x.dims[1]);
    (*outputs)[0] = x;
    return Status::Ok();
  }
  // Slope broadcasts unidirectionally to X; the output has X's shape.
  std::vector<TensorType> tmp(1);
  GREENAI_RETURN_IF_ERROR(InferBroadcast(ctx, &tmp));
  (*outputs)[0] = ctx.inputs[0];
  if (ctx.inputs[0].IsFullyKnown() && tmp[0].IsFullyKnown() && tmp[0].dims != ctx.inputs[0].dims)
    return InvalidArgument("{}: slope shape does not broadcast to X {} (unidirectional)", ctx.node.Describe(),
                           ctx.inputs[0].ToString());
  return Status::Ok();
}

Status InferWhere(const InferContext& ctx, std::vector<TensorType>* outputs) {
  if (ctx.inputs[0].dtype != DType::kBool)
    return InvalidArgument("{}: condition is {} (expects bool)", ctx.node.Describe(), DTypeName(ctx.inputs[0].dtype));
  if (ctx.inputs[1].dtype != ctx.inputs[2].dtype)
    return InvalidArgument("{}: X is {} but Y is {} (types must match)", ctx.node.Describe(),
                           DTypeName(ctx.inputs[1].dtype), DTypeName(ctx.inputs[2].dtype));
  return InferBroadcastImpl(ctx, outputs, ctx.inputs[1].dtype, 0, 3);
}

Status InferCast(const InferContext& ctx, std::vector<TensorType>* outputs) {
  GREENAI_ASSIGN_OR_RETURN(DType to, ew::CastTarget(ctx.node));
  (*outputs)[0] = ctx.inputs[0];
  (*outputs)[0].dtype = to;
  return Status::Ok();
}

Status InferCastLike(const InferContext& ctx, std::vector<TensorType>* outputs) {
  (*outputs)[0] = ctx.inputs[0];
  (*outputs)[0].dtype = ctx.inputs[1].dtype;
  return Status::Ok();
}

Status InferClip(const InferContext& ctx, std::vector<TensorType>* outputs) {
  for (size_t i = 1; i < ctx.num_inputs(); ++i) {
    if (!ctx.Has(i)) continue;
    if (ctx.inputs[i].dtype != ctx.inputs[0].dtype)
      return InvalidArgument("{}: bound input {} is {} but input is {} (types must match)", ctx.node.Describe(), i,
                             DTypeName(ctx.inputs[i].dtype), DTypeName(ctx.inputs[0].dtype));
    if (ctx.inputs[i].IsFullyKnown() && TypeElements(ctx.inputs[i]) != 1)
      return InvalidArgument("{}: bound input {} has shape {} (expects a scalar)", ctx.node.Describe(), i,
                             ctx.inputs[i].ToString());
  }
  return InferSameAsInput0(ctx, outputs);
}

OpCost CastCost(const InferContext& ctx, const std::vector<TensorType>& outputs) {
  OpCost c = DefaultCost(ctx, outputs);
  c.flops = 0;
  return c;
}

// Variadic ops: N-1 binary operations per output element (Mean: plus one divide).
OpCost VariadicCost(const InferContext& ctx, const std::vector<TensorType>& outputs) {
  OpCost c = DefaultCost(ctx, outputs);
  double n = 0;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) n += ctx.Has(i) ? 1 : 0;
  double ops = std::max(n - 1, 0.0) + (ctx.node.op_type == "Mean" ? 1 : 0);
  c.flops = ops * TypeElements(outputs[0]);
  return c;
}

OpDef Unary(std::string_view name, int since, CostFn cost = nullptr, InferFn infer = InferSameAsInput0) {
  return OpDef{name, "", since, 1, 1, 1, 1, infer, cost};
}
OpDef Binary(std::string_view name, int since, InferFn infer = InferBroadcast, CostFn cost = nullptr) {
  return OpDef{name, "", since, 2, 2, 1, 1, infer, cost};
}

}  // namespace

void AddElementwiseOps(std::vector<OpDef>& ops) {
  using ew::CostPerOutput;
  // Unary math. Exact/arith ops: 1 FLOP; transcendental: 1 FLOP (see convention above).
  for (auto n : {"Abs", "Neg", "Reciprocal", "Sqrt", "Exp", "Log", "Floor", "Ceil", "Sign", "Erf", "Sin", "Cos",
                 "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Relu", "Tanh"})
    ops.push_back(Unary(n, 1));
  ops.push_back(Unary("Round", 11));
  ops.push_back(Unary("BitwiseNot", 18));
  ops.push_back(Unary("Not", 1, nullptr, InferNot));
  ops.push_back(Unary("IsNaN", 9, nullptr, InferUnaryBool));
  ops.push_back(Unary("IsInf", 10, nullptr, InferUnaryBool));
  // Activations (FLOPs per element count each arithmetic op and transcendental call).
  ops.push_back(Unary("LeakyRelu", 1, CostPerOutput<2>));      // compare, mul
  ops.push_back(Unary("ThresholdedRelu", 10, CostPerOutput<2>));
  ops.push_back(Unary("Elu", 1, CostPerOutput<4>));            // compare, exp, sub, mul
  ops.push_back(Unary("Selu", 1, CostPerOutput<5>));
  ops.push_back(Unary("Celu", 12, CostPerOutput<5>));
  ops.push_back(Unary("Sigmoid", 1, CostPerOutput<3>));        // exp, add, div
  ops.push_back(Unary("HardSigmoid", 1, CostPerOutput<4>));    // mul, add, min, max
  ops.push_back(Unary("HardSwish", 14, CostPerOutput<5>));
  ops.push_back(Unary("Gelu", 20, CostPerOutput<5>));          // erf, div, add, mul, mul
  ops.push_back(Unary("Softplus", 1, CostPerOutput<3>));       // exp, add, log
  ops.push_back(Unary("Softsign", 1, CostPerOutput<3>));       // abs, add, div
  ops.push_back(Unary("Mish", 18, CostPerOutput<5>));
  ops.push_back(Unary("Shrink", 9, CostPerOutput<3>));
  ops.push_back(OpDef{"Clip", "", 1, 1, 3, 1, 1, InferClip, CostPerOutput<2>});
  ops.push_back(Binary("PRelu", 1, InferPRelu, CostPerOutput<2>));
  // Binary arithmetic.
  for (auto n : {"Add", "Sub", "Mul", "Div"}) ops.push_back(Binary(n, 1));
  ops.push_back(Binary("Pow", 1, InferBroadcastMixed));
  ops.push_back(Binary("Mod", 10));
  ops.push_back(Binary("BitShift", 11));
  for (auto n : {"BitwiseAnd", "BitwiseOr", "BitwiseXor"}) ops.push_back(Binary(n, 18));
  for (auto n : {"And", "Or", "Xor"}) ops.push_back(Binary(n, 1, InferLogical));
  for (auto n : {"Equal", "Less", "Greater"}) ops.push_back(Binary(n, 1, InferCompare));
  for (auto n : {"LessOrEqual", "GreaterOrEqual"}) ops.push_back(Binary(n, 12, InferCompare));
  for (auto n : {"Sum", "Mean", "Min", "Max"})
    ops.push_back(OpDef{n, "", 1, 1, -1, 1, 1, InferBroadcast, VariadicCost});
  ops.push_back(OpDef{"Where", "", 9, 3, 3, 1, 1, InferWhere, CostPerOutput<1>});
  ops.push_back(OpDef{"Cast", "", 1, 1, 1, 1, 1, InferCast, CastCost});
  ops.push_back(OpDef{"CastLike", "", 15, 2, 2, 1, 1, InferCastLike, CastCost});
}

}  // namespace greenai
