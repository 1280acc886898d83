// oneDNN pooling (MaxPool without Indices, AveragePool, GlobalAverage/MaxPool), inference
// BatchNormalization, LayerNormalization (no Mean/InvStdDev outputs), InstanceNormalization
// (as a layer norm over rows of N*C, affine applied after) and Softmax/LogSoftmax. f32 only,
// except MaxPool, which also takes uint8/int8 (exact: a max).
//
// Each kernel keeps one plan per input shape (up to kMaxPlans). Geometries oneDNN rejects or
// defines differently (e.g. ceil-mode overhang with count_include_pad) run the reference kernel.
// A pooling node marked NCHW8c (ops/layout.h, passes/blocked_layout.cc) reads and writes the
// blocked layout [N, C/8, H, W, 8] directly, with no reorder; a float32 2-D pooling node
// marked NHWC (passes/channels_last.cc, AVX-512 CPUs) reads and writes [N, H, W, C] the same way.
#include <map>
#include <optional>

#include "backends/cpu/onednn_util.h"
#include "ops/layout.h"
#include "ops/nn_util.h"
#include "ops/shape_util.h"

namespace greenai::onednn {
namespace {

using dnnl::memory;
constexpr size_t kMaxPlans = 8;

struct Plan {
  bool fallback = false;
  dnnl::primitive prim;
  memory src, dst;
  std::vector<std::pair<int, memory>> extra;  // args bound to input tensors (scale, mean, ...)
  std::vector<int> extra_input;               // which ctx.inputs index feeds each extra arg (-1: owned)
  // Pooling runs on oneDNN's channel-blocked layout (its plain-layout pooling is a slow
  // generic loop: 9 ms vs under 1 ms for ResNet-18's first MaxPool); user memories are plain.
  bool blocked = false;      // reorders around the primitive (plain user tensors)
  bool laid_out = false;     // NCHW8c-marked node: user tensors are already blocked
  bool nhwc = false;         // NHWC-marked float32 node: user tensors are [N, H, W, C]
  memory src_user, dst_user;
  dnnl::reorder to_blocked, from_blocked;
};

enum class Kind { kMaxPool, kAvgPool, kGlobalAvg, kGlobalMax, kBatchNorm, kLayerNorm, kInstanceNorm, kSoftmax, kLogSoftmax };

class PoolNormKernel : public Kernel {
 public:
  PoolNormKernel(const KernelInfo& info, Kind kind, std::unique_ptr<Kernel> fallback)
      : node_(info.node), kind_(kind), opset_(info.opset), fallback_(std::move(fallback)), threads_(info.num_threads),
        stream_(Engine()) {}

  Status Run(KernelContext& ctx) override {
    return Guard(node_, [&]() -> Status { return RunImpl(ctx); }, /*run_time=*/true);
  }

 private:
  Status RunImpl(KernelContext& ctx) {
    const Tensor& x = *ctx.inputs[0];
    auto it = plans_.find(x.shape());
    if (it == plans_.end()) {
      if (plans_.size() >= kMaxPlans) plans_.clear();
      auto p = std::make_unique<Plan>();
      Status st = Status::Ok();
      try {
        st = MakePlan(ctx, *p);
      } catch (const dnnl::error&) {
        p->fallback = true;  // a geometry this oneDNN build does not implement
      }
      GREENAI_RETURN_IF_ERROR(st);
      it = plans_.emplace(x.shape(), std::move(p)).first;
    }
    Plan& p = *it->second;
    if (p.fallback) return fallback_->Run(ctx);
    SetThreads(threads_);
    Tensor& y = *ctx.outputs[0];
    if (p.laid_out && (x.rank() != 5 || y.rank() != 5))
      return InvalidArgument("{}: NCHW8c pooling needs rank-5 input and output", node_.Describe());
    if (p.blocked) {
      p.src_user.set_data_handle(const_cast<void*>(x.raw()));
      p.dst_user.set_data_handle(y.raw());
      p.to_blocked.execute(stream_, p.src_user, p.src);
    } else {
      p.src.set_data_handle(const_cast<void*>(x.raw()));
      p.dst.set_data_handle(y.raw());
    }
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, p.src}, {DNNL_ARG_DST, p.dst}};
    for (size_t i = 0; i < p.extra.size(); ++i) {
      if (p.extra_input[i] >= 0)
        p.extra[i].second.set_data_handle(const_cast<void*>(ctx.inputs[static_cast<size_t>(p.extra_input[i])]->raw()));
      args[p.extra[i].first] = p.extra[i].second;
    }
    p.prim.execute(stream_, args);
    if (p.blocked) p.from_blocked.execute(stream_, p.dst, p.dst_user);
    stream_.wait();
    if (kind_ == Kind::kInstanceNorm) ApplyChannelAffine(ctx);
    return Status::Ok();
  }

  // Instance norm: oneDNN normalized each (n, c) row; apply scale[c], B[c] here.
  static void ApplyChannelAffine(KernelContext& ctx) {
    Tensor& y = *ctx.outputs[0];
    const int64_t N = y.dim(0), C = y.dim(1), S = y.numel() / std::max<int64_t>(N * C, 1);
    const float* sc = ctx.inputs[1]->data<float>();
    const float* b = ctx.inputs[2]->data<float>();
    float* yd = y.data<float>();
    for (int64_t n = 0; n < N; ++n)
      for (int64_t c = 0; c < C; ++c) {
        float* row = yd + (n * C + c) * S;
        for (int64_t i = 0; i < S; ++i) row[i] = row[i] * sc[c] + b[c];
      }
  }

  Status MakePlan(KernelContext& ctx, Plan& p) {
    const Tensor& xt = *ctx.inputs[0];
    // An NCHW8c input [N, C/8, H, W, 8] is planned on its logical NCHW shape.
    p.laid_out = IsBlocked8(node_) && xt.rank() == 5;
    p.nhwc = IsChannelsLast(node_) && xt.rank() == 4 && xt.dtype() == DType::kF32;
    const Shape xs = p.laid_out ? Shape{xt.dim(0), xt.dim(1) * xt.dim(4), xt.dim(2), xt.dim(3)}
                     : p.nhwc   ? Shape{xt.dim(0), xt.dim(3), xt.dim(1), xt.dim(2)}
                                : xt.shape();
    const Tensor x = Tensor::View(xt.dtype(), xs, const_cast<void*>(xt.raw()));
    const auto inf = dnnl::prop_kind::forward_inference;
    const auto f32 = memory::data_type::f32;
    switch (kind_) {
      case Kind::kMaxPool:
      case Kind::kAvgPool:
      case Kind::kGlobalAvg:
      case Kind::kGlobalMax: {
        const int nsp = x.rank() - 2;
        if (nsp < 1 || nsp > 3) { p.fallback = true; return Status::Ok(); }
        std::vector<int64_t> sp(xs.begin() + 2, xs.end());
        nn::WindowGeom g;
        bool include_pad = false;
        if (kind_ == Kind::kGlobalAvg || kind_ == Kind::kGlobalMax) {
          g.in = sp;
          g.kernel = sp;
          g.out.assign(sp.size(), 1);
          g.strides.assign(sp.size(), 1);
          g.dilations.assign(sp.size(), 1);
          g.pad_begin.assign(sp.size(), 0);
          g.pad_end.assign(sp.size(), 0);
        } else {
          if (!attrs_ || attrs_->nsp != nsp) {
            GREENAI_ASSIGN_OR_RETURN(auto a, nn::WindowAttrs::Parse(node_, nsp, {}, false));
            attrs_ = std::move(a);
          }
          GREENAI_ASSIGN_OR_RETURN(g, nn::ComputeForward(node_, *attrs_, sp));
          include_pad = kind_ == Kind::kAvgPool && node_.GetInt("count_include_pad", 0) != 0;
        }
        const bool lift = nsp == 1;
        auto L = [lift](std::vector<int64_t> v, int64_t fill) {
          if (lift) v.insert(v.begin(), fill);
          return v;
        };
        std::vector<int64_t> in = L(g.in, 1), out = L(g.out, 1), k = L(g.kernel, 1), s = L(g.strides, 1);
        std::vector<int64_t> d = L(g.dilations, 1), pl = L(g.pad_begin, 0), pr = L(g.pad_end, 0);
        memory::dims dil(in.size());
        for (size_t i = 0; i < in.size(); ++i) {
          dil[i] = d[i] - 1;
          // Ceil mode: extend the right padding so oneDNN's floor formula yields `out`.
          int64_t need = (out[i] - 1) * s[i] + (k[i] - 1) * d[i] + 1 - in[i] - pl[i];
          if (need != pr[i]) {
            if (include_pad && need > pr[i]) { p.fallback = true; return Status::Ok(); }
            pr[i] = need;
          }
          if (pr[i] < 0) { p.fallback = true; return Status::Ok(); }
        }
        Shape src{xs[0], xs[1]}, dst{xs[0], xs[1]};
        src.insert(src.end(), in.begin(), in.end());
        dst.insert(dst.end(), out.begin(), out.end());
        auto alg = (kind_ == Kind::kMaxPool || kind_ == Kind::kGlobalMax) ? dnnl::algorithm::pooling_max
                   : include_pad ? dnnl::algorithm::pooling_avg_include_padding
                                 : dnnl::algorithm::pooling_avg_exclude_padding;
        // Pools use the 8-channel blocked layout (see Plan); nsp is 1..3, so tensors are 4-D/5-D.
        // uint8/int8 max pools (QDQ models) use channels-last, oneDNN's int8 pooling layout.
        const bool int8 = x.dtype() != DType::kF32;
        if (p.laid_out && (int8 || nsp != 2)) { p.fallback = true; return Status::Ok(); }
        const bool blocked = !p.laid_out && !p.nhwc;
        const auto dt = !int8 ? f32 : x.dtype() == DType::kU8 ? memory::data_type::u8 : memory::data_type::s8;
        auto BlockedDesc = [&](const Shape& sh) {
          if (int8) return memory::desc(Dims(sh), dt, sh.size() == 4 ? memory::format_tag::nhwc : memory::format_tag::ndhwc);
          return memory::desc(Dims(sh), f32, sh.size() == 4 ? memory::format_tag::aBcd8b : memory::format_tag::aBcde8b);
        };
        auto PlainOf = [&](const Shape& sh) { return memory::desc(Dims(sh), dt, Strides(sh)); };
        auto NhwcDesc = [&](const Shape& sh) { return memory::desc(Dims(sh), f32, memory::format_tag::nhwc); };
        memory::desc src_md = p.nhwc ? NhwcDesc(src) : blocked || p.laid_out ? BlockedDesc(src) : PlainOf(src);
        memory::desc dst_md = p.nhwc ? NhwcDesc(dst) : blocked || p.laid_out ? BlockedDesc(dst) : PlainOf(dst);
        dnnl::pooling_v2_forward::desc pd_d(inf, alg, src_md, dst_md, Dims(s), Dims(k), dil, Dims(pl), Dims(pr));
        dnnl::pooling_v2_forward::primitive_desc pd(pd_d, Engine());
        p.prim = dnnl::pooling_v2_forward(pd);
        if (blocked) {
          p.blocked = true;
          p.src = memory(src_md, Engine());  // owned blocked buffers
          p.dst = memory(dst_md, Engine());
          p.src_user = memory(PlainOf(src), Engine(), nullptr);
          p.dst_user = memory(PlainOf(dst), Engine(), nullptr);
          p.to_blocked = dnnl::reorder(p.src_user, p.src);
          p.from_blocked = dnnl::reorder(p.dst, p.dst_user);
        } else {
          p.src = memory(src_md, Engine(), nullptr);
          p.dst = memory(dst_md, Engine(), nullptr);
        }
        return Status::Ok();
      }
      case Kind::kBatchNorm: {
        if (x.rank() > 5) { p.fallback = true; return Status::Ok(); }
        const float eps = node_.GetFloat("epsilon", 1e-5f);
        auto flags = dnnl::normalization_flags::use_global_stats | dnnl::normalization_flags::use_scale |
                     dnnl::normalization_flags::use_shift;
        dnnl::batch_normalization_forward::desc bd(inf, PlainDesc(xs), eps, flags);
        dnnl::batch_normalization_forward::primitive_desc pd(bd, Engine());
        p.prim = dnnl::batch_normalization_forward(pd);
        p.src = memory(PlainDesc(xs), Engine(), nullptr);
        p.dst = memory(PlainDesc(xs), Engine(), nullptr);
        memory::desc cmd({xs[1]}, f32, memory::format_tag::a);
        const int args[4] = {DNNL_ARG_SCALE, DNNL_ARG_SHIFT, DNNL_ARG_MEAN, DNNL_ARG_VARIANCE};
        for (int i = 0; i < 4; ++i) {
          p.extra.emplace_back(args[i], memory(cmd, Engine(), nullptr));
          p.extra_input.push_back(i + 1);
        }
        return Status::Ok();
      }
      case Kind::kLayerNorm:
      case Kind::kInstanceNorm: {
        int64_t rows, len;
        if (kind_ == Kind::kLayerNorm) {
          GREENAI_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(node_.GetInt("axis", -1), x.rank(), node_.Describe()));
          len = nn::Prod(xs, static_cast<size_t>(axis));
          rows = x.numel() / std::max<int64_t>(len, 1);
          // oneDNN's scale/shift span the whole normalized row: broadcast Scale/B go to the reference.
          for (size_t i = 1; i < ctx.inputs.size(); ++i)
            if (ctx.inputs[i] && ctx.inputs[i]->numel() != len) { p.fallback = true; return Status::Ok(); }
        } else {
          rows = xs[0] * xs[1];
          len = x.numel() / std::max<int64_t>(rows, 1);
        }
        if (rows == 0 || len == 0) { p.fallback = true; return Status::Ok(); }
        const float eps = node_.GetFloat("epsilon", 1e-5f);
        auto flags = dnnl::normalization_flags::none;
        const bool has_b = ctx.inputs.size() > 2 && ctx.inputs[2];
        if (kind_ == Kind::kLayerNorm) {
          flags = dnnl::normalization_flags::use_scale;
          if (has_b) flags = flags | dnnl::normalization_flags::use_shift;
        }
        memory::desc md = PlainDesc({rows, len});
        dnnl::layer_normalization_forward::desc ld(inf, md, eps, flags);
        dnnl::layer_normalization_forward::primitive_desc pd(ld, Engine());
        p.prim = dnnl::layer_normalization_forward(pd);
        p.src = memory(md, Engine(), nullptr);
        p.dst = memory(md, Engine(), nullptr);
        if (kind_ == Kind::kLayerNorm) {
          memory::desc smd({len}, f32, memory::format_tag::a);
          p.extra.emplace_back(DNNL_ARG_SCALE, memory(smd, Engine(), nullptr));
          p.extra_input.push_back(1);
          if (has_b) {
            p.extra.emplace_back(DNNL_ARG_SHIFT, memory(smd, Engine(), nullptr));
            p.extra_input.push_back(2);
          }
        }
        return Status::Ok();
      }
      case Kind::kSoftmax:
      case Kind::kLogSoftmax: {
        Shape s = xs;
        int64_t axis;
        if (opset_ >= 13) {
          GREENAI_ASSIGN_OR_RETURN(axis, NormalizeAxis(node_.GetInt("axis", -1), x.rank(), node_.Describe()));
        } else {
          // Before opset 13: flatten to 2-D at `axis` and normalize each row.
          GREENAI_ASSIGN_OR_RETURN(int64_t a, NormalizeAxis(node_.GetInt("axis", 1), x.rank(), node_.Describe()));
          int64_t inner = nn::Prod(xs, static_cast<size_t>(a));
          s = {x.numel() / std::max<int64_t>(inner, 1), inner};
          axis = 1;
        }
        if (s.empty() || x.numel() == 0) { p.fallback = true; return Status::Ok(); }
        auto alg = kind_ == Kind::kSoftmax ? dnnl::algorithm::softmax_accurate : dnnl::algorithm::softmax_log;
        dnnl::softmax_v2_forward::desc sd(inf, alg, PlainDesc(s), PlainDesc(s), static_cast<int>(axis));
        dnnl::softmax_v2_forward::primitive_desc pd(sd, Engine());
        p.prim = dnnl::softmax_v2_forward(pd);
        p.src = memory(PlainDesc(s), Engine(), nullptr);
        p.dst = memory(PlainDesc(s), Engine(), nullptr);
        return Status::Ok();
      }
    }
    return Internal("{}: unknown oneDNN kind", node_.Describe());
  }

  Node node_;
  Kind kind_;
  int64_t opset_;
  std::unique_ptr<Kernel> fallback_;
  int threads_;
  dnnl::stream stream_;
  std::optional<nn::WindowAttrs> attrs_;
  std::map<Shape, std::unique_ptr<Plan>> plans_;
};

template <Kind K, bool kInt8 = false>
Result<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
  const Node& n = info.node;
  if (kInt8) {
    const DType t = info.input_types[0].dtype;
    if (t != DType::kU8 && t != DType::kI8) return Unimplemented("{}: not uint8/int8", n.Describe());
  } else if (!AllF32(info)) {
    return Unimplemented("{}: oneDNN kernel handles f32 only", n.Describe());
  }
  size_t nout = 0;
  for (size_t i = 0; i < n.outputs.size(); ++i) if (n.HasOutput(i)) nout = i + 1;
  if (nout > 1) return Unimplemented("{}: extra outputs (Indices, statistics) use the reference kernel", n.Describe());
  if (K == Kind::kBatchNorm && info.opset >= 14 && n.GetInt("training_mode", 0) != 0)
    return Unimplemented("{}: training_mode uses the reference kernel", n.Describe());
  if (K == Kind::kInstanceNorm && !(info.node.HasInput(1) && info.node.HasInput(2)))
    return Unimplemented("{}: missing scale/B", n.Describe());
  CreatedKernel ref;
  if (K == Kind::kSoftmax || K == Kind::kLogSoftmax) {
    // The reference Softmax belongs to another family; without one, decline.
    auto r = CreateKernel(info, /*reference_only=*/true);
    if (!r.ok()) return Unimplemented("{}: no reference fallback: {}", n.Describe(), r.status().message());
    ref = std::move(r).value();
  } else {
    GREENAI_ASSIGN_OR_RETURN(ref, CreateKernel(info, /*reference_only=*/true));
  }
  std::unique_ptr<Kernel> k;
  GREENAI_RETURN_IF_ERROR(Guard(n.Describe(), [&]() -> Status {
    k = std::make_unique<PoolNormKernel>(info, K, std::move(ref.kernel));
    return Status::Ok();
  }));
  return k;
}

}  // namespace

void AddPoolNormKernels(std::vector<KernelDef>& defs) {
  defs.push_back({"MaxPool", "", "f32_maxpool__onednn", 10, Create<Kind::kMaxPool>});
  defs.push_back({"AveragePool", "", "f32_averagepool__onednn", 10, Create<Kind::kAvgPool>});
  defs.push_back({"GlobalAveragePool", "", "f32_globalaveragepool__onednn", 10, Create<Kind::kGlobalAvg>});
  defs.push_back({"GlobalMaxPool", "", "f32_globalmaxpool__onednn", 10, Create<Kind::kGlobalMax>});
  defs.push_back({"MaxPool", "", "i8_maxpool__onednn", 10, Create<Kind::kMaxPool, true>});
  defs.push_back({"BatchNormalization", "", "f32_batchnormalization__onednn", 10, Create<Kind::kBatchNorm>});
  defs.push_back({"LayerNormalization", "", "f32_layernormalization__onednn", 10, Create<Kind::kLayerNorm>});
  defs.push_back({"InstanceNormalization", "", "f32_instancenormalization__onednn", 10, Create<Kind::kInstanceNorm>});
  defs.push_back({"Softmax", "", "f32_softmax__onednn", 20, Create<Kind::kSoftmax>});
  defs.push_back({"LogSoftmax", "", "f32_logsoftmax__onednn", 20, Create<Kind::kLogSoftmax>});
}

}  // namespace greenai::onednn
