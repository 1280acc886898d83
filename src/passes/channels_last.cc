// ChannelsLastLayout: keeps the activations of an int8 CNN in NHWC between the nodes whose
// kernels work in that layout, instead of every such kernel reordering NCHW -> NHWC -> NCHW.
//
//  - Marked (kAttrLayout = "NHWC", ops/layout.h): 2-D QLinearConv with constant weights (oneDNN's
//    int8 convolution computes in nhwc) and 8-bit MaxPool without Indices.
//  - Transparent (follow the layout of their inputs, no mark needed): elementwise unary ops
//    (Relu, LeakyRelu, Sigmoid, Tanh, HardSigmoid, HardSwish, Clip) on an NHWC value, and
//    Add/Sub/Mul/Div of two activations of the same known rank-4 shape of which at least one
//    is NHWC (the other, a residual branch, is transposed in).
//  - Edges: a marked node whose input is NCHW gets Transpose(perm 0,2,3,1) in front (one per
//    value); an NHWC value that a plain consumer or a graph output reads is transposed back
//    (perm 0,3,1,2) under its original name. Values are renamed "<name>_nhwc" inside.
//  - Applied only when at least two nodes would be marked (one alone would trade its
//    kernel's two reorders for two transposes). Shapes must be known rank 4.
//  - Measured (1 thread, the Fashion-MNIST int8 cnn): batch 1 0.084 -> 0.074 ms, batch 64
//    8.9 -> 8.3 ms under load. float32 stays NCHW: oneDNN 2.6's nhwc f32 convolutions ran
//    ResNet-18 about 20 % slower than its blocked (nChw8c) ones plus the reorders, so the f32
//    layout to keep between convolutions is the blocked one (not done).
// Preserves: exact (the same kernels compute the same values; only memory order changes).
#include <unordered_map>
#include <unordered_set>

#include "ops/layout.h"
#include "ops/shape_inference.h"
#include "passes/passes.h"

namespace greenai {

namespace {

bool IsDefault(const Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

bool HasGreenaiAttrs(const Node& n) {
  for (const auto& [k, a] : n.attributes)
    if (k.rfind("greenai.", 0) == 0) return true;
  return false;
}

class Rewriter {
 public:
  explicit Rewriter(Model& m) : g_(*m.graph) {}

  int Run() {
    for (const auto& np : g_.nodes()) {
      Node& n = *np;
      if (Markable(n)) {
        marked_.push_back(&n);
        nhwc_.insert(n.outputs[0]);
      } else if (Transparent(n)) {
        transparent_.push_back(&n);
        nhwc_.insert(n.outputs[0]);
      }
    }
    if (marked_.size() < 2) return 0;
    for (const std::string& v : nhwc_) renamed_[v] = g_.UniqueName(v + "_nhwc");
    for (Node* n : transparent_) {
      const bool binary = n->inputs.size() == 2 && !IsConstant(g_, n->inputs[1]) && !n->inputs[1].empty();
      for (size_t i = 0; i < n->inputs.size(); ++i) {
        std::string& in = n->inputs[i];
        if (nhwc_.count(in)) in = renamed_[in];
        else if (binary) in = EntryTranspose(in);
      }
      n->outputs[0] = renamed_[n->outputs[0]];
    }
    for (Node* n : marked_) {
      std::string& in = n->inputs[0];
      in = nhwc_.count(in) ? renamed_[in] : EntryTranspose(in);
      n->outputs[0] = renamed_[n->outputs[0]];
      n->SetString(kAttrLayout, "NHWC");
    }
    // Plain readers and graph outputs still use the original NCHW names.
    std::unordered_set<std::string> read_plain;
    for (const auto& np : g_.nodes())
      for (const auto& in : np->inputs)
        if (nhwc_.count(in)) read_plain.insert(in);
    for (const auto& o : g_.outputs)
      if (nhwc_.count(o.name)) read_plain.insert(o.name);
    for (const std::string& v : read_plain) {
      Node* t = g_.AddNode("Transpose", {renamed_[v]}, {v}, g_.UniqueName(v + "_to_nchw"));
      t->SetInts("perm", {0, 3, 1, 2});
    }
    for (const auto& [v, r] : renamed_) g_.value_types.erase(r);
    return static_cast<int>(marked_.size());
  }

 private:
  const TensorType* TypeOf(const std::string& v) const {
    auto it = g_.value_types.find(v);
    return it == g_.value_types.end() ? nullptr : &it->second;
  }
  bool Rank4(const std::string& v) const {
    const TensorType* t = TypeOf(v);
    return t && t->has_shape && t->rank() == 4;
  }
  bool OneOutput(const Node& n) const {
    return !n.outputs.empty() && !n.outputs[0].empty() && (n.outputs.size() == 1 || n.outputs[1].empty());
  }

  bool Markable(const Node& n) const {
    if (!IsDefault(n) || HasGreenaiAttrs(n) || n.inputs.empty() || !OneOutput(n) || !Rank4(n.inputs[0])) return false;
    const DType dt = TypeOf(n.inputs[0])->dtype;
    if (n.op_type == "QLinearConv") return n.inputs.size() > 3 && IsConstant(g_, n.inputs[3]);
    if (n.op_type == "MaxPool") return dt == DType::kU8 || dt == DType::kI8;
    return false;
  }

  bool Transparent(const Node& n) const {
    if (!IsDefault(n) || HasGreenaiAttrs(n) || n.outputs.size() != 1 || n.inputs.empty()) return false;
    static const std::unordered_set<std::string> kUnary = {"Relu",        "LeakyRelu", "Sigmoid", "Tanh",
                                                           "HardSigmoid", "HardSwish", "Clip"};
    static const std::unordered_set<std::string> kBinary = {"Add", "Sub", "Mul", "Div"};
    if (kUnary.count(n.op_type)) {
      if (!nhwc_.count(n.inputs[0])) return false;
      for (size_t i = 1; i < n.inputs.size(); ++i)  // Clip's bounds: scalars, not activations
        if (!n.inputs[i].empty() && !IsConstant(g_, n.inputs[i])) return false;
      return true;
    }
    // Both operands NHWC, or one NHWC and the other a plain rank-4 activation of the same
    // shape (a residual branch): that one is transposed in, which costs no more than
    // transposing the NHWC one out and the result back in.
    if (kBinary.count(n.op_type) && n.inputs.size() == 2 && (nhwc_.count(n.inputs[0]) || nhwc_.count(n.inputs[1]))) {
      const TensorType *a = TypeOf(n.inputs[0]), *b = TypeOf(n.inputs[1]);
      return a && b && a->IsFullyKnown() && b->IsFullyKnown() && a->rank() == 4 && a->dims == b->dims &&
             !IsConstant(g_, n.inputs[0]) && !IsConstant(g_, n.inputs[1]);
    }
    return false;
  }

  std::string EntryTranspose(const std::string& v) {
    auto it = entry_.find(v);
    if (it != entry_.end()) return it->second;
    const std::string out = g_.UniqueName(v + "_to_nhwc");
    Node* t = g_.AddNode("Transpose", {v}, {out}, g_.UniqueName(v + "_to_nhwc"));
    t->SetInts("perm", {0, 2, 3, 1});
    entry_[v] = out;
    return out;
  }

  Graph& g_;
  std::vector<Node*> marked_, transparent_;
  std::unordered_set<std::string> nhwc_;
  std::unordered_map<std::string, std::string> renamed_, entry_;
};

}  // namespace

Status ChannelsLastLayout::Run(Model& model) {
  marked_ = 0;
  Graph& g = *model.graph;
  GREENAI_RETURN_IF_ERROR(g.TopologicalSort());
  (void)InferGraphTypes(g, DefaultOpset(model), /*strict=*/false);
  Rewriter r(model);
  marked_ = r.Run();
  if (marked_ == 0) return Status::Ok();
  return g.TopologicalSort();
}

}  // namespace greenai
