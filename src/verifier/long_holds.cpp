// The long-hold sentinel and the heartbeat it sends to threads in a long hold (long_holds.h).
#include "verifier/long_holds.h"

#include <cerrno>
#include <ctime>
#include <mutex>
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "model/preemption.h"
#include "model/thread_state.h"
#include "platform/clock.h"
#include "platform/diagnostics.h"
#include "lock/park.h"
#include "platform/membarrier.h"
#include "verifier/held_locks.h"
#include "verifier/settings.h"

namespace ndislock::verifier {

// The heartbeat counts real running time, on the OS's clock even on an exploration's threads
// (whose monotonic_ns is the schedule's virtual clock, read only by the thread holding the
// baton: a beat's handler runs on a parked one too).
static std::uint64_t real_ns() noexcept { return platform::monotonic_raw_ns(); }

std::atomic<std::uint32_t> g_sentinel_napping{0};

namespace {

pid_t g_pid = 0;

// The sentinel needs to look about once per budget, and no more often than kSentinelPeriodNs: with
// budgets raised (sanitized test runs raise them 40x), it wakes that much less.
std::uint64_t look_interval_ns() noexcept {
    const std::uint64_t hold = g_settings.hold_budget_ns.load(std::memory_order_relaxed);
    const std::uint64_t isr = g_settings.isr_budget_ns.load(std::memory_order_relaxed);
    const std::uint64_t budget = hold < isr ? hold : isr;
    return budget < kSentinelPeriodNs      ? kSentinelPeriodNs
           : budget > kMaxSentinelPeriodNs ? kMaxSentinelPeriodNs
                                           : budget;
}

// ---- the thread's side: the heartbeat handler (async-signal-safe: clock reads and plain stores)

// What one beat (or the release) knows of the stretch it ends: when the sentinel sent the beat,
// whether its pass was on time (within kLateAfterIntervals look intervals of the last), and when the stretch began (the
// last beat, or the sentinel's reading for the first stretch).
struct StretchEnd {
    std::uint64_t sent_ns;
    bool on_time;
    std::uint64_t cap_ns = ~std::uint64_t{0}; // the clock's (BeatClock::cap_ns)
};

// The CPU time the thread ran in one stretch between beats (or from the last beat to the release
// or return) that counts as the driver's, less the verifier's own time in it. Nothing counts if
// the thread took an emulated interrupt in it (that time is the ISR's), blocked (a thread that
// sleeps holding a spin lock runs only to take each beat: the kernel's work for it is no driver
// code), the beat came in the middle of a verifier hook, or the sentinel's pass that sent the beat
// was late.
//
// A stretch counts at most the time from its start to the beat's sending plus kPromptNs: what it
// could have run had the beat arrived at once. A beat that arrives later waited for the thread
// to get its CPU back: the OS descheduled it (its CPU clock stood still meanwhile, and it counts
// only if the thread was switched out involuntarily in the stretch) or the host took the virtual
// CPU away (that time does pass on the thread's CPU clock: the bound is what keeps it out). So
// stolen time only enters a count in pieces no longer than the sentinel's gap between looks plus
// kPromptNs, and a correct hold never gathers kFarOverFactor budgets of them.
std::uint64_t stretch_ns(const BeatSample &now, const BeatClock &c, const StretchEnd &end) noexcept {
    if (!end.on_time || now.stops != c.last_stops || now.blocked != c.last_blocked || now.in_verifier != 0 ||
        now.cpu < c.last_cpu_ns || end.sent_ns < c.last_wall_ns)
        return 0;
    const bool prompt = now.wall <= end.sent_ns + kPromptNs;
    if (!prompt && now.preempted == c.last_preempted) return 0; // late with no descheduling: stolen
    const std::uint64_t verifier = now.verifier_ns - c.last_verifier_ns + now.read_ns + c.last_read_ns;
    const std::uint64_t ran = now.cpu - c.last_cpu_ns;
    if (ran <= verifier) return 0;
    std::uint64_t bound = end.sent_ns - c.last_wall_ns + kPromptNs;
    if (bound > end.cap_ns) bound = end.cap_ns;
    return ran - verifier < bound ? ran - verifier : bound;
}

// The thread's CPU clock, and the wall time its read took (BeatSample::read_ns). started, when
// given, receives the wall time just before the read.
struct TimedCpuRead {
    std::uint64_t cpu_ns, read_ns;
};
TimedCpuRead timed_cpu_read(std::uint64_t *started = nullptr) noexcept {
    const std::uint64_t before = real_ns();
    const std::uint64_t cpu = platform::thread_cpu_ns();
    const std::uint64_t after = real_ns();
    if (started != nullptr) *started = before;
    return {cpu, after - before};
}

// One beat for one clock: the first one of a hold (run) counts the stretch since the sentinel read
// the thread's CPU clock; later ones the stretch since the last beat.
void beat(BeatClock &c, const BeatSample &now, const TimedCpuRead &after, StretchEnd end) noexcept {
    const std::uint64_t want = c.want.load(std::memory_order_acquire);
    if (want == kNoSeq) return;
    end.cap_ns = c.cap_ns.load(std::memory_order_relaxed);
    c.version.store(c.version.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    std::atomic_signal_fence(std::memory_order_seq_cst);
    if (c.counting != want) { // the first beat of this hold: the stretch since the sentinel's reading
        c.counting = want;
        BeatClock since{};
        since.last_cpu_ns = c.cpu_at_want.load(std::memory_order_relaxed);
        since.last_wall_ns = c.wall_at_want.load(std::memory_order_relaxed);
        since.last_stops = c.stops_at_want.load(std::memory_order_relaxed);
        since.last_verifier_ns = c.verifier_ns_at_want.load(std::memory_order_relaxed);
        // Unknown to the sentinel: blocking (it beats running threads only) and preemption (a
        // late first beat counts nothing).
        since.last_blocked = now.blocked;
        since.last_preempted = now.preempted;
        // A verifier hook under way when the sentinel read the clock adds the whole of its time to
        // verifier_ns as it ends (checks_internal.h, SlowWork): subtracted here, the part before the
        // reading too, so the stretch counts less than the driver ran, never more.
        c.counted_ns = stretch_ns(now, since, end);
    } else {
        c.counted_ns += stretch_ns(now, c, end);
    }
    c.last_wall_ns = now.wall;
    c.last_cpu_ns = after.cpu_ns;   // the handler's own time is not the driver's...
    c.last_read_ns = after.read_ns; // ...nor the kernel's for the read that ends it
    c.last_verifier_ns = now.verifier_ns;
    c.last_stops = now.stops;
    c.last_blocked = now.blocked;
    c.last_preempted = now.preempted;
    std::atomic_signal_fence(std::memory_order_seq_cst);
    c.version.store(c.version.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

// Whether the beat interrupted the handler of an interrupt signal (which blocks its own signal
// while it runs): the kernel delivered that signal in the stretch, and the handler is ndislock's.
bool in_interrupt_handler(const void *context) noexcept {
    const auto *uc = static_cast<const ucontext_t *>(context);
    return uc != nullptr && sigismember(&uc->uc_sigmask, model::preempt_signal()) == 1;
}

void on_beat(int, siginfo_t *, void *context) {
    model::ThreadState *t = model::tls_thread;
    if (t == nullptr) return;
    VerifierThread *v = verifier_table_of(*t);
    if (v == nullptr) return;
    const int saved = errno;
    BeatSample now;
    const TimedCpuRead at_beat = timed_cpu_read(&now.wall);
    now.cpu = at_beat.cpu_ns;
    now.read_ns = at_beat.read_ns;
    now.stops = model::interrupt_marks(*t);
    // Inside ndislock's own bookkeeping (model::NoPreempt: a release's hooks, the DPC queues, a
    // report) counts as inside the verifier: the heartbeat times driver code only, and a hook
    // the sentinel began counting in the middle of (VerifierThread::in_verifier was 0 at its
    // entry) is still no driver code.
    now.in_verifier = v->in_verifier.load(std::memory_order_relaxed) +
                      t->preemption.no_preempt.load(std::memory_order_relaxed) +
                      (in_interrupt_handler(context) ? 1u : 0u);
    now.verifier_ns = v->verifier_ns.load(std::memory_order_relaxed);
    platform::thread_switches(&now.blocked, &now.preempted);
    const TimedCpuRead after = timed_cpu_read();
    const StretchEnd end{v->beat_sent_ns.load(std::memory_order_relaxed),
                         v->beat_on_time.load(std::memory_order_relaxed)};
    beat(v->hold_beat, now, after, end);
    beat(v->run_beat, now, after, end);
    // One beat in flight at a time: real-time signals queue, and beats that piled up while the
    // thread was off its CPU would arrive back to back, each stretch the previous handler's time.
    v->beats_seen.store(v->beats_sent.load(std::memory_order_relaxed), std::memory_order_relaxed);
    errno = saved;
}

// ---- the sentinel's side

// One look at a thread's outermost hold (or run): seen since kBeatAfterBudgets budgets ago (and
// at least at the last look) means it may be far over budget. The first time, read the thread's
// CPU clock and ask it to count the hold from there; each time, send it a beat. Shorter ones are
// left to the sampled timing, which a beat would disturb.
void look(const std::atomic<std::uint64_t> &outer, SentinelSight &saw, BeatClock &clock, std::uint64_t budget_ns,
          std::uint64_t now_ns, const model::ThreadState &t, VerifierThread &v, bool *beat_it, bool *busy) {
    const std::uint64_t seq = outer.load(std::memory_order_acquire);
    if (seq == kNoSeq) {
        saw.seq = kNoSeq;
        return;
    }
    *busy = true;
    const int tid = t.os_tid.load(std::memory_order_relaxed);
    if (seq != saw.seq) { // first sight
        saw.seq = seq;
        saw.at_ns = now_ns;
        // The baselines first, then the clock: an interrupt or verifier work that begins between
        // them only makes the first stretch uncounted. (A system call per hold first seen, on
        // this thread: the holder pays nothing unless the hold lasts to the next look.)
        saw.first_stops = model::interrupt_marks(t);
        saw.first_verifier_ns = v.verifier_ns.load(std::memory_order_relaxed);
        saw.first_wall_ns = real_ns();
        saw.first_cpu_ns = tid > 0 ? platform::thread_cpu_ns_of(tid) : 0;
        return;
    }
    if (tid <= 0 || now_ns - saw.at_ns < kBeatAfterBudgets * budget_ns) return;
    const std::uint64_t cpu = platform::thread_cpu_ns_of(tid);
    if (cpu == 0) return; // the thread has just ended
    if (clock.want.load(std::memory_order_relaxed) != seq) {
        // Counted from the first sight, when the baselines were read.
        if (saw.first_cpu_ns == 0) return;
        clock.stops_at_want.store(saw.first_stops, std::memory_order_relaxed);
        clock.verifier_ns_at_want.store(saw.first_verifier_ns, std::memory_order_relaxed);
        clock.wall_at_want.store(saw.first_wall_ns, std::memory_order_relaxed);
        clock.cap_ns.store(stretch_cap_ns(budget_ns), std::memory_order_relaxed);
        clock.cpu_at_want.store(saw.first_cpu_ns, std::memory_order_relaxed);
        clock.want.store(seq, std::memory_order_release);
        v.beat_counted.store(true, std::memory_order_relaxed);
        // A beat now already counts the stretch since the first sight, if the thread ran it.
        const bool running = 2 * (cpu - saw.first_cpu_ns) >= now_ns - saw.at_ns;
        saw.cpu_ns = cpu;
        saw.looked_ns = now_ns;
        if (running) *beat_it = true;
        return;
    }
    // Beat a thread that is running the hold, not one asleep or waiting in it.
    const bool running = 2 * (cpu - saw.cpu_ns) >= now_ns - saw.looked_ns;
    saw.cpu_ns = cpu;
    saw.looked_ns = now_ns;
    if (running) *beat_it = true;
}

// The budget of the routine a thread runs first now (its DPC's or its ISR's).
std::uint64_t run_budget_ns(const VerifierThread &v) noexcept {
    const auto kind = static_cast<observe::Callback>(v.callback[0].kind.load(std::memory_order_relaxed));
    return kind == observe::Callback::InterruptDpc || kind == observe::Callback::KernelDpc
               ? g_settings.dpc_budget_ns.load(std::memory_order_relaxed)
               : g_settings.isr_budget_ns.load(std::memory_order_relaxed);
}

// One pass of looks over every thread.
struct Pass {
    bool busy = false;    // some thread holds a lock or runs a routine
    bool on_time = false; // within kLateAfterIntervals look intervals of the last pass
};

void look_at_thread(model::ThreadState &t, void *pass_arg) {
    auto *pass = static_cast<Pass *>(pass_arg);
    VerifierThread *v = verifier_thread_of(t);
    if (v == nullptr) return;
    const int tid = t.os_tid.load(std::memory_order_relaxed);
    const std::uint64_t now = real_ns();
    bool beat_it = false;
    look(v->outer_hold, v->sentinel_saw_hold, v->hold_beat, g_settings.hold_budget_ns.load(std::memory_order_relaxed),
         now, t, *v, &beat_it, &pass->busy);
    look(v->outer_run, v->sentinel_saw_run, v->run_beat, run_budget_ns(*v), now, t, *v, &beat_it, &pass->busy);
    // One beat in flight at a time (on_beat); a thread that just ended gives ESRCH.
    if (beat_it && v->beats_seen.load(std::memory_order_relaxed) == v->beats_sent.load(std::memory_order_relaxed)) {
        const std::uint32_t sent = v->beats_sent.load(std::memory_order_relaxed) + 1;
        v->beats_sent.store(sent, std::memory_order_relaxed);
        v->beat_on_time.store(pass->on_time, std::memory_order_relaxed);
        v->beat_sent_ns.store(real_ns(), std::memory_order_relaxed);
        if (syscall(SYS_tgkill, g_pid, tid, beat_signal()) != 0) v->beats_seen.store(sent, std::memory_order_relaxed);
    }
}

std::atomic<std::uint64_t> g_looks{0};
std::atomic<bool> g_sentinel_running{false}; // set once the sentinel looks
std::uint64_t g_last_pass_ns = 0;            // the sentinel's own

bool look_at_every_thread() {
    g_looks.fetch_add(1, std::memory_order_relaxed);
    const std::uint64_t now = real_ns();
    Pass pass;
    pass.on_time = now - g_last_pass_ns <= kLateAfterIntervals * look_interval_ns();
    g_last_pass_ns = now;
    if (g_settings.mode.load(std::memory_order_relaxed) != NDISLOCK_VERIFIER_OFF)
        model::for_each_thread(look_at_thread, &pass);
    return pass.busy;
}

void sleep_ns(std::uint64_t ns) {
    timespec ts{static_cast<time_t>(ns / 1'000'000'000u), static_cast<long>(ns % 1'000'000'000u)};
    while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) != 0) {
    }
}

void *sentinel_main(void *) {
    // Emulated interrupts and beats are signals to driver threads, never to this one.
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
    // The default 50 us timer slack would double the period.
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    // Its looks must not wait behind the driver's busy threads (a look that comes late loses the
    // start of a hold, and its beats come late): the most favourable nice value the process may
    // set (root or CAP_SYS_NICE: -20). Not a real-time class: a real-time thread wakes on its own
    // processor and preempts the holder there at every look, which would move the scheduler
    // witness of most short holds and so blind the sampled timing; a normal one takes an idle
    // processor when there is one.
    for (int nice = -20; nice < 0 && setpriority(PRIO_PROCESS, 0, nice) != 0; nice += 5) {
    }
    g_sentinel_running.store(true, std::memory_order_release);
    unsigned quiet = 0;
    for (;;) {
        if (look_at_every_thread()) {
            quiet = 0;
            sleep_ns(look_interval_ns());
            continue;
        } else if (++quiet >= kQuietTicksBeforeNap) {
            g_sentinel_napping.store(1, std::memory_order_relaxed);
            // The flag, then a look; a thread stores its first lock, then reads the flag
            // (checks_acquire.cpp, push_held). With a full barrier on every thread between (the cheap
            // side's is a compiler barrier: platform/membarrier.h), either this look sees the
            // lock or that thread sees the flag and wakes the sentinel.
            platform::heavy_fence();
            if (!look_at_every_thread()) lock::park(&g_sentinel_napping, 1, kSentinelNapNs);
            g_sentinel_napping.store(0, std::memory_order_relaxed);
            // Nothing was held through the nap: the next pass is on time.
            g_last_pass_ns = real_ns();
            quiet = 0;
            continue;
        }
        // Nothing held at this look: the next comes kIdleIntervals intervals later. A hold that
        // begins meanwhile is first seen within that, then followed every interval; threads that
        // hold locks for nanoseconds half the time cost the sentinel half the wake-ups.
        sleep_ns(kIdleIntervals * look_interval_ns());
    }
    return nullptr;
}

} // namespace

void start_sentinel() noexcept {
    static std::once_flag once;
    std::call_once(once, [] {
        g_pid = getpid();
        struct sigaction action {};
        action.sa_sigaction = on_beat;
        action.sa_flags = SA_SIGINFO | SA_RESTART;
        sigemptyset(&action.sa_mask);
        if (sigaction(beat_signal(), &action, nullptr) != 0) {
            platform::diagnostic("verifier: cannot install the heartbeat handler (signal %d); long holds are found "
                                 "by sampling only",
                                 beat_signal());
            return;
        }
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 64 * 1024);
        pthread_t thread;
        if (pthread_create(&thread, &attr, sentinel_main, nullptr) != 0)
            platform::diagnostic(
                "verifier: cannot start the long-hold sentinel; long holds are found by sampling only");
        else
            pthread_setname_np(thread, "ndislock-sentry");
        pthread_attr_destroy(&attr);
        // Wait (at most 50 ms) until it looks, so that a hold begun right after the verifier is
        // switched on (a program's first lock) is watched as any later one is, not begun before
        // the sentinel runs (a thread's creation takes 100 us or more in a virtual machine).
        for (const std::uint64_t until = real_ns() + 50'000'000;
             !g_sentinel_running.load(std::memory_order_acquire) && real_ns() < until;)
            sched_yield();
    });
}

std::uint64_t sentinel_looks() noexcept { return g_looks.load(std::memory_order_relaxed); }

void wake_sentinel() noexcept {
    if (g_sentinel_napping.exchange(0, std::memory_order_relaxed) != 0) lock::unpark_one(&g_sentinel_napping);
}

std::uint64_t counted_own_ns(BeatClock &c, std::uint64_t seq, std::uint32_t stops, std::uint64_t verifier_ns) noexcept {
    // A snapshot that no beat interrupted (the handler runs on this very thread).
    // The clocks first, then a copy of the count that no beat interrupted (the handler runs on
    // this very thread; a beat after the clock reads only makes the last stretch look short).
    BeatSample now;
    const TimedCpuRead at_release = timed_cpu_read(&now.wall);
    now.cpu = at_release.cpu_ns;
    now.read_ns = at_release.read_ns;
    now.stops = stops;
    now.verifier_ns = verifier_ns; // in_verifier stays 0: this hook's own time so far is small
    platform::thread_switches(&now.blocked, &now.preempted);
    BeatClock copy;
    std::uint32_t before;
    do {
        before = c.version.load(std::memory_order_relaxed);
        std::atomic_signal_fence(std::memory_order_seq_cst);
        copy.counting = c.counting;
        copy.counted_ns = c.counted_ns;
        copy.last_wall_ns = c.last_wall_ns;
        copy.last_cpu_ns = c.last_cpu_ns;
        copy.last_verifier_ns = c.last_verifier_ns;
        copy.last_stops = c.last_stops;
        copy.last_read_ns = c.last_read_ns;
        copy.last_blocked = c.last_blocked;
        copy.last_preempted = c.last_preempted;
        std::atomic_signal_fence(std::memory_order_seq_cst);
    } while ((before & 1u) != 0 || before != c.version.load(std::memory_order_relaxed));
    if (copy.counting != seq) return 0;
    if (now.wall < copy.last_wall_ns || now.cpu < copy.last_cpu_ns) return copy.counted_ns; // a beat came in between
    // The last stretch ends with no beat: as if the sentinel, on time, had sent one now.
    return copy.counted_ns +
           stretch_ns(now, copy,
                      StretchEnd{now.wall, now.wall - copy.last_wall_ns <= kLateAfterIntervals * look_interval_ns(),
                                 c.cap_ns.load(std::memory_order_relaxed)});
}

} // namespace ndislock::verifier
