#include "runtime/session.h"

#include "core/thread_pool.h"
#include "ops/shape_inference.h"
#include "passes/pass.h"
#include "runtime/executor.h"

namespace greenai {

void TimingProfiler::OnNodeBegin(size_t, const Node&, std::string_view) { start_ = std::chrono::steady_clock::now(); }

void TimingProfiler::OnNodeEnd(size_t index, const Node& node, std::string_view kernel) {
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
  if (entries_.size() <= index) entries_.resize(index + 1);
  Entry& e = entries_[index];
  if (e.calls == 0) {
    e.node_name = node.name;
    e.op_type = node.op_type;
    e.kernel = std::string(kernel);
  }
  ++e.calls;
  e.total_ms += ms;
}

struct Session::Impl {
  std::unique_ptr<Model> model;
  std::unique_ptr<ThreadPool> pool;
  std::unique_ptr<Executor> executor;
  std::vector<ValueInfo> inputs;
  std::vector<ValueInfo> outputs;
  SessionOptions opts;
  std::mutex mu;
};

namespace {
// Infers types inside subgraphs (non-strict), seeding each with the enclosing graph's types.
void InferSubgraphs(Graph& g, int64_t opset) {
  for (const auto& n : g.mutable_nodes()) {
    for (auto& [an, a] : n->attributes) {
      std::vector<Graph*> subs;
      if (a.g) subs.push_back(a.g.get());
      for (auto& sg : a.graphs) subs.push_back(sg.get());
      for (Graph* sg : subs) {
        for (const auto& [k, t] : g.value_types)
          if (!sg->value_types.count(k)) sg->value_types[k] = t;
        for (const auto& [k, t] : g.initializers)
          if (!sg->value_types.count(k)) sg->value_types[k] = TensorType::Of(t.dtype(), t.shape());
        std::vector<std::string> outer;
        for (const auto& [k, t] : sg->value_types) outer.push_back(k);
        (void)sg->TopologicalSort(outer);
        InferenceReport report;
        (void)InferGraphTypes(*sg, opset, /*strict=*/false, &report);
        InferSubgraphs(*sg, opset);
      }
    }
  }
}
}  // namespace

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;

Result<std::unique_ptr<Session>> Session::Create(const Model& model, SessionOptions opts) {
  auto impl = std::make_unique<Impl>();
  impl->opts = opts;
  impl->model = model.Clone();
  Graph& g = *impl->model->graph;
  GREENAI_RETURN_IF_ERROR(g.TopologicalSort());
  if (opts.optimize) {
    GREENAI_RETURN_IF_ERROR(RunPasses(*impl->model, DefaultPasses()));
    GREENAI_RETURN_IF_ERROR(g.TopologicalSort());
  }
  for (const auto* list : {&g.inputs, &g.outputs})
    for (const auto& v : *list)
      if (v.type.dtype == DType::kUndefined && !g.IsInitializer(v.name))
        return Unimplemented("graph {} '{}' is not a tensor (sequence, optional and map values are not supported)",
                             list == &g.inputs ? "input" : "output", v.name);
  int64_t opset = impl->model->OpsetFor("");
  GREENAI_RETURN_IF_ERROR(InferGraphTypes(g, opset, /*strict=*/true));
  InferSubgraphs(g, opset);
  impl->pool = std::make_unique<ThreadPool>(opts.num_threads);
  GREENAI_ASSIGN_OR_RETURN(impl->executor, Executor::Create(g, *impl->model, opts, impl->pool.get(), nullptr));
  for (const auto& in : g.inputs)
    if (!g.IsInitializer(in.name)) impl->inputs.push_back(in);
  impl->outputs = g.outputs;
  return std::unique_ptr<Session>(new Session(std::move(impl)));
}

const std::vector<ValueInfo>& Session::inputs() const { return impl_->inputs; }
const std::vector<ValueInfo>& Session::outputs() const { return impl_->outputs; }
const Graph& Session::graph() const { return *impl_->model->graph; }
std::string_view Session::kernel_name(size_t i) const { return impl_->executor->kernel_name(i); }

void Session::set_profiler(ProfilerHook* p) {
  std::lock_guard<std::mutex> lk(impl_->mu);
  impl_->opts.profiler = p;
  impl_->executor->set_profiler(p);
}

Result<std::vector<Tensor>> Session::Run(const std::vector<std::pair<std::string, Tensor>>& feeds) {
  std::lock_guard<std::mutex> lk(impl_->mu);
  const Graph& g = *impl_->model->graph;
  const auto& all_inputs = impl_->executor->inputs();
  std::vector<Tensor> bound(all_inputs.size());
  for (const auto& [name, t] : feeds) {
    size_t idx = all_inputs.size();
    for (size_t i = 0; i < all_inputs.size(); ++i)
      if (all_inputs[i].name == name) idx = i;
    if (idx == all_inputs.size()) {
      std::string names;
      for (const auto& in : impl_->inputs) names += (names.empty() ? "" : ", ") + in.name;
      return InvalidArgument("input '{}' is not an input of the model (inputs: {})", name, names);
    }
    const TensorType& want = all_inputs[idx].type;
    if (want.dtype != DType::kUndefined && t.dtype() != want.dtype)
      return InvalidArgument("input '{}': dtype {} given, model expects {}", name, DTypeName(t.dtype()),
                             DTypeName(want.dtype));
    if (want.has_shape) {
      bool ok = static_cast<int>(want.dims.size()) == t.rank();
      for (size_t d = 0; ok && d < want.dims.size(); ++d)
        if (want.dims[d] >= 0 && want.dims[d] != t.shape()[d]) ok = false;
      if (!ok)
        return InvalidArgument("input '{}': shape {} given, model expects {}", name, ShapeToString(t.shape()),
                               want.ToString());
    }
    bound[idx] = t;
  }
  for (size_t i = 0; i < all_inputs.size(); ++i)
    if (!bound[i].defined() && !g.IsInitializer(all_inputs[i].name))
      return InvalidArgument("input '{}' ({}) is required but was not given", all_inputs[i].name,
                             all_inputs[i].type.ToString());
  if (impl_->opts.profiler) impl_->opts.profiler->OnRunBegin();
  auto r = impl_->executor->Run(bound);
  if (impl_->opts.profiler) impl_->opts.profiler->OnRunEnd();
  return r;
}

}  // namespace greenai
