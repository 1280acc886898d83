#include "compress/lowrank/lowrank.h"

#include <algorithm>
#include <cmath>

#include "analyze/cost_model.h"
#include "compress/lowrank/svd.h"
#include "compress/prune/prune.h"
#include "ops/shape_inference.h"

namespace greenai::compress {
namespace {

struct Candidate {
  size_t node_index = 0;
  std::string weight;
  int64_t m = 0, n = 0;  // matrix view
  Svd svd;
  double total = 0;      // sum of s^2
};

// Smallest rank keeping `energy` of the spectrum.
int64_t RankForEnergy(const Svd& s, double total, double energy) {
  if (total <= 0) return 1;
  double acc = 0;
  for (int64_t k = 0; k < s.r; ++k) {
    acc += s.S[size_t(k)] * s.S[size_t(k)];
    if (acc >= energy * total * (1 - 1e-12)) return k + 1;
  }
  return s.r;
}

double EnergyAt(const Svd& s, double total, int64_t r) {
  double acc = 0;
  for (int64_t k = 0; k < r; ++k) acc += s.S[size_t(k)] * s.S[size_t(k)];
  return total > 0 ? acc / total : 1.0;
}

std::string Label(const Node& n, size_t i) { return n.name.empty() ? fmt::format("{}#{}", n.op_type, i) : n.name; }

Result<std::vector<Candidate>> FindCandidates(const Graph& g, const LowRankOptions& o, LowRankReport& rep) {
  std::vector<Candidate> out;
  auto uses = g.BuildUseCounts();
  for (const auto& l : FindPrunableLayers(g, o.exclude)) {
    const Node& n = *g.nodes()[l.node_index];
    const Tensor& w = *g.FindInitializer(l.weight);
    LowRankLayer info;
    info.node = Label(n, l.node_index);
    info.op_type = n.op_type;
    Candidate c;
    c.node_index = l.node_index;
    c.weight = l.weight;
    std::vector<double> a(size_t(w.numel()));
    const float* d = w.data<float>();
    if (n.op_type == "Conv") {
      c.m = w.dim(0);
      c.n = w.numel() / c.m;
      for (size_t i = 0; i < a.size(); ++i) a[i] = d[i];
    } else {
      const bool tb = n.op_type == "Gemm" && n.GetInt("transB", 0) != 0;
      c.m = tb ? w.dim(1) : w.dim(0);
      c.n = tb ? w.dim(0) : w.dim(1);
      for (int64_t i = 0; i < c.m; ++i)
        for (int64_t j = 0; j < c.n; ++j) a[size_t(i * c.n + j)] = tb ? d[j * c.m + i] : d[i * c.n + j];
    }
    info.rows = c.m;
    info.cols = c.n;
    auto rk = o.ranks.find(n.name);
    if (rk != o.ranks.end() && (rk->second < 1 || rk->second >= std::min(c.m, c.n)))
      return InvalidArgument("{}: rank {} is outside [1, {}) for its {}x{} weight '{}' (a rank must be below min(rows, cols))",
                             n.Describe(), rk->second, std::min(c.m, c.n), c.m, c.n, l.weight);
    if (n.op_type == "Conv" && n.GetInt("group", 1) != 1) info.note = "grouped convolution";
    else if (uses[l.weight] != 1) info.note = "weight shared with another node";
    else if (std::min(c.m, c.n) < o.min_dim) info.note = fmt::format("smaller than {} on a side", o.min_dim);
    if (!info.note.empty()) {
      rep.layers.push_back(info);
      continue;
    }
    auto svd = JacobiSvd(a, c.m, c.n);
    if (!svd.ok()) return svd.status().WithContext(n.Describe());
    c.svd = std::move(svd).value();
    for (double s : c.svd.S) c.total += s * s;
    out.push_back(std::move(c));
  }
  return out;
}

Tensor F32(Shape s, const std::vector<double>& v) {
  Tensor t = Tensor::Create(DType::kF32, std::move(s)).value();
  float* d = t.data<float>();
  for (size_t i = 0; i < v.size(); ++i) d[i] = static_cast<float>(v[i]);
  return t;
}

// Factors the candidates at `energy` on `model`; fills per-layer entries of `rep`.
Status Apply(Model& model, const std::vector<Candidate>& cands, const LowRankOptions& o, double energy,
             LowRankReport& rep) {
  Graph& g = *model.graph;
  struct Plan {
    const Candidate* c;
    int64_t r;
  };
  std::vector<Plan> plans;
  for (const auto& c : cands) {
    const Node& n = *g.nodes()[c.node_index];
    LowRankLayer info;
    info.node = Label(n, c.node_index);
    info.op_type = n.op_type;
    info.rows = c.m;
    info.cols = c.n;
    auto rk = o.ranks.find(n.name);
    const int64_t r = rk != o.ranks.end() ? rk->second : RankForEnergy(c.svd, c.total, energy);
    info.rank = r;
    info.energy = EnergyAt(c.svd, c.total, r);
    if (!o.force && r * (c.m + c.n) >= c.m * c.n) {
      info.note = fmt::format("rank {} does not cut MACs ({} x ({} + {}) >= {} x {})", r, r, c.m, c.n, c.m, c.n);
      info.rank = 0;
    } else {
      info.factored = true;
      plans.push_back({&c, r});
    }
    rep.layers.push_back(info);
  }
  // Edit from the last node back so earlier indices stay valid.
  std::sort(plans.begin(), plans.end(), [](const Plan& a, const Plan& b) { return a.c->node_index > b.c->node_index; });
  for (const Plan& p : plans) {
    const Candidate& c = *p.c;
    const int64_t r = p.r, m = c.m, n = c.n;
    // first = S^1/2 Vt_r  (r x n), second = U_r S^1/2 (m x r)
    std::vector<double> first(static_cast<size_t>(r * n)), second(size_t(m * r));
    for (int64_t k = 0; k < r; ++k) {
      const double sq = std::sqrt(c.svd.S[size_t(k)]);
      for (int64_t j = 0; j < n; ++j) first[size_t(k * n + j)] = sq * c.svd.Vt[size_t(k * n + j)];
      for (int64_t i = 0; i < m; ++i) second[size_t(i * r + k)] = c.svd.U[size_t(i * c.svd.r + k)] * sq;
    }
    Node& node = *g.mutable_nodes()[c.node_index];
    auto nn = std::make_unique<Node>();
    nn->name = g.UniqueName((node.name.empty() ? node.op_type : node.name) + "_lowrank");
    nn->op_type = node.op_type;
    const std::string h = g.UniqueName(nn->name + "_out");
    nn->inputs = {node.inputs[0], ""};
    nn->outputs = {h};
    const std::string w1 = g.UniqueName(c.weight + "_lowrank_a"), w2 = g.UniqueName(c.weight + "_lowrank_b");
    nn->inputs[1] = w1;
    if (node.op_type == "Conv") {
      // W ~ second (Co x r) * first (r x Ci*kh*kw): the k x k conv makes r maps, the 1x1 mixes them.
      const Shape ws = g.FindInitializer(c.weight)->shape();
      Shape s1 = ws;
      s1[0] = r;
      g.AddInitializer(w1, F32(s1, first));
      Shape s2(ws.size(), 1);
      s2[0] = m;
      s2[1] = r;
      g.AddInitializer(w2, F32(s2, second));
      nn->attributes = node.attributes;
      node.attributes.erase("auto_pad");
      node.attributes.erase("pads");
      node.attributes.erase("strides");
      node.attributes.erase("dilations");
      node.SetInts("kernel_shape", std::vector<int64_t>(ws.size() - 2, 1));
    } else {
      // y = A W with W (K x N) ~ U_r S^1/2 (K x r) * S^1/2 Vt_r (r x N): `second` is the first layer.
      g.AddInitializer(w1, F32({m, r}, second));
      g.AddInitializer(w2, F32({r, n}, first));
      if (node.op_type == "Gemm") node.SetInt("transB", 0);
    }
    node.inputs[0] = h;
    node.inputs[1] = w2;
    g.RemoveInitializer(c.weight);
    g.InsertNode(c.node_index, std::move(nn));
  }
  g.value_types.clear();
  const int64_t opset = model.OpsetFor("") > 0 ? model.OpsetFor("") : 17;
  return InferGraphTypes(g, opset, /*strict=*/true).WithContext("lowrank: the factored graph does not type-check");
}

}  // namespace

Result<LowRankReport> LowRankFactorize(Model& model, const LowRankOptions& o) {
  if (!(o.energy > 0 && o.energy <= 1)) return InvalidArgument("lowrank: energy {} is outside (0, 1]", o.energy);
  if (!(o.flops_budget >= 0 && o.flops_budget < 1))
    return InvalidArgument("lowrank: FLOP budget {} is outside (0, 1) (a fraction of the original FLOPs)", o.flops_budget);
  LowRankReport skipped;
  GREENAI_ASSIGN_OR_RETURN(auto cands, FindCandidates(*model.graph, o, skipped));
  double energy = o.energy;
  if (o.flops_budget > 0) {
    GREENAI_ASSIGN_OR_RETURN(auto base, analyze::AnalyzeModel(model));
    auto flops_at = [&](double e) -> Result<double> {
      auto m = model.Clone();
      LowRankReport tmp;
      GREENAI_RETURN_IF_ERROR(Apply(*m, cands, o, e, tmp));
      GREENAI_ASSIGN_OR_RETURN(auto c, analyze::AnalyzeModel(*m));
      return c.flops;
    };
    GREENAI_ASSIGN_OR_RETURN(double lowest, flops_at(1e-9));
    if (lowest > o.flops_budget * base.flops)
      return InvalidArgument("lowrank: even rank 1 everywhere keeps {:.1f} % of the FLOPs (budget {:.1f} %)",
                             100 * lowest / base.flops, 100 * o.flops_budget);
    double lo = 1e-9, hi = 1.0;  // lo fits the budget
    for (int it = 0; it < 20; ++it) {
      const double mid = 0.5 * (lo + hi);
      GREENAI_ASSIGN_OR_RETURN(double f, flops_at(mid));
      if (f <= o.flops_budget * base.flops) lo = mid;
      else hi = mid;
    }
    energy = lo;
  }
  auto m = model.Clone();
  LowRankReport rep;
  GREENAI_RETURN_IF_ERROR(Apply(*m, cands, o, energy, rep));
  rep.energy_used = energy;
  for (auto& l : skipped.layers) rep.layers.push_back(l);
  model.graph = std::move(m->graph);
  return rep;
}

}  // namespace greenai::compress
