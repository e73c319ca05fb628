// Markdown to HTML for model output, which is untrusted: it may contain HTML meant to run
// script in this page (and steal the API token from localStorage).
//
// Two layers: marked renders raw HTML in the Markdown as text (so "<script>" shows as
// "<script>"), and DOMPurify then removes anything executable that might still get through.
// The page's Content-Security-Policy (no inline script, connect-src 'self') is the third.
import { Marked } from "marked";
import DOMPurify from "dompurify";

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);

const marked = new Marked({
  gfm: true,
  breaks: false,
  renderer: {
    // Raw HTML (block or inline) is shown as the text it is.
    html({ text }) {
      return escapeHtml(text);
    },
    // Text inside a raw <script>/<pre>/<style> block reaches the renderer unescaped; escape it.
    text(token) {
      if (token.escaped && !token.tokens) return escapeHtml(token.text);
      return false; // marked's own rendering
    },
    // No images: a model could be talked into embedding a URL that carries chat contents to
    // another site (the CSP's img-src blocks that too). Show a link instead.
    image({ href, text }) {
      const label = text ? `${text} (image)` : href;
      return `<a href="${escapeHtml(href)}">${escapeHtml(label)}</a>`;
    },
  },
});

const purifier = DOMPurify(window);
purifier.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A" && node.hasAttribute("href")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer nofollow");
  }
});

const PURIFY_OPTIONS = {
  USE_PROFILE: { html: true },
  FORBID_TAGS: ["style", "img", "form", "button", "textarea", "select", "option", "iframe", "video", "audio", "source", "picture"],
  FORBID_ATTR: ["style", "id", "name", "srcset"],
  ALLOW_DATA_ATTR: false,
};

export function renderMarkdown(text) {
  const html = marked.parse(text || "", { async: false });
  return purifier.sanitize(html, PURIFY_OPTIONS);
}
