#include "explore/race.h"

#include <cstdint>
#include <cstdio>

#include "explore/scheduler.h"
#include "explore/strategy.h"
#include "observe/hooks.h"
#include "observe/rules.h"

namespace ndislock::explore::race {

namespace {

// A vector clock: one logical clock per context of the schedule.
struct Clock {
    std::uint32_t c[kMaxContexts] = {};
    void join(const Clock &o) noexcept {
        for (unsigned i = 0; i < kMaxContexts; ++i)
            if (o.c[i] > c[i]) c[i] = o.c[i];
    }
};

struct Site {
    const char *file = nullptr;
    int line = 0;
};

// The annotated accesses to one byte range [begin, end), exactly as annotated: its last write as an
// epoch, and each context's last read since that write (clock 0: none).
struct Cell {
    std::uintptr_t begin = 0, end = 0;
    std::uint32_t write_clock = 0;
    unsigned write_context = 0;
    Site write_site;
    std::uint32_t read_clock[kMaxContexts] = {};
    Site read_site[kMaxContexts];
};

// A synchronization object's clocks: what every release published (exclusive acquires join it),
// and what the exclusive releases published (shared acquires join that only).
struct Object {
    const void *address = nullptr;
    Clock all, exclusive;
};

struct Shadow {
    Clock threads[kMaxContexts];
    Cell cells[kMaxCells];
    unsigned cell_count = 0;
    Object objects[kMaxObjects];
    unsigned object_count = 0;
    Object overflow; // every object past kMaxObjects: one clock for all
};

// While an exploration runs, and only if the lock observer found a slot: without the lock edges
// every guarded access would look like a race, so then nothing is checked (docs/explore.md).
Shadow *g_shadow = nullptr;

Object &object_of(Shadow &s, const void *address) noexcept {
    for (unsigned i = 0; i < s.object_count; ++i)
        if (s.objects[i].address == address) return s.objects[i];
    if (s.object_count == kMaxObjects) return s.overflow;
    Object &o = s.objects[s.object_count++];
    o = Object{};
    o.address = address;
    return o;
}

// ---- The lock observer: each context's lock operations as happens-before edges ----------------

void on_acquired(const observe::LockEvent &e, bool) noexcept {
    const int c = current_context();
    if (c >= 0) acquire(static_cast<unsigned>(c), e.lock, observe::rw_mode(e.variant) == observe::RwMode::Shared);
}

void on_releasing(const observe::LockEvent &e) noexcept {
    const int c = current_context();
    if (c >= 0) release(static_cast<unsigned>(c), e.lock, observe::rw_mode(e.variant) == observe::RwMode::Shared);
}

// ExTryConvertSharedSpinLockExclusive: the only holder now, after every other reader released.
void on_converted(const observe::LockEvent &e) noexcept {
    const int c = current_context();
    if (c >= 0) acquire(static_cast<unsigned>(c), e.lock, false);
}

// Mutexes, fast mutexes and executive resources: the same edges as a spin lock (a shared resource
// hold as a reader's). A wait for any other dispatcher object (Object) is no edge here.
void on_wait_lock(const observe::WaitLockEvent &e) noexcept {
    const int c = current_context();
    if (c < 0 || e.kind == observe::WaitLockKind::Object) return;
    const bool shared = e.kind == observe::WaitLockKind::ResourceShared;
    if (e.phase == observe::WaitLockPhase::Acquired) acquire(static_cast<unsigned>(c), e.object, shared);
    if (e.phase == observe::WaitLockPhase::Releasing) release(static_cast<unsigned>(c), e.object, shared);
}

// Events (KeSetEvent, NdisSetEvent -> a satisfied wait), and whatever else the layers below tell
// as a synchronization (observe::notify_synchronizes).
void on_synchronizes(const void *object, bool is_release) noexcept {
    const int c = current_context();
    if (c < 0) return;
    if (is_release)
        release(static_cast<unsigned>(c), object);
    else
        acquire(static_cast<unsigned>(c), object);
}

constexpr observe::Observer kObserver = [] {
    observe::Observer o{};
    o.acquired = on_acquired; // also after an acquire that took the lock at once
    o.releasing = on_releasing;
    o.rw_converted = on_converted;
    o.wait_lock = on_wait_lock;
    o.synchronizes = on_synchronizes;
    return o;
}();

// ---- Reports -------------------------------------------------------------------------------------

const char *verb(bool write, bool past) noexcept {
    if (write) return past ? "wrote" : "writes";
    return past ? "read" : "reads";
}

// In the verifier's shape (docs/verifier.md, "Reading a report"): what happened, then the
// offending access's line, the other party's, and the Windows analogue.
void describe(char *message, std::size_t size, unsigned context, bool write, std::uintptr_t begin, std::size_t bytes,
              const char *file, int line, unsigned other, bool other_write, const Cell &cell,
              const Site &other_site) noexcept {
    std::snprintf(message, size,
                  "thread %u %s %zu bytes at %p; thread %u %s %zu bytes at %p before it, and happens-before does not "
                  "order the two (no lock release to acquire, no spawn between them)\n"
                  "  at %s:%d, the %s by thread %u\n"
                  "  %s at %s:%d by thread %u\n"
                  "  Windows: %s",
                  context, verb(write, false), bytes, reinterpret_cast<void *>(begin), other, verb(other_write, true),
                  static_cast<std::size_t>(cell.end - cell.begin), reinterpret_cast<void *>(cell.begin),
                  file ? file : "?", line, write ? "write" : "read", context, other_write ? "written" : "read",
                  other_site.file ? other_site.file : "?", other_site.line, other,
                  observe::rule_info(observe::Rule::DataRace).windows);
}

} // namespace

void begin_exploration() noexcept {
    if (observe::add_observer(&kObserver) >= 0) g_shadow = new Shadow;
}

void end_exploration() noexcept {
    observe::remove_observer(&kObserver);
    delete g_shadow;
    g_shadow = nullptr;
}

void begin_schedule() noexcept {
    if (g_shadow == nullptr) return; // off: no observer slot
    Shadow &s = *g_shadow;
    for (unsigned i = 0; i < kMaxContexts; ++i) {
        s.threads[i] = Clock{};
        s.threads[i].c[i] = 1; // a context's accesses carry clocks from 1: 0 is "none"
    }
    s.cell_count = 0;
    s.object_count = 0;
    s.overflow = Object{};
}

void spawned(int parent, unsigned child) noexcept {
    if (g_shadow == nullptr || child >= kMaxContexts) return;
    Shadow &s = *g_shadow;
    Clock &c = s.threads[child];
    c = Clock{};
    if (parent >= 0 && static_cast<unsigned>(parent) < kMaxContexts) {
        Clock &p = s.threads[parent];
        c.join(p);
        ++p.c[parent]; // what the parent does next is not before the child
    }
    ++c.c[child]; // the child's own accesses are after what it was given
}

void release(unsigned context, const void *object, bool shared) noexcept {
    if (g_shadow == nullptr || context >= kMaxContexts) return;
    Shadow &s = *g_shadow;
    Clock &t = s.threads[context];
    Object &o = object_of(s, object);
    o.all.join(t);
    if (!shared) o.exclusive.join(t);
    ++t.c[context]; // what the releaser does next is not before the next acquire
}

void acquire(unsigned context, const void *object, bool shared) noexcept {
    if (g_shadow == nullptr || context >= kMaxContexts) return;
    Shadow &s = *g_shadow;
    const Object &o = object_of(s, object);
    s.threads[context].join(shared ? o.exclusive : o.all);
}

bool access(unsigned context, const volatile void *address, std::size_t size, bool write, const char *file, int line,
            char *message, std::size_t message_size) noexcept {
    if (g_shadow == nullptr || context >= kMaxContexts || size == 0) return false;
    Shadow &s = *g_shadow;
    const Clock &now = s.threads[context];
    const auto begin = reinterpret_cast<std::uintptr_t>(const_cast<const void *>(address));
    const std::uintptr_t end = begin + size;
    Cell *own = nullptr;
    for (unsigned i = 0; i < s.cell_count; ++i) {
        Cell &cell = s.cells[i];
        if (cell.end <= begin || end <= cell.begin) continue; // no byte in common
        if (cell.begin == begin && cell.end == end) own = &cell;
        // The last write conflicts with any access; happens-before orders it when this context has
        // seen the writer's clock at that write.
        if (cell.write_clock != 0 && cell.write_context != context && cell.write_clock > now.c[cell.write_context]) {
            describe(message, message_size, context, write, begin, size, file, line, cell.write_context, true, cell,
                     cell.write_site);
            return true;
        }
        if (!write) continue;
        for (unsigned u = 0; u < kMaxContexts; ++u)
            if (u != context && cell.read_clock[u] != 0 && cell.read_clock[u] > now.c[u]) {
                describe(message, message_size, context, true, begin, size, file, line, u, false, cell,
                         cell.read_site[u]);
                return true;
            }
    }
    if (own == nullptr) {
        if (s.cell_count == kMaxCells) return false; // documented: not tracked
        own = &s.cells[s.cell_count++];
        *own = Cell{};
        own->begin = begin;
        own->end = end;
    }
    if (write) {
        // Every read of the cell is before this write (checked above): later accesses that this
        // write precedes are after them too, so only the write need be kept.
        own->write_clock = now.c[context];
        own->write_context = context;
        own->write_site = {file, line};
        for (unsigned u = 0; u < kMaxContexts; ++u)
            own->read_clock[u] = 0;
    } else {
        own->read_clock[context] = now.c[context];
        own->read_site[context] = {file, line};
    }
    return false;
}

} // namespace ndislock::explore::race
