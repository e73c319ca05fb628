// Rebuilds the assistant message from a captured data-stream body with the real AI SDK v4
// client code: @ai-sdk/ui-utils callChatApi (what useChat calls), whose fetch returns the
// captured body, so processChatResponse parses it exactly as in a browser.
// Usage: node rebuild_message.mjs BODY_FILE  ->  prints {"message", "finishReason", "usage",
// "error", "data"} as JSON.
import { readFileSync } from 'node:fs';
import { callChatApi } from '@ai-sdk/ui-utils';

const bytes = readFileSync(process.argv[2]);
// Deliver the body in small pieces, as a network would.
const stream = new ReadableStream({
  start(controller) {
    for (let i = 0; i < bytes.length; i += 7) controller.enqueue(bytes.subarray(i, i + 7));
    controller.close();
  },
});

let last = null;
let data = [];
let finish = null;
let error = null;
try {
  await callChatApi({
    api: '/captured',
    body: {},
    streamProtocol: 'data',
    restoreMessagesOnFailure() {},
    onUpdate({ message, data: d }) {
      last = message;
      data = d;
    },
    onFinish(message, { finishReason, usage }) {
      finish = { message, finishReason, usage };
    },
    generateId: () => 'client-generated-id',
    fetch: async () => new Response(stream, { status: 200 }),
    lastMessage: undefined,
  });
} catch (e) {
  error = String(e.message ?? e);
}
const message = finish ? finish.message : last;
if (message) delete message.revisionId;
process.stdout.write(
  JSON.stringify({
    message,
    finishReason: finish ? finish.finishReason : null,
    usage: finish ? finish.usage : null,
    error,
    data,
  }),
);
