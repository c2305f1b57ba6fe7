// server_child.cpp: starting, watching and ending an echo server child (see server_child.h).
#include "echo/server_child.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "harness/cpu_affinity.h"
#include "harness/procfs.h"

namespace greenbench::echo {
namespace {

using Clock = std::chrono::steady_clock;

// How long a server may take to exit once its stdin is closed (10k threads take a while).
constexpr std::chrono::milliseconds kStopGrace{3000};

std::atomic<pid_t> live_server{0};

void on_termination(int signal) {
  if (const pid_t pid = live_server.load(); pid > 0) ::kill(pid, SIGKILL);
  ::_exit(128 + signal);
}

[[noreturn]] void fail(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

// The rest of the first line of `text` that starts with `prefix`, or "".
std::string line_value(const std::string& text, const std::string& prefix) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.compare(0, prefix.size(), prefix) == 0) return line.substr(prefix.size());
  }
  return "";
}

}  // namespace

ServerChild::ServerChild(const std::vector<std::string>& argv, std::chrono::milliseconds start_timeout,
                         const std::vector<int>& cpus) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) fail("pipe2");
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]);
    ::close(in[1]);
    fail("pipe2");
  }
  stdin_ = in[1];
  stdout_ = out[0];
  char path[] = "/tmp/greenbench_echo_server_XXXXXX";
  stderr_ = ::mkostemp(path, O_CLOEXEC);
  if (stderr_ >= 0) ::unlink(path);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const cpu_set_t mask = cpu_mask(cpus);
  const pid_t parent = ::getpid();
  pid_ = stderr_ < 0 ? -1 : ::fork();
  if (pid_ == 0) {
    // The child: only async-signal-safe calls until exec.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(in[0], STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(stderr_, STDERR_FILENO);
    if (!cpus.empty() && ::sched_setaffinity(0, sizeof mask, &mask) != 0) ::_exit(126);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  const int start_error = errno;
  ::close(in[0]);
  ::close(out[1]);
  if (pid_ < 0) {
    ::close(stdin_);
    ::close(stdout_);
    if (stderr_ >= 0) ::close(stderr_);
    throw std::system_error(start_error, std::generic_category(), "starting " + argv[0]);
  }
  live_server.store(pid_);

  std::string line;
  const auto deadline = Clock::now() + start_timeout;
  for (char c = 0; c != '\n';) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd readable{stdout_, POLLIN, 0};
    const int ready = left.count() > 0 ? ::poll(&readable, 1, static_cast<int>(left.count())) : 0;
    if (ready < 0 && errno == EINTR) continue;
    const ssize_t got = ready > 0 ? ::read(stdout_, &c, 1) : 0;
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      abandon(argv[0] + (ready > 0 ? " ended before it said it was listening"
                                   : " did not say it was listening in time"));
    }
    if (c != '\n') line += c;
  }
  const std::string prefix = "listening ";
  const auto address =
      line.compare(0, prefix.size(), prefix) == 0 ? parse_address(line.substr(prefix.size())) : std::nullopt;
  if (!address) abandon(argv[0] + " wrote '" + line + "', not 'listening HOST:PORT'");
  address_ = *address;
}

ServerChild::~ServerChild() {
  ::close(stdin_);  // end of its stdin: the server exits
  const auto deadline = Clock::now() + kStopGrace;
  while (ended().empty() && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill_now();
  ::close(stdout_);
  ::close(stderr_);
}

void ServerChild::kill_now() {
  if (reaped_) return;
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  live_server.store(0);
}

std::string ServerChild::ended() {
  if (!reaped_) {
    if (::waitpid(pid_, &status_, WNOHANG) != pid_) return "";
    reaped_ = true;
    live_server.store(0);
  }
  if (WIFEXITED(status_)) return "exited with status " + std::to_string(WEXITSTATUS(status_));
  return "killed by signal " + std::to_string(WTERMSIG(status_));
}

std::int64_t ServerChild::rss_bytes() const {
  return parse_kb_table(read_file("/proc/" + std::to_string(pid_) + "/smaps_rollup")).at("Rss");
}

std::int64_t ServerChild::vm_rss_bytes() const {
  return parse_kb_table(read_file("/proc/" + std::to_string(pid_) + "/status")).at("VmRSS");
}

KernelMemory ServerChild::kernel_memory() const {
  return parse_kernel_memory(read_file("/proc/" + std::to_string(pid_) + "/status"));
}

double ServerChild::cpu_seconds() const {
  const std::string stat = read_file("/proc/" + std::to_string(pid_) + "/stat");
  // Fields after "(comm)": state is field 3, utime 14 and stime 15, in clock ticks.
  std::istringstream fields(stat.substr(stat.rfind(')') + 1));
  std::string field;
  double ticks = 0;
  for (int number = 3; number <= 15 && fields >> field; ++number) {
    if (number >= 14) ticks += std::stod(field);
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

std::int64_t ServerChild::open_descriptors() const {
  DIR* dir = ::opendir(("/proc/" + std::to_string(pid_) + "/fd").c_str());
  if (!dir) return -1;
  std::int64_t count = 0;
  while (const dirent* entry = ::readdir(dir)) count += entry->d_name[0] != '.';
  ::closedir(dir);
  return count;
}

std::int64_t ServerChild::nofile_limit() const {
  const std::string reported = line_value(stderr_text(), "nofile ");
  if (!reported.empty()) return std::stoll(reported);
  // "Max open files            20000                20000                files"
  std::istringstream limit;
  try {
    limit.str(line_value(read_file("/proc/" + std::to_string(pid_) + "/limits"), "Max open files"));
  } catch (const std::runtime_error&) {
    return -1;  // it has ended
  }
  std::string soft;
  limit >> soft;
  return soft.empty() || soft == "unlimited" ? -1 : std::stoll(soft);
}

std::string ServerChild::refusal() const { return line_value(stderr_text(), "refused: "); }

std::string ServerChild::stderr_text() const {
  struct stat info {};
  if (::fstat(stderr_, &info) != 0) return "";
  std::string text(static_cast<std::size_t>(info.st_size), '\0');
  const ssize_t got = ::pread(stderr_, text.data(), text.size(), 0);
  text.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
  return text;
}

std::string ServerChild::stderr_tail(int lines) const {
  std::vector<std::string> all;
  std::istringstream text(stderr_text());
  for (std::string line; std::getline(text, line);) all.push_back(line);
  std::string tail;
  for (std::size_t i = all.size() > static_cast<std::size_t>(lines) ? all.size() - lines : 0; i < all.size();
       ++i) {
    tail += all[i] + "\n";
  }
  return tail;
}

void ServerChild::abandon(const std::string& why) {
  const std::string message = why + "; its stderr:\n" + stderr_tail();
  kill_now();
  ::close(stdin_);
  ::close(stdout_);
  ::close(stderr_);
  throw std::runtime_error(message);
}

void install_parent_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_termination;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
}

std::string own_executable() {
  char path[PATH_MAX];
  const ssize_t length = ::readlink("/proc/self/exe", path, sizeof path - 1);
  if (length < 0) fail("readlink /proc/self/exe");
  return std::string(path, static_cast<std::size_t>(length));
}

}  // namespace greenbench::echo
