// Einsum: each equation checked against an explicit loop written out in the test, on both
// the reference kernel and the GEMM fast path; plus parse errors naming the node.
#include <gtest/gtest.h>

#include <random>

#include "backends/cpu/run_node.h"

namespace greenai {
namespace {

Tensor Rand(Shape s, std::mt19937& rng) {
  auto t = Tensor::Create(DType::kF32, s).value();
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = d(rng);
  return t;
}

Node EinsumNode(const std::string& eq, int nin) {
  Node n;
  n.name = "e";
  n.op_type = "Einsum";
  for (int i = 0; i < nin; ++i) n.inputs.push_back("x" + std::to_string(i));
  n.outputs = {"y"};
  n.SetString("equation", eq);
  return n;
}

void Check(const std::string& eq, const std::vector<Tensor>& in, const Shape& want_shape,
           const std::vector<float>& want) {
  for (bool ref : {true, false}) {
    RunNodeOptions o;
    o.reference_only = ref;
    auto r = RunNode(EinsumNode(eq, static_cast<int>(in.size())), in, o);
    ASSERT_TRUE(r.ok()) << eq << ": " << r.status().ToString();
    const Tensor& y = (*r)[0];
    ASSERT_EQ(y.shape(), want_shape) << eq;
    ASSERT_EQ(static_cast<size_t>(y.numel()), want.size());
    for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(y.data<float>()[i], want[i], 1e-4) << eq << " at " << i;
  }
}

TEST(Einsum, MatmulLikeEquationsMatchExplicitLoops) {
  std::mt19937 rng(7);
  {
    auto a = Rand({3, 4}, rng), b = Rand({4, 5}, rng);
    std::vector<float> w(15, 0.f);
    for (int i = 0; i < 3; ++i)
      for (int k = 0; k < 5; ++k)
        for (int j = 0; j < 4; ++j) w[i * 5 + k] += a.data<float>()[i * 4 + j] * b.data<float>()[j * 5 + k];
    Check("ij,jk->ik", {a, b}, {3, 5}, w);
    Check("ij,jk", {a, b}, {3, 5}, w);  // implicit output: i, k
  }
  {  // batched, B transposed, output transposed: "bij,bkj->bki"
    auto a = Rand({2, 3, 4}, rng), b = Rand({2, 5, 4}, rng);
    std::vector<float> w(2 * 5 * 3, 0.f);
    for (int bb = 0; bb < 2; ++bb)
      for (int k = 0; k < 5; ++k)
        for (int i = 0; i < 3; ++i)
          for (int j = 0; j < 4; ++j)
            w[(bb * 5 + k) * 3 + i] += a.data<float>()[(bb * 3 + i) * 4 + j] * b.data<float>()[(bb * 5 + k) * 4 + j];
    Check("bij,bkj->bki", {a, b}, {2, 5, 3}, w);
  }
  {  // outer product and inner product
    auto a = Rand({3}, rng), b = Rand({4}, rng), c = Rand({3}, rng);
    std::vector<float> outer(12), inner(1, 0.f);
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 4; ++j) outer[i * 4 + j] = a.data<float>()[i] * b.data<float>()[j];
      inner[0] += a.data<float>()[i] * c.data<float>()[i];
    }
    Check("i,j->ij", {a, b}, {3, 4}, outer);
    Check("i,i", {a, c}, {}, inner);
  }
  {  // ellipsis with broadcasting: [2,1,3,4] x [5,4,2] -> [2,5,3,2]
    auto a = Rand({2, 1, 3, 4}, rng), b = Rand({5, 4, 2}, rng);
    std::vector<float> w(2 * 5 * 3 * 2, 0.f);
    for (int p = 0; p < 2; ++p)
      for (int q = 0; q < 5; ++q)
        for (int i = 0; i < 3; ++i)
          for (int k = 0; k < 2; ++k)
            for (int j = 0; j < 4; ++j)
              w[((p * 5 + q) * 3 + i) * 2 + k] += a.data<float>()[(p * 3 + i) * 4 + j] * b.data<float>()[(q * 4 + j) * 2 + k];
    Check("...ij,...jk->...ik", {a, b}, {2, 5, 3, 2}, w);
  }
}

TEST(Einsum, DiagonalsReductionsTransposesAndThreeOperands) {
  std::mt19937 rng(8);
  auto sq = Rand({4, 4}, rng);
  std::vector<float> diag(4), trace(1, 0.f);
  for (int i = 0; i < 4; ++i) {
    diag[static_cast<size_t>(i)] = sq.data<float>()[i * 5];
    trace[0] += diag[static_cast<size_t>(i)];
  }
  Check("ii->i", {sq}, {4}, diag);
  Check("ii", {sq}, {}, trace);
  auto x = Rand({2, 3, 4}, rng);
  std::vector<float> sum1(3, 0.f), tr(24);
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 3; ++b)
      for (int c = 0; c < 4; ++c) {
        sum1[static_cast<size_t>(b)] += x.data<float>()[(a * 3 + b) * 4 + c];
        tr[static_cast<size_t>((c * 3 + b) * 2 + a)] = x.data<float>()[(a * 3 + b) * 4 + c];
      }
  Check("abc->b", {x}, {3}, sum1);
  Check("abc->cba", {x}, {4, 3, 2}, tr);
  // Batch diagonal with ellipsis: "...ii->...i"
  auto bd = Rand({3, 5, 5}, rng);
  std::vector<float> bdw(15);
  for (int b = 0; b < 3; ++b)
    for (int i = 0; i < 5; ++i) bdw[static_cast<size_t>(b * 5 + i)] = bd.data<float>()[(b * 5 + i) * 5 + i];
  Check("...ii->...i", {bd}, {3, 5}, bdw);
  // Three operands: "ij,jk,kl->il"
  auto p = Rand({2, 3}, rng), q = Rand({3, 4}, rng), r = Rand({4, 2}, rng);
  std::vector<float> w(4, 0.f);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k)
        for (int l = 0; l < 2; ++l)
          w[static_cast<size_t>(i * 2 + l)] +=
              p.data<float>()[i * 3 + j] * q.data<float>()[j * 4 + k] * r.data<float>()[k * 2 + l];
  Check("ij,jk,kl->il", {p, q, r}, {2, 2}, w);
  // A label summed in one operand only ("ij,j->" falls back from the fast path).
  auto v = Rand({3}, rng);
  std::vector<float> s(1, 0.f);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) s[0] += p.data<float>()[i * 3 + j] * v.data<float>()[j];
  Check("ij,j->", {p, v}, {}, s);
}

TEST(Einsum, BadEquationsNameTheNode) {
  std::mt19937 rng(9);
  auto a = Rand({2, 3}, rng), b = Rand({4, 5}, rng);
  for (const char* eq : {"ij,jk->ik", "ij->k", "i$,jk", "ijk,jk->i", "ij,jk->ii"}) {
    auto r = RunNode(EinsumNode(eq, 2), {a, b});
    ASSERT_FALSE(r.ok()) << eq;
    EXPECT_NE(r.status().message().find("Einsum 'e'"), std::string::npos) << r.status().message();
  }
  // Integer Einsum works on the reference path.
  auto ia = Tensor::FromVector<int64_t>({2, 2}, {1, 2, 3, 4});
  auto r = RunNode(EinsumNode("ij,jk->ik", 2), {ia, ia});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(std::vector<int64_t>((*r)[0].data<int64_t>(), (*r)[0].data<int64_t>() + 4),
            (std::vector<int64_t>{7, 10, 15, 22}));
}

}  // namespace
}  // namespace greenai
