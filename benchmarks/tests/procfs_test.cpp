// procfs_test.cpp: the /proc parsers on fixed text, and the readers on this process:
// figures come out in bytes and counts, never kB or pages; a thread's run-queue wait is a
// running total, and unknown (-1) once the thread has ended.
#include "harness/procfs.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "harness/system_limits.h"

namespace greenbench {
namespace {

TEST(Procfs, KbTableIsInBytesAndSkipsOtherLines) {
  const auto table = parse_kb_table(
      "55d0c0a00000-7ffd5a1ff000 ---p 00000000 00:00 0                          [rollup]\n"
      "Rss:                1620 kB\n"
      "Pss:                 215 kB\n"
      "HugePages_Total:       0\n"
      "garbage line\n");
  EXPECT_EQ(table.at("Rss"), 1620 * 1024);
  EXPECT_EQ(table.at("Pss"), 215 * 1024);
  EXPECT_EQ(table.at("HugePages_Total"), 0);
  EXPECT_EQ(table.size(), 3u);
}

TEST(Procfs, KernelMemoryIsPageTablesAndAKernelStackPerThread) {
  const KernelMemory kernel =
      parse_kernel_memory("Name:\tprobe\nVmRSS:\t    1620 kB\nVmPTE:\t      48 kB\nThreads:\t3\n");
  EXPECT_EQ(kernel.page_table_bytes, 48 * 1024);
  EXPECT_EQ(kernel.threads, 3);
  EXPECT_EQ(kernel.kernel_stack_bytes, 3 * kKernelStackBytes);
  EXPECT_EQ(kernel.bytes(), 48 * 1024 + 3 * kKernelStackBytes);
  EXPECT_THROW(parse_kernel_memory("VmPTE:\t48 kB\n"), std::runtime_error);
}

TEST(Procfs, KernelMemoryCountsThisProcesssThreads) {
  const KernelMemory before = process_kernel_memory();
  std::atomic<bool> release{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      while (!release.load()) std::this_thread::yield();
    });
  const KernelMemory during = process_kernel_memory();
  release = true;
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(during.threads - before.threads, 4);
  EXPECT_EQ(during.kernel_stack_bytes - before.kernel_stack_bytes, 4 * kKernelStackBytes);
}

TEST(Procfs, ReadingsOfThisProcessAreSane) {
  const MemoryReading before = read_memory();
  EXPECT_GT(before.rss_bytes, 0);
  EXPECT_GE(before.vsz_bytes, before.rss_bytes);
  EXPECT_GT(before.kernel.page_table_bytes, 0);
  EXPECT_GE(before.kernel.threads, 1);
  std::vector<char> touched(64 << 20, 1);  // 64 MiB, written: resident
  const MemoryReading after = read_memory();
  EXPECT_GE(after.rss_bytes - before.rss_bytes, 60 << 20);
  EXPECT_GT(map_count(), 0);
  EXPECT_GT(system_thread_count(), 0);
  EXPECT_EQ(touched[12345], 1);
}

TEST(Procfs, RunQueueWaitOfALiveThreadOnly) {
  const std::int64_t own = run_queue_wait_ns(::gettid());
  if (own < 0) GTEST_SKIP() << "this kernel keeps no /proc/self/task/TID/schedstat";
  EXPECT_GE(run_queue_wait_ns(::gettid()), own);  // a running total
  long ended = 0;
  std::thread([&] { ended = ::gettid(); }).join();
  EXPECT_EQ(run_queue_wait_ns(ended), -1);
}

TEST(SystemLimits, ThreadHeadroomNamesALimit) {
  const SystemLimits limits = read_system_limits();
  EXPECT_GT(limits.pid_max, 0);
  EXPECT_GT(limits.max_map_count, 0);
  const Headroom headroom = thread_headroom();
  ASSERT_TRUE(headroom.tasks.has_value());
  EXPECT_GT(*headroom.tasks, 0);
  EXPECT_FALSE(headroom.bound.empty());
  EXPECT_EQ(spawn_failure_bound(TaskKind::user_space, ENOMEM), "errno:ENOMEM");
}

}  // namespace
}  // namespace greenbench
