// The sidebar's list of the user's chats in the order GET /api/v2/chats gives (pinned first,
// then newest), a search box above it, and on each chat a menu: rename (inline), pin or unpin,
// archive, delete (confirmed inline: the page opens no dialog).
import { useEffect, useRef, useState } from "react";

function RenameForm({ chat, onRename, onDone }) {
  const [title, setTitle] = useState(chat.title || "");
  const inputRef = useRef(null);
  useEffect(() => inputRef.current?.select(), []);
  const save = async (e) => {
    e.preventDefault();
    if (title.trim() && title.trim() !== chat.title) await onRename(chat, title.trim());
    onDone();
  };
  return (
    <form className="rename" onSubmit={save}>
      <input
        ref={inputRef}
        aria-label="Chat title"
        value={title}
        maxLength={200}
        onChange={(e) => setTitle(e.target.value)}
        onKeyDown={(e) => e.key === "Escape" && onDone()}
        onBlur={save}
      />
    </form>
  );
}

function ChatActions({ chat, onRename, onPin, onArchive, onDelete, onClose }) {
  const [confirming, setConfirming] = useState(false);
  if (confirming)
    return (
      <div className="chat-actions" role="group" aria-label="Delete this chat?">
        <span className="confirm">Delete this chat?</span>
        <button type="button" className="button danger" onClick={() => onDelete(chat)}>
          Delete
        </button>
        <button type="button" className="button subtle" onClick={onClose}>
          Cancel
        </button>
      </div>
    );
  return (
    <div className="chat-actions" role="group" aria-label="Chat actions">
      <button type="button" className="button subtle" onClick={onRename}>
        Rename
      </button>
      <button type="button" className="button subtle" onClick={() => onPin(chat)}>
        {chat.pin_order > 0 ? "Unpin" : "Pin"}
      </button>
      <button type="button" className="button subtle" onClick={() => onArchive(chat)}>
        {chat.archived ? "Unarchive" : "Archive"}
      </button>
      <button type="button" className="button subtle" onClick={() => setConfirming(true)}>
        Delete
      </button>
    </div>
  );
}

export default function ChatList({ chats, activeId, error, query, onQuery, onOpen, onRetry, actions }) {
  const [menuFor, setMenuFor] = useState(null);
  const [renaming, setRenaming] = useState(null);
  const close = () => setMenuFor(null);
  return (
    <nav className="chat-list" aria-label="Your chats">
      <div className="search">
        <input
          type="search"
          aria-label="Search chats"
          placeholder="Search"
          value={query}
          onChange={(e) => onQuery(e.target.value)}
        />
      </div>
      {error && (
        <div className="error small" role="alert">
          <strong>{error.title}</strong>
          {error.detail && <span className="detail">{error.detail}</span>}
          <button type="button" className="button subtle" onClick={onRetry}>
            Try again
          </button>
        </div>
      )}
      {chats === null && !error && <p className="muted pad">Loading…</p>}
      {chats && chats.length === 0 && <p className="muted pad">{query ? "No chat matches." : "No chats yet."}</p>}
      {chats && chats.length > 0 && (
        <ul>
          {chats.map((chat) => (
            <li key={chat.id} className={chat.pin_order > 0 ? "pinned" : undefined}>
              {renaming === chat.id ? (
                <RenameForm chat={chat} onRename={actions.rename} onDone={() => setRenaming(null)} />
              ) : (
                <div className="chat-row">
                  <a
                    href={`/chats/${chat.id}`}
                    className={chat.id === activeId ? "active" : undefined}
                    aria-current={chat.id === activeId ? "page" : undefined}
                    data-chat-id={chat.id}
                    onClick={(e) => {
                      if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
                      e.preventDefault();
                      onOpen(chat.id);
                    }}
                  >
                    {chat.pin_order > 0 && (
                      <span className="pin" title="Pinned" aria-label="Pinned">
                        📌
                      </span>
                    )}
                    <span className="title">{chat.title || "New Chat"}</span>
                    {chat.archived && <span className="badge">archived</span>}
                    {chat.status === "running" && (
                      <span className="running" title="A reply is being generated">
                        <span className="sr-only">(replying)</span>
                      </span>
                    )}
                  </a>
                  <button
                    type="button"
                    className="button icon more"
                    aria-label={`Actions for ${chat.title || "New Chat"}`}
                    aria-expanded={menuFor === chat.id}
                    onClick={() => setMenuFor(menuFor === chat.id ? null : chat.id)}
                  >
                    ⋯
                  </button>
                </div>
              )}
              {menuFor === chat.id && renaming !== chat.id && (
                <ChatActions
                  chat={chat}
                  onRename={() => {
                    setRenaming(chat.id);
                    close();
                  }}
                  onPin={(c) => actions.pin(c).then(close)}
                  onArchive={(c) => actions.archive(c).then(close)}
                  onDelete={(c) => actions.remove(c).then(close)}
                  onClose={close}
                />
              )}
            </li>
          ))}
        </ul>
      )}
    </nav>
  );
}
