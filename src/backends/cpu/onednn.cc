// Kernel family onednn: optimized f32 kernels on oneDNN 2.6 (conv and deconv in onednn_conv.cc,
// matmul/gemm in onednn_matmul.cc, pools/norms/softmax in onednn_pool_norm.cc, int8 conv/matmul
// in onednn_int8.cc) plus the shared
// engine and threading helpers. See backends/cpu/kernel.h and onednn_util.h for contracts.
#include <dlfcn.h>

#include <mutex>

#include "backends/cpu/onednn_util.h"

namespace greenai {
namespace onednn {

dnnl::engine& Engine() {
  static dnnl::engine* eng = new dnnl::engine(dnnl::engine::kind::cpu, 0);  // leaked: outlives all kernels
  return *eng;
}

void SetThreads(int n) {
  // libgomp is already loaded by libdnnl; resolve omp_set_num_threads at run time so greenai
  // need not compile with -fopenmp. Absent symbol (non-OpenMP oneDNN): nothing to do.
  using Fn = void (*)(int);
  // Not cached per thread: other code on this thread may change the OpenMP ICV in between,
  // and the call only stores an integer.
  static Fn fn = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
  if (fn && n > 0) fn(n);
}

int ThreadsForWork(double macs, int threads) { return macs < 1e6 ? 1 : threads; }

dnnl::memory::dims Strides(const Shape& s) {
  dnnl::memory::dims st(s.size(), 1);
  for (size_t i = s.size(); i-- > 1;) st[i - 1] = st[i] * std::max<int64_t>(s[i], 1);
  return st;
}

dnnl::memory::desc PlainDesc(const Shape& s) {
  return dnnl::memory::desc(Dims(s), dnnl::memory::data_type::f32, Strides(s));
}

bool AllF32(const KernelInfo& info) {
  for (size_t i = 0; i < info.input_types.size(); ++i) {
    if (!info.node.HasInput(i)) continue;
    if (info.input_types[i].dtype != DType::kF32) return false;
  }
  return true;
}

}  // namespace onednn

void SetKernelThreads(int n) { onednn::SetThreads(n); }

void AddOneDnnKernels(std::vector<KernelDef>& defs) {
  onednn::AddConvKernels(defs);
  onednn::AddMatMulKernels(defs);
  onednn::AddPoolNormKernels(defs);
  onednn::AddInt8Kernels(defs);
}

}  // namespace greenai
