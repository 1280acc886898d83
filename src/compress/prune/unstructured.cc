// Unstructured (magnitude / gradient / Taylor scores) and N:M pruning: masks written as zeros
// into fresh copies of the weight initializers.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "compress/prune/prune.h"

namespace greenai::compress {
namespace {

bool Excluded(const std::vector<std::string>& ex, const Node& n, const std::string& w) {
  return std::find(ex.begin(), ex.end(), n.name) != ex.end() || std::find(ex.begin(), ex.end(), w) != ex.end();
}

std::string NodeLabel(const Node& n, size_t i) { return n.name.empty() ? fmt::format("{}#{}", n.op_type, i) : n.name; }

int64_t CountZeros(const Tensor& t) {
  int64_t z = 0;
  for (float v : t.span<float>()) z += v == 0.f;
  return z;
}

// Scores for a layer's weight: caller's (checked shape) or |w|.
Result<std::vector<float>> LayerScores(const PruneOptions& o, const Node& node, const std::string& wname,
                                       const Tensor& w) {
  std::vector<float> s(static_cast<size_t>(w.numel()));
  auto it = o.scores.find(wname);
  if (it == o.scores.end()) {
    const float* d = w.data<float>();
    for (size_t i = 0; i < s.size(); ++i) s[i] = std::fabs(d[i]);
    return s;
  }
  const Tensor& sc = it->second;
  if (sc.dtype() != DType::kF32 || sc.shape() != w.shape())
    return InvalidArgument("{}: importance scores for '{}' have shape {} but the weight is {}", node.Describe(), wname,
                           ShapeToString(sc.shape()), ShapeToString(w.shape()));
  const float* d = sc.data<float>();
  for (size_t i = 0; i < s.size(); ++i) s[i] = std::isfinite(d[i]) ? d[i] : 0.f;
  return s;
}

// Indices of the `k` lowest scores (ties broken by index, so the result is deterministic).
std::vector<int64_t> LowestK(const std::vector<float>& s, int64_t k) {
  std::vector<int64_t> idx(s.size());
  std::iota(idx.begin(), idx.end(), 0);
  auto less = [&](int64_t a, int64_t b) { return s[size_t(a)] < s[size_t(b)] || (s[size_t(a)] == s[size_t(b)] && a < b); };
  if (k < static_cast<int64_t>(idx.size())) std::nth_element(idx.begin(), idx.begin() + k, idx.end(), less);
  idx.resize(static_cast<size_t>(k));
  return idx;
}

Status CheckSparsity(double s) {
  if (!(s >= 0 && s < 1)) return InvalidArgument("prune: sparsity {} is outside [0, 1)", s);
  return Status::Ok();
}

}  // namespace

double Sparsity(const Tensor& t) {
  if (t.dtype() != DType::kF32 || t.numel() == 0) return 0;
  return static_cast<double>(CountZeros(t)) / static_cast<double>(t.numel());
}

std::vector<PrunableLayer> FindPrunableLayers(const Graph& g, const std::vector<std::string>& exclude,
                                              int64_t min_weights) {
  std::vector<PrunableLayer> out;
  const auto& nodes = g.nodes();
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Node& n = *nodes[i];
    if (!n.domain.empty() && n.domain != "ai.onnx") continue;
    if (n.op_type != "Gemm" && n.op_type != "MatMul" && n.op_type != "Conv") continue;
    if (!n.HasInput(1)) continue;
    const Tensor* w = g.FindInitializer(n.inputs[1]);
    if (!w || w->dtype() != DType::kF32 || g.IsGraphInput(n.inputs[1])) continue;
    if (n.op_type == "Gemm" && (n.GetInt("transA", 0) != 0 || w->rank() != 2)) continue;
    if (n.op_type == "MatMul" && w->rank() != 2) continue;
    if (n.op_type == "Conv" && w->rank() < 3) continue;
    if (Excluded(exclude, n, n.inputs[1]) || w->numel() < std::max<int64_t>(min_weights, 1)) continue;
    PrunableLayer l;
    l.node_index = i;
    l.weight = n.inputs[1];
    if (n.op_type == "Conv") l.k_axis_len = w->numel() / w->dim(0);
    else if (n.op_type == "Gemm" && n.GetInt("transB", 0) != 0) l.k_axis_len = w->dim(1);
    else l.k_axis_len = w->dim(0);
    out.push_back(l);
  }
  return out;
}

std::pair<int64_t, int64_t> CountWeightZeros(const Graph& g) {
  int64_t zeros = 0, total = 0;
  std::vector<std::string> seen;
  for (const auto& l : FindPrunableLayers(g, {})) {
    if (std::find(seen.begin(), seen.end(), l.weight) != seen.end()) continue;
    seen.push_back(l.weight);
    const Tensor* w = g.FindInitializer(l.weight);
    zeros += CountZeros(*w);
    total += w->numel();
  }
  return {zeros, total};
}

Result<PruneReport> PruneUnstructured(Model& model, const PruneOptions& o) {
  GREENAI_RETURN_IF_ERROR(CheckSparsity(o.sparsity));
  Graph& g = *model.graph;
  auto layers = FindPrunableLayers(g, o.exclude, o.min_weights);
  if (layers.empty()) return InvalidArgument("prune: the model has no prunable Gemm/MatMul/Conv weight");
  // Plan every layer's mask first; nothing is written until all checks pass.
  std::vector<std::vector<float>> scores;
  for (const auto& l : layers) {
    const Node& n = *g.nodes()[l.node_index];
    GREENAI_ASSIGN_OR_RETURN(auto s, LayerScores(o, n, l.weight, *g.FindInitializer(l.weight)));
    scores.push_back(std::move(s));
  }
  std::vector<std::vector<int64_t>> drop(layers.size());
  if (o.scope == PruneScope::kLayer) {
    for (size_t i = 0; i < layers.size(); ++i) {
      const int64_t numel = static_cast<int64_t>(scores[i].size());
      drop[i] = LowestK(scores[i], static_cast<int64_t>(std::floor(o.sparsity * static_cast<double>(numel))));
    }
  } else {
    // One threshold over all layers: pool (score, layer, index) and take the lowest.
    std::vector<std::pair<float, std::pair<uint32_t, int64_t>>> all;
    for (size_t i = 0; i < layers.size(); ++i)
      for (size_t j = 0; j < scores[i].size(); ++j) all.push_back({scores[i][j], {uint32_t(i), int64_t(j)}});
    const int64_t k = static_cast<int64_t>(std::floor(o.sparsity * static_cast<double>(all.size())));
    std::nth_element(all.begin(), all.begin() + k, all.end());
    for (int64_t i = 0; i < k; ++i) drop[all[size_t(i)].second.first].push_back(all[size_t(i)].second.second);
    for (size_t i = 0; i < layers.size(); ++i)
      if (!scores[i].empty() && drop[i].size() == scores[i].size())
        return InvalidArgument("{}: global sparsity {} would remove all {} weights of '{}' (a layer must keep one)",
                               g.nodes()[layers[i].node_index]->Describe(), o.sparsity, scores[i].size(), layers[i].weight);
  }
  PruneReport rep;
  std::vector<std::string> done;
  for (size_t i = 0; i < layers.size(); ++i) {
    const auto& l = layers[i];
    const Node& n = *g.nodes()[l.node_index];
    const Tensor& w = *g.FindInitializer(l.weight);
    LayerPruneInfo info{NodeLabel(n, l.node_index), n.op_type, l.weight, w.numel(), CountZeros(w), 0, 0, 0};
    if (std::find(done.begin(), done.end(), l.weight) == done.end()) {
      Tensor nw = w.Clone();
      float* d = nw.data<float>();
      for (int64_t j : drop[i]) d[j] = 0.f;
      g.initializers[l.weight] = nw;  // replace: clones of the model keep the old tensor
      done.push_back(l.weight);
    }
    info.zeros_after = CountZeros(*g.FindInitializer(l.weight));
    rep.total_weights += info.weights;
    rep.total_zeros_after += info.zeros_after;
    rep.layers.push_back(info);
  }
  return rep;
}

Result<PruneReport> PruneNM(Model& model, int n_keep, int m, const PruneOptions& o) {
  if (m < 2 || n_keep < 1 || n_keep >= m)
    return InvalidArgument("prune: N:M pattern {}:{} needs 1 <= N < M", n_keep, m);
  Graph& g = *model.graph;
  auto layers = FindPrunableLayers(g, o.exclude, o.min_weights);
  if (layers.empty()) return InvalidArgument("prune: the model has no prunable Gemm/MatMul/Conv weight");
  for (const auto& l : layers)
    if (l.k_axis_len % m != 0)
      return InvalidArgument("{}: reduction length {} of weight '{}' is not a multiple of M = {} (N:M needs whole groups; "
                             "exclude the layer)",
                             g.nodes()[l.node_index]->Describe(), l.k_axis_len, l.weight, m);
  std::vector<std::vector<float>> scores;
  for (const auto& l : layers) {
    GREENAI_ASSIGN_OR_RETURN(auto s, LayerScores(o, *g.nodes()[l.node_index], l.weight, *g.FindInitializer(l.weight)));
    scores.push_back(std::move(s));
  }
  PruneReport rep;
  std::vector<std::string> done;
  for (size_t li = 0; li < layers.size(); ++li) {
    const auto& l = layers[li];
    const Node& node = *g.nodes()[l.node_index];
    const Tensor& w = *g.FindInitializer(l.weight);
    LayerPruneInfo info{NodeLabel(node, l.node_index), node.op_type, l.weight, w.numel(), CountZeros(w), 0, 0, 0};
    if (std::find(done.begin(), done.end(), l.weight) == done.end()) {
      // Element (out, k) lives at out*K + k (Conv, Gemm transB) or k*N + out (Gemm, MatMul).
      const bool k_major = !(node.op_type == "Conv" || node.GetInt("transB", 0) != 0);
      const int64_t K = l.k_axis_len, N = w.numel() / K;
      Tensor nw = w.Clone();
      float* d = nw.data<float>();
      const auto& s = scores[li];
      std::vector<int64_t> grp(static_cast<size_t>(m));
      for (int64_t out = 0; out < N; ++out)
        for (int64_t k0 = 0; k0 < K; k0 += m) {
          for (int j = 0; j < m; ++j) grp[size_t(j)] = k_major ? (k0 + j) * N + out : out * K + k0 + j;
          // Keep the n largest scores (ties: lower k first); zero the rest.
          std::stable_sort(grp.begin(), grp.end(), [&](int64_t a, int64_t b) { return s[size_t(a)] > s[size_t(b)]; });
          for (int j = n_keep; j < m; ++j) d[grp[size_t(j)]] = 0.f;
        }
      g.initializers[l.weight] = nw;
      done.push_back(l.weight);
    }
    info.zeros_after = CountZeros(*g.FindInitializer(l.weight));
    rep.total_weights += info.weights;
    rep.total_zeros_after += info.zeros_after;
    rep.layers.push_back(info);
  }
  return rep;
}

}  // namespace greenai::compress
