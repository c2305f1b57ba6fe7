// program_exit.h: the exit statuses of the suite's measuring programs (greenbench_probe,
// greenbench_echo), which scripts/bench_all reads, and the one place that turns a
// command-line error or what a program's body threw into them.
//
// Invariant: 0 done; 1 the measurement failed; 2 a bad command line; 3 a size this
// machine's limits rule out (bench_all records it as a skip). Every non-zero exit but
// CLI11's own has one line on stderr that starts with the program's name.
#pragma once

#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>
#include <stdexcept>

namespace greenbench {

inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitImpossible = 3;

// A command-line mistake found after parsing: exit 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// A size the limits of this machine rule out, with the limit: exit 3.
struct ImpossibleSize : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Parses the command line into `app`, then returns body()'s status, or the status of
// what it threw.
template <class Body>
int run_program(const char* program, CLI::App& app, int argc, char** argv, Body&& body) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int rc = app.exit(error);  // prints the message (or the help)
    return rc == 0 ? 0 : kExitUsage;
  }
  try {
    return body();
  } catch (const UsageError& error) {
    std::cerr << program << ": " << error.what() << '\n';
    return kExitUsage;
  } catch (const ImpossibleSize& error) {
    std::cerr << program << ": " << error.what() << '\n';
    return kExitImpossible;
  } catch (const std::exception& error) {
    std::cerr << program << ": " << error.what() << '\n';
    return kExitFailed;
  }
}

}  // namespace greenbench
