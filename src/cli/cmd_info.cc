// greenai info MODEL [--json]
// Summarizes a model without running it: inputs/outputs (symbolic dims by name), IR version,
// producer, opset imports, op histogram (nodes of subgraphs included), node and parameter
// counts, and the ops greenai cannot run (no OpDef, opset below what greenai supports, or no
// CPU kernel).
#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include "backends/cpu/kernel.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "graph/onnx_io.h"
#include "ops/op_table.h"

namespace greenai::cli {

namespace {

struct InfoArgs {
  std::string model;
  bool json = false;
};

struct OpKey {
  std::string domain, op;
  bool operator<(const OpKey& o) const { return std::tie(domain, op) < std::tie(o.domain, o.op); }
  std::string Name() const { return domain.empty() || domain == "ai.onnx" ? op : domain + "::" + op; }
};

void CountOps(const Graph& g, std::map<OpKey, int64_t>* hist, int64_t* subgraph_nodes, bool nested) {
  for (const auto& n : g.nodes()) {
    (*hist)[{n->domain == "ai.onnx" ? "" : n->domain, n->op_type}]++;
    if (nested) ++*subgraph_nodes;
    for (const auto& [name, attr] : n->attributes) {
      if (attr.g) CountOps(*attr.g, hist, subgraph_nodes, true);
      for (const auto& sg : attr.graphs)
        if (sg) CountOps(*sg, hist, subgraph_nodes, true);
    }
  }
}

// Empty when greenai can run the op at `opset`, else why not.
std::string UnsupportedReason(const OpKey& k, int64_t opset) {
  const OpDef* def = OpTable::Get().Find(k.domain, k.op);
  if (!def) return "not in the op table";
  if (opset > 0 && opset < def->since_version)
    return fmt::format("opset {} is below the lowest supported ({})", opset, def->since_version);
  if (KernelRegistry::Get().Candidates(k.domain, k.op).empty()) return "no CPU kernel";
  return "";
}

nlohmann::ordered_json DimsJson(const TensorType& t) {
  if (!t.has_shape) return nullptr;  // rank unknown
  nlohmann::ordered_json dims = nlohmann::ordered_json::array();
  for (size_t i = 0; i < t.dims.size(); ++i) {
    const std::string param = i < t.dim_params.size() ? t.dim_params[i] : "";
    if (!param.empty()) dims.push_back(param);
    else if (t.dims[i] < 0) dims.push_back(nullptr);
    else dims.push_back(t.dims[i]);
  }
  return dims;
}

std::string DimsText(const TensorType& t) {
  if (!t.has_shape) return "(rank unknown)";
  std::string s = "[";
  for (size_t i = 0; i < t.dims.size(); ++i) {
    if (i) s += ", ";
    const std::string param = i < t.dim_params.size() ? t.dim_params[i] : "";
    s += !param.empty() ? param : t.dims[i] < 0 ? "?" : std::to_string(t.dims[i]);
  }
  return s + "]";
}

std::string HumanBytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} {}", b, units[u]) : fmt::format("{:.2f} {}", b, units[u]);
}

void PrintValueTable(const char* title, const std::vector<const ValueInfo*>& values) {
  std::printf("%s (%zu):\n", title, values.size());
  size_t wn = 4, wt = 5;
  for (const auto* v : values) {
    wn = std::max(wn, v->name.size());
    wt = std::max(wt, std::string(DTypeName(v->type.dtype)).size());
  }
  std::printf("  %-*s  %-*s  %s\n", static_cast<int>(wn), "name", static_cast<int>(wt), "dtype", "shape");
  for (const auto* v : values)
    std::printf("  %-*s  %-*s  %s\n", static_cast<int>(wn), v->name.c_str(), static_cast<int>(wt),
                std::string(DTypeName(v->type.dtype)).c_str(), DimsText(v->type).c_str());
}

int RunInfo(const InfoArgs& a) {
  auto loaded = LoadModel(a.model);
  if (!loaded.ok()) return Fail("info", loaded.status());
  const Model& m = **loaded;
  const Graph& g = *m.graph;

  std::vector<const ValueInfo*> inputs, outputs;
  for (const auto& vi : g.inputs)
    if (!g.IsInitializer(vi.name)) inputs.push_back(&vi);
  for (const auto& vi : g.outputs) outputs.push_back(&vi);

  std::map<OpKey, int64_t> hist;
  int64_t subgraph_nodes = 0;
  CountOps(g, &hist, &subgraph_nodes, false);
  std::vector<std::pair<OpKey, int64_t>> sorted(hist.begin(), hist.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& x, const auto& y) { return x.second > y.second; });

  struct Unsup { std::string op, reason; int64_t count; };
  std::vector<Unsup> unsupported;
  for (const auto& [k, c] : sorted) {
    std::string why = UnsupportedReason(k, m.OpsetFor(k.domain));
    if (!why.empty()) unsupported.push_back({k.Name(), why, c});
  }

  int64_t params = 0;
  double param_bytes = 0;
  for (const auto& [name, t] : g.initializers) {
    params += t.numel();
    param_bytes += static_cast<double>(t.nbytes());
  }

  if (a.json) {
    nlohmann::ordered_json j;
    j["model"] = a.model;
    j["ir_version"] = m.ir_version;
    j["producer_name"] = m.producer_name;
    j["producer_version"] = m.producer_version;
    nlohmann::ordered_json opsets = nlohmann::ordered_json::array();
    for (const auto& o : m.opset_imports) opsets.push_back({{"domain", o.domain}, {"version", o.version}});
    j["opset_imports"] = opsets;
    auto values = [](const std::vector<const ValueInfo*>& vs) {
      nlohmann::ordered_json arr = nlohmann::ordered_json::array();
      for (const auto* v : vs)
        arr.push_back({{"name", v->name}, {"dtype", std::string(DTypeName(v->type.dtype))}, {"shape", DimsJson(v->type)}});
      return arr;
    };
    j["inputs"] = values(inputs);
    j["outputs"] = values(outputs);
    j["node_count"] = g.nodes().size();
    j["subgraph_node_count"] = subgraph_nodes;
    nlohmann::ordered_json ops = nlohmann::ordered_json::array();
    for (const auto& [k, c] : sorted) ops.push_back({{"op", k.Name()}, {"count", c}});
    j["op_histogram"] = ops;
    j["parameter_count"] = params;
    j["parameter_bytes"] = param_bytes;
    j["initializer_count"] = g.initializers.size();
    nlohmann::ordered_json un = nlohmann::ordered_json::array();
    for (const auto& u : unsupported) un.push_back({{"op", u.op}, {"count", u.count}, {"reason", u.reason}});
    j["unsupported_ops"] = un;
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }

  std::printf("model:        %s\n", a.model.c_str());
  std::printf("ir_version:   %lld\n", static_cast<long long>(m.ir_version));
  std::printf("producer:     %s %s\n", m.producer_name.empty() ? "(none)" : m.producer_name.c_str(),
              m.producer_version.c_str());
  std::string opsets;
  for (const auto& o : m.opset_imports)
    opsets += fmt::format("{}{} {}", opsets.empty() ? "" : ", ", o.domain.empty() ? "ai.onnx" : o.domain, o.version);
  std::printf("opsets:       %s\n", opsets.empty() ? "(none)" : opsets.c_str());
  std::printf("nodes:        %zu (+%lld in subgraphs)\n", g.nodes().size(), static_cast<long long>(subgraph_nodes));
  std::printf("parameters:   %lld in %zu initializers, %s\n\n", static_cast<long long>(params), g.initializers.size(),
              HumanBytes(param_bytes).c_str());
  PrintValueTable("inputs", inputs);
  std::printf("\n");
  PrintValueTable("outputs", outputs);
  std::printf("\nop histogram (%zu op types):\n", sorted.size());
  size_t w = 2;
  for (const auto& [k, c] : sorted) w = std::max(w, k.Name().size());
  std::printf("  %-*s  %8s  %s\n", static_cast<int>(w), "op", "count", "greenai");
  for (const auto& [k, c] : sorted) {
    std::string why = UnsupportedReason(k, m.OpsetFor(k.domain));
    std::printf("  %-*s  %8lld  %s\n", static_cast<int>(w), k.Name().c_str(), static_cast<long long>(c),
                why.empty() ? "supported" : ("UNSUPPORTED: " + why).c_str());
  }
  if (unsupported.empty()) {
    std::printf("\nall ops are supported by greenai\n");
  } else {
    std::printf("\nunsupported ops (%zu):", unsupported.size());
    for (const auto& u : unsupported) std::printf(" %s", u.op.c_str());
    std::printf("\n");
  }
  return 0;
}

}  // namespace

void RegisterInfo(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<InfoArgs>();
  auto* sub = app.add_subcommand("info", "Inputs, outputs, opsets, op histogram, parameters of an ONNX model");
  sub->add_option("model", args->model, "ONNX model file")->required();
  sub->add_flag("--json", args->json, "print one JSON object on stdout");
  sub->callback([args, exit_code] { *exit_code = RunInfo(*args); });
}

}  // namespace greenai::cli
