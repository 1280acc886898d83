# Google Benchmark programs under bench/ (optional: built only where libbenchmark-dev exists).
find_package(benchmark QUIET)
if(benchmark_FOUND AND EXISTS ${CMAKE_SOURCE_DIR}/bench/bench_matmul.cc)
  add_executable(bench_matmul ${CMAKE_SOURCE_DIR}/bench/bench_matmul.cc)
  target_link_libraries(bench_matmul PRIVATE greenai_all benchmark::benchmark)
endif()
# Low-precision-weight GEMM/GEMV (int4 weight-only, f16, bf16) against f32: bench/bench_lowp.cc.
if(benchmark_FOUND AND EXISTS ${CMAKE_SOURCE_DIR}/bench/bench_lowp.cc)
  add_executable(bench_lowp ${CMAKE_SOURCE_DIR}/bench/bench_lowp.cc)
  target_link_libraries(bench_lowp PRIVATE greenai_all benchmark::benchmark)
endif()
