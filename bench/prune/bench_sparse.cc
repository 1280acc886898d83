// Sparse vs dense Gemm at the `mlp` architecture's sizes (784->512->256->10, weights [out, in]
// with transB = 1 as PyTorch exports): the kernel the runtime picks for a dense weight (the
// packed f32 GEMM), a 90 % unstructured-sparse weight (CSR) and a 2:4 weight (nm24), batch 1
// and 64, on 1 and 2 threads (GREENAI_BENCH_THREADS=N: N only), the same for every kernel.
// GREENAI_BENCH_ZEROS=F makes the "90 %" weight F zeros instead (e.g. 0.8, to find where the
// cost rule's density limit should sit; a CSR case the rule declines shows as an error).
//
//   cmake --build build --target bench_sparse
//   ./build/bench_sparse --benchmark_repetitions=7 --benchmark_enable_random_interleaving=true
//
// Random interleaving runs the repetitions of all cases in random order, so dense and sparse
// share the machine's state (other processes, clock); compare ratios from one run. Each
// benchmark's label is the kernel name the registry chose, so a run shows that the cost rule
// picked what it claims. At the end a table gives, per shape and thread count, the median
// (or the single run's) microseconds of the dense, 90 %-sparse and 2:4 weights and the
// dense / CSR ratio (0 where a case did not run). Console output only (the closing table
// needs this reporter); for JSON add --benchmark_out=FILE --benchmark_out_format=json.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <regex>
#include <tuple>

#include <unistd.h>

#include "backends/cpu/kernel.h"

namespace greenai {
namespace {

int EnvThreads() {
  const char* e = std::getenv("GREENAI_BENCH_THREADS");
  return e ? std::max(1, std::atoi(e)) : 0;
}

double EnvZeros() {
  const char* e = std::getenv("GREENAI_BENCH_ZEROS");
  return e ? std::atof(e) : 0.9;
}

Tensor Weight(int64_t n, int64_t k, int kind, uint32_t seed) {  // kind 0 dense, 1 90 % sparse, 2 2:4
  std::mt19937 rng(seed);
  const double zeros = EnvZeros();
  std::uniform_real_distribution<float> d(-1, 1);
  std::uniform_real_distribution<double> u(0, 1);
  Tensor t = Tensor::Create(DType::kF32, {n, k}).value();
  float* w = t.data<float>();
  for (int64_t i = 0; i < n * k; ++i) w[i] = (kind == 1 && u(rng) < zeros) ? 0.f : d(rng);
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
  const int kind = static_cast<int>(state.range(3)), threads = static_cast<int>(state.range(4));
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
                  threads};
  auto k = CreateKernel(info, false);
  if (!k.ok()) {
    state.SkipWithError(k.status().ToString().c_str());
    return;
  }
  ThreadPool pool(threads);
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
  const std::vector<int64_t> threads = EnvThreads() ? std::vector<int64_t>{EnvThreads()} : std::vector<int64_t>{1, 2};
  for (int64_t t : threads)
    for (int64_t m : {1, 64})
      for (auto [k, n] : std::vector<std::pair<int64_t, int64_t>>{{784, 512}, {512, 256}, {256, 10}})
        for (int64_t kind : {0, 1, 2}) b->Args({m, k, n, kind, t});
  b->ArgNames({"M", "K", "N", "dense0_csr1_nm2", "threads"});
}
BENCHMARK(BM_Gemm)->Apply(Args)->Unit(benchmark::kMicrosecond);

// Console output as usual, plus the medians (or single runs) kept for the closing table.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  RatioReporter() : ConsoleReporter(isatty(fileno(stdout)) ? OO_ColorTabular : OO_Tabular) {}
  using Key = std::tuple<int64_t, int64_t, int64_t, int64_t>;  // threads, M, K, N
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    static const std::regex re("M:(\\d+)/K:(\\d+)/N:(\\d+)/dense0_csr1_nm2:(\\d)/threads:(\\d+)");
    for (const Run& r : runs) {
      const bool single = r.run_type == Run::RT_Iteration && r.repetitions <= 1;
      if (r.error_occurred || !(single || r.aggregate_name == "median")) continue;
      std::smatch m;
      const std::string args = r.run_name.args;
      if (!std::regex_search(args, m, re)) continue;
      const Key key{std::stoll(m[5]), std::stoll(m[1]), std::stoll(m[2]), std::stoll(m[3])};
      times_[key][std::stoi(m[4])] = r.GetAdjustedRealTime();
    }
  }
  void PrintTable() const {
    std::printf("\nus: median of the repetitions (or the single run); 2:4 w: the kernel the registry picked for it\n"
                "threads  M x K x N          dense us    CSR us   2:4 w us   dense/CSR\n");
    for (const auto& [key, t] : times_) {
      auto at = [&t](int kind) { auto it = t.find(kind); return it == t.end() ? 0.0 : it->second; };
      const auto [threads, M, K, N] = key;
      std::printf("%7lld  %3lld x %3lld x %3lld  %10.2f %9.2f %10.2f   %6.2fx\n", static_cast<long long>(threads),
                  static_cast<long long>(M), static_cast<long long>(K), static_cast<long long>(N), at(0), at(1), at(2),
                  at(0) > 0 && at(1) > 0 ? at(0) / at(1) : 0.0);
    }
  }

 private:
  std::map<Key, std::map<int, double>> times_;
};

}  // namespace
}  // namespace greenai

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  greenai::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintTable();
  benchmark::Shutdown();
  return 0;
}
