#include "explore/scheduler.h"

#include <algorithm>
#include <atomic>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>

#include "explore/race.h"
#include "explore/deliveries.h"
#include "explore/token.h"
#include "explore/virtual_time.h"
#include "interrupt/scheduled_delivery.h"
#include "lock/park.h"
#include "lock/wait_observer.h"
#include "model/processors.h"
#include "model/thread_state.h"
#include "observe/hooks.h"
#include "observe/watchdog.h"
#include "platform/clock.h"
#include "platform/affinity.h"
#include "platform/diagnostics.h"
#include "platform/fiber.h"
#include "platform/own_time.h"
#include "platform/context_local.h"

// The handle NdislockExploreSpawn takes: one per exploration, valid while a schedule is set up or
// runs.
struct NDISLOCK_EXPLORE_RUN {
    int unused;
};

namespace ndislock::explore {

namespace {

enum class State : std::uint8_t { Unused, Runnable, Blocked, Done };

struct Context {
    unsigned index = 0;
    std::atomic<std::uint32_t> baton{0}; // 1: run (the holder of the baton stores it, this one takes it)
    State state = State::Unused;
    const void *blocked_on = nullptr; // while Blocked: the address parked on
    NDISLOCK_EXPLORE_ROUTINE *routine = nullptr;
    void *argument = nullptr;
    bool abort = false; // go back to the worker loop when given the baton
    // A finding of an observer (the verifier) failed the schedule inside one of its hooks: the
    // context goes back to its worker loop at its next point, wait or return, once the hook and
    // the call around it have finished (a longjmp out of them would skip their destructors).
    bool fail_pending = false;
    std::jmp_buf abort_point;
    std::thread worker;             // OS-thread mode: the thread it runs on
    platform::Fiber fiber;          // fiber mode: its stack
    platform::ContextLocals locals; // fiber mode: its ndislock thread state while it does not run
    model::ThreadState *thread = nullptr;
    std::uint32_t processor = 0; // the virtual processor its routine runs on
    std::uint64_t deadline = 0;  // while Blocked with a timeout: when it expires (virtual time), else 0
    bool timed_out = false;      // made runnable by its deadline, not by an unpark
    // Made runnable in its park by an interrupt it can take (its processor spins or idles in the
    // wait below the DIRQL): the interrupt comes in there when the strategy runs it.
    bool deliver = false;
    // Its last labelled point, for the watchdog's probe (read on the watchdog's thread).
    std::atomic<const char *> last_call{nullptr}, last_file{nullptr};
    std::atomic<int> last_line{0};
};

struct Exploration {
    Context contexts[kMaxContexts];
    bool fibers = false;  // the contexts are fibers on the exploring thread (else OS threads)
    int cpu = -1;         // OS-thread mode: the one host CPU the exploring thread and every worker run on (-1: any)
    unsigned workers = 0; // contexts with a worker thread or fiber
    unsigned spawned = 0; // contexts in this schedule
    Strategy strategy;
    std::uint64_t steps = 0;
    std::uint32_t max_steps = 0;
    bool aborting = false;
    bool quit = false;
    Finding finding;
    std::atomic<std::uint32_t> controller_baton{0};
    platform::Fiber main_fiber;          // fiber mode: the exploring thread's own stack
    platform::ContextLocals main_locals; // and its thread state while a context runs
    std::atomic<bool> setting_up{false}; // Setup runs: spawns allowed from the exploring thread
    std::atomic<bool> running{false};    // contexts run: ndislock calls from other threads refused
    NDISLOCK_EXPLORE_RUN handle{};
    // For the watchdog's probe (progress_probe): the context that runs (-1: none); the schedule's
    // key (under g_probe_mutex); the next look of the virtual-time watchdog (check_watchdog), in
    // virtual ns.
    std::atomic<int> on_cpu{-1};
    ScheduleKey key;
    std::uint64_t watchdog_look_ns = 0;
};

// Set while an exploration runs (under g_one_at_a_time). Atomic: the observer's refusal reads it
// on any thread.
std::atomic<Exploration *> g_exploration{nullptr};
Exploration &exploration() noexcept { return *g_exploration.load(std::memory_order_acquire); }
std::mutex g_one_at_a_time;
// The end of an exploration (g_exploration's reset) and each schedule's key, against the
// watchdog's probe, which reads them on its own thread.
std::mutex g_probe_mutex;
// Bumped at each step and each schedule's start, by the baton's holder; read by the probe. One
// count for the process's life, never reset: a new exploration (a replay of the same schedule)
// goes through the same step numbers, which the probe would take for no progress.
std::atomic<std::uint64_t> g_progress{0};

thread_local Context *tls_context = nullptr; // the context this worker runs, while it runs one
NDISLOCK_CONTEXT_LOCAL(tls_context);         // follows the context (platform/context_local.h)
thread_local bool tls_worker = false;        // a worker thread of the exploration
NDISLOCK_CONTEXT_LOCAL(tls_worker);          // follows the context (platform/context_local.h)
thread_local bool tls_exploring = false;     // the thread that called NdislockExplore
NDISLOCK_CONTEXT_LOCAL(tls_exploring);       // follows the context (platform/context_local.h)

// ---- Batons -------------------------------------------------------------------------------

// The scheduler's own waits: uncontrolled parks (no scheduling of the scheduler).
void wait_baton(std::atomic<std::uint32_t> &baton) noexcept {
    const bool controlled = lock::tls_controlled;
    lock::tls_controlled = false;
    while (baton.exchange(0, std::memory_order_acquire) == 0)
        lock::park(&baton, 0, lock::kParkBoundNs);
    lock::tls_controlled = controlled;
}

// From the store on, the receiver runs and owns the schedule: the unpark must not touch it (the
// park control's unpark hook reads it on a context's thread only), hence no context meanwhile.
void give_baton(std::atomic<std::uint32_t> &baton) noexcept {
    Context *const self = tls_context;
    tls_context = nullptr;
    baton.store(1, std::memory_order_release);
    lock::unpark_one(&baton);
    tls_context = self;
}

// Hands the run from self to next (nullptr: the exploring thread, for either) and returns when
// self has it again. Fibers: the registered thread state (platform/context_local.h) and the stack
// are switched, in user mode. OS threads: the baton is passed.
void pass(Exploration &x, Context *self, Context *next) noexcept {
    if (self == next) return; // a returned context's slot given to the next routine (spawn_on)
    x.on_cpu.store(next != nullptr ? static_cast<int>(next->index) : -1, std::memory_order_relaxed);
    if (x.fibers) {
        platform::ContextLocals::switch_locals(self != nullptr ? self->locals : x.main_locals,
                                               next != nullptr ? next->locals : x.main_locals);
        platform::Fiber::switch_to(self != nullptr ? self->fiber : x.main_fiber,
                                   next != nullptr ? next->fiber : x.main_fiber);
        return;
    }
    give_baton(next != nullptr ? next->baton : x.controller_baton);
    wait_baton(self != nullptr ? self->baton : x.controller_baton);
}

// ---- Choosing ------------------------------------------------------------------------------

unsigned runnable_set(const Exploration &x, unsigned *out) noexcept {
    unsigned n = 0;
    for (unsigned i = 0; i < x.spawned; ++i)
        if (x.contexts[i].state == State::Runnable) out[n++] = i;
    return n;
}

// Switches from self to next (next != self) and waits to run again; a schedule that failed
// meanwhile sends self back to its worker loop.
[[gnu::noinline]] void switch_to(Context &self, Context &next) noexcept {
    pass(exploration(), &self, &next);
    if (self.abort) std::longjmp(self.abort_point, 1);
}

// ---- Failing -------------------------------------------------------------------------------

// A finding recorded for self (on_finding) ends its part here.
inline void abandon_if_failed(Context &self) noexcept {
    if (__builtin_expect(self.fail_pending, 0)) {
        exploration().aborting = true;
        std::longjmp(self.abort_point, 1);
    }
}

// The schedule's finding, unless it has one already (the first stands).
void record_finding(Exploration &x, const char *rule, const char *message) noexcept {
    if (x.finding.found) return;
    x.finding.found = true;
    x.finding.rule = rule;
    std::snprintf(x.finding.message, sizeof x.finding.message, "%s", message);
}

[[noreturn]] void fail(Context &self, const char *rule, const char *message) noexcept {
    Exploration &x = exploration();
    record_finding(x, rule, message);
    x.aborting = true;
    std::longjmp(self.abort_point, 1);
}

// "thread 0 waits for spin lock 0x...; thread 1 ..." for every blocked context.
void describe_blocked(const Exploration &x, const char *lead, char *text, std::size_t size) noexcept {
    int n = std::snprintf(text, size, "%s", lead);
    for (unsigned i = 0; i < x.spawned && n >= 0 && static_cast<std::size_t>(n) < size; ++i) {
        const Context &c = x.contexts[i];
        if (c.state != State::Blocked) continue;
        const lock::WaitRecord &w = c.thread->wait;
        const lock::WaitKind kind = w.kind.load(std::memory_order_relaxed);
        const void *object = kind != lock::WaitKind::None ? w.object.load(std::memory_order_relaxed) : c.blocked_on;
        n += std::snprintf(text + n, size - static_cast<std::size_t>(n), " thread %u waits for %s %p", i,
                           lock::wait_kind_name(kind), object);
        // Inside an ISR or DPC it delivered (explore/deliveries.h): which routine waits.
        const auto routine = static_cast<observe::Callback>(c.thread->callback.kind.load(std::memory_order_relaxed));
        if (routine != observe::Callback::None && n >= 0 && static_cast<std::size_t>(n) < size)
            n += std::snprintf(text + n, size - static_cast<std::size_t>(n), " in %s on processor %u",
                               observe::callback_name(routine), c.processor);
        if (n >= 0 && static_cast<std::size_t>(n) < size)
            n += std::snprintf(text + n, size - static_cast<std::size_t>(n), ";");
    }
}

// Every thread is blocked: virtual time passes to what comes first, a timer (expired: its waiters
// or its DPC's delivery context become runnable) or a blocked thread's timeout (the lowest index
// among equals: made runnable with its timeout expired). False if nothing can come (a deadlock),
// or timers fired 64 times in a row and still nothing can run (a periodic timer nobody waits for).
bool expire_first_timeout(Exploration &x) noexcept {
    Context *first = nullptr;
    for (unsigned i = 0; i < x.spawned; ++i) {
        Context &c = x.contexts[i];
        if (c.state == State::Blocked && c.deadline != 0 && (first == nullptr || c.deadline < first->deadline))
            first = &c;
    }
    for (int fired = 0; fired < 64; ++fired) {
        const std::uint64_t timer = next_timer_ns();
        if (timer == 0 || (first != nullptr && timer > first->deadline)) break;
        virtual_time::advance_to(timer);
        fire_due_timers();
        unsigned runnable[kMaxContexts];
        if (runnable_set(x, runnable) != 0) return true;
    }
    if (first == nullptr) return false;
    virtual_time::advance_to(first->deadline);
    first->state = State::Runnable;
    first->blocked_on = nullptr;
    first->deadline = 0;
    first->timed_out = true;
    return true;
}

[[noreturn]] void fail_deadlock(Context &self) noexcept {
    char text[768];
    describe_blocked(exploration(), "every thread not yet returned is blocked:", text, sizeof text);
    fail(self, "Deadlock", text);
}

// ---- Scheduling points -------------------------------------------------------------------------

void bump_progress() noexcept {
    g_progress.store(g_progress.load(std::memory_order_relaxed) + 1, std::memory_order_release);
}

void count_step(Context &self) noexcept {
    Exploration &x = exploration();
    platform::own_time_charge_virtual(platform::kVirtualStepOwnNs); // the call this point is in
    bump_progress();
    if (++x.steps > x.max_steps) {
        char text[160];
        std::snprintf(text, sizeof text,
                      "the schedule passed %u scheduling points without every thread returning (a livelock, "
                      "or a bound too low: NDISLOCK_EXPLORE_OPTIONS.MaxSteps)",
                      x.max_steps);
        fail(self, "Livelock", text);
    }
}

// The watchdog on the schedule's clock (docs/explore.md, "Virtual time"): a wait without a
// timeout, or an ISR or DPC run, that has lasted the watchdog limit (NDISLOCK_WATCHDOG_MS) of
// virtual time never ends: the schedule's Deadlock, as the watchdog reports one in a run. The
// clock gets that far when stalls add up or it jumps (every thread blocked, one with a timeout).
// Looked at every eighth of the limit of virtual time, so a report comes at most that late.
void check_watchdog(Exploration &x, Context &self) noexcept {
    const std::uint64_t now = virtual_time::now();
    if (now < x.watchdog_look_ns) return;
    const std::uint64_t limit = observe::g_watchdog_limit_ns.load(std::memory_order_relaxed);
    x.watchdog_look_ns = now + (limit / 8 != 0 ? limit / 8 : 1);
    for (unsigned i = 0; i < x.spawned; ++i) {
        // Self and the blocked threads: those have run (a runnable thread may not have started,
        // and in OS-thread mode its state is its worker's until the baton reaches it); a runnable
        // one that waits or runs a routine is looked at when it runs again or blocks.
        const Context &c = x.contexts[i];
        if ((&c != &self && c.state != State::Blocked) || c.thread == nullptr) continue;
        const model::ThreadState &t = *c.thread;
        char text[400];
        const auto ms = [](std::uint64_t ns) { return static_cast<unsigned long long>(ns / 1'000'000); };
        const lock::WaitKind kind = t.wait.kind.load(std::memory_order_acquire);
        const std::uint64_t waiting_since = t.wait.since_ns.load(std::memory_order_relaxed);
        if (kind != lock::WaitKind::None && t.wait.until_ns.load(std::memory_order_relaxed) == 0 &&
            now - waiting_since >= limit) {
            std::snprintf(text, sizeof text,
                          "thread %u has waited %llu ms of the schedule's virtual time for %s %p, with no timeout "
                          "(the watchdog limit is %llu ms): it will wait forever",
                          i, ms(now - waiting_since), lock::wait_kind_name(kind),
                          t.wait.object.load(std::memory_order_relaxed), ms(limit));
            fail(self, "Deadlock", text);
        }
        const auto routine = static_cast<observe::Callback>(t.callback.kind.load(std::memory_order_relaxed));
        const std::uint64_t running_since = t.callback.since_ns.load(std::memory_order_relaxed);
        if (routine != observe::Callback::None && running_since != 0 && now - running_since >= limit) {
            std::snprintf(text, sizeof text,
                          "thread %u has run %s on processor %u for %llu ms of the schedule's virtual time (the "
                          "watchdog limit is %llu ms): it never returns",
                          i, observe::callback_name(routine), c.processor, ms(now - running_since), ms(limit));
            fail(self, "Deadlock", text);
        }
    }
}

void point(Context &self) noexcept {
    abandon_if_failed(self);
    Exploration &x = exploration();
    count_step(self);
    fire_due_timers(); // virtual time moved: a timer may be due
    check_watchdog(x, self);
    unsigned runnable[kMaxContexts];
    const unsigned n = runnable_set(x, runnable);
    // An interrupt pending toward this context's processor may come in here (explore/deliveries.h).
    if (can_deliver_here(*self.thread) && x.strategy.take_extra(static_cast<int>(self.index), n))
        return deliver_here(*self.thread);
    const unsigned next = x.strategy.pick(x.steps, static_cast<int>(self.index), runnable, n);
    if (next != self.index) switch_to(self, x.contexts[next]);
}

// Refuses a thread the scheduler does not run (a plain std::thread of the scenario, a timer or
// DPC thread) calling into ndislock while contexts run: it would run free of the schedule.
void refuse_uncontrolled(const char *what) noexcept {
    platform::fatal("ExploreUncontrolled: %s during an exploration's schedule: only threads spawned with "
                    "NdislockExploreSpawn (and the schedule's own interrupt and DPC deliveries) run in a "
                    "schedule; plain threads, work items and timers are not explored (docs/explore.md, "
                    "\"Limits\")",
                    what);
}

// A scheduling point for an observed call, on whichever thread makes it.
void observed_point(const char *what) noexcept {
    if (Context *c = tls_context) return point(*c);
    Exploration *x = g_exploration.load(std::memory_order_acquire);
    if (tls_worker || tls_exploring || x == nullptr) return;
    if (x->running.load(std::memory_order_acquire)) refuse_uncontrolled(what);
}

// What the watchdog's probe names as a stuck context's last point.
void remember_point(Context &c, const char *call, const char *file, int line) noexcept {
    c.last_call.store(call, std::memory_order_relaxed);
    c.last_file.store(file, std::memory_order_relaxed);
    c.last_line.store(line, std::memory_order_relaxed);
}

// Names the point a context is at, for the trace (explore/choices.h).
void label(const char *call, const observe::Site &site) noexcept {
    if (Context *c = tls_context) {
        note_point(static_cast<int>(c->index), call, site.file, site.line, site.file ? nullptr : site.return_address);
        remember_point(*c, call, site.file, site.line);
    }
}

void on_attempt(const observe::LockEvent &e) noexcept {
    label(observe::variant_name(e.variant), e.site);
    observed_point("a lock acquire by a thread not spawned for it");
}
void on_release(const observe::LockEvent &e) noexcept {
    label(observe::release_name(e.variant), e.site);
    observed_point("a lock release by a thread not spawned for it");
}
void on_irql(const observe::IrqlEvent &e) noexcept {
    label(e.to > e.from ? "KeRaiseIrql" : "KeLowerIrql", e.site);
    observed_point("an IRQL change by a thread not spawned for it");
}
void on_interlocked(const volatile void *address, const void *return_address) noexcept {
    if (Context *c = tls_context)
        note_point(static_cast<int>(c->index), "Interlocked operation", nullptr, 0, return_address);
    observed_point("an interlocked operation or memory barrier by a thread not spawned for it");
    // Happens-before: the operation reads what earlier operations on the address released and
    // releases what this thread did so far. After the point, so the edge is where the operation
    // runs. Every width and fence form counts as acquire and release (a NoFence read orders
    // nothing on Windows: races missed there, none invented). A barrier alone (no address) is none.
    if (Context *c = tls_context; c != nullptr && address != nullptr) {
        race::acquire(c->index, const_cast<const void *>(address));
        race::release(c->index, const_cast<const void *>(address));
    }
}
void on_callback(const observe::CallbackEvent &e) noexcept {
    // An ISR, DPC or synchronize function a context runs (explore/deliveries.h): a point.
    if (Context *c = tls_context) {
        note_point(static_cast<int>(c->index), observe::callback_name(e.kind), nullptr, 0, nullptr);
        return point(*c);
    }
    Exploration *x = g_exploration.load(std::memory_order_acquire);
    if (x == nullptr || !x->running.load(std::memory_order_acquire)) return;
    char what[96];
    std::snprintf(what, sizeof what, "%s ran", observe::callback_name(e.kind));
    refuse_uncontrolled(what);
}

// A call other than the spin-lock ones, before it runs: the KeWaitFor* waits, mutexes, fast mutexes,
// resources, NDIS events, NdisMSynchronizeWithInterruptEx and the like are points of their own.
void on_other_call(const char *name, bool, bool, const observe::Site &site) noexcept {
    label(name, site);
    observed_point("a wait or NDIS call by a thread not spawned for it");
}

// A mutex, fast mutex or resource release (told after the release of a mutex or resource, before
// that of a fast mutex): a point of its own.
void on_wait_lock(const observe::WaitLockEvent &e) noexcept {
    if (e.phase == observe::WaitLockPhase::Releasing) observed_point("a release by a thread not spawned for it");
}

// text with each "thread <OS thread id>" of a context renamed "thread <its index>": the verifier
// names threads by their OS thread IDs, which differ from run to run, the exploration by its own
// numbers (its other findings, its trace), so that a replay prints the same finding.
void number_threads(const Exploration &x, const char *text, char *out, std::size_t size) noexcept {
    std::size_t n = 0;
    for (const char *p = text; *p != '\0' && n + 1 < size;) {
        if (std::strncmp(p, "thread ", 7) == 0 && p[7] >= '0' && p[7] <= '9') {
            char *end = nullptr;
            const long tid = std::strtol(p + 7, &end, 10);
            for (unsigned i = 0; i < x.spawned; ++i)
                if (x.contexts[i].thread != nullptr &&
                    x.contexts[i].thread->os_tid.load(std::memory_order_relaxed) == tid) {
                    n += static_cast<std::size_t>(std::snprintf(out + n, size - n, "thread %u", i));
                    p = end;
                    break;
                }
            if (p != end) out[n++] = *p++;
            continue;
        }
        out[n++] = *p++;
    }
    out[std::min(n, size - 1)] = '\0';
}

// A finding of the verifier about a context's call: the schedule's (the verifier keeps nothing of
// it); the context leaves the schedule at its next point, wait or return (abandon_if_failed).
// Elsewhere (setup, check, a thread of no schedule) the process's, as outside an exploration.
bool on_finding(const char *rule, const char *text) noexcept {
    Context *self = tls_context;
    if (self == nullptr) return false;
    if (self->fail_pending) return true; // failing already: the first finding stands
    Exploration &x = exploration();
    if (x.aborting) return false;
    char numbered[sizeof x.finding.message];
    number_threads(x, text, numbered, sizeof numbered);
    record_finding(x, rule, numbered);
    self->fail_pending = true;
    return true;
}

constexpr observe::Observer kObserver = [] {
    observe::Observer o{};
    o.finding = on_finding;
    o.attempting = on_attempt;
    o.acquiring = on_attempt;
    o.releasing = on_release;
    o.irql_changed = on_irql;
    o.interlocked = on_interlocked;
    o.callback_entered = on_callback;
    o.other_call = on_other_call;
    o.wait_lock = on_wait_lock;
    return o;
}();

// ---- Waits (lock/park.h) ----------------------------------------------------------------------

lock::ParkResult controlled_park(const void *address, std::uint32_t expected, std::uint64_t timeout_ns,
                                 lock::ParkValidation validate, const void *context) noexcept {
    Context *self = tls_context;
    if (self == nullptr) return lock::ParkResult::Unparked; // not a context: nothing to wait for here
    abandon_if_failed(*self);
    if (validate != nullptr && !validate(context)) return lock::ParkResult::Invalid;
    Exploration &x = exploration();
    count_step(*self);
    if (__atomic_load_n(static_cast<const std::uint32_t *>(address), __ATOMIC_SEQ_CST) != expected)
        return lock::ParkResult::Unparked;
    self->state = State::Blocked;
    self->blocked_on = address;
    self->deadline = virtual_time::is_timeout(timeout_ns) ? virtual_time::now() + timeout_ns : 0;
    self->timed_out = false;
    if (can_deliver_here(*self->thread)) { // a waiting processor still takes its interrupts
        self->state = State::Runnable;
        self->deliver = true;
    }
    unsigned runnable[kMaxContexts];
    unsigned n = runnable_set(x, runnable);
    if (n == 0 && expire_first_timeout(x)) n = runnable_set(x, runnable);
    if (n == 0) fail_deadlock(*self);
    note_point(static_cast<int>(self->index), "blocks", nullptr, 0, nullptr);
    const unsigned next = x.strategy.pick(x.steps, static_cast<int>(self->index), runnable, n);
    if (next != self->index) switch_to(*self, x.contexts[next]);
    if (self->deliver) {
        // In the wait, as the interrupt would come in on a spinning or idle processor; then the
        // caller looks at its condition again (a return is not a promise).
        self->deliver = false;
        self->state = State::Runnable;
        self->blocked_on = nullptr;
        self->deadline = 0;
        if (can_deliver_here(*self->thread)) deliver_here(*self->thread);
        return lock::ParkResult::Unparked;
    }
    if (self->timed_out) {
        self->timed_out = false;
        return lock::ParkResult::TimedOut;
    }
    return lock::ParkResult::Unparked;
}

// An interrupt became pending toward processor: a context parked on it that can take it is made
// runnable to take it in its wait (controlled_park).
void wake_for_interrupt(std::uint32_t processor) noexcept {
    Exploration &x = exploration();
    for (unsigned i = 0; i < x.spawned; ++i) {
        Context &c = x.contexts[i];
        if (c.state == State::Blocked && c.thread->processor().load(std::memory_order_relaxed) == processor &&
            can_deliver_here(*c.thread)) {
            c.state = State::Runnable;
            c.deliver = true;
        }
    }
}

void controlled_unpark(const void *address) noexcept {
    if (tls_context == nullptr) return; // only the baton's holder touches the schedule
    Exploration &x = exploration();
    for (unsigned i = 0; i < x.spawned; ++i) {
        Context &c = x.contexts[i];
        if (c.state == State::Blocked && c.blocked_on == address) {
            c.state = State::Runnable;
            c.blocked_on = nullptr;
            c.deadline = 0;
        }
    }
}

constexpr lock::ParkControl kParkControl{controlled_park, controlled_unpark};

// ---- Workers -----------------------------------------------------------------------------------

// Puts the worker's ndislock thread state back as a fresh thread's: PASSIVE_LEVEL (which gives its
// virtual processor back), no wait recorded, no guard counted. After a routine returned, and after
// an abandoned one (whose guards and wait scopes the longjmp skipped).
void reset_thread(Context &c) noexcept {
    model::ThreadState *t = c.thread;
    if (t == nullptr) return;
    t->preemption.no_preempt.store(0, std::memory_order_relaxed);
    t->wait.kind.store(lock::WaitKind::None, std::memory_order_relaxed);
    t->wait.object.store(nullptr, std::memory_order_relaxed);
    t->wait.parked_on.store(nullptr, std::memory_order_relaxed);
    t->wait.until_ns.store(0, std::memory_order_relaxed);
    interrupt::forget_abandoned_routines(*t);
    if (t->irql().load(std::memory_order_relaxed) > PASSIVE_LEVEL) model::lower_irql(*t, PASSIVE_LEVEL);
}

// Runs the context's routine; returns when it returned (true) or the schedule abandoned it. A
// routine that returned is told to the observers while it can still fail the schedule (the
// verifier: a lock it still holds).
[[gnu::noinline]] bool run_routine(Context &c) noexcept {
    if (setjmp(c.abort_point) != 0) return false;
    c.routine(c.argument);
    abandon_if_failed(c);
    observe::notify_scenario_returned(*c.thread, false);
    abandon_if_failed(c);
    return true;
}

// The context is done (returned or abandoned): who runs next (nullptr: the exploring thread).
Context *finish(Context &self) noexcept {
    Exploration &x = exploration();
    self.state = State::Done;
    if (!x.aborting) {
        unsigned runnable[kMaxContexts];
        unsigned n = runnable_set(x, runnable);
        if (n == 0 && expire_first_timeout(x)) n = runnable_set(x, runnable);
        note_point(static_cast<int>(self.index), "returns", nullptr, 0, nullptr);
        if (n != 0) return &x.contexts[x.strategy.pick(x.steps, -1, runnable, n)];
        for (unsigned i = 0; i < x.spawned; ++i)
            if (x.contexts[i].state == State::Blocked) {
                // The last runnable thread returned with others blocked: a deadlock too (they wait
                // for what no thread left can give).
                x.finding.found = true;
                x.finding.rule = "Deadlock";
                describe_blocked(x, "every thread not yet returned is blocked:", x.finding.message,
                                 sizeof x.finding.message);
                x.aborting = true;
                break;
            }
    }
    if (x.aborting)
        for (unsigned i = 0; i < x.spawned; ++i) {
            Context &c = x.contexts[i];
            if (c.state == State::Runnable || c.state == State::Blocked) {
                c.abort = true;
                return &c;
            }
        }
    return nullptr;
}

// A context's life on its worker thread or fiber, from its first turn: runs the routines the
// schedules give it, one per schedule, until the exploration ends.
void run_context(Context &c) noexcept {
    Exploration &x = exploration();
    for (;;) {
        if (x.quit) return;
        if (c.thread->processor().load(std::memory_order_relaxed) != c.processor)
            NdislockBindCurrentThread(c.processor);
        tls_context = &c;
        lock::tls_controlled = true;
        platform::tls_virtual_clock = true;
        // Abandoned before its first step: never starts.
        if (!c.abort && !run_routine(c)) observe::notify_scenario_returned(*c.thread, true);
        reset_thread(c); // still controlled: a processor given back is never biased
        lock::tls_controlled = false;
        platform::tls_virtual_clock = false;
        Context *const next = finish(c);
        tls_context = nullptr;
        pass(x, &c, next);
    }
}

// OS-thread mode: the context's worker thread.
void worker_main(Context &c) noexcept {
    tls_worker = true;
    // One CPU for all the exploration's threads: they run one at a time, and a baton handed on one
    // CPU is a plain switch there, where handed to another (idle) CPU it waits for that CPU to
    // wake: twice the schedules a second on the 2-core development machine (docs/explore.md).
    platform::pin_current_thread(exploration().cpu);
    NdislockBindCurrentThread(c.index % model::processor_count()); // registers the thread
    c.thread = model::tls_thread;
    wait_baton(c.baton);
    run_context(c);
}

// Fiber mode: the context's fiber, first switched to when the strategy first runs it. It starts
// with a new thread's state (platform/context_local.h) and registers as a thread; when the
// exploration ends, its thread ends (the thread-exit observers run) and it leaves for good.
void fiber_main(void *argument) {
    Context &c = *static_cast<Context *>(argument);
    tls_worker = true;
    NdislockBindCurrentThread(c.index % model::processor_count()); // registers the thread
    c.thread = model::tls_thread;
    run_context(c);
    platform::ContextLocals::end_live();
    Exploration &x = exploration();
    platform::ContextLocals::switch_locals(c.locals, x.main_locals);
    platform::Fiber::exit_to(c.fiber, x.main_fiber);
}

// A context's stack in fiber mode: as deep as a scenario thread's may reasonably go (reserved, not
// committed: pages are touched as the stack grows).
constexpr std::size_t kFiberStackBytes = std::size_t{1} << 22;

// Fibers unless the target has none or NDISLOCK_EXPLORE_CONTEXTS=threads (docs/explore.md, "Contexts: fibers or
// OS threads").
bool use_fibers() noexcept {
    const char *mode = std::getenv("NDISLOCK_EXPLORE_CONTEXTS");
    if (mode == nullptr || *mode == '\0' || std::strcmp(mode, "fibers") == 0) return platform::kFibers;
    if (std::strcmp(mode, "threads") == 0) return false;
    platform::fatal("NDISLOCK_EXPLORE_CONTEXTS=%s: expected fibers or threads", mode);
}

} // namespace

namespace {

// Adds a context running routine on processor (reusing a returned context's slot when reuse).
bool add_context(Exploration &x, std::uint32_t processor, bool reuse, NDISLOCK_EXPLORE_ROUTINE *routine,
                 void *context) noexcept {
    // From Setup on the exploring thread, or from a context of the running schedule.
    const bool setting_up = tls_exploring && x.setting_up.load(std::memory_order_relaxed);
    if (!setting_up && tls_context == nullptr) return false;
    unsigned slot = x.spawned;
    if (reuse)
        for (unsigned i = 0; i < x.spawned; ++i)
            if (x.contexts[i].state == State::Done) {
                slot = i;
                break;
            }
    if (slot == kMaxContexts) return false;
    Context &c = x.contexts[slot];
    if (slot == x.workers) {
        c.index = slot;
        if (x.fibers) {
            if (!c.locals.fresh() || !c.fiber.create(fiber_main, &c, kFiberStackBytes))
                platform::fatal("out of memory creating an exploration's context");
        } else {
            c.worker = std::thread(worker_main, std::ref(c));
        }
        ++x.workers;
    }
    c.routine = routine;
    c.argument = context;
    c.state = State::Runnable;
    c.blocked_on = nullptr;
    c.abort = false;
    c.fail_pending = false;
    c.processor = processor;
    c.deadline = 0;
    c.timed_out = false;
    c.deliver = false;
    x.strategy.spawned(slot);
    race::spawned(tls_context != nullptr ? static_cast<int>(tls_context->index) : -1, slot);
    if (slot == x.spawned) ++x.spawned;
    return true;
}

} // namespace

bool spawn(PNDISLOCK_EXPLORE_RUN run, NDISLOCK_EXPLORE_ROUTINE *routine, void *context) noexcept {
    Exploration *x = g_exploration.load(std::memory_order_acquire);
    if (x == nullptr || run != &x->handle || routine == nullptr) return false;
    return add_context(*x, x->spawned % model::processor_count(), false, routine, context);
}

bool spawn_on(std::uint32_t processor, NDISLOCK_EXPLORE_ROUTINE *routine, void *context) noexcept {
    Exploration *x = g_exploration.load(std::memory_order_acquire);
    if (x == nullptr || routine == nullptr || processor >= model::processor_count()) return false;
    return add_context(*x, processor, true, routine, context);
}

void interrupt_pending_toward(std::uint32_t processor) noexcept {
    if (tls_context != nullptr) wake_for_interrupt(processor); // only the baton's holder touches the schedule
}

bool in_schedule() noexcept {
    const Exploration *x = g_exploration.load(std::memory_order_acquire);
    return x != nullptr &&
           (x->setting_up.load(std::memory_order_relaxed) || x->running.load(std::memory_order_relaxed));
}

void yield_point(const void *caller, const char *call, const char *file, int line) noexcept {
    if (Context *c = tls_context) {
        note_point(static_cast<int>(c->index), call, file, line, caller);
        remember_point(*c, call, file, line);
        point(*c);
    }
}

bool fail_assertion(const char *message, const char *file, int line) noexcept {
    Context *c = tls_context;
    if (c == nullptr) return false;
    char text[600];
    std::snprintf(text, sizeof text, "NdislockExploreAssert failed at %s:%d: %s (thread %u)", file ? file : "?", line,
                  message ? message : "", c->index);
    fail(*c, "AssertionFailed", text);
}

int current_context() noexcept { return tls_context != nullptr ? static_cast<int>(tls_context->index) : -1; }

void fail_current(const char *rule, const char *message) noexcept { fail(*tls_context, rule, message); }

// The watchdog's look at a running exploration (observe/watchdog.h), on the watchdog's thread. A
// context that has made no scheduling point for the watchdog limit of real time (5 s at least)
// runs code that gives no other context a turn (a loop on plain memory, waiting for another
// thread) and never will: the exploring thread cannot take it back, so the process ends here,
// with the Livelock named and the schedule's token to replay it.
void progress_probe(std::uint64_t now_ns, std::uint64_t limit_ns) noexcept {
    static std::uint64_t seen = ~std::uint64_t{0}, since_ns = 0; // the watchdog thread's own
    const std::lock_guard<std::mutex> probe(g_probe_mutex);
    const Exploration *x = g_exploration.load(std::memory_order_acquire);
    if (x == nullptr || !x->running.load(std::memory_order_acquire)) {
        seen = ~std::uint64_t{0};
        return;
    }
    const std::uint64_t progress = g_progress.load(std::memory_order_acquire);
    if (progress != seen) {
        seen = progress;
        since_ns = now_ns;
        return;
    }
    // At least kStuckFloorNs: one step can be slow for real (a sanitizer's first symbolization,
    // a fiber's first stack), never that slow.
    constexpr std::uint64_t kStuckFloorNs = 5'000'000'000;
    if (now_ns - since_ns < (limit_ns > kStuckFloorNs ? limit_ns : kStuckFloorNs)) return;
    char token[256];
    if (!format_token(x->key, token, sizeof token)) std::snprintf(token, sizeof token, "(too long to print)");
    const int running = x->on_cpu.load(std::memory_order_relaxed);
    char last[320] = "it has made none yet";
    if (running >= 0) {
        const Context &c = x->contexts[running];
        if (const char *call = c.last_call.load(std::memory_order_relaxed)) {
            const char *file = c.last_file.load(std::memory_order_relaxed);
            std::snprintf(last, sizeof last, "its last: %s%s%s:%d", call, file != nullptr ? " at " : "",
                          file != nullptr ? file : "",
                          file != nullptr ? c.last_line.load(std::memory_order_relaxed) : 0);
        }
    }
    platform::fatal(
        "ndislock explore: Livelock: thread %d has run %llu ms of real time without a scheduling point (%s): "
        "code that waits on plain memory (a loop on a flag another thread sets) gives no other thread "
        "a turn in a schedule, so the schedule never ends; make the loop call NdislockExploreYield() or "
        "read the flag with NDISLOCK_SHARED_READ (docs/explore.md, \"Limits\")\n"
        "  replay: NDISLOCK_EXPLORE_REPLAY=%s\n",
        running, static_cast<unsigned long long>((now_ns - since_ns) / 1'000'000), last, token);
}

bool run_exploration(const Plan &plan, NDISLOCK_EXPLORE_SETUP *setup, NDISLOCK_EXPLORE_CHECK *check, void *context,
                     ExplorationResult &result) {
    std::unique_lock<std::mutex> one(g_one_at_a_time, std::try_to_lock);
    if (!one.owns_lock() || tls_context != nullptr) return false;
    auto *x = new Exploration;
    x->fibers = use_fibers();
    std::optional<platform::PinnedToCurrentCpu> pinned; // see worker_main
    if (x->fibers) {
        x->main_fiber.adopt_current();
        if (!x->main_locals.fresh()) platform::fatal("out of memory starting an exploration");
    } else {
        x->cpu = pinned.emplace().cpu();
    }
    g_exploration.store(x, std::memory_order_release);
    tls_exploring = true;
    lock::g_park_control.store(&kParkControl, std::memory_order_release);
    observe::add_observer(&kObserver);
    race::begin_exploration();
    virtual_time::install(&x->steps);
    observe::set_exploration_probe(progress_probe);
    observe::start_watchdog();
    // For the exploration's whole life, between schedules too: no ISR, DPC or timer thread may run
    // the scenario's routines then either.
    control_deliveries(true, []() noexcept { return g_exploration.load(std::memory_order_acquire) != nullptr; });

    std::uint64_t base = plan.first.seed;
    std::uint32_t horizon = plan.first.horizon;
    const unsigned schedules = plan.driver != nullptr ? ~0u : plan.replay ? 1 : plan.schedules;
    for (unsigned s = 0; s < schedules; ++s) {
        ScheduleKey key = plan.first;
        if (plan.driver != nullptr) {
            if (!plan.driver->next(key)) break;
        } else if (!plan.replay) {
            std::uint64_t mix = base ^ (0xD1B54A32D192ED03ull * (s + 1));
            key.seed = splitmix64(mix);
            key.horizon = horizon;
        }
        {
            const std::lock_guard<std::mutex> probe(g_probe_mutex);
            x->key = key;
        }
        bump_progress();
        x->watchdog_look_ns = 0;
        x->spawned = 0;
        x->steps = 0;
        x->max_steps = plan.max_steps;
        x->aborting = false;
        x->finding = Finding{};
        for (auto &c : x->contexts)
            c.state = State::Unused;
        reset_deliveries();
        virtual_time::begin();
        x->strategy.begin(key);
        race::begin_schedule();
        observe::notify_schedule_boundary(true);

        x->setting_up.store(true, std::memory_order_relaxed);
        platform::tls_virtual_clock = true; // a timer set in setup is due in the schedule's time
        setup(&x->handle, context);
        platform::tls_virtual_clock = false;
        x->setting_up.store(false, std::memory_order_relaxed);
        if (x->spawned != 0) {
            unsigned runnable[kMaxContexts];
            const unsigned n = runnable_set(*x, runnable);
            x->running.store(true, std::memory_order_release);
            pass(*x, nullptr, &x->contexts[x->strategy.pick(0, -1, runnable, n)]);
            x->running.store(false, std::memory_order_release);
        }
        ++result.schedules;
        result.steps += x->steps;
        // PCT's change points are drawn over the steps a schedule of this scenario takes.
        if (x->steps > horizon) horizon = static_cast<std::uint32_t>(x->steps);
        const bool checked = check == nullptr || check(context) != FALSE;
        observe::notify_schedule_boundary(false);
        if (!x->finding.found && !checked) {
            x->finding.found = true;
            x->finding.rule = "AssertionFailed";
            std::snprintf(x->finding.message, sizeof x->finding.message,
                          "the scenario's check returned FALSE after every thread returned");
        }
        if (plan.driver != nullptr) {
            if (!plan.driver->after(key, ScheduleOutcome{x->finding, x->steps, x->strategy.recorded()})) break;
            continue;
        }
        if (x->finding.found) {
            result.finding = x->finding;
            result.key = key;
            result.choices = x->strategy.recorded();
            break;
        }
    }

    x->quit = true;
    if (x->fibers) {
        // Each fiber that ran ends its thread and leaves; one never run has no thread to end.
        for (unsigned i = 0; i < x->workers; ++i)
            if (x->contexts[i].thread != nullptr) pass(*x, nullptr, &x->contexts[i]);
    } else {
        for (unsigned i = 0; i < x->workers; ++i)
            give_baton(x->contexts[i].baton);
        for (unsigned i = 0; i < x->workers; ++i)
            x->contexts[i].worker.join();
    }
    control_deliveries(false, nullptr);
    reset_deliveries();
    virtual_time::install(nullptr);
    race::end_exploration();
    observe::remove_observer(&kObserver);
    lock::g_park_control.store(nullptr, std::memory_order_release);
    tls_exploring = false;
    {
        const std::lock_guard<std::mutex> probe(g_probe_mutex);
        g_exploration.store(nullptr, std::memory_order_release);
    }
    delete x;
    return true;
}

} // namespace ndislock::explore
