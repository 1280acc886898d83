# Compression passes use the analyze cost model (FLOP targets and budgets).
if(TARGET greenai_compress AND TARGET greenai_analyze)
  get_target_property(_ctype greenai_compress TYPE)
  if(_ctype STREQUAL "STATIC_LIBRARY")
    target_link_libraries(greenai_compress PUBLIC greenai_analyze)
  endif()
endif()
# Sparse vs dense Gemm timing (bench/prune).
find_package(benchmark QUIET)
if(benchmark_FOUND AND EXISTS ${CMAKE_SOURCE_DIR}/bench/prune/bench_sparse.cc)
  add_executable(bench_sparse ${CMAKE_SOURCE_DIR}/bench/prune/bench_sparse.cc)
  target_link_libraries(bench_sparse PRIVATE greenai_all benchmark::benchmark)
endif()
