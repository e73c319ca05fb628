// End-to-end tests of the chat web page (web/) in headless Chromium, against the real stack:
// nginx serving web/dist and passing /api/v2 to chatd, PostgreSQL, and the fake provider.
//
//   node tests/browser/e2e.mjs BASE_URL TOKEN ARTIFACTS_DIR [--mcp] [--budgeted=TOKEN]
//
// BASE_URL is nginx (http://127.0.0.1:PORT), TOKEN an API token of a user with no chats yet,
// ARTIFACTS_DIR where the screenshots go (main-view.png, main-view-phone.png, and one per
// failed test). --mcp: the MCP server "everything" is configured, so its echo tool answers.
// --budgeted: the token of another user, whose budget ($0.0001 a day) one reply reaches.
// tests/integration/browser_test.cpp starts the stack and runs this. Prints one line per test
// and a summary "browser: N passed, M failed"; exits 1 when a test failed.
import { chromium } from "playwright-core";
import { mkdtemp, mkdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [baseUrl, token, artifacts, ...flags] = process.argv.slice(2);
if (!baseUrl || !token || !artifacts) {
  console.error("usage: node e2e.mjs BASE_URL TOKEN ARTIFACTS_DIR [--mcp]");
  process.exit(2);
}
const withMcp = flags.includes("--mcp");
const budgetedToken = flags.find((f) => f.startsWith("--budgeted="))?.slice("--budgeted=".length);
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const WRONG_TOKEN = "AAAAAAAAAA-BBBBBBBBBBBBBBBBBBBBBB"; // well-formed, unknown to chatd

// ---- A small runner ------------------------------------------------------------------------

const results = [];
let page; // the page of the test running now
let current = ""; // the name of the test running now

async function test(name, fn) {
  current = name;
  const started = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`ok - ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    results.push({ name, ok: false });
    console.log(`not ok - ${name} (${Date.now() - started} ms)\n  ${String(error?.stack ?? error).replace(/\n/g, "\n  ")}`);
    const file = join(artifacts, `failed-${results.length}.png`);
    await page?.screenshot({ path: file, fullPage: true }).then(
      () => console.log(`  screenshot: ${file}`),
      () => {},
    );
  }
}

function assert(condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

function assertEqual(actual, expected, message) {
  if (actual !== expected)
    throw new Error(`${message}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Polls `probe` until it returns a truthy value; returns it. Throws `message` on timeout.
async function waitFor(probe, message, timeout = 15000, interval = 25) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await probe();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out: ${message} (last: ${last})`);
    await sleep(interval);
  }
}

// ---- The page ------------------------------------------------------------------------------

const composer = () => page.getByRole("textbox", { name: "Message" });
const assistantMessages = () => page.locator("article.message.assistant");
const lastAssistant = () => assistantMessages().last();
const chatError = () => page.locator('[data-testid="chat-error"]');
const replyState = () => page.locator(".messages").first().getAttribute("data-status");
const chatIdFromUrl = () => /\/chats\/([0-9a-f-]+)$/.exec(new URL(page.url()).pathname)?.[1];

// A real 1×1 PNG (69 bytes), as hex.
const PNG_HEX =
  "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154" +
  "78da63f8ffff3f0005fe02fea7d6a4f90000000049454e44ae426082";

// A message whose SCRIPT line drives the fake provider (tests/fake_provider/README.md).
const scripted = (text, script) => `${text}\nSCRIPT ${JSON.stringify(script)}`;
const words = (n, prefix = "word") => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`).join(" ");

async function send(text) {
  await composer().fill(text);
  await composer().press("Enter");
}

async function selectModel(id) {
  await page.locator('select[aria-label="Model"]').selectOption(id);
}

async function newChat() {
  await page.getByRole("link", { name: "New chat", exact: true }).click();
  await waitFor(async () => new URL(page.url()).pathname === "/", "the landing view");
  await composer().waitFor();
}

// The reply has ended: the chat is idle (or failed) and its last message is the assistant's.
async function waitReplyDone(timeout = 20000) {
  await waitFor(async () => {
    const state = await replyState();
    if (state === "error") return true;
    if (state !== "ready") return false;
    const roles = await page.locator(".message-list article").evaluateAll((els) => els.map((e) => e.dataset.role));
    return roles[roles.length - 1] === "assistant";
  }, "the reply to end", timeout);
}

async function waitModelsLoaded() {
  await waitFor(async () => (await page.locator('select[aria-label="Model"]').inputValue()) !== "", "the models to load");
}

// The message's own text: without its foot (how it ended, Regenerate, Edit).
async function assistantText(locator = lastAssistant()) {
  if (!(await locator.count())) return "";
  return (
    await locator.evaluate((el) => {
      const copy = el.cloneNode(true);
      copy.querySelectorAll(".message-foot").forEach((foot) => foot.remove());
      document.body.appendChild(copy);
      const text = copy.innerText;
      copy.remove();
      return text;
    })
  ).trim();
}

// The API, called as another tab of the same user would (the token from localStorage).
async function api(method, path, body) {
  return page.evaluate(
    async ({ method, path, body }) => {
      const headers = { "Coder-Session-Token": localStorage.getItem("chatd_token") };
      if (body !== undefined) headers["Content-Type"] = "application/json";
      const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await r.text();
      return { status: r.status, body: text ? JSON.parse(text) : null };
    },
    { method, path, body },
  );
}

const sidebarIds = () => page.locator(".chat-list li a[data-chat-id]").evaluateAll((els) => els.map((e) => e.dataset.chatId));
const chatMenu = (id) => page.locator(`.chat-list li:has(a[data-chat-id="${id}"]) button.more`);

async function signIn(value) {
  const input = page.getByLabel("API token");
  await input.fill(value);
  await page.getByRole("button", { name: "Sign in" }).click();
}

// ---- The tests -----------------------------------------------------------------------------

await mkdir(artifacts, { recursive: true });
const userDataDir = await mkdtemp(join(tmpdir(), "chatd-browser-"));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: CHROMIUM,
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
  viewport: { width: 1280, height: 800 },
  timeout: 60000,
});
context.setDefaultTimeout(15000);

// Whatever the page does, it must not break its CSP, throw, open dialogs (an alert() from
// injected script), or fetch anything from another origin.
const problems = [];
const origin = new URL(baseUrl).origin;
context.on("page", watch);
function watch(p) {
  p.on("pageerror", (error) => problems.push(`page error in "${current}": ${error.stack ?? error.message}`));
  p.on("console", (message) => {
    const text = message.text();
    if (/Content Security Policy|Refused to/i.test(text)) problems.push(`CSP in "${current}": ${text}`);
  });
  p.on("dialog", (dialog) => {
    problems.push(`dialog opened in "${current}": ${dialog.message()}`);
    dialog.dismiss().catch(() => {});
  });
  p.on("request", (request) => {
    const url = request.url();
    // blob: URLs of this origin are the page's own object URLs (previews, uploaded files).
    const local = url.startsWith(origin + "/") || url.startsWith(`blob:${origin}/`);
    if (!local && !url.startsWith("data:") && !url.startsWith("about:"))
      problems.push(`request to another origin in "${current}": ${url}`);
  });
}
page = context.pages()[0] ?? (await context.newPage());
watch(page);
// Layout shifts as Chromium measures them (CLS), summed per window of interest.
await context.addInitScript(() => {
  window.__layoutShift = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.__layoutShift += entry.value;
  }).observe({ type: "layout-shift", buffered: true });
});

try {
  await test("the page and its files are served with security and caching headers", async () => {
    const index = await fetch(`${baseUrl}/`);
    assertEqual(index.status, 200, "GET /");
    assert(index.headers.get("content-type").startsWith("text/html"), "index.html is HTML");
    const csp = index.headers.get("content-security-policy") ?? "";
    for (const directive of ["default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"])
      assert(csp.includes(directive), `CSP has ${directive}: ${csp}`);
    assert(!csp.includes("unsafe-inline") && !csp.includes("unsafe-eval"), `CSP allows nothing unsafe: ${csp}`);
    assertEqual(index.headers.get("x-content-type-options"), "nosniff", "X-Content-Type-Options");
    assertEqual(index.headers.get("referrer-policy"), "no-referrer", "Referrer-Policy");
    assertEqual(index.headers.get("cache-control"), "no-cache", "index.html is revalidated");
    const html = await index.text();
    assert(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(html), "index.html has no inline script");
    assert(!/https?:\/\//.test(html.replace(/<!--[\s\S]*?-->/g, "")), "index.html loads nothing from elsewhere");
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert(asset, "index.html loads a hashed script from /assets/");
    const script = await fetch(baseUrl + asset);
    assertEqual(script.status, 200, asset);
    assert(script.headers.get("content-type").includes("javascript"), "the script's type");
    assertEqual(script.headers.get("cache-control"), "public, max-age=31536000, immutable", "hashed assets are cached");
    const route = await fetch(`${baseUrl}/chats/00000000-0000-4000-8000-000000000000`);
    assertEqual(route.status, 200, "a chat's URL is the page");
    assertEqual(await route.text(), html, "a chat's URL serves index.html");
    const missing = await fetch(`${baseUrl}/no-such-file`);
    assertEqual(missing.status, 404, "an unknown path");
    assertEqual(await missing.text(), '{"message":"Route not found."}', "an unknown path's body");
    const api = await fetch(`${baseUrl}/api/v2/no-such-route`);
    assertEqual(api.status, 404, "an unknown API path still reaches chatd");
    assertEqual(await api.text(), '{"message":"Route not found."}', "chatd's 404 body");
  });

  await test("a wrong token shows the sign-in error", async () => {
    await page.goto(baseUrl);
    await signIn(WRONG_TOKEN);
    const error = page.locator('[data-testid="signin-error"]');
    await error.waitFor();
    const text = await error.innerText();
    assert(text.includes("That token was not accepted"), `the error says so: ${text}`);
    assert(text.includes("API key is invalid."), `the error carries chatd's detail: ${text}`);
    assert(!text.includes("signed out"), `one who never signed in is not told they are signed out: ${text}`);
    assertEqual(await page.evaluate(() => localStorage.getItem("chatd_token")), null, "a refused token is not kept");
  });

  await test("sign in with a token: kept in localStorage, sent as a header, never a cookie", async () => {
    const headers = [];
    const onRequest = (request) => {
      if (request.url().includes("/api/v2/")) headers.push(request.headers());
    };
    page.on("request", onRequest);
    await signIn(token);
    await composer().waitFor();
    await page.getByText("No chats yet.").waitFor();
    page.off("request", onRequest);
    assertEqual(await page.evaluate(() => localStorage.getItem("chatd_token")), token, "the token is kept");
    assert(headers.length > 0 && headers.every((h) => h["coder-session-token"] === token), "every API request has the header");
    assert(headers.every((h) => !h.cookie), "no cookie is sent");
    assertEqual((await context.cookies()).length, 0, "no cookies at all");
    // The models of GET /api/v2/deployment/llms, as "display name (provider)".
    // They load after the chat list; wait for them (a broken list times out with its text).
    const options = await waitFor(async () => {
      const shown = await page.locator('select[aria-label="Model"] option').allInnerTexts();
      return shown.some((o) => o.includes("(openai)")) ? shown : false;
    }, "the models to load").catch(async () => page.locator('select[aria-label="Model"] option').allInnerTexts());
    assert(options.some((o) => o.includes("(openai)")) && options.some((o) => o.includes("(anthropic)")), `models: ${options}`);
  });

  let streamChat;
  await test("a new chat: the reply streams in over several steps; no layout shift", async () => {
    await selectModel("fake-openai");
    // Shift+Enter is a new line, not a send.
    await composer().fill("Count for me");
    await composer().press("Shift+Enter");
    assertEqual(await composer().inputValue(), "Count for me\n", "Shift+Enter adds a line");
    assertEqual(await assistantMessages().count(), 0, "nothing was sent");
    const expected = words(24, "n");
    // Each distinct text of the reply as the page shows it, recorded in the page itself (a probe
    // from here, a round trip per look, would miss states on a busy machine).
    await page.evaluate(() => {
      window.__replyTexts = new Set();
      new MutationObserver(() => {
        const all = document.querySelectorAll("article.message.assistant");
        if (!all.length) return;
        const copy = all[all.length - 1].cloneNode(true);
        copy.querySelectorAll(".message-foot").forEach((foot) => foot.remove());
        const text = copy.textContent.trim();
        if (text) window.__replyTexts.add(text);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await composer().pressSequentially(`SCRIPT ${JSON.stringify({ steps: [{ text: expected, token_delay_ms: 60 }], title: "Counting in the browser" })}`);
    await composer().press("Enter");
    // From here on (the composer emptied by the send) nothing may move while the reply streams.
    await waitFor(async () => (await composer().inputValue()) === "", "the composer to empty");
    await waitFor(async () => (await replyState()) !== null, "the chat to open");
    streamChat = chatIdFromUrl();
    assert(streamChat, `the chat's URL: ${page.url()}`);
    const composerBox = await page.locator(".composer").boundingBox();
    await page.evaluate(() => (window.__layoutShift = 0));
    const moves = [];
    await waitFor(async () => {
      const text = await assistantText();
      const box = await page.locator(".composer").boundingBox({ timeout: 1000 }).catch(() => null);
      if (!box || Math.abs(box.y - composerBox.y) >= 1 || Math.abs(box.height - composerBox.height) >= 1)
        moves.push(JSON.stringify(box));
      return (await replyState()) === "ready" && text === expected;
    }, "the whole reply", 20000, 15);
    assertEqual(moves.length, 0, `the composer stays put while streaming (was ${JSON.stringify(composerBox)}, moved to ${moves[0]})`);
    // Several partial texts before the end: the text arrives as it is generated.
    const seen = await page.evaluate(() => [...window.__replyTexts]);
    assert(seen.length >= 5, `the text arrived in several steps (${seen.length} distinct states)`);
    assert(seen.some((t) => t.length < expected.length / 2), "a partial text was shown");
    const shift = await page.evaluate(() => window.__layoutShift);
    assert(shift < 0.02, `no layout shift while streaming (CLS ${shift})`);
    assertEqual(await composer().inputValue(), "", "the composer is empty after sending");
  });

  await test("the chat's title appears in the list and the header after the first reply", async () => {
    const link = page.locator(`.chat-list a[data-chat-id="${streamChat}"]`);
    await waitFor(async () => (await link.innerText()).trim() === "Counting in the browser", "the title in the list");
    assertEqual((await page.locator('[data-testid="chat-title"]').innerText()).trim(), "Counting in the browser", "the header");
    assertEqual(await link.getAttribute("aria-current"), "page", "the open chat is marked");
  });

  let toolChat;
  await test("a tool call shows its invocation, arguments and result (collapsed)", async () => {
    await newChat();
    const script = {
      steps: [
        { tool_calls: [{ name: "everything__echo", args: { message: "ping from the browser" } }] },
        { text: "The tool answered:\n\n```text\nEcho: ping from the browser\n```\n\nAll **done**." },
      ],
      title: "Tool call from the browser",
    };
    await send(scripted("Please call the echo tool", script));
    await waitReplyDone();
    toolChat = chatIdFromUrl();
    const tool = lastAssistant().locator('details.tool[data-tool-name="everything__echo"]');
    await tool.waitFor();
    assertEqual(await tool.evaluate((el) => el.open), false, "the tool call starts collapsed");
    assert((await tool.locator("summary").innerText()).includes("everything__echo"), "the summary names the tool");
    await tool.locator("summary").click();
    assertEqual(await tool.evaluate((el) => el.open), true, "a click opens it");
    const args = await tool.locator(".tool-args").innerText();
    assert(args.includes('"message": "ping from the browser"'), `the arguments: ${args}`);
    const result = await tool.locator(".tool-result").innerText();
    if (withMcp) assert(result.includes("Echo: ping from the browser"), `the result: ${result}`);
    else assert(result.length > 0, "a result is shown");
    // The Markdown after it: a code block and bold text.
    const code = lastAssistant().locator(".markdown pre code");
    assertEqual((await code.innerText()).trim(), "Echo: ping from the browser", "the code block");
    assertEqual(await lastAssistant().locator(".markdown strong").innerText(), "done", "bold text");
    await page.locator(`.chat-list a[data-chat-id="${toolChat}"]`).getByText("Tool call from the browser").waitFor();
    await tool.locator("summary").click(); // folded again, for the screenshot
    await page.screenshot({ path: join(artifacts, "main-view.png") });
  });

  await test("reasoning is shown collapsed; the model choice is remembered", async () => {
    await newChat();
    await selectModel("fake-anthropic");
    await page.getByLabel("Reasoning").check();
    await send(scripted("Think first", { steps: [{ reasoning: "Weighing the options carefully.", text: "Decided." }] }));
    await waitReplyDone();
    const reasoning = lastAssistant().locator("details.reasoning");
    await reasoning.waitFor();
    assertEqual(await reasoning.evaluate((el) => el.open), false, "reasoning starts collapsed");
    assert(!(await reasoning.locator(".plain").isVisible()), "its text is hidden");
    await reasoning.locator("summary").click();
    assert((await reasoning.locator(".plain").innerText()).includes("Weighing the options carefully."), "the reasoning text");
    assert((await assistantText()).includes("Decided."), "the answer");
    await page.reload();
    await waitModelsLoaded();
    assertEqual(await page.locator('select[aria-label="Model"]').inputValue(), "fake-anthropic", "the model is remembered");
    assert(await page.getByLabel("Reasoning").isChecked(), "the reasoning choice is remembered");
    await page.getByLabel("Reasoning").uncheck();
    await selectModel("fake-openai");
  });

  await test("reload mid-reply: the reply continues to completion on the page", async () => {
    await newChat();
    const expected = words(40, "r");
    await send(scripted("Go slowly", { steps: [{ text: expected, token_delay_ms: 120 }] }));
    await waitFor(async () => (await assistantText()).split(/\s+/).length >= 4, "the reply to start");
    const chat = chatIdFromUrl();
    await page.reload();
    assertEqual(chatIdFromUrl(), chat, "the same chat after the reload");
    // Attached to the running reply: it is still streaming on the page, then completes.
    await waitFor(async () => (await replyState()) === "streaming", "the page to follow the running reply");
    const during = await assistantText();
    assert(during.length < expected.length, `a partial text while following: ${during}`);
    assert(await page.getByRole("button", { name: "Stop" }).isVisible(), "Stop is offered while following");
    await waitReplyDone(20000);
    assertEqual(await assistantText(), expected, "the whole reply, once");
    assertEqual(await assistantMessages().count(), 1, "one assistant message");
    await page.reload();
    await waitFor(async () => (await assistantText()) === expected, "the stored reply after another reload");
  });

  await test("stop ends the reply; the partial text stays after a reload", async () => {
    await newChat();
    const full = words(60, "s");
    await send(scripted("Go on and on", { steps: [{ text: full, token_delay_ms: 100 }] }));
    await waitFor(async () => (await assistantText()).split(/\s+/).length >= 3, "the reply to start");
    const stopButton = page.getByRole("button", { name: "Stop" });
    await stopButton.click();
    const clicked = Date.now();
    await waitReplyDone(5000);
    assert(Date.now() - clicked < 3000, `the reply ended soon after Stop (${Date.now() - clicked} ms)`);
    assertEqual(await replyState(), "ready", "stopped, not failed");
    assertEqual(await chatError().count(), 0, "no error is shown");
    const partial = await assistantText();
    assert(partial.length > 0 && partial.length < full.length && full.startsWith(partial), `a partial reply: ${partial}`);
    await page.getByRole("button", { name: "Send" }).waitFor();
    await page.reload();
    await waitFor(async () => (await assistantText()).startsWith(partial), "the same partial text after a reload");
    await sleep(500);
    assertEqual(await assistantText(), partial, "and it stays that way");
    await lastAssistant().locator(".end-note.stopped").waitFor(); // marked as stopped (API.md §8)
  });

  await test("model output with <script> or onerror is shown as text, never executed", async () => {
    await newChat();
    const evil =
      'Look: <script>window.__pwned = 1</script> and <img src=x onerror="window.__pwned = 2"> ' +
      "and <a href=\"javascript:window.__pwned = 3\">click</a> and [a link](javascript:window.__pwned=4) " +
      "and <svg onload=\"window.__pwned = 5\"></svg>\n\n<div onmouseover=\"window.__pwned = 6\">block html</div>\n";
    await send(scripted("Say something nasty", { steps: [{ text: evil }] }));
    await waitReplyDone();
    const check = async () => {
      const reply = lastAssistant();
      // The article can be there a moment before its whole text is (after a reload, and under
      // load also live): wait for the reply's last words.
      const text = await waitFor(async () => {
        const shown = await reply.innerText();
        return shown.includes("block html") ? shown : false;
      }, "the reply's whole text to be shown").catch(async () => reply.innerText());
      assert(text.includes("<script>window.__pwned = 1</script>"), `the script tag is shown as text: ${text}`);
      assert(text.includes('onerror="window.__pwned = 2"'), `the onerror attribute is shown as text: ${text}`);
      const found = await page.evaluate(() => {
        const list = document.querySelector(".message-list");
        return {
          pwned: window.__pwned,
          scripts: list.querySelectorAll("script").length,
          images: list.querySelectorAll("img, svg").length,
          handlers: [...list.querySelectorAll("*")].filter((el) => [...el.attributes].some((a) => a.name.startsWith("on"))).length,
          jsLinks: [...list.querySelectorAll("a")].filter((a) => /^\s*javascript:/i.test(a.getAttribute("href") ?? "")).length,
        };
      });
      assertEqual(found.pwned, undefined, "no injected script ran");
      assertEqual(found.scripts, 0, "no <script> element in the messages");
      assertEqual(found.images, 0, "no <img>/<svg> element in the messages");
      assertEqual(found.handlers, 0, "no event handler attribute in the messages");
      assertEqual(found.jsLinks, 0, "no javascript: link");
    };
    await check();
    await page.locator(".message-list").hover();
    await page.reload(); // the stored message, rendered from GET …/messages
    await waitReplyDone();
    await check();
  });

  await test("a 3: error of the stream is shown, with the text so far", async () => {
    await newChat();
    await send(scripted("Fail midway", { steps: [{ text: "alpha beta gamma delta epsilon" }], midstream_error_after: 2 }));
    await chatError().waitFor();
    assertEqual(await chatError().getAttribute("data-kind"), "reply", "a failed reply");
    assert((await chatError().innerText()).includes("The reply failed."), "the message says so");
    await waitFor(async () => (await assistantText()).startsWith("alpha beta"), "the partial text to stay");
    await page.getByRole("button", { name: "Send" }).waitFor();
  });

  await test("409: a reply started elsewhere is reported, and can be followed", async () => {
    await page.goto(`${baseUrl}/chats/${streamChat}`);
    await composer().waitFor();
    await waitFor(async () => (await replyState()) === "ready", "the chat to load");
    // Another client starts a slow reply in this chat.
    const elsewhere = words(30, "x");
    const controller = new AbortController();
    const response = await fetch(`${baseUrl}/api/v2/chats/${streamChat}/messages`, {
      method: "POST",
      headers: { "Coder-Session-Token": token, "Content-Type": "application/json" },
      body: JSON.stringify({
        model: "fake-openai",
        message: { role: "user", content: scripted("From elsewhere", { steps: [{ text: elsewhere, token_delay_ms: 100 }] }) },
      }),
      signal: controller.signal,
    });
    assertEqual(response.status, 200, "the other client's send");
    controller.abort(); // the reply goes on without its client (on-disconnect = continue)
    await send("Me too");
    await chatError().waitFor();
    assertEqual(await chatError().getAttribute("data-kind"), "busy", "a busy chat");
    assert((await chatError().innerText()).includes("A reply is already being generated for this chat."), "chatd's message");
    await chatError().getByRole("button", { name: "Follow the running reply" }).click();
    await waitFor(async () => (await assistantText()) === elsewhere && (await replyState()) === "ready", "the other reply, followed to its end", 20000);
    assert(!(await page.locator(".message.user").allInnerTexts()).includes("Me too"), "the refused message is gone");
  });

  await test("network loss is reported; reconnecting recovers", async () => {
    await context.setOffline(true);
    try {
      await send("Anyone there?");
      await chatError().waitFor();
      assertEqual(await chatError().getAttribute("data-kind"), "network", "a network error");
      assert((await chatError().innerText()).includes("Cannot reach chatd"), "the message says so");
    } finally {
      await context.setOffline(false);
    }
    await chatError().getByRole("button", { name: "Reconnect" }).click();
    await waitFor(async () => (await chatError().count()) === 0 && (await replyState()) === "ready", "the chat to load again");
  });

  await test("the sidebar follows chats created and renamed elsewhere, at once (watch)", async () => {
    const made = await api("POST", "/api/v2/chats");
    assertEqual(made.status, 201, "created through the API");
    const id = made.body.id;
    await waitFor(async () => (await sidebarIds()).includes(id), "the new chat in the sidebar", 3000);
    assertEqual(await api("PATCH", `/api/v2/chats/${id}`, { title: "Named in another tab" }).then((r) => r.status), 204, "renamed");
    await page.locator(`a[data-chat-id="${id}"] .title`, { hasText: "Named in another tab" }).waitFor({ timeout: 3000 });
    assertEqual(await api("DELETE", `/api/v2/chats/${id}`).then((r) => r.status), 204, "deleted");
    await waitFor(async () => !(await sidebarIds()).includes(id), "the chat gone from the sidebar", 3000);
  });

  await test("rename inline, pin, archive and delete (confirmed inline) from the sidebar", async () => {
    const a = (await api("POST", "/api/v2/chats")).body.id;
    const b = (await api("POST", "/api/v2/chats")).body.id;
    await waitFor(async () => (await sidebarIds()).includes(a) && (await sidebarIds()).includes(b), "both chats listed");
    // Rename b.
    await chatMenu(b).click();
    await page.getByRole("button", { name: "Rename" }).click();
    const input = page.getByLabel("Chat title", { exact: true });
    await input.fill("Renamed on the page");
    await input.press("Enter");
    await page.locator(`a[data-chat-id="${b}"] .title`, { hasText: "Renamed on the page" }).waitFor();
    assertEqual((await api("GET", `/api/v2/chats/${b}`)).body.title, "Renamed on the page", "stored");
    // Pin b: first in the list, marked.
    await chatMenu(b).click();
    await page.getByRole("button", { name: "Pin", exact: true }).click();
    await waitFor(async () => (await sidebarIds())[0] === b, "the pinned chat first");
    await page.locator(`a[data-chat-id="${b}"] .pin`).waitFor();
    assert((await api("GET", `/api/v2/chats/${b}`)).body.pin_order > 0, "pinned on the server");
    // Archive b: it leaves the list.
    await chatMenu(b).click();
    await page.getByRole("button", { name: "Archive", exact: true }).click();
    await waitFor(async () => !(await sidebarIds()).includes(b), "the archived chat out of the list");
    assertEqual((await api("GET", `/api/v2/chats/${b}`)).body.archived, true, "archived on the server");
    // Delete a: asked first, on the page itself; Cancel keeps it.
    await chatMenu(a).click();
    await page.getByRole("button", { name: "Delete", exact: true }).click();
    const confirm = page.getByRole("group", { name: "Delete this chat?" });
    await confirm.getByRole("button", { name: "Cancel" }).click();
    assert((await sidebarIds()).includes(a), "kept after Cancel");
    await chatMenu(a).click();
    await page.getByRole("button", { name: "Delete", exact: true }).click();
    await confirm.getByRole("button", { name: "Delete" }).click();
    await waitFor(async () => !(await sidebarIds()).includes(a), "the deleted chat out of the list");
    assertEqual((await api("GET", `/api/v2/chats/${a}`)).status, 404, "deleted on the server");
    // The archived one is found with the search's archived: filter.
    await page.getByLabel("Search chats").fill("archived:true");
    await waitFor(async () => (await sidebarIds()).join() === b, "only the archived chat");
    await page.getByLabel("Search chats").fill("");
    await waitFor(async () => !(await sidebarIds()).includes(b), "the list without it again");
  });

  await test("the search box finds a chat by a word of its messages", async () => {
    await newChat();
    await send(scripted("Tell me about the xylophonist", { steps: [{ text: "They play mallets" }] }));
    await waitReplyDone();
    const id = chatIdFromUrl();
    await page.getByLabel("Search chats").fill("xylophonist");
    await waitFor(async () => (await sidebarIds()).join() === id, "only that chat listed");
    await page.getByLabel("Search chats").fill("mallets");
    await waitFor(async () => (await sidebarIds()).join() === id, "found by a word of the answer");
    await page.getByLabel("Search chats").fill("nosuchwordanywhere");
    await page.getByText("No chat matches.").waitFor();
    await page.getByLabel("Search chats").fill("");
    await waitFor(async () => (await sidebarIds()).length > 1, "every chat again");
  });

  await test("regenerate the last answer; edit a message and run again", async () => {
    await newChat();
    await send(scripted("First question", { steps: [{ text: "first answer" }] }));
    await waitReplyDone();
    const id = chatIdFromUrl();
    const before = (await api("GET", `/api/v2/chats/${id}/messages`)).body;
    assertEqual(before.length, 2, "one exchange stored");
    await page.getByRole("button", { name: "Regenerate" }).click();
    await waitFor(async () => (await api("GET", `/api/v2/chats/${id}/messages`)).body[1]?.id !== before[1].id, "a new answer stored");
    await waitReplyDone();
    assertEqual(await assistantMessages().count(), 1, "the answer replaced, not added");
    assertEqual((await api("GET", `/api/v2/chats/${id}/messages`)).body.length, 2, "still one exchange");
    // Edit the question: the answer after it is replaced by the new run's.
    await page.locator("article.message.user").getByRole("button", { name: "Edit" }).click();
    await page.getByLabel("Edit message").fill(scripted("Second question", { steps: [{ text: "second answer" }] }));
    await page.locator("form.edit").getByRole("button", { name: "Send" }).click();
    await waitFor(async () => (await assistantText()).includes("second answer"), "the edited run's answer");
    await waitReplyDone();
    const after = (await api("GET", `/api/v2/chats/${id}/messages`)).body;
    assertEqual(after.length, 2, "the history is the edited exchange");
    assertEqual(after[0].id, before[0].id, "the edited message kept its id");
    assert(after[0].content.startsWith("Second question"), `the edited text stored: ${after[0].content}`);
    assertEqual(await page.locator("article.message.user").count(), 1, "one question on the page");
    await page.reload();
    await waitFor(async () => (await assistantText()).includes("second answer"), "the same after a reload");
  });

  await test("a long chat opens on its newest messages; older ones load on scrolling up", async () => {
    const id = (await api("POST", "/api/v2/chats")).body.id;
    // 35 exchanges (70 messages) through the API, each reply read to its end.
    await page.evaluate(async (chat) => {
      const headers = { "Coder-Session-Token": localStorage.getItem("chatd_token"), "Content-Type": "application/json" };
      for (let i = 1; i <= 35; i++) {
        const body = JSON.stringify({
          model: "fake-openai",
          message: { role: "user", content: `q${i}\nSCRIPT {"steps":[{"text":"a${i}","token_delay_ms":0}]}` },
        });
        const r = await fetch(`/api/v2/chats/${chat}/messages`, { method: "POST", headers, body });
        await r.text();
      }
    }, id);
    await page.goto(`${baseUrl}/chats/${id}`);
    await waitFor(async () => (await page.locator(".message-list article").count()) === 50, "the newest 50 messages");
    await page.getByTestId("older").waitFor();
    const firstShown = () => page.locator(".message-list article").first().innerText();
    assert((await firstShown()).startsWith("q11"), `the page starts at q11: ${await firstShown()}`);
    await page.locator(".messages").first().evaluate((el) => (el.scrollTop = 0));
    await waitFor(async () => (await page.locator(".message-list article").count()) === 70, "all 70 messages");
    assert((await firstShown()).startsWith("q1\n") || (await firstShown()).startsWith("q1 "), `from the first: ${await firstShown()}`);
    await waitFor(async () => (await page.getByTestId("older").count()) === 0, "no more to load");
    const ids = await page.locator(".message-list article").evaluateAll((els) => els.map((e) => e.dataset.messageId));
    assertEqual(new Set(ids).size, 70, "each message once");
  });

  await test("phone width: no horizontal scrolling; the chat list is a drawer", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await page.goto(`${baseUrl}/chats/${toolChat}`);
      await lastAssistant().waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert(overflow <= 0, `no horizontal overflow (${overflow}px)`);
      const link = page.locator(`.chat-list a[data-chat-id="${streamChat}"]`);
      assert(!(await link.isVisible()), "the chat list is hidden");
      await page.getByRole("button", { name: "Show chats" }).click();
      await link.waitFor({ state: "visible" });
      await sleep(300); // the drawer slides in
      await page.screenshot({ path: join(artifacts, "main-view-phone-drawer.png") });
      await link.click();
      await waitFor(async () => chatIdFromUrl() === streamChat, "the chat opened from the drawer");
      await waitFor(async () => !(await link.isVisible()), "the drawer closes");
      await page.goto(`${baseUrl}/chats/${toolChat}`);
      await lastAssistant().waitFor();
      await page.screenshot({ path: join(artifacts, "main-view-phone.png") });
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });

  await test("a pasted image is previewed, sent, seen by the model, and shown again after a reload", async () => {
    await newChat();
    await waitModelsLoaded();
    await selectModel("fake-openai");
    // A real 1×1 PNG, pasted as a screenshot is.
    await composer().focus();
    await page.evaluate((hex) => {
      const bytes = new Uint8Array(hex.match(/../g).map((h) => parseInt(h, 16)));
      const data = new DataTransfer();
      data.items.add(new File([bytes], "shot.png", { type: "image/png" }));
      const textarea = document.querySelector('textarea[aria-label="Message"]');
      textarea.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
    }, PNG_HEX);
    const attached = page.locator('[data-testid="attached-file"]');
    await attached.waitFor();
    await waitFor(async () => (await attached.getAttribute("class")) === "ready", "the upload to finish");
    assert(await attached.locator("img").count(), "an image preview");
    await send(scripted("What is in this screenshot?", { steps: [{ text: "x" }], describe_files: true }));
    await waitReplyDone();
    await waitFor(async () => (await assistantText()) === "files: image/png 69", "the model to get the image");
    assertEqual(await attached.count(), 0, "the composer is empty again");
    await page.reload();
    const shown = page.locator("article.message.user img.attachment-image").last();
    await shown.waitFor();
    await waitFor(
      async () => (await shown.evaluate((img) => img.complete && img.naturalWidth)) === 1,
      "the image to load again after the reload",
    );
  });

  await test("a PDF chosen with Attach and a dropped image: both reach the model, and show after a reload", async () => {
    await newChat();
    await waitModelsLoaded();
    await selectModel("fake-anthropic");
    const pdf = Buffer.from("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n");
    const [chooser] = await Promise.all([page.waitForEvent("filechooser"), page.getByRole("button", { name: "Attach" }).click()]);
    await chooser.setFiles({ name: "report.pdf", mimeType: "application/pdf", buffer: pdf });
    await page.evaluate((hex) => {
      const bytes = new Uint8Array(hex.match(/../g).map((h) => parseInt(h, 16)));
      const data = new DataTransfer();
      data.items.add(new File([bytes], "dropped.png", { type: "image/png" }));
      const form = document.querySelector("form.composer");
      form.dispatchEvent(new DragEvent("dragover", { dataTransfer: data, bubbles: true, cancelable: true }));
      form.dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
    }, PNG_HEX);
    const attached = page.locator('[data-testid="attached-file"]');
    await waitFor(
      async () => (await attached.evaluateAll((items) => items.map((item) => item.className))).join() === "ready,ready",
      "both uploads to finish",
    );
    assertEqual(await attached.locator("img").count(), 1, "a preview of the image, the PDF by name");
    await send(scripted("What do these say?", { steps: [{ text: "x" }], describe_files: true }));
    await waitReplyDone();
    const expected = `files: application/pdf ${pdf.length}, image/png 69`;
    await waitFor(async () => (await assistantText()) === expected, `the model to get both (${expected})`);
    await page.reload();
    const user = page.locator("article.message.user").last();
    await user.locator("a.attachment-link", { hasText: "report.pdf" }).waitFor();
    const image = user.locator("img.attachment-image");
    await waitFor(async () => (await image.evaluate((img) => img.complete && img.naturalWidth)) === 1, "the image after the reload");
    // The PDF link downloads the bytes that were uploaded, under the file's name.
    const [download] = await Promise.all([page.waitForEvent("download"), user.locator("a.attachment-link").click()]);
    assertEqual(download.suggestedFilename(), "report.pdf", "the download's name");
    assertEqual((await readFile(await download.path())).equals(pdf), true, "the PDF's bytes");
  });

  await test("what a chat costs is shown under it; a reached budget is said plainly", async () => {
    assert(budgetedToken, "--budgeted=TOKEN is given");
    const status = page.locator('[data-testid="reply-status"]');
    try {
      await page.evaluate((t) => localStorage.setItem("chatd_token", t), budgetedToken);
      await page.goto(baseUrl);
      await newChat();
      await waitModelsLoaded();
      await selectModel("fake-openai");
      // 100 tokens in and 10 out at $2.50 and $10 per million: $0.00035, and the title's.
      await send(scripted("Costly question", { steps: [{ text: "a costly answer" }], usage: { prompt: 100, completion: 10 } }));
      await waitReplyDone();
      await waitFor(
        async () =>
          /^This chat \$0\.000\d+ · you spent \$0\.000\d+ of \$0\.0001 today: the limit is reached until /.test(await status.innerText()),
        "the chat's cost and the reached budget under it",
      );
      assert(await status.evaluate((el) => el.classList.contains("reached")), "the reached budget stands out");
      await send("And another thing");
      await chatError().waitFor();
      assertEqual(await chatError().getAttribute("data-kind"), "budget", "a reached budget");
      const shown = await chatError().innerText();
      assert(shown.includes("Usage limit reached.") && /resets at \d{4}-/.test(shown), shown);
      assertEqual(await chatError().getByRole("button").count(), 0, "nothing to follow or retry");
    } finally {
      await page.evaluate((t) => localStorage.setItem("chatd_token", t), token);
      await page.goto(baseUrl);
      await composer().waitFor();
    }
  });

  await test("an expired or revoked token sends the user back to sign-in with the reason", async () => {
    await page.evaluate((t) => localStorage.setItem("chatd_token", t), WRONG_TOKEN);
    await page.reload();
    const error = page.locator('[data-testid="signin-error"]');
    await error.waitFor();
    assert((await error.innerText()).includes("You are signed out or your session has expired"), await error.innerText());
    assertEqual(await page.evaluate(() => localStorage.getItem("chatd_token")), null, "the bad token is dropped");
    await signIn(token);
    await composer().waitFor();
  });

  await test("a message typed while the token was lost survives signing in again", async () => {
    const draft = "Half a thought, not sent yet";
    await composer().fill(draft);
    await page.evaluate((t) => localStorage.setItem("chatd_token", t), WRONG_TOKEN);
    await page.reload();
    await page.locator('[data-testid="signin-error"]').waitFor();
    await signIn(token);
    await composer().waitFor();
    await waitFor(async () => (await composer().inputValue()) === draft, "the draft to be back");
  });

  await test("sign out clears the token", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("API token").waitFor();
    assertEqual(await page.evaluate(() => localStorage.getItem("chatd_token")), null, "no token is kept");
    assertEqual(
      await page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith("chatd_draft:")).length),
      0,
      "a deliberate sign-out drops the drafts",
    );
    await page.reload();
    await page.getByLabel("API token").waitFor();
  });

  await test("no script error, CSP violation, dialog or foreign request happened", async () => {
    assert(problems.length === 0, problems.join("\n"));
  });
} finally {
  await context.close().catch(() => {});
  await rm(userDataDir, { recursive: true, force: true });
}

const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
