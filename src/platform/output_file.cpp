#include "platform/output_file.h"

#include <cstdio>

#include "platform/diagnostics.h"

namespace ndislock::platform {

bool prepare_output_file(const char *path, const char *what, const char *consequence) noexcept {
    if (path == nullptr || *path == '\0') {
        diagnostic("%s: no path given", what);
        return false;
    }
    std::FILE *f = std::fopen(path, "w");
    if (f == nullptr) {
        diagnostic("%s: cannot write '%s': %s", what, path, consequence);
        return false;
    }
    std::fclose(f);
    return true;
}

} // namespace ndislock::platform
