// The library's side of the inline fast path (ndislock/fast_path.h): the slow ends the inline code
// calls are exported here. What both sides read needs no check of its own: model::ThreadState,
// model::Processor and lock::parking::Bucket embed the structs of ndislock/detail/fast_layout.h as
// their first members (their headers assert the position and the line stride), and the biased
// flag, the bucket count and the bucket hash come from that header too. The two exported words the
// inline path reads that are not in those structs are checked for size here.
#include "ndislock/fast_path.h"

#include "api/spin_lock_ops.h"
#include "lock/parking.h"
#include "lock/queued_lock.h"
#include "lock/spin_word.h"
#include "model/processors.h"
#include "model/thread_state.h"
#include "observe/hooks.h"
#include "platform/membarrier.h"

static_assert(sizeof(ndislock::observe::g_active_observers) == sizeof(unsigned));

extern "C" {

#if NDISLOCK_TSAN
// A ThreadSanitizer build never uses asymmetric fences (platform/membarrier.h): the inline
// releases always call out of line.
NDISLOCK_API unsigned char ndislock_fast_asymmetric = 0;
#else
static_assert(sizeof(ndislock::platform::g_asymmetric_fences) == sizeof(unsigned char));
#endif

// The inline acquire found the word held: wait for it as the out-of-line acquire would.
NDISLOCK_API void ndislock_fast_acquire_contended(PKSPIN_LOCK SpinLock) {
    ndislock::lock::spin_acquire_contended(SpinLock);
}

// The inline release freed the word and found sleepers in its bucket.
NDISLOCK_API void ndislock_fast_release_wake(PKSPIN_LOCK SpinLock) { ndislock::lock::spin_release_slow(SpinLock); }

// The inline entry or leave found its processor's bias revoked meanwhile: the revoker waits for
// this thread's IRQL to drop below DISPATCH_LEVEL.
NDISLOCK_API void ndislock_fast_wake_revoker(ULONG Processor) {
    ndislock::model::wake_revoker(ndislock::model::g_processors[Processor]);
}

// How a queued join ended, as the out-of-line acquire reports it: a word that held an ordinary
// acquisition is the misuse report.
static void report_join(ndislock::lock::QueueJoin join, PKSPIN_LOCK SpinLock, const char *file, int line,
                        const char *func) {
    if (join == ndislock::lock::QueueJoin::WordHeldByOrdinaryAcquire)
        ndislock::api::queued_word_corrupt(SpinLock, NDISLOCK_SITE(file, line, func));
}

// The inline queued acquire of earlier headers, which tried a compare-exchange of the word first
// (kept for programs built against them): join the queue and wait as the out-of-line acquire does.
NDISLOCK_API void ndislock_fast_queued_acquire_contended(PKSPIN_LOCK SpinLock, PKLOCK_QUEUE_HANDLE LockHandle,
                                                         const char *file, int line, const char *func) {
    report_join(ndislock::lock::queued_acquire(SpinLock, &LockHandle->LockQueue), SpinLock, file, line, func);
}

// The inline queued acquire swapped its entry into a taken word: wait behind the previous tail as
// the out-of-line acquire does.
NDISLOCK_API void ndislock_fast_queued_wait(PKSPIN_LOCK SpinLock, PKLOCK_QUEUE_HANDLE LockHandle, KSPIN_LOCK Previous,
                                            const char *file, int line, const char *func) {
    report_join(ndislock::lock::queued_wait_behind(SpinLock, &LockHandle->LockQueue, Previous), SpinLock, file, line,
                func);
}

// The inline queued release found a successor linked or joining: hand the lock over.
NDISLOCK_API void ndislock_fast_queued_hand_off(PKLOCK_QUEUE_HANDLE LockHandle) {
    ndislock::lock::queued_release(&LockHandle->LockQueue);
}

} // extern "C"
