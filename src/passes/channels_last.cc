// ChannelsLastLayout: keeps the activations of an int8 CNN in NHWC between the nodes whose
// kernels work in that layout, instead of every such kernel reordering NCHW -> NHWC -> NCHW.
//
//  - Marked (kAttrLayout = "NHWC", ops/layout.h): 2-D QLinearConv with constant weights (oneDNN's
//    int8 convolution computes in nhwc) and 8-bit MaxPool without Indices. With float32 on
//    (PipelineOptions::channels_last_f32, AVX-512 CPUs) also float32 2-D Conv with a constant
//    weight (a fused activation allowed), the same as an ai.greenai ConvAdd (its residual Z is
//    laid out like input 0) and float32 MaxPool (no Indices), AveragePool and
//    GlobalAveragePool, all run by oneDNN in nhwc.
//  - Transparent elementwise ops and the region rules: passes/layout_rewriter.h.
//  - Edges: a marked node whose input is NCHW gets Transpose(perm 0,2,3,1) in front (one per
//    value); an NHWC value that a plain consumer or a graph output reads is transposed back
//    (perm 0,3,1,2) under its original name. Values are renamed "<name>_nhwc" inside.
//    Shapes must be known rank 4.
//  - Measured (1 thread, the Fashion-MNIST int8 cnn): batch 1 0.084 -> 0.074 ms, batch 64
//    8.9 -> 8.3 ms under load. float32 stays NCHW by default on AVX2 CPUs: there oneDNN 2.6's
//    nhwc f32 convolutions ran ResNet-18 about 20 % slower than its blocked (nChw8c) ones plus
//    the reorders, so float32 convolutions keep the blocked layout (BlockedLayout). On AVX-512
//    CPUs oneDNN computes f32 convolutions in nhwc (brgconv) and reordered NCHW <-> NHWC
//    around each one (docs/design.md, "AVX-512 hosts").
// Preserves: exact (the same kernels compute the same values; only memory order changes).
#include "ops/conv_add.h"
#include "ops/layout.h"
#include "ops/shape_inference.h"
#include "passes/layout_rewriter.h"
#include "passes/passes.h"

namespace greenai {

namespace {

class NhwcRewriter : public LayoutRewriter {
 public:
  NhwcRewriter(Graph& g, bool float32) : LayoutRewriter(g), float32_(float32) {}

 protected:
  const char* Mark() const override { return kLayoutNhwc; }
  const char* Suffix() const override { return "_nhwc"; }

  bool Markable(const Node& n) const override {
    if (n.inputs.empty() || !OneOutput(n) || !Rank4(n.inputs[0])) return false;
    const DType dt = TypeOf(n.inputs[0])->dtype;
    if (float32_ && dt == DType::kF32 && Rank4(n.outputs[0])) {
      const bool conv_add = n.domain == kGreenaiDomain && n.op_type == kConvAdd && n.inputs.size() == kConvAddZ + 1 &&
                            Rank4(n.inputs[kConvAddZ]) && !HasLayoutMark(n);
      if ((n.op_type == "Conv" && PlainOnnx(n, {kAttrActivation, kAttrActivationParams})) || conv_add)
        return n.inputs.size() >= 2 && IsConstant(g_, n.inputs[1]) &&
               (n.inputs.size() < 3 || n.inputs[2].empty() || IsConstant(g_, n.inputs[2]));
      if (n.op_type == "MaxPool" || n.op_type == "AveragePool" || n.op_type == "GlobalAveragePool") return PlainOnnx(n);
    }
    if (!PlainOnnx(n)) return false;
    if (n.op_type == "QLinearConv") return n.inputs.size() > 3 && IsConstant(g_, n.inputs[3]);
    if (n.op_type == "MaxPool") return dt == DType::kU8 || dt == DType::kI8;
    return false;
  }

  void AddEntry(const std::string& from, const std::string& to) override {
    g_.AddNode("Transpose", {from}, {to}, g_.UniqueName(from + "_to_nhwc"))->SetInts("perm", {0, 2, 3, 1});
  }
  void AddExit(const std::string& from, const std::string& to) override {
    g_.AddNode("Transpose", {from}, {to}, g_.UniqueName(to + "_to_nchw"))->SetInts("perm", {0, 3, 1, 2});
  }

 private:
  bool float32_;
};

}  // namespace

Status ChannelsLastLayout::Run(Model& model) { return RunLayoutPass<NhwcRewriter>(model, &marked_, float32_); }

}  // namespace greenai
