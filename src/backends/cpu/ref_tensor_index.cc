// Reference kernels for tensor ops that select or place elements by position (Concat,
// Split, Slice, Gather*, Scatter*, OneHot, NonZero, Unique, Compress, ReverseSequence).
// See backends/cpu/kernel.h for the kernel contract.
#include <cmath>
#include <numeric>
#include <type_traits>

#include "backends/cpu/kernel.h"
#include "ops/shape_util.h"
#include "ops/tensor_internal.h"

namespace greenai::tensorops {

namespace {

template <typename F>
Result<std::unique_ptr<Kernel>> Make(F f) {
  return std::unique_ptr<Kernel>(MakeLambdaKernel(std::move(f)));
}
// Same, for kernels whose outputs must all be planned (everything but NonZero, Unique, Compress).
template <typename F>
Result<std::unique_ptr<Kernel>> MakePlanned(F f) {
  return std::unique_ptr<Kernel>(MakePlannedOutputKernel(std::move(f)));
}

int64_t Prod(const Shape& s, size_t b, size_t e) {
  int64_t p = 1;
  for (size_t i = b; i < e && i < s.size(); ++i) p *= s[i];
  return p;
}

int64_t IndexAt(const Tensor& t, int64_t i) {
  return t.dtype() == DType::kI32 ? t.data<int32_t>()[i] : t.data<int64_t>()[i];
}

// Reads indices as int64 with negative values wrapped; error names the node and the bad value.
Result<std::vector<int64_t>> ReadIndices(const Tensor& t, int64_t dim, const std::string& who, const char* what) {
  std::vector<int64_t> v(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) {
    int64_t x = IndexAt(t, i);
    if (x < -dim || x >= dim)
      return OutOfRange("{}: {} value {} at position {} is out of range for axis of size {} (expects [-{}, {}))", who,
                        what, x, i, dim, dim, dim);
    v[static_cast<size_t>(i)] = x < 0 ? x + dim : x;
  }
  return v;
}

// Output allocation for data-dependent shapes: create when the runtime left it undefined.
Status AssignOutput(Tensor* out, DType dt, const Shape& shape, const std::string& who) {
  if (!out) return Status::Ok();
  if (!out->defined()) {
    GREENAI_ASSIGN_OR_RETURN(*out, Tensor::Create(dt, shape));
    return Status::Ok();
  }
  if (out->shape() != shape)
    return Internal("{}: planned output shape {} but data needs {}", who, ShapeToString(out->shape()),
                    ShapeToString(shape));
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> ConcatFactory(const KernelInfo& info) {
  int64_t axis_attr = info.node.GetInt("axis", 0);
  return MakePlanned([axis_attr](KernelContext& ctx) -> Status {
    Tensor& y = *ctx.outputs[0];
    int64_t axis = axis_attr < 0 ? axis_attr + y.rank() : axis_attr;
    int64_t outer = Prod(y.shape(), 0, static_cast<size_t>(axis));
    int64_t inner = Prod(y.shape(), static_cast<size_t>(axis) + 1, y.shape().size());
    int64_t out_run = y.dim(static_cast<int>(axis)) * inner, acc = 0;
    for (const Tensor* x : ctx.inputs) {
      int64_t run = x->dim(static_cast<int>(axis)) * inner;
      ParallelRows(ctx.pool, outer, RowGrain(run, x->dtype()), [&](int64_t b, int64_t e) {
        for (int64_t o = b; o < e; ++o) CopyElems(x->dtype(), y.raw(), o * out_run + acc, x->raw(), o * run, run);
      });
      acc += run;
    }
    return Status::Ok();
  });
}

Result<std::unique_ptr<Kernel>> SplitFactory(const KernelInfo& info) {
  Node node = info.node;
  bool attr_split = info.opset != 0 && info.opset < 13;
  return MakePlanned([node, attr_split](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.inputs[0];
    GREENAI_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(node.GetInt("axis", 0), x.rank(), node.Describe()));
    std::vector<int64_t> split = attr_split ? node.GetInts("split")
                                            : (ctx.inputs.size() > 1 && ctx.inputs[1] ? TensorToInts(*ctx.inputs[1])
                                                                                       : std::vector<int64_t>{});
    GREENAI_ASSIGN_OR_RETURN(auto sizes, ResolveSplit(node, x.dim(static_cast<int>(axis)), split,
                                                      node.GetInt("num_outputs", 0)));
    int64_t outer = Prod(x.shape(), 0, static_cast<size_t>(axis));
    int64_t inner = Prod(x.shape(), static_cast<size_t>(axis) + 1, x.shape().size());
    int64_t in_run = x.dim(static_cast<int>(axis)) * inner, acc = 0;
    for (size_t i = 0; i < sizes.size(); ++i) {
      int64_t run = sizes[i] * inner;
      if (Tensor* y = ctx.outputs[i]) {
        ParallelRows(ctx.pool, outer, RowGrain(run, x.dtype()), [&](int64_t b, int64_t e) {
          for (int64_t o = b; o < e; ++o) CopyElems(x.dtype(), y->raw(), o * run, x.raw(), o * in_run + acc, run);
        });
      }
      acc += run;
    }
    return Status::Ok();
  });
}

Result<std::unique_ptr<Kernel>> SliceFactory(const KernelInfo& info) {
  Node node = info.node;
  bool attrs = info.opset != 0 && info.opset < 10;
  return MakePlanned([node, attrs](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.inputs[0];
    std::vector<int64_t> starts, ends;
    std::optional<std::vector<int64_t>> axes, steps;
    auto in = [&](size_t i) { return ctx.inputs.size() > i ? ctx.inputs[i] : nullptr; };
    if (attrs) {
      starts = node.GetInts("starts");
      ends = node.GetInts("ends");
      if (node.HasAttr("axes")) axes = node.GetInts("axes");
    } else {
      starts = TensorToInts(*in(1));
      ends = TensorToInts(*in(2));
      if (in(3)) axes = TensorToInts(*in(3));
      if (in(4)) steps = TensorToInts(*in(4));
    }
    GREENAI_ASSIGN_OR_RETURN(SliceSpec s, ResolveSlice(node, x.shape(), starts, ends, axes, steps));
    auto st = RowMajorStrides(x.shape());
    int64_t off = 0;
    std::vector<int64_t> ss(st.size());
    for (size_t i = 0; i < st.size(); ++i) {
      off += s.start[i] * st[i];
      ss[i] = st[i] * s.step[i];
    }
    StridedCopy(x.dtype(), x.raw(), off, ss, ctx.outputs[0]->raw(), s.count, ctx.pool);
    return Status::Ok();
  });
}

Result<std::unique_ptr<Kernel>> GatherFactory(const KernelInfo& info) {
  int64_t axis_attr = info.node.GetInt("axis", 0);
  std::string who = info.node.Describe();
  return MakePlanned([=](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.inputs[0];
    int64_t axis = axis_attr < 0 ? axis_attr + x.rank() : axis_attr;
    int64_t dim = x.dim(static_cast<int>(axis));
    GREENAI_ASSIGN_OR_RETURN(auto idx, ReadIndices(*ctx.inputs[1], dim, who, "indices"));
    int64_t outer = Prod(x.shape(), 0, static_cast<size_t>(axis));
    int64_t inner = Prod(x.shape(), static_cast<size_t>(axis) + 1, x.shape().size());
    auto n = static_cast<int64_t>(idx.size());
    Tensor& y = *ctx.outputs[0];
    ParallelRows(ctx.pool, outer * n, RowGrain(inner, x.dtype()), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        int64_t o = r / n, j = r % n;
        CopyElems(x.dtype(), y.raw(), r * inner, x.raw(), (o * dim + idx[static_cast<size_t>(j)]) * inner, inner);
      }
    });
    return Status::Ok();
  });
}

Result<std::unique_ptr<Kernel>> GatherElementsFactory(const KernelInfo& info) {
  int64_t axis_attr = info.node.GetInt("axis", 0);
  std::string who = info.node.Describe();
  return MakePlanned([=](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.inputs[0];
    const Tensor& it = *ctx.inputs[1];
    int64_t axis = axis_attr < 0 ? axis_attr + x.rank() : axis_attr;
    for (int k = 0; k < x.rank(); ++k)
      if (k != axis && it.dim(k) > x.dim(k))
        return InvalidArgument("{}: indices dim {} is {} but data has only {}", who, k, it.dim(k), x.dim(k));
    GREENAI_ASSIGN_OR_RETURN(auto idx, ReadIndices(it, x.dim(static_cast<int>(axis)), who, "indices"));
    auto xs = RowMajorStrides(x.shape());
    Tensor& y = *ctx.outputs[0];
    int r = it.rank();
    std::vector<int64_t> pos(static_cast<size_t>(r), 0);
    for (int64_t i = 0; i < it.numel(); ++i) {
      int64_t src = 0;
      for (int k = 0; k < r; ++k)
        src += (k == axis ? idx[static_cast<size_t>(i)] : pos[static_cast<size_t>(k)]) * xs[static_cast<size_t>(k)];
      CopyElems(x.dtype(), y.raw(), i, x.raw(), src, 1);
      for (int k = r - 1; k >= 0; --k) {
        if (++pos[static_cast<size_t>(k)] < it.dim(k)) break;
        pos[static_cast<size_t>(k)] = 0;
      }
    }
    return Status::Ok();
  });
}

// Element offsets (into data) of the slices addressed by the last dim of `indices`, for
// GatherND and ScatterND. batch_dims leading dims are shared by data and indices.
Result<std::vector<int64_t>> NdOffsets(const Tensor& data, const Tensor& indices, int64_t b, const std::string& who,
                                       int64_t* slice_elems) {
  int64_t q = indices.rank(), k = indices.dim(-1);
  auto ds = RowMajorStrides(data.shape());
  int64_t batch = Prod(indices.shape(), 0, static_cast<size_t>(b));
  int64_t tuples = Prod(indices.shape(), static_cast<size_t>(b), static_cast<size_t>(q - 1));
  int64_t batch_stride = Prod(data.shape(), static_cast<size_t>(b), data.shape().size());
  *slice_elems = Prod(data.shape(), static_cast<size_t>(b + k), data.shape().size());
  std::vector<int64_t> offs;
  offs.reserve(static_cast<size_t>(batch * tuples));
  const int64_t* ip = indices.data<int64_t>();
  for (int64_t bi = 0; bi < batch; ++bi)
    for (int64_t t = 0; t < tuples; ++t) {
      int64_t off = bi * batch_stride;
      for (int64_t j = 0; j < k; ++j) {
        int64_t dim = data.dim(static_cast<int>(b + j));
        int64_t v = ip[(bi * tuples + t) * k + j];
        if (v < -dim || v >= dim)
          return OutOfRange("{}: index {} for data axis {} is out of range (size {})", who, v, b + j, dim);
        off += (v < 0 ? v + dim : v) * ds[static_cast<size_t>(b + j)];
      }
      offs.push_back(off);
    }
  return offs;
}

Result<std::unique_ptr<Kernel>> GatherNDFactory(const KernelInfo& info) {
  int64_t b = info.node.GetInt("batch_dims", 0);
  std::string who = info.node.Describe();
  return MakePlanned([=](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.inputs[0];
    int64_t slice = 0;
    GREENAI_ASSIGN_OR_RETURN(auto offs, NdOffsets(x, *ctx.inputs[1], b, who, &slice));
    for (size_t i = 0; i < offs.size(); ++i)
      CopyElems(x.dtype(), ctx.outputs[0]->raw(), static_cast<int64_t>(i) * slice, x.raw(), offs[i], slice);
    return Status::Ok();
  });
}

enum class Red { kNone, kAdd, kMul, kMax, kMin };

template <typename T>
T Combine(T a, T b, Red r) {
  if constexpr (std::is_same_v<T, bool>) {
    switch (r) {
      case Red::kAdd: case Red::kMax: return a || b;
      case Red::kMul: case Red::kMin: return a && b;
      default: return b;
    }
  } else if constexpr (std::is_class_v<T>) {
    return T(Combine(static_cast<float>(a), static_cast<float>(b), r));
  } else {
    switch (r) {
      case Red::kAdd: return static_cast<T>(a + b);
      case Red::kMul: return static_cast<T>(a * b);
      case Red::kMax: return std::max(a, b);
      case Red::kMin: return std::min(a, b);
      default: return b;
    }
  }
}

Result<Red> ParseRed(const Node& n, DType dt) {
  std::string s = n.GetString("reduction", "none");
  Red r = s == "add" ? Red::kAdd : s == "mul" ? Red::kMul : s == "max" ? Red::kMax : s == "min" ? Red::kMin : Red::kNone;
  if (r != Red::kNone && dt == DType::kString)
    return Unimplemented("{}: reduction '{}' on strings is not supported", n.Describe(), s);
  return r;
}

// dst[off..off+n) = combine(dst, src[soff..]) for numeric types; plain copy for none.
void Apply(DType dt, Red red, void* dst, int64_t off, const void* src, int64_t soff, int64_t n) {
  if (red == Red::kNone) {
    CopyElems(dt, dst, off, src, soff, n);
    return;
  }
  GREENAI_DISPATCH_NUMERIC(dt, T, {
    T* d = static_cast<T*>(dst) + off;
    const T* s = static_cast<const T*>(src) + soff;
    for (int64_t i = 0; i < n; ++i) d[i] = Combine(d[i], s[i], red);
  });
}

Result<std::unique_ptr<Kernel>> ScatterElementsFactory(const KernelInfo& info) {
  int64_t axis_attr = info.node.GetInt("axis", 0);
  std::string who = info.node.Describe();
  GREENAI_ASSIGN_OR_RETURN(Red red, ParseRed(info.node, info.input_types[0].dtype));
  return MakePlanned([=](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.inputs[0];
    const Tensor& it = *ctx.inputs[1];
    const Tensor& up = *ctx.inputs[2];
    Tensor& y = *ctx.outputs[0];
    if (it.shape() != up.shape() || it.rank() != x.rank())
      return InvalidArgument("{}: indices {} and updates {} must have one shape of data's rank {}", who,
                             ShapeToString(it.shape()), ShapeToString(up.shape()), x.rank());
    int64_t axis = axis_attr < 0 ? axis_attr + x.rank() : axis_attr;
    if (axis < 0 || axis >= x.rank()) return InvalidArgument("{}: axis {} is out of range for rank {}", who, axis_attr, x.rank());
    for (int k = 0; k < x.rank(); ++k)
      if (it.dim(k) > x.dim(k))
        return InvalidArgument("{}: indices dim {} is {} but data has {}", who, k, it.dim(k), x.dim(k));
    GREENAI_ASSIGN_OR_RETURN(auto idx, ReadIndices(it, x.dim(static_cast<int>(axis)), who, "indices"));
    CopyElems(x.dtype(), y.raw(), 0, x.raw(), 0, x.numel());
    auto xs = RowMajorStrides(x.shape());
    int r = it.rank();
    std::vector<int64_t> pos(static_cast<size_t>(r), 0);
    for (int64_t i = 0; i < it.numel(); ++i) {
      int64_t dst = 0;
      for (int k = 0; k < r; ++k)
        dst += (k == axis ? idx[static_cast<size_t>(i)] : pos[static_cast<size_t>(k)]) * xs[static_cast<size_t>(k)];
      Apply(x.dtype(), red, y.raw(), dst, up.raw(), i, 1);
      for (int k = r - 1; k >= 0; --k) {
        if (++pos[static_cast<size_t>(k)] < it.dim(k)) break;
        pos[static_cast<size_t>(k)] = 0;
      }
    }
    return Status::Ok();
  });
}

Result<std::unique_ptr<Kernel>> ScatterNDFactory(const KernelInfo& info) {
  std::string who = info.node.Describe();
  GREENAI_ASSIGN_OR_RETURN(Red red, ParseRed(info.node, info.input_types[0].dtype));
  return MakePlanned([=](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.inputs[0];
    const Tensor& it = *ctx.inputs[1];
    const Tensor& up = *ctx.inputs[2];
    if (it.rank() < 1 || it.dim(-1) > x.rank())
      return InvalidArgument("{}: indices {} do not fit data of rank {}", who, ShapeToString(it.shape()), x.rank());
    Shape want(it.shape().begin(), it.shape().end() - 1);
    want.insert(want.end(), x.shape().begin() + it.dim(-1), x.shape().end());
    if (up.shape() != want)
      return InvalidArgument("{}: updates have shape {} but indices and data need {}", who, ShapeToString(up.shape()),
                             ShapeToString(want));
    int64_t slice = 0;
    GREENAI_ASSIGN_OR_RETURN(auto offs, NdOffsets(x, it, 0, who, &slice));
    Tensor& y = *ctx.outputs[0];
    CopyElems(x.dtype(), y.raw(), 0, x.raw(), 0, x.numel());
    for (size_t i = 0; i < offs.size(); ++i)
      Apply(x.dtype(), red, y.raw(), offs[i], up.raw(), static_cast<int64_t>(i) * slice, slice);
    return Status::Ok();
  });
}

Result<std::unique_ptr<Kernel>> OneHotFactory(const KernelInfo& info) {
  int64_t axis_attr = info.node.GetInt("axis", -1);
  return MakePlanned([axis_attr](KernelContext& ctx) -> Status {
    const Tensor& ind = *ctx.inputs[0];
    const Tensor& vals = *ctx.inputs[2];
    Tensor& y = *ctx.outputs[0];
    int64_t axis = axis_attr < 0 ? axis_attr + ind.rank() + 1 : axis_attr;
    int64_t depth = y.dim(static_cast<int>(axis));
    int64_t outer = Prod(ind.shape(), 0, static_cast<size_t>(axis));
    int64_t inner = Prod(ind.shape(), static_cast<size_t>(axis), ind.shape().size());
    for (int64_t i = 0; i < y.numel(); ++i) CopyElems(y.dtype(), y.raw(), i, vals.raw(), 0, 1);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        double dv = ind.GetAsDouble(o * inner + i);
        if (!(dv >= static_cast<double>(-depth) && dv < static_cast<double>(depth))) continue;
        auto v = static_cast<int64_t>(dv);
        if (v < 0) v += depth;
        CopyElems(y.dtype(), y.raw(), (o * depth + v) * inner + i, vals.raw(), 1, 1);
      }
    return Status::Ok();
  });
}

template <typename T>
bool IsNonZero(const T& v) {
  if constexpr (std::is_same_v<T, std::string>) return !v.empty();
  else if constexpr (std::is_class_v<T>) return static_cast<float>(v) != 0.0f;
  else return v != T(0);
}

Result<std::unique_ptr<Kernel>> NonZeroFactory(const KernelInfo& info) {
  std::string who = info.node.Describe();
  return Make([who](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.inputs[0];
    std::vector<int64_t> hits;
    GREENAI_DISPATCH_ALL(x.dtype(), T, {
      const T* p = x.data<T>();
      for (int64_t i = 0; i < x.numel(); ++i)
        if (IsNonZero(p[i])) hits.push_back(i);
    });
    int64_t r = std::max(1, x.rank()), nnz = static_cast<int64_t>(hits.size());
    GREENAI_RETURN_IF_ERROR(AssignOutput(ctx.outputs[0], DType::kI64, {r, nnz}, who));
    int64_t* o = ctx.outputs[0]->data<int64_t>();
    Shape shape = x.rank() == 0 ? Shape{1} : x.shape();
    for (int64_t j = 0; j < nnz; ++j) {
      int64_t rem = hits[static_cast<size_t>(j)];
      for (int64_t k = r - 1; k >= 0; --k) {
        o[k * nnz + j] = rem % shape[static_cast<size_t>(k)];
        rem /= shape[static_cast<size_t>(k)];
      }
    }
    return Status::Ok();
  });
}

// A strict weak order even with NaN (NaNs sort last and compare equal to each other).
template <typename T>
bool LessElem(const T& a, const T& b) {
  if constexpr (std::is_class_v<T> && !std::is_same_v<T, std::string>) {
    return LessElem(static_cast<float>(a), static_cast<float>(b));
  } else if constexpr (std::is_floating_point_v<T>) {
    return !std::isnan(a) && (std::isnan(b) || a < b);
  } else {
    return a < b;
  }
}

Result<std::unique_ptr<Kernel>> UniqueFactory(const KernelInfo& info) {
  bool has_axis = info.node.HasAttr("axis");
  int64_t axis_attr = info.node.GetInt("axis", 0);
  bool sorted = info.node.GetInt("sorted", 1) != 0;
  std::string who = info.node.Describe();
  return Make([=](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.inputs[0];
    int64_t axis = has_axis ? (axis_attr < 0 ? axis_attr + x.rank() : axis_attr) : 0;
    int64_t outer = has_axis ? Prod(x.shape(), 0, static_cast<size_t>(axis)) : 1;
    int64_t n = has_axis ? x.dim(static_cast<int>(axis)) : x.numel();
    int64_t inner = has_axis ? Prod(x.shape(), static_cast<size_t>(axis) + 1, x.shape().size()) : 1;
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    // Slices compare lexicographically in (outer, inner) order.
    std::vector<int64_t> group(static_cast<size_t>(n));
    std::vector<int64_t> firsts;  // first occurrence of each group, groups in sorted order
    GREENAI_DISPATCH_ALL(x.dtype(), T, {
      const T* p = x.data<T>();
      auto cmp = [&](int64_t a, int64_t b) -> int {
        for (int64_t o = 0; o < outer; ++o)
          for (int64_t i = 0; i < inner; ++i) {
            const T& u = p[(o * n + a) * inner + i];
            const T& v = p[(o * n + b) * inner + i];
            if (LessElem(u, v)) return -1;
            if (LessElem(v, u)) return 1;
          }
        return 0;
      };
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return cmp(a, b) < 0; });
      for (size_t j = 0; j < order.size(); ++j) {
        if (j == 0 || cmp(order[j - 1], order[j]) != 0) firsts.push_back(order[j]);
        group[static_cast<size_t>(order[j])] = static_cast<int64_t>(firsts.size()) - 1;
      }
    });
    auto u = static_cast<int64_t>(firsts.size());
    // pos[g]: output position of sorted group g.
    std::vector<int64_t> pos(firsts.size());
    std::vector<int64_t> out_groups(firsts.size());
    std::iota(out_groups.begin(), out_groups.end(), 0);
    if (!sorted)
      std::sort(out_groups.begin(), out_groups.end(),
                [&](int64_t a, int64_t b) { return firsts[static_cast<size_t>(a)] < firsts[static_cast<size_t>(b)]; });
    for (int64_t k = 0; k < u; ++k) pos[static_cast<size_t>(out_groups[static_cast<size_t>(k)])] = k;
    Shape yshape = has_axis ? x.shape() : Shape{u};
    if (has_axis) yshape[static_cast<size_t>(axis)] = u;
    GREENAI_RETURN_IF_ERROR(AssignOutput(ctx.outputs[0], x.dtype(), yshape, who));
    Tensor* oi = ctx.outputs.size() > 1 ? ctx.outputs[1] : nullptr;
    Tensor* oinv = ctx.outputs.size() > 2 ? ctx.outputs[2] : nullptr;
    Tensor* oc = ctx.outputs.size() > 3 ? ctx.outputs[3] : nullptr;
    GREENAI_RETURN_IF_ERROR(AssignOutput(oi, DType::kI64, {u}, who));
    GREENAI_RETURN_IF_ERROR(AssignOutput(oinv, DType::kI64, {n}, who));
    GREENAI_RETURN_IF_ERROR(AssignOutput(oc, DType::kI64, {u}, who));
    Tensor& y = *ctx.outputs[0];
    for (int64_t k = 0; k < u; ++k) {
      int64_t src = firsts[static_cast<size_t>(out_groups[static_cast<size_t>(k)])];
      for (int64_t o = 0; o < outer; ++o)
        CopyElems(x.dtype(), y.raw(), (o * u + k) * inner, x.raw(), (o * n + src) * inner, inner);
      if (oi) oi->data<int64_t>()[k] = src;
      if (oc) oc->data<int64_t>()[k] = 0;
    }
    for (int64_t j = 0; j < n; ++j) {
      int64_t p = pos[static_cast<size_t>(group[static_cast<size_t>(j)])];
      if (oinv) oinv->data<int64_t>()[j] = p;
      if (oc) ++oc->data<int64_t>()[p];
    }
    return Status::Ok();
  });
}

Result<std::unique_ptr<Kernel>> CompressFactory(const KernelInfo& info) {
  bool has_axis = info.node.HasAttr("axis");
  int64_t axis_attr = info.node.GetInt("axis", 0);
  std::string who = info.node.Describe();
  return Make([=](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.inputs[0];
    const Tensor& c = *ctx.inputs[1];
    int64_t axis = has_axis ? (axis_attr < 0 ? axis_attr + x.rank() : axis_attr) : 0;
    int64_t outer = has_axis ? Prod(x.shape(), 0, static_cast<size_t>(axis)) : 1;
    int64_t n = has_axis ? x.dim(static_cast<int>(axis)) : x.numel();
    int64_t inner = has_axis ? Prod(x.shape(), static_cast<size_t>(axis) + 1, x.shape().size()) : 1;
    if (c.numel() > n)
      return InvalidArgument("{}: condition has {} entries but the axis has {}", who, c.numel(), n);
    std::vector<int64_t> keep;
    for (int64_t j = 0; j < c.numel(); ++j)
      if (c.data<bool>()[j]) keep.push_back(j);
    auto k = static_cast<int64_t>(keep.size());
    Shape ys = has_axis ? x.shape() : Shape{k};
    if (has_axis) ys[static_cast<size_t>(axis)] = k;
    GREENAI_RETURN_IF_ERROR(AssignOutput(ctx.outputs[0], x.dtype(), ys, who));
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < k; ++j)
        CopyElems(x.dtype(), ctx.outputs[0]->raw(), (o * k + j) * inner, x.raw(),
                  (o * n + keep[static_cast<size_t>(j)]) * inner, inner);
    return Status::Ok();
  });
}

Result<std::unique_ptr<Kernel>> ReverseSequenceFactory(const KernelInfo& info) {
  int64_t batch_axis = info.node.GetInt("batch_axis", 1);
  std::string who = info.node.Describe();
  return MakePlanned([=](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.inputs[0];
    const Tensor& lens = *ctx.inputs[1];
    Tensor& y = *ctx.outputs[0];
    int64_t time_axis = 1 - batch_axis;
    int64_t B = x.dim(static_cast<int>(batch_axis)), Tn = x.dim(static_cast<int>(time_axis));
    if (lens.numel() != B)
      return InvalidArgument("{}: sequence_lens has {} values but the batch is {}", who, lens.numel(), B);
    int64_t inner = Prod(x.shape(), 2, x.shape().size());
    CopyElems(x.dtype(), y.raw(), 0, x.raw(), 0, x.numel());
    auto off = [&](int64_t b, int64_t t) { return (batch_axis == 0 ? b * Tn + t : t * B + b) * inner; };
    for (int64_t b = 0; b < B; ++b) {
      int64_t L = IndexAt(lens, b);
      if (L < 0 || L > Tn) return InvalidArgument("{}: sequence_lens[{}] is {} (expects [0, {}])", who, b, L, Tn);
      for (int64_t t = 0; t < L; ++t) CopyElems(x.dtype(), y.raw(), off(b, t), x.raw(), off(b, L - 1 - t), inner);
    }
    return Status::Ok();
  });
}

}  // namespace

void AddRefIndexKernels(std::vector<KernelDef>& defs) {
  defs.push_back({"Concat", "", "any_concat__ref", 0, ConcatFactory});
  defs.push_back({"Split", "", "any_split__ref", 0, SplitFactory});
  defs.push_back({"Slice", "", "any_slice__ref", 0, SliceFactory});
  defs.push_back({"Gather", "", "any_gather__ref", 0, GatherFactory});
  defs.push_back({"GatherElements", "", "any_gatherelements__ref", 0, GatherElementsFactory});
  defs.push_back({"GatherND", "", "any_gathernd__ref", 0, GatherNDFactory});
  defs.push_back({"ScatterElements", "", "any_scatterelements__ref", 0, ScatterElementsFactory});
  defs.push_back({"Scatter", "", "any_scatter__ref", 0, ScatterElementsFactory});
  defs.push_back({"ScatterND", "", "any_scatternd__ref", 0, ScatterNDFactory});
  defs.push_back({"OneHot", "", "any_onehot__ref", 0, OneHotFactory});
  defs.push_back({"NonZero", "", "any_nonzero__ref", 0, NonZeroFactory});
  defs.push_back({"Unique", "", "any_unique__ref", 0, UniqueFactory});
  defs.push_back({"Compress", "", "any_compress__ref", 0, CompressFactory});
  defs.push_back({"ReverseSequence", "", "any_reversesequence__ref", 0, ReverseSequenceFactory});
}

}  // namespace greenai::tensorops
