#include "train/loss.h"

#include <cmath>
#include <vector>

namespace greenai::train {
namespace {

Status CheckLogits(const Tensor& z, const char* what) {
  if (z.dtype() != DType::kF32 || z.rank() != 2 || z.dim(1) < 1)
    return InvalidArgument("{}: logits must be float32 [N, C] with C >= 1, got {} {}", what, DTypeName(z.dtype()),
                           ShapeToString(z.shape()));
  return Status::Ok();
}

Status CheckLabels(const Tensor& z, const Tensor& y, const char* what) {
  if (y.dtype() != DType::kI64 || y.rank() != 1 || y.dim(0) != z.dim(0))
    return InvalidArgument("{}: labels must be int64 [{}] to match logits {}, got {} {}", what, z.dim(0),
                           ShapeToString(z.shape()), DTypeName(y.dtype()), ShapeToString(y.shape()));
  const int64_t C = z.dim(1);
  for (int64_t n = 0; n < y.numel(); ++n) {
    const int64_t l = y.data<int64_t>()[n];
    if (l < 0 || l >= C)
      return OutOfRange("{}: label {} of sample {} is outside [0, {}) for {} classes", what, l, n, C, C);
  }
  return Status::Ok();
}

// log softmax(row / T) in double.
void LogSoftmaxRow(const float* row, int64_t C, double T, double* out) {
  double mx = -INFINITY;
  for (int64_t c = 0; c < C; ++c) mx = std::max(mx, row[c] / T);
  double s = 0;
  for (int64_t c = 0; c < C; ++c) s += std::exp(row[c] / T - mx);
  const double lse = mx + std::log(s);
  for (int64_t c = 0; c < C; ++c) out[c] = row[c] / T - lse;
}

}  // namespace

Result<LossResult> SoftmaxCrossEntropy(const Tensor& logits, const Tensor& labels, double eps) {
  GREENAI_RETURN_IF_ERROR(CheckLogits(logits, "softmax cross-entropy"));
  GREENAI_RETURN_IF_ERROR(CheckLabels(logits, labels, "softmax cross-entropy"));
  if (!(eps >= 0 && eps <= 1))
    return InvalidArgument("softmax cross-entropy: label smoothing {} must lie in [0, 1]", eps);
  const int64_t N = logits.dim(0), C = logits.dim(1);
  LossResult r;
  GREENAI_ASSIGN_OR_RETURN(r.grad, Tensor::Create(DType::kF32, logits.shape()));
  if (N == 0) return r;
  std::vector<double> lp(static_cast<size_t>(C));
  double total = 0;
  for (int64_t n = 0; n < N; ++n) {
    LogSoftmaxRow(logits.data<float>() + n * C, C, 1.0, lp.data());
    const int64_t y = labels.data<int64_t>()[n];
    float* g = r.grad.data<float>() + n * C;
    for (int64_t c = 0; c < C; ++c) {
      const double q = (c == y ? 1.0 - eps : 0.0) + eps / static_cast<double>(C);
      total -= q * lp[static_cast<size_t>(c)];
      g[c] = static_cast<float>((std::exp(lp[static_cast<size_t>(c)]) - q) / static_cast<double>(N));
    }
  }
  r.loss = total / static_cast<double>(N);
  return r;
}

Result<LossResult> Mse(const Tensor& pred, const Tensor& target) {
  if (pred.dtype() != DType::kF32 || target.dtype() != DType::kF32 || pred.shape() != target.shape())
    return InvalidArgument("MSE: prediction {} {} and target {} {} must be float32 of the same shape",
                           DTypeName(pred.dtype()), ShapeToString(pred.shape()), DTypeName(target.dtype()),
                           ShapeToString(target.shape()));
  LossResult r;
  GREENAI_ASSIGN_OR_RETURN(r.grad, Tensor::Create(DType::kF32, pred.shape()));
  const int64_t n = pred.numel();
  if (n == 0) return r;
  double s = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(pred.data<float>()[i]) - target.data<float>()[i];
    s += d * d;
    r.grad.data<float>()[i] = static_cast<float>(2.0 * d / static_cast<double>(n));
  }
  r.loss = s / static_cast<double>(n);
  return r;
}

Result<LossResult> DistillKl(const Tensor& student, const Tensor& teacher, double T) {
  GREENAI_RETURN_IF_ERROR(CheckLogits(student, "distillation KL (student)"));
  GREENAI_RETURN_IF_ERROR(CheckLogits(teacher, "distillation KL (teacher)"));
  if (student.shape() != teacher.shape())
    return InvalidArgument("distillation KL: student logits {} and teacher logits {} must have the same shape",
                           ShapeToString(student.shape()), ShapeToString(teacher.shape()));
  if (!(T > 0)) return InvalidArgument("distillation KL: temperature {} must be > 0", T);
  const int64_t N = student.dim(0), C = student.dim(1);
  LossResult r;
  GREENAI_ASSIGN_OR_RETURN(r.grad, Tensor::Create(DType::kF32, student.shape()));
  if (N == 0) return r;
  std::vector<double> ls(static_cast<size_t>(C)), lt(static_cast<size_t>(C));
  double total = 0;
  for (int64_t n = 0; n < N; ++n) {
    LogSoftmaxRow(student.data<float>() + n * C, C, T, ls.data());
    LogSoftmaxRow(teacher.data<float>() + n * C, C, T, lt.data());
    float* g = r.grad.data<float>() + n * C;
    for (size_t c = 0; c < static_cast<size_t>(C); ++c) {
      const double p = std::exp(lt[c]);
      if (p > 0) total += p * (lt[c] - ls[c]);
      g[c] = static_cast<float>(T * (std::exp(ls[c]) - p) / static_cast<double>(N));
    }
  }
  r.loss = T * T * total / static_cast<double>(N);
  return r;
}

Result<int64_t> CountCorrect(const Tensor& logits, const Tensor& labels) {
  GREENAI_RETURN_IF_ERROR(CheckLogits(logits, "accuracy"));
  GREENAI_RETURN_IF_ERROR(CheckLabels(logits, labels, "accuracy"));
  const int64_t N = logits.dim(0), C = logits.dim(1);
  int64_t correct = 0;
  for (int64_t n = 0; n < N; ++n) {
    const float* row = logits.data<float>() + n * C;
    int64_t best = 0;
    for (int64_t c = 1; c < C; ++c)
      if (row[c] > row[best]) best = c;
    correct += best == labels.data<int64_t>()[n];
  }
  return correct;
}

}  // namespace greenai::train
