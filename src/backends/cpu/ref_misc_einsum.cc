// Einsum kernels.
//  - any_einsum__ref (priority 0): walks the full label space and accumulates products;
//    handles every equation (diagonals, reductions, ellipsis broadcasting, any arity).
//  - f32_einsum__gemm (priority 10): two-operand equations whose labels each appear in at
//    least two of {A, B, output} with no repeated label inside a term and no size-1
//    broadcasting (the matmul-like ones). A is permuted to [batch, M, K], B to
//    [batch, K, N], one batched GEMM runs, and the result is permuted to the output order.
//    Other equations are declined at run time by falling back to the reference loop.
#include <algorithm>

#include "backends/cpu/kernel.h"
#include "backends/cpu/ref_misc_internal.h"
#include "ops/misc_einsum.h"

namespace greenai::misck {
namespace {

// Per-label element stride of each operand (a repeated label sums its strides, which walks
// the diagonal; an ellipsis dim of size 1 broadcasting against a larger one gets stride 0).
std::vector<int64_t> LabelStrides(const einsum::Spec& spec, const std::vector<int>& labels, const Shape& shape) {
  std::vector<int64_t> st(static_cast<size_t>(spec.num_labels), 0);
  const auto rs = RowMajorStrides(shape);
  for (size_t a = 0; a < labels.size(); ++a) {
    const size_t l = static_cast<size_t>(labels[a]);
    if (shape[a] == 1 && spec.dims[l] != 1) continue;
    st[l] += rs[a];
  }
  return st;
}

template <typename T>
void EinsumRef(const einsum::Spec& spec, const std::vector<const Tensor*>& in, Tensor& out) {
  std::vector<int> order = spec.output;
  std::vector<bool> is_out(static_cast<size_t>(spec.num_labels), false);
  for (int l : spec.output) is_out[static_cast<size_t>(l)] = true;
  std::vector<bool> used(static_cast<size_t>(spec.num_labels), false);
  for (const auto& labels : spec.inputs)
    for (int l : labels) used[static_cast<size_t>(l)] = true;
  for (int l = 0; l < spec.num_labels; ++l)
    if (used[static_cast<size_t>(l)] && !is_out[static_cast<size_t>(l)]) order.push_back(l);
  std::vector<std::vector<int64_t>> st;
  for (size_t i = 0; i < in.size(); ++i) st.push_back(LabelStrides(spec, spec.inputs[i], in[i]->shape()));
  std::vector<int64_t> out_st(static_cast<size_t>(spec.num_labels), 0);
  {
    const auto rs = RowMajorStrides(out.shape());
    for (size_t a = 0; a < spec.output.size(); ++a) out_st[static_cast<size_t>(spec.output[a])] = rs[a];
  }
  T* o = out.data<T>();
  std::fill_n(o, out.numel(), T(0));
  int64_t total = 1;
  for (int l : order) total *= spec.dims[static_cast<size_t>(l)];
  if (total == 0) return;
  std::vector<int64_t> idx(order.size(), 0);
  std::vector<int64_t> off(in.size(), 0);
  int64_t ooff = 0;
  for (int64_t p = 0; p < total; ++p) {
    T prod = T(1);
    for (size_t i = 0; i < in.size(); ++i) prod *= in[i]->data<T>()[off[i]];
    o[ooff] += prod;
    // Odometer step over the label space, updating offsets incrementally.
    for (size_t d = order.size(); d-- > 0;) {
      const size_t l = static_cast<size_t>(order[d]);
      if (++idx[d] < spec.dims[l]) {
        for (size_t i = 0; i < in.size(); ++i) off[i] += st[i][l];
        ooff += out_st[l];
        break;
      }
      const int64_t back = spec.dims[l] - 1;
      idx[d] = 0;
      for (size_t i = 0; i < in.size(); ++i) off[i] -= st[i][l] * back;
      ooff -= out_st[l] * back;
    }
  }
}

Status RunRef(const einsum::Spec& spec, const std::vector<const Tensor*>& in, Tensor& out, const Node& node) {
  switch (out.dtype()) {
    case DType::kF32: EinsumRef<float>(spec, in, out); break;
    case DType::kF64: EinsumRef<double>(spec, in, out); break;
    case DType::kI32: EinsumRef<int32_t>(spec, in, out); break;
    case DType::kI64: EinsumRef<int64_t>(spec, in, out); break;
    case DType::kU32: EinsumRef<uint32_t>(spec, in, out); break;
    case DType::kU64: EinsumRef<uint64_t>(spec, in, out); break;
    default:
      return Unimplemented("{}: Einsum on dtype {} is not supported (float32/64, int32/64, uint32/64)",
                           node.Describe(), DTypeName(out.dtype()));
  }
  return Status::Ok();
}

Result<einsum::Spec> SpecFor(const Node& node, const std::vector<const Tensor*>& in) {
  std::vector<std::vector<int64_t>> dims;
  for (const Tensor* t : in) dims.push_back(t->shape());
  return einsum::Parse(node.GetString("equation", ""), dims, node.Describe());
}

// Copies src (dims `shape`) into dst so that dst's axes are src's axes in order `perm`.
void Permute(const float* src, const Shape& shape, const std::vector<size_t>& perm, float* dst) {
  const auto rs = RowMajorStrides(shape);
  Shape dshape;
  std::vector<int64_t> sst;
  for (size_t p : perm) {
    dshape.push_back(shape[p]);
    sst.push_back(rs[p]);
  }
  const int64_t total = NumElements(dshape);
  std::vector<int64_t> idx(perm.size(), 0);
  int64_t off = 0;
  for (int64_t i = 0; i < total; ++i) {
    dst[i] = src[off];
    for (size_t d = perm.size(); d-- > 0;) {
      if (++idx[d] < dshape[d]) { off += sst[d]; break; }
      off -= sst[d] * (dshape[d] - 1);
      idx[d] = 0;
    }
  }
}

class EinsumKernel : public Kernel {
 public:
  EinsumKernel(const Node& node, bool fast) : node_(node), fast_(fast) {}
  Status Run(KernelContext& ctx) override {
    std::vector<const Tensor*> in(ctx.inputs.begin(), ctx.inputs.end());
    GREENAI_ASSIGN_OR_RETURN(einsum::Spec spec, SpecFor(node_, in));
    Tensor& out = *ctx.outputs[0];
    if (fast_ && out.dtype() == DType::kF32 && in.size() == 2 && TryGemm(spec, in, out, ctx.pool)) return Status::Ok();
    return RunRef(spec, in, out, node_);
  }

 private:
  bool TryGemm(const einsum::Spec& spec, const std::vector<const Tensor*>& in, Tensor& out, ThreadPool* pool) {
    const auto& la = spec.inputs[0];
    const auto& lb = spec.inputs[1];
    const size_t L = static_cast<size_t>(spec.num_labels);
    std::vector<int> where(L, 0);  // bit 0: A, bit 1: B, bit 2: output
    for (size_t a = 0; a < la.size(); ++a) {
      if (where[static_cast<size_t>(la[a])] & 1) return false;
      if (in[0]->shape()[a] != spec.dims[static_cast<size_t>(la[a])]) return false;
      where[static_cast<size_t>(la[a])] |= 1;
    }
    for (size_t a = 0; a < lb.size(); ++a) {
      if (where[static_cast<size_t>(lb[a])] & 2) return false;
      if (in[1]->shape()[a] != spec.dims[static_cast<size_t>(lb[a])]) return false;
      where[static_cast<size_t>(lb[a])] |= 2;
    }
    for (int l : spec.output) where[static_cast<size_t>(l)] |= 4;
    std::vector<int> batch, m, n, k;
    for (int l : spec.output) {
      const int w = where[static_cast<size_t>(l)];
      if (w == 7) batch.push_back(l);
      else if (w == 5) m.push_back(l);
      else if (w == 6) n.push_back(l);
      else return false;
    }
    for (int l : la) {
      const int w = where[static_cast<size_t>(l)];
      if (w == 3) k.push_back(l);
      else if (w == 1) return false;  // summed over A alone: leave to the reference loop
    }
    for (int l : lb)
      if (where[static_cast<size_t>(l)] == 2) return false;
    auto size_of = [&](const std::vector<int>& ls) {
      int64_t s = 1;
      for (int l : ls) s *= spec.dims[static_cast<size_t>(l)];
      return s;
    };
    auto axes_of = [](const std::vector<int>& labels, const std::vector<std::vector<int>>& groups) {
      std::vector<size_t> perm;
      for (const auto& g : groups)
        for (int l : g) perm.push_back(static_cast<size_t>(std::find(labels.begin(), labels.end(), l) - labels.begin()));
      return perm;
    };
    const int64_t B = size_of(batch), M = size_of(m), N = size_of(n), K = size_of(k);
    a_.resize(static_cast<size_t>(B * M * K));
    b_.resize(static_cast<size_t>(B * K * N));
    c_.assign(static_cast<size_t>(B * M * N), 0.f);
    Permute(in[0]->data<float>(), in[0]->shape(), axes_of(la, {batch, m, k}), a_.data());
    Permute(in[1]->data<float>(), in[1]->shape(), axes_of(lb, {batch, k, n}), b_.data());
    auto rows = [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        const int64_t bi = r / std::max<int64_t>(M, 1);
        const float* ar = a_.data() + r * K;
        const float* bb = b_.data() + bi * K * N;
        float* cr = c_.data() + r * N;
        for (int64_t kk = 0; kk < K; ++kk) {
          const float av = ar[kk];
          const float* br = bb + kk * N;
          for (int64_t j = 0; j < N; ++j) cr[j] += av * br[j];
        }
      }
    };
    if (pool) pool->ParallelFor(B * M, 8, rows);
    else rows(0, B * M);
    // c_ holds [batch..., m..., n...]; the output wants spec.output's order.
    std::vector<int> c_labels = batch;
    c_labels.insert(c_labels.end(), m.begin(), m.end());
    c_labels.insert(c_labels.end(), n.begin(), n.end());
    Shape c_shape;
    for (int l : c_labels) c_shape.push_back(spec.dims[static_cast<size_t>(l)]);
    Permute(c_.data(), c_shape, axes_of(c_labels, {spec.output}), out.data<float>());
    return true;
  }

  Node node_;
  bool fast_;
  std::vector<float> a_, b_, c_;
};

template <bool kFast>
Result<std::unique_ptr<Kernel>> MakeEinsum(const KernelInfo& info) {
  if (kFast && info.output_types[0].dtype != DType::kF32) return Unimplemented("f32 only");
  return std::unique_ptr<Kernel>(std::make_unique<EinsumKernel>(info.node, kFast));
}

}  // namespace

void AddEinsumKernels(std::vector<KernelDef>& defs) {
  defs.push_back({"Einsum", "", "any_einsum__ref", 0, MakeEinsum<false>});
  defs.push_back({"Einsum", "", "f32_einsum__gemm", 10, MakeEinsum<true>});
}

}  // namespace greenai::misck
