// Human-friendly values in configuration: durations ("30s", "720h", "1h30m", "250ms"; a bare
// number is seconds) and byte sizes ("4194304", "512KiB", "4MiB").
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chatd {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
std::string format_duration(std::chrono::milliseconds value);

std::optional<uint64_t> parse_size(std::string_view text);

// A decimal number without sign, spaces or overflow.
std::optional<uint64_t> parse_unsigned(std::string_view text);

}  // namespace chatd
