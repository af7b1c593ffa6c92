// The calling thread's identity (ndislock/wdk_threads.h). The thread object is the tag a KMUTEX's
// OwnerThread holds (interrupt/dispatcher.h), so a driver comparing the two sees what Windows shows.
#define NDISLOCK_NO_SITE_MACROS
#include "ndislock/wdk.h"

#include <unistd.h>

#include <cstdint>

#include "api/spin_lock_ops.h"
#include "interrupt/dispatcher.h"

using namespace ndislock;
using namespace ndislock::api;

extern "C" {

NDISLOCK_API PKTHREAD KeGetCurrentThread(VOID) { return interrupt::thread_tag(this_thread()); }

NDISLOCK_API PETHREAD PsGetCurrentThread(VOID) {
    return reinterpret_cast<PETHREAD>(interrupt::thread_tag(this_thread()));
}

NDISLOCK_API HANDLE PsGetCurrentThreadId(VOID) {
    const auto tid = this_thread().os_tid.load(std::memory_order_relaxed);
    return reinterpret_cast<HANDLE>(static_cast<std::uintptr_t>(tid));
}

NDISLOCK_API HANDLE PsGetCurrentProcessId(VOID) {
    return reinterpret_cast<HANDLE>(static_cast<std::uintptr_t>(getpid()));
}

} // extern "C"
