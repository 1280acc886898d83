#include "compress/lowrank/svd.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace greenai::compress {

namespace {

// One-sided Jacobi on the columns of B (rows x cols, column-major in `b`), rows >= cols.
// On return B's columns are mutually orthogonal and V (cols x cols, column-major) holds
// the accumulated rotations: A = B V^T.
Status Orthogonalize(std::vector<double>& b, int64_t rows, int64_t cols, std::vector<double>& v, int max_sweeps) {
  v.assign(size_t(cols * cols), 0.0);
  for (int64_t i = 0; i < cols; ++i) v[size_t(i * cols + i)] = 1.0;
  const double eps = 1e-13;  // relative orthogonality reached; tighter stalls on rounding
  for (int sweep = 0; sweep < max_sweeps; ++sweep) {
    bool rotated = false;
    for (int64_t p = 0; p < cols - 1; ++p)
      for (int64_t q = p + 1; q < cols; ++q) {
        double* bp = b.data() + p * rows;
        double* bq = b.data() + q * rows;
        double alpha = 0, beta = 0, gamma = 0;
        for (int64_t i = 0; i < rows; ++i) {
          alpha += bp[i] * bp[i];
          beta += bq[i] * bq[i];
          gamma += bp[i] * bq[i];
        }
        if (std::fabs(gamma) <= eps * std::sqrt(alpha * beta) || gamma == 0) continue;
        rotated = true;
        const double zeta = (beta - alpha) / (2 * gamma);
        const double t = (zeta >= 0 ? 1.0 : -1.0) / (std::fabs(zeta) + std::sqrt(1 + zeta * zeta));
        const double c = 1 / std::sqrt(1 + t * t), s = c * t;
        for (int64_t i = 0; i < rows; ++i) {
          const double x = bp[i], y = bq[i];
          bp[i] = c * x - s * y;
          bq[i] = s * x + c * y;
        }
        double* vp = v.data() + p * cols;
        double* vq = v.data() + q * cols;
        for (int64_t i = 0; i < cols; ++i) {
          const double x = vp[i], y = vq[i];
          vp[i] = c * x - s * y;
          vq[i] = s * x + c * y;
        }
      }
    if (!rotated) return Status::Ok();
  }
  return Internal("svd: one-sided Jacobi did not converge in {} sweeps on a {}x{} matrix", max_sweeps, rows, cols);
}

}  // namespace

Result<Svd> JacobiSvd(const std::vector<double>& a, int64_t m, int64_t n, int max_sweeps) {
  if (m <= 0 || n <= 0 || static_cast<int64_t>(a.size()) != m * n)
    return InvalidArgument("svd: matrix {}x{} with {} values", m, n, a.size());
  for (double x : a)
    if (!std::isfinite(x)) return InvalidArgument("svd: the {}x{} matrix has a non-finite entry", m, n);
  // Work on the tall orientation: rows >= cols.
  const bool flip = m < n;
  const int64_t rows = flip ? n : m, cols = flip ? m : n;
  std::vector<double> b(static_cast<size_t>(rows * cols));  // column-major rows x cols
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      const double x = a[size_t(i * n + j)];
      if (!flip) b[size_t(j * rows + i)] = x;  // column j of A
      else b[size_t(i * rows + j)] = x;        // column i of A^T
    }
  std::vector<double> v;
  GREENAI_RETURN_IF_ERROR(Orthogonalize(b, rows, cols, v, max_sweeps));
  std::vector<double> sig(static_cast<size_t>(cols));
  for (int64_t j = 0; j < cols; ++j) {
    double s = 0;
    for (int64_t i = 0; i < rows; ++i) s += b[size_t(j * rows + i)] * b[size_t(j * rows + i)];
    sig[size_t(j)] = std::sqrt(s);
  }
  std::vector<int64_t> order(static_cast<size_t>(cols));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) { return sig[size_t(x)] > sig[size_t(y)]; });
  // Left vectors of the tall matrix: B's normalized columns; right: V's columns.
  const int64_t r = cols;
  std::vector<double> L(static_cast<size_t>(rows * r), 0.0), R(size_t(cols * r), 0.0), S(static_cast<size_t>(r));
  const double tiny = sig[size_t(order[0])] * 1e-300;
  for (int64_t k = 0; k < r; ++k) {
    const int64_t j = order[size_t(k)];
    S[size_t(k)] = sig[size_t(j)];
    const double inv = sig[size_t(j)] > tiny && sig[size_t(j)] > 0 ? 1.0 / sig[size_t(j)] : 0.0;
    for (int64_t i = 0; i < rows; ++i) L[size_t(i * r + k)] = b[size_t(j * rows + i)] * inv;
    for (int64_t i = 0; i < cols; ++i) R[size_t(i * r + k)] = v[size_t(j * cols + i)];
  }
  Svd out;
  out.m = m;
  out.n = n;
  out.r = r;
  out.S = S;
  // A = L S R^T (tall); A^T = L S R^T when flipped, so A = R S L^T.
  const std::vector<double>& Um = flip ? R : L;  // m x r
  const std::vector<double>& Vm = flip ? L : R;  // n x r
  out.U = Um;
  out.Vt.assign(size_t(r * n), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < r; ++k) out.Vt[size_t(k * n + i)] = Vm[size_t(i * r + k)];
  return out;
}

}  // namespace greenai::compress
