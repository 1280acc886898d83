// BlockedLayout: keeps the float32 activations of a CNN in oneDNN's 8-channel blocked layout
// (NCHW8c, ops/layout.h) between the nodes whose kernels compute in it, instead of every
// convolution and pooling reordering NCHW -> nChw8c -> NCHW around itself.
//
//  - Marked (kAttrLayout = "NCHW8c"): float32 2-D Conv with a constant weight, group 1 or
//    depthwise, whose output channels are a multiple of 8 (it reads its input blocked when the
//    input channels are a multiple of 8, plain otherwise: a first convolution on RGB), and
//    float32 MaxPool (no Indices), AveragePool, GlobalAveragePool and GlobalMaxPool on a
//    multiple of 8 channels. A Conv may carry a fused activation (ActivationFusion).
//  - Transparent elementwise ops and the region rules: passes/layout_rewriter.h.
//  - Edges: plain v [N, C, H, W] enters as Reshape(v, [0, C/8, 8, H, W]) -> Transpose(perm
//    0,1,3,4,2); a blocked value leaves as Transpose(perm 0,1,4,2,3) -> Reshape([0, C, H, W])
//    under its original name (the Reshapes are views; the Transposes run the blocked relayout
//    kernel of backends/cpu/layout_adapter.cc). Values are renamed "<name>_b8" inside. Channels
//    and spatial dims must be known; the batch may be symbolic.
//  - Why: at batch 32 a ResNet-18 convolution moved its input and output through two oneDNN
//    reorders (25 MB each at layer 1) and MaxPool two more; the blocked layout is what
//    oneDNN's AVX2/AVX-512 direct convolutions compute in. docs/design.md has the figures.
// Preserves: exact (the same kernels compute the same values; only memory order changes).
#include "ops/layout.h"
#include "ops/shape_inference.h"
#include "passes/layout_rewriter.h"
#include "passes/passes.h"

namespace greenai {

namespace {

class BlockedRewriter : public LayoutRewriter {
 public:
  using LayoutRewriter::LayoutRewriter;

 protected:
  const char* Mark() const override { return kLayoutBlocked8; }
  const char* Suffix() const override { return "_b8"; }

  // Known C, H, W (the batch may be unknown) of a float32 rank-4 value.
  const TensorType* Chw(const std::string& v) const {
    const TensorType* t = TypeOf(v);
    if (!t || !t->has_shape || t->rank() != 4 || t->dtype != DType::kF32) return nullptr;
    for (int i = 1; i < 4; ++i)
      if (t->dims[static_cast<size_t>(i)] <= 0) return nullptr;
    return t;
  }
  static bool Blockable(const TensorType* t) { return t && t->dims[1] % kBlock == 0; }

  bool Markable(const Node& n) const override {
    if (!PlainOnnx(n, {kAttrActivation, kAttrActivationParams}) || n.inputs.empty() || !OneOutput(n)) return false;
    const TensorType *x = Chw(n.inputs[0]), *y = Chw(n.outputs[0]);
    if (!x || !Blockable(y)) return false;
    if (n.op_type == "Conv") {
      if (n.inputs.size() < 2 || !IsConstant(g_, n.inputs[1])) return false;
      if (n.inputs.size() > 2 && !n.inputs[2].empty() && !IsConstant(g_, n.inputs[2])) return false;
      const int64_t group = n.GetInt("group", 1);
      return group == 1 || (group == x->dims[1] && group == y->dims[1] && Blockable(x));
    }
    if (n.HasAttr(kAttrActivation)) return false;
    if (n.op_type == "MaxPool" || n.op_type == "AveragePool" || n.op_type == "GlobalAveragePool" ||
        n.op_type == "GlobalMaxPool")
      return Blockable(x);
    return false;
  }
  // A convolution on channels that do not fill blocks reads its plain input directly.
  bool ReadsLaidOut(const Node& n) const override { return Blockable(Chw(n.inputs[0])); }

  std::string ShapeConst(const std::string& base, std::vector<int64_t> dims) {
    const std::string name = g_.UniqueName(base);
    g_.AddInitializer(name, Tensor::FromVector<int64_t>({static_cast<int64_t>(dims.size())}, dims));
    return name;
  }

  void AddEntry(const std::string& from, const std::string& to) override {
    const TensorType* t = TypeOf(from);  // Markable/Transparent checked: f32, C % 8 == 0, known C, H, W
    const int64_t C = t->dims[1], H = t->dims[2], W = t->dims[3];
    const std::string split = g_.UniqueName(from + "_c8");
    g_.AddNode("Reshape", {from, ShapeConst(from + "_c8_shape", {0, C / kBlock, kBlock, H, W})}, {split},
               g_.UniqueName(from + "_c8"));
    g_.AddNode("Transpose", {split}, {to}, g_.UniqueName(from + "_to_nchw8c"))->SetInts("perm", {0, 1, 3, 4, 2});
  }

  void AddExit(const std::string& from, const std::string& to) override {
    const TensorType* t = TypeOf(to);  // the original (plain) type, kept under the original name
    const int64_t C = t ? t->dims[1] : -1, H = t ? t->dims[2] : -1, W = t ? t->dims[3] : -1;
    const std::string split = g_.UniqueName(to + "_c8");
    g_.AddNode("Transpose", {from}, {split}, g_.UniqueName(to + "_from_nchw8c"))->SetInts("perm", {0, 1, 4, 2, 3});
    g_.AddNode("Reshape", {split, ShapeConst(to + "_nchw_shape", {0, C, H, W})}, {to}, g_.UniqueName(to + "_nchw"));
  }
};

}  // namespace

Status BlockedLayout::Run(Model& model) { return RunLayoutPass<BlockedRewriter>(model, &marked_); }

}  // namespace greenai
