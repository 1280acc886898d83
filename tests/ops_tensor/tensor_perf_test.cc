// Throughput figures for the data-movement hot paths. Disabled by default (timing is not a
// correctness check); run with
//   ./build-tensorops/test_ops_tensor --gtest_also_run_disabled_tests --gtest_filter='*Perf*'
// Each case also checks a few output elements against the index formula, so it can fail.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstring>

#include "backends/cpu/kernel.h"
#include "tensor_test_util.h"

namespace greenai::testing {
namespace {

double BestSeconds(const std::function<void()>& fn, int reps = 5) {
  double best = 1e30;
  for (int i = 0; i < reps; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    fn();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

// Times kernel->Run only: the output is planned once, as the runtime does.
double KernelGBps(const Node& n, const std::vector<Tensor>& in, ThreadPool& pool, Tensor* out_keep) {
  RunNodeOptions o;
  o.pool = &pool;
  o.reference_only = true;
  auto first = RunNode(n, in, o);  // for the output type
  EXPECT_TRUE(first.ok()) << first.status().ToString();
  if (!first.ok()) return 0;
  KernelInfo info{n, 17, {}, {}, {TensorType::Of((*first)[0].dtype(), (*first)[0].shape())}, pool.num_threads()};
  for (const auto& t : in) {
    info.input_types.push_back(TensorType::Of(t.dtype(), t.shape()));
    info.const_inputs.push_back(nullptr);
  }
  auto k = CreateKernel(info, true);
  EXPECT_TRUE(k.ok());
  Tensor out = Tensor::Create((*first)[0].dtype(), (*first)[0].shape()).value();
  KernelContext ctx;
  ctx.pool = &pool;
  for (const auto& t : in) ctx.inputs.push_back(&t);
  ctx.outputs.push_back(&out);
  double bytes = static_cast<double>(out.nbytes()) * 2;  // read + write of the moved data
  double t = BestSeconds([&] { EXPECT_TRUE(k->kernel->Run(ctx).ok()); });
  *out_keep = out;
  return bytes / t / 1e9;
}

TEST(TensorPerf, DISABLED_TransposeConcatGatherVsMemcpy) {
  const int64_t N = 4096;
  Tensor x = F32({N, N}, Iota(N * N));
  double gb = 2.0 * static_cast<double>(x.nbytes()) / 1e9;
  std::vector<float> dst(static_cast<size_t>(N * N), 1.0f);
  double t_memcpy = BestSeconds([&] { std::memcpy(dst.data(), x.raw(), x.nbytes()); });
  for (int threads : {1, 2}) {
    ThreadPool pool(threads);
    Tensor out;
    Node tr = MakeNode("Transpose", 1);
    tr.SetInts("perm", {1, 0});
    double g_tr = KernelGBps(tr, {x}, pool, &out);
    EXPECT_EQ(out.data<float>()[5 * N + 7], static_cast<float>(7 * N + 5));
    Node tr3 = MakeNode("Transpose", 1);
    tr3.SetInts("perm", {0, 2, 1});
    double g_tr3 = KernelGBps(tr3, {x.Reshaped({64, 64, N})}, pool, &out);
    EXPECT_EQ(out.data<float>()[(1 * N + 7) * 64 + 5], static_cast<float>((1 * 64 + 5) * N + 7));
    Node cat = MakeNode("Concat", 2);
    cat.SetInt("axis", 1);
    Tensor half = F32({N, N / 2}, Iota(N * N / 2));
    double g_cat = KernelGBps(cat, {half, half}, pool, &out);
    EXPECT_EQ(out.data<float>()[N + N / 2 + 3], static_cast<float>(N / 2 + 3));
    Node ga = MakeNode("Gather", 2);
    std::vector<int64_t> idx(static_cast<size_t>(N));
    for (int64_t i = 0; i < N; ++i) idx[static_cast<size_t>(i)] = (i * 7919) % N;
    double g_ga = KernelGBps(ga, {x, I64({N}, idx)}, pool, &out);
    EXPECT_EQ(out.data<float>()[3 * N + 1], static_cast<float>(((3 * 7919) % N) * N + 1));
    Node rs = MakeNode("Reshape", 2);
    double g_rs = KernelGBps(rs, {x, I64({1}, {-1})}, pool, &out);
    std::printf("threads=%d f32 4096x4096 (64 MiB), kernel only, GB/s of bytes read+written: memcpy %.2f | "
                "Transpose2D %.2f | Transpose[0,2,1] %.2f | Concat %.2f | Gather rows %.2f | Reshape %.2f\n",
                threads, gb / t_memcpy, g_tr, g_tr3, g_cat, g_ga, g_rs);
  }
}

}  // namespace
}  // namespace greenai::testing
