// An error above the composer, with an optional action (reconnect, follow the running reply).
export default function ErrorBanner({ error, action, onAction }) {
  if (!error) return null;
  return (
    <div className={`error banner ${error.kind ?? ""}`} role="alert" data-testid="chat-error" data-kind={error.kind}>
      <div>
        <strong>{error.title}</strong>
        {error.detail && <span className="detail">{error.detail}</span>}
      </div>
      {action && (
        <button type="button" className="button" onClick={onAction}>
          {action}
        </button>
      )}
    </div>
  );
}
