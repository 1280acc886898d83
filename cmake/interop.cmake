# Trainer extras and the ONNX Runtime interop check.
#  - greenai_train writes checkpoint metadata with nlohmann-json (header-only).
#  - interop_train_ort: trains a small model with `greenai train`, then checks in ONNX Runtime
#    that the exported model gives greenai's top-1 on >= 99.9 % of the Fashion-MNIST test set.
#    It needs python3 with numpy and onnxruntime; without them the script exits 77 and ctest
#    reports the test as skipped (SKIP_RETURN_CODE), not failed.
if(TARGET greenai_train)
  target_link_libraries(greenai_train PUBLIC nlohmann_json::nlohmann_json)
endif()
find_program(GREENAI_PYTHON3 python3)
if(TARGET greenai AND GREENAI_PYTHON3)
  add_test(NAME interop_train_ort
    COMMAND ${GREENAI_PYTHON3} ${CMAKE_SOURCE_DIR}/tests/interop/train_ort_agreement.py
            --greenai $<TARGET_FILE:greenai> --workdir ${CMAKE_BINARY_DIR}/interop_train)
  set_tests_properties(interop_train_ort PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 900 LABELS "interop")
elseif(TARGET greenai)
  add_test(NAME interop_train_ort COMMAND ${CMAKE_COMMAND} -E echo "python3 not found: skipped")
  set_tests_properties(interop_train_ort PROPERTIES LABELS "interop")
endif()
