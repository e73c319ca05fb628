// CPU per OpenAI text chunk in the stream mapper, with and without the fast path
// (detail::openai_text_delta): the text chunks of a transcript, mapped over and over.
// Build and run (after a bench/*.sh has built build-bench/), from the repository root:
//   g++ -std=c++20 -O2 -I. bench/openai_chunk.cpp build-bench/libchatd_llm.a
//       build-bench/libchatd_base.a -lcurl -pthread -o build-bench/bench/openai_chunk
//   build-bench/bench/openai_chunk tests/fixtures/transcripts/openai-text.sse
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iterator>

#include "llm/openai.hpp"
#include "llm/sse_parser.hpp"

using namespace chatd::llm;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s TRANSCRIPT.sse\n", argv[0]);
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  SseParser parser;
  std::vector<SseEvent> events;
  parser.feed(body, events);
  parser.finish(events);
  // Only the text deltas: without [DONE] and the finish, the mapper keeps going.
  std::vector<SseEvent> text;
  for (const auto& e : events)
    if (e.data.find("\"content\":\"") != std::string::npos &&
        e.data.find("\"finish_reason\":null") != std::string::npos)
      text.push_back(e);
  for (bool fast : {false, true}) {
    auto mapper = detail::openai_stream_mapper(fast);
    std::vector<ModelEvent> out;
    size_t n = 0;
    auto wall = std::chrono::steady_clock::now();
    std::clock_t cpu = std::clock();
    for (int round = 0; round < 20000; ++round) {
      for (const auto& e : text) {
        mapper->on_event(e, out);
        out.clear();
        ++n;
      }
    }
    double cpu_us = double(std::clock() - cpu) / CLOCKS_PER_SEC * 1e6 / double(n);
    double wall_us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - wall).count() /
        double(n);
    std::printf("%-10s %.2f us CPU (%.2f us wall) per text chunk, %zu chunks\n",
                fast ? "fast path" : "full parse", cpu_us, wall_us, n);
  }
}
