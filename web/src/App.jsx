// The page: sign-in, then the chat list beside the open chat.
//
// Routes (History API, no router library): "/" starts a new chat, "/chats/<id>" opens one.
// nginx answers both with index.html.
import { useCallback, useEffect, useRef, useState } from "react";
import {
  clearDrafts,
  createChat,
  deleteChat,
  describeError,
  getSavedModel,
  getSavedThinking,
  getToken,
  isUnauthorized,
  listChats,
  listModels,
  setSavedModel,
  setSavedThinking,
  setToken,
  updateChat,
  watchChats,
} from "./api.js";
import SignIn from "./SignIn.jsx";
import ChatList from "./ChatList.jsx";
import ChatPanel, { ReplyStatus } from "./ChatPanel.jsx";
import Composer from "./Composer.jsx";
import ErrorBanner from "./ErrorBanner.jsx";

function chatIdFromPath(pathname) {
  const m = /^\/chats\/([0-9A-Za-z-]+)\/?$/.exec(pathname);
  return m ? m[1] : null;
}

export default function App() {
  const [token, setTokenState] = useState(getToken);
  const [signInError, setSignInError] = useState(null);

  // error: the token was lost (what is typed is kept for after signing in); none: signed out.
  const signOut = useCallback((error) => {
    if (!error) clearDrafts();
    setToken(null);
    setTokenState(null);
    setSignInError(error ? describeError(error) : null);
  }, []);

  if (!token)
    return (
      <SignIn
        error={signInError}
        onSignedIn={(t) => {
          setToken(t);
          setSignInError(null);
          setTokenState(t);
        }}
      />
    );
  return <Workspace key={token} onSignOut={signOut} />;
}

function Workspace({ onSignOut }) {
  const [chatId, setChatId] = useState(() => chatIdFromPath(window.location.pathname));
  const [chats, setChats] = useState(null); // null while loading
  const [listError, setListError] = useState(null);
  const [query, setQuery] = useState(""); // the search box
  const queryRef = useRef("");
  queryRef.current = query;
  const [models, setModels] = useState(null);
  const [defaultModel, setDefaultModel] = useState("");
  const [model, setModel] = useState(getSavedModel);
  const [thinking, setThinking] = useState(getSavedThinking);
  const [drawerOpen, setDrawerOpen] = useState(false);
  const [startError, setStartError] = useState(null);
  const [starting, setStarting] = useState(false);
  // The first message of a chat made on the landing view, sent once the chat is open.
  const pendingRef = useRef(null);

  const handleError = useCallback(
    (error) => {
      if (isUnauthorized(error)) {
        onSignOut(error);
        return true;
      }
      return false;
    },
    [onSignOut],
  );

  const refreshChats = useCallback(async () => {
    const asked = queryRef.current;
    try {
      const list = await listChats(asked);
      if (asked !== queryRef.current) return; // the search changed meanwhile
      setChats(list);
      setListError(null);
    } catch (error) {
      if (!handleError(error)) setListError(describeError(error));
    }
  }, [handleError]);

  // The search box: the list follows what is typed, a moment after the typing stops.
  const firstQuery = useRef(true);
  useEffect(() => {
    if (firstQuery.current) {
      firstQuery.current = false;
      return undefined;
    }
    const timer = setTimeout(refreshChats, 200);
    return () => clearTimeout(timer);
  }, [query, refreshChats]);

  useEffect(() => {
    refreshChats();
    listModels()
      .then((config) => {
        setModels(config?.models ?? []);
        setDefaultModel(config?.default_model ?? "");
      })
      .catch((error) => {
        if (!handleError(error)) setListError(describeError(error));
        setModels([]);
      });
  }, [refreshChats, handleError]);

  // The remembered model if it is still offered, else the operator's default, else the first.
  const modelIds = (models ?? []).map((m) => m.id);
  const selectedModel = modelIds.includes(model)
    ? model
    : modelIds.includes(defaultModel)
      ? defaultModel
      : (modelIds[0] ?? "");
  const chooseModel = (id) => {
    setModel(id);
    setSavedModel(id);
  };
  const chooseThinking = (on) => {
    setThinking(on);
    setSavedThinking(on);
  };

  const navigate = useCallback((id) => {
    const path = id ? `/chats/${id}` : "/";
    if (window.location.pathname !== path) window.history.pushState(null, "", path);
    setChatId(id);
    setDrawerOpen(false);
  }, []);

  useEffect(() => {
    const onPop = () => setChatId(chatIdFromPath(window.location.pathname));
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);

  const setChatTitle = useCallback((id, title) => {
    setChats((list) => list && list.map((c) => (c.id === id ? { ...c, title } : c)));
  }, []);

  // The sidebar stays current with changes made anywhere (another tab, another device): every
  // event of GET /api/v2/chats/watch reads the list again. A lost watch is opened again.
  const chatIdRef = useRef(chatId);
  chatIdRef.current = chatId;
  useEffect(() => {
    const controller = new AbortController();
    let retry = null;
    const watch = () =>
      watchChats((event) => {
        if (event.kind === "deleted" && event.chat?.id === chatIdRef.current) navigate(null);
        refreshChats();
      }, controller.signal)
        .catch((error) => handleError(error))
        .finally(() => {
          if (!controller.signal.aborted) retry = setTimeout(watch, 3000);
        });
    watch();
    return () => {
      controller.abort();
      clearTimeout(retry);
    };
  }, [refreshChats, handleError, navigate]);

  // The chat menu's actions; the list is read again after each (the watch would too).
  const act = useCallback(
    async (work) => {
      try {
        await work();
        setListError(null);
      } catch (error) {
        if (!handleError(error)) setListError(describeError(error));
      }
      await refreshChats();
    },
    [handleError, refreshChats],
  );
  const chatActions = {
    rename: (chat, title) => act(() => updateChat(chat.id, { title })),
    pin: (chat) => {
      const top = Math.max(0, ...(chats ?? []).map((c) => c.pin_order));
      return act(() => updateChat(chat.id, { pin_order: chat.pin_order > 0 ? 0 : top + 1 }));
    },
    archive: (chat) => act(() => updateChat(chat.id, { archived: !chat.archived })),
    remove: (chat) =>
      act(async () => {
        await deleteChat(chat.id);
        if (chat.id === chatIdRef.current) navigate(null);
      }),
  };

  const startChat = async (text, attachments = []) => {
    setStarting(true);
    setStartError(null);
    try {
      const chat = await createChat();
      pendingRef.current = { chat, text, attachments };
      setChats((list) => [chat, ...(list ?? []).filter((c) => c.id !== chat.id)]);
      navigate(chat.id);
      return true;
    } catch (error) {
      if (!handleError(error)) setStartError(describeError(error));
      return false;
    } finally {
      setStarting(false);
    }
  };

  const current = chats?.find((c) => c.id === chatId);
  const modelPicker = {
    models: models ?? [],
    loading: models === null,
    selected: selectedModel,
    onSelect: chooseModel,
    thinking,
    onThinking: chooseThinking,
  };

  return (
    <div className={`app${drawerOpen ? " drawer-open" : ""}`}>
      <aside className="sidebar" aria-label="Chats" id="chat-list">
        <div className="sidebar-top">
          <a
            className="button primary new-chat"
            href="/"
            onClick={(e) => {
              e.preventDefault();
              navigate(null);
            }}
          >
            New chat
          </a>
        </div>
        <ChatList
          chats={chats}
          activeId={chatId}
          error={listError}
          query={query}
          onQuery={setQuery}
          onOpen={navigate}
          onRetry={refreshChats}
          actions={chatActions}
        />
        <div className="sidebar-bottom">
          <button type="button" className="button subtle" onClick={() => onSignOut(null)}>
            Sign out
          </button>
        </div>
      </aside>
      <div
        className="scrim"
        aria-hidden="true"
        onClick={() => setDrawerOpen(false)}
      />
      <main className="main">
        <header className="topbar">
          <button
            type="button"
            className="button icon menu"
            aria-label="Show chats"
            aria-controls="chat-list"
            aria-expanded={drawerOpen}
            onClick={() => setDrawerOpen((o) => !o)}
          >
            <span aria-hidden="true">☰</span>
          </button>
          <h1 className="chat-title" data-testid="chat-title">
            {chatId ? (current?.title ?? "") : "New chat"}
          </h1>
        </header>
        {chatId ? (
          <ChatPanel
            key={chatId}
            chatId={chatId}
            pendingRef={pendingRef}
            modelPicker={modelPicker}
            onError={handleError}
            onTitle={setChatTitle}
            onReplyEnded={refreshChats}
          />
        ) : (
          <div className="chat">
            <div className="messages" aria-live="polite">
              <div className="empty">
                <p>Start a new chat: write a message below.</p>
                {models && models.length === 0 && <p>No language models available.</p>}
              </div>
            </div>
            <ReplyStatus streaming={starting} />
            <ErrorBanner error={startError} />
            <Composer
              busy={starting}
              disabled={starting || !selectedModel}
              onSend={startChat}
              modelPicker={modelPicker}
              autoFocus
              draftKey="new"
            />
          </div>
        )}
      </main>
    </div>
  );
}
