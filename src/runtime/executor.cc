#include "runtime/executor.h"

#include <algorithm>
#include <cstdlib>

#include "backends/cpu/run_node.h"
#include "ops/layout.h"
#include "ops/shape_inference.h"

namespace greenai {

struct Executor::Step {
  const Node* node = nullptr;
  const OpDef* def = nullptr;
  int64_t opset = 0;
  std::unique_ptr<Kernel> kernel;
  std::string_view kernel_name;
  std::vector<int> in, out;     // slot per input/output, -1 when omitted
  std::vector<int> release;     // slots whose last use is this step
  bool has_subgraphs = false;
  bool alias = false;           // output 0 is a view of input 0's buffer (IsViewOp, TransposeIsView)
  int inplace_slot = -1;        // output 0 may take this input slot's buffer (Kernel::InPlaceInput)
  // Shape-inference cache.
  bool cache_valid = false;
  std::vector<Shape> cached_shapes;
  std::vector<DType> cached_dtypes;
  std::vector<std::vector<int64_t>> cached_small_ints;
  std::vector<TensorType> out_types;
};

namespace {
constexpr int64_t kSmallIntLimit = 64;  // int inputs this small may carry shapes; key the cache on them

bool IsIntType(DType t) { return t == DType::kI64 || t == DType::kI32; }

// Ops whose output holds exactly the input's elements in the same order: the executor hands
// out a view of the input's buffer instead of copying (the buffer then lives until the last
// use of either value).
bool IsViewOp(const Node& n) {
  if (!n.domain.empty() && n.domain != "ai.onnx") return false;
  return n.op_type == "Reshape" || n.op_type == "Flatten" || n.op_type == "Squeeze" || n.op_type == "Unsqueeze" ||
         n.op_type == "Identity";
}

// A Transpose that moves only axes of extent 1 (e.g. NCHW -> NHWC with C = 1, or a blocked
// [N, C/8, 1, 1, 8] tensor back to [N, C, 1, 1]) keeps the elements in order: a view too.
// Decided per input shape: at plan time on the static shape (an unknown extent counts as
// not 1), and again at run time.
bool TransposeIsView(const Node& n, const std::vector<int64_t>& dims) {
  if ((!n.domain.empty() && n.domain != "ai.onnx") || n.op_type != "Transpose") return false;
  if (HasLayoutMark(n)) return false;  // its perm would not be the physical one
  std::vector<int64_t> perm = n.GetInts("perm");
  const int64_t rank = static_cast<int64_t>(dims.size());
  if (perm.empty())
    for (int64_t i = rank - 1; i >= 0; --i) perm.push_back(i);
  if (static_cast<int64_t>(perm.size()) != rank) return false;
  int64_t last = -1;
  for (int64_t a : perm) {
    if (a < 0 || a >= rank) return false;
    if (dims[static_cast<size_t>(a)] == 1) continue;
    if (a < last) return false;
    last = a;
  }
  return true;
}

std::vector<int64_t> SmallInts(const Tensor& t) {
  std::vector<int64_t> v;
  if (!IsIntType(t.dtype()) || t.numel() > kSmallIntLimit) return v;
  v.reserve(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i)
    v.push_back(t.dtype() == DType::kI64 ? t.data<int64_t>()[i] : t.data<int32_t>()[i]);
  return v;
}
}  // namespace

Executor::~Executor() = default;

Result<std::unique_ptr<Executor>> Executor::Create(const Graph& graph, const Model& model, const SessionOptions& opts,
                                                   ThreadPool* pool, const Executor* outer) {
  std::unique_ptr<Executor> ex(new Executor());
  ex->graph_ = &graph;
  ex->model_ = &model;
  ex->opts_ = opts;
  ex->pool_ = pool;
  ex->outer_ = outer;

  auto slot = [&](const std::string& name) -> int {
    auto it = ex->slot_of_.find(name);
    if (it != ex->slot_of_.end()) return it->second;
    int s = static_cast<int>(ex->slot_names_.size());
    ex->slot_of_[name] = s;
    ex->slot_names_.push_back(name);
    return s;
  };
  for (const auto& in : graph.inputs) {
    ex->inputs_.push_back(in);
    ex->input_slots_.push_back(slot(in.name));
  }
  for (const auto& name : graph.initializer_order) slot(name);
  for (const auto& [name, t] : graph.initializers) slot(name);
  for (const auto& n : graph.nodes()) {
    for (const auto& i : n->inputs)
      if (!i.empty()) slot(i);
    for (const auto& o : n->outputs)
      if (!o.empty()) slot(o);
  }
  for (const auto& o : graph.outputs) ex->output_slots_.push_back(slot(o.name));
  const size_t nslots = ex->slot_names_.size();
  ex->values_.resize(nslots);
  ex->const_values_.resize(nslots);
  ex->is_outer_.assign(nslots, false);
  ex->is_graph_output_.assign(nslots, false);
  ex->slot_block_.resize(nslots);
  for (int s : ex->output_slots_) ex->is_graph_output_[static_cast<size_t>(s)] = true;
  for (const auto& [name, t] : graph.initializers) ex->const_values_[static_cast<size_t>(ex->slot_of_[name])] = t;

  // Which slots are defined inside this graph; the rest come from enclosing scopes.
  std::vector<bool> defined(nslots, false);
  for (int s : ex->input_slots_) defined[static_cast<size_t>(s)] = true;
  for (const auto& [name, t] : graph.initializers) defined[static_cast<size_t>(ex->slot_of_[name])] = true;
  for (const auto& n : graph.nodes())
    for (const auto& o : n->outputs)
      if (!o.empty()) defined[static_cast<size_t>(ex->slot_of_[o])] = true;
  for (size_t s = 0; s < nslots; ++s) {
    if (defined[s]) continue;
    if (!outer)
      return InvalidArgument("value '{}' is read but never defined (not an input, initializer or node output)",
                             ex->slot_names_[s]);
    ex->is_outer_[s] = true;
  }

  // Constant-node values are known at plan time too (helps kernels specialize).
  std::unordered_map<std::string, const Tensor*> constants;
  std::vector<int> last_use(nslots, -1);
  for (size_t idx = 0; idx < graph.nodes().size(); ++idx) {
    const Node& node = *graph.nodes()[idx];
    auto step = std::make_unique<Step>();
    step->node = &node;
    step->def = OpTable::Get().Find(node.domain, node.op_type);
    if (!step->def)
      return Unimplemented("{}: op '{}'{} is not supported by greenai", node.Describe(), node.op_type,
                           node.domain.empty() ? "" : " (domain '" + node.domain + "')");
    step->opset = model.OpsetFor(node.domain);
    if (step->opset == 0) step->opset = model.OpsetFor("");
    for (const auto& i : node.inputs) {
      int s = i.empty() ? -1 : ex->slot_of_[i];
      step->in.push_back(s);
      if (s >= 0) last_use[static_cast<size_t>(s)] = static_cast<int>(idx);
    }
    for (const auto& o : node.outputs) step->out.push_back(o.empty() ? -1 : ex->slot_of_[o]);
    for (const auto& [an, a] : node.attributes) {
      if (a.g || !a.graphs.empty()) step->has_subgraphs = true;
    }
    InferContext ictx = MakeStaticInferContext(graph, node, step->opset, constants);
    KernelInfo kinfo{node, step->opset, ictx.inputs, ictx.values, {}, pool->num_threads()};
    for (const auto& o : node.outputs) {
      auto it = graph.value_types.find(o);
      kinfo.output_types.push_back(it != graph.value_types.end() ? it->second : TensorType{});
    }
    GREENAI_ASSIGN_OR_RETURN(CreatedKernel ck, CreateKernel(kinfo, opts.reference_only));
    step->kernel = std::move(ck.kernel);
    step->kernel_name = ck.name;
    // A view needs a plain tensor input defined in this graph and an output that is not a
    // graph output (those must be owned by the caller).
    const bool view_op =
        IsViewOp(node) || (!kinfo.input_types.empty() && kinfo.input_types[0].has_shape &&
                           TransposeIsView(node, kinfo.input_types[0].dims));
    if (view_op && node.outputs.size() == 1 && !step->in.empty() && step->in[0] >= 0 && step->out[0] >= 0 &&
        !step->has_subgraphs && !ex->is_outer_[static_cast<size_t>(step->in[0])] &&
        !ex->is_graph_output_[static_cast<size_t>(step->out[0])] && !kinfo.input_types.empty() &&
        kinfo.input_types[0].dtype != DType::kString && kinfo.input_types[0].dtype != DType::kUndefined) {
      step->alias = true;
      step->kernel_name = "any_view__alias";
    }
    if (node.op_type == "Constant" && node.domain.empty() && !node.outputs.empty())
      if (const Tensor* t = node.GetTensor("value")) constants[node.outputs[0]] = t;
    ex->steps_.push_back(std::move(step));
  }
  // Subgraphs read outer values implicitly: keep every value alive until the last node
  // with a subgraph that might read it (conservative and simple).
  int last_sub = -1;
  for (size_t idx = 0; idx < ex->steps_.size(); ++idx)
    if (ex->steps_[idx]->has_subgraphs) last_sub = static_cast<int>(idx);
  // Views: the buffer belongs to the root value (the first non-view producer); it must live
  // until the last use of any view of it, and the views themselves release nothing.
  std::vector<int> alias_root(nslots, -1);
  for (const auto& st : ex->steps_) {
    if (!st->alias) continue;
    const size_t in = static_cast<size_t>(st->in[0]);
    alias_root[static_cast<size_t>(st->out[0])] = alias_root[in] >= 0 ? alias_root[in] : static_cast<int>(in);
  }
  for (size_t s = 0; s < nslots; ++s)
    if (alias_root[s] >= 0) {
      int& root_last = last_use[static_cast<size_t>(alias_root[s])];
      root_last = std::max(root_last, last_use[s]);
    }
  for (size_t s = 0; s < nslots; ++s) {
    if (last_use[s] < 0 || alias_root[s] >= 0) continue;
    if (last_sub >= 0) last_use[s] = std::max(last_use[s], last_sub);
    bool keep = ex->is_graph_output_[s] || ex->const_values_[s].defined() || ex->is_outer_[s];
    if (!keep) ex->steps_[static_cast<size_t>(last_use[s])]->release.push_back(static_cast<int>(s));
  }
  // In place: output 0 may reuse the buffer of the input the kernel names when that input's
  // value (and every view of it) is last read by this step, the step reads it only there,
  // and neither value is a graph output. Whether the buffer fits is checked per run.
  for (size_t idx = 0; idx < ex->steps_.size(); ++idx) {
    Step& st = *ex->steps_[idx];
    const int k = st.kernel->InPlaceInput();
    if (k < 0 || static_cast<size_t>(k) >= st.in.size() || st.in[static_cast<size_t>(k)] < 0 || st.out.empty() ||
        st.out[0] < 0 || st.alias)
      continue;
    const int z = st.in[static_cast<size_t>(k)];
    const size_t zs = static_cast<size_t>(z);
    if (std::count(st.in.begin(), st.in.end(), z) != 1 || alias_root[zs] >= 0 || ex->is_graph_output_[zs] ||
        ex->is_graph_output_[static_cast<size_t>(st.out[0])] ||
        std::find(st.release.begin(), st.release.end(), z) == st.release.end())
      continue;
    st.inplace_slot = z;
  }
  return ex;
}

std::string_view Executor::kernel_name(size_t i) const {
  return i < steps_.size() ? steps_[i]->kernel_name : std::string_view();
}

const Tensor* Executor::Lookup(const std::string& name) const {
  auto it = slot_of_.find(name);
  if (it != slot_of_.end()) {
    size_t s = static_cast<size_t>(it->second);
    if (values_[s].defined()) return &values_[s];
    if (const_values_[s].defined()) return &const_values_[s];
  }
  return outer_ ? outer_->Lookup(name) : nullptr;
}

Result<Tensor> Executor::Acquire(const TensorType& type, int slot) {
  size_t s = static_cast<size_t>(slot);
  if (is_graph_output_[s] || type.dtype == DType::kString) return AllocateOutput(type, false);
  GREENAI_ASSIGN_OR_RETURN(int64_t n, CheckedNumElements(type.dims));
  size_t bytes = static_cast<size_t>(n) * DTypeSize(type.dtype);
  // Best fit among free blocks.
  size_t best = free_blocks_.size();
  for (size_t i = 0; i < free_blocks_.size(); ++i)
    if (free_blocks_[i].capacity >= bytes &&
        (best == free_blocks_.size() || free_blocks_[i].capacity < free_blocks_[best].capacity))
      best = i;
  Block b;
  if (best < free_blocks_.size()) {
    b = std::move(free_blocks_[best]);
    free_blocks_.erase(free_blocks_.begin() + static_cast<std::ptrdiff_t>(best));
  } else {
    size_t cap = std::max<size_t>(64, (bytes + 63) / 64 * 64);
    void* p = std::aligned_alloc(64, cap);
    if (!p) return ResourceExhausted("out of memory allocating {} bytes for '{}'", bytes, slot_names_[s]);
    b.mem = std::shared_ptr<void>(p, [](void* q) { std::free(q); });
    b.capacity = cap;
  }
  Tensor t = Tensor::View(type.dtype, type.dims, b.mem.get());
  slot_block_[s] = std::move(b);
  return t;
}

bool Executor::TakeInPlace(const TensorType& type, int from, int to) {
  const size_t f = static_cast<size_t>(from), t = static_cast<size_t>(to);
  Block& b = slot_block_[f];
  const Tensor& v = values_[f];
  if (!type.IsFullyKnown() || !b.mem || !v.defined() || v.raw() != b.mem.get() || v.dtype() != type.dtype ||
      v.shape() != type.dims)
    return false;
  values_[t] = Tensor::View(type.dtype, type.dims, b.mem.get());
  slot_block_[t] = std::move(b);
  b = Block{};  // the input's value stays readable for this step; releasing it frees nothing
  return true;
}

void Executor::Release(int slot) {
  size_t s = static_cast<size_t>(slot);
  values_[s] = Tensor();
  if (slot_block_[s].mem) {
    free_blocks_.push_back(std::move(slot_block_[s]));
    slot_block_[s] = Block{};
  }
}

Status Executor::RunStep(Step& step, size_t index) {
  const Node& node = *step.node;
  KernelContext kctx;
  kctx.pool = pool_;
  kctx.subgraphs = this;
  kctx.inputs.reserve(step.in.size());
  for (size_t i = 0; i < step.in.size(); ++i) {
    int s = step.in[i];
    if (s < 0) {
      kctx.inputs.push_back(nullptr);
      continue;
    }
    size_t us = static_cast<size_t>(s);
    const Tensor* t = values_[us].defined() ? &values_[us] : (const_values_[us].defined() ? &const_values_[us] : nullptr);
    if (!t && is_outer_[us] && outer_) t = outer_->Lookup(slot_names_[us]);
    if (!t) return Internal("{}: input '{}' has no value at run time", node.Describe(), slot_names_[us]);
    kctx.inputs.push_back(t);
  }
  // Output types: re-infer only when input shapes or small integer inputs changed.
  bool hit = step.cache_valid && step.cached_shapes.size() == kctx.inputs.size();
  for (size_t i = 0; hit && i < kctx.inputs.size(); ++i) {
    const Tensor* t = kctx.inputs[i];
    if (!t) { hit = step.cached_dtypes[i] == DType::kUndefined; continue; }
    if (t->dtype() != step.cached_dtypes[i] || t->shape() != step.cached_shapes[i] ||
        (IsIntType(t->dtype()) && t->numel() <= kSmallIntLimit && SmallInts(*t) != step.cached_small_ints[i]))
      hit = false;
  }
  if (!hit) {
    InferContext ictx{node, step.opset, {}, {}};
    step.cached_shapes.clear();
    step.cached_dtypes.clear();
    step.cached_small_ints.clear();
    for (const Tensor* t : kctx.inputs) {
      ictx.inputs.push_back(t ? TensorType::Of(t->dtype(), t->shape()) : TensorType{});
      ictx.values.push_back(t);
      step.cached_shapes.push_back(t ? t->shape() : Shape{});
      step.cached_dtypes.push_back(t ? t->dtype() : DType::kUndefined);
      step.cached_small_ints.push_back(t ? SmallInts(*t) : std::vector<int64_t>{});
    }
    GREENAI_RETURN_IF_ERROR(InferNodeTypesLaidOut(*step.def, ictx, &step.out_types));
    step.cache_valid = true;
  }
  // A view op whose input and inferred output agree in type and element count: no kernel,
  // no buffer, the output reads the input's memory.
  if (step.alias && kctx.inputs[0] && step.out_types[0].IsFullyKnown() &&
      step.out_types[0].dtype == kctx.inputs[0]->dtype() &&
      (node.op_type != "Transpose" || TransposeIsView(node, kctx.inputs[0]->shape()))) {
    const Tensor& in = *kctx.inputs[0];
    GREENAI_ASSIGN_OR_RETURN(int64_t n, CheckedNumElements(step.out_types[0].dims));
    if (n == in.numel()) {
      if (opts_.profiler) opts_.profiler->OnNodeBegin(index, node, step.kernel_name);
      Release(step.out[0]);  // a value from a previous run
      values_[static_cast<size_t>(step.out[0])] =
          Tensor::View(in.dtype(), step.out_types[0].dims, const_cast<void*>(in.raw()));
      if (opts_.profiler) opts_.profiler->OnNodeEnd(index, node, step.kernel_name);
      for (int s : step.release) Release(s);
      return Status::Ok();
    }
  }
  kctx.outputs.resize(step.out.size(), nullptr);
  for (size_t i = 0; i < step.out.size(); ++i) {
    int s = step.out[i];
    if (s < 0) continue;
    size_t us = static_cast<size_t>(s);
    Release(s);  // a value from a previous run
    if (i == 0 && step.inplace_slot >= 0 && TakeInPlace(step.out_types[0], step.inplace_slot, s)) {
      kctx.outputs[i] = &values_[us];
      continue;
    }
    if (step.out_types[i].IsFullyKnown()) {
      GREENAI_ASSIGN_OR_RETURN(values_[us], Acquire(step.out_types[i], s));
    }
    kctx.outputs[i] = &values_[us];
  }
  if (opts_.profiler) opts_.profiler->OnNodeBegin(index, node, step.kernel_name);
  Status st = step.kernel->Run(kctx);
  if (opts_.profiler) opts_.profiler->OnNodeEnd(index, node, step.kernel_name);
  if (!st.ok()) {
    if (st.message().find(node.op_type) == std::string::npos) return st.WithContext(node.Describe());
    return st;
  }
  for (size_t i = 0; i < step.out.size(); ++i)
    if (step.out[i] >= 0 && !values_[static_cast<size_t>(step.out[i])].defined())
      return Internal("{}: kernel {} did not produce output {}", node.Describe(), step.kernel_name, i);
  for (int s : step.release) Release(s);
  return Status::Ok();
}

Result<std::vector<Tensor>> Executor::Run(const std::vector<Tensor>& inputs) {
  if (inputs.size() > input_slots_.size())
    return InvalidArgument("{} inputs given, graph has {}", inputs.size(), input_slots_.size());
  for (size_t i = 0; i < input_slots_.size(); ++i) {
    size_t s = static_cast<size_t>(input_slots_[i]);
    if (i < inputs.size() && inputs[i].defined()) {
      values_[s] = inputs[i];
    } else if (const_values_[s].defined()) {
      values_[s] = Tensor();
    } else {
      return InvalidArgument("input '{}' is required but was not given", inputs_[i].name);
    }
  }
  SetKernelThreads(pool_ ? pool_->num_threads() : 1);
  Status st;
  for (size_t i = 0; i < steps_.size() && st.ok(); ++i) st = RunStep(*steps_[i], i);
  std::vector<Tensor> outs;
  if (st.ok()) {
    for (int s : output_slots_) {
      const Tensor* t = Lookup(slot_names_[static_cast<size_t>(s)]);
      if (!t) {
        st = Internal("graph output '{}' was not computed", slot_names_[static_cast<size_t>(s)]);
        break;
      }
      // Outputs that are inputs, initializers or outer values are copied so callers own them.
      bool owned = values_[static_cast<size_t>(s)].defined() && !slot_block_[static_cast<size_t>(s)].mem &&
                   std::find(input_slots_.begin(), input_slots_.end(), s) == input_slots_.end();
      outs.push_back(owned ? *t : t->Clone());
    }
  }
  // Drop every non-constant value so the next run starts clean and memory returns to the pool.
  for (size_t s = 0; s < values_.size(); ++s) Release(static_cast<int>(s));
  if (!st.ok()) return st;
  return outs;
}

Result<std::vector<Tensor>> Executor::RunSubgraph(const Graph& graph, const std::vector<Tensor>& inputs) {
  auto it = sub_executors_.find(&graph);
  if (it == sub_executors_.end()) {
    GREENAI_ASSIGN_OR_RETURN(auto ex, Create(graph, *model_, opts_, pool_, this));
    it = sub_executors_.emplace(&graph, std::move(ex)).first;
  }
  it->second->opts_.profiler = nullptr;  // per-op profiling covers the top-level graph only
  return it->second->Run(inputs);
}

}  // namespace greenai
