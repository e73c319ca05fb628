#include "llm/price.hpp"

namespace chatd::llm {

std::optional<long long> parse_dollars(std::string_view text) {
  constexpr long long kMaxDollars = 1'000'000;
  long long whole = 0;
  size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    whole = whole * 10 + (text[i] - '0');
    if (whole > kMaxDollars) return std::nullopt;
  }
  if (i == 0) return std::nullopt;
  long long micros = 0;
  if (i < text.size()) {
    if (text[i] != '.' || i + 1 == text.size() || text.size() - i - 1 > 6) return std::nullopt;
    long long scale = 100'000;
    for (++i; i < text.size(); ++i, scale /= 10) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      micros += (text[i] - '0') * scale;
    }
  }
  long long total = whole * 1'000'000 + micros;
  if (total > kMaxDollars * 1'000'000) return std::nullopt;
  return total;
}

std::string format_dollars(long long micros) {
  std::string sign = micros < 0 ? "-" : "";
  unsigned long long magnitude =
      micros < 0 ? 0ULL - static_cast<unsigned long long>(micros) : micros;
  std::string fraction = std::to_string(magnitude % 1'000'000);
  fraction.insert(0, 6 - fraction.size(), '0');
  while (fraction.size() > 2 && fraction.back() == '0') fraction.pop_back();
  return sign + "$" + std::to_string(magnitude / 1'000'000) + "." + fraction;
}

long long cost_micros(const Usage& usage, const Price& price) {
  // Tokens × micro-dollars per million: at most 2^63 tokens × 10^12, in 128 bits.
  __int128 sum = 0;
  auto add = [&](const std::optional<long long>& tokens, long long per_million) {
    if (tokens && *tokens > 0) sum += static_cast<__int128>(*tokens) * per_million;
  };
  add(usage.uncached_input(), price.input);
  add(usage.cache_read_tokens, price.cache_read);
  add(usage.cache_write_tokens, price.cache_write);
  add(usage.completion_tokens, price.output);
  __int128 micros = (sum + 500'000) / 1'000'000;
  constexpr __int128 kMax = static_cast<__int128>(1) << 62;
  return static_cast<long long>(micros > kMax ? kMax : micros);
}

}  // namespace chatd::llm
