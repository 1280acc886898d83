// Reference kernels for the tensor-manipulation family (shape, create and transpose ops);
// index ops live in ref_tensor_index.cc, layout ops in ref_tensor_layout.cc.
// See backends/cpu/kernel.h for the kernel contract and ops/tensor_internal.h for the
// helpers shared with inference.
#include <cmath>
#include <memory>
#include <random>
#include <type_traits>

#include "backends/cpu/kernel.h"
#include "ops/shape_util.h"
#include "ops/tensor_internal.h"

namespace greenai {
namespace tensorops {

void ParallelRows(ThreadPool* pool, int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  if (!pool || pool->num_threads() <= 1 || n <= grain) {
    fn(0, n);
    return;
  }
  pool->ParallelFor(n, grain, fn);
}

void StridedCopy(DType dt, const void* src, int64_t offset, const std::vector<int64_t>& src_strides, void* dst,
                 const Shape& out_shape, ThreadPool* pool) {
  int64_t total = NumElements(out_shape);
  if (total == 0) return;
  // Collapse dims that are contiguous in the source too, so runs get as long as possible.
  std::vector<int64_t> d, s;
  for (size_t i = 0; i < out_shape.size(); ++i) {
    if (out_shape[i] == 1) continue;
    if (!d.empty() && s.back() == src_strides[i] * out_shape[i]) {
      d.back() *= out_shape[i];
      s.back() = src_strides[i];
    } else {
      d.push_back(out_shape[i]);
      s.push_back(src_strides[i]);
    }
  }
  if (d.empty()) {
    CopyElems(dt, dst, 0, src, offset, 1);
    return;
  }
  auto r = static_cast<int>(d.size());
  // A 2-D transpose at the innermost level: tile it so reads and writes both stay in cache.
  bool blocked = r >= 2 && s[static_cast<size_t>(r) - 1] != 1 && s[static_cast<size_t>(r) - 2] == 1 &&
                 d[static_cast<size_t>(r) - 1] >= 8 && d[static_cast<size_t>(r) - 2] >= 8;
  int inner_dims = blocked ? 2 : 1;
  int outer_r = r - inner_dims;
  int64_t inner = blocked ? d[static_cast<size_t>(r) - 1] * d[static_cast<size_t>(r) - 2] : d[static_cast<size_t>(r) - 1];
  int64_t rows = total / inner;
  // Source offset of outer row `row` (all dims but the inner ones).
  auto row_offset = [&](int64_t row) {
    int64_t off = offset;
    for (int k = outer_r - 1; k >= 0; --k) {
      off += (row % d[static_cast<size_t>(k)]) * s[static_cast<size_t>(k)];
      row /= d[static_cast<size_t>(k)];
    }
    return off;
  };
  WithMoveType(dt, [&](auto tag) {
    using E = decltype(tag);
    const E* sp = static_cast<const E*>(src);
    E* dp = static_cast<E*>(dst);
    if (blocked) {
      // dst[a][b] = src[a + b * sb]: 16x16 tiles staged through a local buffer, so every
      // source and destination cache line is touched once, even with power-of-two strides.
      constexpr int64_t kT = 16;
      int64_t A = d[static_cast<size_t>(r) - 2], B = d[static_cast<size_t>(r) - 1], sb = s[static_cast<size_t>(r) - 1];
      int64_t strips = (A + kT - 1) / kT;
      ParallelRows(pool, rows * strips, RowGrain(kT * B, dt), [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
          int64_t row = t / strips, a0 = (t % strips) * kT, a1 = std::min(A, a0 + kT);
          const E* sr = sp + row_offset(row);
          E* o = dp + row * inner;
          for (int64_t b0 = 0; b0 < B; b0 += kT) {
            int64_t b1 = std::min(B, b0 + kT);
            if constexpr (std::is_trivially_copyable_v<E>) {
              E buf[kT][kT];
              for (int64_t bb = b0; bb < b1; ++bb)
                for (int64_t a = a0; a < a1; ++a) buf[bb - b0][a - a0] = sr[a + bb * sb];
              for (int64_t a = a0; a < a1; ++a)
                for (int64_t bb = b0; bb < b1; ++bb) o[a * B + bb] = buf[bb - b0][a - a0];
            } else {
              for (int64_t a = a0; a < a1; ++a)
                for (int64_t bb = b0; bb < b1; ++bb) o[a * B + bb] = sr[a + bb * sb];
            }
          }
        }
      });
      return;
    }
    int64_t n = d[static_cast<size_t>(r) - 1], st = s[static_cast<size_t>(r) - 1];
    ParallelRows(pool, rows, RowGrain(inner, dt), [&](int64_t b, int64_t e) {
      std::vector<int64_t> idx(static_cast<size_t>(outer_r), 0);
      int64_t rem = b, soff = offset;
      for (int k = outer_r - 1; k >= 0; --k) {
        idx[static_cast<size_t>(k)] = rem % d[static_cast<size_t>(k)];
        rem /= d[static_cast<size_t>(k)];
        soff += idx[static_cast<size_t>(k)] * s[static_cast<size_t>(k)];
      }
      for (int64_t row = b; row < e; ++row) {
        E* o = dp + row * inner;
        if (st == 1) std::copy(sp + soff, sp + soff + n, o);
        else for (int64_t j = 0; j < n; ++j) o[j] = sp[soff + j * st];
        for (int k = outer_r - 1; k >= 0; --k) {
          auto u = static_cast<size_t>(k);
          soff += s[u];
          if (++idx[u] < d[u]) break;
          soff -= s[u] * d[u];
          idx[u] = 0;
        }
      }
    });
  });
}

namespace {

template <typename F>
Result<std::unique_ptr<Kernel>> Make(F f) {
  return std::unique_ptr<Kernel>(MakePlannedOutputKernel(std::move(f)));
}

template <typename T>
T FromDouble(double v) {
  if constexpr (std::is_same_v<T, bool>) return v != 0;
  else return static_cast<T>(static_cast<std::conditional_t<std::is_class_v<T>, float, double>>(v));
}

// Whole-tensor copy split over the pool (strings copied element-wise).
void CopyTensor(const Tensor& in, Tensor& out, ThreadPool* pool) {
  int64_t n = std::min(in.numel(), out.numel());
  if (in.dtype() == DType::kString || n * static_cast<int64_t>(DTypeSize(in.dtype())) < (int64_t{1} << 20)) {
    CopyElems(in.dtype(), out.raw(), 0, in.raw(), 0, n);
    return;
  }
  constexpr int64_t kChunk = int64_t{1} << 16;
  ParallelRows(pool, (n + kChunk - 1) / kChunk, 4, [&](int64_t b, int64_t e) {
    CopyElems(in.dtype(), out.raw(), b * kChunk, in.raw(), b * kChunk, std::min(n, e * kChunk) - b * kChunk);
  });
}

// Fills dst[0..n) with copies of element `v` (a 1-element tensor of the same dtype).
void FillWith(Tensor& dst, const void* v) {
  int64_t n = dst.numel();
  if (n == 0) return;
  DType dt = dst.dtype();
  if (dt == DType::kString) {
    std::fill_n(dst.data<std::string>(), n, *static_cast<const std::string*>(v));
    return;
  }
  CopyElems(dt, dst.raw(), 0, v, 0, 1);
  for (int64_t have = 1; have < n; have *= 2) CopyElems(dt, dst.raw(), have, dst.raw(), 0, std::min(have, n - have));
}

Result<std::unique_ptr<Kernel>> CopyFactory(const KernelInfo&) {
  return Make([](KernelContext& ctx) -> Status {
    CopyTensor(*ctx.inputs[0], *ctx.outputs[0], ctx.pool);
    return Status::Ok();
  });
}

Result<std::unique_ptr<Kernel>> DropoutFactory(const KernelInfo& info) {
  const Node& n = info.node;
  bool mask_bool = info.opset == 0 || info.opset >= 10;
  double ratio = n.GetFloat("ratio", 0.5f);
  bool new_style = info.opset == 0 || info.opset >= 12;
  std::string who = n.Describe();
  // Training masks: one generator per kernel, seeded from the `seed` attribute (0 when absent,
  // so runs are reproducible), advancing every Run so each step draws a fresh mask.
  auto rng = std::make_shared<std::mt19937_64>(static_cast<uint64_t>(n.GetInt("seed", 0)) ^ 0x9E3779B97F4A7C15ull);
  return Make([=](KernelContext& ctx) -> Status {
    bool training = false;
    double r = ratio;
    if (new_style) {
      r = ctx.inputs.size() > 1 && ctx.inputs[1] ? ctx.inputs[1]->GetAsDouble(0) : 0.5;
      training = ctx.inputs.size() > 2 && ctx.inputs[2] && ctx.inputs[2]->GetAsDouble(0) != 0;
    }
    if (training && r > 0) {
      if (!(r < 1)) return InvalidArgument("{}: ratio {} must be in [0, 1) in training mode", who, r);
      const Tensor& x = *ctx.inputs[0];
      bool* mask = ctx.outputs.size() > 1 && ctx.outputs[1] ? ctx.outputs[1]->data<bool>() : nullptr;
      std::uniform_real_distribution<double> u(0.0, 1.0);
      const double scale = 1.0 / (1.0 - r);
      auto run = [&](auto* y, const auto* xs) {
        using T = std::remove_cv_t<std::remove_pointer_t<decltype(xs)>>;
        for (int64_t i = 0; i < x.numel(); ++i) {
          const bool keep = u(*rng) >= r;
          y[i] = keep ? static_cast<T>(static_cast<double>(xs[i]) * scale) : T(0);
          if (mask) mask[i] = keep;
        }
      };
      if (x.dtype() == DType::kF32) run(ctx.outputs[0]->data<float>(), x.data<float>());
      else if (x.dtype() == DType::kF64) run(ctx.outputs[0]->data<double>(), x.data<double>());
      else return Unimplemented("{}: training mode supports float32/float64, got {}", who, DTypeName(x.dtype()));
      return Status::Ok();
    }
    CopyTensor(*ctx.inputs[0], *ctx.outputs[0], ctx.pool);
    if (ctx.outputs.size() > 1 && ctx.outputs[1]) {
      Tensor& m = *ctx.outputs[1];
      if (mask_bool) std::fill_n(m.data<bool>(), m.numel(), true);
      else GREENAI_DISPATCH_NUMERIC(m.dtype(), T, { std::fill_n(m.data<T>(), m.numel(), FromDouble<T>(1)); });
    }
    return Status::Ok();
  });
}

Result<std::unique_ptr<Kernel>> ConstantFactory(const KernelInfo& info) {
  GREENAI_ASSIGN_OR_RETURN(Tensor value, BuildConstant(info.node));
  return Make([value](KernelContext& ctx) -> Status { return ctx.outputs[0]->CopyFrom(value); });
}

Result<std::unique_ptr<Kernel>> TransposeFactory(const KernelInfo& info) {
  Node node = info.node;
  return Make([node](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.inputs[0];
    GREENAI_ASSIGN_OR_RETURN(auto perm, ResolvePerm(node, x.rank()));
    auto st = RowMajorStrides(x.shape());
    std::vector<int64_t> ss;
    for (int64_t p : perm) ss.push_back(st[static_cast<size_t>(p)]);
    StridedCopy(x.dtype(), x.raw(), 0, ss, ctx.outputs[0]->raw(), ctx.outputs[0]->shape(), ctx.pool);
    return Status::Ok();
  });
}

Result<std::unique_ptr<Kernel>> DepthSpaceFactory(const KernelInfo& info) {
  int64_t b = info.node.GetInt("blocksize", 1);
  bool d2s = info.node.op_type == "DepthToSpace";
  bool crd = info.node.GetString("mode", "DCR") == "CRD";
  return Make([=](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.inputs[0];
    int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3);
    Shape in6;
    std::vector<int64_t> perm;
    if (d2s) {
      int64_t c = C / (b * b);
      in6 = crd ? Shape{N, c, b, b, H, W} : Shape{N, b, b, c, H, W};
      perm = crd ? std::vector<int64_t>{0, 1, 4, 2, 5, 3} : std::vector<int64_t>{0, 3, 4, 1, 5, 2};
    } else {
      in6 = {N, C, H / b, b, W / b, b};
      perm = {0, 3, 5, 1, 2, 4};
    }
    auto st = RowMajorStrides(in6);
    Shape out6;
    std::vector<int64_t> ss;
    for (int64_t p : perm) {
      out6.push_back(in6[static_cast<size_t>(p)]);
      ss.push_back(st[static_cast<size_t>(p)]);
    }
    StridedCopy(x.dtype(), x.raw(), 0, ss, ctx.outputs[0]->raw(), out6, ctx.pool);
    return Status::Ok();
  });
}

Result<std::unique_ptr<Kernel>> ShapeFactory(const KernelInfo& info) {
  int64_t start = info.node.GetInt("start", 0);
  bool has_end = info.node.HasAttr("end");
  int64_t end = info.node.GetInt("end", 0);
  return Make([=](KernelContext& ctx) -> Status {
    int64_t r = ctx.inputs[0]->rank();
    int64_t s = start < 0 ? start + r : start, e = has_end ? (end < 0 ? end + r : end) : r;
    s = std::clamp<int64_t>(s, 0, r);
    e = std::clamp<int64_t>(e, 0, r);
    int64_t* o = ctx.outputs[0]->data<int64_t>();
    for (int64_t i = s; i < e; ++i) o[i - s] = ctx.inputs[0]->dim(static_cast<int>(i));
    return Status::Ok();
  });
}

Result<std::unique_ptr<Kernel>> SizeFactory(const KernelInfo&) {
  return Make([](KernelContext& ctx) -> Status {
    ctx.outputs[0]->data<int64_t>()[0] = ctx.inputs[0]->numel();
    return Status::Ok();
  });
}

Result<std::unique_ptr<Kernel>> ConstantOfShapeFactory(const KernelInfo& info) {
  Tensor value = Tensor::Scalar<float>(0.0f);
  if (const Tensor* v = info.node.GetTensor("value")) value = *v;
  return Make([value](KernelContext& ctx) -> Status {
    FillWith(*ctx.outputs[0], value.raw());
    return Status::Ok();
  });
}

template <typename T>
void RangeFill(const KernelContext& ctx) {
  T s = ctx.inputs[0]->data<T>()[0], d = ctx.inputs[2]->data<T>()[0];
  T* o = ctx.outputs[0]->data<T>();
  for (int64_t i = 0; i < ctx.outputs[0]->numel(); ++i) o[i] = static_cast<T>(s + static_cast<T>(i) * d);
}

Result<std::unique_ptr<Kernel>> RangeFactory(const KernelInfo& info) {
  DType dt = info.input_types[0].dtype;
  if (dt != DType::kF32 && dt != DType::kF64 && dt != DType::kI16 && dt != DType::kI32 && dt != DType::kI64)
    return Unimplemented("{}: Range of {} is not supported", info.node.Describe(), DTypeName(dt));
  return Make([dt](KernelContext& ctx) -> Status {
    switch (dt) {
      case DType::kF32: RangeFill<float>(ctx); break;
      case DType::kF64: RangeFill<double>(ctx); break;
      case DType::kI16: RangeFill<int16_t>(ctx); break;
      case DType::kI32: RangeFill<int32_t>(ctx); break;
      default: RangeFill<int64_t>(ctx); break;
    }
    return Status::Ok();
  });
}

// Multi-index odometer over all dims but the last; fn(out_row, src_row_offset).
Result<std::unique_ptr<Kernel>> ExpandFactory(const KernelInfo&) {
  return Make([](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.inputs[0];
    Tensor& y = *ctx.outputs[0];
    auto st = RowMajorStrides(x.shape());
    std::vector<int64_t> ss(static_cast<size_t>(y.rank()), 0);
    int off = y.rank() - x.rank();
    for (int i = 0; i < x.rank(); ++i)
      ss[static_cast<size_t>(i + off)] = x.dim(i) == 1 ? 0 : st[static_cast<size_t>(i)];
    StridedCopy(x.dtype(), x.raw(), 0, ss, y.raw(), y.shape(), ctx.pool);
    return Status::Ok();
  });
}

Result<std::unique_ptr<Kernel>> TileFactory(const KernelInfo&) {
  return Make([](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.inputs[0];
    Tensor& y = *ctx.outputs[0];
    if (y.numel() == 0) return Status::Ok();
    if (x.rank() == 0) {
      CopyElems(x.dtype(), y.raw(), 0, x.raw(), 0, 1);
      return Status::Ok();
    }
    int r = x.rank();
    int64_t inner_in = x.dim(r - 1), inner_out = y.dim(r - 1);
    int64_t rows = y.numel() / inner_out;
    auto xst = RowMajorStrides(x.shape());
    ParallelRows(ctx.pool, rows, RowGrain(inner_out, x.dtype()), [&](int64_t b, int64_t e) {
      for (int64_t row = b; row < e; ++row) {
        int64_t rem = row, soff = 0;
        for (int k = r - 2; k >= 0; --k) {
          int64_t i = rem % y.dim(k);
          rem /= y.dim(k);
          soff += (i % x.dim(k)) * xst[static_cast<size_t>(k)];
        }
        for (int64_t j = 0; j < inner_out; j += inner_in)
          CopyElems(x.dtype(), y.raw(), row * inner_out + j, x.raw(), soff, inner_in);
      }
    });
    return Status::Ok();
  });
}

Result<std::unique_ptr<Kernel>> EyeLikeFactory(const KernelInfo& info) {
  int64_t k = info.node.GetInt("k", 0);
  return Make([k](KernelContext& ctx) -> Status {
    Tensor& y = *ctx.outputs[0];
    std::memset(y.raw(), 0, y.nbytes());
    int64_t rows = y.dim(0), cols = y.dim(1);
    GREENAI_DISPATCH_NUMERIC(y.dtype(), T, {
      for (int64_t i = 0; i < rows; ++i)
        if (i + k >= 0 && i + k < cols) y.data<T>()[i * cols + i + k] = FromDouble<T>(1);
    });
    return Status::Ok();
  });
}

Result<std::unique_ptr<Kernel>> TriluFactory(const KernelInfo& info) {
  bool upper = info.node.GetInt("upper", 1) != 0;
  if (info.input_types[0].dtype == DType::kString)
    return Unimplemented("{}: Trilu of strings is not supported", info.node.Describe());
  std::string who = info.node.Describe();
  return Make([upper, who](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.inputs[0];
    Tensor& y = *ctx.outputs[0];
    int64_t k = 0;
    if (ctx.inputs.size() > 1 && ctx.inputs[1]) {
      if (ctx.inputs[1]->numel() != 1)
        return InvalidArgument("{}: k has {} elements (expects a scalar)", who, ctx.inputs[1]->numel());
      k = TensorToInts(*ctx.inputs[1])[0];
    }
    CopyTensor(x, y, ctx.pool);
    int64_t N = x.dim(-2), M = x.dim(-1);
    if (N * M == 0) return Status::Ok();
    size_t es = DTypeSize(x.dtype());
    auto* p = static_cast<char*>(y.raw());
    for (int64_t m = 0; m < x.numel() / (N * M); ++m)
      for (int64_t i = 0; i < N; ++i)
        for (int64_t j = 0; j < M; ++j) {
          bool keep = upper ? j - i >= k : j - i <= k;
          if (!keep) std::memset(p + static_cast<size_t>((m * N + i) * M + j) * es, 0, es);
        }
    return Status::Ok();
  });
}

}  // namespace
}  // namespace tensorops

void AddRefTensorKernels(std::vector<KernelDef>& defs) {
  using namespace tensorops;
  for (const char* op : {"Identity", "Reshape", "Flatten", "Squeeze", "Unsqueeze"})
    defs.push_back({op, "", "any_copy__ref", 0, CopyFactory});
  defs.push_back({"Dropout", "", "any_dropout__ref", 0, DropoutFactory});
  defs.push_back({"Constant", "", "any_constant__ref", 0, ConstantFactory});
  defs.push_back({"Transpose", "", "any_transpose__ref", 0, TransposeFactory});
  defs.push_back({"DepthToSpace", "", "any_depthtospace__ref", 0, DepthSpaceFactory});
  defs.push_back({"SpaceToDepth", "", "any_spacetodepth__ref", 0, DepthSpaceFactory});
  defs.push_back({"Shape", "", "any_shape__ref", 0, ShapeFactory});
  defs.push_back({"Size", "", "any_size__ref", 0, SizeFactory});
  defs.push_back({"ConstantOfShape", "", "any_constantofshape__ref", 0, ConstantOfShapeFactory});
  defs.push_back({"Range", "", "any_range__ref", 0, RangeFactory});
  defs.push_back({"Expand", "", "any_expand__ref", 0, ExpandFactory});
  defs.push_back({"Tile", "", "any_tile__ref", 0, TileFactory});
  defs.push_back({"EyeLike", "", "any_eyelike__ref", 0, EyeLikeFactory});
  defs.push_back({"Trilu", "", "any_trilu__ref", 0, TriluFactory});
  AddRefIndexKernels(defs);
  AddRefLayoutKernels(defs);
}

}  // namespace greenai
