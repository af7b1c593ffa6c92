// The annotated accesses' C calls (ndislock/explore.h: NdislockExploreRead, NdislockExploreWrite):
// a scheduling point, then the access checked for a data race (explore/race.h).
#include "explore/race.h"
#include "explore/scheduler.h"
#include "ndislock/explore.h"

namespace {

void annotated_access(const volatile void *address, SIZE_T size, bool write, const char *file, int line) noexcept {
    using namespace ndislock::explore;
    const int context = current_context();
    if (context < 0) return; // outside a schedule: a plain access
    yield_point(nullptr, write ? "annotated write" : "annotated read", file,
                line); // the access: when this context next runs
    char message[600];
    if (race::access(static_cast<unsigned>(context), address, size, write, file, line, message, sizeof message))
        fail_current("DataRace", message);
}

} // namespace

extern "C" {

NDISLOCK_API void NdislockExploreRead(const volatile void *Address, SIZE_T Size, const char *File, int Line) {
    annotated_access(Address, Size, false, File, Line);
}

NDISLOCK_API void NdislockExploreWrite(const volatile void *Address, SIZE_T Size, const char *File, int Line) {
    annotated_access(Address, Size, true, File, Line);
}

} // extern "C"
