// A lock's life: initialized (LockReinitialized), freed (LockFreedWhileHeld, a second free), named,
// and first seen in use (adopted: LockNotInitialized, LockUsedAfterFree).
#include "verifier/checks_internal.h"

#include "observe/lock_names.h"
#include "verifier/instance_order.h"
#include "verifier/lock_classes.h"
#include "verifier/settings.h"

namespace ndislock::verifier {

namespace {

// A lock first seen in use: reports it never allocated or already freed, then adopts it so the
// rest of the checks can run.
[[gnu::cold, gnu::noinline]] Shadow *adopt(const LockEvent &e, const char *call) {
    // A freed lock is known freed whatever the verifier missed (the record of frees is emptied
    // when it is switched on again); a lock never seen allocated is uninitialized only if the
    // verifier has watched since the start.
    const bool freed = recently_freed(e.lock);
    // A use after free is a use of the freed lock: its name (dropped at the free) is its class.
    const char *name = freed ? observe::last_lock_name(e.lock) : observe::lock_name(e.lock);
    // A release through a standard guard keeps no site, so its site may still be the header's.
    const std::uint32_t cls = name != nullptr             ? class_for_name(name)
                              : library_file(e.site.file) ? class_for_first_use(driver_site_from_stack(e.site))
                                                          : class_for_first_use(e.site);
    // An EX_SPIN_LOCK is a LONG the driver zeroes: there is no call to have missed.
    const bool never_announced = observe::rw_kind(e.variant) == observe::RwKind::Ex;
    if (!never_announced && (freed || g_settings.on_since_start.load(std::memory_order_relaxed))) {
        Report r =
            freed ? base(Rule::LockUsedAfterFree, e, nullptr,
                         format("%s on a lock that NdisFreeSpinLock freed: allocate it again before any use", call))
                  : base(Rule::LockNotInitialized, e, nullptr,
                         format("%s on a lock never set up by NdisAllocateSpinLock or KeInitializeSpinLock (a "
                                "zeroed struct is not an initialized lock)",
                                call));
        r.lock_class = cls;
        emit(r);
    }
    return shadow_insert(e.lock, cls);
}

} // namespace

// Past the thread's cache: the table, else adoption. call_name names the call, for the report of
// a lock never allocated or already freed (called only then).
[[gnu::noinline]] Shadow *shadow_uncached(ShadowCacheSlot &c, const LockEvent &e, const char *(*call_name)(Variant)) {
    const SlowWork slow(e.thread != nullptr ? verifier_table_of(*e.thread) : nullptr);
    Shadow *s = shadow_find(e.lock);
    if (s == nullptr) s = adopt(e, call_name(e.variant));
    if (s != nullptr) c = {e.lock, s};
    return s;
}

namespace {

void on_initialized_at(const LockEvent &e) noexcept {
    forget_instance_pairs(e.lock); // a new lock: the old one's order with others is not its own
    const char *name = observe::lock_name(e.lock);
    // An initialization inside a helper of the driver's: its class is also the helper's call site
    // (lock_classes.h). Not inside an emulated interrupt, where no unwinding is safe.
    const void *caller = name == nullptr && e.irql <= DISPATCH_LEVEL ? caller_of_frame(e.site.return_address) : nullptr;
    const std::uint32_t cls = name != nullptr ? class_for_name(name) : class_for_site(e.site, caller);
    // Found or created in one call (a new entry has no holder); the old class stays for the report.
    Shadow *s = shadow_insert(e.lock, cls);
    if (s == nullptr) return;
    if (live_holder(s, e.lock) != nullptr) {
        Report r = base(Rule::LockReinitialized, e, s,
                        e.ndis ? "NdisAllocateSpinLock on a lock that is held: the holder's release will free a "
                                 "lock nobody holds"
                               : "KeInitializeSpinLock on a lock that is held: the holder's release will free a "
                                 "lock nobody holds");
        int tid = 0;
        if (holder_site(s, e.lock, &r.other, &tid)) r.other_role = "held since";
        emit(r);
    }
    s->lock_class.store(static_cast<std::uint16_t>(cls), std::memory_order_relaxed);
    s->holder.store(0, std::memory_order_relaxed);
    s->mode.store(LockMode::Unknown, std::memory_order_relaxed);
}

} // namespace

void on_freed(const LockEvent &e) noexcept {
    forget_instance_pairs(e.lock);
    Shadow *s = shadow_find(e.lock);
    if (s == nullptr) {
        if (recently_freed(e.lock))
            emit(base(Rule::LockUsedAfterFree, e, nullptr, "NdisFreeSpinLock on a lock already freed"));
        else if (g_settings.on_since_start.load(std::memory_order_relaxed))
            emit(base(Rule::LockNotInitialized, e, nullptr,
                      "NdisFreeSpinLock on a lock never set up by NdisAllocateSpinLock"));
        return;
    }
    if (live_holder(s, e.lock) != nullptr || e.busy) {
        Report r = base(Rule::LockFreedWhileHeld, e, s,
                        observe::is_rw(e.variant) ? "NdisFreeRWLock on a lock that is held (for read or write)"
                                                  : "NdisFreeSpinLock on a lock that is held");
        int tid = 0;
        if (holder_site(s, e.lock, &r.other, &tid)) r.other_role = "held since";
        emit(r);
    }
    shadow_remove(s, e.lock);
}

void on_lock_named(const void *lock, const char *name) noexcept {
    if (Shadow *s = shadow_find(lock))
        s->lock_class.store(static_cast<std::uint16_t>(class_for_name(name)), std::memory_order_relaxed);
}

void on_initialized(const LockEvent &e) noexcept { with_driver_site<on_initialized_at>(e); }

} // namespace ndislock::verifier
