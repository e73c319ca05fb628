// A writer of the Prometheus text exposition format, version 0.0.4: metric families, samples
// with labels, and histograms.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace chatd::metrics {

// The Prometheus text exposition format, version 0.0.4.
using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

class PrometheusText {
 public:
  // "# HELP" and "# TYPE" lines of a metric family; its samples follow.
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, Labels labels, uint64_t value);
  void sample(std::string_view name, Labels labels, int64_t value);
  void sample(std::string_view name, Labels labels, double value);
  // name_bucket{…,le="…"} (cumulative, ending with le="+Inf"), name_sum and name_count.
  // `counts` holds bounds.size() + 1 non-cumulative counts.
  void histogram(std::string_view name, Labels labels, std::span<const double> bounds,
                 std::span<const uint64_t> counts, double sum);
  const std::string& text() const { return text_; }

 private:
  void line(std::string_view name, Labels labels, std::string_view extra_name,
            std::string_view extra_value, std::string_view value);
  std::string text_;
};

// A label value or HELP text with \, " and newlines escaped as the format wants.
std::string escape_label_value(std::string_view value);
// Shortest text that reads back as the same double; +Inf, -Inf, NaN.
std::string format_value(double value);

}  // namespace chatd::metrics
