#include "worker/prometheus_text.hpp"

#include <charconv>
#include <cmath>

namespace chatd::metrics {

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char text[32];
  auto [end, ec] = std::to_chars(text, text + sizeof text, value);
  if (ec != std::errc()) return "NaN";
  return std::string(text, end);
}

void PrometheusText::family(std::string_view name, std::string_view type, std::string_view help) {
  std::string escaped;
  for (char c : help) {
    if (c == '\\')
      escaped += "\\\\";
    else if (c == '\n')
      escaped += "\\n";
    else
      escaped += c;
  }
  text_.append("# HELP ").append(name).append(" ").append(escaped).append("\n");
  text_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void PrometheusText::line(std::string_view name, Labels labels, std::string_view extra_name,
                          std::string_view extra_value, std::string_view value) {
  text_.append(name);
  if (labels.size() > 0 || !extra_name.empty()) {
    text_ += '{';
    bool first = true;
    auto label = [&](std::string_view key, std::string_view v) {
      if (!first) text_ += ',';
      first = false;
      text_.append(key).append("=\"").append(escape_label_value(v)).append("\"");
    };
    for (const auto& [key, v] : labels) label(key, v);
    if (!extra_name.empty()) label(extra_name, extra_value);
    text_ += '}';
  }
  text_.append(" ").append(value).append("\n");
}

void PrometheusText::sample(std::string_view name, Labels labels, uint64_t value) {
  line(name, labels, {}, {}, std::to_string(value));
}

void PrometheusText::sample(std::string_view name, Labels labels, int64_t value) {
  line(name, labels, {}, {}, std::to_string(value));
}

void PrometheusText::sample(std::string_view name, Labels labels, double value) {
  line(name, labels, {}, {}, format_value(value));
}

void PrometheusText::histogram(std::string_view name, Labels labels, std::span<const double> bounds,
                               std::span<const uint64_t> counts, double sum) {
  std::string bucket = std::string(name) + "_bucket";
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds.size() && i < counts.size(); ++i) {
    cumulative += counts[i];
    line(bucket, labels, "le", i < bounds.size() ? format_value(bounds[i]) : "+Inf",
         std::to_string(cumulative));
  }
  line(std::string(name) + "_sum", labels, {}, {}, format_value(sum));
  line(std::string(name) + "_count", labels, {}, {}, std::to_string(cumulative));
}

}  // namespace chatd::metrics
