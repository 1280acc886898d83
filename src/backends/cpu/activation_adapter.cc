// Kernels for nodes carrying a fused activation (passes.h kAttrActivation, set by
// ActivationFusion on Conv and Gemm).
//
// Contract:
//  - CreateFusedActivationKernel: a kernel that applies the activation itself (kNative below;
//    its factory declines activations it cannot apply exactly) wins; otherwise the best
//    kernel for the node without the activation runs into a scratch tensor (kept across
//    runs) and the activation's own best kernel maps it into output 0, so the result equals
//    the unfused graph's on the same kernels, bit for bit.
//  - The activation node is built as ONNX defines it (Clip at opset 13 with its bounds as
//    constant float32 scalar inputs; a fused Clip on another dtype declines). An activation or
//    parameter count that UnfuseActivations would reject is an InvalidArgument naming the node.
//  - Layout marks (ops/layout.h) are kept on the inner node, so the inner kernel is made by
//    the layout machinery; elementwise activations do not care about the layout.
#include <algorithm>
#include <memory>

#include "backends/cpu/kernel.h"
#include "ops/layout.h"
#include "passes/passes.h"

namespace greenai {

namespace {

// Candidates are tried in priority order, so the sparse kernels (above the dense ones; they
// apply a fused Relu and decline dense weights) come first: without them here a pruned
// Gemm + Relu ran dense.
constexpr std::string_view kNative[] = {"f32_conv__onednn",        "f32_convadd__onednn", "f32_conv__blocked_avx2",
                                        "f32_conv__winograd_avx2", "f32_gemm__packed",    "f32_gemm__csr",
                                        "f32_matmul__csr",         "f32_conv1x1__csr",    "f32_gemm__nm24",
                                        "f32_matmul__nm24",        "f32_conv1x1__nm24"};

bool IsNative(std::string_view name) { return std::find(std::begin(kNative), std::end(kNative), name) != std::end(kNative); }

class FusedActivationAdapter : public Kernel {
 public:
  FusedActivationAdapter(std::unique_ptr<Node> plain, std::unique_ptr<Node> act)
      : plain_(std::move(plain)), act_(std::move(act)) {}
  const Node& plain() const { return *plain_; }
  const Node& act() const { return *act_; }
  std::vector<Tensor>& bounds() { return bounds_; }
  void set(std::unique_ptr<Kernel> inner, std::unique_ptr<Kernel> act) {
    inner_ = std::move(inner);
    act_kernel_ = std::move(act);
  }

  Status Run(KernelContext& ctx) override {
    if (ctx.outputs.empty() || !ctx.outputs[0] || !ctx.outputs[0]->defined())
      return InvalidArgument("{}: fused activation needs a planned output 0", plain_->Describe());
    Tensor& y = *ctx.outputs[0];
    if (!pre_.defined() || pre_.dtype() != y.dtype() || pre_.shape() != y.shape()) {
      GREENAI_ASSIGN_OR_RETURN(pre_, Tensor::Create(y.dtype(), y.shape()));
    }
    KernelContext inner = ctx;
    inner.outputs[0] = &pre_;
    GREENAI_RETURN_IF_ERROR(inner_->Run(inner));
    KernelContext a;
    a.inputs.push_back(&pre_);
    for (const Tensor& b : bounds_) a.inputs.push_back(&b);
    a.outputs.push_back(&y);
    a.pool = ctx.pool;
    return act_kernel_->Run(a);
  }

 private:
  std::unique_ptr<Node> plain_, act_;
  std::vector<Tensor> bounds_;
  std::unique_ptr<Kernel> inner_, act_kernel_;
  Tensor pre_;
};

}  // namespace

Result<CreatedKernel> CreateFusedActivationKernel(const KernelInfo& info, bool reference_only) {
  const Node& n = info.node;
  if (!reference_only)
    for (const KernelDef* d : KernelRegistry::Get().Candidates(n.domain, n.op_type)) {
      if (!IsNative(d->name)) continue;
      auto k = d->create(info);
      if (k.ok()) return CreatedKernel{std::move(k).value(), d->name};
      if (k.status().code() != StatusCode::kUnimplemented) return k.status();
    }
  const std::string op = n.GetString(kAttrActivation, "");
  const std::vector<float> params = n.GetFloats(kAttrActivationParams);
  const bool known = ((op == "Relu" || op == "Sigmoid" || op == "Tanh" || op == "Gelu") && params.empty()) ||
                     (op == "LeakyRelu" && params.size() == 1) || (op == "Clip" && params.size() == 2);
  if (!known || info.output_types.empty())
    return InvalidArgument("{}: fused activation '{}' with {} parameters is not one greenai applies", n.Describe(), op,
                           params.size());
  auto plain = std::make_unique<Node>(n);
  plain->attributes.erase(kAttrActivation);
  plain->attributes.erase(kAttrActivationParams);
  const TensorType& yt = info.output_types[0];
  if (op == "Clip" && yt.dtype != DType::kF32)
    return Unimplemented("{}: fused Clip on a {} output", n.Describe(), DTypeName(yt.dtype));
  auto act = std::make_unique<Node>();
  act->op_type = op;
  act->name = n.name + "_" + op;
  act->inputs = {"x"};
  act->outputs = {"y"};
  if (op == "LeakyRelu") act->SetFloat("alpha", params[0]);
  if (op == "Clip") act->inputs = {"x", "min", "max"};
  auto adapter = std::make_unique<FusedActivationAdapter>(std::move(plain), std::move(act));
  std::vector<TensorType> act_in{yt};
  std::vector<const Tensor*> act_const{nullptr};
  if (op == "Clip") {
    for (float v : params) adapter->bounds().push_back(Tensor::Scalar<float>(v));
    for (const Tensor& b : adapter->bounds()) {
      act_in.push_back(TensorType::Of(DType::kF32, {}));
      act_const.push_back(&b);
    }
  }
  KernelInfo pi{adapter->plain(), info.opset, info.input_types, info.const_inputs, info.output_types, info.num_threads};
  GREENAI_ASSIGN_OR_RETURN(CreatedKernel inner, CreateKernel(pi, reference_only));
  KernelInfo ai{adapter->act(), op == "Clip" ? 13 : info.opset, act_in, act_const, {yt}, info.num_threads};
  GREENAI_ASSIGN_OR_RETURN(CreatedKernel ak, CreateKernel(ai, reference_only));
  adapter->set(std::move(inner.kernel), std::move(ak.kernel));
  return CreatedKernel{std::move(adapter), inner.name};
}

}  // namespace greenai
