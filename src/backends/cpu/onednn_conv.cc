// oneDNN Conv and ConvTranspose (f32, 1-D/2-D/3-D, groups, dilations, fused bias).
//
// Plan per input shape (cached, up to kMaxPlans): oneDNN picks the layouts (format_tag::any);
// constant weights are reordered into the chosen layout once per plan, activations are
// reordered in/out only when oneDNN prefers a blocked layout. 1-D is run as 2-D with H = 1.
// Geometries oneDNN cannot express (ConvTranspose with negative effective padding, e.g.
// output_padding beyond pads_end or output_shape) run the reference kernel created at plan time.
//
// Blocked layout (ops/layout.h, a Conv marked NCHW8c by passes/blocked_layout.cc): the output
// is written as nChw8c [N, M/8, H, W, 8] and a rank-5 input is read as nChw8c, so a chain of
// convolutions runs with no reorder between them.
// Channels-last (a float32 2-D Conv marked NHWC by passes/channels_last.cc on AVX-512 CPUs):
// input and output are [N, H, W, C] and oneDNN's convolution runs on them directly (nhwc).
// Fused activation (passes.h kAttrActivation, from ActivationFusion): Relu, LeakyRelu and Clip
// are applied as oneDNN eltwise post-ops (exact: a max, a select and a clamp on the f32 result);
// the factory declines any other fused activation (kernel.cc then wraps a plain kernel).
// ConvAdd (ops/conv_add.h): the residual Z is added by a oneDNN sum post-op (before the fused
// activation), which accumulates into the destination: Z is copied (or reordered) into it
// first, unless the runtime handed the output in Z's own buffer (InPlaceInput), when nothing
// is copied. Z is read in the output's layout.
#include <cstring>
#include <map>
#include <optional>

#include "backends/cpu/onednn_util.h"
#include "ops/conv_add.h"
#include "ops/layout.h"
#include "ops/nn_util.h"
#include "passes/passes.h"

namespace greenai::onednn {
namespace {

using dnnl::memory;
using tag = dnnl::memory::format_tag;

struct ConvPlan {
  bool fallback = false;
  dnnl::primitive prim;
  memory src_user, src_mem, w_user, w_mem, b_mem, dst_user, dst_mem, z_user;
  dnnl::reorder src_reorder, w_reorder, dst_reorder, z_reorder;  // z_reorder: Z into dst_mem (ConvAdd)
  bool need_src_reorder = false, need_w_reorder = false, need_dst_reorder = false;
  std::unordered_map<int, memory> args;  // built at the first run; the memories' handles are set per run
};

class ConvKernel : public Kernel {
 public:
  ConvKernel(const KernelInfo& info, std::unique_ptr<Kernel> fallback, bool transpose)
      : node_(info.node), fallback_(std::move(fallback)), transpose_(transpose),
        group_(info.node.GetInt("group", 1)), threads_(info.num_threads), blocked_(IsBlocked8(info.node)),
        nhwc_(IsChannelsLast(info.node)), sum_(info.node.op_type == kConvAdd),
        stream_(Engine()) {
    if (info.const_inputs.size() > 1 && info.const_inputs[1]) w_const_ = *info.const_inputs[1];
  }

  // The oneDNN eltwise post-op for the node's fused activation; false when it has one that
  // oneDNN cannot apply exactly as greenai's kernels do.
  static bool ActivationPostOps(const Node& n, dnnl::post_ops* ops) {
    if (!n.HasAttr(kAttrActivation)) return true;
    const std::string act = n.GetString(kAttrActivation, "");
    const std::vector<float> p = n.GetFloats(kAttrActivationParams);
    if (act == "Relu" && p.empty()) ops->append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
    else if (act == "LeakyRelu" && p.size() == 1) ops->append_eltwise(1.f, dnnl::algorithm::eltwise_relu, p[0], 0.f);
    else if (act == "Clip" && p.size() == 2) ops->append_eltwise(1.f, dnnl::algorithm::eltwise_clip, p[0], p[1]);
    else return false;
    return true;
  }

  Status Run(KernelContext& ctx) override {
    return Guard(node_, [&]() -> Status { return RunImpl(ctx); }, /*run_time=*/true);
  }
  int InPlaceInput() const override { return sum_ ? static_cast<int>(kConvAddZ) : -1; }

 private:
  Status RunImpl(KernelContext& ctx) {
    const Tensor& x = *ctx.inputs[0];
    const Tensor& w = *ctx.inputs[1];
    const Tensor* b = ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
    Tensor& y = *ctx.outputs[0];
    if (blocked_ && (y.rank() != 5 || (x.rank() != 4 && x.rank() != 5)))
      return InvalidArgument("{}: NCHW8c convolution got input rank {} and output rank {}", node_.Describe(), x.rank(),
                             y.rank());
    if (nhwc_ && (y.rank() != 4 || x.rank() != 4))
      return InvalidArgument("{}: NHWC convolution got input rank {} and output rank {}", node_.Describe(), x.rank(),
                             y.rank());
    // Before any plan is made: some oneDNN primitives fix their thread count at creation.
    SetThreads(ThreadsForWork(static_cast<double>(y.numel()) * static_cast<double>(w.numel()) /
                                  static_cast<double>(std::max<int64_t>(w.dim(0), 1)),
                              threads_));
    const Tensor* z = sum_ ? ctx.inputs[kConvAddZ] : nullptr;
    if (z && (z->dtype() != y.dtype() || z->shape() != y.shape()))
      return InvalidArgument("{}: residual Z has shape {} but the output {}", node_.Describe(), ShapeToString(z->shape()),
                             ShapeToString(y.shape()));
    GREENAI_ASSIGN_OR_RETURN(ConvPlan* plan, FindOrMakePlan(plans_, x.shape(), [&] { return MakePlan(x, w, b); }));
    ConvPlan& p = *plan;
    if (p.fallback) {
      if (!z || z->raw() != y.raw()) return fallback_->Run(ctx);
      // The reference writes the convolution before adding Z: give it Z's values apart.
      z_copy_ = z->Clone();
      KernelContext c = ctx;
      c.inputs[kConvAddZ] = &z_copy_;
      return fallback_->Run(c);
    }
    p.src_user.set_data_handle(const_cast<void*>(x.raw()));
    if (p.need_src_reorder) p.src_reorder.execute(stream_, p.src_user, p.src_mem);
    if (!w_const_.defined()) {
      p.w_user.set_data_handle(const_cast<void*>(w.raw()));
      if (p.need_w_reorder) p.w_reorder.execute(stream_, p.w_user, p.w_mem);
    }
    p.dst_user.set_data_handle(y.raw());
    if (z) {  // the sum post-op accumulates into the destination, so it must hold Z first
      if (p.need_dst_reorder) {
        p.z_user.set_data_handle(const_cast<void*>(z->raw()));
        p.z_reorder.execute(stream_, p.z_user, p.dst_mem);
      } else if (z->raw() != y.raw()) {
        std::memcpy(y.raw(), z->raw(), y.nbytes());
      }
    }
    if (p.args.empty()) {
      p.args = {{DNNL_ARG_SRC, p.need_src_reorder ? p.src_mem : p.src_user},
                {DNNL_ARG_WEIGHTS, p.need_w_reorder ? p.w_mem : p.w_user},
                {DNNL_ARG_DST, p.need_dst_reorder ? p.dst_mem : p.dst_user}};
      if (b) p.args[DNNL_ARG_BIAS] = p.b_mem;
    }
    if (b) p.b_mem.set_data_handle(const_cast<void*>(b->raw()));
    p.prim.execute(stream_, p.args);
    if (p.need_dst_reorder) p.dst_reorder.execute(stream_, p.dst_mem, p.dst_user);
    stream_.wait();
    return Status::Ok();
  }

  Result<std::unique_ptr<ConvPlan>> MakePlan(const Tensor& xt, const Tensor& w, const Tensor* b) {
    auto plan = std::make_unique<ConvPlan>();
    // A blocked input is [N, C/8, H, W, 8]; plan on its logical NCHW view.
    const bool src_blocked = blocked_ && xt.rank() == 5;
    // An NHWC input [N, H, W, C] likewise.
    const Shape xshape = src_blocked ? Shape{xt.dim(0), xt.dim(1) * xt.dim(4), xt.dim(2), xt.dim(3)}
                         : nhwc_     ? Shape{xt.dim(0), xt.dim(3), xt.dim(1), xt.dim(2)}
                                     : xt.shape();
    const Tensor x = Tensor::View(xt.dtype(), xshape, const_cast<void*>(xt.raw()));
    const int nsp = x.rank() - 2;
    if (!attrs_ || attrs_->nsp != nsp) {
      std::vector<int64_t> wk(w.shape().begin() + 2, w.shape().end());
      GREENAI_ASSIGN_OR_RETURN(auto a, nn::WindowAttrs::Parse(node_, nsp, wk, transpose_));
      attrs_ = std::move(a);
    }
    std::vector<int64_t> sp(x.shape().begin() + 2, x.shape().end());
    GREENAI_ASSIGN_OR_RETURN(auto g, transpose_ ? nn::ComputeTranspose(node_, *attrs_, sp)
                                                : nn::ComputeForward(node_, *attrs_, sp));
    if (nsp > 3) {
      plan->fallback = true;
      return plan;
    }
    // Lift 1-D to 2-D so only the 2-D/3-D layouts are needed.
    const bool lift = nsp == 1;
    auto L = [lift](std::vector<int64_t> v, int64_t fill) {
      if (lift) v.insert(v.begin(), fill);
      return v;
    };
    std::vector<int64_t> in = L(g.in, 1), out = L(g.out, 1), k = L(g.kernel, 1), s = L(g.strides, 1);
    std::vector<int64_t> d = L(g.dilations, 1), pl = L(g.pad_begin, 0), pr = L(g.pad_end, 0);
    const size_t n = in.size();
    memory::dims dil(n);
    for (size_t i = 0; i < n; ++i) dil[i] = d[i] - 1;
    if (transpose_) {
      // oneDNN: out = (in-1)*s + (k-1)*d+1 - pl - pr, so output_padding/output_shape fold into pr.
      for (size_t i = 0; i < n; ++i) pr[i] = (in[i] - 1) * s[i] + (k[i] - 1) * d[i] + 1 - pl[i] - out[i];
      for (size_t i = 0; i < n; ++i)
        if (pl[i] < 0 || pr[i] < 0) {
          plan->fallback = true;
          return plan;
        }
    }
    const int64_t N = x.dim(0), C = x.dim(1);
    const int64_t M = transpose_ ? w.dim(1) * group_ : w.dim(0);
    Shape xs{N, C}, ys{N, M};
    xs.insert(xs.end(), in.begin(), in.end());
    ys.insert(ys.end(), out.begin(), out.end());
    // Weights: oneDNN logical dims are (G,) OC/G, IC/G, k...
    Shape ws;
    if (group_ > 1) ws.push_back(group_);
    ws.push_back(M / group_);
    ws.push_back(C / group_);
    ws.insert(ws.end(), k.begin(), k.end());
    tag wtag;
    if (!transpose_) wtag = group_ > 1 ? (n == 2 ? tag::goihw : tag::goidhw) : (n == 2 ? tag::oihw : tag::oidhw);
    else wtag = group_ > 1 ? (n == 2 ? tag::giohw : tag::giodhw) : (n == 2 ? tag::iohw : tag::iodhw);
    const auto f32 = memory::data_type::f32;
    if ((blocked_ || nhwc_) && (n != 2 || transpose_ || lift)) {  // never marked so; the fallback handles any mark
      plan->fallback = true;
      return plan;
    }
    memory::desc src_any(Dims(xs), f32, tag::any), dst_any(Dims(ys), f32, tag::any), w_any(Dims(ws), f32, tag::any);
    if (src_blocked) src_any = memory::desc(Dims(xs), f32, tag::nChw8c);
    if (blocked_) dst_any = memory::desc(Dims(ys), f32, tag::nChw8c);
    if (nhwc_) {
      src_any = memory::desc(Dims(xs), f32, tag::nhwc);
      dst_any = memory::desc(Dims(ys), f32, tag::nhwc);
    }
    dnnl::post_ops ops;
    if (sum_) ops.append_sum(1.f);  // before the activation: act(conv + Z)
    if (!ActivationPostOps(node_, &ops))
      return Internal("{}: fused activation '{}' reached the oneDNN convolution", node_.Describe(),
                      node_.GetString(kAttrActivation, ""));
    dnnl::primitive_attr attr;
    attr.set_post_ops(ops);
    memory::desc b_md = b ? memory::desc({M}, f32, tag::a) : memory::desc();
    dnnl::primitive_desc_base* base = nullptr;
    std::optional<dnnl::convolution_forward::primitive_desc> cpd;
    std::optional<dnnl::deconvolution_forward::primitive_desc> dpd;
    if (!transpose_) {
      dnnl::convolution_forward::desc cd(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                         src_any, w_any, b_md, dst_any, Dims(s), dil, Dims(pl), Dims(pr));
      cpd.emplace(cd, attr, Engine());
      plan->prim = dnnl::convolution_forward(*cpd);
      base = &*cpd;
    } else {
      dnnl::deconvolution_forward::desc dd(dnnl::prop_kind::forward_inference, dnnl::algorithm::deconvolution_direct,
                                           src_any, w_any, b_md, dst_any, Dims(s), dil, Dims(pl), Dims(pr));
      dpd.emplace(dd, attr, Engine());
      plan->prim = dnnl::deconvolution_forward(*dpd);
      base = &*dpd;
    }
    memory::desc src_md = base->src_desc(), w_md = base->weights_desc(), dst_md = base->dst_desc();
    memory::desc src_user_md = src_blocked ? memory::desc(Dims(xs), f32, tag::nChw8c)
                               : nhwc_     ? memory::desc(Dims(xs), f32, tag::nhwc)
                                           : PlainDesc(xs);
    memory::desc dst_user_md = blocked_ ? memory::desc(Dims(ys), f32, tag::nChw8c)
                               : nhwc_  ? memory::desc(Dims(ys), f32, tag::nhwc)
                                        : PlainDesc(ys);
    memory::desc w_user_md(Dims(ws), f32, wtag);
    plan->src_user = memory(src_user_md, Engine(), nullptr);
    plan->dst_user = memory(dst_user_md, Engine(), nullptr);
    plan->w_user = memory(w_user_md, Engine(), const_cast<void*>(w.raw()));
    if (b) plan->b_mem = memory(b_md, Engine(), nullptr);
    if (src_md != src_user_md) {
      plan->need_src_reorder = true;
      plan->src_mem = memory(src_md, Engine());
      plan->src_reorder = dnnl::reorder(plan->src_user, plan->src_mem);
    }
    if (dst_md != dst_user_md) {
      plan->need_dst_reorder = true;
      plan->dst_mem = memory(dst_md, Engine());
      plan->dst_reorder = dnnl::reorder(plan->dst_mem, plan->dst_user);
      if (sum_) {
        plan->z_user = memory(dst_user_md, Engine(), nullptr);
        plan->z_reorder = dnnl::reorder(plan->z_user, plan->dst_mem);
      }
    }
    if (w_md != w_user_md) {
      plan->need_w_reorder = true;
      plan->w_mem = memory(w_md, Engine());
      plan->w_reorder = dnnl::reorder(plan->w_user, plan->w_mem);
    }
    if (w_const_.defined()) {
      // Constant weights: reorder once now; Run never touches them again.
      plan->w_user.set_data_handle(const_cast<void*>(w_const_.raw()));
      if (plan->need_w_reorder) {
        plan->w_reorder.execute(stream_, plan->w_user, plan->w_mem);
        stream_.wait();
      }
    }
    return plan;
  }

  Node node_;
  std::unique_ptr<Kernel> fallback_;
  bool transpose_;
  int64_t group_;
  int threads_;
  bool blocked_;
  bool nhwc_;
  bool sum_;  // ConvAdd
  dnnl::stream stream_;
  Tensor z_copy_;  // the fallback's copy of an in-place Z
  Tensor w_const_;
  std::optional<nn::WindowAttrs> attrs_;
  std::map<Shape, std::unique_ptr<ConvPlan>> plans_;
};

Result<std::unique_ptr<Kernel>> CreateConv(const KernelInfo& info) {
  if (!AllF32(info)) return Unimplemented("{}: oneDNN conv handles f32 only", info.node.Describe());
  if (info.input_types[1].has_shape && info.input_types[1].rank() > 5)
    return Unimplemented("{}: more than 3 spatial dims", info.node.Describe());
  dnnl::post_ops probe;
  if (!ConvKernel::ActivationPostOps(info.node, &probe))
    return Unimplemented("{}: fused activation '{}' is not a oneDNN post-op here", info.node.Describe(),
                         info.node.GetString(kAttrActivation, ""));
  GREENAI_ASSIGN_OR_RETURN(CreatedKernel ref, CreateKernel(info, /*reference_only=*/true));
  std::unique_ptr<Kernel> k;
  Status st = Guard(info.node.Describe(), [&]() -> Status {
    k = std::make_unique<ConvKernel>(info, std::move(ref.kernel), info.node.op_type == "ConvTranspose");
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return k;
}

}  // namespace

void AddConvKernels(std::vector<KernelDef>& defs) {
  defs.push_back({"Conv", "", "f32_conv__onednn", 10, CreateConv});
  defs.push_back({"ConvTranspose", "", "f32_convtranspose__onednn", 10, CreateConv});
  defs.push_back({kConvAdd, kGreenaiDomain, "f32_convadd__onednn", 10, CreateConv});
}

}  // namespace greenai::onednn
