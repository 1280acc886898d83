# Train layer extras: zlib for gzipped IDX data sets (Fashion-MNIST ships .gz files).
if(TARGET greenai_train)
  get_target_property(_gtrain_type greenai_train TYPE)
  if(_gtrain_type STREQUAL "STATIC_LIBRARY")
    target_link_libraries(greenai_train PUBLIC ZLIB::ZLIB)
  endif()
endif()
