// LayoutRewriter: see layout_rewriter.h.
#include "passes/layout_rewriter.h"

#include <algorithm>

#include "ops/layout.h"
#include "passes/passes.h"

namespace greenai {

const TensorType* LayoutRewriter::TypeOf(const std::string& v) const {
  auto it = g_.value_types.find(v);
  return it == g_.value_types.end() ? nullptr : &it->second;
}

bool LayoutRewriter::Rank4(const std::string& v) const {
  const TensorType* t = TypeOf(v);
  return t && t->has_shape && t->rank() == 4;
}

bool LayoutRewriter::OneOutput(const Node& n) const {
  return !n.outputs.empty() && !n.outputs[0].empty() && (n.outputs.size() == 1 || n.outputs[1].empty());
}

bool LayoutRewriter::PlainOnnx(const Node& n, const std::vector<std::string>& allowed) const {
  if (!n.domain.empty() && n.domain != "ai.onnx") return false;
  for (const auto& [k, a] : n.attributes)
    if (k.rfind("greenai.", 0) == 0 && std::find(allowed.begin(), allowed.end(), k) == allowed.end()) return false;
  return true;
}

bool LayoutRewriter::Transparent(const Node& n) const {
  if (!PlainOnnx(n) || n.outputs.size() != 1 || n.inputs.empty()) return false;
  static const std::unordered_set<std::string> kUnary = {"Relu",        "LeakyRelu", "Sigmoid", "Tanh",
                                                         "HardSigmoid", "HardSwish", "Clip"};
  static const std::unordered_set<std::string> kBinary = {"Add", "Sub", "Mul", "Div"};
  if (kUnary.count(n.op_type)) {
    if (!laid_.count(n.inputs[0])) return false;
    for (size_t i = 1; i < n.inputs.size(); ++i)  // Clip's bounds: scalars, not activations
      if (!n.inputs[i].empty() && !IsConstant(g_, n.inputs[i])) return false;
    return true;
  }
  // Both operands laid out, or one laid out and the other a plain rank-4 activation of the
  // same shape (a residual branch): that one is converted in, which costs no more than
  // converting the laid-out one out and the result back in.
  if (kBinary.count(n.op_type) && n.inputs.size() == 2 && (laid_.count(n.inputs[0]) || laid_.count(n.inputs[1]))) {
    const TensorType *a = TypeOf(n.inputs[0]), *b = TypeOf(n.inputs[1]);
    return a && b && a->IsFullyKnown() && b->IsFullyKnown() && a->rank() == 4 && a->dims == b->dims &&
           a->dtype == b->dtype && !IsConstant(g_, n.inputs[0]) && !IsConstant(g_, n.inputs[1]);
  }
  return false;
}

std::string LayoutRewriter::Entry(const std::string& v) {
  auto it = entry_.find(v);
  if (it != entry_.end()) return it->second;
  const std::string out = g_.UniqueName(v + Suffix() + "_in");
  AddEntry(v, out);
  entry_[v] = out;
  return out;
}

int LayoutRewriter::Run() {
  for (const auto& np : g_.nodes()) {
    Node& n = *np;
    if (Markable(n)) {
      marked_.push_back(&n);
      laid_.insert(n.outputs[0]);
    } else if (Transparent(n)) {
      transparent_.push_back(&n);
      laid_.insert(n.outputs[0]);
    }
  }
  if (marked_.size() < 2) return 0;
  for (const std::string& v : laid_) renamed_[v] = g_.UniqueName(v + Suffix());
  for (Node* n : transparent_) {
    const bool binary = n->inputs.size() == 2 && !IsConstant(g_, n->inputs[1]) && !n->inputs[1].empty();
    for (size_t i = 0; i < n->inputs.size(); ++i) {
      std::string& in = n->inputs[i];
      if (laid_.count(in)) in = renamed_[in];
      else if (binary) in = Entry(in);
    }
    n->outputs[0] = renamed_[n->outputs[0]];
  }
  for (Node* n : marked_) {
    std::string& in = n->inputs[0];
    if (laid_.count(in)) in = renamed_[in];
    else if (ReadsLaidOut(*n)) in = Entry(in);
    for (size_t i = 1; i < n->inputs.size(); ++i) {  // a ConvAdd's residual: an activation too
      std::string& v = n->inputs[i];
      if (v.empty() || !LaidOutInput(*n, i)) continue;
      v = laid_.count(v) ? renamed_[v] : Entry(v);
    }
    n->outputs[0] = renamed_[n->outputs[0]];
    n->SetString(kAttrLayout, Mark());
  }
  // Plain readers and graph outputs still use the original names.
  std::unordered_set<std::string> read_plain;
  for (const auto& np : g_.nodes())
    for (const auto& in : np->inputs)
      if (laid_.count(in)) read_plain.insert(in);
  for (const auto& o : g_.outputs)
    if (laid_.count(o.name)) read_plain.insert(o.name);
  for (const std::string& v : read_plain) AddExit(renamed_[v], v);
  for (const auto& [v, r] : renamed_) g_.value_types.erase(r);
  return static_cast<int>(marked_.size());
}

}  // namespace greenai
