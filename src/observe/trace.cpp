// The timeline (trace.h): per-thread rings of events while the program runs, one JSON file at the
// end. The format is the Chrome trace event format (chrome://tracing, ui.perfetto.dev): process 1
// holds one track per thread (lock holds, waits, driver routines, findings), process 2 one IRQL
// counter per virtual processor.
#include "observe/trace.h"

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <pthread.h>
#include <set>
#include <string>
#include <vector>

#include "model/thread_state.h"
#include "observe/hooks.h"
#include "observe/lock_names.h"
#include "platform/clock.h"
#include "platform/diagnostics.h"
#include "platform/output_file.h"
#include "platform/context_local.h"

namespace ndislock::observe::trace {
namespace {

enum class Kind : std::uint8_t {
    Acquired,  // obj = lock, a = variant, b = contended
    Releasing, // obj = lock
    TryFailed, // obj = lock
    Irql,      // a = the thread's IRQL from now on (raise, lower, raising acquire, lowering release)
    WaitBegin, // obj = what it waits for, a = lock::WaitKind
    WaitEnd,
    CallbackBegin, // obj = routine, aux = the interrupt's arrow id (0: none), a = Callback, b = IRQL
    CallbackEnd,
    Asserted, // obj = interrupt, aux = arrow id, processor = target
    Finding,  // obj = rule id (a static string), aux = file (static), line in extra
};

struct Event {
    std::uint64_t ns;
    const void *obj;
    std::uintptr_t aux;
    std::uint32_t processor; // the thread's processor at the event (Asserted: the target)
    std::uint32_t extra;
    Kind kind;
    std::uint8_t a;
    std::uint8_t b;
    bool system; // the recording thread is an interrupt or DPC thread
    int tid;     // the recording thread: a ring serves one thread at a time, several in turn
};
static_assert(sizeof(Event) == 40, "the thread's identity fits in the event's former padding");

// A ring is owned by one live thread at a time. When its thread ends, the ring is retired, not
// freed: its events stay until a trace writes them, and the next thread to need a ring continues
// in it (overwriting the oldest events only once it is full, counted as dropped like any
// overwrite). So the rings number the most threads that recorded at once, not every thread that
// ever did.
struct Ring {
    std::atomic<bool> owned{false};
    int tid = 0;         // the owner's, copied into each event it records
    bool system = false; // an interrupt or DPC thread
    std::atomic<std::uint64_t> head{0};
    Ring *next = nullptr;
    Event events[kRingEvents];
};

std::atomic<bool> g_recording{false};
std::atomic<Ring *> g_rings{nullptr}; // every ring ever allocated (never freed: bounded, above)
std::atomic<unsigned> g_ring_count{0};
std::atomic<std::uint64_t> g_arrow_ids{0};
// Pending arrows: the last assertion of each (interrupt, processor), taken by its ISR's entry.
constexpr unsigned kArrowSlots = 256;
struct ArrowSlot {
    std::atomic<const void *> interrupt{nullptr};
    std::atomic<std::uint32_t> processor{0};
    std::atomic<std::uint64_t> id{0};
};
ArrowSlot g_arrows[kArrowSlots];

std::mutex g_control; // start/stop
std::string g_path;
std::uint64_t g_start_ns = 0;
thread_local Ring *tl_ring = nullptr;
NDISLOCK_CONTEXT_LOCAL(tl_ring); // follows the context (platform/context_local.h)

std::uint64_t span(std::uint64_t from, std::uint64_t to) noexcept { return to > from ? to - from : 0; }

unsigned arrow_slot(const void *interrupt, std::uint32_t processor) noexcept {
    const auto x = reinterpret_cast<std::uintptr_t>(interrupt) ^ (std::uintptr_t{processor} * 0x9E3779B97F4A7C15ull);
    return static_cast<unsigned>((x >> 4) ^ (x >> 20)) % kArrowSlots;
}

// A retired ring, now the caller's: the one with the fewest events since the trace began (the
// most room before the previous owners' events are overwritten); nullptr if every ring is owned.
Ring *reuse_ring() noexcept {
    for (int attempt = 0; attempt < 4; ++attempt) {
        Ring *best = nullptr;
        for (Ring *r = g_rings.load(std::memory_order_acquire); r != nullptr; r = r->next)
            if (!r->owned.load(std::memory_order_relaxed) &&
                (best == nullptr ||
                 r->head.load(std::memory_order_relaxed) < best->head.load(std::memory_order_relaxed)))
                best = r;
        if (best == nullptr) return nullptr;
        bool retired = false;
        if (best->owned.compare_exchange_strong(retired, true, std::memory_order_acquire, std::memory_order_relaxed))
            return best;
    }
    return nullptr; // others took each one first: a new ring
}

Ring *new_ring() noexcept {
    Ring *r = new (std::nothrow) Ring;
    if (r == nullptr) return nullptr;
    r->owned.store(true, std::memory_order_relaxed);
    Ring *head = g_rings.load(std::memory_order_relaxed);
    do
        r->next = head;
    while (!g_rings.compare_exchange_weak(head, r, std::memory_order_release, std::memory_order_relaxed));
    g_ring_count.fetch_add(1, std::memory_order_relaxed);
    return r;
}

// The thread ends: its ring is retired (pthread key destructors run at a thread's end, after its
// C++ thread_local destructors; one that records again takes a ring again and sets the key again,
// and glibc then calls this again). Not for the main thread, whose end is the process's.
void retire_ring(void *ring) noexcept {
    static_cast<Ring *>(ring)->owned.store(false, std::memory_order_release);
    tl_ring = nullptr;
}

pthread_key_t ring_key() noexcept {
    static const pthread_key_t key = [] {
        pthread_key_t k{};
        if (pthread_key_create(&k, retire_ring) != 0) platform::fatal("trace: pthread_key_create failed");
        platform::register_context_key(k, retire_ring); // a fiber's ring is retired as it ends
        return k;
    }();
    return key;
}

[[gnu::noinline]] Ring *adopt_ring() noexcept {
    const pthread_key_t key = ring_key();
    Ring *r = reuse_ring();
    if (r == nullptr) r = new_ring();
    if (r == nullptr) return nullptr;
    r->tid = 0;
    r->system = false;
    if (model::ThreadState *t = model::tls_thread) {
        r->tid = t->os_tid.load(std::memory_order_relaxed);
        r->system = t->system;
    }
    if (pthread_setspecific(key, r) != 0) { // without it the ring would never be retired
        r->owned.store(false, std::memory_order_release);
        return nullptr;
    }
    tl_ring = r;
    return r;
}

Ring *ring() noexcept {
    if (__builtin_expect(tl_ring != nullptr, 1)) return tl_ring;
    return adopt_ring(); // this thread's first event (or its first since its ring was retired)
}

void record(Kind kind, const void *obj, std::uintptr_t aux, std::uint8_t a, std::uint8_t b, std::uint32_t extra,
            const model::ThreadState *t, std::uint32_t processor_override = ~0u) noexcept {
    if (!g_recording.load(std::memory_order_relaxed)) return;
    Ring *r = ring();
    if (r == nullptr) return;
    const std::uint64_t h = r->head.load(std::memory_order_relaxed);
    Event &e = r->events[h % kRingEvents];
    e.ns = platform::monotonic_ns();
    e.obj = obj;
    e.aux = aux;
    e.processor = processor_override != ~0u ? processor_override
                  : t != nullptr            ? t->processor().load(std::memory_order_relaxed)
                                            : 0;
    e.extra = extra;
    e.kind = kind;
    e.a = a;
    e.b = b;
    e.system = r->system;
    e.tid = r->tid;
    r->head.store(h + 1, std::memory_order_release);
}

void on_acquired(const LockEvent &e, bool contended) noexcept {
    record(Kind::Acquired, e.lock, 0, static_cast<std::uint8_t>(e.variant), contended ? 1 : 0, 0, e.thread);
    if (raising(e.variant) && e.irql < DISPATCH_LEVEL) record(Kind::Irql, nullptr, 0, DISPATCH_LEVEL, 0, 0, e.thread);
}
void on_acquired_at_once(const LockEvent &e) noexcept { on_acquired(e, false); }
void on_try_failed(const LockEvent &e) noexcept { record(Kind::TryFailed, e.lock, 0, 0, 0, 0, e.thread); }
void on_releasing(const LockEvent &e) noexcept {
    record(Kind::Releasing, e.lock, 0, static_cast<std::uint8_t>(e.variant), 0, 0, e.thread);
    if (e.new_irql != e.irql) record(Kind::Irql, nullptr, 0, e.new_irql, 0, 0, e.thread);
}
void on_irql_changed(const IrqlEvent &e) noexcept { record(Kind::Irql, nullptr, 0, e.to, 0, 0, e.thread); }
void on_wait(model::ThreadState &t, WaitPhase phase) noexcept {
    if (phase == WaitPhase::Begin)
        record(Kind::WaitBegin, t.wait.object.load(std::memory_order_relaxed), 0,
               static_cast<std::uint8_t>(t.wait.kind.load(std::memory_order_relaxed)), 0, 0, &t);
    else if (phase == WaitPhase::End)
        record(Kind::WaitEnd, nullptr, 0, 0, 0, 0, &t);
}
void on_callback_entered(const CallbackEvent &e) noexcept {
    std::uint64_t arrow = 0;
    if (e.kind == Callback::Isr) {
        const std::uint32_t p = e.thread != nullptr ? e.thread->processor().load(std::memory_order_relaxed) : 0;
        ArrowSlot &s = g_arrows[arrow_slot(e.object, p)];
        if (s.interrupt.load(std::memory_order_acquire) == e.object && s.processor.load(std::memory_order_relaxed) == p)
            arrow = s.id.exchange(0, std::memory_order_relaxed);
    }
    record(Kind::CallbackBegin, e.routine, arrow, static_cast<std::uint8_t>(e.kind), e.irql, 0, e.thread);
}
void on_callback_returned(const CallbackEvent &e, std::uint64_t) noexcept {
    record(Kind::CallbackEnd, e.routine, 0, static_cast<std::uint8_t>(e.kind), e.irql, 0, e.thread);
}

constexpr Observer kObserver = [] {
    Observer o{};
    o.acquired = on_acquired;
    o.acquired_at_once = on_acquired_at_once;
    o.try_failed = on_try_failed;
    o.releasing = on_releasing;
    o.irql_changed = on_irql_changed;
    o.wait = on_wait;
    o.callback_entered = on_callback_entered;
    o.callback_returned = on_callback_returned;
    return o;
}();

// ---- Writing ---------------------------------------------------------------------------------

struct Stamped {
    Event e;
};

const char *wait_name(std::uint8_t kind) noexcept {
    switch (static_cast<lock::WaitKind>(kind)) {
    case lock::WaitKind::Processor:
        return "wait for processor";
    case lock::WaitKind::None:
        return "wait";
    default:
        return "wait for lock";
    }
}

std::string lock_label(const void *lock) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%p", lock);
    const char *name = last_lock_name(lock); // the lock may be freed by now
    return name != nullptr ? std::string(name) : std::string(buf);
}

// JSON string contents: quotes, backslashes and control characters escaped.
std::string esc(const std::string &s) {
    std::string out;
    for (const char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char u[8];
            std::snprintf(u, sizeof u, "\\u%04x", c);
            out += u;
        } else {
            out += c;
        }
    }
    return out;
}

class Writer {
public:
    explicit Writer(std::FILE *f, std::uint64_t origin) : f_(f), origin_(origin) {}

    // Microseconds since the trace began, as the format wants, with ns precision.
    std::string us(std::uint64_t ns) const {
        const std::uint64_t d = ns > origin_ ? ns - origin_ : 0;
        char buf[32];
        std::snprintf(buf, sizeof buf, "%" PRIu64 ".%03" PRIu64, d / 1000, d % 1000);
        return buf;
    }
    void event(const std::string &body) {
        std::fprintf(f_, "%s\n{%s}", first_ ? "" : ",", body.c_str());
        first_ = false;
    }

private:
    std::FILE *f_;
    std::uint64_t origin_;
    bool first_ = true;
};

struct OpenHold {
    const void *lock;
    std::uint64_t ns;
    std::uint8_t variant;
    bool contended;
};

// One thread's events in order: holds, waits and routines as complete ("X") events, findings and
// failed tries as instants, arrows' starts and ends.
void write_thread(Writer &w, int tid, const std::vector<Event> &events, std::uint64_t stop_ns,
                  const std::set<std::uintptr_t> &arrows_taken, const std::set<std::uintptr_t> &arrows_asserted) {
    std::vector<OpenHold> holds;
    std::vector<Event> routines;
    bool waiting = false;
    Event wait{};
    const std::string where = "\"pid\":1,\"tid\":" + std::to_string(tid);
    for (const Event &e : events) {
        switch (e.kind) {
        case Kind::Acquired:
            holds.push_back({e.obj, e.ns, e.a, e.b != 0});
            break;
        case Kind::Releasing: {
            // The latest open hold of this lock (a ring that dropped its acquire has none).
            auto it = std::find_if(holds.rbegin(), holds.rend(), [&](const OpenHold &h) { return h.lock == e.obj; });
            if (it == holds.rend()) break;
            char args[160];
            std::snprintf(args, sizeof args, "\"lock\":\"%p\",\"variant\":\"%s\",\"contended\":%s", it->lock,
                          variant_name(static_cast<Variant>(it->variant)), it->contended ? "true" : "false");
            w.event("\"name\":\"" + esc(lock_label(it->lock)) + "\",\"cat\":\"hold\",\"ph\":\"X\",\"ts\":" +
                    w.us(it->ns) + ",\"dur\":" + w.us(span(it->ns, e.ns)) + "," + where + ",\"args\":{" + args + "}");
            holds.erase(std::next(it).base());
            break;
        }
        case Kind::TryFailed:
            w.event("\"name\":\"try failed: " + esc(lock_label(e.obj)) +
                    "\",\"cat\":\"hold\",\"ph\":\"i\",\"s\":\"t\",\"ts\":" + w.us(e.ns) + "," + where);
            break;
        case Kind::WaitBegin:
            waiting = true;
            wait = e;
            break;
        case Kind::WaitEnd:
            if (!waiting) break;
            waiting = false;
            w.event(std::string("\"name\":\"") + wait_name(wait.a) + "\",\"cat\":\"wait\",\"ph\":\"X\",\"ts\":" +
                    w.us(wait.ns) + ",\"dur\":" + w.us(span(wait.ns, e.ns)) + "," + where + ",\"args\":{\"for\":\"" +
                    esc(static_cast<lock::WaitKind>(wait.a) == lock::WaitKind::Processor
                            ? "processor " + std::to_string(wait.processor)
                            : lock_label(wait.obj)) +
                    "\"}");
            break;
        case Kind::CallbackBegin:
            routines.push_back(e);
            if (e.aux != 0 && arrows_asserted.count(e.aux) != 0) // its assertion may have been dropped
                w.event("\"name\":\"interrupt\",\"cat\":\"interrupt\",\"ph\":\"f\",\"bp\":\"e\",\"id\":" +
                        std::to_string(e.aux) + ",\"ts\":" + w.us(e.ns) + "," + where);
            break;
        case Kind::CallbackEnd: {
            auto it = std::find_if(routines.rbegin(), routines.rend(),
                                   [&](const Event &b) { return b.obj == e.obj && b.a == e.a; });
            if (it == routines.rend()) break;
            char args[96];
            std::snprintf(args, sizeof args, "\"routine\":\"%p\",\"irql\":%u,\"processor\":%u", it->obj, it->b,
                          it->processor);
            w.event(std::string("\"name\":\"") + callback_name(static_cast<Callback>(it->a)) +
                    "\",\"cat\":\"routine\",\"ph\":\"X\",\"ts\":" + w.us(it->ns) +
                    ",\"dur\":" + w.us(span(it->ns, e.ns)) + "," + where + ",\"args\":{" + args + "}");
            routines.erase(std::next(it).base());
            break;
        }
        case Kind::Asserted:
            if (arrows_taken.count(e.aux) != 0) // coalesced or dropped assertions start no arrow
                w.event("\"name\":\"interrupt\",\"cat\":\"interrupt\",\"ph\":\"s\",\"id\":" + std::to_string(e.aux) +
                        ",\"ts\":" + w.us(e.ns) + "," + where);
            w.event("\"name\":\"interrupt asserted\",\"cat\":\"interrupt\",\"ph\":\"i\",\"s\":\"t\",\"ts\":" +
                    w.us(e.ns) + "," + where + ",\"args\":{\"processor\":" + std::to_string(e.processor) + "}");
            break;
        case Kind::Finding:
            w.event("\"name\":\"" + esc(static_cast<const char *>(e.obj)) +
                    "\",\"cat\":\"finding\",\"ph\":\"i\",\"s\":\"t\",\"ts\":" + w.us(e.ns) + "," + where +
                    ",\"args\":{\"file\":\"" + esc(e.aux != 0 ? reinterpret_cast<const char *>(e.aux) : "") +
                    "\",\"line\":" + std::to_string(e.extra) + "}");
            break;
        case Kind::Irql:
            break; // per processor: write_irql
        }
    }
    // Still open when the trace stopped: drawn up to the stop, marked open.
    for (const OpenHold &h : holds)
        w.event("\"name\":\"" + esc(lock_label(h.lock)) + "\",\"cat\":\"hold\",\"ph\":\"X\",\"ts\":" + w.us(h.ns) +
                ",\"dur\":" + w.us(span(h.ns, stop_ns)) + "," + where + ",\"args\":{\"open\":true}");
}

// The IRQL of each virtual processor over time: every thread's IRQL events on that processor in
// time order; an ISR's entry raises the processor to its DIRQL and its return puts back what it
// interrupted.
void write_irql(Writer &w, std::vector<Stamped> &all) {
    std::sort(all.begin(), all.end(), [](const Stamped &x, const Stamped &y) { return x.e.ns < y.e.ns; });
    std::map<std::uint32_t, std::vector<unsigned>> stacks; // per processor: IRQLs an ISR interrupted
    std::map<std::uint32_t, unsigned> current;
    for (const Stamped &s : all) {
        const Event &e = s.e;
        unsigned irql;
        if (e.kind == Kind::Irql) {
            irql = e.a;
        } else if (e.kind == Kind::CallbackBegin && e.b > DISPATCH_LEVEL) {
            stacks[e.processor].push_back(current[e.processor]);
            irql = e.b;
        } else if (e.kind == Kind::CallbackEnd && e.b > DISPATCH_LEVEL && !stacks[e.processor].empty()) {
            irql = stacks[e.processor].back();
            stacks[e.processor].pop_back();
        } else {
            continue;
        }
        current[e.processor] = irql;
        w.event("\"name\":\"IRQL vp" + std::to_string(e.processor) + "\",\"cat\":\"irql\",\"ph\":\"C\",\"ts\":" +
                w.us(e.ns) + ",\"pid\":2,\"args\":{\"IRQL\":" + std::to_string(irql) + "}");
    }
}

bool write_file(const std::string &path, std::uint64_t origin, std::uint64_t stop_ns) {
    std::FILE *f = std::fopen(path.c_str(), "w");
    if (f == nullptr) return false;
    Writer w(f, origin);
    std::fprintf(f, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[");
    w.event("\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"args\":{\"name\":\"threads\"}");
    w.event("\"name\":\"process_name\",\"ph\":\"M\",\"pid\":2,\"args\":{\"name\":\"virtual processors (IRQL)\"}");
    std::uint64_t dropped = 0;
    std::vector<Stamped> irql_events;
    // An arrow is drawn when both its ends are still in the rings: the assertion, and the entry
    // of the ISR that took it.
    std::set<std::uintptr_t> arrows_taken, arrows_asserted;
    for (const Ring *r = g_rings.load(std::memory_order_acquire); r != nullptr; r = r->next) {
        const std::uint64_t last = r->head.load(std::memory_order_acquire);
        for (std::uint64_t i = last > kRingEvents ? last - kRingEvents : 0; i < last; ++i) {
            const Event &e = r->events[i % kRingEvents];
            if (e.kind == Kind::CallbackBegin && e.aux != 0) arrows_taken.insert(e.aux);
            if (e.kind == Kind::Asserted) arrows_asserted.insert(e.aux);
        }
    }
    std::set<int> named; // threads whose track has its name
    for (const Ring *r = g_rings.load(std::memory_order_acquire); r != nullptr; r = r->next) {
        const std::uint64_t last = r->head.load(std::memory_order_acquire);
        const std::uint64_t first = last > kRingEvents ? last - kRingEvents : 0;
        dropped += first;
        // The ring's threads in turn (each one's events in its order): one track each.
        std::map<int, std::vector<Event>> threads;
        std::map<int, bool> system;
        for (std::uint64_t i = first; i < last; ++i) {
            const Event &e = r->events[i % kRingEvents];
            threads[e.tid].push_back(e);
            system[e.tid] = e.system;
            if (e.kind == Kind::Irql || e.kind == Kind::CallbackBegin || e.kind == Kind::CallbackEnd)
                irql_events.push_back({e});
        }
        for (const auto &[tid, events] : threads) {
            if (named.insert(tid).second)
                w.event("\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":" + std::to_string(tid) +
                        ",\"args\":{\"name\":\"" + (system[tid] ? "interrupt/DPC thread " : "thread ") +
                        std::to_string(tid) + "\"}");
            write_thread(w, tid, events, stop_ns, arrows_taken, arrows_asserted);
        }
    }
    write_irql(w, irql_events);
    std::fprintf(f,
                 "\n],\"otherData\":{\"producer\":\"ndislock\",\"dropped_events\":%" PRIu64
                 ",\"ring_events\":%u,\"rings\":%u}}\n",
                 dropped, kRingEvents, g_ring_count.load(std::memory_order_relaxed));
    const bool ok = std::ferror(f) == 0;
    return std::fclose(f) == 0 && ok;
}

void at_exit() { stop(); }

} // namespace

bool recording() noexcept { return g_recording.load(std::memory_order_relaxed); }

bool start(const char *path) noexcept {
    if (path == nullptr || *path == '\0') return platform::prepare_output_file(path, "trace", "");
    if (recording()) stop();
    std::lock_guard<std::mutex> guard(g_control);
    if (!platform::prepare_output_file(path, "trace", "no trace will be recorded")) return false;
    try {
        g_path = path;
    } catch (...) {
        return false;
    }
    for (Ring *r = g_rings.load(std::memory_order_acquire); r != nullptr; r = r->next)
        r->head.store(0, std::memory_order_relaxed); // the owner threads are not recording: no race
    g_start_ns = platform::monotonic_ns();
    g_recording.store(true, std::memory_order_release);
    if (add_observer(&kObserver) < 0) {
        g_recording.store(false, std::memory_order_relaxed);
        platform::diagnostic("trace: no free observer slot; no trace will be recorded");
        return false;
    }
    return true;
}

bool stop() noexcept {
    std::lock_guard<std::mutex> guard(g_control);
    if (!g_recording.exchange(false, std::memory_order_acq_rel)) return false;
    remove_observer(&kObserver);
    const std::uint64_t stop_ns = platform::monotonic_ns();
    bool ok = false;
    try {
        ok = write_file(g_path, g_start_ns, stop_ns);
    } catch (...) {
        ok = false;
    }
    if (!ok) platform::diagnostic("trace: could not write '%s'", g_path.c_str());
    return ok;
}

void configure_from_environment() noexcept {
    static std::once_flag once;
    std::call_once(once, [] {
        const char *path = std::getenv("NDISLOCK_TRACE");
        if (path == nullptr || *path == '\0') return;
        if (start(path)) std::atexit(at_exit);
    });
}

void interrupt_asserted(const void *interrupt, std::uint32_t processor) noexcept {
    if (!recording()) return;
    const std::uint64_t id = g_arrow_ids.fetch_add(1, std::memory_order_relaxed) + 1;
    // Stamped before the slot offers the arrow: an ISR already under way (for an assertion this
    // one coalesces with) may take it at once, and its entry must not be stamped before the start.
    record(Kind::Asserted, interrupt, id, 0, 0, 0, model::tls_thread, processor);
    ArrowSlot &s = g_arrows[arrow_slot(interrupt, processor)];
    s.processor.store(processor, std::memory_order_relaxed);
    s.id.store(id, std::memory_order_relaxed);
    s.interrupt.store(interrupt, std::memory_order_release);
}

void finding(const char *rule_id, const char *file, int line) noexcept {
    if (!recording()) return;
    record(Kind::Finding, rule_id, reinterpret_cast<std::uintptr_t>(file), 0, 0,
           line > 0 ? static_cast<std::uint32_t>(line) : 0, model::tls_thread);
}

} // namespace ndislock::observe::trace
