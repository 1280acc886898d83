// Structured pruning: channel-dependency groups, channel importance, physical removal.
//
// A group starts at a producer (Conv with group 1, Gemm transA = 0, MatMul with a 2-D constant
// weight) and follows its output channels forward (ChannelWalk) until every path ends in a
// consumer whose weight can be sliced on its input axis. What the walk records are slices
// (initializer, axis, offset, stride): removing channel c removes indices
// [(offset + c) * stride, (offset + c + 1) * stride) on that axis. Residual Add/Mul junctions
// union the groups that meet there (union-find), so coupled channels go together.
#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

#include "analyze/cost_model.h"
#include "compress/prune/prune.h"
#include "ops/shape_inference.h"

namespace greenai::compress {
namespace {

struct Slice {
  std::string init;
  int axis = 0;
  int64_t offset = 0, stride = 1;
};

struct Group {
  int64_t C = 0;
  std::vector<size_t> producers;
  std::vector<Slice> slices;
  std::vector<size_t> depthwise;  // Conv nodes whose `group` attribute follows the channel count
  std::string frozen;             // why the group is kept whole ("" = prunable)
};

struct WalkState {
  std::string value;
  int64_t offset = 0, total = 0, stride = 1;
};

bool IsPassThrough(const std::string& op) {
  static const std::set<std::string> ops = {"Relu", "LeakyRelu", "Sigmoid", "Tanh", "Clip", "Identity", "Dropout",
                                            "HardSigmoid", "HardSwish", "Elu", "Selu", "Softplus", "Gelu",
                                            "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LpPool"};
  return ops.count(op) != 0;
}
bool IsBinary(const std::string& op) { return op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Max" || op == "Min"; }

class Analysis {
 public:
  Analysis(Graph& g, const std::vector<std::string>& exclude) : g_(g), exclude_(exclude) {}

  Status Run() {
    const auto& nodes = g_.nodes();
    for (size_t i = 0; i < nodes.size(); ++i)
      for (size_t j = 0; j < nodes[i]->inputs.size(); ++j)
        if (!nodes[i]->inputs[j].empty()) consumers_[nodes[i]->inputs[j]].push_back({i, j});
    for (size_t i = 0; i < nodes.size(); ++i) GREENAI_RETURN_IF_ERROR(StartGroup(i));
    // Every junction must have all its non-constant inputs reached by some group.
    for (const auto& [ni, arrived] : junction_inputs_) {
      const Node& n = *nodes[ni];
      for (size_t j = 0; j < n.inputs.size(); ++j)
        if (!n.inputs[j].empty() && !g_.IsInitializer(n.inputs[j]) && !arrived.count(j))
          return InvalidArgument("{}: input '{}' is not produced by a prunable layer, so the channels it adds to cannot "
                                 "be removed (channels tied in a way the pass cannot follow)",
                                 n.Describe(), n.inputs[j]);
    }
    return Status::Ok();
  }

  int Find(int a) { return parent_[size_t(a)] == a ? a : parent_[size_t(a)] = Find(parent_[size_t(a)]); }
  std::vector<Group>& groups() { return groups_; }

 private:
  const TensorType* TypeOf(const std::string& v) const {
    auto it = g_.value_types.find(v);
    if (it != g_.value_types.end() && it->second.has_shape) return &it->second;
    for (const auto& vi : g_.inputs)
      if (vi.name == v && vi.type.has_shape) return &vi.type;
    return nullptr;
  }

  Status StartGroup(size_t i) {
    const Node& n = *g_.nodes()[i];
    if (!n.domain.empty() && n.domain != "ai.onnx") return Status::Ok();
    if (n.op_type != "Conv" && n.op_type != "Gemm" && n.op_type != "MatMul") return Status::Ok();
    if (!n.HasInput(1) || !n.HasOutput(0)) return Status::Ok();
    const Tensor* w = g_.FindInitializer(n.inputs[1]);
    if (!w || w->dtype() != DType::kF32 || g_.IsGraphInput(n.inputs[1])) return Status::Ok();
    Group gr;
    if (n.op_type == "Conv") {
      if (n.GetInt("group", 1) != 1 || w->rank() < 3) return Status::Ok();  // grouped: follows its input
      gr.C = w->dim(0);
      gr.slices.push_back({n.inputs[1], 0, 0, 1});
      if (n.HasInput(2)) {
        if (!g_.IsInitializer(n.inputs[2])) return Status::Ok();
        gr.slices.push_back({n.inputs[2], 0, 0, 1});
      }
    } else if (n.op_type == "Gemm") {
      if (n.GetInt("transA", 0) != 0 || w->rank() != 2) return Status::Ok();
      const bool tb = n.GetInt("transB", 0) != 0;
      gr.C = tb ? w->dim(0) : w->dim(1);
      gr.slices.push_back({n.inputs[1], tb ? 0 : 1, 0, 1});
      if (n.HasInput(2)) {
        const Tensor* c = g_.FindInitializer(n.inputs[2]);
        if (!c) return Status::Ok();
        if (c->numel() != 1) {
          if (c->dim(-1) != gr.C) return Status::Ok();
          gr.slices.push_back({n.inputs[2], c->rank() - 1, 0, 1});
        }
      }
    } else {
      if (w->rank() != 2) return Status::Ok();
      gr.C = w->dim(1);
      gr.slices.push_back({n.inputs[1], 1, 0, 1});
    }
    gr.producers.push_back(i);
    if (std::find(exclude_.begin(), exclude_.end(), n.name) != exclude_.end()) gr.frozen = "excluded";
    const int id = static_cast<int>(groups_.size());
    groups_.push_back(std::move(gr));
    parent_.push_back(id);
    return Walk(id, {n.outputs[0], 0, groups_[size_t(id)].C, 1});
  }

  Status Walk(int id, WalkState start) {
    std::vector<WalkState> queue = {start};
    while (!queue.empty()) {
      WalkState s = queue.back();
      queue.pop_back();
      if (g_.IsGraphOutput(s.value) && groups_[size_t(id)].frozen.empty())
        groups_[size_t(id)].frozen = fmt::format("reaches graph output '{}'", s.value);
      auto it = consumers_.find(s.value);
      if (it == consumers_.end()) continue;
      for (auto [ni, ii] : it->second) GREENAI_RETURN_IF_ERROR(Visit(id, s, ni, ii, queue));
    }
    return Status::Ok();
  }

  Status Unsupported(const Node& n, int id, const std::string& why) {
    const Node& p = *g_.nodes()[groups_[size_t(id)].producers[0]];
    return InvalidArgument("{}: reads the output channels of {} but {} (channels tied in a way the pass cannot "
                           "follow; exclude '{}' or the model is left unchanged)",
                           n.Describe(), p.Describe(), why, p.name);
  }

  Status Visit(int id, const WalkState& s, size_t ni, size_t ii, std::vector<WalkState>& queue) {
    const Node& n = *g_.nodes()[ni];
    Group& gr = groups_[size_t(id)];
    const std::string& op = n.op_type;
    auto push = [&](WalkState ns) {
      if (n.HasOutput(0)) {
        ns.value = n.outputs[0];
        queue.push_back(ns);
      }
    };
    if (!n.domain.empty() && n.domain != "ai.onnx") return Unsupported(n, id, "its domain is not ai.onnx");
    if (IsPassThrough(op) && ii == 0) {
      if (op.find("Pool") != std::string::npos && s.stride != 1) return Unsupported(n, id, "the value was flattened");
      push(s);
      return Status::Ok();
    }
    if (op == "BatchNormalization" && ii == 0) {
      if (s.stride != 1) return Unsupported(n, id, "the value was flattened");
      for (size_t j = 1; j < 5 && j < n.inputs.size(); ++j) {
        if (!g_.IsInitializer(n.inputs[j])) return Unsupported(n, id, "its parameters are not constant");
        gr.slices.push_back({n.inputs[j], 0, s.offset, 1});
      }
      push(s);
      return Status::Ok();
    }
    if (op == "Flatten" && ii == 0) {
      const TensorType* t = TypeOf(s.value);
      if (n.GetInt("axis", 1) != 1 || s.stride != 1 || !t || t->rank() < 2)
        return Unsupported(n, id, "only Flatten(axis=1) of a value with a known shape is followed");
      int64_t hw = 1;
      for (int d = 2; d < t->rank(); ++d) {
        if (t->dims[size_t(d)] < 0) return Unsupported(n, id, "its spatial size is unknown");
        hw *= t->dims[size_t(d)];
      }
      push({"", s.offset, s.total, hw});
      return Status::Ok();
    }
    if (op == "Concat") {
      int64_t axis = n.GetInt("axis", 0);
      const TensorType* t = TypeOf(s.value);
      if (!t || (axis != 1 && axis != 1 - t->rank()) || s.stride != 1) return Unsupported(n, id, "it concatenates on another axis");
      int64_t off = 0, total = 0;
      for (size_t j = 0; j < n.inputs.size(); ++j) {
        const TensorType* tj = TypeOf(n.inputs[j]);
        if (!tj || tj->rank() < 2 || tj->dims[1] < 0) return Unsupported(n, id, "an input's channel count is unknown");
        if (j < ii) off += tj->dims[1];
        total += tj->dims[1];
      }
      push({"", s.offset + off, total, 1});
      return Status::Ok();
    }
    if (IsBinary(op) && n.inputs.size() == 2) {
      const std::string& other = n.inputs[1 - ii];
      if (const Tensor* c = g_.FindInitializer(other)) {
        const TensorType* t = TypeOf(s.value);
        if (!t) return Unsupported(n, id, "the rank of its input is unknown");
        const int ca = 1 - (t->rank() - c->rank());
        if (ca < 0 || c->dim(ca) == 1) {
          push(s);
          return Status::Ok();
        }
        if (c->dim(ca) != s.total * s.stride) return Unsupported(n, id, fmt::format("its constant '{}' has {} entries on the channel axis", other, c->dim(ca)));
        gr.slices.push_back({other, ca, s.offset, s.stride});
        push(s);
        return Status::Ok();
      }
      if (s.offset != 0 || s.stride != 1 || s.total != gr.C)
        return Unsupported(n, id, "it combines a concatenated or flattened value with another");
      auto& arrived = junction_inputs_[ni];
      const bool first = arrived.empty();
      arrived.insert(ii);
      auto jt = junction_group_.find(ni);
      if (jt == junction_group_.end()) {
        junction_group_[ni] = id;
      } else {
        const int a = Find(jt->second), b = Find(id);
        if (groups_[size_t(a)].C != groups_[size_t(b)].C)
          return Unsupported(n, id, "the inputs it joins have different channel counts");
        if (a != b) parent_[size_t(b)] = a;
      }
      if (first) push(s);
      return Status::Ok();
    }
    if (op == "Conv" && ii == 0) {
      const Tensor* w = n.HasInput(1) ? g_.FindInitializer(n.inputs[1]) : nullptr;
      if (!w || w->rank() < 3) return Unsupported(n, id, "its weight is not constant");
      if (s.stride != 1) return Unsupported(n, id, "the value was flattened");
      const int64_t grp = n.GetInt("group", 1);
      if (grp == 1) {
        gr.slices.push_back({n.inputs[1], 1, s.offset, 1});
        return Status::Ok();
      }
      if (grp == s.total && w->dim(0) == s.total && w->dim(1) == 1) {  // depthwise: channels pass through
        gr.slices.push_back({n.inputs[1], 0, s.offset, 1});
        if (n.HasInput(2)) {
          if (!g_.IsInitializer(n.inputs[2])) return Unsupported(n, id, "its bias is not constant");
          gr.slices.push_back({n.inputs[2], 0, s.offset, 1});
        }
        gr.depthwise.push_back(ni);
        push(s);
        return Status::Ok();
      }
      return Unsupported(n, id, fmt::format("it is a grouped convolution (group {}) that is not depthwise", grp));
    }
    if ((op == "Gemm" || op == "MatMul") && ii == 0) {
      const Tensor* w = n.HasInput(1) ? g_.FindInitializer(n.inputs[1]) : nullptr;
      if (!w || w->rank() != 2) return Unsupported(n, id, "its weight is not a constant matrix");
      if (op == "Gemm" && n.GetInt("transA", 0) != 0) return Unsupported(n, id, "it has transA = 1");
      const TensorType* t = TypeOf(s.value);
      if (t && t->rank() != 2) return Unsupported(n, id, "its input is not 2-D");
      const bool tb = op == "Gemm" && n.GetInt("transB", 0) != 0;
      gr.slices.push_back({n.inputs[1], tb ? 1 : 0, s.offset, s.stride});
      return Status::Ok();
    }
    return Unsupported(n, id, fmt::format("{} (input {}) is not an op the pass can follow", op, ii));
  }

  Graph& g_;
  const std::vector<std::string>& exclude_;
  std::unordered_map<std::string, std::vector<std::pair<size_t, size_t>>> consumers_;
  std::vector<Group> groups_;
  std::vector<int> parent_;
  std::map<size_t, std::set<size_t>> junction_inputs_;
  std::map<size_t, int> junction_group_;
};

// Copy of t without the indices of `axis` where drop[i] is true.
Tensor DropAlong(const Tensor& t, int axis, const std::vector<bool>& drop) {
  Shape s = t.shape();
  const int64_t outer = NumElements(Shape(s.begin(), s.begin() + axis));
  const int64_t inner = NumElements(Shape(s.begin() + axis + 1, s.end()));
  const int64_t len = s[size_t(axis)];
  int64_t kept = 0;
  for (bool d : drop) kept += !d;
  s[size_t(axis)] = kept;
  Tensor out = Tensor::Create(DType::kF32, s).value();
  const float* src = t.data<float>();
  float* dst = out.data<float>();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < len; ++i)
      if (!drop[size_t(i)]) {
        std::copy(src + (o * len + i) * inner, src + (o * len + i + 1) * inner, dst);
        dst += inner;
      }
  return out;
}

// Per-channel L1 norm of a producer's filters.
std::vector<double> ChannelL1(const Tensor& w, int axis, int64_t C) {
  std::vector<double> n(static_cast<size_t>(C), 0.0);
  const Shape& s = w.shape();
  const int64_t inner = NumElements(Shape(s.begin() + axis + 1, s.end()));
  const int64_t outer = NumElements(Shape(s.begin(), s.begin() + axis));
  const float* d = w.data<float>();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < inner; ++i) n[size_t(c)] += std::fabs(d[(o * C + c) * inner + i]);
  return n;
}

// One structured pruning at a fixed ratio, on `model` (the caller passes a clone).
Result<PruneReport> PruneOnce(Model& model, double ratio, const std::vector<std::string>& exclude, int64_t multiple) {
  Graph& g = *model.graph;
  const int64_t opset = model.OpsetFor("") > 0 ? model.OpsetFor("") : 17;
  GREENAI_RETURN_IF_ERROR(g.TopologicalSort());
  GREENAI_RETURN_IF_ERROR(InferGraphTypes(g, opset, /*strict=*/false));
  Analysis an(g, exclude);
  GREENAI_RETURN_IF_ERROR(an.Run());
  auto& groups = an.groups();
  // Merge coupled groups into their roots.
  std::map<int, std::vector<int>> sets;
  for (int i = 0; i < static_cast<int>(groups.size()); ++i) sets[an.Find(i)].push_back(i);
  auto uses = g.BuildUseCounts();
  std::map<std::pair<std::string, int>, std::vector<bool>> drops;
  std::map<size_t, bool> depthwise;
  PruneReport rep;
  for (const auto& [root, members] : sets) {
    const int64_t C = groups[size_t(root)].C;
    std::string frozen;
    for (int m : members)
      if (!groups[size_t(m)].frozen.empty()) frozen = groups[size_t(m)].frozen;
    const Node& p0 = *g.nodes()[groups[size_t(root)].producers[0]];
    if (!frozen.empty()) {
      rep.notes.push_back(fmt::format("{} kept whole: {}", p0.Describe(), frozen));
      continue;
    }
    int64_t remove = static_cast<int64_t>(std::floor(ratio * static_cast<double>(C)));
    if (multiple > 1 && remove > 0 && remove < C) {
      const int64_t keep = std::min(C, (C - remove + multiple - 1) / multiple * multiple);
      remove = C - keep;
    }
    if (remove >= C)
      return InvalidArgument("{}: removing {} of its {} channels would leave none (ratio must be < 1)", p0.Describe(),
                             remove, C);
    if (remove == 0) continue;
    std::vector<double> imp(static_cast<size_t>(C), 0.0);
    for (int m : members) {
      const Slice& ps = groups[size_t(m)].slices[0];  // the producer's weight
      auto l1 = ChannelL1(*g.FindInitializer(ps.init), ps.axis, C);
      for (int64_t c = 0; c < C; ++c) imp[size_t(c)] += l1[size_t(c)];
    }
    std::vector<int64_t> order(static_cast<size_t>(C));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return imp[size_t(a)] < imp[size_t(b)]; });
    std::vector<bool> gone(static_cast<size_t>(C), false);
    for (int64_t i = 0; i < remove; ++i) gone[size_t(order[size_t(i)])] = true;
    for (int m : members) {
      const Group& gr = groups[size_t(m)];
      for (const Slice& s : gr.slices) {
        const Tensor* t = g.FindInitializer(s.init);
        if (uses[s.init] != 1)
          return InvalidArgument("{}: initializer '{}' is read by {} nodes; structured pruning would change all of them",
                                 p0.Describe(), s.init, uses[s.init]);
        auto& d = drops[{s.init, s.axis}];
        d.resize(size_t(t->dim(s.axis)), false);
        for (int64_t c = 0; c < C; ++c)
          if (gone[size_t(c)])
            for (int64_t k = 0; k < s.stride; ++k) {
              const int64_t idx = (s.offset + c) * s.stride + k;
              if (idx >= t->dim(s.axis))
                return Internal("{}: slice of '{}' out of range ({} >= {})", p0.Describe(), s.init, idx, t->dim(s.axis));
              d[size_t(idx)] = true;
            }
      }
      for (size_t dw : gr.depthwise) depthwise[dw] = true;
      for (size_t pi : gr.producers) {
        const Node& p = *g.nodes()[pi];
        const Tensor* w = g.FindInitializer(p.inputs[1]);
        LayerPruneInfo info{p.name, p.op_type, p.inputs[1], w->numel(), 0, 0, C, C - remove};
        rep.layers.push_back(info);
      }
    }
  }
  for (const auto& [key, d] : drops) {
    const Tensor* t = g.FindInitializer(key.first);
    if (std::find(d.begin(), d.end(), true) == d.end()) continue;
    g.initializers[key.first] = DropAlong(*t, key.second, d);
  }
  for (const auto& [ni, _] : depthwise) {
    Node& n = *g.mutable_nodes()[ni];
    n.SetInt("group", g.FindInitializer(n.inputs[1])->dim(0));
  }
  // Intermediate types are stale; graph inputs/outputs keep theirs (their shapes did not change).
  g.value_types.clear();
  GREENAI_RETURN_IF_ERROR(InferGraphTypes(g, opset, /*strict=*/true).WithContext("prune: the pruned graph does not type-check"));
  for (auto& l : rep.layers) l.weights = g.FindInitializer(l.weight)->numel();
  return rep;
}

}  // namespace

Result<PruneReport> PruneStructured(Model& model, const StructuredOptions& o) {
  if (!(o.ratio >= 0 && o.ratio < 1)) return InvalidArgument("prune: structured ratio {} is outside [0, 1)", o.ratio);
  if (o.channel_multiple < 1) return InvalidArgument("prune: channel multiple {} must be >= 1", o.channel_multiple);
  if (!(o.target_flops_reduction >= 0 && o.target_flops_reduction < 1))
    return InvalidArgument("prune: target FLOP reduction {} is outside [0, 1)", o.target_flops_reduction);
  double ratio = o.ratio;
  if (o.target_flops_reduction > 0) {
    GREENAI_ASSIGN_OR_RETURN(auto base, analyze::AnalyzeModel(model));
    auto reduction_at = [&](double r) -> Result<double> {
      auto m = model.Clone();
      GREENAI_RETURN_IF_ERROR(PruneOnce(*m, r, o.exclude, o.channel_multiple).status());
      GREENAI_ASSIGN_OR_RETURN(auto c, analyze::AnalyzeModel(*m));
      return base.flops > 0 ? 1.0 - c.flops / base.flops : 0.0;
    };
    GREENAI_ASSIGN_OR_RETURN(double best, reduction_at(o.ratio));
    if (best < o.target_flops_reduction)
      return InvalidArgument("prune: removing {:.0f} % of every prunable group's channels cuts only {:.1f} % of the FLOPs "
                             "(target {:.1f} %)",
                             o.ratio * 100, best * 100, o.target_flops_reduction * 100);
    double lo = 0, hi = o.ratio;
    for (int it = 0; it < 12; ++it) {
      const double mid = 0.5 * (lo + hi);
      GREENAI_ASSIGN_OR_RETURN(double red, reduction_at(mid));
      if (red >= o.target_flops_reduction) hi = mid;
      else lo = mid;
    }
    ratio = hi;
  }
  auto m = model.Clone();
  GREENAI_ASSIGN_OR_RETURN(PruneReport rep, PruneOnce(*m, ratio, o.exclude, o.channel_multiple));
  model.graph = std::move(m->graph);
  return rep;
}

}  // namespace greenai::compress
