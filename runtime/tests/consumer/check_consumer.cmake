# check_consumer.cmake: builds tests/consumer/ against the runtime as a user would, then
# runs it. cmake -DMODE=package|subdirectory -DBUILD_DIR=<greenbench build>
# -DRUNTIME_DIR=<runtime/> -DWORK_DIR=<scratch> -P check_consumer.cmake
#   package:      cmake --install of the build into WORK_DIR/prefix, find_package(green)
#   subdirectory: add_subdirectory(runtime) with GoogleTest and Google Benchmark made
#                 unfindable, so the runtime must not need them
# Invariant: fails (a FATAL_ERROR) at the first step that fails, naming it.
foreach(var MODE BUILD_DIR RUNTIME_DIR WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_consumer.cmake needs -D${var}=...")
  endif()
endforeach()

function(step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  message(STATUS "${what}: ok")
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
set(consumer_args -DGREEN_CONSUME=${MODE})
if(MODE STREQUAL "package")
  step("install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix)
  list(APPEND consumer_args -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
  if(NOT EXISTS ${WORK_DIR}/prefix/include/green/green.h)
    message(FATAL_ERROR "install put no include/green/green.h under the prefix")
  endif()
else()
  list(APPEND consumer_args -DGREEN_SOURCE_DIR=${RUNTIME_DIR}
       -DCMAKE_DISABLE_FIND_PACKAGE_GTest=ON -DCMAKE_DISABLE_FIND_PACKAGE_benchmark=ON)
endif()
step("configure" ${CMAKE_COMMAND} -S ${RUNTIME_DIR}/tests/consumer -B ${WORK_DIR}/build ${consumer_args})
step("build" ${CMAKE_COMMAND} --build ${WORK_DIR}/build -j 2)
step("run" ${WORK_DIR}/build/consumer)
file(REMOVE_RECURSE ${WORK_DIR})
