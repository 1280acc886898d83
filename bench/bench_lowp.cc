// Low-precision-weight GEMM/GEMV throughput (backends/cpu/lowp_*.cc): the kernel the registry
// picks for a MatMul with a constant B of each type (f32, f16, bf16, and the ai.greenai
// MatMulInt4 node with block 32), at the Fashion-MNIST mlp's layer sizes (784x512, 512x256)
// and a larger 4096x4096 layer (weights out of L2: where the bytes read matter), for batch
// 1, 4 and 64. Threads from GREENAI_BENCH_THREADS (default 1); int4 block size from LOWP_BLOCK
// (default 32; a partial last block is padded as `greenai quantize` writes it).
//
//   ./build/bench_lowp --benchmark_counters_tabular=true
//
// Counters: MACs as a rate (G/s = GMAC/s) and the weight bytes each kernel reads per call.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <random>

#include "backends/cpu/kernel.h"
#include "ops/weight_only.h"

namespace greenai {
namespace {

int Threads() {
  const char* e = std::getenv("GREENAI_BENCH_THREADS");
  return e ? std::max(1, std::atoi(e)) : 1;
}

Tensor Random(DType t, Shape s, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1, 1);
  Tensor f = Tensor::Create(DType::kF32, s).value();
  for (auto& v : f.span<float>()) v = d(rng);
  if (t == DType::kF32) return f;
  Tensor h = Tensor::Create(t, s).value();
  for (int64_t i = 0; i < f.numel(); ++i)
    static_cast<uint16_t*>(h.raw())[i] = t == DType::kF16 ? FloatToHalf(f.data<float>()[i]) : FloatToBFloat16(f.data<float>()[i]);
  return h;
}

// dtype kU8 stands for int4 weights (MatMulInt4).
void Run(benchmark::State& state, DType wt) {
  const int64_t M = state.range(0), K = state.range(1), N = state.range(2);
  const int64_t block = std::getenv("LOWP_BLOCK") ? std::max(2, std::atoi(std::getenv("LOWP_BLOCK"))) / 2 * 2 : 32;
  const DType at = wt == DType::kU8 ? DType::kF32 : wt;
  Tensor a = Random(at, {M, K}, 1);
  Tensor y = Tensor::Create(at, {M, N}).value();
  Node node;
  node.name = "mm";
  node.outputs = {"y"};
  std::vector<Tensor> w;
  std::vector<TensorType> types = {TensorType::Of(at, {M, K})};
  if (wt == DType::kU8) {
    node.op_type = std::string(kMatMulInt4);
    node.domain = std::string(kGreenaiDomain);
    node.inputs = {"a", "p", "s"};
    node.SetInt("K", K);
    node.SetInt("N", N);
    node.SetInt("block_size", block);
    const int64_t nb = (K + block - 1) / block;  // a last partial block is padded (as quantize writes)
    Tensor p = Tensor::Create(DType::kU8, {nb * block * N / 2}).value();
    std::mt19937 rng(2);
    for (auto& v : p.span<uint8_t>()) v = static_cast<uint8_t>(rng());
    w = {p, Random(DType::kF32, {nb, 1, N}, 3)};
  } else {
    node.op_type = "MatMul";
    node.inputs = {"a", "b"};
    w = {Random(wt, {K, N}, 2)};
  }
  std::vector<const Tensor*> consts = {nullptr};
  for (const Tensor& t : w) {
    types.push_back(TensorType::Of(t.dtype(), t.shape()));
    consts.push_back(&t);
  }
  ThreadPool pool(Threads());
  KernelInfo info{node, 17, types, consts, {TensorType::Of(at, {M, N})}, pool.num_threads()};
  auto ck = CreateKernel(info, false);
  if (!ck.ok()) {
    state.SkipWithError(ck.status().ToString().c_str());
    return;
  }
  state.SetLabel(std::string(ck->name));
  KernelContext ctx;
  ctx.inputs = {&a};
  for (const Tensor& t : w) ctx.inputs.push_back(&t);
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
  state.counters["MACs"] = benchmark::Counter(static_cast<double>(M * K * N), benchmark::Counter::kIsIterationInvariantRate);
  double wbytes = 0;
  for (const Tensor& t : w) wbytes += static_cast<double>(t.nbytes());
  state.counters["weight_bytes"] = wbytes;
}

void BM_F32(benchmark::State& s) { Run(s, DType::kF32); }
void BM_F16(benchmark::State& s) { Run(s, DType::kF16); }
void BM_BF16(benchmark::State& s) { Run(s, DType::kBF16); }
void BM_Int4(benchmark::State& s) { Run(s, DType::kU8); }

void Sizes(benchmark::internal::Benchmark* b) {
  for (int64_t m : {1, 4, 64}) {
    b->Args({m, 784, 512});
    b->Args({m, 512, 256});
    b->Args({m, 4096, 4096});
  }
  b->Unit(benchmark::kMicrosecond)->UseRealTime();
}

BENCHMARK(BM_F32)->Apply(Sizes);
BENCHMARK(BM_F16)->Apply(Sizes);
BENCHMARK(BM_BF16)->Apply(Sizes);
BENCHMARK(BM_Int4)->Apply(Sizes);

}  // namespace
}  // namespace greenai

BENCHMARK_MAIN();
