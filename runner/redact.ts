/**
 * Secrets never reach logs, errors or manifests. Two layers: known secret values (passwords parsed from
 * connection URLs at startup) are replaced wherever they appear, and anything shaped like a credential in a
 * URL or conninfo string is masked even when it was never registered.
 */

const registered = new Set<string>();
export const MASK = '***';

/** Registers a secret value so every later `redact` call masks it. Short values are ignored (too many hits). */
export function registerSecret(value: string | undefined | null): void {
  if (value && value.length >= 3) {
    registered.add(value);
    // Percent-encoded forms appear in URLs.
    registered.add(encodeURIComponent(value));
  }
}

/** For tests. */
export function clearRegisteredSecrets(): void {
  registered.clear();
}

const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/)([^\s:/@]*):([^\s@/]*)@/gi;
const CONNINFO_PASSWORD = /\b(password|passwd|pwd|secret|token)\s*=\s*('[^']*'|"[^"]*"|[^\s&;]+)/gi;

export function redact(text: string): string {
  let out = text.replace(URL_USERINFO, (_m, scheme: string, user: string) => `${scheme}${user}:${MASK}@`);
  out = out.replace(CONNINFO_PASSWORD, (_m, key: string) => `${key}=${MASK}`);
  for (const s of registered) {
    if (out.includes(s)) out = out.split(s).join(MASK);
  }
  return out;
}

/** A URL safe to show: password removed, everything else kept. Returns the input redacted if it does not parse. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = MASK;
    return u.toString();
  } catch {
    return redact(url);
  }
}
