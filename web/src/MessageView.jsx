// One message: the user's text as typed; the assistant's parts as the AI SDK builds them
// (text as sanitised Markdown, reasoning and tool calls folded away).
import { memo, useEffect, useMemo, useState } from "react";
import { fileObjectUrl } from "./api.js";
import { renderMarkdown } from "./markdown.js";

function Markdown({ text }) {
  const html = useMemo(() => renderMarkdown(text), [text]);
  // renderMarkdown escapes raw HTML and sanitises the result with DOMPurify.
  return <div className="markdown" dangerouslySetInnerHTML={{ __html: html }} />;
}

function pretty(value) {
  if (value === undefined) return "";
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}

// An MCP tool result ({"content": [{"type": "text", "text": …}, …]}) shows as its text; any
// other result as JSON.
function resultText(result) {
  const content = result && typeof result === "object" ? result.content : undefined;
  if (Array.isArray(content) && content.length > 0 && content.every((c) => c && c.type === "text" && typeof c.text === "string"))
    return content.map((c) => c.text).join("\n");
  return pretty(result);
}

function ToolCall({ invocation }) {
  const { toolName, state, args, result } = invocation;
  const failed =
    state === "result" && result && typeof result === "object" && ("error" in result || result.isError === true);
  const label = state === "result" ? (failed ? "failed" : "done") : "running…";
  return (
    <details className={`tool ${state}${failed ? " failed" : ""}`} data-tool-name={toolName}>
      <summary>
        <span className="tool-icon" aria-hidden="true">⚙</span>
        <span className="tool-name">{toolName}</span>
        <span className="tool-state">{label}</span>
      </summary>
      <div className="tool-body">
        <div className="tool-section">Arguments</div>
        <pre className="tool-args">{pretty(args)}</pre>
        {state === "result" && (
          <>
            <div className="tool-section">Result</div>
            <pre className="tool-result">{resultText(result)}</pre>
          </>
        )}
      </div>
    </details>
  );
}

function Reasoning({ text, streaming }) {
  return (
    <details className="reasoning">
      <summary>{streaming ? "Reasoning…" : "Reasoning"}</summary>
      <div className="plain">{text}</div>
    </details>
  );
}

function partsOf(message) {
  if (Array.isArray(message.parts) && message.parts.length > 0) return message.parts;
  return message.content ? [{ type: "text", text: message.content }] : [];
}

function userText(message) {
  const texts = partsOf(message)
    .filter((p) => p.type === "text")
    .map((p) => p.text);
  return texts.length ? texts.join("\n") : (message.content ?? "");
}

const FILE_URL = /^\/api\/v2\/chats\/files\/[0-9a-f-]+$/;

// An uploaded file's bytes, read with the token, as an object URL while shown.
function useFileUrl(url) {
  const [objectUrl, setObjectUrl] = useState(null);
  useEffect(() => {
    if (!FILE_URL.test(url)) return undefined;
    let made = null;
    let cancelled = false;
    fileObjectUrl(url).then(
      (u) => {
        if (cancelled) URL.revokeObjectURL(u);
        else setObjectUrl((made = u));
      },
      () => {},
    );
    return () => {
      cancelled = true;
      if (made) URL.revokeObjectURL(made);
    };
  }, [url]);
  return objectUrl;
}

// A user message's attachment: an image shown, a PDF (or anything else) as a link. Only data:
// URLs and uploaded files are shown; any other URL is left as its name.
function Attachment({ attachment }) {
  const url = typeof attachment?.url === "string" ? attachment.url : "";
  const inline = url.startsWith("data:") ? url : null;
  const fetched = useFileUrl(url);
  const href = inline ?? fetched;
  const name = attachment?.name || "file";
  if ((attachment?.contentType ?? "").startsWith("image/"))
    return href ? <img className="attachment-image" src={href} alt={name} /> : <span className="attachment-name">{name}</span>;
  return href ? (
    <a className="attachment-link" href={href} download={name}>
      {name}
    </a>
  ) : (
    <span className="attachment-name">{name}</span>
  );
}

function EditForm({ text, onSave, onCancel }) {
  const [value, setValue] = useState(text);
  return (
    <form
      className="edit"
      onSubmit={(e) => {
        e.preventDefault();
        if (value.trim()) onSave(value);
      }}
    >
      <textarea aria-label="Edit message" value={value} onChange={(e) => setValue(e.target.value)} rows={3} />
      <div className="edit-actions">
        <button type="submit" className="button primary">
          Send
        </button>
        <button type="button" className="button subtle" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

// How a stored reply ended, when not by itself (API.md §8: finish_reason, interrupted).
function EndNote({ message }) {
  if (message.finish_reason === "error")
    return <p className="end-note failed">The reply failed{message.interrupted ? " (interrupted)" : ""}.</p>;
  if (message.interrupted) return <p className="end-note stopped">Stopped.</p>;
  if (message.finish_reason === "length") return <p className="end-note">Cut off at the length limit.</p>;
  return null;
}

function UserMessage({ message, onEdit }) {
  const [editing, setEditing] = useState(false);
  const text = userText(message);
  return (
    <article className="message user" data-role="user" data-message-id={message.id}>
      {editing ? (
        <EditForm
          text={text}
          onSave={(value) => {
            setEditing(false);
            onEdit(message, value);
          }}
          onCancel={() => setEditing(false)}
        />
      ) : (
        <>
          {Array.isArray(message.experimental_attachments) && message.experimental_attachments.length > 0 && (
            <div className="attachments-shown">
              {message.experimental_attachments.map((a, i) => (
                <Attachment key={i} attachment={a} />
              ))}
            </div>
          )}
          {text && <div className="bubble plain">{text}</div>}
          {onEdit && (
            <div className="message-foot">
              <button type="button" className="button subtle small" onClick={() => setEditing(true)}>
                Edit
              </button>
            </div>
          )}
        </>
      )}
    </article>
  );
}

function MessageView({ message, streaming, onRegenerate, onEdit }) {
  if (message.role === "user") return <UserMessage message={message} onEdit={onEdit} />;
  if (message.role !== "assistant") return null;
  const parts = partsOf(message);
  return (
    <article
      className={`message assistant${streaming ? " streaming" : ""}`}
      data-role="assistant"
      data-message-id={message.id}
      aria-busy={streaming || undefined}
    >
      {parts.map((part, i) => {
        switch (part.type) {
          case "text":
            return part.text ? <Markdown key={i} text={part.text} /> : null;
          case "reasoning":
            return <Reasoning key={i} text={part.reasoning} streaming={streaming && i === parts.length - 1} />;
          case "tool-invocation":
            return <ToolCall key={part.toolInvocation.toolCallId ?? i} invocation={part.toolInvocation} />;
          case "source":
            return /^https?:\/\//i.test(part.source?.url ?? "") ? (
              <a key={i} className="source" href={part.source.url} target="_blank" rel="noopener noreferrer nofollow">
                {part.source.title || part.source.url}
              </a>
            ) : null;
          default:
            return null; // step-start, file
        }
      })}
      <div className="message-foot">
        {!streaming && <EndNote message={message} />}
        {onRegenerate && (
          <button type="button" className="button subtle small regenerate" onClick={onRegenerate}>
            Regenerate
          </button>
        )}
      </div>
    </article>
  );
}

export default memo(MessageView);
