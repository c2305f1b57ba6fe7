// build_info.h: how this binary was built, as CMake compiled it in (GREENBENCH_COMPILER,
// GREENBENCH_CXX_FLAGS, GREENBENCH_BUILD_TYPE on build_info.cpp only, so a change of
// flags rebuilds one file). Both binaries print it for --build-info; the probe also
// records it in its results' context.
#pragma once

#include <nlohmann/json.hpp>

namespace greenbench {

// {"compiler": "GNU 12.2.0", "cxx_flags": "-O3 -DNDEBUG -Wall -Wextra", "build_type": "Release"}
nlohmann::ordered_json build_info();

}  // namespace greenbench
