// The message box: Enter sends, Shift+Enter is a new line, Escape stops a running reply.
// The Send and Stop buttons share one slot, so nothing moves when a reply starts or ends.
// Files (images, PDFs) come by the Attach button, pasting or dropping; each is uploaded at once
// and shown before sending.
import { useEffect, useRef, useState } from "react";
import { describeError, fileAttachment, getDraft, setDraft, uploadFile } from "./api.js";

const ACCEPTED = "image/png,image/jpeg,image/gif,image/webp,application/pdf";
let fileCount = 0;

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
  // {key, name, preview (an object URL, images only), attachment (once uploaded), error}
  const [files, setFiles] = useState([]);
  const fileInputRef = useRef(null);
  const uploading = files.some((f) => !f.attachment && !f.error);

  const addFiles = (list) => {
    for (const file of Array.from(list ?? [])) {
      const key = ++fileCount;
      const preview = file.type.startsWith("image/") ? URL.createObjectURL(file) : null;
      const name = file.name || (file.type === "application/pdf" ? "document.pdf" : "pasted-image");
      setFiles((all) => [...all, { key, name, preview, attachment: null, error: null }]);
      uploadFile(file).then(
        (uploaded) =>
          setFiles((all) => all.map((f) => (f.key === key ? { ...f, attachment: fileAttachment(name, uploaded) } : f))),
        (error) =>
          setFiles((all) => all.map((f) => (f.key === key ? { ...f, error: describeError(error).title } : f))),
      );
    }
  };
  const removeFile = (key) =>
    setFiles((all) => {
      const gone = all.find((f) => f.key === key);
      if (gone?.preview) URL.revokeObjectURL(gone.preview);
      return all.filter((f) => f.key !== key);
    });

  useEffect(() => {
    if (draftKey) setDraft(draftKey, text);
  }, [draftKey, text]);
  const textareaRef = useRef(null);

  useEffect(() => {
    if (autoFocus) textareaRef.current?.focus();
  }, [autoFocus]);

  const attachments = files.filter((f) => f.attachment).map((f) => f.attachment);
  const ready = (text.trim() || attachments.length > 0) && !uploading;

  const send = async () => {
    const message = text.trim();
    if (!ready || disabled || busy || streaming) return;
    const previous = text;
    const previousFiles = files;
    setText("");
    setFiles([]);
    const ok = await onSend(message, attachments);
    if (ok === false) {
      setText(previous);
      setFiles(previousFiles);
    } else {
      for (const f of previousFiles) if (f.preview) URL.revokeObjectURL(f.preview);
    }
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
      onDragOver={(e) => {
        if (e.dataTransfer?.types?.includes("Files")) e.preventDefault();
      }}
      onDrop={(e) => {
        if (!e.dataTransfer?.files?.length) return;
        e.preventDefault();
        addFiles(e.dataTransfer.files);
      }}
    >
      {files.length > 0 && (
        <ul className="attachments" aria-label="Attached files">
          {files.map((f) => (
            <li key={f.key} className={f.error ? "failed" : f.attachment ? "ready" : "uploading"} data-testid="attached-file">
              {f.preview ? <img src={f.preview} alt={f.name} /> : <span className="file-name">{f.name}</span>}
              <span className="file-state">{f.error ?? (f.attachment ? "" : "Uploading…")}</span>
              <button type="button" className="button subtle small" aria-label={`Remove ${f.name}`} onClick={() => removeFile(f.key)}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
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
          onPaste={(e) => {
            if (!e.clipboardData?.files?.length) return;
            e.preventDefault();
            addFiles(e.clipboardData.files);
          }}
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
          <button type="submit" className="button primary send" disabled={disabled || busy || !ready}>
            Send
          </button>
        )}
      </div>
      <div className="composer-tools">
        <input
          ref={fileInputRef}
          type="file"
          accept={ACCEPTED}
          multiple
          hidden
          onChange={(e) => {
            addFiles(e.target.files);
            e.target.value = "";
          }}
        />
        <button
          type="button"
          className="button subtle small attach"
          onClick={() => fileInputRef.current?.click()}
          disabled={loading}
        >
          Attach
        </button>
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
