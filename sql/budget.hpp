// Budgets (API.md §9): what one user may spend on model calls per period, checked against the
// usage ledger (migration 0015).
#pragma once

#include <string>

namespace chatd::sql {

// A spending limit per period of UTC time: "day", "week" (from Monday) or "month".
struct Budget {
  std::string period;
  long long limit_micros = 0;
};

// A user's budget as the ledger stands.
struct BudgetState {
  Budget budget;
  long long spent_micros = 0;
  std::string resets_at;  // RFC 3339: when the period ends
  bool reached() const { return spent_micros >= budget.limit_micros; }
};

}  // namespace chatd::sql
