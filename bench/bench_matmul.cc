// MatMul throughput: greenai's MatMul kernel (as the runtime would pick it, constant and
// dynamic B) against oneDNN's raw matmul primitive on the same sizes and thread count, and the
// reference kernel as a floor. Square f32 sizes 256..1024; thread count from the environment
// variable GREENAI_BENCH_THREADS (default 2), applied to the kernel and the raw primitive alike.
//
//   ./build/bench_matmul --benchmark_counters_tabular=true
//
// The FLOPS counter is 2*m*k*n per iteration (2*n^3 for the square ones), reported as a rate
// (G/s = GFLOP/s).
//
// BM_GreenaiLinear/M/K/N runs the constant-B kernel on a transformer's or MLP's Linear shapes
// (BERT-style h256: 128x256x256, 128x256x1024, 128x1024x256), and BM_FmaPeak is the machine's
// own f32 FMA bound on the same threads (twelve independent 8-wide FMA chains per thread): this
// VM's clock swings from second to second, so a kernel's share of peak is read as its FLOPS over
// BM_FmaPeak's in one interleaved run:
//
//   ./build/bench_matmul --benchmark_filter='Linear|FmaPeak' --benchmark_repetitions=5
//       --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <dnnl.hpp>

#include <cstdlib>
#include <random>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

#include "backends/cpu/kernel.h"
#include "backends/cpu/onednn_util.h"
#include "graph/ir.h"
#include "ops/op_table.h"

namespace greenai {
namespace {

int Threads() {
  const char* e = std::getenv("GREENAI_BENCH_THREADS");
  return e ? std::max(1, std::atoi(e)) : 2;
}

Tensor Random(Shape s, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1, 1);
  Tensor t = Tensor::Create(DType::kF32, std::move(s)).value();
  for (auto& v : t.span<float>()) v = d(rng);
  return t;
}

void SetFlops(benchmark::State& state, int64_t m, int64_t k, int64_t n) {
  state.counters["FLOPS"] = benchmark::Counter(2.0 * static_cast<double>(m) * static_cast<double>(k) * static_cast<double>(n),
                                               benchmark::Counter::kIsIterationInvariantRate);
}

// greenai MatMul [m, k] x [k, n] through the kernel registry. const_b: B known at plan time
// (pre-packed, as a Linear layer's weight).
void RunGreenai(benchmark::State& state, int64_t m, int64_t k, int64_t n, bool const_b, bool reference_only) {
  Tensor a = Random({m, k}, 1), b = Random({k, n}, 2);
  Tensor y = Tensor::Create(DType::kF32, {m, n}).value();
  Node node;
  node.op_type = "MatMul";
  node.name = "mm";
  node.inputs = {"a", "b"};
  node.outputs = {"y"};
  ThreadPool pool(Threads());
  KernelInfo info{node, 17, {TensorType::Of(DType::kF32, {m, k}), TensorType::Of(DType::kF32, {k, n})},
                  {nullptr, const_b ? &b : nullptr}, {TensorType::Of(DType::kF32, {m, n})}, pool.num_threads()};
  auto ck = CreateKernel(info, reference_only);
  if (!ck.ok()) {
    state.SkipWithError(ck.status().ToString().c_str());
    return;
  }
  state.SetLabel(std::string(ck->name));
  KernelContext ctx;
  ctx.inputs = {&a, &b};
  ctx.outputs = {&y};
  ctx.pool = &pool;
  for (auto _ : state) {
    Status st = ck->kernel->Run(ctx);
    if (!st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      return;
    }
    benchmark::DoNotOptimize(y.raw());
  }
  SetFlops(state, m, k, n);
}

void BM_GreenaiMatMulConstB(benchmark::State& s) { RunGreenai(s, s.range(0), s.range(0), s.range(0), true, false); }
void BM_GreenaiMatMulDynamicB(benchmark::State& s) { RunGreenai(s, s.range(0), s.range(0), s.range(0), false, false); }
void BM_ReferenceMatMul(benchmark::State& s) { RunGreenai(s, s.range(0), s.range(0), s.range(0), false, true); }
// A Linear layer's MatMul: A [M, K] at run time, constant B [K, N].
void BM_GreenaiLinear(benchmark::State& s) { RunGreenai(s, s.range(0), s.range(1), s.range(2), true, false); }

// The f32 FMA bound: every thread runs twelve independent FMA chains (enough to cover the
// FMA latency on two FMA pipes), 2 * 8 * 12 FLOP per step.
void BM_FmaPeak(benchmark::State& state) {
#if defined(__AVX2__) && defined(__FMA__)
  constexpr int64_t kSteps = 1 << 16;
  ThreadPool pool(Threads());
  const int64_t threads = pool.num_threads();
  std::vector<float> sink(static_cast<size_t>(threads) * 8);
  for (auto _ : state) {
    pool.ParallelFor(threads, 1, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const __m256 m = _mm256_set1_ps(0.999f), c = _mm256_set1_ps(1e-3f);
        __m256 v0 = _mm256_set1_ps(0.f), v1 = _mm256_set1_ps(1.f), v2 = _mm256_set1_ps(2.f), v3 = _mm256_set1_ps(3.f),
               v4 = _mm256_set1_ps(4.f), v5 = _mm256_set1_ps(5.f), v6 = _mm256_set1_ps(6.f), v7 = _mm256_set1_ps(7.f),
               v8 = _mm256_set1_ps(8.f), v9 = _mm256_set1_ps(9.f), v10 = _mm256_set1_ps(10.f), v11 = _mm256_set1_ps(11.f);
        for (int64_t s = 0; s < kSteps; ++s) {
          v0 = _mm256_fmadd_ps(v0, m, c), v1 = _mm256_fmadd_ps(v1, m, c), v2 = _mm256_fmadd_ps(v2, m, c);
          v3 = _mm256_fmadd_ps(v3, m, c), v4 = _mm256_fmadd_ps(v4, m, c), v5 = _mm256_fmadd_ps(v5, m, c);
          v6 = _mm256_fmadd_ps(v6, m, c), v7 = _mm256_fmadd_ps(v7, m, c), v8 = _mm256_fmadd_ps(v8, m, c);
          v9 = _mm256_fmadd_ps(v9, m, c), v10 = _mm256_fmadd_ps(v10, m, c), v11 = _mm256_fmadd_ps(v11, m, c);
          __asm__("" : "+x"(v0), "+x"(v1), "+x"(v2), "+x"(v3), "+x"(v4), "+x"(v5), "+x"(v6), "+x"(v7), "+x"(v8),
                  "+x"(v9), "+x"(v10), "+x"(v11));
        }
        const __m256 acc = _mm256_add_ps(
            _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(v0, v1), _mm256_add_ps(v2, v3)),
                          _mm256_add_ps(_mm256_add_ps(v4, v5), _mm256_add_ps(v6, v7))),
            _mm256_add_ps(_mm256_add_ps(v8, v9), _mm256_add_ps(v10, v11)));
        _mm256_storeu_ps(sink.data() + t * 8, acc);
      }
    });
    benchmark::DoNotOptimize(sink.data());
  }
  state.counters["FLOPS"] = benchmark::Counter(2.0 * 8 * 12 * static_cast<double>(kSteps) * static_cast<double>(threads),
                                               benchmark::Counter::kIsIterationInvariantRate);
#else
  state.SkipWithError("built without AVX2/FMA");
#endif
}


// oneDNN's raw primitive: plain row-major layouts, primitive created once, no greenai code
// on the hot path: the peak our kernel should approach.
void BM_OneDnnRawMatMul(benchmark::State& state) {
  const int64_t n = state.range(0);
  Tensor a = Random({n, n}, 1), b = Random({n, n}, 2);
  Tensor y = Tensor::Create(DType::kF32, {n, n}).value();
  onednn::SetThreads(Threads());
  auto& eng = onednn::Engine();
  dnnl::stream strm(eng);
  auto md = dnnl::memory::desc({n, n}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::ab);
  dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(md, md, md), eng);
  dnnl::matmul mm(pd);
  dnnl::memory am(md, eng, a.raw()), bm(md, eng, b.raw()), ym(md, eng, y.raw());
  for (auto _ : state) {
    mm.execute(strm, {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, ym}});
    strm.wait();
    benchmark::DoNotOptimize(y.raw());
  }
  SetFlops(state, n, n, n);
}

BENCHMARK(BM_OneDnnRawMatMul)->Arg(256)->Arg(512)->Arg(768)->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GreenaiMatMulConstB)->Arg(256)->Arg(512)->Arg(768)->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GreenaiMatMulDynamicB)->Arg(256)->Arg(512)->Arg(768)->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GreenaiLinear)
    ->Args({128, 256, 256})
    ->Args({128, 256, 1024})
    ->Args({128, 1024, 256})
    ->Args({64, 784, 512})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK(BM_FmaPeak)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_ReferenceMatMul)->Arg(256)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace greenai

BENCHMARK_MAIN();
