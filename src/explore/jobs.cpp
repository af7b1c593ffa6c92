#include "explore/jobs.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "platform/affinity.h"

namespace ndislock::explore {

namespace {

struct Child {
    pid_t pid = -1;
    int pipe = -1;
    bool reported = false;
};

bool write_all(int fd, const void *data, std::size_t size) noexcept {
    const char *p = static_cast<const char *>(data);
    while (size != 0) {
        const ssize_t n = ::write(fd, p, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

bool read_all(int fd, void *data, std::size_t size) noexcept {
    char *p = static_cast<char *>(data);
    while (size != 0) {
        const ssize_t n = ::read(fd, p, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

[[noreturn]] void run_child(NDISLOCK_EXPLORE_OPTIONS options, NDISLOCK_EXPLORE_SETUP *setup,
                            NDISLOCK_EXPLORE_CHECK *check, void *context, int out) noexcept {
    auto result = std::make_unique<NDISLOCK_EXPLORE_RESULT>();
    options.Jobs = 1;
    const NDISLOCK_STATUS status = NdislockExplore(&options, setup, check, context, result.get());
    const bool ok = write_all(out, &status, sizeof status) && write_all(out, result.get(), sizeof *result);
    ::_exit(ok ? 0 : 1); // no atexit handler of the parent's program runs twice
}

} // namespace

NDISLOCK_STATUS explore_in_jobs(const NDISLOCK_EXPLORE_OPTIONS &options, NDISLOCK_EXPLORE_SETUP *setup,
                                NDISLOCK_EXPLORE_CHECK *check, void *context, NDISLOCK_EXPLORE_RESULT *result) {
    const unsigned jobs = options.Jobs;
    const unsigned count = options.ShardCount > 1 ? options.ShardCount : 1;
    const unsigned index = options.ShardCount > 1 ? options.ShardIndex : 0;
    std::vector<Child> children(jobs);
    std::fflush(nullptr); // nothing buffered is written twice
    NDISLOCK_STATUS status = NDISLOCK_OK;
    for (unsigned j = 0; j < jobs; ++j) {
        int fds[2];
        if (::pipe(fds) != 0) {
            status = NDISLOCK_IO_ERROR;
            break;
        }
        NDISLOCK_EXPLORE_OPTIONS mine = options;
        mine.ShardCount = count * jobs;
        mine.ShardIndex = index + count * j;
        const pid_t pid = ::fork();
        if (pid == 0) {
            ::close(fds[0]);
            // Each child on a CPU of its own (its exploration keeps its threads on the CPU it
            // starts on: scheduler.cpp), the jobs spread over the allowed CPUs in turn.
            platform::pin_current_thread(platform::nth_allowed_cpu(j));
            run_child(mine, setup, check, context, fds[1]);
        }
        ::close(fds[1]);
        if (pid < 0) {
            ::close(fds[0]);
            status = NDISLOCK_IO_ERROR;
            break;
        }
        children[j].pid = pid;
        children[j].pipe = fds[0];
    }

    auto one = std::make_unique<NDISLOCK_EXPLORE_RESULT>();
    unsigned schedules = 0;
    ULONG64 steps = 0;
    bool won = false;
    for (;;) {
        std::vector<pollfd> waiting;
        std::vector<Child *> who;
        for (Child &c : children)
            if (c.pipe >= 0) {
                waiting.push_back(pollfd{c.pipe, POLLIN, 0});
                who.push_back(&c);
            }
        if (waiting.empty() || won) break;
        if (::poll(waiting.data(), waiting.size(), -1) < 0) {
            if (errno == EINTR) continue;
            status = NDISLOCK_IO_ERROR;
            break;
        }
        for (std::size_t i = 0; i < waiting.size(); ++i) {
            if (waiting[i].revents == 0) continue;
            Child &c = *who[i];
            NDISLOCK_STATUS child_status = NDISLOCK_OK;
            const bool read =
                read_all(c.pipe, &child_status, sizeof child_status) && read_all(c.pipe, one.get(), sizeof *one);
            ::close(c.pipe);
            c.pipe = -1;
            if (!read) {
                status = NDISLOCK_IO_ERROR; // a child that died without its result
                continue;
            }
            c.reported = true;
            if (child_status != NDISLOCK_OK && status == NDISLOCK_OK) status = child_status;
            schedules += one->Schedules;
            steps += one->Steps;
            if (one->Found && !won) {
                won = true;
                *result = *one;
            }
        }
    }
    for (Child &c : children) {
        if (c.pid <= 0) continue;
        if (c.pipe >= 0) {
            ::kill(c.pid, SIGKILL); // a finding won: its search is no longer needed
            ::close(c.pipe);
        }
        int ignored = 0;
        while (::waitpid(c.pid, &ignored, 0) < 0 && errno == EINTR) {
        }
    }
    result->Schedules = schedules;
    result->Steps = steps;
    return status;
}

} // namespace ndislock::explore
