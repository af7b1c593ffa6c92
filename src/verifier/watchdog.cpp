// Waits that never end: the verifier's watchdog. ndislock's waits (for a spin lock, a queue
// position, a processor) report themselves at their start (lock/wait_observer.h); the watchdog
// thread (observe/watchdog.h) tells of each one still going on every 50 ms, from its own thread.
// At the start, a wait that Windows could never finish is reported at once (a DISPATCH_LEVEL waiter
// whose lock's holder sits below DISPATCH_LEVEL on the same processor; an ISR whose lock's holder
// is the code it interrupted, stopped until the ISR returns); past the watchdog
// limit, any wait is a Deadlock: the report names every waiting thread, what it waits for, who
// holds that and where it took it, and everything each holds. Then the process ends, instead of
// hanging CI.
#include <cstdio>
#include <ctime>
#include <string>

#include "model/preemption.h"
#include "model/processors.h"
#include "observe/watchdog.h"
#include "platform/clock.h"
#include "platform/cpu.h"
#include "verifier/checks.h"
#include "verifier/findings.h"
#include "verifier/held_locks.h"
#include "verifier/lock_classes.h"
#include "verifier/settings.h"
#include "verifier/shadow.h"
#include "verifier/sites.h"
#include "verifier/wait_order.h"
#include "lock/fast_mutex.h"
#include "lock/resource.h"
#include "ndislock/wdk_dispatcher.h"

namespace ndislock::verifier {

namespace {

std::atomic<bool> g_reporting{false};

// The thread an owner field names (a ThreadState's address: interrupt/dispatcher.h), or nullptr.
// ThreadStates are never freed, so reading one a stale field names is safe.
model::ThreadState *interrupt_tagged(const void *tag) {
    return const_cast<model::ThreadState *>(static_cast<const model::ThreadState *>(tag));
}

// What a wait for a dispatcher object, fast mutex or resource waits for, and its owner if it has
// one (the owner fields hold the owner's ThreadState: interrupt/dispatcher.h, thread_tag). Objects
// a driver may free while a report reads them are read through their owner words only.
model::ThreadState *holder_of_dispatcher_wait(model::ThreadState &t, lock::WaitKind kind, const void *object,
                                              std::string *what) {
    char buffer[160];
    model::ThreadState *owner = nullptr;
    if (kind == lock::WaitKind::FastMutex) {
        auto *m = static_cast<FAST_MUTEX *>(const_cast<void *>(object));
        owner = interrupt_tagged(lock::fast_mutex_owner(m));
        std::snprintf(buffer, sizeof buffer, "fast mutex %p", object);
    } else if (kind == lock::WaitKind::Resource) {
        auto *r = static_cast<ERESOURCE *>(const_cast<void *>(object));
        owner = interrupt_tagged(reinterpret_cast<const void *>(lock::resource_exclusive_owner(r)));
        std::snprintf(buffer, sizeof buffer, "executive resource %p%s", object,
                      owner != nullptr ? " (owned exclusively)" : " (owned shared)");
        if (owner == nullptr) owner = wait_lock_holder(object, &t); // a reader, as its table says
    } else {
        auto *h = static_cast<DISPATCHER_HEADER *>(const_cast<void *>(object));
        const UCHAR type = h->Type;
        const char *name = type == MutantObject                                                    ? "mutex"
                           : type == SemaphoreObject                                               ? "semaphore"
                           : type == EventNotificationObject || type == EventSynchronizationObject ? "event"
                           : type == TimerNotificationObject || type == TimerSynchronizationObject
                               ? "timer"
                               : "dispatcher object";
        if (type == MutantObject)
            owner = interrupt_tagged(std::atomic_ref<struct _KTHREAD *>(reinterpret_cast<KMUTANT *>(h)->OwnerThread)
                                         .load(std::memory_order_acquire));
        std::snprintf(buffer, sizeof buffer, "%s %p (%s)", name, object,
                      type == MutantObject      ? "a KeWaitFor* wait"
                      : type == SemaphoreObject ? "its count is 0: it waits for a KeReleaseSemaphore"
                                                : "nobody owns it: it waits to be signalled");
    }
    *what = buffer;
    // Its class: where it was initialized (or its name), as the lock-order graph knows it.
    if (const std::uint32_t cls = wait_lock_class(object); cls != kOverflowClass) *what += " " + class_string(cls);
    return owner;
}

// The thread holding what t waits for, if known.
model::ThreadState *holder_of_wait(model::ThreadState &t, std::string *what) {
    const auto kind = t.wait.kind.load(std::memory_order_acquire);
    const void *object = t.wait.object.load(std::memory_order_relaxed);
    if (kind == lock::WaitKind::Processor) {
        const auto index =
            static_cast<std::uint32_t>(static_cast<const model::Processor *>(object) - model::g_processors);
        char buffer[64];
        std::snprintf(buffer, sizeof buffer, "processor %u (to run at DISPATCH_LEVEL)", index);
        *what = buffer;
        return model::thread_by_id(model::processor_owner(index));
    }
    if (kind == lock::WaitKind::Dispatcher || kind == lock::WaitKind::FastMutex || kind == lock::WaitKind::Resource)
        return holder_of_dispatcher_wait(t, kind, object, what);
    const Shadow *s = shadow_find(object);
    char buffer[600];
    std::snprintf(buffer, sizeof buffer, "lock %p %s", object,
                  s != nullptr ? class_string(s->lock_class.load(std::memory_order_relaxed)).c_str()
                               : "(unclassified)");
    *what = buffer;
    return live_holder(s, object);
}

// The stack of a thread an interrupt stopped, from where it was stopped (the frames of the signal
// handler that holds it are left out), a few frames deep: the stopped pc alone is often inside a
// library call.
std::string stopped_stack_lines(model::ThreadState &t, const void *pc) {
    void *frames[24];
    const int n = model::stopped_stack(t, frames, 24);
    int from = 0;
    while (from < n && frames[from] != pc)
        ++from;
    if (from == n) return ""; // the stopped pc is not in the dump: nothing reliable to show
    std::string out = "      its stack:\n";
    for (int k = from + 1, shown = 0; k < n && shown < 6; ++k, ++shown)
        out += "        " + site_string(observe::Site{nullptr, 0, nullptr, frames[k]}) + "\n";
    return out;
}

// ", running the DPC routine Poll" when holder is inside a driver routine (its outermost): a DPC
// that queues itself again and again keeps its processor for good, and the routine is the bug.
// A DPC that queues itself again is between two of its runs now and then, longer under a
// sanitizer or on a loaded machine: the holder is looked at for up to patience_ns (the core given
// away now and then so that the holder runs) before it is taken to run none. The routine, or
// nullptr.
const void *routine_running(model::ThreadState &holder, std::uint64_t patience_ns, observe::Callback *kind) {
    const VerifierThread *hv = verifier_thread_of(holder);
    if (hv == nullptr) return nullptr;
    const std::uint64_t until = platform::monotonic_ns() + patience_ns;
    for (unsigned look = 1;; ++look) {
        if (hv->callbacks.load(std::memory_order_acquire) != 0) {
            *kind = static_cast<observe::Callback>(hv->callback[0].kind.load(std::memory_order_relaxed));
            return hv->callback[0].routine.load(std::memory_order_relaxed);
        }
        if (look % 64 == 0) {
            if (platform::monotonic_ns() >= until) return nullptr;
            platform::yield_core();
        }
        platform::cpu_relax();
    }
}
// The same as text, for a holder of a processor: "" or ", running the DPC routine Poll".
std::string holder_running(model::ThreadState &holder, std::uint64_t patience_ns, const void **routine = nullptr) {
    observe::Callback kind{};
    const void *running = routine_running(holder, patience_ns, &kind);
    if (routine != nullptr) *routine = running;
    return running != nullptr ? ", running " + callback_description(kind, running) : "";
}

void describe_thread(model::ThreadState &t, std::string &out) {
    char line[1200];
    std::snprintf(line, sizeof line, "    thread %d on processor %u at IRQL %u:\n",
                  t.os_tid.load(std::memory_order_relaxed), t.processor().load(std::memory_order_relaxed),
                  t.irql().load(std::memory_order_relaxed));
    out += line;
    // The driver routine it runs, and interrupts: the one it runs over, or the one stopping it.
    if (const RunningCallback running = running_callback(t); running.kind != observe::Callback::None) {
        const std::uint64_t since = t.callback.since_ns.load(std::memory_order_relaxed);
        const std::uint64_t now = platform::monotonic_ns();
        std::snprintf(line, sizeof line, "      runs %s (for %llu ms)\n",
                      callback_description(running.kind, running.routine).c_str(),
                      static_cast<unsigned long long>(since != 0 && now > since ? (now - since) / 1'000'000 : 0));
        out += line;
    }
    if (const std::uint32_t victim = t.preemption.interrupting.load(std::memory_order_relaxed); victim != 0) {
        model::ThreadState *v = model::thread_by_id(victim);
        std::snprintf(line, sizeof line, "      interrupts thread %d (stopped until this ISR returns)\n",
                      v != nullptr ? v->os_tid.load(std::memory_order_relaxed) : -1);
        out += line;
    }
    if (const std::uint32_t by = t.preemption.preempted_by.load(std::memory_order_relaxed); by != 0) {
        model::ThreadState *isr = model::thread_by_id(by);
        const void *pc = t.preemption.stopped_at.load(std::memory_order_relaxed);
        std::snprintf(line, sizeof line,
                      "      stopped by an interrupt: thread %d runs an ISR over it; stopped at IRQL %u%s%s\n",
                      isr != nullptr ? isr->os_tid.load(std::memory_order_relaxed) : -1,
                      t.preemption.stopped_irql.load(std::memory_order_relaxed), pc != nullptr ? ", at " : "",
                      pc != nullptr ? site_string(code_site(pc)).c_str() : "");
        out += line;
        out += stopped_stack_lines(t, pc);
    }
    if (VerifierThread *v = verifier_thread_of(t)) {
        const unsigned depth = v->depth.load(std::memory_order_acquire);
        for (unsigned i = 0; i < depth && i < kMaxHeld; ++i) {
            std::snprintf(line, sizeof line, "      holds %s, taken at %s\n",
                          class_string(v->held[i].lock_class).c_str(), site_string(v->held[i].site()).c_str());
            out += line;
        }
        describe_wait_holds(*v, out); // its mutexes, fast mutexes and resources
    }
    if (t.wait.kind.load(std::memory_order_acquire) != lock::WaitKind::None) {
        std::string what;
        model::ThreadState *holder = holder_of_wait(t, &what);
        const std::uint64_t waited =
            (platform::monotonic_ns() - t.wait.since_ns.load(std::memory_order_relaxed)) / 1'000'000;
        std::snprintf(line, sizeof line, "      waits %llu ms for %s", static_cast<unsigned long long>(waited),
                      what.c_str());
        out += line;
        observe::Site called{};
        const char *call = nullptr;
        if (VerifierThread *v = verifier_thread_of(t); v != nullptr && v->wanting.load() != nullptr) {
            out += ", wanted at " + site_string(v->wanting_site);
        } else if (v != nullptr && waiting_call(*v, &called, &call)) {
            out += std::string(", in ") + call + " at " + site_string(called);
        }
        if (holder != nullptr) {
            std::snprintf(line, sizeof line, ", held by thread %d", holder->os_tid.load(std::memory_order_relaxed));
            out += line;
            // A processor's holder only (a lock's holder says what it holds above), at one look:
            // the report's own line has looked for it at length already.
            if (t.wait.kind.load(std::memory_order_acquire) == lock::WaitKind::Processor)
                out += holder_running(*holder, 0);
        }
        out += "\n";
    }
}

// The list of every thread that waits or holds a lock, for Deadlock reports.
std::string every_waiting_thread() {
    std::string out = "  every waiting thread, what it holds and what it waits for:\n";
    model::for_each_thread(
        [](model::ThreadState &each, void *text) {
            std::string &text_out = *static_cast<std::string *>(text);
            VerifierThread *ev = verifier_thread_of(each);
            const bool holds = ev != nullptr && (ev->depth.load(std::memory_order_acquire) != 0 ||
                                                 ev->wait_depth.load(std::memory_order_acquire) != 0);
            if (holds || each.wait.kind.load(std::memory_order_acquire) != lock::WaitKind::None ||
                each.preemption.preempted_by.load(std::memory_order_relaxed) != 0)
                describe_thread(each, text_out);
        },
        &out);
    return out;
}

// Where a waiting thread wanted what it waits for: the acquire's site while it waits for a lock
// (or for the processor a raising acquire needs); unknown otherwise (a KeRaiseIrql), never the
// site of an earlier acquire.
observe::Site wanted_at(const VerifierThread *v) noexcept {
    if (v == nullptr) return observe::Site{};
    if (v->wanting.load(std::memory_order_relaxed) != nullptr) return v->wanting_site;
    observe::Site called{};
    const char *call = nullptr;
    if (waiting_call(*v, &called, &call)) return called; // a KeWaitFor*, fast mutex or resource wait
    return observe::Site{};
}

// The waits that close a cycle through t, each naming its thread, what it waits for and who
// holds that: "thread 1 waits for mutex A, held by thread 2; thread 2 waits for mutex B, held by
// thread 1". Empty if the holders lead nowhere back to t.
std::string wait_cycle(model::ThreadState &t) {
    std::string out;
    model::ThreadState *at = &t;
    for (unsigned step = 0; step < 16; ++step) {
        if (at->wait.kind.load(std::memory_order_acquire) == lock::WaitKind::None) return "";
        std::string what;
        model::ThreadState *holder = holder_of_wait(*at, &what);
        if (holder == nullptr) return "";
        char line[900];
        std::snprintf(line, sizeof line, "%sthread %d waits for %s, held by thread %d", out.empty() ? "" : "; ",
                      at->os_tid.load(std::memory_order_relaxed), what.c_str(),
                      holder->os_tid.load(std::memory_order_relaxed));
        out += line;
        if (holder == &t) return out;
        at = holder;
    }
    return "";
}

void report_deadlock(model::ThreadState &t, std::uint64_t waited_ms) {
    if (g_reporting.exchange(true)) return; // one report; the process ends after it
    Report r(observe::Rule::Deadlock);
    r.thread = &t;
    std::string what;
    model::ThreadState *holder = holder_of_wait(t, &what);
    VerifierThread *v = verifier_thread_of(t);
    r.site = wanted_at(v);
    if (t.wait.kind.load(std::memory_order_acquire) != lock::WaitKind::Processor) { // a processor is no lock
        r.lock = t.wait.object.load(std::memory_order_relaxed);
        if (const Shadow *s = shadow_find(r.lock)) r.lock_class = s->lock_class.load(std::memory_order_relaxed);
    }
    char text[900];
    std::snprintf(text, sizeof text,
                  "thread %d has waited %llu ms (the watchdog limit is %llu ms) for %s%s: it will wait forever",
                  t.os_tid.load(std::memory_order_relaxed), static_cast<unsigned long long>(waited_ms),
                  static_cast<unsigned long long>(observe::g_watchdog_limit_ns.load() / 1'000'000), what.c_str(),
                  holder != nullptr ? "" : " (holder unknown)");
    r.explanation = text;
    if (holder != nullptr && t.wait.kind.load(std::memory_order_acquire) == lock::WaitKind::Processor) {
        const void *routine = nullptr;
        r.explanation += "; the processor's holder is thread " +
                         std::to_string(holder->os_tid.load(std::memory_order_relaxed)) +
                         holder_running(*holder, 100'000'000, &routine);
        // A wait with no site of its own (ndislock's DPC thread waiting for its processor) points
        // at the routine that keeps the processor.
        if (routine != nullptr && r.site.file == nullptr && r.site.return_address == nullptr)
            r.site = observe::Site{nullptr, 0, nullptr, routine};
    }
    if (const std::string cycle = wait_cycle(t); !cycle.empty()) r.explanation += "; the cycle: " + cycle;
    if (holder != nullptr) {
        if (VerifierThread *hv = verifier_thread_of(*holder)) {
            const int slot = find_held(*hv, r.lock);
            const int sleeping = slot < 0 ? find_wait_held(*hv, r.lock) : -1;
            if (slot >= 0) {
                r.other = hv->held[slot].site();
                r.other_role = "held by its holder since";
            } else if (sleeping >= 0) { // a mutex, fast mutex or resource
                r.other = hv->wait_held[sleeping].site();
                r.other_role = "held by its holder since";
            }
        }
    }
    r.scenario = every_waiting_thread();
    report(r);
}

// A Deadlock report for thread t waiting on lock (shadow s), at the site where t wanted it.
Report lock_wait_deadlock(model::ThreadState &t, const void *lock, const Shadow *s) {
    Report r(observe::Rule::Deadlock);
    r.thread = &t;
    VerifierThread *v = verifier_thread_of(t);
    r.site = wanted_at(v);
    r.lock = lock;
    r.lock_class = s->lock_class.load(std::memory_order_relaxed);
    return r;
}

// An ISR spinning on a lock held by the code it interrupted: that code is stopped (model/
// preemption.h) until the ISR returns, so neither ever goes on. On Windows the ISR runs on the
// interrupted processor itself, and the processor hangs. Reported when the wait begins; or, for
// code stopped in the middle of releasing the lock (the verifier forgets a hold just before the
// word is freed, so the lock has no known holder), once the ISR has still been waiting 50 ms
// later. Returns true if reported.
bool check_interrupted_holder(model::ThreadState &t, bool still_waiting) {
    const auto kind = t.wait.kind.load(std::memory_order_acquire);
    if (kind != lock::WaitKind::SpinLock && kind != lock::WaitKind::QueuedSpinLock) return false;
    if (t.irql().load(std::memory_order_relaxed) < DISPATCH_LEVEL) return false;
    // Only an interrupt thread running an ISR over a stopped thread qualifies. Ids are compared
    // as read from atomics: another thread's `id` field is rewritten when its state is recycled.
    const std::uint32_t interrupted = t.preemption.interrupting.load(std::memory_order_relaxed);
    if (interrupted == 0) return false;
    const void *lock = t.wait.object.load(std::memory_order_relaxed);
    const Shadow *s = shadow_find(lock);
    if (s == nullptr) return false;
    std::uint32_t holder_id = 0;
    model::ThreadState *holder = live_holder(s, lock, &holder_id);
    bool releasing = false;
    if (holder == nullptr && still_waiting) {
        // No known holder: the stopped code may be inside the release (it owns the word still).
        model::ThreadState *victim = model::thread_by_id(interrupted);
        VerifierThread *vv = victim != nullptr ? verifier_thread_of(*victim) : nullptr;
        if (vv != nullptr && vv->last_released.lock.load(std::memory_order_acquire) == lock &&
            victim->preemption.preempted_by.load(std::memory_order_relaxed) == t.id()) {
            holder = victim;
            holder_id = interrupted;
            releasing = true;
        }
    }
    if (holder == nullptr || holder == &t) return false;
    if (holder_id != interrupted) return false;
    if (g_reporting.exchange(true)) return true; // one report; the process ends after it
    Report r = lock_wait_deadlock(t, lock, s);
    const RunningCallback running = running_callback(t);
    std::string isr;
    if (running.kind == observe::Callback::Isr) {
        char buffer[80];
        std::snprintf(buffer, sizeof buffer, "the ISR of interrupt %p (",
                      t.callback.object.load(std::memory_order_relaxed));
        isr = buffer + callback_description(running.kind, running.routine) + ")";
    } else if (running.kind != observe::Callback::None) {
        isr = "the interrupt thread, in " + callback_description(running.kind, running.routine) + ",";
    } else {
        isr = "the interrupt thread";
    }
    const void *pc = holder->preemption.stopped_at.load(std::memory_order_relaxed);
    const KIRQL stopped_irql = holder->preemption.stopped_irql.load(std::memory_order_relaxed);
    char text[1400];
    std::snprintf(text, sizeof text,
                  "%s on processor %u spins on a lock held by the code it interrupted on that processor (thread %d, "
                  "stopped at IRQL %u%s%s%s): that code cannot run again until the ISR returns, so the ISR spins "
                  "forever (state shared with an ISR is guarded by NdisMSynchronizeWithInterruptEx, not by a spin "
                  "lock)",
                  isr.c_str(), t.processor().load(std::memory_order_relaxed),
                  holder->os_tid.load(std::memory_order_relaxed), stopped_irql,
                  releasing ? " in the middle of releasing it" : "", pc != nullptr ? ", at " : "",
                  pc != nullptr ? site_string(code_site(pc)).c_str() : "");
    r.explanation = text;
    if (VerifierThread *hv = verifier_thread_of(*holder)) {
        const int slot = releasing ? -1 : find_held(*hv, lock);
        if (slot >= 0) {
            r.other = hv->held[slot].site();
            r.other_role = "held by the interrupted code since";
        } else if (releasing) {
            r.other = hv->last_released.site();
            r.other_role = "held by the interrupted code since";
        }
    }
    r.scenario = every_waiting_thread();
    report(r);
    return true;
}

// A thread at DISPATCH_LEVEL waiting for a lock whose holder runs on the same processor below
// DISPATCH_LEVEL: on Windows the holder could never run again on that processor.
void check_same_processor_holder(model::ThreadState &t) {
    const auto kind = t.wait.kind.load(std::memory_order_acquire);
    if (kind != lock::WaitKind::SpinLock && kind != lock::WaitKind::QueuedSpinLock) return;
    if (t.irql().load(std::memory_order_relaxed) < DISPATCH_LEVEL) return;
    const void *lock = t.wait.object.load(std::memory_order_relaxed);
    const Shadow *s = shadow_find(lock);
    if (s == nullptr) return;
    // The holder id, its processor and its IRQL are read one after another, not as one snapshot:
    // a holder that released and lowered in between could look like one below DISPATCH_LEVEL. A
    // real case lasts (the holder cannot run on this processor again), so it must still hold
    // after a pause, with the same holder, before it is reported.
    std::uint32_t holder_id = 0;
    model::ThreadState *holder = live_holder(s, lock, &holder_id);
    if (holder == nullptr || holder == &t) return;
    const auto below_on_this_processor = [&] {
        return s->holder.load(std::memory_order_acquire) == holder_id &&
               t.wait.object.load(std::memory_order_acquire) == lock &&
               holder->processor().load(std::memory_order_relaxed) == t.processor().load(std::memory_order_relaxed) &&
               holder->irql().load(std::memory_order_relaxed) < DISPATCH_LEVEL;
    };
    if (!below_on_this_processor()) return;
    timespec pause{0, 2'000'000}; // 2 ms: far longer than any window between a release and its lowering
    nanosleep(&pause, nullptr);
    if (!below_on_this_processor()) return;
    Report r = lock_wait_deadlock(t, lock, s);
    char text[600];
    std::snprintf(text, sizeof text,
                  "thread %d waits at DISPATCH_LEVEL on processor %u for a lock held by thread %d of the same "
                  "processor, which is below DISPATCH_LEVEL (it dropped the IRQL while holding the lock): on Windows "
                  "that thread never runs on this processor again, so the wait never ends",
                  t.os_tid.load(std::memory_order_relaxed), t.processor().load(std::memory_order_relaxed),
                  holder->os_tid.load(std::memory_order_relaxed));
    r.explanation = text;
    if (VerifierThread *hv = verifier_thread_of(*holder)) {
        const int slot = find_held(*hv, lock);
        if (slot >= 0) {
            r.other = hv->held[slot].site();
            r.other_role = "held by that thread since";
        }
    }
    report(r);
}

} // namespace

void on_wait(model::ThreadState &t, observe::WaitPhase phase) noexcept {
    if (phase == observe::WaitPhase::SlowPath) {
        untime_open_holds(&t);
        return;
    }
    if (phase == observe::WaitPhase::Begin) {
        untime_open_holds(&t);
        if (!check_interrupted_holder(t, false)) check_same_processor_holder(t);
        return;
    }
    if (phase != observe::WaitPhase::StillWaiting) return;
    if (check_interrupted_holder(t, true)) return;
    // A wait with a timeout ends by itself: only a wait without one can be a deadlock.
    if (t.wait.until_ns.load(std::memory_order_relaxed) != 0) return;
    const std::uint64_t waited = platform::monotonic_ns() - t.wait.since_ns.load(std::memory_order_relaxed);
    if (waited >= observe::g_watchdog_limit_ns.load(std::memory_order_relaxed)) report_deadlock(t, waited / 1'000'000);
}

} // namespace ndislock::verifier
