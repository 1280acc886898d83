// Small helpers shared by the oneDNN kernels (onednn*.cc).
//
// Contract:
//  - Engine() is one process-wide CPU engine (thread safe, created on first use).
//  - SetThreads(n) makes oneDNN primitives executed next on *this* thread use n threads.
//    Debian's oneDNN 2.6 is built on OpenMP, which has no oneDNN-level knob; the OpenMP ICV
//    is per calling thread, so each kernel calls it right before execute().
//  - Guard() converts dnnl::error (the C++ API throws) and std::exception into Status so no
//    exception escapes a kernel: Unimplemented (a factory declines) or, at run time, Internal.
//    Kernels catch plan-time dnnl::error themselves and run their reference fallback.
//  - PlainDesc() describes a dense row-major f32 tensor.
// Thread safety: all functions may be called from any thread.
#pragma once

#include <dnnl.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backends/cpu/kernel.h"
#include "core/status.h"
#include "core/tensor.h"

namespace greenai::onednn {

dnnl::engine& Engine();
void SetThreads(int n);
// Threads worth using for a primitive doing `macs` multiply-accumulates: waking a second
// OpenMP thread costs tens of microseconds, more than a small GEMM/conv takes on one core,
// so work under ~1M MACs runs single-threaded.
int ThreadsForWork(double macs, int threads);

inline dnnl::memory::dims Dims(const Shape& s) { return dnnl::memory::dims(s.begin(), s.end()); }
dnnl::memory::desc PlainDesc(const Shape& s);
// Row-major strides as memory::dims.
dnnl::memory::dims Strides(const Shape& s);

// Guard(node, ...) names the node only when something is thrown (Run calls it every time).
template <typename F>
Status Guard(const Node& node, F&& f, bool run_time) {
  try {
    return f();
  } catch (const dnnl::error& e) {
    return Status(run_time ? StatusCode::kInternal : StatusCode::kUnimplemented,
                  fmt::format("{}: oneDNN: {} (status {})", node.Describe(), e.what(), static_cast<int>(e.status)));
  } catch (const std::exception& e) {
    return Internal("{}: oneDNN kernel: {}", node.Describe(), e.what());
  }
}

template <typename F>
Status Guard(const std::string& who, F&& f, bool run_time = false) {
  try {
    return f();
  } catch (const dnnl::error& e) {
    return Status(run_time ? StatusCode::kInternal : StatusCode::kUnimplemented,
                  fmt::format("{}: oneDNN: {} (status {})", who, e.what(), static_cast<int>(e.status)));
  } catch (const std::exception& e) {
    return Internal("{}: oneDNN kernel: {}", who, e.what());
  }
}

// True when every listed input is f32 (absent optional inputs are skipped).
bool AllF32(const KernelInfo& info);

// Memory wrapping a tensor buffer (no copy). The tensor must outlive the memory's use.
inline dnnl::memory Wrap(const dnnl::memory::desc& md, const Tensor& t) {
  return dnnl::memory(md, Engine(), const_cast<void*>(t.raw()));
}

// Plans cached per key (input shapes) by the oneDNN kernels: at most kMaxPlans are kept.
inline constexpr size_t kMaxPlans = 8;

// The plan for `key`, made by make() (returning Result<std::unique_ptr<Plan>>) on a miss. A
// dnnl::error while making it (a configuration this oneDNN build rejects) gives a plan with
// `fallback` set, so the kernel runs its reference fallback for that key from then on.
template <typename Plan, typename Key, typename Make>
Result<Plan*> FindOrMakePlan(std::map<Key, std::unique_ptr<Plan>>& plans, const Key& key, Make&& make) {
  auto it = plans.find(key);
  if (it == plans.end()) {
    if (plans.size() >= kMaxPlans) plans.clear();
    std::unique_ptr<Plan> p;
    try {
      GREENAI_ASSIGN_OR_RETURN(p, make());
    } catch (const dnnl::error&) {
      p = std::make_unique<Plan>();
      p->fallback = true;
    }
    it = plans.emplace(key, std::move(p)).first;
  }
  return it->second.get();
}

// Registration of the split files (called by AddOneDnnKernels).
void AddConvKernels(std::vector<KernelDef>& defs);
void AddMatMulKernels(std::vector<KernelDef>& defs);
void AddPoolNormKernels(std::vector<KernelDef>& defs);
void AddInt8Kernels(std::vector<KernelDef>& defs);

}  // namespace greenai::onednn
