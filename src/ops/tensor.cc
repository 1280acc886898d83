// Op family: tensor manipulation (data movement, indexing, layout). See ops/op_table.h
// for the contract each OpDef follows and ops/tensor_internal.h for the shared helpers.
#include "ops/shape_util.h"
#include "ops/tensor_internal.h"

namespace greenai {

namespace tensorops {

OpCost MoveCost(const InferContext& ctx, const std::vector<TensorType>& outputs) {
  OpCost c;
  for (const auto& in : ctx.inputs) c.bytes_read += TypeBytes(in);
  for (const auto& o : outputs) c.bytes_written += TypeBytes(o);
  return c;
}

OpCost SubsetCost(const InferContext& ctx, const std::vector<TensorType>& outputs) {
  OpCost c;
  for (size_t i = 1; i < ctx.inputs.size(); ++i) c.bytes_read += TypeBytes(ctx.inputs[i]);
  for (const auto& o : outputs) {
    c.bytes_written += TypeBytes(o);
    c.bytes_read += TypeBytes(o);
  }
  return c;
}

OpCost WriteOnlyCost(const InferContext&, const std::vector<TensorType>& outputs) {
  OpCost c;
  for (const auto& o : outputs) c.bytes_written += TypeBytes(o);
  return c;
}

std::optional<std::vector<int64_t>> ValueInts(const InferContext& ctx, size_t i) {
  if (!ctx.Has(i)) return std::nullopt;
  const Tensor* t = ctx.Value(i);
  if (!t) return std::nullopt;
  return TensorToInts(*t);
}

std::optional<std::vector<int64_t>> IntsFromAttrOrInput(const Node& n, const std::string& attr,
                                                        const Tensor* input) {
  if (input) return TensorToInts(*input);
  if (n.HasAttr(attr)) return n.GetInts(attr);
  return std::nullopt;
}

}  // namespace tensorops

void AddTensorOps(std::vector<OpDef>& ops) {
  tensorops::AddShapeOps(ops);
  tensorops::AddIndexOps(ops);
  tensorops::AddLayoutOps(ops);
}

}  // namespace greenai
