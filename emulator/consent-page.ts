// The HTML a person sees at the authorize endpoint: Google's consent screen, reduced to what a
// demo needs (who asks, for what, Allow / Cancel), and Google's error page for bad requests.
import { escapeHtml } from "./http-io.js";
import { EMULATED_USER } from "./seed-vocabulary.js";

const SCOPE_TEXT: Readonly<Record<string, string>> = {
  "https://www.googleapis.com/auth/business.manage": "See, edit, create and delete your Google business listings",
  "https://www.googleapis.com/auth/plus.business.manage": "See, edit, create and delete your Google business listings (legacy)",
  openid: "Associate you with your personal info on Google",
  email: "See your primary Google Account email address",
  profile: "See your personal info, including any personal info you've made publicly available",
};

const STYLE = `body{font-family:Roboto,Arial,sans-serif;background:#f0f4f9;margin:0}
main{max-width:480px;margin:48px auto;background:#fff;border-radius:28px;padding:36px 40px}
h1{font-weight:400;font-size:24px} .who{color:#444} ul{padding-left:20px} li{margin:8px 0}
.actions{display:flex;justify-content:flex-end;gap:12px;margin-top:28px}
button{border:0;border-radius:20px;padding:10px 24px;font-size:14px;cursor:pointer}
.allow{background:#0b57d0;color:#fff} .deny{background:transparent;color:#0b57d0}
.error h1{color:#b3261e} small{color:#666}`;

function layout(title: string, body: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>`;
}

export function consentPage(p: { consentId: string; clientId: string; redirectHost: string; scopes: readonly string[] }): string {
  const items = p.scopes.map((s) => `<li>${escapeHtml(SCOPE_TEXT[s] ?? s)}</li>`).join("");
  return layout(
    "Sign in - Google Accounts",
    `<main>
<p class="who">Signed in as ${escapeHtml(EMULATED_USER.displayName)} (${escapeHtml(EMULATED_USER.email)})</p>
<h1><b>${escapeHtml(p.clientId)}</b> wants access to your Google Account</h1>
<p>This will allow the app to:</p><ul>${items}</ul>
<p><small>You will be sent back to ${escapeHtml(p.redirectHost)}. This page is served by the reviewflow Google emulator.</small></p>
<form method="post" action="/o/oauth2/v2/auth" class="actions">
<input type="hidden" name="consent_id" value="${escapeHtml(p.consentId)}">
<button type="submit" name="decision" value="deny" class="deny" id="deny">Cancel</button>
<button type="submit" name="decision" value="allow" class="allow" id="allow">Allow</button>
</form></main>`,
  );
}

/** Google's "Access blocked / Error 400: invalid_request" page, with the reason in plain text. */
export function authorizeErrorPage(status: number, error: string, description: string): string {
  return layout(
    "Error",
    `<main class="error"><h1>Access blocked: authorization error</h1>
<p>${escapeHtml(description)}</p>
<p><b>Error ${status}: ${escapeHtml(error)}</b></p></main>`,
  );
}
