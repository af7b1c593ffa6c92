// The lock order of a spin-lock acquire: a chain of classes not checked before records its edges in
// the order graph (lock_order.h) and reports LockOrderInversion, with both orders' sites. The
// chain starts with the mutexes, fast mutexes and resources the thread holds (wait_order.h).
#include "verifier/checks_internal.h"

#include "verifier/instance_order.h"
#include "verifier/lock_classes.h"
#include "verifier/wait_order.h"

namespace ndislock::verifier {

namespace {

// A LockOrderInversion's two-column scenario: what this thread holds and wants, what the earlier
// order held and wanted, and where each held lock was taken.
std::string inversion_scenario(const std::string &holds, const std::string &wants, const std::string &earlier_holds,
                               const std::string &earlier_wants, const Site &held_since, int earlier_thread,
                               const Site &earlier_since) {
    return format("  scenario:\n    %-44s %s\n    holds %-38s holds %s\n    wants %-38s wants %s\n"
                  "    (held since %s; first seen on thread %d: holding since %s)\n",
                  "this thread", "the earlier order", holds.c_str(), earlier_holds.c_str(), wants.c_str(),
                  earlier_wants.c_str(), site_string(held_since).c_str(), earlier_thread,
                  site_string(earlier_since).c_str());
}

} // namespace

[[gnu::cold, gnu::noinline]] void check_same_class_order(const LockEvent &e, VerifierThread &v, const Shadow *s,
                                                         unsigned slot) {
    const HeldLock &h = v.held[slot];
    const void *held = h.lock.load(std::memory_order_relaxed);
    if (held == e.lock) return;                                   // recursion: its own rule
    if (shared_hold(h.variant) && shared_hold(e.variant)) return; // two reads wait for neither
    InstancePairSeen reverse;
    bool inverted;
    {
        const SlowWork slow(&v);
        const platform::OwnTimeStamp before = platform::own_time_now();
        inverted = note_instance_pair(held, e.lock, e.site, h.site(), e.thread->os_tid.load(std::memory_order_relaxed),
                                      &reverse);
        credit_verifier_work(v, v.depth.load(std::memory_order_relaxed), before);
    }
    if (!inverted) return;
    const std::string cls = class_string(h.lock_class);
    Report r = base(Rule::LockOrderInversion, e, s,
                    format("%s takes lock %p while holding lock %p, both of class %s, but elsewhere %p was taken "
                           "while holding %p: two threads taking these two locks in these two orders can deadlock "
                           "(one class is no order between its own locks: take them in one order everywhere, as "
                           "a list walked hand over hand does)",
                           observe::variant_name(e.variant), e.lock, held, cls.c_str(), held, e.lock));
    r.other = reverse.site;
    r.other_role = "the other order first seen at";
    r.scenario = inversion_scenario(format("lock %p", held), format("lock %p", e.lock), format("lock %p", e.lock),
                                    format("lock %p", held), h.site(), reverse.thread, reverse.held_site);
    emit(r);
}

// A chain of classes not checked before: record its edges, report an inversion.
[[gnu::noinline]] void check_new_chain(const LockEvent &e, VerifierThread &v, const Shadow *s, unsigned depth,
                                       std::uint32_t wanted, std::uint64_t key) {
    // The mutexes, fast mutexes and resources held first (taken by sleeping, they come before
    // any spin lock), then the spin locks.
    HeldForOrder held[kMaxWaitHeld + kMaxHeld];
    const unsigned sleeping = wait_holds_for_order(v, held);
    for (unsigned i = 0; i < depth; ++i)
        held[sleeping + i] = {v.held[i].lock_class, v.held[i].site(), shared_hold(v.held[i].variant)};
    Inversion inv{};
    // The graph search and its mutex are the verifier's time, not the holds' (depth != 0 here).
    const SlowWork slow(&v);
    const platform::OwnTimeStamp before = platform::own_time_now();
    const bool inverted = check_and_record_order(held, sleeping + depth, wanted, shared_hold(e.variant), e.site,
                                                 e.thread->os_tid.load(std::memory_order_relaxed), key, &inv);
    credit_verifier_work(v, depth, before);
    if (!inverted) return;
    std::string text;
    if (inv.path_length <= 2) {
        text = format("%s takes %s while holding %s, but elsewhere %s was taken while holding %s: two threads "
                      "taking them in these two orders can deadlock",
                      observe::variant_name(e.variant), class_string(inv.wanted_class).c_str(),
                      class_string(inv.held_class).c_str(), class_string(inv.earlier_to).c_str(),
                      class_string(inv.earlier_from).c_str());
    } else {
        // The earlier order passes through other classes: name each step of the cycle.
        std::string steps;
        for (unsigned i = 0; i + 1 < inv.path_length; ++i) {
            if (inv.path_cut && i + 2 == inv.path_length) steps += "..., ";
            steps += format("%s%s%s before %s", i == 0 ? "" : ", ", class_string(inv.path[i]).c_str(),
                            i == 0 ? " was taken" : "", class_string(inv.path[i + 1]).c_str());
        }
        text = format("%s takes %s while holding %s, but elsewhere %s: with this acquire the orders form a cycle of "
                      "%s%u lock classes, and as many threads each taking one step of it can deadlock",
                      observe::variant_name(e.variant), class_string(inv.wanted_class).c_str(),
                      class_string(inv.held_class).c_str(), steps.c_str(), inv.path_cut ? "more than " : "",
                      inv.path_length);
    }
    Report r = base(Rule::LockOrderInversion, e, s, std::move(text));
    r.other = inv.earlier_to_site;
    r.other_role = "the other order first seen at";
    r.scenario =
        inversion_scenario(class_string(inv.held_class), class_string(inv.wanted_class), class_string(inv.earlier_from),
                           class_string(inv.earlier_to), inv.held_site, inv.earlier_thread, inv.earlier_from_site);
    emit(r);
}

} // namespace ndislock::verifier
