// oneDNN int8 kernel for QLinearConv (2-D, groups): one oneDNN int8 convolution with the
// zero points, per-channel output scales, int32 bias and requantization fused. (The int8
// GEMMs are greenai's own, backends/cpu/int8_gemm_avx2.cc.)
//
// Contract:
//  - Eligible (else the factory declines and the im2col/int16 kernel runs): uint8
//    activations (int8 too on VNNI CPUs: without VNNI, oneDNN halves the weights of its
//    s8 x s8 path in the reorder), int8 weights with zero point 0 that are plan-time
//    constants, constant scalar activation scales and zero points, constant weight scales
//    (scalar or one per output channel), constant int32 bias.
//  - Exactness: without VNNI, oneDNN multiplies u8 x s8 with vpmaddubsw, whose int16 pair
//    sums saturate when |w| > 64. The kernel is therefore used on such CPUs only when every
//    weight is in [-64, 64] (greenai quantize's default 7-bit weights); then the integer
//    accumulation is exact and the result differs from the reference kernel by at most one
//    quantization step (float order of the requantization). On VNNI CPUs any int8 weight.
//  - Semantics (ONNX): y = sat(round(x_scale * w_scale[c] / y_scale * (acc + B[c])) + y_zp),
//    acc = sum (x - x_zp) * w; padding contributes 0, as in ONNX.
//  - Plans are cached per input shape (up to 8); activations are reordered to and from the
//    layout oneDNN picks (nhwc for int8 convolution), except on channels-last marked nodes
//    (ops/layout.h), whose tensors are NHWC already.
// Thread safety: one kernel instance per plan node, as every kernel.
#include <map>
#include <optional>

#include "backends/cpu/onednn_util.h"
#include "core/cpu_features.h"
#include "ops/layout.h"
#include "ops/nn_util.h"

namespace greenai::onednn {
namespace {

using dnnl::memory;
using tag = dnnl::memory::format_tag;

bool CpuHasVnni() { return HostCpu().avx512vnni; }

int32_t ScalarInt(const Tensor& t) {
  return t.dtype() == DType::kU8 ? static_cast<int32_t>(t.data<uint8_t>()[0])
                                 : static_cast<int32_t>(t.data<int8_t>()[0]);
}

memory::data_type Dt(DType t) { return t == DType::kU8 ? memory::data_type::u8 : memory::data_type::s8; }

bool IsInt8(DType t) { return t == DType::kU8 || t == DType::kI8; }

// The constant input i, or nullptr.
const Tensor* Const(const KernelInfo& info, size_t i) {
  return i < info.const_inputs.size() && info.node.HasInput(i) ? info.const_inputs[i] : nullptr;
}

// Quantization constants of a QLinear* node, read at plan time.
struct QConst {
  float x_scale = 1, y_scale = 1;
  int32_t x_zp = 0, y_zp = 0;
  std::vector<float> out_scales;  // x_scale * w_scale[c] / y_scale, one or per channel
  Tensor w, bias;                 // bias undefined when absent
};

// Checks eligibility (see the contract) and reads the constants. Input positions: x, x_scale,
// x_zp, w, w_scale, w_zp, then bias `ib` and y_scale/y_zp at `iys`/`iyz`.
Result<QConst> ReadQConst(const KernelInfo& info, size_t ib, size_t iys, size_t iyz, int64_t channels_axis) {
  const Node& n = info.node;
  auto decline = [&](const char* why) { return Unimplemented("{}: oneDNN int8: {}", n.Describe(), why); };
  if (!IsInt8(info.input_types[0].dtype)) return decline("activations are not 8-bit");
  const Tensor *xs = Const(info, 1), *xz = Const(info, 2), *w = Const(info, 3), *ws = Const(info, 4),
               *wz = Const(info, 5), *ys = Const(info, iys), *yz = Const(info, iyz);
  if (!xs || !w || !ws || !ys) return decline("scales or weights are not constants");
  if ((n.HasInput(2) && !xz) || (n.HasInput(5) && !wz) || (n.HasInput(iyz) && !yz))
    return decline("zero points are not constants");
  if (ib != 0 && n.HasInput(ib) && !Const(info, ib)) return decline("bias is not a constant");
  if (w->dtype() != DType::kI8) return decline("weights are not int8");
  if (xs->numel() != 1 || ys->numel() != 1 || (xz && xz->numel() != 1) || (yz && yz->numel() != 1))
    return decline("activation scale/zero point are not scalars");
  if (xs->dtype() != DType::kF32 || ws->dtype() != DType::kF32 || ys->dtype() != DType::kF32)
    return decline("scales are not float32");
  if (yz && !IsInt8(yz->dtype())) return decline("output is not 8-bit");
  if (wz)
    for (int64_t i = 0; i < wz->numel(); ++i)
      if (wz->data<int8_t>()[i] != 0) return decline("weight zero point is not 0");
  if (!CpuHasVnni()) {
    // int8 activations: oneDNN's s8 x s8 path on such CPUs halves the weights in its reorder
    // (scale_adjust 0.5) and loses their last bit.
    if (info.input_types[0].dtype == DType::kI8) return decline("int8 activations on a CPU without VNNI (inexact)");
    const int8_t* d = w->data<int8_t>();
    for (int64_t i = 0; i < w->numel(); ++i)
      if (d[i] < -64 || d[i] > 64) return decline("weights exceed 7 bits on a CPU without VNNI (would saturate)");
  }
  const int64_t channels = w->dim(static_cast<int>(channels_axis));
  if (ws->numel() != 1 && ws->numel() != channels) return decline("weight scale is neither scalar nor per channel");
  QConst q;
  q.x_scale = xs->data<float>()[0];
  q.y_scale = ys->data<float>()[0];
  q.x_zp = xz ? ScalarInt(*xz) : 0;
  q.y_zp = yz ? ScalarInt(*yz) : 0;
  for (int64_t c = 0; c < ws->numel(); ++c) q.out_scales.push_back(q.x_scale * ws->data<float>()[c] / q.y_scale);
  q.w = *w;
  if (ib != 0 && n.HasInput(ib)) {
    const Tensor& b = *Const(info, ib);
    if (b.dtype() != DType::kI32 || b.numel() != channels) return decline("bias is not int32 with one per channel");
    q.bias = b;
  }
  return q;
}

dnnl::primitive_attr MakeAttr(const QConst& q, int channel_mask) {
  dnnl::primitive_attr attr;
  attr.set_output_scales(q.out_scales.size() > 1 ? channel_mask : 0, q.out_scales);
  if (q.x_zp != 0) attr.set_zero_points(DNNL_ARG_SRC, 0, {DNNL_RUNTIME_S32_VAL});
  if (q.y_zp != 0) attr.set_zero_points(DNNL_ARG_DST, 0, {DNNL_RUNTIME_S32_VAL});
  return attr;
}

// Runtime zero-point memories (oneDNN 2.6 takes them as s32 arguments).
struct ZeroPoints {
  int32_t x = 0, y = 0;
  memory x_mem, y_mem;
  void Init(const QConst& q) {
    x = q.x_zp;
    y = q.y_zp;
    memory::desc md({1}, memory::data_type::s32, tag::a);
    x_mem = memory(md, Engine(), &x);
    y_mem = memory(md, Engine(), &y);
  }
  void Add(std::unordered_map<int, memory>& args) {
    if (x != 0) args[DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_SRC] = x_mem;
    if (y != 0) args[DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_DST] = y_mem;
  }
};

// ---------------------------------------------------------------------------------------
// QLinearConv

struct ConvPlan {
  bool fallback = false;
  dnnl::convolution_forward prim;
  memory src_user, src_mem, w_mem, b_mem, dst_user, dst_mem;
  dnnl::reorder src_reorder, dst_reorder;
  bool need_src_reorder = false, need_dst_reorder = false;
  std::unordered_map<int, memory> args;  // built at the first run; the memories' handles are set per run
};

class QLinearConvKernel : public Kernel {
 public:
  QLinearConvKernel(const KernelInfo& info, QConst q, std::unique_ptr<Kernel> fallback)
      : node_(info.node), q_(std::move(q)), fallback_(std::move(fallback)), group_(info.node.GetInt("group", 1)),
        threads_(info.num_threads), y_dtype_(info.output_types[0].dtype), stream_(Engine()) {
    zp_.Init(q_);
  }

  Status Run(KernelContext& ctx) override {
    return Guard(node_, [&]() -> Status { return RunImpl(ctx); }, /*run_time=*/true);
  }

 private:
  Status RunImpl(KernelContext& ctx) {
    const Tensor& x = *ctx.inputs[0];
    Tensor& y = *ctx.outputs[0];
    // Before any plan is made: some oneDNN primitives fix their thread count at creation.
    SetThreads(ThreadsForWork(static_cast<double>(y.numel()) * static_cast<double>(q_.w.numel()) /
                                  static_cast<double>(std::max<int64_t>(q_.w.dim(0), 1)),
                              threads_));
    GREENAI_ASSIGN_OR_RETURN(ConvPlan* plan, FindOrMakePlan(plans_, x.shape(), [&] { return MakePlan(x); }));
    ConvPlan& p = *plan;
    if (p.fallback) return fallback_->Run(ctx);
    p.src_user.set_data_handle(const_cast<void*>(x.raw()));
    if (p.need_src_reorder) p.src_reorder.execute(stream_, p.src_user, p.src_mem);
    p.dst_user.set_data_handle(y.raw());
    if (p.args.empty()) {
      p.args = {{DNNL_ARG_SRC, p.need_src_reorder ? p.src_mem : p.src_user},
                {DNNL_ARG_WEIGHTS, p.w_mem},
                {DNNL_ARG_DST, p.need_dst_reorder ? p.dst_mem : p.dst_user}};
      if (q_.bias.defined()) p.args[DNNL_ARG_BIAS] = p.b_mem;
      zp_.Add(p.args);
    }
    p.prim.execute(stream_, p.args);
    if (p.need_dst_reorder) p.dst_reorder.execute(stream_, p.dst_mem, p.dst_user);
    stream_.wait();
    return Status::Ok();
  }

  Result<std::unique_ptr<ConvPlan>> MakePlan(const Tensor& x) {
    auto plan = std::make_unique<ConvPlan>();
    const Tensor& w = q_.w;
    if (x.rank() != 4 || w.rank() != 4) {
      plan->fallback = true;
      return plan;
    }
    // Channels-last marked nodes (ops/layout.h) read and write NHWC: oneDNN's int8
    // convolution works in nhwc anyway, so no reorder is needed on either side.
    const bool nhwc = IsChannelsLast(node_);
    const Shape xl = nhwc ? Shape{x.dim(0), x.dim(3), x.dim(1), x.dim(2)} : x.shape();
    std::vector<int64_t> wk(w.shape().begin() + 2, w.shape().end());
    GREENAI_ASSIGN_OR_RETURN(auto attrs, nn::WindowAttrs::Parse(node_, 2, wk, /*transpose=*/false));
    std::vector<int64_t> sp(xl.begin() + 2, xl.end());
    GREENAI_ASSIGN_OR_RETURN(auto g, nn::ComputeForward(node_, attrs, sp));
    const int64_t N = xl[0], C = xl[1], M = w.dim(0);
    Shape xs{N, C, g.in[0], g.in[1]}, ys{N, M, g.out[0], g.out[1]};
    Shape ws;
    if (group_ > 1) ws.push_back(group_);
    ws.push_back(M / group_);
    ws.push_back(C / group_);
    ws.insert(ws.end(), wk.begin(), wk.end());
    memory::dims dil{g.dilations[0] - 1, g.dilations[1] - 1};
    const auto xt = Dt(x.dtype()), yt = Dt(y_dtype_);
    memory::desc src_any(Dims(xs), xt, tag::any), dst_any(Dims(ys), yt, tag::any),
        w_any(Dims(ws), memory::data_type::s8, tag::any);
    memory::desc b_md = q_.bias.defined() ? memory::desc({M}, memory::data_type::s32, tag::a) : memory::desc();
    dnnl::convolution_forward::desc cd(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                       src_any, w_any, b_md, dst_any, Dims(g.strides), dil, Dims(g.pad_begin),
                                       Dims(g.pad_end));
    dnnl::convolution_forward::primitive_desc pd(cd, MakeAttr(q_, 1 << 1), Engine());
    plan->prim = dnnl::convolution_forward(pd);
    const tag user_tag = nhwc ? tag::nhwc : tag::nchw;
    memory::desc src_user_md(Dims(xs), xt, user_tag), dst_user_md(Dims(ys), yt, user_tag);
    memory::desc w_user_md(Dims(ws), memory::data_type::s8, group_ > 1 ? tag::goihw : tag::oihw);
    plan->src_user = memory(src_user_md, Engine(), nullptr);
    plan->dst_user = memory(dst_user_md, Engine(), nullptr);
    if (pd.src_desc() != src_user_md) {
      plan->need_src_reorder = true;
      plan->src_mem = memory(pd.src_desc(), Engine());
      plan->src_reorder = dnnl::reorder(plan->src_user, plan->src_mem);
    }
    if (pd.dst_desc() != dst_user_md) {
      plan->need_dst_reorder = true;
      plan->dst_mem = memory(pd.dst_desc(), Engine());
      plan->dst_reorder = dnnl::reorder(plan->dst_mem, plan->dst_user);
    }
    // Constant weights and bias: reordered / wrapped once per plan.
    memory w_user(w_user_md, Engine(), const_cast<void*>(w.raw()));
    plan->w_mem = memory(pd.weights_desc(), Engine());
    dnnl::reorder(w_user, plan->w_mem).execute(stream_, w_user, plan->w_mem);
    if (q_.bias.defined()) plan->b_mem = memory(b_md, Engine(), const_cast<void*>(q_.bias.raw()));
    stream_.wait();
    return plan;
  }

  Node node_;
  QConst q_;
  std::unique_ptr<Kernel> fallback_;
  int64_t group_;
  int threads_;
  DType y_dtype_;
  dnnl::stream stream_;
  ZeroPoints zp_;
  std::map<Shape, std::unique_ptr<ConvPlan>> plans_;
};

Result<std::unique_ptr<Kernel>> CreateQLinearConv(const KernelInfo& info) {
  const Tensor* w = Const(info, 3);
  if (!w || w->rank() != 4) return Unimplemented("{}: oneDNN int8 conv: 2-D with constant weights only",
                                                 info.node.Describe());
  if (info.output_types.empty() || !IsInt8(info.output_types[0].dtype))
    return Unimplemented("{}: oneDNN int8 conv: output type unknown", info.node.Describe());
  GREENAI_ASSIGN_OR_RETURN(QConst q, ReadQConst(info, /*ib=*/8, /*iys=*/6, /*iyz=*/7, /*channels_axis=*/0));
  GREENAI_ASSIGN_OR_RETURN(CreatedKernel ref, CreateKernel(info, /*reference_only=*/true));
  std::unique_ptr<Kernel> k;
  GREENAI_RETURN_IF_ERROR(Guard(info.node.Describe(), [&]() -> Status {
    k = std::make_unique<QLinearConvKernel>(info, std::move(q), std::move(ref.kernel));
    return Status::Ok();
  }));
  return k;
}

}  // namespace

void AddInt8Kernels(std::vector<KernelDef>& defs) {
  defs.push_back({"QLinearConv", "", "i8_qlinearconv__onednn", 20, CreateQLinearConv});
}

}  // namespace greenai::onednn
