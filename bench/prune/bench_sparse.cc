// Sparse vs dense Gemm at the `mlp` architecture's sizes (784->512->256->10, weights [out, in]
// with transB = 1 as PyTorch exports): the kernel the runtime picks for a dense weight
// (oneDNN), a 90 % unstructured-sparse weight (CSR) and a 2:4 weight (nm24), batch 1 and 64.
// Threads from GREENAI_BENCH_THREADS (default 1), the same for every kernel.
//
//   ./build-prune/bench_sparse --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// Each benchmark's label is the kernel name the registry chose, so a run shows that the cost
// rule picked what it claims.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <random>

#include "backends/cpu/kernel.h"

namespace greenai {
namespace {

int Threads() {
  const char* e = std::getenv("GREENAI_BENCH_THREADS");
  return e ? std::max(1, std::atoi(e)) : 1;
}

Tensor Weight(int64_t n, int64_t k, int kind, uint32_t seed) {  // kind 0 dense, 1 90 % sparse, 2 2:4
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1, 1);
  std::uniform_real_distribution<double> u(0, 1);
  Tensor t = Tensor::Create(DType::kF32, {n, k}).value();
  float* w = t.data<float>();
  for (int64_t i = 0; i < n * k; ++i) w[i] = (kind == 1 && u(rng) < 0.9) ? 0.f : d(rng);
  if (kind == 2)
    for (int64_t i = 0; i < n * k; i += 4) {
      const int64_t a = static_cast<int64_t>(rng() % 4), b = (a + 1 + static_cast<int64_t>(rng() % 3)) % 4;
      for (int64_t j = 0; j < 4; ++j)
        if (j != a && j != b) w[i + j] = 0.f;
    }
  return t;
}

void BM_Gemm(benchmark::State& state) {
  const int64_t M = state.range(0), K = state.range(1), N = state.range(2);
  const int kind = static_cast<int>(state.range(3));
  Node node;
  node.op_type = "Gemm";
  node.name = "fc";
  node.inputs = {"x", "w", "b"};
  node.outputs = {"y"};
  node.SetInt("transB", 1);
  Tensor x = Weight(M, K, 0, 1), w = Weight(N, K, kind, 2), b = Weight(1, N, 0, 3).Reshaped({N});
  Tensor y = Tensor::Create(DType::kF32, {M, N}).value();
  KernelInfo info{node, 17,
                  {TensorType::Of(DType::kF32, {M, K}), TensorType::Of(DType::kF32, {N, K}), TensorType::Of(DType::kF32, {N})},
                  {nullptr, &w, &b},
                  {TensorType::Of(DType::kF32, {M, N})},
                  Threads()};
  auto k = CreateKernel(info, false);
  if (!k.ok()) {
    state.SkipWithError(k.status().ToString().c_str());
    return;
  }
  ThreadPool pool(Threads());
  KernelContext ctx;
  ctx.inputs = {&x, &w, &b};
  ctx.outputs = {&y};
  ctx.pool = &pool;
  for (auto _ : state) {
    if (!k->kernel->Run(ctx).ok()) state.SkipWithError("run failed");
    benchmark::DoNotOptimize(y.raw());
  }
  state.SetLabel(std::string(k->name));
  state.counters["MACs_dense"] = benchmark::Counter(double(M * K * N), benchmark::Counter::kIsIterationInvariantRate);
}

void Args(benchmark::internal::Benchmark* b) {
  for (int64_t m : {1, 64})
    for (auto [k, n] : std::vector<std::pair<int64_t, int64_t>>{{784, 512}, {512, 256}, {256, 10}})
      for (int64_t kind : {0, 1, 2}) b->Args({m, k, n, kind});
  b->ArgNames({"M", "K", "N", "dense0_csr1_nm2"});
}
BENCHMARK(BM_Gemm)->Apply(Args)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace greenai

BENCHMARK_MAIN();
