// The verifier's observer table: every hook of checks_*.cpp (and the watchdog's and the wait
// order's) installed in observe::Observer, each apart from the driver's time while the sentinel
// counts (Apart).
#include "verifier/checks_internal.h"

#include "verifier/wait_order.h"

namespace ndislock::verifier {

namespace {

// Every hook of the verifier's observer: inside a SlowWork while the sentinel counts one of the
// thread's holds or runs (one load otherwise: S5 pays for every hook).
// The calling thread: the lock events carry it (no thread-local read on the hot path).
inline model::ThreadState *calling_thread(const observe::LockEvent &e) noexcept { return e.thread; }
template <typename Other> inline model::ThreadState *calling_thread(const Other &) noexcept {
    return model::tls_thread;
}

template <auto Hook> struct Apart;
template <typename First, typename... A, void (*Hook)(First, A...) noexcept> struct Apart<Hook> {
    // The SlowWork out of line: the common call is then a tail call to the hook, with no frame of
    // its own to build and take down (S5 pays for two hooks a pair).
    [[gnu::cold, gnu::noinline]] static void counted(VerifierThread *v, First first, A... args) noexcept {
        const SlowWork apart(v);
        Hook(first, args...);
    }
    static void call(First first, A... args) noexcept {
        model::ThreadState *t = calling_thread(first);
        VerifierThread *v = t != nullptr ? verifier_table_of(*t) : nullptr;
        if (__builtin_expect(v == nullptr || !v->beat_counted.load(std::memory_order_relaxed), 1))
            return Hook(first, args...);
        counted(v, first, args...);
    }
};

} // namespace

const observe::Observer kVerifierObserver = [] {
    observe::Observer o;
    o.lock_initialized = Apart<on_initialized>::call;
    o.lock_freed = Apart<on_freed>::call;
    o.acquiring = Apart<on_acquiring>::call;
    o.acquired = Apart<on_acquired>::call;
    o.acquired_at_once = on_acquired_at_once; // Apart's work in it (checks_internal.h, lock_path_hook)
    o.try_failed = Apart<on_try_failed>::call;
    o.releasing = on_releasing; // the same
    o.irql_changed = Apart<on_irql_changed>::call;
    o.wait = on_wait;
    o.thread_exiting = on_thread_exiting;
    o.misuse = on_misuse;
    o.lock_named = on_lock_named;
    o.other_call = on_other_call;
    o.callback_entered = Apart<on_callback_entered>::call;
    o.callback_returned = Apart<on_callback_returned>::call;
    o.rw_converted = Apart<on_rw_converted>::call;
    o.wait_lock = Apart<on_wait_lock>::call;
    o.schedule_boundary = on_schedule_boundary;
    o.scenario_returned = on_scenario_returned;
    return o;
}();

} // namespace ndislock::verifier
