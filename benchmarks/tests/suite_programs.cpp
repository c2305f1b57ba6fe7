// suite_programs.cpp: run_program over posix_spawn, TempFile and the output readers
// (see suite_programs.h).
#include "suite_programs.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>

extern char** environ;

namespace greenbench::testing {

TempFile::TempFile() {
  std::string pattern = "/tmp/greenbench_test_XXXXXX";
  const int fd = ::mkstemp(pattern.data());
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "mkstemp");
  ::close(fd);
  path_ = pattern;
}

TempFile::~TempFile() { ::unlink(path_.c_str()); }

std::string TempFile::text() const {
  std::ifstream file(path_);
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

ProgramResult run_program(const std::string& program, const std::vector<std::string>& args) {
  TempFile out, err;
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.path().c_str(), O_WRONLY | O_TRUNC, 0);
  ::posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.path().c_str(), O_WRONLY | O_TRUNC, 0);
  std::vector<char*> argv{const_cast<char*>(program.c_str())};
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  pid_t child = 0;
  const int rc = ::posix_spawn(&child, program.c_str(), &actions, nullptr, argv.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::system_error(rc, std::generic_category(), "posix_spawn " + program);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "waitpid");
  }
  ProgramResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = out.text();
  result.err = err.text();
  return result;
}

std::vector<std::string> output_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> suite_runtimes() {
  const ProgramResult r = run_program(kProbeProgram, {"--list-runtimes"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> prefixes = output_lines(r.out);
  EXPECT_GE(prefixes.size(), 6u);
  return prefixes;
}

void expect_build_info_json(const std::string& program) {
  const ProgramResult r = run_program(program, {"--build-info"});
  ASSERT_EQ(r.exit_code, 0);
  const nlohmann::json info = nlohmann::json::parse(r.out);
  for (const char* key : {"compiler", "cxx_flags", "build_type"})
    EXPECT_TRUE(info.at(key).is_string()) << key;
}

}  // namespace greenbench::testing
