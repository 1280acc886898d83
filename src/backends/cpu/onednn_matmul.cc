// oneDNN MatMul (batched, numpy broadcasting of batch dims, 1-D operands) and Gemm (transA/B
// through strided memory descriptors, alpha as an output scale, beta*C as a sum post-op over
// the output prefilled with broadcast C). f32 only.
//
// A constant B is pre-packed once per plan into the layout oneDNN picks (format_tag::any);
// plans are cached per input shapes (up to kMaxPlans).
#include <map>

#include "backends/cpu/onednn_util.h"
#include "ops/shape_util.h"

namespace greenai::onednn {
namespace {

using dnnl::memory;
using tag = dnnl::memory::format_tag;
constexpr size_t kMaxRank = 6;

struct MatMulPlan {
  dnnl::matmul prim;
  memory a_mem, b_user, b_mem, y_mem;
  dnnl::reorder b_reorder;
  bool need_b_reorder = false;
  bool fallback = false;
};

// Shared by MatMul and Gemm: builds the primitive from logical descs of A, B, Y.
std::unique_ptr<MatMulPlan> BuildPlan(const memory::desc& a_md, const memory::desc& b_user_md, const memory::desc& y_md,
                                      const dnnl::primitive_attr& attr, const Tensor* b_const, dnnl::stream& stream) {
  auto p = std::make_unique<MatMulPlan>();
  memory::desc b_md = b_user_md;
  if (b_const) b_md = memory::desc(b_user_md.dims(), memory::data_type::f32, tag::any);
  dnnl::matmul::desc d(a_md, b_md, y_md);
  dnnl::matmul::primitive_desc pd(d, attr, Engine());
  p->prim = dnnl::matmul(pd);
  p->a_mem = memory(a_md, Engine(), nullptr);
  p->y_mem = memory(y_md, Engine(), nullptr);
  p->b_user = memory(b_user_md, Engine(), nullptr);
  if (b_const) {
    p->b_user.set_data_handle(const_cast<void*>(b_const->raw()));
    if (pd.weights_desc() != b_user_md) {
      p->need_b_reorder = true;
      p->b_mem = memory(pd.weights_desc(), Engine());
      dnnl::reorder(p->b_user, p->b_mem).execute(stream, p->b_user, p->b_mem);
      stream.wait();
    }
  }
  return p;
}

class MatMulKernel : public Kernel {
 public:
  MatMulKernel(const KernelInfo& info, std::unique_ptr<Kernel> fallback)
      : who_(info.node.Describe()), fallback_(std::move(fallback)), threads_(info.num_threads), stream_(Engine()) {
    if (info.const_inputs.size() > 1 && info.const_inputs[1]) b_const_ = *info.const_inputs[1];
  }
  Status Run(KernelContext& ctx) override {
    return Guard(who_, [&]() -> Status { return RunImpl(ctx); }, /*run_time=*/true);
  }

 private:
  Status RunImpl(KernelContext& ctx) {
    const Tensor& a = *ctx.inputs[0];
    const Tensor& b = *ctx.inputs[1];
    auto key = std::make_pair(a.shape(), b.shape());
    // Before any plan is made: some oneDNN primitives fix their thread count at creation.
    SetThreads(ThreadsForWork(static_cast<double>(ctx.outputs[0]->numel()) *
                                  static_cast<double>(a.rank() ? a.shape().back() : 1),
                              threads_));
    GREENAI_ASSIGN_OR_RETURN(MatMulPlan* plan, FindOrMakePlan(plans_, key, [&] { return MakePlan(a, b); }));
    MatMulPlan& p = *plan;
    if (p.fallback) return fallback_->Run(ctx);
    p.a_mem.set_data_handle(const_cast<void*>(a.raw()));
    p.y_mem.set_data_handle(ctx.outputs[0]->raw());
    if (!b_const_.defined()) p.b_user.set_data_handle(const_cast<void*>(b.raw()));
    p.prim.execute(stream_, {{DNNL_ARG_SRC, p.a_mem},
                             {DNNL_ARG_WEIGHTS, p.need_b_reorder ? p.b_mem : p.b_user},
                             {DNNL_ARG_DST, p.y_mem}});
    stream_.wait();
    return Status::Ok();
  }

  Result<std::unique_ptr<MatMulPlan>> MakePlan(const Tensor& a, const Tensor& b) {
    Shape as = a.shape(), bs = b.shape();
    if (as.size() == 1) as.insert(as.begin(), 1);
    if (bs.size() == 1) bs.push_back(1);
    const size_t r = std::max(as.size(), bs.size());
    if (r > kMaxRank || NumElements(as) == 0 || NumElements(bs) == 0) {
      auto p = std::make_unique<MatMulPlan>();
      p->fallback = true;
      return p;
    }
    as.insert(as.begin(), r - as.size(), 1);
    bs.insert(bs.begin(), r - bs.size(), 1);
    Shape ab(as.begin(), as.end() - 2), bb(bs.begin(), bs.end() - 2);
    GREENAI_ASSIGN_OR_RETURN(Shape ys, BroadcastDims({ab, bb}, who_));
    ys.push_back(as[r - 2]);
    ys.push_back(bs[r - 1]);
    return BuildPlan(PlainDesc(as), PlainDesc(bs), PlainDesc(ys), dnnl::primitive_attr(),
                     b_const_.defined() ? &b_const_ : nullptr, stream_);
  }

  std::string who_;
  std::unique_ptr<Kernel> fallback_;
  int threads_;
  dnnl::stream stream_;
  Tensor b_const_;
  std::map<std::pair<Shape, Shape>, std::unique_ptr<MatMulPlan>> plans_;
};

class GemmKernel : public Kernel {
 public:
  GemmKernel(const KernelInfo& info, std::unique_ptr<Kernel> fallback)
      : who_(info.node.Describe()), fallback_(std::move(fallback)), ta_(info.node.GetInt("transA", 0) != 0), tb_(info.node.GetInt("transB", 0) != 0),
        alpha_(info.node.GetFloat("alpha", 1.f)), beta_(info.node.GetFloat("beta", 1.f)),
        threads_(info.num_threads), stream_(Engine()) {
    if (info.const_inputs.size() > 1 && info.const_inputs[1]) b_const_ = *info.const_inputs[1];
  }
  Status Run(KernelContext& ctx) override {
    return Guard(who_, [&]() -> Status { return RunImpl(ctx); }, /*run_time=*/true);
  }

 private:
  Status RunImpl(KernelContext& ctx) {
    const Tensor& a = *ctx.inputs[0];
    const Tensor& b = *ctx.inputs[1];
    const Tensor* c = ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
    const bool use_c = c && beta_ != 0;
    auto key = std::make_pair(a.shape(), b.shape());
    Tensor& y = *ctx.outputs[0];
    // Before any plan is made: some oneDNN primitives fix their thread count at creation.
    SetThreads(ThreadsForWork(static_cast<double>(y.numel()) * static_cast<double>(a.numel()) /
                                  static_cast<double>(std::max<int64_t>(y.rank() ? y.dim(0) : 1, 1)),
                              threads_));
    // A configuration oneDNN rejects (e.g. empty dims) falls back to the reference.
    GREENAI_ASSIGN_OR_RETURN(MatMulPlan* plan, FindOrMakePlan(plans_, key, [&]() -> Result<std::unique_ptr<MatMulPlan>> {
                               return MakePlan(a, b, use_c);
                             }));
    MatMulPlan& p = *plan;
    if (p.fallback) return fallback_->Run(ctx);
    if (use_c) BroadcastC(*c, y);
    p.a_mem.set_data_handle(const_cast<void*>(a.raw()));
    p.y_mem.set_data_handle(y.raw());
    if (!b_const_.defined()) p.b_user.set_data_handle(const_cast<void*>(b.raw()));
    p.prim.execute(stream_, {{DNNL_ARG_SRC, p.a_mem},
                             {DNNL_ARG_WEIGHTS, p.need_b_reorder ? p.b_mem : p.b_user},
                             {DNNL_ARG_DST, p.y_mem}});
    stream_.wait();
    return Status::Ok();
  }

  static void BroadcastC(const Tensor& c, Tensor& y) {
    const int64_t M = y.dim(0), N = y.dim(1);
    const float* cd = c.data<float>();
    float* yd = y.data<float>();
    const Shape& cs = c.shape();
    const int64_t sm = cs.size() == 2 && cs[0] != 1 ? cs[1] : 0;
    const int64_t sn = !cs.empty() && cs.back() != 1 ? 1 : 0;
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) yd[m * N + n] = cd[m * sm + n * sn];
  }

  std::unique_ptr<MatMulPlan> MakePlan(const Tensor& a, const Tensor& b, bool use_c) {
    const int64_t M = ta_ ? a.dim(1) : a.dim(0), K = ta_ ? a.dim(0) : a.dim(1), N = tb_ ? b.dim(0) : b.dim(1);
    const auto f32 = memory::data_type::f32;
    // Transposes are strided views: no copies.
    memory::desc a_md({M, K}, f32, ta_ ? memory::dims{1, M} : memory::dims{K, 1});
    memory::desc b_md({K, N}, f32, tb_ ? memory::dims{1, K} : memory::dims{N, 1});
    memory::desc y_md({M, N}, f32, memory::dims{N, 1});
    dnnl::primitive_attr attr;
    if (alpha_ != 1.f) attr.set_output_scales(0, {alpha_});
    if (use_c) {
      dnnl::post_ops po;
      po.append_sum(beta_);
      attr.set_post_ops(po);
    }
    return BuildPlan(a_md, b_md, y_md, attr, b_const_.defined() ? &b_const_ : nullptr, stream_);
  }

  std::string who_;
  std::unique_ptr<Kernel> fallback_;
  bool ta_, tb_;
  float alpha_, beta_;
  int threads_;
  dnnl::stream stream_;
  Tensor b_const_;
  std::map<std::pair<Shape, Shape>, std::unique_ptr<MatMulPlan>> plans_;
};

Result<std::unique_ptr<Kernel>> CreateMatMul(const KernelInfo& info) {
  if (!AllF32(info)) return Unimplemented("{}: oneDNN matmul handles f32 only", info.node.Describe());
  GREENAI_ASSIGN_OR_RETURN(CreatedKernel ref, CreateKernel(info, /*reference_only=*/true));
  std::unique_ptr<Kernel> k;
  GREENAI_RETURN_IF_ERROR(Guard(info.node.Describe(), [&]() -> Status {
    k = std::make_unique<MatMulKernel>(info, std::move(ref.kernel));
    return Status::Ok();
  }));
  return k;
}

Result<std::unique_ptr<Kernel>> CreateGemm(const KernelInfo& info) {
  if (!AllF32(info)) return Unimplemented("{}: oneDNN gemm handles f32 only", info.node.Describe());
  GREENAI_ASSIGN_OR_RETURN(CreatedKernel ref, CreateKernel(info, /*reference_only=*/true));
  std::unique_ptr<Kernel> k;
  GREENAI_RETURN_IF_ERROR(Guard(info.node.Describe(), [&]() -> Status {
    k = std::make_unique<GemmKernel>(info, std::move(ref.kernel));
    return Status::Ok();
  }));
  return k;
}

}  // namespace

void AddMatMulKernels(std::vector<KernelDef>& defs) {
  defs.push_back({"MatMul", "", "f32_matmul__onednn", 10, CreateMatMul});
  defs.push_back({"Gemm", "", "f32_gemm__onednn", 10, CreateGemm});
}

}  // namespace greenai::onednn
