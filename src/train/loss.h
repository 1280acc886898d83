// Loss functions with their gradients, computed directly on tensors (the trainer feeds the
// gradient into the backward graph as the seed for the model output).
//
// Contract (all reductions are means, matching PyTorch's defaults):
//  - SoftmaxCrossEntropy(logits [N, C] f32, labels [N] int64 in [0, C), eps):
//      q = (1 - eps) * onehot(label) + eps / C,  loss = mean_n( -sum_c q_c log softmax(z)_c )
//      d loss / d z = (softmax(z) - q) / N          (torch.nn.CrossEntropyLoss(label_smoothing=eps))
//  - Mse(pred, target) same shape f32: loss = mean((pred - target)^2), grad = 2 (pred - target) / numel.
//  - DistillKl(student [N, C], teacher [N, C], T > 0): with p = softmax(teacher / T),
//    s = softmax(student / T): loss = T^2 * mean_n sum_c p_c (log p_c - log s_c)
//    (KLDivLoss(reduction='batchmean') * T^2, Hinton et al.), grad wrt student = T (s - p) / N.
//  - Softmax terms use log-sum-exp in double, so large logits do not overflow.
//  - Errors: dtype/shape mismatches, labels out of range (naming the sample), eps outside
//    [0, 1], T <= 0. A non-finite loss is returned as is; the caller decides (the trainer stops).
//  - Thread safety: pure functions.
#pragma once

#include "core/status.h"
#include "core/tensor.h"

namespace greenai::train {

struct LossResult {
  double loss = 0;
  Tensor grad;  // d loss / d first argument, same shape, float32
};

Result<LossResult> SoftmaxCrossEntropy(const Tensor& logits, const Tensor& labels, double label_smoothing = 0);
Result<LossResult> Mse(const Tensor& pred, const Tensor& target);
Result<LossResult> DistillKl(const Tensor& student_logits, const Tensor& teacher_logits, double temperature);

// Number of rows whose arg-max (first on ties) equals the label. Same checks as above.
Result<int64_t> CountCorrect(const Tensor& logits, const Tensor& labels);

}  // namespace greenai::train
