# Quantization interop check (tests/interop/quant_ort_agreement.py): every file written by
# `greenai quantize` loads in ONNX Runtime and agrees with greenai's top-1 on >= 99 % of the
# Fashion-MNIST test set. Needs python3 with numpy and onnxruntime; without them the script
# exits 77 and ctest reports the test as skipped.
find_program(GREENAI_QUANT_PYTHON3 python3)
if(TARGET greenai AND GREENAI_QUANT_PYTHON3)
  add_test(NAME interop_quant_ort
    COMMAND ${GREENAI_QUANT_PYTHON3} ${CMAKE_SOURCE_DIR}/tests/interop/quant_ort_agreement.py
            --greenai $<TARGET_FILE:greenai> --workdir ${CMAKE_BINARY_DIR}/interop_quant)
  # "slow": in the Debug sanitizer build (make test-asan) the fp16 cnn alone runs the
  # 10,000 test images through reference kernels for over 10 minutes; make test runs it.
  set_tests_properties(interop_quant_ort PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 900 LABELS "interop;slow")
endif()
