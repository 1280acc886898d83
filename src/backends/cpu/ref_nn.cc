// Kernel family ref_nn: reference Conv, ConvTranspose, Gemm and MatMul (pools and norms in
// ref_nn_pool.cc / ref_nn_norm.cc). Plain loops, accumulation in AccT (float or wider); these
// are the oracle for the oneDNN kernels. See backends/cpu/kernel.h for the contract.
#include <algorithm>
#include <optional>

#include "backends/cpu/kernel.h"
#include "backends/cpu/ref_nn_util.h"
#include "ops/conv_add.h"
#include "ops/nn_util.h"
#include "ops/shape_util.h"

namespace greenai {
namespace {

using refnn::AccT;
using refnn::Ld;
using refnn::St;

bool IsNnFloat(DType t) { return t == DType::kF32 || t == DType::kF64 || t == DType::kF16 || t == DType::kBF16; }

// Parses window attributes once per input rank (attribute lookups stay out of steady-state Run).
class WindowCache {
 public:
  Result<nn::WindowGeom> Get(const Node& node, const Tensor& x, const Tensor& w, bool transpose) {
    int nsp = x.rank() - 2;
    if (!attrs_ || attrs_->nsp != nsp) {
      std::vector<int64_t> wk(w.shape().begin() + 2, w.shape().end());
      GREENAI_ASSIGN_OR_RETURN(auto a, nn::WindowAttrs::Parse(node, nsp, wk, transpose));
      attrs_ = std::move(a);
    }
    std::vector<int64_t> sp(x.shape().begin() + 2, x.shape().end());
    GREENAI_ASSIGN_OR_RETURN(auto g, transpose ? nn::ComputeTranspose(node, *attrs_, sp)
                                               : nn::ComputeForward(node, *attrs_, sp));
    if (g.nsp > 3) return Unimplemented("{}: {} spatial dims (reference kernel supports 1 to 3)", node.Describe(), g.nsp);
    return nn::Geometry3(g);
  }

 private:
  std::optional<nn::WindowAttrs> attrs_;
};

// ---------------- Conv ----------------

template <typename T>
void ConvRef(const Tensor& X, const Tensor& W, const Tensor* B, Tensor& Y, const nn::WindowGeom& g, int64_t group,
             ThreadPool* pool) {
  using A = AccT<T>;
  const int64_t N = X.dim(0), C = X.dim(1), M = W.dim(0);
  const int64_t Cg = C / group, Mg = M / group;
  const int64_t ID = g.in[0], IH = g.in[1], IW = g.in[2];
  const int64_t KD = g.kernel[0], KH = g.kernel[1], KW = g.kernel[2];
  const int64_t OD = g.out[0], OH = g.out[1], OW = g.out[2];
  const T* x = X.data<T>();
  const T* w = W.data<T>();
  const T* b = B ? B->data<T>() : nullptr;
  T* y = Y.data<T>();
  pool->ParallelFor(N * M, 1, [&](int64_t begin, int64_t end) {
    for (int64_t nm = begin; nm < end; ++nm) {
      const int64_t n = nm / M, m = nm % M, gi = m / Mg;
      for (int64_t od = 0; od < OD; ++od)
        for (int64_t oh = 0; oh < OH; ++oh)
          for (int64_t ow = 0; ow < OW; ++ow) {
            A acc = b ? Ld<A>(b[m]) : A(0);
            for (int64_t c = 0; c < Cg; ++c) {
              const T* xc = x + ((n * C + gi * Cg + c) * ID) * IH * IW;
              const T* wc = w + ((m * Cg + c) * KD) * KH * KW;
              for (int64_t kd = 0; kd < KD; ++kd) {
                int64_t id = od * g.strides[0] + kd * g.dilations[0] - g.pad_begin[0];
                if (id < 0 || id >= ID) continue;
                for (int64_t kh = 0; kh < KH; ++kh) {
                  int64_t ih = oh * g.strides[1] + kh * g.dilations[1] - g.pad_begin[1];
                  if (ih < 0 || ih >= IH) continue;
                  for (int64_t kw = 0; kw < KW; ++kw) {
                    int64_t iw = ow * g.strides[2] + kw * g.dilations[2] - g.pad_begin[2];
                    if (iw < 0 || iw >= IW) continue;
                    acc += Ld<A>(xc[(id * IH + ih) * IW + iw]) * Ld<A>(wc[(kd * KH + kh) * KW + kw]);
                  }
                }
              }
            }
            y[((nm * OD + od) * OH + oh) * OW + ow] = St<T>(acc);
          }
    }
  });
}

class ConvRefKernel : public Kernel {
 public:
  ConvRefKernel(const Node& node, bool transpose)
      : node_(node), transpose_(transpose), add_(node.op_type == kConvAdd), group_(node.GetInt("group", 1)) {}
  Status Run(KernelContext& ctx) override {
    const Tensor& x = *ctx.inputs[0];
    const Tensor& w = *ctx.inputs[1];
    const Tensor* b = ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
    GREENAI_ASSIGN_OR_RETURN(auto g, cache_.Get(node_, x, w, transpose_));
    Tensor& y = *ctx.outputs[0];
    const Tensor* z = add_ ? ctx.inputs[kConvAddZ] : nullptr;
    if (add_ && (z->dtype() != y.dtype() || z->shape() != y.shape()))
      return InvalidArgument("{}: residual Z is {} {} but the output is {} {}", node_.Describe(), DTypeName(z->dtype()),
                             ShapeToString(z->shape()), DTypeName(y.dtype()), ShapeToString(y.shape()));
    GREENAI_NN_DISPATCH_FLOAT(x.dtype(), T, {
      if (transpose_) ConvTransposeRef<T>(x, w, b, y, g);
      else ConvRef<T>(x, w, b, y, g, group_, ctx.pool);
      if (z) {  // ConvAdd: Conv then Add, each rounded to T as the two ops would
        using A = AccT<T>;
        const T* zp = z->data<T>();
        T* yp = y.data<T>();
        for (int64_t i = 0; i < y.numel(); ++i) yp[i] = St<T>(Ld<A>(yp[i]) + Ld<A>(zp[i]));
      }
    });
    return Status::Ok();
  }

 private:
  template <typename T>
  void ConvTransposeRef(const Tensor& X, const Tensor& W, const Tensor* B, Tensor& Y, const nn::WindowGeom& g) {
    using A = AccT<T>;
    const int64_t N = X.dim(0), C = X.dim(1), Mg = W.dim(1), M = Mg * group_, Cg = C / group_;
    const int64_t ID = g.in[0], IH = g.in[1], IW = g.in[2];
    const int64_t KD = g.kernel[0], KH = g.kernel[1], KW = g.kernel[2];
    const int64_t OD = g.out[0], OH = g.out[1], OW = g.out[2];
    const int64_t osz = OD * OH * OW, isz = ID * IH * IW, ksz = KD * KH * KW;
    std::vector<A> acc(static_cast<size_t>(N * M * osz), A(0));
    const T* x = X.data<T>();
    const T* w = W.data<T>();
    // Scatter form: every input element adds x * w into the outputs its window covers.
    for (int64_t n = 0; n < N; ++n)
      for (int64_t c = 0; c < C; ++c) {
        const int64_t gi = c / Cg;
        for (int64_t m = 0; m < Mg; ++m) {
          A* yo = acc.data() + (n * M + gi * Mg + m) * osz;
          const T* wk = w + (c * Mg + m) * ksz;
          const T* xi = x + (n * C + c) * isz;
          for (int64_t id = 0; id < ID; ++id)
            for (int64_t ih = 0; ih < IH; ++ih)
              for (int64_t iw = 0; iw < IW; ++iw) {
                A xv = Ld<A>(xi[(id * IH + ih) * IW + iw]);
                for (int64_t kd = 0; kd < KD; ++kd) {
                  int64_t od = id * g.strides[0] + kd * g.dilations[0] - g.pad_begin[0];
                  if (od < 0 || od >= OD) continue;
                  for (int64_t kh = 0; kh < KH; ++kh) {
                    int64_t oh = ih * g.strides[1] + kh * g.dilations[1] - g.pad_begin[1];
                    if (oh < 0 || oh >= OH) continue;
                    for (int64_t kw = 0; kw < KW; ++kw) {
                      int64_t ow = iw * g.strides[2] + kw * g.dilations[2] - g.pad_begin[2];
                      if (ow < 0 || ow >= OW) continue;
                      yo[(od * OH + oh) * OW + ow] += xv * Ld<A>(wk[(kd * KH + kh) * KW + kw]);
                    }
                  }
                }
              }
        }
      }
    const T* b = B ? B->data<T>() : nullptr;
    T* y = Y.data<T>();
    for (int64_t i = 0; i < N * M * osz; ++i) {
      A bias = b ? Ld<A>(b[(i / osz) % M]) : A(0);
      y[i] = St<T>(acc[static_cast<size_t>(i)] + bias);
    }
  }

  Node node_;  // a copy: the graph may be gone after planning
  bool transpose_;
  bool add_;  // ai.greenai ConvAdd (ops/conv_add.h)
  int64_t group_;
  WindowCache cache_;
};

Result<std::unique_ptr<Kernel>> CreateConvRef(const KernelInfo& info) {
  if (!IsNnFloat(info.input_types[0].dtype))
    return Unimplemented("{}: no reference kernel for dtype {}", info.node.Describe(), DTypeName(info.input_types[0].dtype));
  return std::unique_ptr<Kernel>(std::make_unique<ConvRefKernel>(info.node, info.node.op_type == "ConvTranspose"));
}

// ---------------- Gemm ----------------

template <typename T>
void GemmRef(const Tensor& A_, const Tensor& B_, const Tensor* C_, Tensor& Y, bool ta, bool tb, double alpha,
             double beta) {
  using A = AccT<T>;
  const int64_t M = Y.dim(0), N = Y.dim(1), K = ta ? A_.dim(0) : A_.dim(1);
  const T* a = A_.data<T>();
  const T* b = B_.data<T>();
  T* y = Y.data<T>();
  // C broadcast: rank 0/1/2 with dims 1 or full.
  int64_t cm_stride = 0, cn_stride = 0;
  if (C_) {
    const Shape& cs = C_->shape();
    if (cs.size() == 2) {
      cm_stride = cs[0] == 1 ? 0 : cs[1];
      cn_stride = cs[1] == 1 ? 0 : 1;
    } else if (cs.size() == 1) {
      cn_stride = cs[0] == 1 ? 0 : 1;
    }
  }
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      A acc = A(0);
      for (int64_t k = 0; k < K; ++k)
        acc += Ld<A>(a[ta ? k * M + m : m * K + k]) * Ld<A>(b[tb ? n * K + k : k * N + n]);
      A r = static_cast<A>(static_cast<A>(alpha) * acc);
      if (C_) r += static_cast<A>(static_cast<A>(beta) * Ld<A>(C_->data<T>()[m * cm_stride + n * cn_stride]));
      y[m * N + n] = St<T>(r);
    }
}

#define GREENAI_NN_DISPATCH_MATMUL(dtype, T, ...) \
  switch (dtype) {                                \
    GREENAI_DISPATCH_CASE(kF32, T, __VA_ARGS__)   \
    GREENAI_DISPATCH_CASE(kF64, T, __VA_ARGS__)   \
    GREENAI_DISPATCH_CASE(kF16, T, __VA_ARGS__)   \
    GREENAI_DISPATCH_CASE(kBF16, T, __VA_ARGS__)  \
    GREENAI_DISPATCH_CASE(kI32, T, __VA_ARGS__)   \
    GREENAI_DISPATCH_CASE(kI64, T, __VA_ARGS__)   \
    GREENAI_DISPATCH_CASE(kU32, T, __VA_ARGS__)   \
    GREENAI_DISPATCH_CASE(kU64, T, __VA_ARGS__)   \
    default: break;                               \
  }

Result<std::unique_ptr<Kernel>> CreateGemmRef(const KernelInfo& info) {
  const Node& n = info.node;
  bool ta = n.GetInt("transA", 0) != 0, tb = n.GetInt("transB", 0) != 0;
  double alpha = n.GetFloat("alpha", 1.0f), beta = n.GetFloat("beta", 1.0f);
  return MakeLambdaKernel([ta, tb, alpha, beta](KernelContext& ctx) -> Status {
    const Tensor* c = ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
    GREENAI_NN_DISPATCH_MATMUL(ctx.inputs[0]->dtype(), T,
                               GemmRef<T>(*ctx.inputs[0], *ctx.inputs[1], c, *ctx.outputs[0], ta, tb, alpha, beta));
    return Status::Ok();
  });
}

// ---------------- MatMul ----------------

// Offsets of each output batch into A and B under numpy broadcasting; a_mat/b_mat are the
// element counts of one A/B matrix.
void BatchOffsets(const Shape& ab, const Shape& bb, const Shape& ob, int64_t a_mat, int64_t b_mat,
                  std::vector<int64_t>* ao, std::vector<int64_t>* bo) {
  const size_t r = ob.size();
  int64_t total = NumElements(ob);
  ao->resize(static_cast<size_t>(total));
  bo->resize(static_cast<size_t>(total));
  std::vector<int64_t> idx(r, 0);
  auto stride_of = [&](const Shape& s, size_t i) {  // broadcast stride of output dim i in s
    size_t lead = r - s.size();
    if (i < lead || s[i - lead] == 1) return int64_t{0};
    int64_t st = 1;
    for (size_t j = i - lead + 1; j < s.size(); ++j) st *= s[j];
    return st;
  };
  std::vector<int64_t> as(r), bs(r);
  for (size_t i = 0; i < r; ++i) { as[i] = stride_of(ab, i); bs[i] = stride_of(bb, i); }
  for (int64_t t = 0; t < total; ++t) {
    int64_t rem = t, oa = 0, obb = 0;
    for (size_t i = r; i-- > 0;) {
      int64_t d = rem % ob[i];
      rem /= ob[i];
      oa += d * as[i];
      obb += d * bs[i];
    }
    (*ao)[static_cast<size_t>(t)] = oa * a_mat;
    (*bo)[static_cast<size_t>(t)] = obb * b_mat;
  }
}

template <typename T>
void MatMulRef(const Tensor& A_, const Tensor& B_, Tensor& Y) {
  using A = AccT<T>;
  Shape as = A_.shape(), bs = B_.shape();
  if (as.size() == 1) as.insert(as.begin(), 1);
  if (bs.size() == 1) bs.push_back(1);
  const int64_t M = as[as.size() - 2], K = as.back(), N = bs.back();
  Shape ab(as.begin(), as.end() - 2), bb(bs.begin(), bs.end() - 2);
  auto ob = BroadcastDims({ab, bb}, "MatMul");
  std::vector<int64_t> ao, bo;
  BatchOffsets(ab, bb, *ob, M * K, K * N, &ao, &bo);
  const T* a = A_.data<T>();
  const T* b = B_.data<T>();
  T* y = Y.data<T>();
  for (size_t t = 0; t < ao.size(); ++t)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        A acc = A(0);
        for (int64_t k = 0; k < K; ++k) acc += Ld<A>(a[ao[t] + m * K + k]) * Ld<A>(b[bo[t] + k * N + n]);
        y[static_cast<int64_t>(t) * M * N + m * N + n] = St<T>(acc);
      }
}

Result<std::unique_ptr<Kernel>> CreateMatMulRef(const KernelInfo&) {
  return MakeLambdaKernel([](KernelContext& ctx) -> Status {
    GREENAI_NN_DISPATCH_MATMUL(ctx.inputs[0]->dtype(), T, MatMulRef<T>(*ctx.inputs[0], *ctx.inputs[1], *ctx.outputs[0]));
    return Status::Ok();
  });
}

}  // namespace

void AddRefNnKernels(std::vector<KernelDef>& defs) {
  defs.push_back({"Conv", "", "any_conv__ref", 0, CreateConvRef});
  defs.push_back({"ConvTranspose", "", "any_convtranspose__ref", 0, CreateConvRef});
  defs.push_back({kConvAdd, kGreenaiDomain, "any_convadd__ref", 0, CreateConvRef});
  defs.push_back({"Gemm", "", "any_gemm__ref", 0, CreateGemmRef});
  defs.push_back({"MatMul", "", "any_matmul__ref", 0, CreateMatMulRef});
  refnn::AddPoolKernels(defs);
  refnn::AddNormKernels(defs);
}

}  // namespace greenai
