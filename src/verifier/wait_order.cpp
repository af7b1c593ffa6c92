#include "verifier/wait_order.h"

#include "observe/lock_names.h"
#include "platform/diagnostics.h"
#include "platform/format.h"
#include "verifier/findings.h"
#include "verifier/lock_classes.h"
#include "verifier/rw_checks.h"
#include "verifier/shadow.h"
#include "verifier/sites.h"

namespace ndislock::verifier {

namespace {

using observe::WaitLockEvent;
using observe::WaitLockKind;
using observe::WaitLockPhase;

constexpr std::uint32_t kSharedLink = 0x80000000u; // as checks_internal.h's chain_class: a read is another link

bool shared(WaitLockKind kind) noexcept { return kind == WaitLockKind::ResourceShared; }

// The object's class: from its initialization, or adopted at this first use (initialized while
// the verifier was off).
std::uint32_t class_of(const WaitLockEvent &e) noexcept {
    if (const Shadow *s = shadow_find(e.object)) return s->lock_class.load(std::memory_order_relaxed);
    const std::uint32_t cls = class_for_first_use(e.site);
    const Shadow *s = shadow_insert(e.object, cls);
    return s != nullptr ? s->lock_class.load(std::memory_order_relaxed) : cls;
}

void initialized(const WaitLockEvent &e) noexcept {
    const char *name = observe::lock_name(e.object);
    const std::uint32_t cls = name != nullptr ? class_for_name(name) : class_for_site(e.site);
    Shadow *s = shadow_insert(e.object, cls);
    if (s == nullptr) return;
    s->lock_class.store(static_cast<std::uint16_t>(cls), std::memory_order_relaxed);
    s->holder.store(0, std::memory_order_relaxed);
    s->mode.store(LockMode::Unknown, std::memory_order_relaxed);
}

// The chain keys (lock_order.h) of what v holds: its sleeping locks, then its spin locks, whose
// keys follow on (checks_internal.h's chain_at). Redone when the sleeping locks change.
void rechain(VerifierThread &v) noexcept {
    std::uint64_t key = kChainStart;
    for (unsigned i = 0, d = v.wait_depth.load(std::memory_order_relaxed); i < d; ++i) {
        const auto kind = static_cast<WaitLockKind>(v.wait_held[i].kind.load(std::memory_order_relaxed));
        key = chain_extend(key, v.wait_held[i].lock_class | (shared(kind) ? kSharedLink : 0));
    }
    v.wait_chain = key;
    for (unsigned i = 0, d = v.depth.load(std::memory_order_relaxed); i < d && i < kMaxHeld; ++i) {
        const bool read = observe::rw_mode(v.held[i].variant) == observe::RwMode::Shared;
        key = chain_extend(key, v.held[i].lock_class | (read ? kSharedLink : 0));
        v.held[i].chain = key;
    }
}

// "mutex allocated at ..." for a class this thread holds: the kind of the lock it holds of it.
std::string held_string(const VerifierThread &v, std::uint32_t cls) {
    for (unsigned i = 0, d = v.wait_depth.load(std::memory_order_relaxed); i < d && i < kMaxWaitHeld; ++i)
        if (v.wait_held[i].lock_class == cls)
            return std::string(observe::wait_lock_name(
                       static_cast<WaitLockKind>(v.wait_held[i].kind.load(std::memory_order_relaxed)))) +
                   " " + class_string(cls);
    return "spin lock " + class_string(cls);
}

void report_inversion(const WaitLockEvent &e, const VerifierThread &v, std::uint32_t wanted, const Inversion &inv) {
    Report r(observe::Rule::LockOrderInversion);
    r.site = e.site;
    r.thread = e.thread;
    r.lock = e.object;
    r.lock_class = wanted;
    r.explanation = platform::format(
        "%s on %s %p (%s) while holding %s, but elsewhere %s was taken while holding %s: two threads taking "
        "them in these two orders can deadlock",
        e.call, observe::wait_lock_name(e.kind), e.object, class_string(inv.wanted_class).c_str(),
        held_string(v, inv.held_class).c_str(), class_string(inv.earlier_to).c_str(),
        class_string(inv.earlier_from).c_str());
    r.other = inv.earlier_to_site;
    r.other_role = "the other order first seen at";
    r.scenario = platform::format("  scenario:\n    %-44s %s\n    holds %-38s holds %s\n    wants %-38s wants %s\n"
                                  "    (held since %s; first seen on thread %d: holding since %s)\n",
                                  "this thread", "the earlier order", class_string(inv.held_class).c_str(),
                                  class_string(inv.earlier_from).c_str(), class_string(inv.wanted_class).c_str(),
                                  class_string(inv.earlier_to).c_str(), site_string(inv.held_site).c_str(),
                                  inv.earlier_thread, site_string(inv.earlier_from_site).c_str());
    emit_report(r);
}

// A wait that may sleep for a lock: the order of everything held before it.
void check_order(const WaitLockEvent &e, VerifierThread &v) {
    if (e.kind == WaitLockKind::Object || !e.may_block) return; // an event is no lock; a poll never sleeps
    if (find_wait_held(v, e.object) >= 0) return;               // its owner's recursion: no edge
    if (v.overflowed || v.wait_overflowed) return;              // the table is not the whole truth
    HeldForOrder held[kMaxWaitHeld + kMaxHeld];
    unsigned n = wait_holds_for_order(v, held);
    const unsigned depth = v.depth.load(std::memory_order_relaxed);
    for (unsigned i = 0; i < depth && i < kMaxHeld; ++i)
        held[n++] = {v.held[i].lock_class, v.held[i].site(),
                     observe::rw_mode(v.held[i].variant) == observe::RwMode::Shared};
    if (n == 0) return;
    const std::uint32_t wanted = class_of(e);
    const std::uint64_t top = depth == 0 ? v.wait_chain : v.held[depth - 1].chain;
    const std::uint64_t key = chain_extend(top, wanted | (shared(e.kind) ? kSharedLink : 0));
    if (chain_checked(key)) return;
    Inversion inv{};
    if (check_and_record_order(held, n, wanted, shared(e.kind), e.site,
                               e.thread->os_tid.load(std::memory_order_relaxed), key, &inv))
        report_inversion(e, v, wanted, inv);
}

void acquiring(const WaitLockEvent &e, VerifierThread &v) {
    v.wait_wanting_file.store(e.site.file, std::memory_order_relaxed);
    v.wait_wanting_line.store(e.site.line, std::memory_order_relaxed);
    v.wait_wanting_function.store(e.site.function, std::memory_order_relaxed);
    v.wait_wanting_return.store(e.site.return_address, std::memory_order_relaxed);
    v.wait_wanting_call.store(e.call, std::memory_order_relaxed);
    v.wait_wanting.store(e.object, std::memory_order_release);
    check_order(e, v);
}

void acquired(const WaitLockEvent &e, VerifierThread &v) noexcept {
    if (const int slot = find_wait_held(v, e.object); slot >= 0) {
        ++v.wait_held[slot].count;
        return;
    }
    const unsigned d = v.wait_depth.load(std::memory_order_relaxed);
    if (d >= kMaxWaitHeld) {
        if (!v.wait_overflowed)
            platform::diagnostic("verifier: thread %d holds more than %u mutexes, fast mutexes and resources at once; "
                                 "their order is not checked until it holds none",
                                 e.thread->os_tid.load(std::memory_order_relaxed), kMaxWaitHeld);
        v.wait_overflowed = true;
        return;
    }
    WaitHeld &h = v.wait_held[d];
    h.object.store(e.object, std::memory_order_relaxed);
    h.file.store(e.site.file, std::memory_order_relaxed);
    h.line.store(e.site.line, std::memory_order_relaxed);
    h.function.store(e.site.function, std::memory_order_relaxed);
    h.return_address.store(e.site.return_address, std::memory_order_relaxed);
    h.kind.store(static_cast<std::uint8_t>(e.kind), std::memory_order_relaxed);
    h.lock_class = class_of(e);
    h.count = 1;
    v.wait_depth.store(d + 1, std::memory_order_release);
    rechain(v);
}

void move_entry(WaitHeld &to, const WaitHeld &from) noexcept {
    to.object.store(from.object.load(std::memory_order_relaxed), std::memory_order_relaxed);
    to.file.store(from.file.load(std::memory_order_relaxed), std::memory_order_relaxed);
    to.line.store(from.line.load(std::memory_order_relaxed), std::memory_order_relaxed);
    to.function.store(from.function.load(std::memory_order_relaxed), std::memory_order_relaxed);
    to.return_address.store(from.return_address.load(std::memory_order_relaxed), std::memory_order_relaxed);
    to.kind.store(from.kind.load(std::memory_order_relaxed), std::memory_order_relaxed);
    to.lock_class = from.lock_class;
    to.count = from.count;
}

void releasing(const WaitLockEvent &e, VerifierThread &v) noexcept {
    const int slot = find_wait_held(v, e.object);
    if (slot < 0) return; // taken while the verifier was off, or past the table
    if (--v.wait_held[slot].count != 0) return;
    const unsigned d = v.wait_depth.load(std::memory_order_relaxed);
    for (unsigned i = static_cast<unsigned>(slot); i + 1 < d; ++i)
        move_entry(v.wait_held[i], v.wait_held[i + 1]);
    v.wait_depth.store(d - 1, std::memory_order_release);
    if (d - 1 == 0) v.wait_overflowed = false;
    rechain(v);
}

} // namespace

void on_wait_lock(const WaitLockEvent &e) noexcept {
    if (e.thread == nullptr) return;
    VerifierThread &v = verifier_thread(*e.thread);
    switch (e.phase) {
    case WaitLockPhase::Initialized:
        return initialized(e);
    case WaitLockPhase::Acquiring:
        return acquiring(e, v);
    case WaitLockPhase::Acquired:
        return acquired(e, v);
    case WaitLockPhase::WaitEnded:
        return v.wait_wanting.store(nullptr, std::memory_order_release);
    case WaitLockPhase::Releasing:
        return releasing(e, v);
    }
}

unsigned wait_holds_for_order(const VerifierThread &v, HeldForOrder *out) noexcept {
    if (v.wait_overflowed) return 0;
    const unsigned d = v.wait_depth.load(std::memory_order_relaxed);
    for (unsigned i = 0; i < d; ++i) {
        const auto kind = static_cast<WaitLockKind>(v.wait_held[i].kind.load(std::memory_order_relaxed));
        out[i] = {v.wait_held[i].lock_class, v.wait_held[i].site(), shared(kind)};
    }
    return d;
}

int find_wait_held(const VerifierThread &v, const void *object) noexcept {
    const unsigned d = v.wait_depth.load(std::memory_order_acquire);
    for (unsigned i = 0; i < d && i < kMaxWaitHeld; ++i)
        if (v.wait_held[i].object.load(std::memory_order_relaxed) == object) return static_cast<int>(i);
    return -1;
}

void describe_wait_holds(const VerifierThread &v, std::string &out) {
    const unsigned d = v.wait_depth.load(std::memory_order_acquire);
    for (unsigned i = 0; i < d && i < kMaxWaitHeld; ++i) {
        const WaitHeld &h = v.wait_held[i];
        const auto kind = static_cast<WaitLockKind>(h.kind.load(std::memory_order_relaxed));
        out += platform::format("      holds %s %p %s, taken at %s%s\n", observe::wait_lock_name(kind),
                                h.object.load(std::memory_order_relaxed), class_string(h.lock_class).c_str(),
                                site_string(h.site()).c_str(),
                                h.count > 1 ? platform::format(" (%u times)", h.count).c_str() : "");
    }
}

bool waiting_call(const VerifierThread &v, observe::Site *site, const char **call) noexcept {
    if (v.wait_wanting.load(std::memory_order_acquire) == nullptr) return false;
    *site = observe::Site{
        v.wait_wanting_file.load(std::memory_order_relaxed), v.wait_wanting_line.load(std::memory_order_relaxed),
        v.wait_wanting_function.load(std::memory_order_relaxed), v.wait_wanting_return.load(std::memory_order_relaxed)};
    *call = v.wait_wanting_call.load(std::memory_order_relaxed);
    return true;
}

std::uint32_t wait_lock_class(const void *object) noexcept {
    const Shadow *s = shadow_find(object);
    return s != nullptr ? s->lock_class.load(std::memory_order_relaxed) : kOverflowClass;
}

model::ThreadState *wait_lock_holder(const void *object, const model::ThreadState *except) noexcept {
    struct Search {
        const void *object;
        const model::ThreadState *except;
        model::ThreadState *found;
    } search{object, except, nullptr};
    model::for_each_thread(
        [](model::ThreadState &each, void *context) {
            auto &s = *static_cast<Search *>(context);
            if (s.found != nullptr || &each == s.except) return;
            if (const VerifierThread *v = verifier_thread_of(each); v != nullptr && find_wait_held(*v, s.object) >= 0)
                s.found = &each;
        },
        &search);
    return search.found;
}

} // namespace ndislock::verifier
