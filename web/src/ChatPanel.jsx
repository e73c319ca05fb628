// One open chat: its history from GET …/messages feeds the AI SDK's useChat, which streams
// replies (POST …/messages) and reattaches to a running one (GET …/stream).
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";
import { useChat } from "@ai-sdk/react";
import {
  describeError,
  errorFromResponse,
  formatDollars,
  getChat,
  getCostSummary,
  getMessagesPage,
  getToken,
  interruptChat,
} from "./api.js";
import Composer from "./Composer.jsx";
import ErrorBanner from "./ErrorBanner.jsx";
import MessageView from "./MessageView.jsx";

// How long a stopped reply may take to end by itself before the page lets go of the stream.
const STOP_GRACE_MS = 5000;

export default function ChatPanel({ chatId, pendingRef, modelPicker, onError, onTitle, onReplyEnded }) {
  // Bumped to load the chat again (after a lost connection, or to follow a reply begun elsewhere).
  const [generation, setGeneration] = useState(0);
  // {chat, messages, pending}. A chat just made on the landing view needs no loading: it is
  // empty, and its first message is waiting to be sent.
  const [loaded, setLoaded] = useState(() => {
    const pending = pendingRef.current;
    if (!pending || pending.chat.id !== chatId) return null;
    pendingRef.current = null;
    return { chat: pending.chat, messages: [], older: false, pending };
  });
  const [loadError, setLoadError] = useState(null);
  const skipFirstLoad = useRef(loaded !== null);

  useEffect(() => {
    let cancelled = false;
    if (skipFirstLoad.current) {
      skipFirstLoad.current = false;
      return undefined;
    }
    setLoaded(null);
    setLoadError(null);
    (async () => {
      try {
        // The chat first: if it says "running", the history cannot yet hold that reply.
        const chat = await getChat(chatId);
        const { messages, older } = await getMessagesPage(chatId);
        if (!cancelled) setLoaded({ chat, messages, older, pending: null });
      } catch (error) {
        if (cancelled || onError(error)) return;
        setLoadError(describeError(error));
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [chatId, generation, pendingRef, onError]);

  const reconnect = useCallback(() => setGeneration((g) => g + 1), []);

  // While loading (or after it failed) the composer stays where it is, disabled.
  if (loadError || !loaded)
    return (
      <div className="chat">
        <div className="messages" aria-busy={!loadError}>
          {!loadError && <p className="muted pad">Loading…</p>}
        </div>
        <ReplyStatus />
        <ErrorBanner error={loadError} action="Try again" onAction={reconnect} />
        <Composer disabled loading onSend={() => false} modelPicker={modelPicker} />
      </div>
    );
  return (
    <ChatSession
      key={generation}
      chat={loaded.chat}
      initialMessages={loaded.messages}
      initialOlder={loaded.older}
      pending={loaded.pending}
      modelPicker={modelPicker}
      onError={onError}
      onTitle={onTitle}
      onReplyEnded={onReplyEnded}
      onReconnect={reconnect}
    />
  );
}

// A user message, with uploaded files as its attachments (by URL: chatd has their bytes).
function sendMessage(append, text, attachments = []) {
  append({ role: "user", content: text }, attachments.length ? { experimental_attachments: attachments } : undefined);
}

// useChat keeps its state in SWR's cache under its `id`. Each session gets an id of its own, so
// that an earlier session of the same chat (or its request, still ending after it was left)
// never shows through.
let sessionCount = 0;

function ChatSession({
  chat,
  initialMessages,
  initialOlder,
  pending,
  modelPicker,
  onError,
  onTitle,
  onReplyEnded,
  onReconnect,
}) {
  const chatId = chat.id;
  const [sessionId] = useState(() => `${chatId}#${++sessionCount}`);
  const [noticeError, setNoticeError] = useState(null);
  // Older messages than those shown exist; a page of them is being read.
  const [older, setOlder] = useState(initialOlder);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [stopping, setStopping] = useState(false);
  const stopRef = useRef({ timer: null, whileSubmitted: false });
  const setMessagesRef = useRef(null);
  // The ids of the user messages the server holds: sending one of them again (regenerate, or an
  // edit) is PATCH …/messages/{id}, which replaces it and what follows.
  const storedIds = useRef(new Set(initialMessages.filter((m) => m.role === "user").map((m) => m.id)));

  // useChat's fetch: adds the token, sends experimental_resume's GET to …/stream, and turns an
  // error answer into an ApiError (status, message, detail) instead of plain text.
  const chatFetch = useCallback(
    async (url, init = {}) => {
      const headers = { ...(init.headers ?? {}), "Coder-Session-Token": getToken() ?? "" };
      let target = url;
      if ((init.method ?? "GET") === "GET") {
        target = `/api/v2/chats/${encodeURIComponent(chatId)}/stream`;
        delete headers["Content-Type"];
      } else {
        // The user message's id: a retry of the same send can never start a second reply.
        let id = null;
        try {
          id = JSON.parse(init.body)?.message?.id;
        } catch {
          // not JSON: send it as it is
        }
        if (typeof id === "string" && id) {
          if (storedIds.current.has(id)) {
            // Run again from this message: each edit or regenerate is a request of its own.
            target = `/api/v2/chats/${encodeURIComponent(chatId)}/messages/${encodeURIComponent(id)}`;
            init = { ...init, method: "PATCH" };
            headers["Idempotency-Key"] = `${id}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
          } else {
            headers["Idempotency-Key"] = id;
            storedIds.current.add(id);
          }
        }
      }
      const response = await fetch(target, { ...init, headers, credentials: "omit", cache: "no-store" });
      if (!response.ok) throw await errorFromResponse(response);
      if (response.status === 204) {
        // No reply runs any more: it ended between loading the chat and attaching. The history
        // has it now.
        getMessagesPage(chatId)
          .then((page) => {
            setOlder(page.older);
            setMessagesRef.current?.(page.messages);
          })
          .catch(() => {});
        return new Response("", { status: 200, headers: { "Content-Type": "text/plain" } });
      }
      return response;
    },
    [chatId],
  );

  const { model, thinking } = { model: modelPicker.selected, thinking: modelPicker.thinking };
  const bodyRef = useRef({ model, thinking });
  bodyRef.current = { model, thinking };

  const { messages, status, error, append, reload, stop, setMessages, data, experimental_resume } = useChat({
    id: sessionId,
    api: `/api/v2/chats/${encodeURIComponent(chatId)}/messages`,
    initialMessages,
    // Only the newest message goes to chatd, which has the history (as Coder's page did).
    experimental_prepareRequestBody: ({ messages: all }) => ({
      model: bodyRef.current.model,
      message: all[all.length - 1],
      thinking: bodyRef.current.thinking,
    }),
    fetch: chatFetch,
    credentials: "omit",
    experimental_throttle: 50,
  });
  setMessagesRef.current = setMessages;

  const streaming = status === "submitted" || status === "streaming";
  const [cost, refreshCost] = useCost(chat);

  // Attach to a reply that is running (begun before a reload, or in another tab); send the
  // first message of a chat made on the landing view. Once per session.
  const startedRef = useRef(false);
  useEffect(() => {
    if (startedRef.current) return;
    startedRef.current = true;
    if (pending) sendMessage(append, pending.text, pending.attachments);
    else if (chat.status === "running") experimental_resume();
  }, [pending, chat.status, append, experimental_resume]);

  // Leaving the chat lets go of its stream; the reply goes on on the server.
  useEffect(() => () => stop(), [stop]);

  // The title arrives as a data part ({"type":"chat-title"}) with the first reply.
  useEffect(() => {
    if (!Array.isArray(data)) return;
    for (let i = data.length - 1; i >= 0; i--) {
      const item = data[i];
      if (item && item.type === "chat-title" && typeof item.title === "string") {
        onTitle(chatId, item.title);
        return;
      }
    }
  }, [data, chatId, onTitle]);

  // When a reply ends (done, stopped or failed): refresh the chat list, forget a stop request.
  const previousStatus = useRef(status);
  useEffect(() => {
    const was = previousStatus.current;
    previousStatus.current = status;
    const wasStreaming = was === "submitted" || was === "streaming";
    if (wasStreaming && !streaming) {
      clearTimeout(stopRef.current.timer);
      stopRef.current = { timer: null, whileSubmitted: false };
      setStopping(false);
      onReplyEnded();
      refreshCost();
    }
    // Stop pressed before the reply had started: the server may not have known it yet.
    if (status === "streaming" && stopRef.current.whileSubmitted) {
      stopRef.current.whileSubmitted = false;
      interruptChat(chatId).catch(() => {});
    }
  }, [status, streaming, chatId, onReplyEnded, refreshCost]);

  const stopReply = useCallback(async () => {
    if (!streaming || stopping) return;
    setStopping(true);
    stopRef.current.whileSubmitted = status === "submitted";
    try {
      // The server stops the reply and stores it; the open stream then ends by itself.
      await interruptChat(chatId);
      clearTimeout(stopRef.current.timer);
      stopRef.current.timer = setTimeout(() => stop(), STOP_GRACE_MS);
    } catch (e) {
      if (onError(e)) return;
      stop();
      setNoticeError(describeError(e));
    }
  }, [streaming, stopping, status, chatId, stop, onError]);

  // Errors of the stream (HTTP status, network, or a `3:` part).
  useEffect(() => {
    if (error) onError(error);
  }, [error, onError]);

  const send = async (text, attachments) => {
    setNoticeError(null);
    sendMessage(append, text, attachments);
    return true;
  };

  // Scrolled to the top: the page of messages before the first one shown.
  const loadOlder = useCallback(async () => {
    if (!older || loadingOlder || messages.length === 0) return;
    setLoadingOlder(true);
    try {
      const page = await getMessagesPage(chatId, messages[0].id);
      for (const m of page.messages) if (m.role === "user") storedIds.current.add(m.id);
      setMessages((all) => [...page.messages, ...all]);
      setOlder(page.older);
    } catch (e) {
      if (!onError(e)) setNoticeError(describeError(e));
    } finally {
      setLoadingOlder(false);
    }
  }, [older, loadingOlder, messages, chatId, setMessages, onError]);

  // Regenerate the last answer; edit a user message (everything after it goes) and run again.
  const regenerate = useCallback(() => {
    setNoticeError(null);
    reload();
  }, [reload]);
  const edit = useCallback(
    (message, text) => {
      setNoticeError(null);
      setMessages((all) => {
        const at = all.findIndex((m) => m.id === message.id);
        return at < 0 ? all : [...all.slice(0, at), { ...message, content: text, parts: [{ type: "text", text }] }];
      });
      reload();
    },
    [setMessages, reload],
  );

  const shownError = noticeError ?? (error ? describeError(error) : null);
  let action = null;
  if (shownError?.kind === "network") action = "Reconnect";
  else if (shownError?.kind === "busy") action = "Follow the running reply";

  return (
    <div className="chat">
      <MessageList
        messages={messages}
        streaming={streaming}
        status={status}
        older={older}
        loadingOlder={loadingOlder}
        onTop={loadOlder}
        onRegenerate={regenerate}
        onEdit={edit}
      />
      <ReplyStatus messages={messages} streaming={streaming} cost={cost} />
      <ErrorBanner error={shownError} action={action} onAction={onReconnect} />
      <Composer
        streaming={streaming}
        stopping={stopping}
        disabled={!modelPicker.selected}
        onSend={send}
        onStop={stopReply}
        modelPicker={modelPicker}
        autoFocus
        draftKey={chatId}
      />
    </div>
  );
}

// The messages, kept scrolled to the bottom while the reader is there.
function MessageList({ messages, streaming, status, older, loadingOlder, onTop, onRegenerate, onEdit }) {
  const ref = useRef(null);
  const stickRef = useRef(true);
  // When older messages come in above, what was on screen stays where it was.
  const anchorRef = useRef(null);

  const onScroll = () => {
    const el = ref.current;
    if (!el) return;
    stickRef.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
    if (el.scrollTop < 200 && older && !loadingOlder) {
      anchorRef.current = { height: el.scrollHeight, top: el.scrollTop, first: messages[0]?.id };
      onTop();
    }
  };

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const anchor = anchorRef.current;
    if (anchor && messages[0]?.id !== anchor.first) {
      anchorRef.current = null;
      el.scrollTop = anchor.top + (el.scrollHeight - anchor.height);
    } else if (stickRef.current) {
      el.scrollTop = el.scrollHeight;
    }
  }, [messages]);

  return (
    <div className="messages" ref={ref} onScroll={onScroll} data-status={status}>
      {messages.length === 0 && !streaming && (
        <div className="empty">
          <p>No messages yet: write one below.</p>
        </div>
      )}
      {older && (
        <p className="muted pad older" data-testid="older">
          {loadingOlder ? "Loading older messages…" : "Scroll up for older messages."}
        </p>
      )}
      <div className="message-list" role="log" aria-live="polite" aria-relevant="additions text">
        {messages.map((m, i) => (
          <MessageView
            key={m.id ?? i}
            message={m}
            streaming={streaming && i === messages.length - 1 && m.role === "assistant"}
            onRegenerate={!streaming && i === messages.length - 1 && m.role === "assistant" ? onRegenerate : null}
            onEdit={!streaming && m.role === "user" ? onEdit : null}
          />
        ))}
      </div>
    </div>
  );
}

// The chat's cost since it was made and the user's spend this budget period (this month without
// a budget), from the usage ledger (API.md §9); `refresh` reads them again (after a reply).
// Null until read, or when they cannot be: they are extras, the chat works without them.
function useCost(chat) {
  const [cost, setCost] = useState(null);
  const refresh = useCallback(async () => {
    try {
      const [sinceChat, thisMonth] = await Promise.all([getCostSummary(chat.created_at), getCostSummary()]);
      const own = sinceChat.by_chat.find((c) => c.chat_id === chat.id);
      setCost({ chat: own ? own.total_cost_micros : 0, month: thisMonth.total_cost_micros, budget: thisMonth.budget });
    } catch {
      // Left as it was.
    }
  }, [chat.id, chat.created_at]);
  useEffect(() => {
    refresh();
  }, [refresh]);
  return [cost, refresh];
}

const PERIOD_WORDS = { day: "today", week: "this week", month: "this month" };

function costText({ chat, month, budget }) {
  const own = `This chat ${formatDollars(chat)}`;
  if (!budget) return `${own} · you spent ${formatDollars(month)} this month`;
  const spent = `${own} · you spent ${formatDollars(budget.spent_micros)} of ${formatDollars(budget.limit_micros)} ${PERIOD_WORDS[budget.period] ?? ""}`;
  if (budget.spent_micros < budget.limit_micros) return spent;
  return `${spent}: the limit is reached until ${new Date(budget.resets_at).toLocaleString()}`;
}

// One line between the messages and the composer, always there, so that a reply starting or
// ending never moves anything: the reply's state while one runs, else what things cost.
export function ReplyStatus({ messages = [], streaming = false, cost = null }) {
  const last = messages[messages.length - 1];
  const waiting = streaming && (!last || last.role !== "assistant");
  const reached = cost?.budget && cost.budget.spent_micros >= cost.budget.limit_micros;
  const shown = streaming || cost !== null;
  return (
    <div
      className={`reply-status${shown ? " on" : ""}${!streaming && reached ? " reached" : ""}`}
      aria-hidden={!shown}
      data-testid="reply-status"
    >
      {waiting ? "Waiting for the model…" : streaming ? "Replying…" : cost ? costText(cost) : ""}
    </div>
  );
}
