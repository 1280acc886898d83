#include "backends/cpu/run_node.h"

#include <cmath>
#include <limits>

#include "ops/layout.h"
#include "ops/op_table.h"

namespace greenai {

Result<Tensor> AllocateOutput(const TensorType& type, bool nan_prefill) {
  GREENAI_ASSIGN_OR_RETURN(Tensor t, Tensor::Create(type.dtype, type.dims));
  if (nan_prefill) {
    if (type.dtype == DType::kF32) {
      std::fill_n(t.data<float>(), t.numel(), std::numeric_limits<float>::quiet_NaN());
    } else if (type.dtype == DType::kF64) {
      std::fill_n(t.data<double>(), t.numel(), std::numeric_limits<double>::quiet_NaN());
    } else if (type.dtype == DType::kF16 || type.dtype == DType::kBF16) {
      std::fill_n(t.data<uint16_t>(), t.numel(), type.dtype == DType::kF16 ? 0x7e00 : 0x7fc0);
    }
  }
  return t;
}

Result<std::vector<Tensor>> RunNode(const Node& node, const std::vector<Tensor>& inputs, const RunNodeOptions& opts) {
  const OpDef* def = OpTable::Get().Find(node.domain, node.op_type);
  if (!def) return Unimplemented("{}: op '{}' is not supported", node.Describe(), node.op_type);
  InferContext ictx{node, opts.opset, {}, {}};
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    const Tensor* t = i < inputs.size() && inputs[i].defined() && !node.inputs[i].empty() ? &inputs[i] : nullptr;
    ictx.inputs.push_back(t ? TensorType::Of(t->dtype(), t->shape()) : TensorType{});
    ictx.values.push_back(t);
  }
  std::vector<TensorType> out_types;
  GREENAI_RETURN_IF_ERROR(InferNodeTypesLaidOut(*def, ictx, &out_types));
  KernelInfo kinfo{node, opts.opset, ictx.inputs, ictx.values, out_types, 1};
  ThreadPool* pool = opts.pool ? opts.pool : &ThreadPool::Default();
  kinfo.num_threads = pool->num_threads();
  CreatedKernel ck;
  if (opts.kernel.empty()) {
    GREENAI_ASSIGN_OR_RETURN(ck, CreateKernel(kinfo, opts.reference_only));
  } else {
    const KernelDef* def = nullptr;
    for (const KernelDef* d : KernelRegistry::Get().Candidates(node.domain, node.op_type))
      if (d->name == opts.kernel) def = d;
    if (!def) return NotFound("{}: no kernel named '{}' for op '{}'", node.Describe(), opts.kernel, node.op_type);
    GREENAI_ASSIGN_OR_RETURN(std::unique_ptr<Kernel> k, def->create(kinfo));
    ck = CreatedKernel{std::move(k), def->name};
  }
  if (opts.kernel_name_out) *opts.kernel_name_out = ck.name;
  std::vector<Tensor> outs(node.outputs.size());
  KernelContext kctx;
  kctx.pool = pool;
  kctx.subgraphs = opts.subgraphs;
  for (size_t i = 0; i < node.inputs.size(); ++i) kctx.inputs.push_back(ictx.values[i]);
  for (size_t i = 0; i < out_types.size(); ++i) {
    if (node.outputs[i].empty()) {
      kctx.outputs.push_back(nullptr);
      continue;
    }
    if (out_types[i].IsFullyKnown()) {
      GREENAI_ASSIGN_OR_RETURN(outs[i], AllocateOutput(out_types[i], opts.nan_prefill));
    }
    kctx.outputs.push_back(&outs[i]);
  }
  Tensor shared;  // in_place: the copy of the in-place input that output 0 writes over
  if (opts.in_place) {
    const int k = ck.kernel->InPlaceInput();
    if (k < 0 || static_cast<size_t>(k) >= kctx.inputs.size() || !kctx.inputs[static_cast<size_t>(k)] || outs.empty())
      return InvalidArgument("{}: kernel {} names no in-place input", node.Describe(), ck.name);
    shared = kctx.inputs[static_cast<size_t>(k)]->Clone();
    if (shared.dtype() != out_types[0].dtype || shared.shape() != out_types[0].dims)
      return InvalidArgument("{}: in-place input {} is {} but output 0 is {}", node.Describe(), k,
                             ShapeToString(shared.shape()), out_types[0].ToString());
    kctx.inputs[static_cast<size_t>(k)] = &shared;
    outs[0] = shared;
  }
  GREENAI_RETURN_IF_ERROR(ck.kernel->Run(kctx));
  for (size_t i = 0; i < outs.size(); ++i)
    if (!node.outputs[i].empty() && !outs[i].defined())
      return Internal("{}: kernel {} left output {} unset", node.Describe(), ck.name, i);
  return outs;
}

}  // namespace greenai
