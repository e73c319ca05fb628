// The sidebar's list of the user's chats, newest first (the order GET /api/v2/chats gives).
export default function ChatList({ chats, activeId, error, onOpen, onRetry }) {
  return (
    <nav className="chat-list" aria-label="Your chats">
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
      {chats && chats.length === 0 && <p className="muted pad">No chats yet.</p>}
      {chats && chats.length > 0 && (
        <ul>
          {chats.map((chat) => (
            <li key={chat.id}>
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
                <span className="title">{chat.title || "New Chat"}</span>
                {chat.status === "running" && (
                  <span className="running" title="A reply is being generated">
                    <span className="sr-only">(replying)</span>
                  </span>
                )}
              </a>
            </li>
          ))}
        </ul>
      )}
    </nav>
  );
}
