// Kernel family: control flow (If, Loop, Scan), running bodies through ctx.subgraphs.
// These kernels allocate their outputs (shapes are data-dependent; see kernel.h).
#include <cstring>

#include "backends/cpu/kernel.h"

namespace greenai {

namespace {

const Graph* GraphAttr(const Node& n, const char* name) {
  const Attribute* a = n.FindAttr(name);
  return a && a->g ? a->g.get() : nullptr;
}

// Copies `src` into slice `index` along axis 0 of `dst` (dst shape [n] + src shape).
void CopyIntoSlice(Tensor& dst, int64_t index, const Tensor& src) {
  if (src.dtype() == DType::kString) {
    for (int64_t i = 0; i < src.numel(); ++i)
      dst.data<std::string>()[index * src.numel() + i] = src.data<std::string>()[i];
    return;
  }
  std::memcpy(static_cast<char*>(dst.raw()) + static_cast<size_t>(index) * src.nbytes(), src.raw(), src.nbytes());
}

// Stacks per-iteration tensors along a new axis 0.
Result<Tensor> Stack(const std::vector<Tensor>& parts, DType dtype) {
  Shape s{static_cast<int64_t>(parts.size())};
  if (!parts.empty()) s.insert(s.end(), parts[0].shape().begin(), parts[0].shape().end());
  GREENAI_ASSIGN_OR_RETURN(Tensor t, Tensor::Create(parts.empty() ? dtype : parts[0].dtype(), s));
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].shape() != parts[0].shape())
      return InvalidArgument("scan output changes shape between iterations ({} vs {})",
                             ShapeToString(parts[0].shape()), ShapeToString(parts[i].shape()));
    CopyIntoSlice(t, static_cast<int64_t>(i), parts[i]);
  }
  return t;
}

class IfKernel : public Kernel {
 public:
  IfKernel(const Node& n) : node_(n), then_(GraphAttr(n, "then_branch")), else_(GraphAttr(n, "else_branch")) {}
  Status Run(KernelContext& ctx) override {
    if (!ctx.subgraphs) return Internal("{}: no subgraph runner", node_.Describe());
    const Tensor& c = *ctx.inputs[0];
    if (c.numel() != 1) return InvalidArgument("{}: cond must hold one element, has {}", node_.Describe(), c.numel());
    const Graph* g = c.data<bool>()[0] ? then_ : else_;
    GREENAI_ASSIGN_OR_RETURN(auto outs, ctx.subgraphs->RunSubgraph(*g, {}));
    for (size_t i = 0; i < ctx.outputs.size() && i < outs.size(); ++i)
      if (ctx.outputs[i]) *ctx.outputs[i] = std::move(outs[i]);
    return Status::Ok();
  }

 private:
  const Node& node_;
  const Graph* then_;
  const Graph* else_;
};

class LoopKernel : public Kernel {
 public:
  explicit LoopKernel(const Node& n) : node_(n), body_(GraphAttr(n, "body")) {}
  Status Run(KernelContext& ctx) override {
    if (!ctx.subgraphs) return Internal("{}: no subgraph runner", node_.Describe());
    int64_t max_trip = ctx.inputs[0] ? static_cast<int64_t>(ctx.inputs[0]->GetAsDouble(0)) : INT64_MAX;
    bool cond = ctx.inputs.size() > 1 && ctx.inputs[1] ? ctx.inputs[1]->data<bool>()[0] : true;
    size_t n_carried = ctx.inputs.size() - 2;
    std::vector<Tensor> carried;
    for (size_t i = 0; i < n_carried; ++i) {
      if (!ctx.inputs[i + 2]) return InvalidArgument("{}: loop-carried input {} is missing", node_.Describe(), i);
      carried.push_back(*ctx.inputs[i + 2]);
    }
    size_t n_scan = ctx.outputs.size() - n_carried;
    std::vector<std::vector<Tensor>> scans(n_scan);
    for (int64_t it = 0; it < max_trip && cond; ++it) {
      std::vector<Tensor> in;
      in.push_back(Tensor::Scalar<int64_t>(it));
      in.push_back(Tensor::Scalar<bool>(cond));
      for (auto& t : carried) in.push_back(t);
      GREENAI_ASSIGN_OR_RETURN(auto outs, ctx.subgraphs->RunSubgraph(*body_, in));
      if (outs.size() != 1 + n_carried + n_scan)
        return InvalidArgument("{}: body produced {} outputs, expects {}", node_.Describe(), outs.size(),
                               1 + n_carried + n_scan);
      cond = outs[0].GetAsDouble(0) != 0;
      for (size_t i = 0; i < n_carried; ++i) carried[i] = outs[1 + i];
      for (size_t i = 0; i < n_scan; ++i) scans[i].push_back(outs[1 + n_carried + i]);
    }
    for (size_t i = 0; i < n_carried; ++i)
      if (ctx.outputs[i]) *ctx.outputs[i] = carried[i].Clone();
    for (size_t i = 0; i < n_scan; ++i) {
      if (!ctx.outputs[n_carried + i]) continue;
      DType dt = body_->outputs[1 + n_carried + i].type.dtype;
      GREENAI_ASSIGN_OR_RETURN(*ctx.outputs[n_carried + i], Stack(scans[i], dt == DType::kUndefined ? DType::kF32 : dt));
    }
    return Status::Ok();
  }

 private:
  const Node& node_;
  const Graph* body_;
};

// Slice `index` along `axis` of t (a copy).
Result<Tensor> TakeSlice(const Tensor& t, int64_t axis, int64_t index) {
  Shape s = t.shape();
  s.erase(s.begin() + axis);
  GREENAI_ASSIGN_OR_RETURN(Tensor out, Tensor::Create(t.dtype(), s));
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= t.shape()[static_cast<size_t>(d)];
  for (int64_t d = axis + 1; d < t.rank(); ++d) inner *= t.shape()[static_cast<size_t>(d)];
  int64_t len = t.shape()[static_cast<size_t>(axis)];
  size_t es = DTypeSize(t.dtype());
  for (int64_t o = 0; o < outer; ++o) {
    int64_t src = (o * len + index) * inner, dst = o * inner;
    if (t.dtype() == DType::kString) {
      for (int64_t i = 0; i < inner; ++i) out.data<std::string>()[dst + i] = t.data<std::string>()[src + i];
    } else {
      std::memcpy(static_cast<char*>(out.raw()) + static_cast<size_t>(dst) * es,
                  static_cast<const char*>(t.raw()) + static_cast<size_t>(src) * es, static_cast<size_t>(inner) * es);
    }
  }
  return out;
}

// Stacks parts along `axis` (parts all same shape).
Result<Tensor> StackAxis(const std::vector<Tensor>& parts, int64_t axis, DType dtype) {
  GREENAI_ASSIGN_OR_RETURN(Tensor stacked, Stack(parts, dtype));
  if (axis == 0 || parts.empty()) return stacked;
  // Move axis 0 to position `axis`.
  const Shape& ps = parts[0].shape();
  Shape s = ps;
  s.insert(s.begin() + axis, static_cast<int64_t>(parts.size()));
  GREENAI_ASSIGN_OR_RETURN(Tensor out, Tensor::Create(stacked.dtype(), s));
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= ps[static_cast<size_t>(d)];
  for (size_t d = static_cast<size_t>(axis); d < ps.size(); ++d) inner *= ps[d];
  size_t es = DTypeSize(stacked.dtype());
  int64_t n = static_cast<int64_t>(parts.size());
  for (int64_t k = 0; k < n; ++k)
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(static_cast<char*>(out.raw()) + static_cast<size_t>((o * n + k) * inner) * es,
                  static_cast<const char*>(stacked.raw()) + static_cast<size_t>((k * outer + o) * inner) * es,
                  static_cast<size_t>(inner) * es);
  return out;
}

class ScanKernel : public Kernel {
 public:
  explicit ScanKernel(const Node& n) : node_(n), body_(GraphAttr(n, "body")) {}
  Status Run(KernelContext& ctx) override {
    if (!ctx.subgraphs) return Internal("{}: no subgraph runner", node_.Describe());
    int64_t m = node_.GetInt("num_scan_inputs", 1);
    size_t n_state = ctx.inputs.size() - static_cast<size_t>(m);
    size_t n_scan_out = ctx.outputs.size() - n_state;
    auto in_axes = node_.GetInts("scan_input_axes", std::vector<int64_t>(static_cast<size_t>(m), 0));
    auto in_dirs = node_.GetInts("scan_input_directions", std::vector<int64_t>(static_cast<size_t>(m), 0));
    auto out_axes = node_.GetInts("scan_output_axes", std::vector<int64_t>(n_scan_out, 0));
    auto out_dirs = node_.GetInts("scan_output_directions", std::vector<int64_t>(n_scan_out, 0));
    if (in_axes.size() != static_cast<size_t>(m) || in_dirs.size() != static_cast<size_t>(m) ||
        out_axes.size() != n_scan_out || out_dirs.size() != n_scan_out)
      return InvalidArgument("{}: scan axes/directions lengths do not match the scan inputs/outputs", node_.Describe());
    std::vector<Tensor> state;
    for (size_t i = 0; i < n_state; ++i) state.push_back(*ctx.inputs[i]);
    int64_t len = -1;
    for (int64_t j = 0; j < m; ++j) {
      const Tensor& t = *ctx.inputs[n_state + static_cast<size_t>(j)];
      int64_t ax = in_axes[static_cast<size_t>(j)];
      if (ax < 0) ax += t.rank();
      if (ax < 0 || ax >= t.rank()) return InvalidArgument("{}: scan_input_axes[{}] out of range", node_.Describe(), j);
      in_axes[static_cast<size_t>(j)] = ax;
      int64_t l = t.shape()[static_cast<size_t>(ax)];
      if (len >= 0 && l != len)
        return InvalidArgument("{}: scan inputs have different lengths ({} vs {})", node_.Describe(), len, l);
      len = l;
    }
    std::vector<std::vector<Tensor>> scans(n_scan_out);
    for (int64_t it = 0; it < len; ++it) {
      std::vector<Tensor> in = state;
      for (int64_t j = 0; j < m; ++j) {
        int64_t idx = in_dirs[static_cast<size_t>(j)] ? len - 1 - it : it;
        GREENAI_ASSIGN_OR_RETURN(Tensor s, TakeSlice(*ctx.inputs[n_state + static_cast<size_t>(j)],
                                                     in_axes[static_cast<size_t>(j)], idx));
        in.push_back(std::move(s));
      }
      GREENAI_ASSIGN_OR_RETURN(auto outs, ctx.subgraphs->RunSubgraph(*body_, in));
      if (outs.size() != n_state + n_scan_out)
        return InvalidArgument("{}: body produced {} outputs, expects {}", node_.Describe(), outs.size(),
                               n_state + n_scan_out);
      for (size_t i = 0; i < n_state; ++i) state[i] = outs[i];
      for (size_t i = 0; i < n_scan_out; ++i) scans[i].push_back(outs[n_state + i]);
    }
    for (size_t i = 0; i < n_state; ++i)
      if (ctx.outputs[i]) *ctx.outputs[i] = state[i].Clone();
    for (size_t i = 0; i < n_scan_out; ++i) {
      if (!ctx.outputs[n_state + i]) continue;
      auto& parts = scans[i];
      if (out_dirs[i]) std::reverse(parts.begin(), parts.end());
      int64_t ax = out_axes[i];
      int64_t r = parts.empty() ? 1 : parts[0].rank() + 1;
      if (ax < 0) ax += r;
      DType dt = body_->outputs[n_state + i].type.dtype;
      GREENAI_ASSIGN_OR_RETURN(*ctx.outputs[n_state + i], StackAxis(parts, ax, dt == DType::kUndefined ? DType::kF32 : dt));
    }
    return Status::Ok();
  }

 private:
  const Node& node_;
  const Graph* body_;
};

template <typename K>
Result<std::unique_ptr<Kernel>> Make(const KernelInfo& info) {
  return std::unique_ptr<Kernel>(new K(info.node));
}

}  // namespace

void AddRefControlKernels(std::vector<KernelDef>& defs) {
  defs.push_back({"If", "", "any_if__ref", 0, Make<IfKernel>});
  defs.push_back({"Loop", "", "any_loop__ref", 0, Make<LoopKernel>});
  defs.push_back({"Scan", "", "any_scan__ref", 0, Make<ScanKernel>});
}

}  // namespace greenai
