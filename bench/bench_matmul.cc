// MatMul throughput: greenai's MatMul kernel (as the runtime would pick it, constant and
// dynamic B) against oneDNN's raw matmul primitive on the same sizes and thread count, and the
// reference kernel as a floor. Square f32 sizes 256..1024; thread count from the environment
// variable GREENAI_BENCH_THREADS (default 2), applied to the kernel and the raw primitive alike.
//
//   ./build-nn/bench_matmul --benchmark_counters_tabular=true
//
// The FLOPS counter is 2*n^3 per iteration, reported as a rate (G/s = GFLOP/s).
#include <benchmark/benchmark.h>
#include <dnnl.hpp>

#include <cstdlib>
#include <random>

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

void SetFlops(benchmark::State& state, int64_t n) {
  state.counters["FLOPS"] = benchmark::Counter(2.0 * static_cast<double>(n) * n * n,
                                               benchmark::Counter::kIsIterationInvariantRate);
}

// greenai MatMul through the kernel registry. const_b: B known at plan time (pre-packed).
void RunGreenai(benchmark::State& state, bool const_b, bool reference_only) {
  const int64_t n = state.range(0);
  Tensor a = Random({n, n}, 1), b = Random({n, n}, 2);
  Tensor y = Tensor::Create(DType::kF32, {n, n}).value();
  Node node;
  node.op_type = "MatMul";
  node.name = "mm";
  node.inputs = {"a", "b"};
  node.outputs = {"y"};
  ThreadPool pool(Threads());
  KernelInfo info{node, 17, {TensorType::Of(DType::kF32, {n, n}), TensorType::Of(DType::kF32, {n, n})},
                  {nullptr, const_b ? &b : nullptr}, {TensorType::Of(DType::kF32, {n, n})}, pool.num_threads()};
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
  SetFlops(state, n);
}

void BM_GreenaiMatMulConstB(benchmark::State& s) { RunGreenai(s, true, false); }
void BM_GreenaiMatMulDynamicB(benchmark::State& s) { RunGreenai(s, false, false); }
void BM_ReferenceMatMul(benchmark::State& s) { RunGreenai(s, false, true); }

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
  SetFlops(state, n);
}

BENCHMARK(BM_OneDnnRawMatMul)->Arg(256)->Arg(512)->Arg(768)->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GreenaiMatMulConstB)->Arg(256)->Arg(512)->Arg(768)->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GreenaiMatMulDynamicB)->Arg(256)->Arg(512)->Arg(768)->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ReferenceMatMul)->Arg(256)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace greenai

BENCHMARK_MAIN();
