#include "ops/layout.h"

namespace greenai {

bool IsChannelsLast(const Node& n) { return n.GetString(kAttrLayout, "") == "NHWC"; }

namespace {
template <typename V>
V Permute(const V& v, const int (&perm)[4]) {
  if (v.size() != 4) return v;
  V out(4);
  for (int i = 0; i < 4; ++i) out[static_cast<size_t>(i)] = v[static_cast<size_t>(perm[i])];
  return out;
}
constexpr int kToNhwc[4] = {0, 2, 3, 1};
constexpr int kToNchw[4] = {0, 3, 1, 2};

TensorType PermuteType(const TensorType& t, const int (&perm)[4]) {
  if (!t.has_shape || t.rank() != 4) return t;
  TensorType r = t;
  r.dims = Permute(t.dims, perm);
  if (t.dim_params.size() == 4) r.dim_params = Permute(t.dim_params, perm);
  return r;
}
}  // namespace

TensorType NchwToNhwc(const TensorType& t) { return PermuteType(t, kToNhwc); }
TensorType NhwcToNchw(const TensorType& t) { return PermuteType(t, kToNchw); }

Status InferNodeTypesLaidOut(const OpDef& def, const InferContext& ctx, std::vector<TensorType>* outputs) {
  if (!IsChannelsLast(ctx.node)) return InferNodeTypes(def, ctx, outputs);
  if (ctx.inputs.empty() || (ctx.inputs[0].has_shape && ctx.inputs[0].rank() != 4))
    return InvalidArgument("{}: marked {} = NHWC but input 0 is not rank 4", ctx.node.Describe(), kAttrLayout);
  InferContext plain{ctx.node, ctx.opset, ctx.inputs, ctx.values};
  plain.inputs[0] = NhwcToNchw(ctx.inputs[0]);
  if (!plain.values.empty()) plain.values[0] = nullptr;  // a value would be in the wrong layout
  GREENAI_RETURN_IF_ERROR(InferNodeTypes(def, plain, outputs));
  if (!outputs->empty()) (*outputs)[0] = NchwToNhwc((*outputs)[0]);
  return Status::Ok();
}

}  // namespace greenai
