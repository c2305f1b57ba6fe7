// build_info.cpp: the build facts CMake passes as compile definitions (see build_info.h).
#include "harness/build_info.h"

#ifndef GREENBENCH_COMPILER
#error \
    "GREENBENCH_COMPILER, GREENBENCH_CXX_FLAGS and GREENBENCH_BUILD_TYPE come from benchmarks/CMakeLists.txt"
#endif

namespace greenbench {

nlohmann::ordered_json build_info() {
  return {
      {"compiler", GREENBENCH_COMPILER},
      {"cxx_flags", GREENBENCH_CXX_FLAGS},
      {"build_type", GREENBENCH_BUILD_TYPE},
  };
}

}  // namespace greenbench
