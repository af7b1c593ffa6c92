// The single-thread comparisons (s5_verifier.cpp, cpp_guard_sites.cpp): a few modes measured in
// alternating rounds, so that a machine drifting between a fast and a slow state drifts under all
// of them alike, each mode keeping its fastest round.
#pragma once

#include <cstdio>
#include <cstdlib>

struct RoundsArgs {
    int rounds;
    long pairs; // per round
};

// [rounds, default 10] [pairs per round, default default_pairs]; on bad input, a usage line and
// exit status 2.
inline RoundsArgs parse_rounds(int argc, char **argv, long default_pairs) {
    const RoundsArgs a{argc > 1 ? std::atoi(argv[1]) : 10, argc > 2 ? std::atol(argv[2]) : default_pairs};
    if (a.rounds < 1 || a.pairs < 1000) {
        std::fprintf(stderr, "usage: %s [rounds >= 1] [pairs per round >= 1000]\n", argv[0]);
        std::exit(2);
    }
    return a;
}

// Runs measure(mode) (ns per pair) for every mode in turn, `rounds` times, and keeps each mode's
// fastest in mode.best.
template <class Mode, unsigned N, class Measure> void alternate_rounds(Mode (&modes)[N], int rounds, Measure measure) {
    for (Mode &m : modes)
        m.best = 1e300;
    for (int r = 0; r < rounds; ++r)
        for (Mode &m : modes) {
            const double ns = measure(m);
            if (ns < m.best) m.best = ns;
        }
}
