// Thin SVD of a dense matrix by one-sided Jacobi rotations (Hestenes), in double.
//
// A (m x n, row-major) = U diag(S) Vt with r = min(m, n): U m x r, S descending >= 0,
// Vt r x n, U's and V's columns orthonormal (columns of zero singular value are completed
// to an orthonormal set only where possible; they multiply 0 either way).
// One-sided Jacobi is slower than Golub-Kahan for big matrices but short, accurate to full
// double precision for small singular values, and plenty for layer weights (<= a few 1000s).
// Errors: empty or non-finite input, or no convergence within max_sweeps (names the sizes).
// Thread safety: pure function.
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"

namespace greenai::compress {

struct Svd {
  int64_t m = 0, n = 0, r = 0;
  std::vector<double> U;   // m x r, row-major
  std::vector<double> S;   // r, descending
  std::vector<double> Vt;  // r x n, row-major
};

Result<Svd> JacobiSvd(const std::vector<double>& a, int64_t m, int64_t n, int max_sweeps = 60);

}  // namespace greenai::compress
