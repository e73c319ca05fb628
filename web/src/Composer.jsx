// The message box: Enter sends, Shift+Enter is a new line, Escape stops a running reply.
// The Send and Stop buttons share one slot, so nothing moves when a reply starts or ends.
import { useEffect, useRef, useState } from "react";
import { getDraft, setDraft } from "./api.js";

export default function Composer({
  busy,
  disabled,
  loading = false,
  streaming = false,
  stopping = false,
  onSend,
  onStop,
  modelPicker,
  autoFocus = false,
  draftKey = null, // where the unsent text is kept (api.js getDraft); null: nowhere
}) {
  const [text, setText] = useState(() => (draftKey ? getDraft(draftKey) : ""));

  useEffect(() => {
    if (draftKey) setDraft(draftKey, text);
  }, [draftKey, text]);
  const textareaRef = useRef(null);

  useEffect(() => {
    if (autoFocus) textareaRef.current?.focus();
  }, [autoFocus]);

  const send = async () => {
    const message = text.trim();
    if (!message || disabled || busy || streaming) return;
    const previous = text;
    setText("");
    const ok = await onSend(message);
    if (ok === false) setText(previous);
    textareaRef.current?.focus();
  };

  const onKeyDown = (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.altKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      send();
    } else if (event.key === "Escape" && streaming && onStop) {
      event.preventDefault();
      onStop();
    }
  };

  const { models, loading: modelsLoading, selected, onSelect, thinking, onThinking } = modelPicker;

  return (
    <form
      className="composer"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      <div className="composer-box">
        <textarea
          ref={textareaRef}
          aria-label="Message"
          placeholder="Write a message…"
          title="Enter sends, Shift+Enter starts a new line"
          rows={1}
          disabled={loading}
          value={text}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={onKeyDown}
        />
        {streaming ? (
          <button
            type="button"
            className="button send stop"
            onClick={onStop}
            disabled={stopping}
            aria-keyshortcuts="Escape"
          >
            {stopping ? "Stopping…" : "Stop"}
          </button>
        ) : (
          <button type="submit" className="button primary send" disabled={disabled || busy || !text.trim()}>
            Send
          </button>
        )}
      </div>
      <div className="composer-tools">
        <label className="model">
          <span className="sr-only">Model</span>
          <select
            aria-label="Model"
            value={selected}
            onChange={(e) => onSelect(e.target.value)}
            disabled={modelsLoading || models.length === 0}
          >
            {modelsLoading && <option value="">Loading models…</option>}
            {!modelsLoading && models.length === 0 && <option value="">No language models available.</option>}
            {models.map((m) => (
              <option key={m.id} value={m.id}>
                {`${m.display_name || m.id} (${m.provider})`}
              </option>
            ))}
          </select>
        </label>
        <label className="thinking">
          <input type="checkbox" checked={thinking} onChange={(e) => onThinking(e.target.checked)} />
          <span>Reasoning</span>
        </label>
      </div>
    </form>
  );
}
