// suite_programs.h: the suite's two programs as the tests run them, the way the driver
// does: a fresh child process each time, its exit status, what it wrote to stdout and
// stderr; and the few facts the tests read back from them.
//
// Invariant: the child's output goes to temporary files, never pipes, so a child that
// writes a lot cannot block on a full pipe while the test waits for it; every temporary
// file is removed by its owner's destructor.
#pragma once

#include <string>
#include <vector>

namespace greenbench::testing {

// Where the build put the programs (compile definitions from tests/CMakeLists.txt).
inline const std::string kTimingProgram = GREENBENCH_TIMING;
inline const std::string kProbeProgram = GREENBENCH_PROBE;

struct ProgramResult {
  int exit_code = -1;  // -1: killed by a signal
  std::string out;
  std::string err;
};

// Runs `program` with `args` (argv[1...]) and waits for it.
ProgramResult run_program(const std::string& program, const std::vector<std::string>& args);

// The lines of a program's output.
std::vector<std::string> output_lines(const std::string& text);

// Checks that `program --build-info` prints {compiler, cxx_flags, build_type} as JSON.
void expect_build_info_json(const std::string& program);

// The runtime prefixes the suite measures on this machine (greenbench_probe --list-runtimes).
std::vector<std::string> suite_runtimes();

// A fresh, empty file under /tmp (unique, so parallel tests never share one), removed
// when this goes out of scope.
class TempFile {
 public:
  TempFile();
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile();

  const std::string& path() const { return path_; }
  std::string text() const;

 private:
  std::string path_;
};

}  // namespace greenbench::testing
