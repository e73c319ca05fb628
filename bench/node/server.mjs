// Peer (e) of bench/streaming.sh: the AI SDK's own server for useChat, as its Node.js docs
// write it: streamText with @ai-sdk/openai pointed at the fake provider, answered with
// toDataStreamResponse() (the web Response written to Node's http response as it streams).
// One process per core (NODE_WORKERS; default one per core, like chatd's workers) behind
// node:cluster, as a Node deployment uses the cores. It keeps nothing: the client sends the
// history.
//
//   PORT=8091 OPENAI_BASE_URL=http://127.0.0.1:PORT/v1 [NODE_WORKERS=2] node bench/node/server.mjs
import cluster from 'node:cluster';
import http from 'node:http';
import os from 'node:os';
import { once } from 'node:events';
import { streamText } from 'ai';
import { createOpenAI } from '@ai-sdk/openai';

const port = Number(process.env.PORT);
const workers = Number(process.env.NODE_WORKERS || os.availableParallelism());

const openai = createOpenAI({
  baseURL: process.env.OPENAI_BASE_URL,
  apiKey: 'bench',
  compatibility: 'strict',
});

async function chat(req, res) {
  if (req.method !== 'POST') {
    res.writeHead(404).end();
    return;
  }
  const abort = new AbortController();
  res.on('close', () => abort.abort());
  try {
    let body = '';
    for await (const chunk of req) body += chunk;
    const { messages } = JSON.parse(body);
    const result = streamText({
      model: openai(process.env.MODEL || 'fake-model'),
      messages,
      abortSignal: abort.signal,
    });
    const response = result.toDataStreamResponse();
    res.writeHead(response.status, Object.fromEntries(response.headers));
    for await (const chunk of response.body) {
      if (!res.write(chunk)) await once(res, 'drain');
    }
    res.end();
  } catch {
    if (!res.headersSent) res.writeHead(500);
    res.end();
  }
}

if (cluster.isPrimary && workers > 1) {
  for (let i = 0; i < workers; i++) cluster.fork();
  let listening = 0;
  cluster.on('listening', () => {
    if (++listening === workers) console.log(`listening on 127.0.0.1:${port}`);
  });
} else {
  http.createServer(chat).listen(port, '127.0.0.1', () => {
    if (cluster.isPrimary) console.log(`listening on 127.0.0.1:${port}`);
  });
}
