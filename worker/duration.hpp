// Human-friendly values in configuration: durations ("30s", "720h", "1h30m", "250ms"; a bare
// number is seconds), byte sizes ("4194304", "512KiB", "4MiB"), rates ("10/s") and lists.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatd {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
std::string format_duration(std::chrono::milliseconds value);

std::optional<uint64_t> parse_size(std::string_view text);

// A decimal number without sign, spaces or overflow.
std::optional<uint64_t> parse_unsigned(std::string_view text);

// A rate, "N/s", "N/m" or "N/h" (a bare "0" too), in events per second.
std::optional<double> parse_rate(std::string_view text);

// "a, b,,c" -> {"a", "b", "c"}: items trimmed, empty ones dropped.
std::vector<std::string> split_list(const std::string& text, char separator);
// The error for item `index` (from 1) of a "key=value;…" list that has no '=': it names the
// item by its leading word at most, never by the rest, which may be a secret typed without its
// '=' ("api-key sk-…" gives `provider: item 2 ("api-key…") is not key=value`; a lone word, which
// may be the secret itself, is not shown at all).
std::string not_key_value(std::string_view list, size_t index, std::string_view item);

}  // namespace chatd
