// LayoutRewriter: the region rewrite shared by the activation-layout passes
// (ChannelsLastLayout, channels_last.cc; BlockedLayout, blocked_layout.cc). Internal to
// src/passes/.
//
// Contract:
//  - A subclass says which nodes it marks (Markable), whether a marked node reads input 0 in
//    the layout (ReadsLaidOut; false: the node takes its plain input as it is; the other
//    inputs that ops/layout.h LaidOutInput names, a ConvAdd's Z, are always read laid out), and how a
//    value enters and leaves the layout (AddEntry / AddExit: nodes appended to the graph).
//  - Run() marks every Markable node (kAttrLayout = Mark()) and lets elementwise ops follow
//    the layout without a mark ("transparent"): the unary ops listed in layout_rewriter.cc on a
//    laid-out value, and Add/Sub/Mul/Div of two activations of the same known rank-4 shape of
//    which at least one is laid out (the other, a residual branch, is converted in).
//  - Values inside the region are renamed "<name><Suffix()>"; a laid-out value that a plain
//    consumer or a graph output reads is converted back under its original name. Entries are
//    made once per value. Nothing is rewritten unless at least two nodes would be marked (one
//    alone would trade its kernel's own conversions for the same number of graph nodes).
//  - RunLayoutPass<R>(model, &marked, args...) is a layout pass's whole Run() (args go to R's
//    constructor after the graph): it sorts the graph,
//    infers types (shapes decide), runs rewriter R and sorts again when R marked nodes.
#pragma once

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "graph/ir.h"
#include "ops/shape_inference.h"
#include "passes/passes.h"

namespace greenai {

class LayoutRewriter {
 public:
  explicit LayoutRewriter(Graph& g) : g_(g) {}
  virtual ~LayoutRewriter() = default;
  // Rewrites the graph; returns the number of nodes marked.
  int Run();

 protected:
  virtual const char* Mark() const = 0;
  virtual const char* Suffix() const = 0;
  virtual bool Markable(const Node& n) const = 0;
  virtual bool ReadsLaidOut(const Node&) const { return true; }
  // Appends nodes converting plain `from` into laid-out `to` (AddEntry) or back (AddExit).
  virtual void AddEntry(const std::string& from, const std::string& to) = 0;
  virtual void AddExit(const std::string& from, const std::string& to) = 0;

  // Helpers for subclasses.
  const TensorType* TypeOf(const std::string& v) const;
  bool Rank4(const std::string& v) const;
  bool OneOutput(const Node& n) const;
  // Default domain, no runtime-only greenai.* attribute other than those in `allowed`.
  bool PlainOnnx(const Node& n, const std::vector<std::string>& allowed = {}) const;

  Graph& g_;

 private:
  bool Transparent(const Node& n) const;
  std::string Entry(const std::string& v);

  std::vector<Node*> marked_, transparent_;
  std::unordered_set<std::string> laid_;
  std::unordered_map<std::string, std::string> renamed_, entry_;
};

template <typename Rewriter, typename... Args>
Status RunLayoutPass(Model& model, int* marked, Args... args) {
  *marked = 0;
  Graph& g = *model.graph;
  GREENAI_RETURN_IF_ERROR(g.TopologicalSort());
  (void)InferGraphTypes(g, DefaultOpset(model), /*strict=*/false);
  Rewriter r(g, args...);
  *marked = r.Run();
  if (*marked == 0) return Status::Ok();
  return g.TopologicalSort();
}

}  // namespace greenai
