// A console reporter that also prints each benchmark's median as a ratio to a floor benchmark's
// median measured in the same run (shared by the S0 and layers programs).
#pragma once

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

class RatioReporter : public benchmark::ConsoleReporter {
public:
    explicit RatioReporter(std::string floor) : floor_(std::move(floor)) {}
    void ReportRuns(const std::vector<Run> &runs) override {
        ConsoleReporter::ReportRuns(runs);
        for (const Run &r : runs)
            if (r.run_type == Run::RT_Aggregate && r.aggregate_name == "median")
                medians_[r.run_name.function_name] = r.GetAdjustedRealTime();
    }
    void print_ratios(const char *title) const {
        const auto floor = medians_.find(floor_);
        if (floor == medians_.end() || floor->second <= 0) return;
        std::printf("\n%s\n", title);
        for (const auto &[name, ns] : medians_)
            std::printf("  %-34s %6.2f ns %6.2fx\n", name.c_str(), ns, ns / floor->second);
    }

private:
    std::string floor_;
    std::map<std::string, double> medians_;
};
