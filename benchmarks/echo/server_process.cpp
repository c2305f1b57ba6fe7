// server_process.cpp: the C++ servers' side of the process contract (see server_process.h).
#include "echo/server_process.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <system_error>
#include <thread>

#include "harness/procfs.h"

namespace greenbench::echo {
namespace {

[[noreturn]] void end_process() {
  std::fflush(stdout);
  std::fflush(stderr);
  ::_exit(0);
}

// Waits for end of stdin or a termination signal, discarding what stdin carries.
void watch(int signals) {
  pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {signals, POLLIN, 0}};
  char discard[512];
  for (;;) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      end_process();
    }
    if (fds[1].revents) end_process();
    if (fds[0].revents & POLLNVAL) end_process();  // no stdin at all
    if (fds[0].revents) {
      const ssize_t got = ::read(STDIN_FILENO, discard, sizeof discard);
      if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) end_process();
    }
  }
}

}  // namespace

std::int64_t raise_nofile_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return -1;
  // Privileged (CAP_SYS_RESOURCE, as under sudo): both limits up to fs.nr_open, the
  // kernel's per-process ceiling. This process's limit only; no sysctl is changed.
  const std::int64_t ceiling = read_count_or_unknown("/proc/sys/fs/nr_open");
  if (ceiling > 0 && limit.rlim_max != RLIM_INFINITY && static_cast<rlim_t>(ceiling) > limit.rlim_max) {
    const rlimit raised{static_cast<rlim_t>(ceiling), static_cast<rlim_t>(ceiling)};
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;  // EPERM: not privileged
  }
  if (limit.rlim_cur != limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur == RLIM_INFINITY ? -1 : static_cast<std::int64_t>(limit.rlim_cur);
}

void start_process_watch() {
  std::fprintf(stderr, "nofile %lld\n", static_cast<long long>(raise_nofile_limit()));
  std::fflush(stderr);
  ::signal(SIGPIPE, SIG_IGN);
  sigset_t terminate;
  sigemptyset(&terminate);
  sigaddset(&terminate, SIGTERM);
  sigaddset(&terminate, SIGINT);
  if (const int rc = ::pthread_sigmask(SIG_BLOCK, &terminate, nullptr); rc != 0) {
    throw std::system_error(rc, std::generic_category(), "pthread_sigmask");
  }
  const int signals = ::signalfd(-1, &terminate, SFD_CLOEXEC);
  if (signals < 0) throw std::system_error(errno, std::generic_category(), "signalfd");
  std::thread(watch, signals).detach();
}

void announce_listening(const Address& address) {
  std::printf("listening %s\n", address_text(address).c_str());
  std::fflush(stdout);
}

void RefusalLog::refused(const std::string& bound) {
  if (bound == last_) return;
  last_ = bound;
  std::fprintf(stderr, "refused: %s\n", bound.c_str());
  std::fflush(stderr);
}

}  // namespace greenbench::echo
