// Waits that never end: the verifier's watchdog. ndislock's waits (for a spin lock, a queue
// position, a processor) report themselves at their start and every 50 ms (lock/wait_observer.h).
// At the start, a wait that Windows could never finish is reported at once; past the watchdog
// limit, any wait is a Deadlock: the report names every waiting thread, what it waits for, who
// holds that and where it took it, and everything each holds. Then the process ends, instead of
// hanging CI.
#include <cstdio>
#include <string>

#include "model/processors.h"
#include "platform/clock.h"
#include "verifier/checks.h"
#include "verifier/findings.h"
#include "verifier/held_locks.h"
#include "verifier/lock_classes.h"
#include "verifier/settings.h"
#include "verifier/shadow.h"
#include "verifier/sites.h"

namespace ndislock::verifier {

namespace {

std::atomic<bool> g_reporting{false};

// The thread holding what t waits for, if known.
model::ThreadState *holder_of_wait(model::ThreadState &t, std::string *what) {
    const auto kind = t.wait_kind.load(std::memory_order_acquire);
    const void *object = t.wait_object.load(std::memory_order_relaxed);
    if (kind == lock::WaitKind::Processor) {
        const auto index = static_cast<std::uint32_t>(static_cast<const model::Processor *>(object) - model::g_processors);
        char buffer[64];
        std::snprintf(buffer, sizeof buffer, "processor %u (to run at DISPATCH_LEVEL)", index);
        *what = buffer;
        return model::thread_by_id(model::processor_owner(index));
    }
    const Shadow *s = shadow_find(object);
    char buffer[600];
    std::snprintf(buffer, sizeof buffer, "lock %p %s", object,
                  s != nullptr ? class_string(s->lock_class.load(std::memory_order_relaxed)).c_str() : "");
    *what = buffer;
    return s != nullptr ? model::thread_by_id(s->holder.load(std::memory_order_relaxed)) : nullptr;
}

void describe_thread(model::ThreadState &t, std::string &out) {
    char line[1200];
    std::snprintf(line, sizeof line, "    thread %d on processor %u at IRQL %u:\n", t.os_tid,
                  t.processor.load(std::memory_order_relaxed), t.irql.load(std::memory_order_relaxed));
    out += line;
    if (VerifierThread *v = verifier_thread_of(t)) {
        const unsigned depth = v->depth.load(std::memory_order_acquire);
        for (unsigned i = 0; i < depth && i < kMaxHeld; ++i) {
            std::snprintf(line, sizeof line, "      holds %s, taken at %s\n", class_string(v->held[i].lock_class).c_str(),
                          site_string(v->held[i].site()).c_str());
            out += line;
        }
    }
    if (t.wait_kind.load(std::memory_order_acquire) != lock::WaitKind::None) {
        std::string what;
        model::ThreadState *holder = holder_of_wait(t, &what);
        const std::uint64_t waited =
            (platform::monotonic_ns() - t.wait_since_ns.load(std::memory_order_relaxed)) / 1'000'000;
        std::snprintf(line, sizeof line, "      waits %llu ms for %s", static_cast<unsigned long long>(waited),
                      what.c_str());
        out += line;
        if (VerifierThread *v = verifier_thread_of(t); v != nullptr && v->wanting.load() != nullptr) {
            out += ", wanted at " + site_string(v->wanting_site);
        }
        if (holder != nullptr) {
            std::snprintf(line, sizeof line, ", held by thread %d", holder->os_tid);
            out += line;
        }
        out += "\n";
    }
}

void report_deadlock(model::ThreadState &t, std::uint64_t waited_ms) {
    if (g_reporting.exchange(true)) return; // one report; the process ends after it
    Report r(observe::Rule::Deadlock);
    r.thread = &t;
    std::string what;
    model::ThreadState *holder = holder_of_wait(t, &what);
    VerifierThread *v = verifier_thread_of(t);
    r.site = v != nullptr ? v->wanting_site : observe::Site{};
    if (t.wait_kind.load(std::memory_order_acquire) != lock::WaitKind::Processor) { // a processor is no lock
        r.lock = t.wait_object.load(std::memory_order_relaxed);
        if (const Shadow *s = shadow_find(r.lock)) r.lock_class = s->lock_class.load(std::memory_order_relaxed);
    }
    char text[900];
    std::snprintf(text, sizeof text,
                  "thread %d has waited %llu ms (the watchdog limit is %llu ms) for %s%s: it will wait forever",
                  t.os_tid, static_cast<unsigned long long>(waited_ms),
                  static_cast<unsigned long long>(g_settings.watchdog_ns.load() / 1'000'000), what.c_str(),
                  holder != nullptr ? "" : " (holder unknown)");
    r.explanation = text;
    if (holder != nullptr) {
        if (VerifierThread *hv = verifier_thread_of(*holder)) {
            const int slot = find_held(*hv, r.lock);
            if (slot >= 0) {
                r.other = hv->held[slot].site();
                r.other_role = "held by its holder since";
            }
        }
    }
    r.scenario = "  every waiting thread, what it holds and what it waits for:\n";
    model::for_each_thread(
        [](model::ThreadState &each, void *out) {
            std::string &text_out = *static_cast<std::string *>(out);
            VerifierThread *ev = verifier_thread_of(each);
            const bool holds = ev != nullptr && ev->depth.load(std::memory_order_acquire) != 0;
            if (holds || each.wait_kind.load(std::memory_order_acquire) != lock::WaitKind::None)
                describe_thread(each, text_out);
        },
        &r.scenario);
    report(r);
}

// A thread at DISPATCH_LEVEL waiting for a lock whose holder runs on the same processor below
// DISPATCH_LEVEL: on Windows the holder could never run again on that processor.
void check_same_processor_holder(model::ThreadState &t) {
    const auto kind = t.wait_kind.load(std::memory_order_acquire);
    if (kind != lock::WaitKind::SpinLock && kind != lock::WaitKind::QueuedSpinLock) return;
    if (t.irql.load(std::memory_order_relaxed) < DISPATCH_LEVEL) return;
    const void *lock = t.wait_object.load(std::memory_order_relaxed);
    const Shadow *s = shadow_find(lock);
    if (s == nullptr) return;
    model::ThreadState *holder = model::thread_by_id(s->holder.load(std::memory_order_relaxed));
    if (holder == nullptr || holder == &t) return;
    if (holder->processor.load(std::memory_order_relaxed) != t.processor.load(std::memory_order_relaxed) ||
        holder->irql.load(std::memory_order_relaxed) >= DISPATCH_LEVEL)
        return;
    Report r(observe::Rule::Deadlock);
    r.thread = &t;
    VerifierThread *v = verifier_thread_of(t);
    r.site = v != nullptr ? v->wanting_site : observe::Site{};
    r.lock = lock;
    r.lock_class = s->lock_class.load(std::memory_order_relaxed);
    char text[600];
    std::snprintf(text, sizeof text,
                  "thread %d waits at DISPATCH_LEVEL on processor %u for a lock held by thread %d of the same "
                  "processor, which is below DISPATCH_LEVEL (it dropped the IRQL while holding the lock): on Windows "
                  "that thread never runs on this processor again, so the wait never ends",
                  t.os_tid, t.processor.load(std::memory_order_relaxed), holder->os_tid);
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
        check_same_processor_holder(t);
        return;
    }
    if (phase != observe::WaitPhase::StillWaiting) return;
    const std::uint64_t waited = platform::monotonic_ns() - t.wait_since_ns.load(std::memory_order_relaxed);
    if (waited >= g_settings.watchdog_ns.load(std::memory_order_relaxed)) report_deadlock(t, waited / 1'000'000);
}

} // namespace ndislock::verifier
