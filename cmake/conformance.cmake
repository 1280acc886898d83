# Conformance gate and CLI test wiring.
#  - `make test` (ctest) runs the ONNX backend test suite through `greenai conformance` and
#    fails on any regression against tests/conformance_baseline.json (a test that passed there
#    and does not pass now). Labelled "slow" so the ASan run (ctest -LE slow) can skip it.
#  - test_cli spawns the greenai binary, so it depends on it; it also builds hostile ONNX
#    files directly with the ONNX protobuf classes (an oracle independent of our loader).
set(GREENAI_CONFORMANCE_DATA /usr/share/libonnx-testdata/data)
if(TARGET greenai AND EXISTS ${GREENAI_CONFORMANCE_DATA})
  add_test(NAME conformance
    COMMAND greenai conformance ${GREENAI_CONFORMANCE_DATA}
            --check-baseline ${CMAKE_SOURCE_DIR}/tests/conformance_baseline.json)
  set_tests_properties(conformance PROPERTIES LABELS "conformance;slow" TIMEOUT 3600)
elseif(TARGET greenai)
  message(STATUS "conformance gate disabled: ${GREENAI_CONFORMANCE_DATA} not found (install libonnx-testdata)")
endif()

if(TARGET test_cli)
  target_link_libraries(test_cli PRIVATE onnx_proto protobuf::libprotobuf)
  add_dependencies(test_cli greenai)
endif()
