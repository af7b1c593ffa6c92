#include "explore/trace.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>

#include "platform/symbolizer.h"

namespace ndislock::explore {

namespace {

constexpr unsigned kMaxColumns = 8;
constexpr std::size_t kMaxCell = 56;

const char *base_name(const char *path) {
    const char *slash = std::strrchr(path, '/');
    return slash != nullptr ? slash + 1 : path;
}

class Where {
public:
    std::string of(const PointLabel &label) {
        char text[160];
        if (label.file != nullptr) {
            std::snprintf(text, sizeof text, " %s:%d", base_name(label.file), label.line);
            return text;
        }
        if (label.address == nullptr) return "";
        auto known = cache_.find(label.address);
        if (known != cache_.end()) return known->second;
        std::string where;
        platform::Symbolized s;
        // A return address: the call is the byte before it. Named as the verifier's reports name
        // it: the driver's line, not an inline function of ndislock's headers (an interlocked
        // operation) or the toolchain's inlined there.
        if (platform::symbolize(static_cast<const char *>(label.address) - 1, &s)) {
            const platform::InlinedFrame f = platform::pick_driver_frame(s.frames);
            if (!f.file.empty() && f.line != 0) {
                std::snprintf(text, sizeof text, " %s:%d", base_name(f.file.c_str()), f.line);
                where = text;
            }
        }
        cache_.emplace(label.address, where);
        return where;
    }

private:
    std::map<const void *, std::string> cache_;
};

struct Row {
    unsigned column;
    std::string cell;
};

} // namespace

std::string format_trace(const std::vector<ChoiceRecord> &choices, std::size_t max_chars) {
    Where where;
    std::vector<Row> rows;
    PointLabel pending[kMaxColumns];    // where each thread stands: the call it makes when it goes on
    bool started[kMaxColumns] = {};     //
    std::string last_call[kMaxColumns]; // the call a blocked thread is in
    unsigned columns = 0;
    for (const ChoiceRecord &r : choices) {
        const PointLabel &l = r.label;
        if (r.extra) { // an interrupt delivery offered: a row only where it came in
            if (r.rank != 0 && r.chosen < kMaxColumns) {
                columns = std::max(columns, r.chosen + 1u);
                rows.push_back(Row{r.chosen, "an interrupt comes in here"});
            }
            continue;
        }
        const bool at_thread = l.context >= 0 && static_cast<unsigned>(l.context) < kMaxColumns;
        if (at_thread) {
            const unsigned t = static_cast<unsigned>(l.context);
            columns = std::max(columns, t + 1);
            const bool blocks = l.call != nullptr && std::strcmp(l.call, "blocks") == 0;
            const bool returns = l.call != nullptr && std::strcmp(l.call, "returns") == 0;
            if (blocks) rows.push_back(Row{t, "blocks in " + last_call[t]});
            if (returns) rows.push_back(Row{t, "returns"});
            if (!blocks && !returns) pending[t] = l;
        }
        const unsigned next = r.chosen;
        if (next >= kMaxColumns) continue;
        columns = std::max(columns, next + 1);
        std::string cell;
        if (pending[next].call != nullptr) {
            last_call[next] = pending[next].call;
            cell = pending[next].call + where.of(pending[next]);
            pending[next] = PointLabel{};
        } else {
            cell = started[next] ? "resumes in " + last_call[next] : "starts";
        }
        started[next] = true;
        if (r.rank != 0 && r.preemptive && at_thread) cell += " (preempts " + std::to_string(l.context) + ")";
        rows.push_back(Row{next, cell.substr(0, kMaxCell)});
    }

    std::size_t width = 8;
    for (const Row &row : rows)
        width = std::max(width, row.cell.size());
    std::string out = "step";
    for (unsigned c = 0; c < columns; ++c) {
        std::string head = " | thread " + std::to_string(c);
        head.resize(width + 3, ' ');
        out += head;
    }
    out += '\n';
    for (std::size_t i = 0; i < rows.size(); ++i) {
        char number[24];
        std::snprintf(number, sizeof number, "%4zu", i + 1);
        std::string line = number;
        for (unsigned c = 0; c < columns; ++c) {
            std::string cell = " | " + (rows[i].column == c ? rows[i].cell : std::string());
            if (c + 1 < columns) cell.resize(width + 3, ' ');
            line += cell;
        }
        line += '\n';
        if (out.size() + line.size() + 40 > max_chars) {
            out += "... " + std::to_string(rows.size() - i) + " more rows\n";
            break;
        }
        out += line;
    }
    return out;
}

} // namespace ndislock::explore
