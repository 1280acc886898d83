// Builders of greenai's own benchmark models, as IR (opset 17), with random weights from a
// seeded RNG (Kaiming-like scales so activations stay in a sane range through the network).
// Same arguments and seed => bit-identical models. Export them with SaveModel (graph/onnx_io.h).
//
// Naming follows what torch.onnx.export produces for the equivalent PyTorch module
// ("conv1.weight", "layer1.0.bn1.running_mean", "encoder.layer.0.attention.self.query.weight"),
// so profiles and reports read the same as for models exported from PyTorch. Constants that are
// not parameters (shapes, scalars) start with "const_".
//
// batch == 0 makes the batch dimension symbolic ("batch", dims -1). Bad sizes (negative
// batch, image < 32, hidden % heads != 0, ...) return InvalidArgument naming the argument.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/status.h"
#include "graph/ir.h"

namespace greenai::bench {

// ResNet-18 (torchvision layout): conv7x7/2 + BN + Relu, MaxPool 3x3/2, four stages of two
// basic blocks (64, 128, 256, 512 channels; 1x1 conv + BN downsample on stride 2),
// GlobalAveragePool, Flatten, Gemm (transB=1). Input "input" [batch, 3, image, image],
// output "logits" [batch, num_classes].
Result<std::unique_ptr<Model>> BuildResNet18(int batch, int num_classes = 1000, int image = 224, uint32_t seed = 1);

// Multi-layer perceptron: for each consecutive pair (in, out) of `dims` a MatMul with a
// [in, out] weight + Add bias (as older exporters and TF2ONNX emit; MatMulAddFusion turns
// them into Gemm), or a Gemm when as_gemm; Relu between layers (not after the last).
// Input "input" [batch, dims[0]], output "logits" [batch, dims.back()].
Result<std::unique_ptr<Model>> BuildMlp(int batch = 1, const std::vector<int64_t>& dims = {784, 512, 256, 10},
                                bool as_gemm = false, uint32_t seed = 2);

// BERT-style encoder stack as torch.onnx.export emits it for HF BertEncoder (no embeddings):
// Q/K/V MatMul+Add, Reshape/Transpose to heads, MatMul QK^T, Div by sqrt(head_dim), Add the
// extended attention mask, Softmax, MatMul V, Transpose/Reshape back, output projection,
// residual Add, LayerNormalization; FFN (4*hidden) with erf-based Gelu, residual,
// LayerNormalization. Inputs "hidden_states" f32 [batch, seq, hidden] and "attention_mask"
// int64 [batch, seq] (1 = attend, 0 = masked; turned into (1 - m) * -10000 and added to
// the scores); output "last_hidden_state" [batch, seq, hidden]. hidden % heads must be 0.
Result<std::unique_ptr<Model>> BuildBertEncoder(int layers = 4, int hidden = 256, int heads = 4, int seq = 128,
                                        int batch = 1, uint32_t seed = 3);

}  // namespace greenai::bench
