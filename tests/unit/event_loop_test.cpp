// base::EventLoop: timers in time order and never early, cancel, work posted from other
// threads, pipes watched and unwatched (also from inside a callback of the same round).
#include "base/event_loop.hpp"

#include <gtest/gtest.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

namespace chatd::base {
namespace {

using namespace std::chrono_literals;
using Clock = EventLoop::Clock;

struct Pipe {
  Pipe() { EXPECT_EQ(::pipe(fds), 0); }
  ~Pipe() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
  void put(char c) { EXPECT_EQ(::write(fds[1], &c, 1), 1); }
  char take() {
    char c = 0;
    EXPECT_EQ(::read(fds[0], &c, 1), 1);
    return c;
  }
  int fds[2];
};

// Runs rounds until `done` or 5 s.
template <class Done>
void run_until(EventLoop& loop, Done done) {
  auto deadline = Clock::now() + 5s;
  while (!done() && Clock::now() < deadline) loop.run_once(50ms);
}

TEST(EventLoop, TimersRunInTimeOrderAndNeverEarly) {
  EventLoop loop;
  std::vector<std::string> ran;
  auto start = Clock::now();
  std::vector<Clock::duration> late;
  loop.after(60ms, [&] {
    ran.push_back("c");
    late.push_back(Clock::now() - start - 60ms);
  });
  loop.after(20ms, [&] {
    ran.push_back("a");
    late.push_back(Clock::now() - start - 20ms);
  });
  loop.after(40ms, [&] {
    ran.push_back("b");
    late.push_back(Clock::now() - start - 40ms);
  });
  run_until(loop, [&] { return ran.size() == 3; });
  EXPECT_EQ(ran, (std::vector<std::string>{"a", "b", "c"}));
  for (auto d : late) EXPECT_GE(d, 0ms);
}

TEST(EventLoop, ACancelledTimerNeverRuns) {
  EventLoop loop;
  bool cancelled_ran = false, other_ran = false;
  auto id = loop.after(10ms, [&] { cancelled_ran = true; });
  loop.after(30ms, [&] { other_ran = true; });
  loop.cancel(id);
  loop.cancel(id);     // twice: ignored
  loop.cancel(12345);  // never given: ignored
  run_until(loop, [&] { return other_ran; });
  EXPECT_TRUE(other_ran);
  EXPECT_FALSE(cancelled_ran);
}

TEST(EventLoop, ATimerCanCancelAnotherDueInTheSameRound) {
  EventLoop loop;
  EventLoop::TimerId second = 0;
  bool second_ran = false;
  auto when = Clock::now() + 10ms;
  loop.at(when, [&] { loop.cancel(second); });
  second = loop.at(when, [&] { second_ran = true; });
  bool later = false;
  loop.after(40ms, [&] { later = true; });
  run_until(loop, [&] { return later; });
  EXPECT_TRUE(later);
  EXPECT_FALSE(second_ran);
}

TEST(EventLoop, ATimerSetForNowFromATimerRunsInALaterRound) {
  EventLoop loop;
  int rounds_seen = 0;
  bool inner = false;
  loop.after(0ms, [&] { loop.after(0ms, [&] { inner = true; }); });
  loop.run_once(100ms);
  EXPECT_FALSE(inner);  // not in the round that set it: a timer loop cannot starve the fds
  while (!inner && rounds_seen++ < 10) loop.run_once(100ms);
  EXPECT_TRUE(inner);
}

TEST(EventLoop, PostedWorkRunsOnTheLoopThreadInOrder) {
  EventLoop loop;
  std::vector<int> order;
  std::thread::id loop_thread;
  std::thread runner([&] {
    loop_thread = std::this_thread::get_id();
    loop.run();
  });
  std::vector<std::thread::id> seen;
  for (int i = 0; i < 100; ++i)
    loop.post([&, i] {
      order.push_back(i);
      seen.push_back(std::this_thread::get_id());
    });
  loop.post([&] { loop.stop(); });
  runner.join();
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
  for (auto id : seen) EXPECT_EQ(id, loop_thread);
}

TEST(EventLoop, StopFromAnotherThreadEndsRun) {
  EventLoop loop;
  std::thread runner([&] { loop.run(); });
  std::this_thread::sleep_for(20ms);  // let it block in epoll_wait (not needed for correctness)
  auto asked = Clock::now();
  loop.stop();
  runner.join();
  EXPECT_LT(Clock::now() - asked, 1s);
}

TEST(EventLoop, AWatchedPipeCallsBackUntilUnwatched) {
  EventLoop loop;
  Pipe pipe;
  std::string got;
  loop.watch(pipe.fds[0], EPOLLIN, [&](uint32_t events) {
    EXPECT_TRUE(events & EPOLLIN);
    got += pipe.take();
    if (got.size() == 2) loop.unwatch(pipe.fds[0]);  // from inside its own callback
  });
  pipe.put('a');
  run_until(loop, [&] { return got.size() == 1; });
  pipe.put('b');
  run_until(loop, [&] { return got.size() == 2; });
  pipe.put('c');
  loop.run_once(50ms);
  EXPECT_EQ(got, "ab");
}

TEST(EventLoop, AnFdUnwatchedByAnEarlierCallbackOfTheRoundIsNotCalled) {
  EventLoop loop;
  Pipe first, second;
  int calls = 0;
  // Whichever runs first unwatches the other: exactly one callback runs although both are ready.
  loop.watch(first.fds[0], EPOLLIN, [&](uint32_t) {
    ++calls;
    loop.unwatch(second.fds[0]);
    loop.unwatch(first.fds[0]);
  });
  loop.watch(second.fds[0], EPOLLIN, [&](uint32_t) {
    ++calls;
    loop.unwatch(first.fds[0]);
    loop.unwatch(second.fds[0]);
  });
  first.put('x');
  second.put('y');
  loop.run_once(100ms);
  loop.run_once(20ms);
  EXPECT_EQ(calls, 1);
}

TEST(EventLoop, WatchingAgainReplacesTheCallbackAndEvents) {
  EventLoop loop;
  Pipe pipe;
  int old_calls = 0, new_calls = 0;
  loop.watch(pipe.fds[0], EPOLLIN, [&](uint32_t) { ++old_calls; });
  loop.watch(pipe.fds[0], EPOLLIN, [&](uint32_t) {
    ++new_calls;
    pipe.take();
  });
  pipe.put('x');
  run_until(loop, [&] { return new_calls == 1; });
  EXPECT_EQ(old_calls, 0);
  EXPECT_EQ(new_calls, 1);
  loop.unwatch(pipe.fds[0]);
  loop.unwatch(pipe.fds[0]);  // twice: ignored
}

TEST(EventLoop, AnIdleRoundWaitsItsTimeout) {
  EventLoop loop;
  auto start = Clock::now();
  loop.run_once(30ms);
  EXPECT_GE(Clock::now() - start, 25ms);
}

}  // namespace
}  // namespace chatd::base
