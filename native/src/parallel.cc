// The kernels' thread pool (see vugrad/parallel.h).
//
// Workers are started on first use and live as long as the process (detached, never joined: the pool is
// shared by every addon instance, including those of worker_threads, and must outlive all of them). After a
// job a worker spins for a short while (kSpin) so that the next kernel call, typically microseconds later,
// finds it awake; then it sleeps on a condition variable until the next job.
#include "vugrad/parallel.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define VG_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define VG_CPU_RELAX() asm volatile("yield")
#else
#define VG_CPU_RELAX() std::this_thread::yield()
#endif

namespace vg {

namespace {

constexpr int kMaxThreads = 64;
// 1 ms covers the gaps between kernel calls within a training step (JS work between ops, well under a
// millisecond) without keeping a core busy for long once training stops. With 50 us, a 256^3 gemm called
// after a short pause (npm run bench:kernels) ran at one-thread speed, 73 GFLOP/s against OpenBLAS's 121
// from C (its threads spin for about 0.1 s); with 2 ms, 129 against 125.
constexpr auto kSpin = std::chrono::microseconds(1000);

// True on a thread while it runs a part of a job: a parallelFor inside a part (a kernel calling another
// kernel) then runs inline, on that thread.
thread_local bool inPart = false;


// Parts are claimed, not assigned: a job's ticket holds its generation (high 32 bits) and the next unclaimed
// part (low 32 bits); the caller and every awake worker claim parts with a compare-and-swap until none are
// left. So the caller never waits for a worker to wake up: a worker still asleep (or descheduled) simply finds
// the job done, and the caller runs its parts. It waits only for parts already running elsewhere.
class Pool {
 public:
  // Runs the job in `parts` parts. The caller holds `busy`.
  void run(size_t n, int parts, RangeFn fn, void* state) {
    while (started_ < parts - 1) {
      started_++;
      std::thread(&Pool::loop, this).detach();
    }
    n_ = n;
    parts_ = static_cast<uint32_t>(parts);
    fn_ = fn;
    state_ = state;
    done_.store(0, std::memory_order_relaxed);
    generation_++;
    ticket_.store(generation_ << 32);  // seq_cst: publishes the job; ordered before the read of sleeping_
    if (sleeping_.load() > 0) {
      std::lock_guard<std::mutex> lock(mutex_);
      wake_.notify_all();
    }
    work(generation_);
    for (unsigned spins = 0; done_.load(std::memory_order_acquire) != parts_; spins++) {
      if (spins < 4096) VG_CPU_RELAX();
      else std::this_thread::yield();  // a worker holding a part was descheduled: let it run
    }
  }

  std::mutex busy;

 private:
  // Claims and runs parts of job `gen` until none are left (or another job is current).
  void work(uint64_t gen) {
    uint64_t t = ticket_.load(std::memory_order_acquire);
    while ((t >> 32) == gen && (t & 0xffffffffu) < parts_) {
      if (!ticket_.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel)) continue;
      // The part is ours, so the job cannot complete (nor its fields change) before we report it done.
      const size_t part = t & 0xffffffffu;
      const size_t b = n_ * part / parts_, e = n_ * (part + 1) / parts_;
      if (b < e) {
        inPart = true;
        fn_(state_, b, e);
        inPart = false;
      }
      done_.fetch_add(1, std::memory_order_release);
      t = ticket_.load(std::memory_order_acquire);
    }
  }

  void loop() {
    uint64_t seen = 0;
    for (;;) {
      seen = waitForJob(seen);
      work(seen);
    }
  }

  // Waits for a job newer than `seen`; returns its generation.
  uint64_t waitForJob(uint64_t seen) {
    const auto deadline = std::chrono::steady_clock::now() + kSpin;
    for (unsigned spins = 0;; spins++) {
      const uint64_t g = ticket_.load(std::memory_order_acquire) >> 32;
      if (g != seen) return g;
      VG_CPU_RELAX();
      if ((spins & 255) == 255 && std::chrono::steady_clock::now() > deadline) break;
    }
    // Sleep. sleeping_ is raised before the ticket is re-checked under the mutex; the poster stores the ticket
    // before reading sleeping_ (both seq_cst), so either we see the new job or it sees us and notifies.
    std::unique_lock<std::mutex> lock(mutex_);
    sleeping_.fetch_add(1);
    wake_.wait(lock, [&] { return (ticket_.load() >> 32) != seen; });
    sleeping_.fetch_sub(1);
    return ticket_.load(std::memory_order_acquire) >> 32;
  }

  int started_ = 0;          // workers started (only the holder of `busy` touches it)
  uint64_t generation_ = 0;  // the current job's (only the holder of `busy` touches it)
  std::atomic<uint64_t> ticket_{0};
  std::atomic<uint32_t> done_{0};
  std::atomic<int> sleeping_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
  // The current job: written by the poster before the ticket is published, read by a worker after it claims a part.
  size_t n_ = 0;
  uint32_t parts_ = 0;
  RangeFn fn_ = nullptr;
  void* state_ = nullptr;
};

// NOTE: deliberately leaked: detached workers reference it until the process ends, so it must never be destroyed.
Pool& pool() {
  static Pool* p = new Pool();
  return *p;
}

std::atomic<int> threads{1};

}  // namespace

void parallelFor(size_t n, size_t grain, RangeFn fn, void* state) {
  if (n == 0) return;
  const size_t maxParts = grain > 0 ? n / grain : n;
  const int parts = static_cast<int>(std::min<size_t>(static_cast<size_t>(threads.load(std::memory_order_relaxed)), maxParts));
  Pool& p = pool();
  if (parts <= 1 || inPart || !p.busy.try_lock()) {
    fn(state, 0, n);
    return;
  }
  std::lock_guard<std::mutex> hold(p.busy, std::adopt_lock);
  p.run(n, parts, fn, state);
}

bool inParallelPart() { return inPart; }

int parallelThreads() { return threads.load(std::memory_order_relaxed); }

void setParallelThreads(int n) { threads.store(std::max(1, std::min(n, kMaxThreads)), std::memory_order_relaxed); }

}  // namespace vg
