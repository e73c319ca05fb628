// What a handler may use besides its request: passed in, never global.
#pragma once

#include "sql/store.hpp"

namespace chatd::http {

struct Context {
  sql::Store& store;
};

}  // namespace chatd::http
