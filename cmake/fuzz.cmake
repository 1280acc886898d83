# libFuzzer targets (GREENAI_FUZZ=ON, clang only): `make test-fuzz` builds fuzz_onnx_loader and
# runs it over tests/fuzz/seeds. The graph and core layers are instrumented too, so coverage
# guides the fuzzer through the loader, not just the entry point.
if(GREENAI_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(WARNING "GREENAI_FUZZ needs clang (CC=clang CXX=clang++); fuzz targets are not built")
  else()
    set(_fuzz_flags -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
        -fno-omit-frame-pointer)
    foreach(_t greenai_core greenai_graph)
      target_compile_options(${_t} PRIVATE ${_fuzz_flags})
    endforeach()
    add_executable(fuzz_onnx_loader ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_onnx_loader.cc)
    target_compile_options(fuzz_onnx_loader PRIVATE -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer)
    target_link_options(fuzz_onnx_loader PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(fuzz_onnx_loader PRIVATE greenai_graph greenai_core)
  endif()
endif()
