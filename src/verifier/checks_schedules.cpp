// The verifier inside an exploration's schedules (docs/explore.md, "The verifier in a schedule"):
// each schedule starts from what the verifier knew before the exploration, so that its findings
// depend on its choices alone and its token replays them, in this process or another.
#include "verifier/checks_internal.h"

#include "platform/diagnostics.h"
#include "verifier/class_irql.h"

namespace ndislock::verifier {

void on_schedule_boundary(bool begins) noexcept {
    if (begins) {
        // The scenario's threads run on workers kept from schedule to schedule: what a failed
        // schedule abandoned them holding (and the frees it saw) is forgotten.
        start_table_epoch();
        begin_order_journal();
        begin_class_irql_journal();
        return;
    }
    const bool order = rollback_order_journal();
    const bool classes = rollback_class_irql_journal();
    if (!order || !classes) {
        static std::atomic<bool> said{false};
        if (!said.exchange(true))
            platform::diagnostic("verifier: a schedule taught the %s more than it can take back; what is left "
                                 "stays learnt for the later schedules of the exploration",
                                 !order ? "lock order" : "lock classes' IRQLs");
    }
    start_table_epoch();
}

void on_scenario_returned(model::ThreadState &t, bool abandoned) noexcept {
    if (!abandoned) return check_thread_end(t, "returns from its scenario routine");
    // Longjmp'd out of a report (the finding that failed its schedule), past a SlowWork's end.
    if (VerifierThread *v = verifier_table_of(t)) v->in_verifier.store(0, std::memory_order_relaxed);
}

} // namespace ndislock::verifier
