#include "verifier/rw_checks.h"

#include <cstdarg>
#include <cstdio>

#include "platform/format.h"

namespace ndislock::verifier {

using observe::LockEvent;
using observe::Rule;
using observe::RwKind;
using observe::RwMode;
using observe::Variant;

namespace {

using platform::format;

// The acquire variant a release of this form pairs with (EX_SPIN_LOCK and NDIS 5 have one release
// form per acquire family; a Try acquisition is released as its AtDpcLevel form).
Variant release_family(Variant v) noexcept {
    switch (v) {
    case Variant::ExTrySharedAtDpc:
        return Variant::ExSharedAtDpc;
    case Variant::ExTryExclusiveAtDpc:
        return Variant::ExExclusiveAtDpc;
    case Variant::RwExReadAtDispatch:
        return Variant::RwExRead;
    case Variant::RwExWriteAtDispatch:
        return Variant::RwExWrite;
    default:
        return v;
    }
}

[[gnu::cold, gnu::noinline]] void report_recursion(const LockEvent &e, const Shadow *s, const HeldLock &held,
                                                   bool write_while_read) {
    const char *call = observe::variant_name(e.variant);
    Report r =
        write_while_read
            ? report_base(Rule::RwLockWriteWhileRead, e, s,
                          format("%s on a lock this thread holds for read: a write waits for every reader to "
                                 "leave, this one included, so on Windows the processor waits for itself forever "
                                 "(no promotion from read to write: release the read first%s)",
                                 call,
                                 observe::rw_kind(e.variant) == RwKind::Ex
                                     ? ", or use ExTryConvertSharedSpinLockExclusive"
                                     : ""))
            : report_base(Rule::RwLockRecursion, e, s,
                          format("%s on an EX_SPIN_LOCK this thread already holds (as %s): EX_SPIN_LOCK allows no "
                                 "recursion of any kind; on Windows it deadlocks",
                                 call, observe::variant_name(held.variant)));
    r.other = held.site();
    r.other_role = "already acquired at";
    // A try never waits: on Windows it returns what the lock word allows (FALSE against a hold
    // that excludes it), so the program goes on.
    if (e.variant == Variant::ExTrySharedAtDpc || e.variant == Variant::ExTryExclusiveAtDpc) {
        r.not_terminal = true;
        r.explanation = format("%s on an EX_SPIN_LOCK this thread already holds (as %s): a try never waits, so it "
                               "returns what the lock word allows (%s), as on Windows; EX_SPIN_LOCK allows no "
                               "recursion, and the untried form deadlocks",
                               call, observe::variant_name(held.variant),
                               observe::rw_mode(held.variant) == RwMode::Exclusive || write_while_read
                                   ? "FALSE"
                                   : "TRUE for a share of a shared hold unless a writer waits");
    }
    emit_report(r);
}

[[gnu::cold, gnu::noinline]] void report_state_reused(const LockEvent &e, const Shadow *s, const HeldLock &held) {
    Report r = report_base(Rule::RwLockStateReused, e, s,
                           format("%s with a lock state (%p) that a live acquisition still uses (%s): each acquisition "
                                  "needs its own LOCK_STATE_EX / LOCK_STATE until its release; this acquire overwrites "
                                  "the saved IRQL and mode the other release will read",
                                  observe::variant_name(e.variant), e.state, observe::variant_name(held.variant)));
    r.other = held.site();
    r.other_role = "the state's live acquisition at";
    emit_report(r);
}

} // namespace

void check_rw_acquire(const LockEvent &e, const VerifierThread &v, const Shadow *s) {
    const unsigned depth = v.depth.load(std::memory_order_relaxed);
    if (e.state != nullptr) {
        for (unsigned i = 0; i < depth && i < kMaxHeld; ++i) {
            if (v.held[i].state != e.state) continue;
            report_state_reused(e, s, v.held[i]);
            break;
        }
    }
    int shared = -1, exclusive = -1; // a hold of this lock in each mode, if any
    for (unsigned i = 0; i < depth && i < kMaxHeld; ++i) {
        if (v.held[i].lock.load(std::memory_order_relaxed) != e.lock) continue;
        (observe::rw_mode(v.held[i].variant) == RwMode::Exclusive ? exclusive : shared) = static_cast<int>(i);
    }
    if (shared < 0 && exclusive < 0) return;
    const bool wants_write = observe::rw_mode(e.variant) == RwMode::Exclusive;
    switch (observe::rw_kind(e.variant)) {
    case RwKind::NdisEx:
        // Read within read or write, write within write: allowed. Write within a read (and no write
        // of ours under it) waits for our own read.
        if (wants_write && shared >= 0 && exclusive < 0) report_recursion(e, s, v.held[shared], true);
        break;
    case RwKind::Ndis5:
        break; // every nesting is allowed (a write skips its own processor's readers)
    case RwKind::Ex:
        if (wants_write && shared >= 0 && exclusive < 0)
            report_recursion(e, s, v.held[shared], true);
        else
            report_recursion(e, s, v.held[exclusive >= 0 ? exclusive : shared], false);
        break;
    case RwKind::None:
        break;
    }
}

int find_rw_release(const LockEvent &e, const VerifierThread &v, const Shadow *s) {
    const unsigned depth = v.depth.load(std::memory_order_relaxed);
    int match = -1, any = -1;
    for (unsigned i = depth < kMaxHeld ? depth : kMaxHeld; i-- > 0;) {
        if (v.held[i].lock.load(std::memory_order_relaxed) != e.lock) continue;
        if (any < 0) any = static_cast<int>(i);
        if (e.state == nullptr || v.held[i].state == e.state) {
            match = static_cast<int>(i);
            break;
        }
    }
    if (any < 0) return -1;
    if (match < 0) {
        const HeldLock &h = v.held[any];
        Report r = report_base(Rule::RwLockStateMismatch, e, s,
                               format("%s with lock state %p, but this thread's acquisition of the lock filled %p: "
                                      "the release restores the IRQL and mode saved in the state it is given, so "
                                      "swapped states restore another acquisition's IRQL (the innermost acquisition "
                                      "is taken as released)",
                                      observe::release_name(e.variant), e.state, h.state));
        r.other = h.site();
        r.other_role = "the lock's acquisition at";
        emit_report(r);
        return any;
    }
    const HeldLock &h = v.held[match];
    const Variant expected = release_family(h.variant), got = release_family(e.variant);
    const bool mode_differs = observe::rw_mode(h.variant) != observe::rw_mode(e.variant);
    if (expected != got) {
        const bool state_kind = observe::rw_kind(e.variant) != RwKind::Ex;
        Report r = state_kind && mode_differs &&
                           !(e.variant == Variant::NdisRwDprRead || e.variant == Variant::NdisRwDprWrite ||
                             h.variant == Variant::NdisRwDprRead || h.variant == Variant::NdisRwDprWrite)
                       ? report_base(Rule::RwLockStateMismatch, e, s,
                                     format("%s with a lock state whose mode was changed since %s filled it",
                                            observe::release_name(e.variant), observe::variant_name(h.variant)))
                       : report_base(Rule::ReleaseVariantMismatch, e, s,
                                     format("acquired with %s but released with %s (expected %s)%s",
                                            observe::variant_name(h.variant), observe::release_name(e.variant),
                                            observe::release_name(h.variant),
                                            mode_differs ? ": the lock is released in a mode it is not held in"
                                                         : ": the IRQL the acquire raised is never restored, or one it "
                                                           "never raised is lowered"));
        r.other = h.site();
        r.other_role = "acquired at";
        emit_report(r);
    }
    return match;
}

bool holds_exclusive(const VerifierThread &v, const void *lock, int skip) noexcept {
    const unsigned depth = v.depth.load(std::memory_order_relaxed);
    for (unsigned i = 0; i < depth && i < kMaxHeld; ++i)
        if (static_cast<int>(i) != skip && v.held[i].lock.load(std::memory_order_relaxed) == lock &&
            observe::rw_mode(v.held[i].variant) == RwMode::Exclusive)
            return true;
    return false;
}

} // namespace ndislock::verifier
