// Talking to chatd: the API token, JSON requests, and errors a person can read.
//
// The token is kept in localStorage and sent as the Coder-Session-Token header on every request
// (never as a cookie, so no other site can make the browser send it).

const TOKEN_KEY = "chatd_token";
const MODEL_KEY = "coder_chat_selected_model"; // the key Coder's chat page used
const THINKING_KEY = "chatd_thinking";

function storageGet(key) {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

function storageSet(key, value) {
  try {
    if (value === null || value === undefined) window.localStorage.removeItem(key);
    else window.localStorage.setItem(key, value);
  } catch {
    // Private mode or a full quota: the value lives for this page only.
  }
}

// What is typed but not sent, per chat ("new" for a new chat), for this tab (sessionStorage): it
// survives a reload and a lost token's sign-in; a deliberate sign-out drops it.
const DRAFT_PREFIX = "chatd_draft:";

export function getDraft(key) {
  try {
    return window.sessionStorage.getItem(DRAFT_PREFIX + key) ?? "";
  } catch {
    return "";
  }
}

export function setDraft(key, text) {
  try {
    if (text) window.sessionStorage.setItem(DRAFT_PREFIX + key, text);
    else window.sessionStorage.removeItem(DRAFT_PREFIX + key);
  } catch {
    // Private mode or a full quota: the draft lives for this page only.
  }
}

export function clearDrafts() {
  try {
    for (const key of Object.keys(window.sessionStorage))
      if (key.startsWith(DRAFT_PREFIX)) window.sessionStorage.removeItem(key);
  } catch {
    // Nothing was kept.
  }
}

export const getToken = () => storageGet(TOKEN_KEY);
export const setToken = (token) => storageSet(TOKEN_KEY, token);
export const getSavedModel = () => storageGet(MODEL_KEY);
export const setSavedModel = (model) => storageSet(MODEL_KEY, model);
export const getSavedThinking = () => storageGet(THINKING_KEY) === "true";
export const setSavedThinking = (on) => storageSet(THINKING_KEY, on ? "true" : "false");

// An error answer of the API: {"message", "detail"} with the HTTP status.
export class ApiError extends Error {
  constructor(status, message, detail) {
    super(message || `The server answered ${status}.`);
    this.name = "ApiError";
    this.status = status;
    this.detail = detail || "";
  }
}

// Reads an error response into an ApiError (chatd and nginx both answer errors with JSON).
export async function errorFromResponse(response) {
  let message = "";
  let detail = "";
  try {
    const text = await response.text();
    try {
      const body = JSON.parse(text);
      message = typeof body.message === "string" ? body.message : "";
      detail = typeof body.detail === "string" ? body.detail : "";
    } catch {
      message = text.trim().slice(0, 300);
    }
  } catch {
    // The body could not be read; the status alone has to do.
  }
  return new ApiError(response.status, message, detail);
}

// fetch with the token; throws ApiError for an error status and TypeError when the network fails.
// `raw`: a Blob sent as it is (an upload), instead of `body` as JSON.
export async function apiFetch(path, { method = "GET", body, raw, token = getToken(), signal } = {}) {
  const headers = {};
  if (token) headers["Coder-Session-Token"] = token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (raw !== undefined) headers["Content-Type"] = raw.type || "application/octet-stream";
  const response = await fetch(path, {
    method,
    headers,
    body: raw !== undefined ? raw : body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
    cache: "no-store",
    signal,
  });
  if (!response.ok) throw await errorFromResponse(response);
  return response;
}

export async function apiJson(path, options) {
  const response = await apiFetch(path, options);
  if (response.status === 204) return null;
  return response.json();
}

// q: the search box's text (API.md §8: words, archived:, status:, title:, label:).
export const listChats = (q = "") =>
  apiJson(q.trim() ? `/api/v2/chats?q=${encodeURIComponent(q.trim())}` : "/api/v2/chats");
export const updateChat = (id, fields) =>
  apiJson(`/api/v2/chats/${encodeURIComponent(id)}`, { method: "PATCH", body: fields });
export const deleteChat = (id) =>
  apiJson(`/api/v2/chats/${encodeURIComponent(id)}`, { method: "DELETE" });

// GET /api/v2/chats/watch: calls onEvent({kind, chat}) for every change to the user's chats,
// made anywhere, until `signal` aborts; resolves when the stream ends. (fetch, not EventSource:
// the token goes in a header.)
export async function watchChats(onEvent, signal) {
  const response = await apiFetch("/api/v2/chats/watch", { signal });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      for (const line of block.split("\n"))
        if (line.startsWith("data: ")) {
          try {
            onEvent(JSON.parse(line.slice(6)));
          } catch {
            // not JSON: not an event of ours
          }
        }
    }
  }
}
export const createChat = () => apiJson("/api/v2/chats", { method: "POST" });
export const getChat = (id) => apiJson(`/api/v2/chats/${encodeURIComponent(id)}`);
// A page of a chat's messages, oldest first: the newest PAGE_SIZE, or those before `beforeId`;
// `older` says whether there are more before them (the Link header's rel="prev").
export const PAGE_SIZE = 50;
export async function getMessagesPage(id, beforeId = null) {
  let path = `/api/v2/chats/${encodeURIComponent(id)}/messages?limit=${PAGE_SIZE}`;
  if (beforeId) path += `&before_id=${encodeURIComponent(beforeId)}`;
  const response = await apiFetch(path);
  const older = /rel="prev"/.test(response.headers.get("Link") ?? "");
  return { messages: await response.json(), older };
}
export const listModels = (token) => apiJson("/api/v2/deployment/llms", { token });
export const interruptChat = (id) =>
  apiFetch(`/api/v2/chats/${encodeURIComponent(id)}/interrupt`, { method: "POST" });

// POST /api/v2/chats/files (API.md §10): the file as the raw body; {id, media_type, size}. The
// attachment a message carries for it is fileAttachment(name, uploaded).
export const uploadFile = (file) => apiJson("/api/v2/chats/files", { method: "POST", raw: file });
export const fileAttachment = (name, uploaded) => ({
  name,
  contentType: uploaded.media_type,
  url: `/api/v2/chats/files/${uploaded.id}`,
});
// An uploaded file's bytes as an object URL (the token goes in a header: an <img src> could
// not send it); the caller revokes it.
export async function fileObjectUrl(url) {
  const response = await apiFetch(url);
  return URL.createObjectURL(await response.blob());
}

// GET /api/v2/chats/cost/me/summary (API.md §9): the user's model calls from `start` (RFC 3339;
// default: the first of this month), with their budget now (null: none).
export const getCostSummary = (start = null) =>
  apiJson(`/api/v2/chats/cost/me/summary${start ? `?start_date=${encodeURIComponent(start)}` : ""}`);

// Micro-dollars as dollars, exactly, with 2 to 6 decimals (as chatd writes them): 1234567 ->
// "$1.234567", 10000000 -> "$10.00".
export function formatDollars(micros) {
  const sign = micros < 0 ? "-" : "";
  const magnitude = Math.abs(Math.trunc(micros));
  let fraction = String(magnitude % 1000000).padStart(6, "0");
  while (fraction.length > 2 && fraction.endsWith("0")) fraction = fraction.slice(0, -1);
  return `${sign}$${Math.floor(magnitude / 1000000)}.${fraction}`;
}

const USAGE_LIMIT = "Usage limit reached.";

export const isUnauthorized = (error) => error instanceof ApiError && error.status === 401;

// A network failure (server unreachable, connection dropped mid-stream), as fetch reports it.
export const isNetworkError = (error) =>
  error instanceof TypeError ||
  (error && /network|failed to fetch|load failed|fetch failed/i.test(String(error.message)));

// What to tell a person about an error: {title, detail, kind}.
// kind: "auth" | "network" | "busy" | "budget" | "reply" | "http".
export function describeError(error) {
  if (error instanceof ApiError) {
    if (error.status === 401)
      return {
        kind: "auth",
        title: error.message || "You are signed out.",
        detail: error.detail,
      };
    if (error.status === 409 && error.message === USAGE_LIMIT)
      return { kind: "budget", title: USAGE_LIMIT, detail: error.detail };
    if (error.status === 409)
      return {
        kind: "busy",
        title: error.message || "A reply is already being generated for this chat.",
        detail: error.detail,
      };
    if (error.status >= 500 && error.status !== 503 && !error.message)
      return { kind: "http", title: `The server failed (${error.status}).`, detail: error.detail };
    return { kind: "http", title: error.message, detail: error.detail };
  }
  if (isNetworkError(error))
    return {
      kind: "network",
      title: "Cannot reach chatd: the network connection was lost.",
      detail: "Check your connection; the reply goes on on the server and you can reconnect to it.",
    };
  // A `3:` part of the data stream: the reply failed after it had started.
  const text = error && error.message ? String(error.message) : "";
  if (text.startsWith(USAGE_LIMIT))
    return { kind: "budget", title: USAGE_LIMIT, detail: text.slice(USAGE_LIMIT.length).trim() };
  return {
    kind: "reply",
    title: "The reply failed.",
    detail: error && error.message ? String(error.message) : "",
  };
}
