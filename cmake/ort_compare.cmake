# greenai vs ONNX Runtime speed comparison: the C++ tool that exports the benchmark models
# and times greenai's Session (bench/ort_compare/compare.py drives it; `make bench` runs it).
add_executable(greenai_ort_bench ${CMAKE_SOURCE_DIR}/bench/ort_compare/greenai_bench.cc)
target_link_libraries(greenai_ort_bench PRIVATE greenai_all nlohmann_json::nlohmann_json)
