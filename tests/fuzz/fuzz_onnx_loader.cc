// libFuzzer target: LoadModelFromBytes (and the TensorProto reader) on arbitrary bytes.
// Beyond "no crash, no leak, no timeout" it checks one property: a model that loads must
// serialize and load again (export never produces something import rejects).
// Built only with GREENAI_FUZZ=ON and clang (cmake/fuzz.cmake); the same entry point is
// replayed over the seeds by tests/fuzz/fuzz_replay_test.cc in ordinary builds.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "graph/onnx_io.h"
#include "graph/tensor_proto.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // A base folder that does not exist: external-data references fail cleanly instead of
  // reading whatever files the fuzzer happens to name.
  const std::string base = "/nonexistent-greenai-fuzz";
  auto m = greenai::LoadModelFromBytes(bytes, base);
  if (m.ok()) {
    auto out = greenai::SerializeModel(**m);
    if (!out.ok()) {
      std::fprintf(stderr, "loaded model fails to serialize: %s\n", out.status().ToString().c_str());
      std::abort();
    }
    auto again = greenai::LoadModelFromBytes(*out, base);
    if (!again.ok()) {
      std::fprintf(stderr, "re-serialized model fails to load: %s\n", again.status().ToString().c_str());
      std::abort();
    }
  }
  auto t = greenai::TensorFromProtoBytes(bytes, nullptr, "fuzz", base);
  (void)t;
  return 0;
}
