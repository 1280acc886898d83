#include "ops/layout.h"

#include "ops/conv_add.h"

namespace greenai {

bool IsChannelsLast(const Node& n) { return n.GetString(kAttrLayout, "") == kLayoutNhwc; }
bool IsBlocked8(const Node& n) { return n.GetString(kAttrLayout, "") == kLayoutBlocked8; }
bool HasLayoutMark(const Node& n) { return IsChannelsLast(n) || IsBlocked8(n); }
bool LaidOutInput(const Node& n, size_t i) {
  return i == 0 || (i == kConvAddZ && n.domain == kGreenaiDomain && n.op_type == kConvAdd);
}

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

TensorType NchwToBlocked(const TensorType& t) {
  if (!t.has_shape || t.rank() != 4 || t.dims[1] < 0 || t.dims[1] % kBlock != 0) return t;
  TensorType r = t;
  r.dims = {t.dims[0], t.dims[1] / kBlock, t.dims[2], t.dims[3], kBlock};
  if (t.dim_params.size() == 4) r.dim_params = {t.dim_params[0], "", t.dim_params[2], t.dim_params[3], ""};
  return r;
}

TensorType BlockedToNchw(const TensorType& t) {
  if (!t.has_shape || t.rank() != 5 || t.dims[4] != kBlock) return t;
  TensorType r = t;
  r.dims = {t.dims[0], t.dims[1] < 0 ? -1 : t.dims[1] * kBlock, t.dims[2], t.dims[3]};
  if (t.dim_params.size() == 5) r.dim_params = {t.dim_params[0], "", t.dim_params[2], t.dim_params[3]};
  return r;
}

Status InferNodeTypesLaidOut(const OpDef& def, const InferContext& ctx, std::vector<TensorType>* outputs) {
  if (IsBlocked8(ctx.node)) {
    if (ctx.inputs.empty() || (ctx.inputs[0].has_shape && ctx.inputs[0].rank() != 4 && ctx.inputs[0].rank() != 5))
      return InvalidArgument("{}: marked {} = {} but input 0 is not rank 4 or 5", ctx.node.Describe(), kAttrLayout,
                             kLayoutBlocked8);
    InferContext plain{ctx.node, ctx.opset, ctx.inputs, ctx.values};
    if (ctx.inputs[0].has_shape && ctx.inputs[0].rank() == 5) {
      plain.inputs[0] = BlockedToNchw(ctx.inputs[0]);
      if (!plain.values.empty()) plain.values[0] = nullptr;
    }
    GREENAI_RETURN_IF_ERROR(InferNodeTypes(def, plain, outputs));
    if (!outputs->empty()) {
      const TensorType& o = (*outputs)[0];
      if (o.has_shape && (o.rank() != 4 || o.dims[1] < 0 || o.dims[1] % kBlock != 0))
        return InvalidArgument("{}: marked {} = {} but output 0 has {} channels (needs a multiple of {})",
                               ctx.node.Describe(), kAttrLayout, kLayoutBlocked8, o.rank() == 4 ? o.dims[1] : -1,
                               kBlock);
      (*outputs)[0] = NchwToBlocked(o);
    }
    return Status::Ok();
  }
  if (!IsChannelsLast(ctx.node)) return InferNodeTypes(def, ctx, outputs);
  if (ctx.inputs.empty() || (ctx.inputs[0].has_shape && ctx.inputs[0].rank() != 4))
    return InvalidArgument("{}: marked {} = NHWC but input 0 is not rank 4", ctx.node.Describe(), kAttrLayout);
  InferContext plain{ctx.node, ctx.opset, ctx.inputs, ctx.values};
  for (size_t i = 0; i < plain.inputs.size(); ++i)
    if (LaidOutInput(ctx.node, i)) {
      plain.inputs[i] = NhwcToNchw(ctx.inputs[i]);
      if (i < plain.values.size()) plain.values[i] = nullptr;  // a value would be in the wrong layout
    }
  GREENAI_RETURN_IF_ERROR(InferNodeTypes(def, plain, outputs));
  if (!outputs->empty()) (*outputs)[0] = NchwToNhwc((*outputs)[0]);
  return Status::Ok();
}

}  // namespace greenai
