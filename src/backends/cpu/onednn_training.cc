// oneDNN backward kernels for the training ops (f32): ConvGrad (convolution backward data +
// backward weights with bias), MaxPoolGrad / AveragePoolGrad (pooling backward; max re-runs
// the forward in training mode for its workspace), BatchNormalizationGrad in training mode
// (forward-training for the batch statistics, then backward), the training-mode forward
// BatchNormalization with running statistics, LayerNormalizationGrad (likewise),
// SoftmaxGrad / LogSoftmaxGrad, GeluGrad and ReluGrad (eltwise backward).
//
// Each kernel keeps one plan per input shape (up to kMaxPlans). oneDNN picks layouts
// (format_tag::any) for conv; pools run on the 8-channel blocked layout like the forward pool
// kernel. User tensors stay plain row-major; reorders happen in and out of the primitive when
// the layouts differ. Geometries oneDNN rejects (or defines differently, such as ceil-mode
// overhang with count_include_pad) run the reference kernel, created at plan time.
#include <map>
#include <optional>

#include "backends/cpu/onednn_util.h"
#include "backends/cpu/training_internal.h"
#include "ops/shape_util.h"

namespace greenai::onednn {
namespace {

using dnnl::memory;
using tag = dnnl::memory::format_tag;
constexpr size_t kMaxPlans = 8;
const auto kF32 = memory::data_type::f32;

// A tensor bound to a primitive argument: the user's plain buffer and, when the primitive
// wants another layout, an owned buffer plus the reorder between them.
struct Bound {
  memory user, mem;
  dnnl::reorder r;
  bool reorder = false;

  void Init(const memory::desc& user_md, const memory::desc& want, bool output) {
    user = memory(user_md, Engine(), nullptr);
    if (want != user_md) {
      reorder = true;
      mem = memory(want, Engine());
      r = output ? dnnl::reorder(mem, user) : dnnl::reorder(user, mem);
    }
  }
  // An output nobody asked for: oneDNN still writes it, into owned memory.
  void InitScratch(const memory::desc& want) {
    user = memory(want, Engine());
    reorder = false;
  }
  memory& arg() { return reorder ? mem : user; }
  void In(dnnl::stream& s, const Tensor& t) {
    user.set_data_handle(const_cast<void*>(t.raw()));
    if (reorder) r.execute(s, user, mem);
  }
  void SetOut(Tensor* t) {
    if (t) user.set_data_handle(t->raw());
  }
  void Out(dnnl::stream& s, const Tensor* t) {
    if (t && reorder) r.execute(s, mem, user);
  }
};

Tensor* OutAt(KernelContext& ctx, size_t i) { return i < ctx.outputs.size() ? ctx.outputs[i] : nullptr; }

// Shared plan cache and fallback handling: subclasses build a plan for the current input
// shapes (MakePlan) and run it (RunPlan); a plan marked fallback runs the reference kernel.
template <typename Plan>
class CachedKernel : public Kernel {
 public:
  CachedKernel(const KernelInfo& info, std::unique_ptr<Kernel> fallback)
      : node_(info.node), fallback_(std::move(fallback)), threads_(info.num_threads), stream_(Engine()) {}

  Status Run(KernelContext& ctx) override {
    return Guard(node_, [&]() -> Status { return RunImpl(ctx); }, /*run_time=*/true);
  }

 protected:
  virtual Status MakePlan(KernelContext& ctx, Plan& p) = 0;
  virtual Status RunPlan(KernelContext& ctx, Plan& p) = 0;

  Node node_;
  std::unique_ptr<Kernel> fallback_;
  int threads_;
  dnnl::stream stream_;

 private:
  Status RunImpl(KernelContext& ctx) {
    std::vector<int64_t> key;
    for (const Tensor* t : ctx.inputs) {
      if (!t) continue;
      key.push_back(t->rank());
      key.insert(key.end(), t->shape().begin(), t->shape().end());
    }
    for (const Tensor* t : ctx.outputs) key.push_back(t ? 1 : 0);  // which outputs are wanted
    auto it = plans_.find(key);
    if (it == plans_.end()) {
      if (plans_.size() >= kMaxPlans) plans_.clear();
      auto p = std::make_unique<Plan>();
      Status st = Status::Ok();
      try {
        st = MakePlan(ctx, *p);
      } catch (const dnnl::error&) {
        p = std::make_unique<Plan>();
        p->fallback = true;  // a configuration this oneDNN build does not implement
      }
      GREENAI_RETURN_IF_ERROR(st);
      it = plans_.emplace(key, std::move(p)).first;
    }
    Plan& p = *it->second;
    if (p.fallback) return fallback_->Run(ctx);
    return RunPlan(ctx, p);
  }

  std::map<std::vector<int64_t>, std::unique_ptr<Plan>> plans_;
};

// 1-D geometry lifted to 2-D (H = 1) so only 2-D/3-D layouts are needed.
struct Lifted {
  std::vector<int64_t> in, out, k, s, d, pl, pr;
};
Lifted Lift(const nn::WindowGeom& g) {
  const bool lift = g.nsp == 1;
  auto L = [lift](std::vector<int64_t> v, int64_t fill) {
    if (lift) v.insert(v.begin(), fill);
    return v;
  };
  return {L(g.in, 1), L(g.out, 1), L(g.kernel, 1), L(g.strides, 1), L(g.dilations, 1), L(g.pad_begin, 0),
          L(g.pad_end, 0)};
}
Shape WithNC(int64_t n, int64_t c, const std::vector<int64_t>& sp) {
  Shape s{n, c};
  s.insert(s.end(), sp.begin(), sp.end());
  return s;
}

// ---------------- ConvGrad ----------------

struct ConvGradPlan {
  bool fallback = false;
  bool data = false, weights = false;
  bool share_dy = false;  // both primitives want dY in the same non-plain layout: reorder once
  dnnl::primitive bwd_data, bwd_weights;
  Bound dy_d, w_d, dx_d, dy_w, x_w, dw_w, db_w;
  double macs = 0;
};

class ConvGradKernel : public CachedKernel<ConvGradPlan> {
 public:
  using CachedKernel::CachedKernel;

 protected:
  Status MakePlan(KernelContext& ctx, ConvGradPlan& p) override {
    const Tensor& dy = *ctx.inputs[0];
    const Tensor& x = *ctx.inputs[1];
    const Tensor& w = *ctx.inputs[2];
    GREENAI_ASSIGN_OR_RETURN(nn::WindowGeom g, training::ConvGeometry(node_, x.shape(), w.shape()));
    const Lifted l = Lift(g);
    const size_t n = l.in.size();
    const int64_t group = node_.GetInt("group", 1), N = x.dim(0), C = x.dim(1), M = w.dim(0);
    const Shape xs = WithNC(N, C, l.in), ys = WithNC(N, M, l.out);
    if (NumElements(ys) != dy.numel()) return InvalidArgument("{}: dY has shape {}, expects {}", node_.Describe(),
                                                              ShapeToString(dy.shape()), ShapeToString(ys));
    Shape ws;
    if (group > 1) ws.push_back(group);
    ws.push_back(M / group);
    ws.push_back(C / group);
    ws.insert(ws.end(), l.k.begin(), l.k.end());
    const tag wtag = group > 1 ? (n == 2 ? tag::goihw : tag::goidhw) : (n == 2 ? tag::oihw : tag::oidhw);
    memory::dims dil(n);
    for (size_t i = 0; i < n; ++i) dil[i] = l.d[i] - 1;
    memory::desc src_any(Dims(xs), kF32, tag::any), dst_any(Dims(ys), kF32, tag::any), w_any(Dims(ws), kF32, tag::any);
    const bool want_dx = OutAt(ctx, 0), want_dw = OutAt(ctx, 1), want_db = OutAt(ctx, 2);
    memory::desc b_md = want_db ? memory::desc({M}, kF32, tag::a) : memory::desc();
    dnnl::convolution_forward::desc fd(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, src_any,
                                       w_any, b_md, dst_any, Dims(l.s), dil, Dims(l.pl), Dims(l.pr));
    dnnl::convolution_forward::primitive_desc fpd(fd, Engine());
    const memory::desc x_user = PlainDesc(xs), y_user = PlainDesc(ys), w_user(Dims(ws), kF32, wtag);
    p.macs = static_cast<double>(dy.numel()) * static_cast<double>(w.numel()) / static_cast<double>(std::max<int64_t>(M, 1));
    if (want_dx) {
      dnnl::convolution_backward_data::desc bd(dnnl::algorithm::convolution_direct, src_any, w_any, dst_any, Dims(l.s),
                                               dil, Dims(l.pl), Dims(l.pr));
      dnnl::convolution_backward_data::primitive_desc bpd(bd, Engine(), fpd);
      p.bwd_data = dnnl::convolution_backward_data(bpd);
      p.dy_d.Init(y_user, bpd.diff_dst_desc(), false);
      p.w_d.Init(w_user, bpd.weights_desc(), false);
      p.dx_d.Init(x_user, bpd.diff_src_desc(), true);
      p.data = true;
    }
    if (want_dw || want_db) {
      dnnl::convolution_backward_weights::desc wd(dnnl::algorithm::convolution_direct, src_any, w_any, b_md, dst_any,
                                                  Dims(l.s), dil, Dims(l.pl), Dims(l.pr));
      dnnl::convolution_backward_weights::primitive_desc wpd(wd, Engine(), fpd);
      p.bwd_weights = dnnl::convolution_backward_weights(wpd);
      p.dy_w.Init(y_user, wpd.diff_dst_desc(), false);
      p.x_w.Init(x_user, wpd.src_desc(), false);
      if (want_dw) p.dw_w.Init(w_user, wpd.diff_weights_desc(), true);
      else p.dw_w.InitScratch(wpd.diff_weights_desc());
      if (want_db) p.db_w.Init(b_md, wpd.diff_bias_desc(), true);
      p.weights = true;
      p.share_dy = p.data && p.dy_d.reorder && p.dy_w.reorder && p.dy_d.mem.get_desc() == p.dy_w.mem.get_desc();
    }
    return Status::Ok();
  }

  Status RunPlan(KernelContext& ctx, ConvGradPlan& p) override {
    SetThreads(ThreadsForWork(p.macs, threads_));
    const Tensor& dy = *ctx.inputs[0];
    Tensor *dx = OutAt(ctx, 0), *dw = OutAt(ctx, 1), *db = OutAt(ctx, 2);
    if (p.data) {
      p.dy_d.In(stream_, dy);
      p.w_d.In(stream_, *ctx.inputs[2]);
      p.dx_d.SetOut(dx);
      p.bwd_data.execute(stream_, {{DNNL_ARG_DIFF_DST, p.dy_d.arg()},
                                   {DNNL_ARG_WEIGHTS, p.w_d.arg()},
                                   {DNNL_ARG_DIFF_SRC, p.dx_d.arg()}});
      p.dx_d.Out(stream_, dx);
    }
    if (p.weights) {
      if (!p.share_dy) p.dy_w.In(stream_, dy);
      p.x_w.In(stream_, *ctx.inputs[1]);
      p.dw_w.SetOut(dw);
      std::unordered_map<int, memory> args{{DNNL_ARG_DIFF_DST, p.share_dy ? p.dy_d.arg() : p.dy_w.arg()},
                                           {DNNL_ARG_SRC, p.x_w.arg()},
                                           {DNNL_ARG_DIFF_WEIGHTS, p.dw_w.arg()}};
      if (db) {
        p.db_w.SetOut(db);
        args[DNNL_ARG_DIFF_BIAS] = p.db_w.arg();
      }
      p.bwd_weights.execute(stream_, args);
      p.dw_w.Out(stream_, dw);
      if (db) p.db_w.Out(stream_, db);
    }
    stream_.wait();
    return Status::Ok();
  }
};

// ---------------- MaxPoolGrad / AveragePoolGrad ----------------

struct PoolGradPlan {
  bool fallback = false;
  bool is_max = false;
  dnnl::primitive fwd, bwd;
  Bound x, dy, dx;
  memory fwd_dst, workspace;
};

class PoolGradKernel : public CachedKernel<PoolGradPlan> {
 public:
  using CachedKernel::CachedKernel;

 protected:
  Status MakePlan(KernelContext& ctx, PoolGradPlan& p) override {
    const Tensor& x = *ctx.inputs[1];
    const bool is_max = node_.op_type == "MaxPoolGrad";
    GREENAI_ASSIGN_OR_RETURN(nn::WindowGeom g, training::PoolGeometry(node_, x.shape()));
    Lifted l = Lift(g);
    const bool include_pad = !is_max && node_.GetInt("count_include_pad", 0) != 0;
    memory::dims dil(l.in.size());
    for (size_t i = 0; i < l.in.size(); ++i) {
      dil[i] = l.d[i] - 1;
      // Ceil mode: extend the right padding so oneDNN's floor formula yields `out` (as the forward kernel).
      const int64_t need = (l.out[i] - 1) * l.s[i] + (l.k[i] - 1) * l.d[i] + 1 - l.in[i] - l.pl[i];
      if (need != l.pr[i]) {
        if (include_pad && need > l.pr[i]) {
          p.fallback = true;
          return Status::Ok();
        }
        l.pr[i] = need;
      }
      if (l.pr[i] < 0) {
        p.fallback = true;
        return Status::Ok();
      }
    }
    const Shape src = WithNC(x.dim(0), x.dim(1), l.in), dst = WithNC(x.dim(0), x.dim(1), l.out);
    if (NumElements(dst) != ctx.inputs[0]->numel())
      return InvalidArgument("{}: dY has shape {}, expects {}", node_.Describe(), ShapeToString(ctx.inputs[0]->shape()),
                             ShapeToString(dst));
    auto blocked = [](const Shape& s) {
      return memory::desc(Dims(s), kF32, s.size() == 4 ? tag::aBcd8b : tag::aBcde8b);
    };
    const auto alg = is_max ? dnnl::algorithm::pooling_max
                     : include_pad ? dnnl::algorithm::pooling_avg_include_padding
                                   : dnnl::algorithm::pooling_avg_exclude_padding;
    dnnl::pooling_v2_forward::desc fd(dnnl::prop_kind::forward_training, alg, blocked(src), blocked(dst), Dims(l.s),
                                      Dims(l.k), dil, Dims(l.pl), Dims(l.pr));
    dnnl::pooling_v2_forward::primitive_desc fpd(fd, Engine());
    dnnl::pooling_v2_backward::desc bd(alg, blocked(src), blocked(dst), Dims(l.s), Dims(l.k), dil, Dims(l.pl),
                                       Dims(l.pr));
    dnnl::pooling_v2_backward::primitive_desc bpd(bd, Engine(), fpd);
    p.bwd = dnnl::pooling_v2_backward(bpd);
    p.dy.Init(PlainDesc(dst), bpd.diff_dst_desc(), false);
    p.dx.Init(PlainDesc(src), bpd.diff_src_desc(), true);
    p.is_max = is_max;
    if (is_max) {
      p.fwd = dnnl::pooling_v2_forward(fpd);
      p.x.Init(PlainDesc(src), fpd.src_desc(), false);
      p.fwd_dst = memory(fpd.dst_desc(), Engine());
      p.workspace = memory(fpd.workspace_desc(), Engine());
    }
    return Status::Ok();
  }

  Status RunPlan(KernelContext& ctx, PoolGradPlan& p) override {
    SetThreads(threads_);
    if (p.is_max) {
      p.x.In(stream_, *ctx.inputs[1]);
      p.fwd.execute(stream_, {{DNNL_ARG_SRC, p.x.arg()}, {DNNL_ARG_DST, p.fwd_dst}, {DNNL_ARG_WORKSPACE, p.workspace}});
    }
    p.dy.In(stream_, *ctx.inputs[0]);
    p.dx.SetOut(ctx.outputs[0]);
    std::unordered_map<int, memory> args{{DNNL_ARG_DIFF_DST, p.dy.arg()}, {DNNL_ARG_DIFF_SRC, p.dx.arg()}};
    if (p.is_max) args[DNNL_ARG_WORKSPACE] = p.workspace;
    p.bwd.execute(stream_, args);
    p.dx.Out(stream_, ctx.outputs[0]);
    stream_.wait();
    return Status::Ok();
  }
};

// ---------------- BatchNormalizationGrad (training mode) ----------------

struct BnGradPlan {
  bool fallback = false;
  dnnl::primitive fwd, bwd;
  Bound x, dy, dx;
  memory dst_scratch, mean, var, scale, shift, diff_scale, diff_shift;
  memory dscale_scratch, dshift_scratch;
};

// 4-D/5-D tensors on the 8-channel blocked layout (bnorm_jit); others stay plain.
memory::desc BlockedNormDesc(const Tensor& x, const memory::desc& user) {
  if (x.rank() == 4) return memory::desc(Dims(x.shape()), kF32, tag::aBcd8b);
  if (x.rank() == 5) return memory::desc(Dims(x.shape()), kF32, tag::aBcde8b);
  return user;
}

// The plain-layout (ncsp) oneDNN batch norm is a slow generic loop (2.2 s per step of the cnn
// architecture at batch 64); 4-D/5-D tensors run on the 8-channel blocked layout (jit), with
// X and dY reordered in and dX out.
class BnGradKernel : public CachedKernel<BnGradPlan> {
 public:
  using CachedKernel::CachedKernel;

 protected:
  Status MakePlan(KernelContext& ctx, BnGradPlan& p) override {
    const Tensor& x = *ctx.inputs[1];
    if (x.rank() < 2 || x.rank() > 5 || ctx.inputs[0]->shape() != x.shape()) {
      p.fallback = true;
      return Status::Ok();
    }
    const float eps = node_.GetFloat("epsilon", 1e-5f);
    const auto flags = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;
    const memory::desc user = PlainDesc(x.shape()), cmd({x.dim(1)}, kF32, tag::a);
    const memory::desc md = BlockedNormDesc(x, user);
    dnnl::batch_normalization_forward::desc fd(dnnl::prop_kind::forward_training, md, eps, flags);
    dnnl::batch_normalization_forward::primitive_desc fpd(fd, Engine());
    dnnl::batch_normalization_backward::desc bd(dnnl::prop_kind::backward, md, md, eps, flags);
    dnnl::batch_normalization_backward::primitive_desc bpd(bd, Engine(), fpd);
    p.fwd = dnnl::batch_normalization_forward(fpd);
    p.bwd = dnnl::batch_normalization_backward(bpd);
    p.x.Init(user, md, false);
    p.dy.Init(user, md, false);
    if (OutAt(ctx, 0)) p.dx.Init(user, md, true);
    else p.dx.InitScratch(md);
    p.dst_scratch = memory(md, Engine());
    p.mean = memory(cmd, Engine());
    p.var = memory(cmd, Engine());
    p.scale = memory(cmd, Engine(), nullptr);
    p.shift = memory(cmd, Engine());  // the shift does not change the statistics: zeros
    std::fill_n(static_cast<float*>(p.shift.get_data_handle()), x.dim(1), 0.0f);
    p.diff_scale = memory(cmd, Engine(), nullptr);
    p.diff_shift = memory(cmd, Engine(), nullptr);
    if (!OutAt(ctx, 1)) p.dscale_scratch = memory(cmd, Engine());
    if (!OutAt(ctx, 2)) p.dshift_scratch = memory(cmd, Engine());
    return Status::Ok();
  }

  Status RunPlan(KernelContext& ctx, BnGradPlan& p) override {
    SetThreads(ThreadsForWork(static_cast<double>(ctx.inputs[1]->numel()) * 8, threads_));
    auto bind = [](memory& m, const Tensor* t, memory& scratch) {
      m.set_data_handle(t ? const_cast<void*>(t->raw()) : scratch.get_data_handle());
    };
    p.x.In(stream_, *ctx.inputs[1]);
    p.dy.In(stream_, *ctx.inputs[0]);
    p.scale.set_data_handle(const_cast<void*>(ctx.inputs[2]->raw()));
    p.dx.SetOut(OutAt(ctx, 0));
    bind(p.diff_scale, OutAt(ctx, 1), p.dscale_scratch);
    bind(p.diff_shift, OutAt(ctx, 2), p.dshift_scratch);
    p.fwd.execute(stream_, {{DNNL_ARG_SRC, p.x.arg()},
                            {DNNL_ARG_DST, p.dst_scratch},
                            {DNNL_ARG_MEAN, p.mean},
                            {DNNL_ARG_VARIANCE, p.var},
                            {DNNL_ARG_SCALE, p.scale},
                            {DNNL_ARG_SHIFT, p.shift}});
    p.bwd.execute(stream_, {{DNNL_ARG_SRC, p.x.arg()},
                            {DNNL_ARG_MEAN, p.mean},
                            {DNNL_ARG_VARIANCE, p.var},
                            {DNNL_ARG_DIFF_DST, p.dy.arg()},
                            {DNNL_ARG_SCALE, p.scale},
                            {DNNL_ARG_SHIFT, p.shift},  // oneDNN 2.x lists it as a backward input with use_shift
                            {DNNL_ARG_DIFF_SRC, p.dx.arg()},
                            {DNNL_ARG_DIFF_SCALE, p.diff_scale},
                            {DNNL_ARG_DIFF_SHIFT, p.diff_shift}});
    p.dx.Out(stream_, OutAt(ctx, 0));
    stream_.wait();
    return Status::Ok();
  }
};

// ---------------- BatchNormalization forward, training mode ----------------
// The inference kernel (onednn_pool_norm.cc) declines training mode; this one computes the
// batch statistics with oneDNN (blocked layout, as BatchNormalizationGrad) and updates the
// running statistics as ONNX defines them: running = input * momentum + batch * (1 - momentum),
// with the biased batch variance.

struct BnTrainPlan {
  bool fallback = false;
  dnnl::primitive fwd;
  Bound x, y;
  memory mean, var, scale, shift;
};

class BnTrainKernel : public CachedKernel<BnTrainPlan> {
 public:
  using CachedKernel::CachedKernel;

 protected:
  Status MakePlan(KernelContext& ctx, BnTrainPlan& p) override {
    const Tensor& x = *ctx.inputs[0];
    if (x.rank() < 2 || x.rank() > 5) {
      p.fallback = true;
      return Status::Ok();
    }
    const float eps = node_.GetFloat("epsilon", 1e-5f);
    const auto flags = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;
    const memory::desc user = PlainDesc(x.shape()), cmd({x.dim(1)}, kF32, tag::a);
    const memory::desc md = BlockedNormDesc(x, user);
    dnnl::batch_normalization_forward::desc fd(dnnl::prop_kind::forward_training, md, eps, flags);
    p.fwd = dnnl::batch_normalization_forward(dnnl::batch_normalization_forward::primitive_desc(fd, Engine()));
    p.x.Init(user, md, false);
    p.y.Init(user, md, true);
    p.mean = memory(cmd, Engine());
    p.var = memory(cmd, Engine());
    p.scale = memory(cmd, Engine(), nullptr);
    p.shift = memory(cmd, Engine(), nullptr);
    return Status::Ok();
  }

  Status RunPlan(KernelContext& ctx, BnTrainPlan& p) override {
    SetThreads(ThreadsForWork(static_cast<double>(ctx.inputs[0]->numel()) * 4, threads_));
    p.x.In(stream_, *ctx.inputs[0]);
    p.y.SetOut(ctx.outputs[0]);
    p.scale.set_data_handle(const_cast<void*>(ctx.inputs[1]->raw()));
    p.shift.set_data_handle(const_cast<void*>(ctx.inputs[2]->raw()));
    p.fwd.execute(stream_, {{DNNL_ARG_SRC, p.x.arg()},
                            {DNNL_ARG_DST, p.y.arg()},
                            {DNNL_ARG_MEAN, p.mean},
                            {DNNL_ARG_VARIANCE, p.var},
                            {DNNL_ARG_SCALE, p.scale},
                            {DNNL_ARG_SHIFT, p.shift}});
    p.y.Out(stream_, ctx.outputs[0]);
    stream_.wait();
    const double mom = node_.GetFloat("momentum", 0.9f);
    const int64_t C = ctx.inputs[0]->dim(1);
    const float* bm = static_cast<const float*>(p.mean.get_data_handle());
    const float* bv = static_cast<const float*>(p.var.get_data_handle());
    for (size_t k = 1; k < 3; ++k) {
      Tensor* out = OutAt(ctx, k);
      if (!out) continue;
      const float* in = ctx.inputs[2 + k]->data<float>();
      const float* batch = k == 1 ? bm : bv;
      float* o = out->data<float>();
      for (int64_t c = 0; c < C; ++c)
        o[c] = static_cast<float>(static_cast<double>(in[c]) * mom + static_cast<double>(batch[c]) * (1 - mom));
    }
    return Status::Ok();
  }
};

Result<std::unique_ptr<Kernel>> CreateBnTrain(const KernelInfo& info) {
  const Node& n = info.node;
  size_t nout = 0;
  for (size_t i = 0; i < n.outputs.size(); ++i)
    if (n.HasOutput(i)) nout = i + 1;
  const bool training = info.opset >= 14 ? n.GetInt("training_mode", 0) != 0 : nout > 1;
  if (!training || nout > 3) return Unimplemented("{}: not a training-mode batch norm", n.Describe());
  if (!AllF32(info)) return Unimplemented("{}: oneDNN training batch norm handles f32 only", n.Describe());
  GREENAI_ASSIGN_OR_RETURN(CreatedKernel ref, CreateKernel(info, /*reference_only=*/true));
  std::unique_ptr<Kernel> k;
  GREENAI_RETURN_IF_ERROR(Guard(n.Describe(), [&]() -> Status {
    k = std::make_unique<BnTrainKernel>(info, std::move(ref.kernel));
    return Status::Ok();
  }));
  return k;
}

// ---------------- SoftmaxGrad / LogSoftmaxGrad ----------------

struct SoftmaxGradPlan {
  bool fallback = false;
  dnnl::primitive bwd;
  memory y, dy, dx;
};

class SoftmaxGradKernel : public CachedKernel<SoftmaxGradPlan> {
 public:
  using CachedKernel::CachedKernel;

 protected:
  Status MakePlan(KernelContext& ctx, SoftmaxGradPlan& p) override {
    const Tensor& y = *ctx.inputs[1];
    if (y.rank() < 1 || ctx.inputs[0]->shape() != y.shape()) {
      p.fallback = true;
      return Status::Ok();
    }
    GREENAI_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(node_.GetInt("axis", -1), y.rank(), node_.Describe()));
    const memory::desc md = PlainDesc(y.shape());
    const int ax = static_cast<int>(axis);
    if (node_.op_type == "SoftmaxGrad") {
      dnnl::softmax_forward::desc fd(dnnl::prop_kind::forward_training, md, ax);
      dnnl::softmax_forward::primitive_desc fpd(fd, Engine());
      dnnl::softmax_backward::desc bd(md, md, ax);
      p.bwd = dnnl::softmax_backward(dnnl::softmax_backward::primitive_desc(bd, Engine(), fpd));
    } else {
      dnnl::logsoftmax_forward::desc fd(dnnl::prop_kind::forward_training, md, ax);
      dnnl::logsoftmax_forward::primitive_desc fpd(fd, Engine());
      dnnl::logsoftmax_backward::desc bd(md, md, ax);
      p.bwd = dnnl::logsoftmax_backward(dnnl::logsoftmax_backward::primitive_desc(bd, Engine(), fpd));
    }
    p.y = memory(md, Engine(), nullptr);
    p.dy = memory(md, Engine(), nullptr);
    p.dx = memory(md, Engine(), nullptr);
    return Status::Ok();
  }

  Status RunPlan(KernelContext& ctx, SoftmaxGradPlan& p) override {
    SetThreads(ThreadsForWork(static_cast<double>(ctx.inputs[1]->numel()) * 4, threads_));
    p.y.set_data_handle(const_cast<void*>(ctx.inputs[1]->raw()));
    p.dy.set_data_handle(const_cast<void*>(ctx.inputs[0]->raw()));
    p.dx.set_data_handle(ctx.outputs[0]->raw());
    p.bwd.execute(stream_, {{DNNL_ARG_DST, p.y}, {DNNL_ARG_DIFF_DST, p.dy}, {DNNL_ARG_DIFF_SRC, p.dx}});
    stream_.wait();
    return Status::Ok();
  }
};

// ---------------- LayerNormalizationGrad ----------------
// oneDNN normalizes over the last dim; X is contiguous, so [.., axis..] is viewed as [R, D].

struct LnGradPlan {
  bool fallback = false;
  dnnl::primitive fwd, bwd;
  memory src, dst_scratch, mean, var, scale, shift, diff_dst, diff_src, diff_scale, diff_shift;
  memory dx_scratch, dscale_scratch, dshift_scratch;
};

class LnGradKernel : public CachedKernel<LnGradPlan> {
 public:
  using CachedKernel::CachedKernel;

 protected:
  Status MakePlan(KernelContext& ctx, LnGradPlan& p) override {
    const Tensor& x = *ctx.inputs[1];
    GREENAI_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(node_.GetInt("axis", -1), x.rank(), node_.Describe()));
    const int64_t D = NumElements(Shape(x.shape().begin() + axis, x.shape().end()));
    const int64_t R = x.numel() / std::max<int64_t>(D, 1);
    if (ctx.inputs[2]->numel() != D || ctx.inputs[0]->shape() != x.shape() || D == 0 || R == 0) {
      p.fallback = true;
      return Status::Ok();
    }
    const float eps = node_.GetFloat("epsilon", 1e-5f);
    const auto flags = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;
    const memory::desc md = PlainDesc({R, D}), smd({R}, kF32, tag::a), cmd({D}, kF32, tag::a);
    dnnl::layer_normalization_forward::desc fd(dnnl::prop_kind::forward_training, md, smd, eps, flags);
    dnnl::layer_normalization_forward::primitive_desc fpd(fd, Engine());
    dnnl::layer_normalization_backward::desc bd(dnnl::prop_kind::backward, md, md, smd, eps, flags);
    dnnl::layer_normalization_backward::primitive_desc bpd(bd, Engine(), fpd);
    p.fwd = dnnl::layer_normalization_forward(fpd);
    p.bwd = dnnl::layer_normalization_backward(bpd);
    p.src = memory(md, Engine(), nullptr);
    p.diff_dst = memory(md, Engine(), nullptr);
    p.diff_src = memory(md, Engine(), nullptr);
    p.dst_scratch = memory(md, Engine());
    p.mean = memory(smd, Engine());
    p.var = memory(smd, Engine());
    p.scale = memory(cmd, Engine(), nullptr);
    p.shift = memory(cmd, Engine());
    std::fill_n(static_cast<float*>(p.shift.get_data_handle()), D, 0.0f);
    p.diff_scale = memory(cmd, Engine(), nullptr);
    p.diff_shift = memory(cmd, Engine(), nullptr);
    if (!OutAt(ctx, 0)) p.dx_scratch = memory(md, Engine());
    if (!OutAt(ctx, 1)) p.dscale_scratch = memory(cmd, Engine());
    if (!OutAt(ctx, 2)) p.dshift_scratch = memory(cmd, Engine());
    return Status::Ok();
  }

  Status RunPlan(KernelContext& ctx, LnGradPlan& p) override {
    SetThreads(ThreadsForWork(static_cast<double>(ctx.inputs[1]->numel()) * 8, threads_));
    auto bind = [](memory& m, const Tensor* t, memory& scratch) {
      m.set_data_handle(t ? const_cast<void*>(t->raw()) : scratch.get_data_handle());
    };
    p.src.set_data_handle(const_cast<void*>(ctx.inputs[1]->raw()));
    p.diff_dst.set_data_handle(const_cast<void*>(ctx.inputs[0]->raw()));
    p.scale.set_data_handle(const_cast<void*>(ctx.inputs[2]->raw()));
    bind(p.diff_src, OutAt(ctx, 0), p.dx_scratch);
    bind(p.diff_scale, OutAt(ctx, 1), p.dscale_scratch);
    bind(p.diff_shift, OutAt(ctx, 2), p.dshift_scratch);
    p.fwd.execute(stream_, {{DNNL_ARG_SRC, p.src},
                            {DNNL_ARG_DST, p.dst_scratch},
                            {DNNL_ARG_MEAN, p.mean},
                            {DNNL_ARG_VARIANCE, p.var},
                            {DNNL_ARG_SCALE, p.scale},
                            {DNNL_ARG_SHIFT, p.shift}});
    p.bwd.execute(stream_, {{DNNL_ARG_SRC, p.src},
                            {DNNL_ARG_MEAN, p.mean},
                            {DNNL_ARG_VARIANCE, p.var},
                            {DNNL_ARG_DIFF_DST, p.diff_dst},
                            {DNNL_ARG_SCALE, p.scale},
                            {DNNL_ARG_SHIFT, p.shift},  // oneDNN 2.x lists it as a backward input with use_shift
                            {DNNL_ARG_DIFF_SRC, p.diff_src},
                            {DNNL_ARG_DIFF_SCALE, p.diff_scale},
                            {DNNL_ARG_DIFF_SHIFT, p.diff_shift}});
    stream_.wait();
    return Status::Ok();
  }
};

// ---------------- GeluGrad / ReluGrad (eltwise backward from the forward input) ----------------

struct GeluGradPlan {
  bool fallback = false;
  dnnl::primitive bwd;
  memory x, dy, dx;
};

class GeluGradKernel : public CachedKernel<GeluGradPlan> {
 public:
  using CachedKernel::CachedKernel;

 protected:
  Status MakePlan(KernelContext& ctx, GeluGradPlan& p) override {
    const Tensor& x = *ctx.inputs[1];
    if (ctx.inputs[0]->shape() != x.shape() || x.numel() == 0) {
      p.fallback = true;
      return Status::Ok();
    }
    dnnl::algorithm alg = dnnl::algorithm::eltwise_relu;
    float alpha = 0;
    if (node_.op_type == "ReluGrad") {
      alpha = node_.GetFloat("alpha", 0.0f);
    } else {
      const std::string approx = node_.GetString("approximate", "none");
      if (approx != "none" && approx != "tanh")
        return InvalidArgument("{}: approximate '{}' is not none or tanh", node_.Describe(), approx);
      alg = approx == "tanh" ? dnnl::algorithm::eltwise_gelu_tanh : dnnl::algorithm::eltwise_gelu_erf;
    }
    const memory::desc md = PlainDesc({x.numel()});
    dnnl::eltwise_forward::desc fd(dnnl::prop_kind::forward_training, alg, md, alpha);
    dnnl::eltwise_forward::primitive_desc fpd(fd, Engine());
    dnnl::eltwise_backward::desc bd(alg, md, md, alpha);
    p.bwd = dnnl::eltwise_backward(dnnl::eltwise_backward::primitive_desc(bd, Engine(), fpd));
    p.x = memory(md, Engine(), nullptr);
    p.dy = memory(md, Engine(), nullptr);
    p.dx = memory(md, Engine(), nullptr);
    return Status::Ok();
  }

  Status RunPlan(KernelContext& ctx, GeluGradPlan& p) override {
    SetThreads(ThreadsForWork(static_cast<double>(ctx.inputs[1]->numel()) * (node_.op_type == "ReluGrad" ? 1 : 16),
                              threads_));
    p.x.set_data_handle(const_cast<void*>(ctx.inputs[1]->raw()));
    p.dy.set_data_handle(const_cast<void*>(ctx.inputs[0]->raw()));
    p.dx.set_data_handle(ctx.outputs[0]->raw());
    p.bwd.execute(stream_, {{DNNL_ARG_SRC, p.x}, {DNNL_ARG_DIFF_DST, p.dy}, {DNNL_ARG_DIFF_SRC, p.dx}});
    stream_.wait();
    return Status::Ok();
  }
};

template <typename K>
Result<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
  const Node& n = info.node;
  if (!AllF32(info)) return Unimplemented("{}: oneDNN training kernel handles f32 only", n.Describe());
  if (n.op_type == "BatchNormalizationGrad" && n.GetInt("training_mode", 1) == 0)
    return Unimplemented("{}: inference-form gradient uses the reference kernel", n.Describe());
  GREENAI_ASSIGN_OR_RETURN(CreatedKernel ref, CreateKernel(info, /*reference_only=*/true));
  std::unique_ptr<Kernel> k;
  Status st = Guard(n.Describe(), [&]() -> Status {
    k = std::make_unique<K>(info, std::move(ref.kernel));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return k;
}

}  // namespace
}  // namespace greenai::onednn

namespace greenai {
void AddOneDnnTrainingKernels(std::vector<KernelDef>& defs) {
  using namespace onednn;
  const auto d = training::kDomain;
  defs.push_back({"ConvGrad", d, "f32_convgrad__onednn", 10, Create<ConvGradKernel>});
  defs.push_back({"MaxPoolGrad", d, "f32_maxpoolgrad__onednn", 10, Create<PoolGradKernel>});
  defs.push_back({"AveragePoolGrad", d, "f32_averagepoolgrad__onednn", 10, Create<PoolGradKernel>});
  defs.push_back({"BatchNormalizationGrad", d, "f32_batchnormalizationgrad__onednn", 10, Create<BnGradKernel>});
  defs.push_back({"SoftmaxGrad", d, "f32_softmaxgrad__onednn", 10, Create<SoftmaxGradKernel>});
  defs.push_back({"LogSoftmaxGrad", d, "f32_logsoftmaxgrad__onednn", 10, Create<SoftmaxGradKernel>});
  defs.push_back({"LayerNormalizationGrad", d, "f32_layernormalizationgrad__onednn", 10, Create<LnGradKernel>});
  defs.push_back({"GeluGrad", d, "f32_gelugrad__onednn", 10, Create<GeluGradKernel>});
  defs.push_back({"ReluGrad", d, "f32_relugrad__onednn", 10, Create<GeluGradKernel>});
  // Above the inference kernel (priority 10), which declines training mode.
  defs.push_back({"BatchNormalization", "", "f32_batchnormalization_training__onednn", 11, CreateBnTrain});
}
}  // namespace greenai
