// Op family: control flow (If, Loop, Scan). Output shapes of control flow depend on
// run-time data, so inference gives dtypes (from the body's declared outputs) and leaves
// shapes unknown; the kernels allocate their outputs (see kernel.h).
#include "ops/op_table.h"

namespace greenai {

namespace {

const Graph* GraphAttr(const Node& n, const char* name) {
  const Attribute* a = n.FindAttr(name);
  return a && a->g ? a->g.get() : nullptr;
}

Status InferIf(const InferContext& ctx, std::vector<TensorType>* out) {
  const Graph* t = GraphAttr(ctx.node, "then_branch");
  const Graph* e = GraphAttr(ctx.node, "else_branch");
  if (!t || !e) return InvalidArgument("{}: needs graph attributes then_branch and else_branch", ctx.node.Describe());
  if (t->outputs.size() != out->size() || e->outputs.size() != out->size())
    return InvalidArgument("{}: branches have {} and {} outputs, node has {} (must match)", ctx.node.Describe(),
                           t->outputs.size(), e->outputs.size(), out->size());
  if (ctx.Has(0) && ctx.inputs[0].dtype != DType::kBool)
    return InvalidArgument("{}: cond must be bool, got {}", ctx.node.Describe(), DTypeName(ctx.inputs[0].dtype));
  for (size_t i = 0; i < out->size(); ++i) {
    (*out)[i].dtype = t->outputs[i].type.dtype != DType::kUndefined ? t->outputs[i].type.dtype : e->outputs[i].type.dtype;
    (*out)[i].has_shape = false;
  }
  return Status::Ok();
}

Status InferLoop(const InferContext& ctx, std::vector<TensorType>* out) {
  const Graph* body = GraphAttr(ctx.node, "body");
  if (!body) return InvalidArgument("{}: needs graph attribute body", ctx.node.Describe());
  size_t carried = ctx.num_inputs() >= 2 ? ctx.num_inputs() - 2 : 0;
  if (body->inputs.size() != carried + 2)
    return InvalidArgument("{}: body has {} inputs, expects {} (iteration, cond, {} loop-carried)", ctx.node.Describe(),
                           body->inputs.size(), carried + 2, carried);
  if (body->outputs.size() < carried + 1 || out->size() != body->outputs.size() - 1)
    return InvalidArgument("{}: body has {} outputs, node has {} (expects body outputs = 1 + node outputs)",
                           ctx.node.Describe(), body->outputs.size(), out->size());
  for (size_t i = 0; i < out->size(); ++i) {
    (*out)[i].dtype = i < carried && ctx.Has(i + 2) ? ctx.inputs[i + 2].dtype : body->outputs[i + 1].type.dtype;
    (*out)[i].has_shape = false;
  }
  return Status::Ok();
}

Status InferScan(const InferContext& ctx, std::vector<TensorType>* out) {
  const Graph* body = GraphAttr(ctx.node, "body");
  if (!body) return InvalidArgument("{}: needs graph attribute body", ctx.node.Describe());
  int64_t m = ctx.node.GetInt("num_scan_inputs", -1);
  if (m < 1 || m > static_cast<int64_t>(ctx.num_inputs()))
    return InvalidArgument("{}: num_scan_inputs {} is invalid for {} inputs", ctx.node.Describe(), m, ctx.num_inputs());
  if (body->inputs.size() != ctx.num_inputs() || body->outputs.size() != out->size())
    return InvalidArgument("{}: body has {} inputs/{} outputs, node has {}/{} (must match)", ctx.node.Describe(),
                           body->inputs.size(), body->outputs.size(), ctx.num_inputs(), out->size());
  size_t n_state = ctx.num_inputs() - static_cast<size_t>(m);
  for (size_t i = 0; i < out->size(); ++i) {
    (*out)[i].dtype = i < n_state && ctx.Has(i) ? ctx.inputs[i].dtype : body->outputs[i].type.dtype;
    (*out)[i].has_shape = false;
  }
  return Status::Ok();
}

}  // namespace

void AddControlOps(std::vector<OpDef>& ops) {
  ops.push_back({"If", "", 1, 1, 1, 1, -1, InferIf, nullptr});
  ops.push_back({"Loop", "", 1, 2, -1, 1, -1, InferLoop, nullptr});
  ops.push_back({"Scan", "", 9, 1, -1, 1, -1, InferScan, nullptr});
}

}  // namespace greenai
